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

#include "preload/internal.h"

int ps_trace_fd = -1;
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
 * Create @path for writing: never through a symlink (O_NOFOLLOW), mode 0600, and only
 * replacing an existing file when @clobber (an explicit PERFSHIM_OUTPUT). A taken name that
 * may not be replaced moves on to NAME.1, NAME.2, ... (@path is updated).
 */
static int create(char *path, size_t len, int clobber)
{
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
	size_t base = strlen(path);
	int i, fd;

	if (clobber) {
		struct stat st;

		/*
		 * Replace a regular file only. O_NONBLOCK: opening a FIFO without a reader
		 * would block the program's start; O_TRUNC is applied only to what fstat says
		 * is a regular file.
		 */
		fd = open(path, (flags & ~O_APPEND) | O_NONBLOCK, 0600);
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if (ftruncate(fd, 0) < 0 || fcntl(fd, F_SETFL, O_APPEND) < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	for (i = 0; i < 1000; i++) {
		if (i && snprintf(path + base, len - base, ".%d", i) >= (int)(len - base))
			break;
		fd = open(path, flags | O_EXCL, 0600);
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
	struct rlimit rl;
	struct stat st;
	int hi;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > 64) {
		hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)(rl.rlim_cur > 4096 ? 4096 : rl.rlim_cur) - 32);
		if (hi >= 0) {
			close(fd);
			fd = hi;
		}
	}
	if (fstat(fd, &st) == 0) {
		trace_dev = st.st_dev;
		trace_ino = st.st_ino;
	}
	return fd;
}

/*
 * The program closed our descriptor or put another file under its number (closefrom,
 * dup2): open the trace again by path (never creating it, never through a symlink) when it
 * is still the same file. Return: 0, or -1 (recording must stop).
 */
static int check_fd(void)
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
	fd = open(ps_trace_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
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
	return r;
}

/*
 * The file name for this image. @child: set by the fork handler. PERFSHIM_PARENT, put in
 * the environment by the exec wrappers (exec.c) as "<pid>:<trace path>", tells an exec'd
 * image (same pid) and a spawned child (other pid) apart from the first traced process.
 * Return: 1 when the name may replace an existing file (explicit path of the first process).
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
			if (snprintf(path, len, "%s.exec", end + 1) >= (int)len)
				return -1;
			return 0;
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

/**
 * ps_output_open - create this image's trace file and write its header.
 * @child: called in a forked child (the fork rule names the file).
 *
 * Sets ps_trace_fd, ps_trace_path, ps_pid and ps_start_ticks. On failure one line goes to
 * stderr (unless PERFSHIM_QUIET) and nothing is recorded.
 * Return: 0, or -1 (errno kept as the program had it).
 */
int ps_output_open(int child)
{
	struct trace_file_header h;
	unsigned flags = 0;
	char path[PATH_MAX];
	int saved = errno, clobber, fd;
	struct timespec rt;

	if (ps_trace_fd >= 0) {
		close(ps_trace_fd);
		ps_trace_fd = -1;
	}
	clobber = choose_path(path, sizeof(path), child, &flags);
	if (clobber < 0) {
		ps_warn_once("trace path too long: %s; not recording", ps_cfg.output);
		errno = saved;
		return -1;
	}
	fd = create(path, sizeof(path), clobber);
	if (fd < 0) {
		ps_warn_once("cannot create trace file %s: %s; not recording", path,
			     strerror(errno));
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
		  TRACE_F_MODULE_CHUNKS;	/* modules.c flags those chunks */
	h.pid = getpid();
	h.ppid = getppid();
	h.stack_depth = ps_cfg.stack_depth;
	h.max_chunk = ps_cfg.bufsize;
	h.min_duration_ns = ps_cfg.min_duration_ns;
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
	if (ps_output_write(&h, sizeof(h), NULL, 0) < 0) {
		errno = saved;
		return -1;
	}
	errno = saved;
	return 0;
}

/**
 * ps_output_write - append a header and a payload as one write (O_APPEND writes of one
 * writev do not interleave with other threads' chunks).
 *
 * A failure (disk full, file system gone) is told once and stops all recording: the file
 * keeps its intact prefix, which the analyzer reads up to the last whole chunk.
 * Return: 0, or -1 (errno kept).
 */
int ps_output_write(const void *hdr, size_t hlen, const void *payload, size_t plen)
{
	struct iovec iov[2] = {
		{ (void *)hdr, hlen },
		{ (void *)payload, plen },
	};
	int saved = errno;
	size_t want = hlen + plen;
	ssize_t n;

	if (ps_trace_fd < 0)
		return -1;
	if (check_fd() < 0) {
		ps_warn_once("trace file %s was closed by the program and cannot be reopened; "
			     "recording stopped", ps_trace_path);
		__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
		errno = saved;
		return -1;
	}
	do
		n = writev(ps_trace_fd, iov, plen ? 2 : 1);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)want) {
		ps_warn_once("writing trace file %s failed: %s; recording stopped", ps_trace_path,
			     n < 0 ? strerror(errno) : "short write (disk full?)");
		__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
		errno = saved;
		return -1;
	}
	errno = saved;
	return 0;
}
