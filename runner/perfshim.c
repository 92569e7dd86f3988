/* SPDX-License-Identifier: MIT */
/*
 * perfshim - run a program with libperfshim.so preloaded and say where its trace went.
 * The options become PERFSHIM_* variables (docs/man/perfshim.1); the program's exit status
 * (or the signal that killed it) becomes the runner's own.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/runner.h"

/* the Makefile's PREFIX, BINDIR and LIBDIR (make install) */
#ifndef PS_PREFIX
#define PS_PREFIX "/usr/local"
#endif
#ifndef PS_BINDIR
#define PS_BINDIR PS_PREFIX "/bin"
#endif
#ifndef PS_LIBDIR
#define PS_LIBDIR PS_PREFIX "/lib"
#endif
#ifndef PS_VERSION
#define PS_VERSION "0.1.0"
#endif
#define LIBNAME "libperfshim.so"
#define DEFAULT_OUTPUT "perfshim.%p.bin"
#define MAX_STACK_DEPTH 1024		/* as the library accepts (preload/init.c) */

const char *progname = "perfshim";

static volatile sig_atomic_t child_pid;

static void usage_line(FILE *f)
{
	fprintf(f, "usage: %s [-o FILE] [--events LIST] [--stack-depth N] [--min-duration D] "
		   "[--sample BYTES] [--sample-seed N] [--no-follow] [--compress] [--quiet] [--] "
		   "PROGRAM [ARGS...]\n",
		progname);
}

static void help(void)
{
	usage_line(stdout);
	printf("\nRun PROGRAM with libperfshim.so preloaded: the malloc family and, when PROGRAM "
	       "was built with\n-finstrument-functions, every function entry and exit are "
	       "recorded into a trace file.\n\n"
	       "  -o, --output FILE      trace file; %%p becomes the pid (default %s in the\n"
	       "                         working directory; children write FILE.<pid>, exec'd\n"
	       "                         images FILE.exec, FILE.exec2, ...)\n"
	       "      --events LIST      comma list of calls, malloc (default: both)\n"
	       "      --stack-depth N    frames kept per allocation stack, 0 to 1024 (default 64)\n"
	       "      --min-duration D   drop calls shorter than D: 500ns, 2us, 1ms (default 0)\n"
	       "      --mark-every D     set a mark every D (10s, 500ms): named t10s, t20s, ...\n"
	       "                         (sent as the mark signal, SIGUSR2 by default)\n"
	       "      --sample BYTES     sample allocations: one per BYTES allocated on average\n"
	       "                         (512K, 1M; 0 records every allocation); reports give\n"
	       "                         estimates with their error (PERFSHIM_SAMPLE)\n"
	       "      --sample-seed N    seed of the sampler, 0 to 4294967295, for reproducible\n"
	       "                         runs (default: from the clock; PERFSHIM_SAMPLE_SEED)\n"
	       "      --no-follow        do not trace forked, spawned or exec'd children\n"
	       "  -z, --compress         when PROGRAM has ended, compress each trace it left\n"
	       "                         into FILE.zst (zstd; perfshim-analyze reads it as is)\n"
	       "  -q, --quiet            print nothing, not even where the trace went\n"
	       "  -h, --help             this text\n"
	       "      --version          the version\n\n"
	       "The exit status is PROGRAM's; a PROGRAM killed by a signal kills the runner with "
	       "the same one.\nAnalyze the trace with perfshim-analyze(1), which reads the newest "
	       "perfshim.*.bin\n(or .bin.zst) of the working directory when given none.\n"
	       "`perfshim compare --help`: compare variants.\n",
	       DEFAULT_OUTPUT);
}

/* One line naming the problem, the usage line, exit 2 (bad usage, as CONTRACT.md says). */
static void __attribute__((noreturn, format(printf, 1, 2))) bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_line(stderr);
	exit(2);
}

/* The checks below accept exactly what preload/init.c accepts, so no value is refused late. */
static int valid_events(const char *s)
{
	char buf[128], *tok, *save;

	if (strlen(s) >= sizeof(buf) || !*s)
		return 0;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, "calls") && strcmp(tok, "malloc") && strcmp(tok, "none"))
			return 0;
	return 1;
}

/* A decimal number and an optional unit from @units. Return: 1 if well-formed. */
static int valid_scaled(const char *s, const char *const *units, unsigned long long max)
{
	unsigned long long v;
	char *end;
	int i;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > max)
		return 0;
	if (!*end)
		return 1;
	for (i = 0; units && units[i]; i++)
		if (!strcmp(end, units[i]))
			return 1;
	return 0;
}

/*
 * A PERFSHIM_SAMPLE value: bytes, or with K/KiB, M/MiB, G/GiB; at most 4 GiB - 1 (the trace
 * header keeps it in 32 bits). Return: 1 when valid.
 */
