/* SPDX-License-Identifier: MIT */
/*
 * floor-buf.h - the per-thread record buffer shared by bench/'s floor recorders
 * (floor-cyg.c, floor-malloc.c): the least a recorder must do to keep every event, so that
 * perfshim's cost can be stated as a multiple of it. docs/bench.md explains the floors.
 *
 * Each thread appends fixed 16-byte records to its own 1 MiB buffer (mmap'd on its first
 * event: no malloc) and writes it with one write(2) when full, at thread exit (a pthread key
 * destructor) and at process exit (a destructor). All threads append to one file,
 * $BENCH_FLOOR_OUTPUT (never truncated: the call and allocation floors may be preloaded
 * together into one file; the bench removes it before each run), or /dev/null when unset. Nothing is decoded from these files:
 * their size is the record count, which tests/run/55-bench-floors.sh checks exactly.
 * Events after the process destructor are not written; a floor needs no more.
 */
#ifndef PERFSHIM_BENCH_FLOOR_BUF_H
#define PERFSHIM_BENCH_FLOOR_BUF_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#define FLOOR_EXPORT __attribute__((visibility("default"), no_instrument_function))
#define FLOOR_HOT __attribute__((no_instrument_function))
#define FLOOR_COLD __attribute__((noinline, cold, no_instrument_function))
#define FLOOR_BUF_SIZE (1U << 20)
#define FLOOR_REC 16U

struct floor_thread {
	uint8_t *pos;		/* next free byte */
	uint8_t *end;		/* buffer end; pos == end: full, or not set up yet (both NULL) */
	uint8_t *buf;		/* FLOOR_BUF_SIZE bytes, or the scratch area when mmap failed */
};

/* initial-exec TLS: one %fs-relative load, no __tls_get_addr call (which may allocate) */
static __thread struct floor_thread floor_t __attribute__((tls_model("initial-exec")));
/* where records go when the buffer could not be mapped: discarded when full, never written */
static __thread uint8_t floor_scratch[1024] __attribute__((tls_model("initial-exec")));

static int floor_fd = -1;
static pthread_key_t floor_key;
static pthread_once_t floor_once = PTHREAD_ONCE_INIT;

static FLOOR_HOT void floor_write_out(struct floor_thread *t)
{
	int saved = errno;
	const uint8_t *p = t->buf;
	ssize_t n;

	if (t->buf != floor_scratch && floor_fd >= 0) {
		while (p < t->pos) {
			n = write(floor_fd, p, (size_t)(t->pos - p));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			p += n;
		}
	}
	t->pos = t->buf;
	errno = saved;
}

/* Thread exit: write what is left and give the buffer back. */
static FLOOR_HOT void floor_thread_exit(void *arg)
{
	struct floor_thread *t = arg;

	floor_write_out(t);
	if (t->buf && t->buf != floor_scratch)
		munmap(t->buf, FLOOR_BUF_SIZE);
	t->buf = t->pos = t->end = NULL;
}

static FLOOR_HOT void floor_global_init(void)
{
	const char *path = getenv("BENCH_FLOOR_OUTPUT");

	floor_fd = open(path && *path ? path : "/dev/null",
			O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	pthread_key_create(&floor_key, floor_thread_exit);
}

/*
 * The slow path of every append: set the thread up on its first event (the buffer is in
 * place before pthread_setspecific, which may allocate and so come back here through the
 * malloc floor), or write a full buffer out.
 */
static FLOOR_COLD void floor_slow(struct floor_thread *t, size_t need)
{
	int saved = errno;
	void *m;

	(void)need;	/* every record fits an empty buffer, the scratch area included */
	if (t->buf) {
		floor_write_out(t);
		return;
	}
	pthread_once(&floor_once, floor_global_init);
	m = mmap(NULL, FLOOR_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		t->buf = t->pos = floor_scratch;
		t->end = floor_scratch + sizeof(floor_scratch);
	} else {
		t->buf = t->pos = m;
		t->end = t->buf + FLOOR_BUF_SIZE;
	}
	pthread_setspecific(floor_key, t);
	errno = saved;
}

/* Room for @need bytes (at most 1 KiB) at the thread's buffer. Return: where to write. */
static inline FLOOR_HOT uint8_t *floor_reserve(size_t need)
{
	struct floor_thread *t = &floor_t;

	if (__builtin_expect((size_t)(t->end - t->pos) < need, 0))
		floor_slow(t, need);
	return t->pos;
}

static inline FLOOR_HOT void floor_commit(uint8_t *p)
{
	floor_t.pos = p;
}

/* One 16-byte record {a, b}. */
static inline FLOOR_HOT void floor_put(uint64_t a, uint64_t b)
{
	uint8_t *p = floor_reserve(FLOOR_REC);

	memcpy(p, &a, 8);
	memcpy(p + 8, &b, 8);
	floor_commit(p + FLOOR_REC);
}

/* Process exit: the calling thread's records (other threads' went out at their exit). */
static __attribute__((destructor, no_instrument_function)) void floor_process_exit(void)
{
	if (floor_t.buf)
		floor_write_out(&floor_t);
}

#endif /* PERFSHIM_BENCH_FLOOR_BUF_H */
