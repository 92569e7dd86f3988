// SPDX-License-Identifier: MIT
/*
 * `perfshim compare [OPTIONS] NAME=COMMAND ...`: run each variant under the shim, rounds
 * interleaved, and read each measured run's figures from `perfshim-analyze functions|memory
 * --format=json` (the analyzer's stable output, read with json-read.c). compare-model.c
 * turns the runs into changes; docs/compare.md explains the design.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/compare.h"
#include "runner/json-read.h"
#include "runner/runner.h"

#ifndef PS_PREFIX
#define PS_PREFIX "/usr/local"
#endif
#define MAX_RUNS 1000

static void usage_line(FILE *f)
{
	fprintf(f, "usage: %s compare [--runs N] [--warmup N] [--format text|json|html] [-o FILE] "
		   "[--export-json FILE] [--export-html FILE] [--alpha A] [--test rank|welch] [--floor PCT] "
		   "[--wall] [--all] [--show-output] [--keep DIR] "
		   "NAME=COMMAND ...\n", progname);
}

static void help(void)
{
	usage_line(stdout);
	printf("\nRun each variant's COMMAND under perfshim, the variants interleaved (one run of "
	       "each per round),\nand compare them as Benchee and hyperfine do: per variant wall "
	       "and CPU time, bytes allocated\nand peak; per function (self time, calls) and per "
	       "allocation site (bytes, allocations) the\nchange against the first variant, with "
	       "a confidence interval and a significance test.\n\n"
	       "  -r, --runs N         measured runs per variant, 2 to %d (default 10)\n"
	       "  -w, --warmup N       runs per variant before those, not measured (default 1)\n"
	       "      --format F       text (default), json or html (one self-contained page)\n"
	       "  -o, --output FILE    write the report to FILE (default stdout)\n"
	       "      --export-json FILE, --export-html FILE\n"
	       "                       also write the report as JSON, HTML to FILE\n"
	       "      --alpha A        family-wise significance level, 0 < A < 1 (default 0.05)\n"
	       "      --test T         rank: Mann-Whitney and Hodges-Lehmann (default);\n"
	       "                       welch: Welch's t on the logarithms\n"
	       "      --floor PCT      a function's self time that moved by less than PCT%% of\n"
	       "                       the base's median run time is no change (default 1)\n"
	       "      --wall           compare wall-clock self times (default: CPU self time\n"
	       "                       where every run's trace has context switches)\n"
	       "  -a, --all            text: also the rows with no significant difference\n"
	       "      --show-output    let the runs print (default: their output is discarded)\n"
	       "      --keep DIR       keep each measured run's trace as DIR/NAME-N.bin\n"
	       "  -h, --help           this text\n\n"
	       "NAME is letters, digits, '.', '_' or '-'; COMMAND is split into words as sh "
	       "does with\nquotes and backslashes, without other shell syntax (use sh -c '...' "
	       "for that).\nA program itself called compare is run as `perfshim -- compare "
	       "...`.\n", MAX_RUNS);
}

static void __attribute__((noreturn, format(printf, 1, 2))) bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s compare: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_line(stderr);
	exit(2);
}

static void __attribute__((format(printf, 1, 2))) err_line(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s compare: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		err_line("out of memory");
		exit(1);
	}
	return p;
}

static uint32_t parse_count(const char *opt, const char *s, uint32_t lo, uint32_t hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < (long)lo || v > (long)hi)
		bad_usage("%s '%s': expected a number from %u to %u", opt, s, lo, hi);
	return (uint32_t)v;
}

/*
 * split_words - @s split as sh splits a simple command: blanks separate words, '...' is
 * literal, "..." keeps \" \\ \$ \` escapes, a backslash elsewhere quotes the next character.
 * Return: a NULL-terminated vector (empty for a blank @s), or NULL on an open quote.
 */
