/* SPDX-License-Identifier: MIT */
/*
 * Rare records that carry strings or need system calls: marks, thread names, the process
 * record, LOST counts. Each reserves room itself (strings are cut at TRACE_MAX_STRING) and
 * runs under the thread's guard, so the allocations its system calls might cause are not
 * recorded. Callers check that the thread records; a nested call (guard already held by a
 * caller in this file's family) is fine.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/records.h"
#include "preload/tracefile.h"

/* Read a small /proc file with raw system calls (never stdio: the program may hold its lock). */
static ssize_t read_file(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	return got;
}

/* ps_emit_mark - a MARK record labelled @label at the current time. */
void ps_emit_mark(struct ps_thread *t, const char *label)
{
	size_t len = strnlen(label, TRACE_MAX_STRING);
	uint8_t *p;

	ps_guard_take(t, PS_GUARD_INTERNAL);
	p = ps_reserve_slow(t, len + TRACE_MAX_RECORD);
	if (p) {
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_MARK));
		p = trace_put_str(p, label, len);
		p = ps_put_dt(t, p, ps_now());
		ps_commit(t, p);
	}
	ps_guard_drop(t, PS_GUARD_INTERNAL);
}

/* ps_emit_lost - report the events this thread dropped since the last report. */
void ps_emit_lost(struct ps_thread *t)
{
	uint8_t *p;

	ps_guard_take(t, PS_GUARD_INTERNAL);
	p = ps_reserve_slow(t, TRACE_MAX_RECORD);
	if (p && t->lost) {
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_LOST));
		p = trace_put_varint(p, t->lost);
		t->lost = 0;
		ps_commit(t, p);
	}
	ps_guard_drop(t, PS_GUARD_INTERNAL);
}

/* ps_emit_thread_name - the thread's name as the kernel knows it (pthread_setname_np). */
void ps_emit_thread_name(struct ps_thread *t)
{
	char path[64], name[64];
	ssize_t n;
	uint8_t *p;

	ps_guard_take(t, PS_GUARD_INTERNAL);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)t->tid);
	n = read_file(path, name, sizeof(name));
	while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == '\0'))
		n--;
	if (n > 0 && (p = ps_reserve_slow(t, n + TRACE_MAX_RECORD))) {
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_THREAD_NAME));
		p = trace_put_str(p, name, n);
		ps_commit(t, p);
	}
	ps_guard_drop(t, PS_GUARD_INTERNAL);
}

/* ps_emit_process - pid, parent, executable and command line, from /proc/self. */
void ps_emit_process(struct ps_thread *t)
{
	char exe[TRACE_MAX_STRING], cmd[TRACE_MAX_STRING];
	ssize_t nexe, ncmd;
	uint8_t *p;

	ps_guard_take(t, PS_GUARD_INTERNAL);
	nexe = readlink("/proc/self/exe", exe, sizeof(exe));
	if (nexe < 0)
		nexe = 0;
	ncmd = read_file("/proc/self/cmdline", cmd, sizeof(cmd));
	if (ncmd < 0)
		ncmd = 0;
	while (ncmd > 0 && cmd[ncmd - 1] == '\0')
		ncmd--;
	p = ps_reserve_slow(t, nexe + ncmd + TRACE_MAX_RECORD);
	if (p) {
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_PROCESS));
		p = trace_put_varint(p, getpid());
		p = trace_put_varint(p, getppid());
		p = trace_put_str(p, exe, nexe);
		p = trace_put_str(p, cmd, ncmd);
		ps_commit(t, p);
	}
	ps_guard_drop(t, PS_GUARD_INTERNAL);
}

/*
 * RSS samples for the timeline (at most one per PS_RSS_PERIOD_NS in the whole process):
 * the allocation hooks compare their time with ps_next_rss_ticks and call this when it has
 * passed. /proc/self/statm is read with raw system calls; no thread, no stdio. errno is kept
 * (the hooks do not save it on their common path).
 */
uint64_t ps_next_rss_ticks;

static void rss_sample(struct ps_thread *t, uint64_t now)
{
	uint64_t next = __atomic_load_n(&ps_next_rss_ticks, __ATOMIC_RELAXED);
	static uint64_t period, page;
	char buf[128], *s;
	ssize_t n;
	uint64_t rss = 0;
	uint8_t *p;

	if (!period) {
		page = sysconf(_SC_PAGESIZE);
		period = ps_ns_to_ticks(PS_RSS_PERIOD_NS);
	}
	/* One thread wins the sample; the others go on. */
	if (now < next || !__atomic_compare_exchange_n(&ps_next_rss_ticks, &next, now + period, 0,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	n = read_file("/proc/self/statm", buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	s = strchr(buf, ' ');
	if (!s)
		return;
	for (s++; *s >= '0' && *s <= '9'; s++)
		rss = rss * 10 + (*s - '0');
	p = ps_reserve(t, TRACE_MAX_RECORD);
	if (!p)
		return;
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_RSS));
	p = trace_put_varint(p, rss * page);
	p = ps_put_dt(t, p, now);
	ps_commit(t, p);
}

void ps_rss_sample(struct ps_thread *t, uint64_t now)
{
	int saved = errno;

	rss_sample(t, now);
	errno = saved;
}

/*
 * Marks set from a signal handler go to a chunk of their own, written at once with one
 * pwrite (async-signal-safe), under the pseudo thread id 0: a handler may interrupt a hook in
 * the middle of a record, so it cannot append to the thread's buffer, and deferring the mark
 * would move it in time. Chunks of tid 0 hold only MARK records.
 */
static uint32_t mark_seq;

void ps_emit_signal_mark(const char *label)
{
	uint8_t payload[TRACE_MAX_STRING + TRACE_MAX_RECORD], *p = payload;
	struct trace_chunk_header h;
	uint64_t now = ps_now();

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_MARK));
	p = trace_put_str(p, label, strnlen(label, TRACE_MAX_STRING));
	p = trace_put_varint(p, 0);
	memset(&h, 0, sizeof(h));
	h.magic = TRACE_CHUNK_MAGIC;
	h.tid = 0;
	h.seq = __atomic_fetch_add(&mark_seq, 1, __ATOMIC_RELAXED);
	h.size = p - payload;
	h.payload_checksum = trace_checksum(payload, h.size);
	h.base_ticks = now;
	h.end_ticks = now;
	h.end_mono_ns = ps_mono_ns();
	ps_chunk_write_small(&h, payload);	/* pad and header checksum set there */
}
