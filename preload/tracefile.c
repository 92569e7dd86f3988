/* SPDX-License-Identifier: MIT */
/*
 * The trace file: choosing its name (PERFSHIM_OUTPUT, fork and exec rules of
 * docs/design.md "Processes"), creating it safely, writing the header and chunks.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "preload/process.h"
#include "preload/sample.h"
#include "preload/tracefile.h"

int ps_trace_fd = -1;
int ps_trace_live;
char ps_trace_path[PATH_MAX];
static dev_t trace_dev;			/* identity of the trace file, to notice a program */
static ino_t trace_ino;			/* that closed or dup2'ed over our descriptor */
static int reopen_lock;
pid_t ps_pid;
uint64_t ps_start_ticks;

/* Expand %p (pid) and %% in @tmpl. Return: 0, or -1 when the result does not fit. */
static int expand(char *out, size_t len, const char *tmpl, pid_t pid)
{
	size_t n = 0;
	const char *s;

	for (s = tmpl; *s; s++) {
		int w;

		if (s[0] == '%' && s[1] == 'p') {
			w = snprintf(out + n, len - n, "%d", (int)pid);
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			w = snprintf(out + n, len - n, "%%");
			s++;
		} else {
			w = snprintf(out + n, len - n, "%c", *s);
		}
		if (w < 0 || (size_t)w >= len - n)
			return -1;
		n += w;
	}
	return 0;
}

/*
 * An explicit path names a file that exists: use it only when it is a regular file the
 * writer owns with no other name (never another user's file in a sticky /tmp, nor a hard
 * link to something else), emptied and made 0600 like a new one. O_NONBLOCK: opening a
 * FIFO without a reader would block the program's start; nothing is truncated before
 * fstat said it may be. Return: the descriptor, or -1 with errno set.
 */
static int replace(const char *path, int flags, const char **why)
{
	struct stat st;
	int fd, e;

	fd = open(path, flags | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if (st.st_uid != geteuid()) {
		e = EPERM;
		*why = "it exists and belongs to another user";
	} else if (st.st_nlink != 1) {
		e = EMLINK;
		*why = "it exists and has other names (hard links)";
	} else if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0 || fcntl(fd, F_SETFL, 0) < 0)
		e = errno;
	else
		return fd;
	close(fd);
	errno = e;
	return -1;
}

/*
 * Create @path for writing: never through a symlink (O_NOFOLLOW), mode 0600, and only
 * replacing an existing file when @clobber (an explicit PERFSHIM_OUTPUT; see replace). A
 * taken name that may not be replaced moves on to NAME.1, NAME.2, ... (@path is updated).
 * Read and write: the regions of the file are mapped (chunk.c).
 */
static int create(char *path, size_t len, int clobber, const char **why)
{
	int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	size_t base = strlen(path);
	int i, fd;

	if (clobber) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		return replace(path, flags, why);
	}
	for (i = 0; i < 1000; i++) {
		if (i && snprintf(path + base, len - base, ".%d", i) >= (int)(len - base))
			break;
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	path[base] = '\0';
	errno = EEXIST;
	return -1;
}

/*
 * Move @fd out of the program's way: to the top of its descriptor range (the program's own
 * open() then returns the numbers it would without the shim), and note the file's identity.
 * Return: the descriptor to use.
 */
static int settle_fd(int fd)
{
	struct stat st;

	fd = ps_fd_move_high(fd, PS_FD_TRACE_BELOW_TOP);
	if (fstat(fd, &st) == 0) {
		trace_dev = st.st_dev;
		trace_ino = st.st_ino;
	}
	return fd;
}

/*
 * ps_output_check_fd - before a region is reserved or written: the program closed our
 * descriptor or put another file under its number (closefrom, dup2)? Then the trace is
 * opened again by path (never creating it, never through a symlink) when it is still the
 * same file. Return: 0, or -1 (recording stopped, said once).
 */