static int valid_sample(const char *s)
{
	static const char *const units[] = { "", "K", "KiB", "M", "MiB", "G", "GiB", NULL };
	static const unsigned shift[] = { 0, 10, 10, 20, 20, 30, 30 };
	unsigned long long v;
	char *end;
	int i;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return 0;
	for (i = 0; units[i]; i++)
		if (!strcmp(end, units[i]))
			return v <= (0xffffffffULL >> shift[i]) && (v << shift[i]) <= 0xffffffffULL;
	return 0;
}

/*
 * rel_path - the way from directory @from to @to, both absolute ("/opt/x/bin" to
 * "/opt/x/lib64": "../lib64"), into @out. Return: 0, or -1 when they are not absolute.
 */
static int rel_path(const char *from, const char *to, char *out, size_t len)
{
	const char *f = from, *t = to;
	size_t o = 0;

	if (*from != '/' || *to != '/' || !len)
		return -1;
	/* the common leading components */
	for (;;) {
		size_t nf, nt;

		f += strspn(f, "/");
		t += strspn(t, "/");
		nf = strcspn(f, "/");
		nt = strcspn(t, "/");
		if (!nf || nf != nt || strncmp(f, t, nf))
			break;
		f += nf;
		t += nt;
	}
	for (; *f; f += strcspn(f, "/"), f += strspn(f, "/")) {
		if (o + 3 >= len)
			return -1;
		memcpy(out + o, "../", 3);
		o += 3;
	}
	if (!*t)
		t = ".";
	if (o + strlen(t) >= len)
		return -1;
	memcpy(out + o, t, strlen(t) + 1);
	return 0;
}

/*
 * The library: next to the runner (the build tree), then where LIBDIR lies from BINDIR seen
 * from the runner's own directory (an installed tree, moved or under a DESTDIR: PREFIX/bin
 * and PREFIX/lib64 beside it), then LIBDIR itself. Return: 0 with @out filled, -1.
 */
int find_library(char *out, size_t len)
{
	char self[PATH_MAX], *slash, rel[PATH_MAX];
	char cand[3][2 * PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i, ncand = 0;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand[ncand++], sizeof(cand[0]), "%s/%s", self, LIBNAME);
			if (rel_path(PS_BINDIR, PS_LIBDIR, rel, sizeof(rel)) == 0)
				snprintf(cand[ncand++], sizeof(cand[0]), "%s/%s/%s", self, rel,
					 LIBNAME);
		}
	}
	snprintf(cand[ncand++], sizeof(cand[0]), "%s/%s", PS_LIBDIR, LIBNAME);
	for (i = 0; i < ncand; i++) {
		if (access(cand[i], R_OK) != 0 || !realpath(cand[i], out) || strlen(out) >= len)
			continue;
		/* the loader splits LD_PRELOAD at spaces and colons */
		if (strpbrk(out, " :")) {
			fprintf(stderr, "%s: %s: LD_PRELOAD cannot name a path with a space or colon\n",
				progname, out);
			return -1;
		}
		return 0;
	}
	fprintf(stderr, "%s: cannot find %s (looked for", progname, LIBNAME);
	for (i = 0; i < ncand; i++)
		fprintf(stderr, "%s %s", i == 0 ? "" : i == ncand - 1 ? " and" : ",", cand[i]);
	fprintf(stderr, ")\n");
	return -1;
}

/* Make @path absolute against the working directory, so that a chdir cannot move it. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *r;

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(path);
	if (asprintf(&r, "%s/%s", cwd, path) < 0)
		return NULL;
	return r;
}

static void setenv_or_die(const char *name, const char *val)
{
	if (setenv(name, val, 1) < 0) {
		fprintf(stderr, "%s: cannot set %s: %s\n", progname, name, strerror(errno));
		exit(1);
	}
}

/* Signals sent to the runner (kill, a supervisor) are meant for the program. */
static void forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static const int forwarded[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCONT };

/* Die of @sig as the program did, without a core file of the runner's own. */
static void die_of(int sig)
{
	struct rlimit no_core = { 0, 0 };
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t set;

	setrlimit(RLIMIT_CORE, &no_core);
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig);
}

/* "500ms", "10s", "2m"-less: a duration in ms, at least 1 ms. Return: 0, or -1. */
static int parse_ms(const char *s, long *ms)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || v <= 0 || v > 86400000L)
		return -1;
	if (!strcmp(end, "ms"))
		*ms = v;
	else if (!strcmp(end, "s") && v <= 86400)
		*ms = v * 1000;
	else
		return -1;
	return 0;
}