static char **split_words(const char *s)
{
	size_t cap = 8, n = 0, len = strlen(s);
	char **w = xcalloc(cap, sizeof(*w)), *cur = xcalloc(len + 1, 1), *o = NULL;

	for (;; s++) {
		if (!*s || ((*s == ' ' || *s == '\t' || *s == '\n') && o)) {
			if (o) {
				*o = '\0';
				if (n + 2 > cap) {
					cap *= 2;
					w = realloc(w, cap * sizeof(*w));
					if (!w)
						exit(1);
				}
				w[n++] = strdup(cur);
				o = NULL;
			}
			if (!*s)
				break;
			continue;
		}
		if (*s == ' ' || *s == '\t' || *s == '\n')
			continue;
		if (!o)
			o = cur;
		if (*s == '\'') {
			for (s++; *s && *s != '\''; s++)
				*o++ = *s;
			if (!*s)
				goto open;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
					s++;
				*o++ = *s;
			}
			if (!*s)
				goto open;
		} else if (*s == '\\') {
			if (!s[1])
				goto open;
			*o++ = *++s;
		} else {
			*o++ = *s;
		}
	}
	free(cur);
	w[n] = NULL;
	return w;
open:
	free(cur);
	while (n)
		free(w[--n]);
	free(w);
	return NULL;
}

static void parse_variant(struct compare *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct cmp_variant *v = &c->v[c->nv];
	uint32_t i;
	size_t k;

	if (!eq || eq == arg)
		bad_usage("'%s': expected NAME=COMMAND", arg);
	for (k = 0; arg + k < eq; k++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    arg[k]))
			bad_usage("'%.*s': a variant name is letters, digits, '.', '_' or '-'",
				  (int)(eq - arg), arg);
	v->name = strndup(arg, (size_t)(eq - arg));
	for (i = 0; i < c->nv; i++)
		if (!strcmp(c->v[i].name, v->name))
			bad_usage("two variants named '%s'", v->name);
	v->argv = split_words(eq + 1);
	if (!v->argv)
		bad_usage("%s: the command has an unclosed quote", v->name);
	if (!v->argv[0])
		bad_usage("%s: no command", v->name);
	c->nv++;
}

static void parse_args(struct compare *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "alpha", required_argument, NULL, 'A' },
		{ "test", required_argument, NULL, 'T' },
		{ "floor", required_argument, NULL, 'L' },
		{ "all", no_argument, NULL, 'a' },
		{ "wall", no_argument, NULL, 'W' },
		{ "show-output", no_argument, NULL, 'S' },
		{ "keep", required_argument, NULL, 'K' },
		{ "export-json", required_argument, NULL, 'J' },
		{ "export-html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	c->runs = 10;
	c->warmup = 1;
	c->alpha = 0.05;
	c->floor_pct = 1;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:r:w:o:ah", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': c->runs = parse_count("--runs", optarg, 2, MAX_RUNS); break;
		case 'w': c->warmup = parse_count("--warmup", optarg, 0, MAX_RUNS); break;
		case 'F':
			if (!strcmp(optarg, "text"))
				c->format = CMP_TEXT;
			else if (!strcmp(optarg, "json"))
				c->format = CMP_JSON;
			else if (!strcmp(optarg, "html"))
				c->format = CMP_HTML;
			else
				bad_usage("--format '%s': expected text, json or html", optarg);
			break;
		case 'o':
			if (!*optarg)
				bad_usage("-o needs a file name");
			c->output = optarg;
			break;
		case 'A':
			errno = 0;
			c->alpha = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(c->alpha > 0 && c->alpha < 1))
				bad_usage("--alpha '%s': expected a number between 0 and 1", optarg);
			break;
		case 'L':
			errno = 0;
			c->floor_pct = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(c->floor_pct >= 0 && c->floor_pct <= 100))
				bad_usage("--floor '%s': expected a percentage from 0 to 100", optarg);
			break;
		case 'T':
			if (!strcmp(optarg, "rank"))
				c->test = STATS_RANK;
			else if (!strcmp(optarg, "welch"))
				c->test = STATS_WELCH;
			else
				bad_usage("--test '%s': expected rank or welch", optarg);
			break;
		case 'a': c->all = true; break;
		case 'W': c->wall = true; break;
		case 'S': c->show_output = true; break;
		case 'K': c->keep = optarg; break;
		case 'J': c->export[CMP_JSON] = optarg; break;
		case 'H': c->export[CMP_HTML] = optarg; break;
		case 'h':
			help();
			exit(0);
		case ':':
			bad_usage("option %s needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				bad_usage("unknown option -%c", optopt);
			bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		bad_usage("no variant to run");
	c->v = xcalloc((size_t)(argc - optind), sizeof(*c->v));
	for (; optind < argc; optind++)
		parse_variant(c, argv[optind]);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The analyzer: next to the runner, else under the compiled-in prefix. Return: 0 or -1. */
static int find_analyzer(char *out, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, len, "%s/perfshim-analyze", self) < len &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s/bin/perfshim-analyze", PS_PREFIX);
	if (access(out, X_OK) == 0)
		return 0;
	err_line("cannot find perfshim-analyze (looked next to the runner and in %s/bin)",
		 PS_PREFIX);
	return -1;
}