int ps_output_check_fd(void)
{
	struct stat st;
	int fd, r = -1;

	if (fstat(ps_trace_fd, &st) == 0 && st.st_dev == trace_dev && st.st_ino == trace_ino)
		return 0;
	while (__atomic_exchange_n(&reopen_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	if (fstat(ps_trace_fd, &st) == 0 && st.st_dev == trace_dev && st.st_ino == trace_ino) {
		r = 0;
		goto out;
	}
	fd = open(ps_trace_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0 || st.st_dev != trace_dev || st.st_ino != trace_ino) {
		close(fd);
		goto out;
	}
	ps_trace_fd = settle_fd(fd);
	r = 0;
out:
	__atomic_store_n(&reopen_lock, 0, __ATOMIC_RELEASE);
	if (r < 0)
		ps_output_stopped(TRACE_F_CUT_WRITE, NULL);
	return r;
}

/*
 * The name of an exec'd image's trace, from the trace it follows: PATH.exec for the first
 * exec, PATH.exec2, PATH.exec3, ... after it (a chain of execs stays short, never PATH.exec.exec
 * until NAME_MAX). Return: 0, or -1 when it does not fit.
 */
static int exec_name(char *path, size_t len, const char *prev)
{
	size_t n = strlen(prev), i = n;
	unsigned long k = 0;		/* the exec number of @prev (0: not an exec'd image's) */
	int w;

	while (i > 0 && prev[i - 1] >= '0' && prev[i - 1] <= '9')
		i--;
	if (i >= 5 && !strncmp(prev + i - 5, ".exec", 5) && (i == n || prev[i] != '0')) {
		k = i == n ? 1 : strtoul(prev + i, NULL, 10);
		n = i - 5;
	}
	if (++k == 1)
		w = snprintf(path, len, "%.*s.exec", (int)n, prev);
	else
		w = snprintf(path, len, "%.*s.exec%lu", (int)n, prev, k);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

/*
 * The file name for this image. @child: set by the fork handler. PERFSHIM_PARENT, put in
 * the environment by the exec wrappers (exec.c) as "<pid>:<trace path>", tells an exec'd
 * image (same pid) and a spawned child (other pid) apart from the first traced process.
 * Return: 1 when the name may replace an existing file (explicit path of the first process),
 * 0 for a name that may not, -1 when it does not fit.
 */
static int choose_path(char *path, size_t len, int child, unsigned *flags)
{
	const char *tmpl = ps_cfg.output;
	const char *parent = child ? NULL : getenv("PERFSHIM_PARENT");
	pid_t pid = getpid();
	int has_p = strstr(tmpl, "%p") != NULL;

	if (parent) {
		char *end;
		long ppid = strtol(parent, &end, 10);

		if (*end == ':' && end[1] && ppid == pid) {
			*flags |= TRACE_F_EXEC;
			return exec_name(path, len, end + 1);
		}
		child = 1;
	}
	if (child) {
		*flags |= TRACE_F_CHILD;
		if (has_p)
			return expand(path, len, tmpl, pid) < 0 ? -1 : 0;
		if (snprintf(path, len, "%s.%d", tmpl, (int)pid) >= (int)len)
			return -1;
		return 0;
	}
	if (expand(path, len, tmpl, pid) < 0)
		return -1;
	return ps_cfg.output_explicit;
}

/* ps_output_fsize_limit - RLIMIT_FSIZE now, in bytes (UINT64_MAX: none). */
uint64_t ps_output_fsize_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return (uint64_t)rl.rlim_cur;
}

/* The file header as written, for the flags ps_output_stopped adds. */
static struct trace_file_header file_hdr;
static unsigned stop_flags, stop_written;
static int hdr_lock;

/* Rewrite the header while flags were added that it does not carry (any thread, handlers). */
static void rewrite_header(void)
{
	struct trace_file_header h;
	unsigned f;

	while (__atomic_load_n(&stop_flags, __ATOMIC_SEQ_CST) !=
	       __atomic_load_n(&stop_written, __ATOMIC_SEQ_CST)) {
		if (__atomic_exchange_n(&hdr_lock, 1, __ATOMIC_SEQ_CST))
			return;		/* its holder looks again after it lets go */
		f = __atomic_load_n(&stop_flags, __ATOMIC_SEQ_CST);
		h = file_hdr;
		h.flags |= f;
		h.checksum = trace_checksum(&h, TRACE_FILE_HEADER_CKLEN);
		if (pwrite(ps_trace_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
			/* the chunks still end where recording stopped */
		}
		__atomic_store_n(&stop_written, f, __ATOMIC_SEQ_CST);
		__atomic_store_n(&hdr_lock, 0, __ATOMIC_SEQ_CST);
	}
}

/**
 * ps_output_stopped - recording stops here: no new chunk is opened (threads close the ones
 * they hold), one line says why (unless PERFSHIM_QUIET), and the file header gets @why
 * (TRACE_F_CUT_FSIZE or TRACE_F_CUT_WRITE) so readers say the trace ends early.
 * @what: the error, for TRACE_F_CUT_WRITE (NULL: the program closed the trace file).
 * Async-signal-safe (a mark written from a handler may be the one that fails).
 */
void ps_output_stopped(unsigned why, const char *what)
{
	int saved = errno;

	__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
	if (why == TRACE_F_CUT_FSIZE)
		ps_warn_once("trace file %s reached the file-size limit (RLIMIT_FSIZE, %llu bytes); "
			     "recording stopped", ps_trace_path,
			     (unsigned long long)ps_output_fsize_limit());
	else if (what)
		ps_warn_once("writing trace file %s failed: %s; recording stopped", ps_trace_path,
			     what);
	else
		ps_warn_once("trace file %s was closed by the program and cannot be reopened; "
			     "recording stopped", ps_trace_path);
	if (!(__atomic_fetch_or(&stop_flags, why, __ATOMIC_SEQ_CST) & why) && ps_trace_fd >= 0)
		rewrite_header();
	errno = saved;
}

/**
 * ps_output_open - create this image's trace file and write its header.
 * @child: called in a forked child (the fork rule names the file).
 *
 * Sets ps_trace_fd, ps_trace_path, ps_pid and ps_start_ticks. On failure one line goes to
 * stderr (unless PERFSHIM_QUIET) and nothing is recorded. A file-size limit too small for a
 * header and one chunk is such a failure (the file is not even created: a write past the
 * limit would raise SIGXFSZ in the program).
 * Return: 0, or -1 (errno kept as the program had it).
 */
int ps_output_open(int child)
{
	struct trace_file_header h;
	unsigned flags = 0;
	char path[PATH_MAX];
	const char *why = NULL;
	int saved = errno, clobber, fd;
	struct timespec rt;

	ps_trace_live = 0;
	if (ps_trace_fd >= 0) {
		close(ps_trace_fd);
		ps_trace_fd = -1;
	}
	/* PERFSHIM_FOLLOW=0 reached a child anyway (LD_PRELOAD inherited): no trace, no word */
	if (!child && !ps_cfg.follow && getenv("PERFSHIM_PARENT")) {
		errno = saved;
		return -1;
	}
	clobber = choose_path(path, sizeof(path), child, &flags);
	if (clobber < 0) {
		ps_warn_once("trace path too long: %s; not recording", ps_cfg.output);
		errno = saved;
		return -1;
	}
	if (ps_output_fsize_limit() < sizeof(h) + 2 * sizeof(struct trace_chunk_header) + 4096) {
		ps_warn_once("the file-size limit (RLIMIT_FSIZE, %llu bytes) leaves no room for a "
			     "trace; not recording", (unsigned long long)ps_output_fsize_limit());
		errno = saved;
		return -1;
	}
	fd = create(path, sizeof(path), clobber, &why);
	if (fd < 0) {
		ps_warn_once("cannot create trace file %s: %s; not recording", path,
			     why ? why : strerror(errno));
		errno = saved;
		return -1;
	}

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, TRACE_MAGIC, 8);
	h.version = TRACE_VERSION;
	h.header_size = sizeof(h);
	h.endian = TRACE_ENDIAN;
	h.flags = flags | (ps_use_tsc ? TRACE_F_TSC : 0) |
		  (ps_cfg.events & PS_EV_CALLS ? TRACE_F_CALLS : 0) |
		  (ps_cfg.events & PS_EV_MALLOC ? TRACE_F_MALLOC : 0) |
		  (ps_cfg.stack_source != PS_STACK_UNWIND ? TRACE_F_SHADOW_STACKS : 0) |
		  (ps_switch_errno ? 0 : TRACE_F_SWITCHES) |	/* switches.c */
		  TRACE_F_MODULE_CHUNKS;	/* modules.c flags those chunks */
	h.pid = getpid();
	h.ppid = getppid();
	h.stack_depth = ps_cfg.stack_depth;
	h.max_chunk = ps_cfg.bufsize;
	h.min_duration_ns = ps_cfg.min_duration_ns;
	h.sample_mean = (uint32_t)ps_sample_mean;
	h.sample_seed = ps_sample_mean ? ps_sample_seed : 0;
	h.start_ticks = ps_now();
	h.start_mono_ns = ps_mono_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	h.start_real_ns = (uint64_t)rt.tv_sec * 1000000000ULL + rt.tv_nsec;
	h.tick_hz = ps_clock_rate();
	h.checksum = trace_checksum(&h, TRACE_FILE_HEADER_CKLEN);

	ps_trace_fd = settle_fd(fd);
	ps_pid = h.pid;
	ps_start_ticks = h.start_ticks;
	memcpy(ps_trace_path, path, sizeof(path));
	file_hdr = h;
	stop_flags = stop_written = 0;
	hdr_lock = 0;
	ps_chunk_reset();
	if (pwrite(ps_trace_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		ps_warn_once("writing trace file %s failed: %s; not recording", path,
			     strerror(errno));
		errno = saved;
		return -1;
	}
	ps_trace_live = 1;
	errno = saved;
	return 0;
}