/* The mark signal the library listens to (PERFSHIM_MARK_SIGNAL as preload/init.c reads it). */
static int mark_signal(void)
{
	const char *v = getenv("PERFSHIM_MARK_SIGNAL");
	char *end;
	long n;

	if (!v || !*v)
		return SIGUSR2;
	if (!strcmp(v, "none") || !strcmp(v, "0"))
		return 0;
	if (!strncmp(v, "SIG", 3))
		v += 3;
	if (!strcmp(v, "USR1"))
		return SIGUSR1;
	if (!strcmp(v, "USR2"))
		return SIGUSR2;
	n = strtol(v, &end, 10);
	return (*end || n < 1 || n >= NSIG) ? SIGUSR2 : (int)n;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void no_op(int sig)
{
}

/*
 * Wait for the program; with --mark-every, send it the mark signal every @every_ms with the
 * elapsed time in ms as the sigqueue value, which the library turns into t10s, t20s, ...
 * SIGCHLD interrupts the sleep so the runner notices the end at once.
 * Return: 0 with *status set, or -1 after an error line.
 */
static int wait_program(pid_t pid, int *status, long every_ms)
{
	struct sigaction sa = { .sa_handler = no_op };
	uint64_t start = mono_ms(), next = start + every_ms;
	unsigned long k = 1;
	pid_t r;

	if (every_ms) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
	}
	for (;;) {
		r = waitpid(pid, status, every_ms ? WNOHANG : 0);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", progname, strerror(errno));
			return -1;
		}
		if (every_ms && r == 0) {
			uint64_t now = mono_ms();

			if (now >= next) {
				union sigval v = { .sival_int = (int)(k * every_ms) };

				sigqueue(pid, mark_signal(), v);
				k++;
				next = start + k * every_ms;
			} else {
				struct timespec ts = { (next - now) / 1000,
						       (long)((next - now) % 1000) * 1000000 };

				nanosleep(&ts, NULL);
			}
		}
	}
}

/* What the command line asks for: the options the program's environment carries. */
struct run_opts {
	const char *output, *events, *depth, *mindur, *sample, *seed;
	int quiet, no_follow, compress;
	long mark_every_ms;
};

/*
 * parse_args - the runner's options into @o (bad ones end the runner with a usage line).
 * Return: -1 to go on with the program at argv[optind], else the exit status of --help or
 * --version.
 */