/* Remove the files of one run from the work directory: the trace, its children's, logs. */
static void remove_run_files(const struct compare *c, const char *prefix)
{
	size_t len = strlen(prefix);
	struct dirent *de;
	DIR *d = opendir(c->dir);
	char path[PATH_MAX + 300];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, len)) {
			snprintf(path, sizeof(path), "%s/%s", c->dir, de->d_name);
			unlink(path);
		}
	closedir(d);
}

/* Up to the last five lines of @buf[@n] on stderr, indented: why a run failed. */
static void show_tail_buf(const char *buf, size_t n)
{
	const char *p;
	int lines = 0;

	if (!n)
		return;
	for (p = buf + n; p > buf && lines < 6; p--)
		if (p[-1] == '\n')
			lines++;
	if (lines >= 6)
		p++;
	fprintf(stderr, "  | %.*s", (int)(buf + n - p), p);
	if (buf[n - 1] != '\n')
		fputc('\n', stderr);
}

/* The same for the end of the file @path (a run's stderr). */
static void show_tail(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);
	off_t size;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) ? size - (off_t)sizeof(buf) : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0)
		show_tail_buf(buf, (size_t)n);
}

/*
 * Run variant @v once with its trace at @trace: stdout to /dev/null and stderr to @errpath
 * unless --show-output. *@wall from before fork to after wait, *@cpu from wait4's rusage.
 * Return: 0 when it exited 0, else -1 after an error line.
 */