static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "events", required_argument, NULL, 'e' },
		{ "stack-depth", required_argument, NULL, 'd' },
		{ "min-duration", required_argument, NULL, 'm' },
		{ "mark-every", required_argument, NULL, 'M' },
		{ "no-follow", no_argument, NULL, 'F' },
		{ "sample", required_argument, NULL, 'S' },
		{ "sample-seed", required_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "compress", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const duration_units[] = { "ns", "us", "ms", "s", NULL };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:o:qzh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				bad_usage("-o needs a file name");
			o->output = optarg;
			break;
		case 'e':
			if (!valid_events(optarg))
				bad_usage("--events '%s': expected a comma list of calls, malloc "
					  "(or none)", optarg);
			o->events = optarg;
			break;
		case 'd':
			if (!valid_scaled(optarg, NULL, MAX_STACK_DEPTH))
				bad_usage("--stack-depth '%s': expected a number from 0 to 1024",
					  optarg);
			o->depth = optarg;
			break;
		case 'm':
			if (!valid_scaled(optarg, duration_units, ULLONG_MAX))
				bad_usage("--min-duration '%s': expected a duration such as 500ns, "
					  "2us, 1ms or 1s",
					  optarg);
			o->mindur = optarg;
			break;
		case 'M':
			if (parse_ms(optarg, &o->mark_every_ms) < 0)
				bad_usage("--mark-every '%s': expected a duration of at least 1ms "
					  "such as 500ms or 10s",
					  optarg);
			break;
		case 'F':
			o->no_follow = 1;
			break;
		case 'S':
			if (!valid_sample(optarg))
				bad_usage("--sample '%s': expected bytes such as 512K, 1M or 0 "
					  "(every allocation), at most 4G - 1", optarg);
			o->sample = optarg;
			break;
		case 'R':
			if (!valid_scaled(optarg, NULL, 0xffffffffULL))
				bad_usage("--sample-seed '%s': expected a number from 0 to "
					  "4294967295", optarg);
			o->seed = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'z':
			o->compress = 1;
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf("perfshim %s\n", PS_VERSION);
			return 0;
		case ':':
			bad_usage("option %s needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				bad_usage("unknown option -%c", optopt);
			bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		bad_usage("no program to run");
	return -1;
}

/*
 * program_env - the environment the program gets: ours, plus the library @lib and the
 * options. *tmpl is the trace's name template the runner looks for afterwards (*abs: its
 * allocation, or NULL); o->quiet is also set by PERFSHIM_QUIET=1. Return: 0, or -1.
 */
static int program_env(struct run_opts *o, char *lib, const char **tmpl, char **abs)
{
	const char *old;
	char *preload;

	old = getenv("LD_PRELOAD");
	if (old && *old) {
		if (asprintf(&preload, "%s:%s", lib, old) < 0)
			return -1;
	} else {
		preload = lib;
	}
	setenv_or_die("LD_PRELOAD", preload);
	if (preload != lib)
		free(preload);
	if (o->output) {
		*abs = absolute(o->output);
		if (!*abs)
			return -1;
		setenv_or_die("PERFSHIM_OUTPUT", *abs);
		*tmpl = *abs;
	} else if ((old = getenv("PERFSHIM_OUTPUT")) && *old) {
		*abs = absolute(old);
		if (!*abs)
			return -1;
		*tmpl = *abs;
	} else {
		/* unset: the library's default, which never replaces an existing file */
		*tmpl = DEFAULT_OUTPUT;
	}
	if (o->events)
		setenv_or_die("PERFSHIM_EVENTS", o->events);
	if (o->depth)
		setenv_or_die("PERFSHIM_STACK_DEPTH", o->depth);
	if (o->mindur)
		setenv_or_die("PERFSHIM_MIN_DURATION", o->mindur);
	if (o->no_follow)
		setenv_or_die("PERFSHIM_FOLLOW", "0");
	if (o->sample)
		setenv_or_die("PERFSHIM_SAMPLE", o->sample);
	if (o->seed)
		setenv_or_die("PERFSHIM_SAMPLE_SEED", o->seed);
	/* PERFSHIM_QUIET=1 in the environment quiets the runner as well as the library */
	if (o->quiet)
		setenv_or_die("PERFSHIM_QUIET", "1");
	else if ((old = getenv("PERFSHIM_QUIET")) && !strcmp(old, "1"))
		o->quiet = 1;
	/* the program starts a trace of its own, whoever ran the runner */
	unsetenv("PERFSHIM_PARENT");
	return 0;
}

/*
 * run_program - start @argv[0] with the forwarded signals handled, and wait for it (*pid).
 * *since is the wall-clock time (ns) just before the start. Return: 0 with *status set,
 * or -1.
 */
static int run_program(char **argv, long mark_every_ms, int *status, uint64_t *since,
		       pid_t *pidp)
{
	struct sigaction sa = { .sa_handler = forward }, ign = { .sa_handler = SIG_IGN };
	sigset_t block, omask;
	struct timespec now;
	size_t i;
	pid_t pid;

	/* No forwarded signal may arrive between fork and the handlers: block them till then. */
	sigemptyset(&block);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &omask);
	clock_gettime(CLOCK_REALTIME, &now);
	*since = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	fflush(NULL);
	*pidp = pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", progname, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int err;

		sigprocmask(SIG_SETMASK, &omask, NULL);
		execvp(argv[0], argv);
		err = errno;
		fprintf(stderr, "%s: cannot run %s: %s\n", progname, argv[0], strerror(err));
		_exit(err == ENOENT ? 127 : 126);
	}

	child_pid = pid;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	/* The terminal sends these to the program as well: the runner waits to report. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigprocmask(SIG_SETMASK, &omask, NULL);

	if (wait_program(pid, status, mark_every_ms) < 0)
		return -1;
	child_pid = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct run_opts o = { 0 };
	char lib[PATH_MAX], *abs = NULL;
	const char *tmpl;
	uint64_t since;
	int r, status;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "compare"))	/* runner/compare.c */
		return compare_main(argc - 1, argv + 1);
	r = parse_args(argc, argv, &o);
	if (r >= 0)
		return r;
	if (o.mark_every_ms && mark_signal() == 0)
		bad_usage("--mark-every needs a mark signal, but PERFSHIM_MARK_SIGNAL is none");
	if (find_library(lib, sizeof(lib)) < 0)
		return 1;
	if (check_program(argv[optind]) < 0)
		return 1;
	if (program_env(&o, lib, &tmpl, &abs) < 0)
		return 1;
	if (run_program(argv + optind, o.mark_every_ms, &status, &since, &pid) < 0)
		return 1;

	if (finish_traces(tmpl, pid, since, o.compress, o.quiet) == 0 && !o.quiet)
		fprintf(stderr, "%s: no trace was written\n", progname);
	free(abs);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (!o.quiet)
			fprintf(stderr, "%s: %s killed by signal %d (%s)%s\n", progname,
				argv[optind], sig, strsignal(sig),
				WCOREDUMP(status) ? ", core dumped" : "");
		die_of(sig);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