static int run_program(const struct compare *c, const struct cmp_variant *v, const char *trace,
		       const char *errpath, double *wall, double *cpu)
{
	struct rusage ru;
	uint64_t t0;
	int status;
	pid_t pid;

	fflush(NULL);
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		err_line("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		const char *old = getenv("LD_PRELOAD");
		char *pre = NULL;

		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		if (!c->show_output) {
			int in = open("/dev/null", O_WRONLY), er = open(errpath, O_WRONLY | O_CREAT |
									  O_TRUNC, 0600);

			if (in < 0 || er < 0 || dup2(in, 1) < 0 || dup2(er, 2) < 0)
				_exit(126);
		}
		if (old && *old && asprintf(&pre, "%s:%s", c->lib, old) < 0)
			_exit(126);
		if (setenv("LD_PRELOAD", pre ? pre : c->lib, 1) < 0 ||
		    setenv("PERFSHIM_OUTPUT", trace, 1) < 0)
			_exit(126);
		unsetenv("PERFSHIM_PARENT");
		execvp(v->argv[0], v->argv);
		fprintf(stderr, "%s compare: cannot run %s: %s\n", progname, v->argv[0],
			strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			err_line("wait: %s", strerror(errno));
			return -1;
		}
	*wall = (double)(now_ns() - t0);
	*cpu = (double)ru.ru_utime.tv_sec * 1e9 + (double)ru.ru_utime.tv_usec * 1e3 +
	       (double)ru.ru_stime.tv_sec * 1e9 + (double)ru.ru_stime.tv_usec * 1e3;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		err_line("%s: %s was killed by signal %d (%s)", v->name, v->argv[0],
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		err_line("%s: %s exited with status %d", v->name, v->argv[0], WEXITSTATUS(status));
	if (!c->show_output)
		show_tail(errpath);
	return -1;
}

/* Lines the analyzer printed on stderr, each distinct one shown once for the whole compare. */
static void pass_warnings(const char *buf, size_t n)
{
	static char **seen;
	static size_t nseen;
	const char *line, *end;
	size_t i, len;

	for (line = buf; line < buf + n; line = end + 1) {
		end = memchr(line, '\n', (size_t)(buf + n - line));
		if (!end)
			end = buf + n;
		len = (size_t)(end - line);
		for (i = 0; i < nseen && (strlen(seen[i]) != len || memcmp(seen[i], line, len)); i++)
			;
		if (i < nseen || nseen >= 64 || !len)
			continue;
		fprintf(stderr, "%.*s\n", (int)len, line);
		seen = realloc(seen, (nseen + 1) * sizeof(*seen));
		if (!seen)
			exit(1);
		seen[nseen++] = strndup(line, len);
	}
}

/* A growable buffer filled from a pipe. */
struct pbuf {
	char *b;
	size_t n, cap;
};

/* Read what is there on @fd into @pb. Return: 1 more may come, 0 at its end. */
static int pbuf_read(int fd, struct pbuf *pb)
{
	ssize_t n;

	if (pb->n + 65536 > pb->cap) {
		pb->cap = pb->cap ? pb->cap * 2 : 1 << 16;
		pb->b = realloc(pb->b, pb->cap);
		if (!pb->b)
			exit(1);
	}
	n = read(fd, pb->b + pb->n, pb->cap - pb->n);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	pb->n += (size_t)n;
	return n > 0;
}

/*
 * Run `perfshim-analyze @cmd --format=json --limit=0 @trace` without the shim and parse
 * what it printed; its stderr comes through a pipe too (the work directory may be full).
 * Return: the tree (jr_free it), or NULL after an error line.
 */
static struct jv *analyze(const struct compare *c, const char *cmd, const char *trace)
{
	struct pbuf out = { NULL, 0, 0 }, err = { NULL, 0, 0 };
	struct pollfd pf[2];
	struct jv *doc = NULL;
	int o[2], e[2], status, open_fds = 2, k;
	char msg[256];
	pid_t pid;

	if (pipe(o) < 0 || pipe(e) < 0) {
		err_line("pipe: %s", strerror(errno));
		return NULL;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(o[0]);
		close(e[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		if (dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0)
			_exit(126);
		unsetenv("LD_PRELOAD");
		execl(c->analyzer, "perfshim-analyze", cmd, "--format=json", "--limit=0",
		      "--no-progress", trace, (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	if (pid < 0) {
		close(o[0]);
		close(e[0]);
		err_line("fork: %s", strerror(errno));
		return NULL;
	}
	pf[0] = (struct pollfd){ .fd = o[0], .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = e[0], .events = POLLIN };
	while (open_fds) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < 2; k++)
			if (pf[k].fd >= 0 && (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !pbuf_read(pf[k].fd, k ? &err : &out)) {
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
			}
	}
	for (k = 0; k < 2; k++)		/* after a poll error: the child gets EPIPE */
		if (pf[k].fd >= 0)
			close(pf[k].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		err_line("perfshim-analyze %s %s failed:", cmd, trace);
		show_tail_buf(err.b, err.n);
	} else if (jr_parse(out.b ? out.b : "", out.n, &doc, msg, sizeof(msg)) < 0) {
		err_line("perfshim-analyze %s %s: not the JSON expected: %s", cmd, trace, msg);
	} else {
		pass_warnings(err.b, err.n);
	}
	free(out.b);
	free(err.b);
	return doc;
}

static int bad_doc(const char *cmd, const char *what)
{
	err_line("perfshim-analyze %s: its JSON has no %s", cmd, what);
	return -1;
}

/* The functions of one run: self time (wall and, where the trace has it, CPU) and calls,
 * rows of one name summed. */
static int take_functions(struct compare *c, const struct jv *doc, uint32_t slot)
{
	const struct jv *fs = jr_get(doc, "functions");
	bool cpu = true;
	uint32_t i;

	if (!fs || fs->type != JV_ARRAY)
		return bad_doc("functions", "\"functions\" array");
	for (i = 0; i < jr_len(fs); i++) {
		const struct jv *f = jr_at(fs, i);
		const char *name = jr_str(jr_get(f, "name"));
		uint64_t calls, self, cpu_self = 0;
		struct cmp_entity *e;

		if (!name || !jr_u64(jr_get(f, "calls"), &calls) ||
		    !jr_u64(jr_get(f, "self_ns"), &self))
			return bad_doc("functions", "name, calls and self_ns in a row");
		cpu &= jr_u64(jr_get(f, "cpu_self_ns"), &cpu_self);
		e = cmp_entity_get(c, CMP_FUNCTION, name);
		e->val[0][slot] += self;
		e->val[1][slot] += calls;
		e->cpu_self[slot] += cpu_self;
	}
	c->docs++;
	c->cpu_docs += cpu && jr_len(fs) > 0;
	return 0;
}

/* A site's key: its frames' names joined by newlines (no name holds one). */
static char *site_key(const struct jv *stack)
{
	size_t len = 1, off = 0;
	uint32_t i;
	char *k;

	for (i = 0; i < jr_len(stack); i++) {
		const char *s = jr_str(jr_at(stack, i));

		if (!s)
			return NULL;
		len += strlen(s) + 1;
	}
	k = xcalloc(len, 1);
	for (i = 0; i < jr_len(stack); i++)
		off += (size_t)sprintf(k + off, "%s%s", i ? "\n" : "", jr_str(jr_at(stack, i)));
	return k;
}

/* The memory figures of one run: totals, and per site bytes and allocations. */
static int take_memory(struct compare *c, const struct jv *doc, struct cmp_variant *v,
		       uint32_t run, uint32_t slot)
{
	const struct jv *sites = jr_get(doc, "sites");
	uint64_t total, peak;
	uint32_t i;

	if (!jr_u64(jr_get(doc, "bytes_allocated"), &total) ||
	    !jr_u64(jr_get(doc, "peak_bytes"), &peak))
		return bad_doc("memory", "bytes_allocated and peak_bytes");
	v->allocated[run] = (double)total;
	v->peak[run] = (double)peak;
	if (!sites || sites->type != JV_ARRAY)
		return bad_doc("memory", "\"sites\" array");
	for (i = 0; i < jr_len(sites); i++) {
		const struct jv *s = jr_at(sites, i), *stack = jr_get(s, "stack");
		uint64_t bytes, allocs;
		struct cmp_entity *e;
		char *key;

		if (!stack || stack->type != JV_ARRAY || !jr_u64(jr_get(s, "bytes"), &bytes) ||
		    !jr_u64(jr_get(s, "allocations"), &allocs))
			return bad_doc("memory", "stack, bytes and allocations in a site");
		key = site_key(stack);
		if (!key)
			return bad_doc("memory", "a stack of names");
		e = cmp_entity_get(c, CMP_SITE, key);
		free(key);
		if (!e->stack) {
			const struct jv *fr = jr_get(s, "frames");
			uint32_t k;

			e->depth = jr_len(stack);
			e->stack = xcalloc(e->depth + 1, sizeof(*e->stack));
			for (k = 0; k < e->depth; k++)
				e->stack[k] = strdup(jr_str(jr_at(stack, k)));
			if (fr && fr->type == JV_ARRAY) {
				size_t flen;
				FILE *mf = open_memstream(&e->frames, &flen);

				if (mf) {
					jr_write_value(mf, fr);
					fclose(mf);
				}
			}
		}
		e->val[0][slot] += bytes;
		e->val[1][slot] += allocs;
	}
	return 0;
}

/* Measured run @run of variant @vi: run it, read its figures, drop (or keep) its trace. */
static int measure(struct compare *c, uint32_t vi, int run)
{
	struct cmp_variant *v = &c->v[vi];
	char prefix[64], trace[PATH_MAX + 80], errpath[PATH_MAX + 80], kept[PATH_MAX + 300];
	const struct jv *comp;
	double wall, cpu;
	struct jv *doc;
	int ret = -1;

	snprintf(prefix, sizeof(prefix), "v%u-%s%d.", vi, run < 0 ? "w" : "r", run < 0 ? -run : run);
	snprintf(trace, sizeof(trace), "%s/%sbin", c->dir, prefix);
	snprintf(errpath, sizeof(errpath), "%s/%serr", c->dir, prefix);
	if (run_program(c, v, trace, errpath, &wall, &cpu) < 0)
		goto out;
	if (run < 0) {
		ret = 0;
		goto out;
	}
	if (access(trace, F_OK) != 0) {
		err_line("%s: %s wrote no trace (%s)", v->name, v->argv[0], trace);
		goto out;
	}
	v->wall[run] = wall;
	v->cpu[run] = cpu;
	doc = analyze(c, "functions", trace);
	if (!doc || take_functions(c, doc, vi * c->runs + (uint32_t)run) < 0)
		goto free_doc;
	comp = jr_get(doc, "complete");		/* the analyzer's notes (CONTRACT.md summary) */
	if (comp && comp->type == JV_BOOL && !comp->b)
		v->incomplete++;
	jr_free(doc);
	doc = analyze(c, "memory", trace);
	if (!doc || take_memory(c, doc, v, (uint32_t)run, vi * c->runs + (uint32_t)run) < 0)
		goto free_doc;
	ret = 0;
	if (c->keep) {
		snprintf(kept, sizeof(kept), "%s/%s-%d.bin", c->keep, v->name, run + 1);
		if (rename(trace, kept) < 0) {
			err_line("cannot keep the trace as %s: %s", kept, strerror(errno));
			ret = -1;
		}
	}
free_doc:
	jr_free(doc);
out:
	remove_run_files(c, prefix);
	return ret;
}

/* Every round runs each variant once, the order rotated by one each round, so neither
 * drift nor "who runs first" favours a variant. Warmup rounds come first and are dropped. */
static int run_all(struct compare *c)
{
	uint32_t total = (c->warmup + c->runs) * c->nv, done = 0, r, k;

	for (r = 0; r < c->warmup + c->runs; r++) {
		for (k = 0; k < c->nv; k++) {
			uint32_t vi = (k + r) % c->nv;
			int run = r < c->warmup ? -(int)(r + 1) : (int)(r - c->warmup);

			if (c->progress)
				fprintf(stderr, "\r%s compare: run %u of %u (%s)\033[K", progname,
					++done, total, c->v[vi].name);
			if (measure(c, vi, run) < 0) {
				if (c->progress)
					fputc('\n', stderr);
				return -1;
			}
		}
	}
	if (c->progress)
		fprintf(stderr, "\r\033[K");
	return 0;
}

static int make_dir(struct compare *c)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(c->dir, sizeof(c->dir), "%s/perfshim-compare.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c->dir)) {
		err_line("cannot make a work directory %s: %s", c->dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_report(const struct compare *c, FILE *f, enum cmp_format format)
{
	if (format == CMP_JSON)
		cmp_report_json(c, f);
	else if (format == CMP_HTML)
		cmp_report_html(c, f);
	else
		cmp_report_text(c, f);
	if (fflush(f) != 0 || ferror(f) || (f != stdout && fclose(f) != 0)) {
		err_line("error writing the report: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The report's files, opened before the runs (a typo in a name should not cost them). */
static int open_outputs(const struct compare *c, FILE *out[3], FILE **main_out)
{
	int k;

	*main_out = stdout;
	if (c->output && !(*main_out = fopen(c->output, "w"))) {
		err_line("%s: %s", c->output, strerror(errno));
		return -1;
	}
	for (k = 0; k < 3; k++)
		if (c->export[k] && !(out[k] = fopen(c->export[k], "w"))) {
			err_line("%s: %s", c->export[k], strerror(errno));
			return -1;
		}
	return 0;
}

/*
 * compare_main - `perfshim compare` with @argv[0] = "compare". Return: the exit status:
 * 0, 1 (a run or its analysis failed), 2 (bad usage, exited in bad_usage).
 */
int compare_main(int argc, char **argv)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	FILE *out, *exp[3] = { NULL, NULL, NULL };
	struct compare c;
	struct stat st;
	uint32_t i;
	int ret = 1, k;

	memset(&c, 0, sizeof(c));
	parse_args(&c, argc, argv);
	if (c.keep && (stat(c.keep, &st) < 0 || !S_ISDIR(st.st_mode)))
		bad_usage("--keep %s: not a directory", c.keep);
	for (i = 0; i < c.nv; i++) {
		c.v[i].wall = xcalloc(c.runs, sizeof(double));
		c.v[i].cpu = xcalloc(c.runs, sizeof(double));
		c.v[i].allocated = xcalloc(c.runs, sizeof(double));
		c.v[i].peak = xcalloc(c.runs, sizeof(double));
	}
	if (find_library(c.lib, sizeof(c.lib)) < 0 || find_analyzer(c.analyzer, sizeof(c.analyzer)) < 0)
		goto out;
	for (i = 0; i < c.nv; i++)
		if (check_program(c.v[i].argv[0]) < 0)
			goto out;
	c.progress = isatty(2) && !c.show_output;
	if (open_outputs(&c, exp, &out) < 0 || make_dir(&c) < 0)
		goto out;
	/* ^C reaches the running program too: it dies of it, and we clean up and say so */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	if (run_all(&c) == 0 && cmp_analyze(&c) == 0) {
		ret = write_report(&c, out, c.format) ? 1 : 0;
		for (k = 0; k < 3; k++)
			if (exp[k] && write_report(&c, exp[k], (enum cmp_format)k) < 0)
				ret = 1;
	}
	if (rmdir(c.dir) < 0)
		err_line("could not remove the work directory %s: %s", c.dir, strerror(errno));
out:
	cmp_free(&c);
	return ret;
}
