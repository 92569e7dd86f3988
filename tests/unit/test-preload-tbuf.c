// SPDX-License-Identifier: MIT
/*
 * The preload's buffers at the process's end (preload/tbuf.c, chunk.c, switches.c), linked
 * into this program and called directly, not preloaded: a thread state set up here writing
 * into a real trace file (mapped regions where the file system allows, else the write path),
 * and a second thread that plays the final flush (ps_flush_all): it bars every other thread
 * from opening chunks (ps_chunk_ending), then cuts them (ps_tbuf_cut_others). Steps are
 * taken one at a time (semaphores), so each interleaving is exact. The chunk headers are
 * read back from the file and asserted:
 *   - a thread whose chunk fills after the flush barred it keeps that chunk open (its next
 *     reservation fails, nothing is closed) and the cut closes it flagged LAST|CUT|PROCESS_END,
 *     with every committed byte (before the fix it closed the chunk, not as its last, was
 *     refused the next and went OFF, and the cut wrote nothing: no last chunk);
 *   - a cut thread with a context-switch ring, nothing pending in it, gets a chunk of its
 *     own after its records, flagged as the last, holding its CPU clock reading (SWITCH
 *     CPUTIME), written by a flush thread that never recorded itself;
 *   - a thread that ends while the flush bars it, with switches left that do not fit its
 *     full chunk, closes that chunk as its last (before: closed not last, then refused).
 * Each assertion was checked to fail with the logic it covers broken.
 */
#include <check.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/internal.h"

/* What tbuf.c, chunk.c and switches.c need from the rest of the library, here. */
struct ps_config ps_cfg;
int ps_recording = 1, ps_use_tsc, ps_trace_live = 1, ps_trace_fd = -1;
uint32_t ps_code_gen;
static uint64_t clock_now = 1000;

uint64_t ps_mono_ns(void) { return clock_now += 10; }
uint64_t ps_clock_rate(void) { return 0; }
uint64_t ps_ns_to_ticks(uint64_t ns) { return ns; }
void ps_code_forget(struct ps_thread *t) { t->ids.code_gen = ps_code_gen; }
void ps_log(const char *fmt, ...) { }
void ps_warn_once(const char *fmt, ...) { }
int ps_output_check_fd(void) { return 0; }
uint64_t ps_output_fsize_limit(void) { return UINT64_MAX; }
void ps_output_stopped(unsigned why, const char *what) { ck_abort_msg("recording stopped"); }
void ps_signals_release(struct ps_thread *t) { t->sig.held = 0; }
void ps_stack_thread_free(struct ps_thread *t) { }

#define CUT_FLAGS (TRACE_CHUNK_LAST | TRACE_CHUNK_CUT | TRACE_CHUNK_PROCESS_END)
#define MAX_CHUNKS 16

static struct trace_chunk_header chunks[MAX_CHUNKS];
static uint8_t *payloads[MAX_CHUNKS];

/* A trace file and a recording thread (this one); its switches said absent already. */
static struct ps_thread *thread_new(void)
{
	char path[] = "/tmp/perfshim-tbuf.XXXXXX";	/* a template per call: mkstemp fills it */
	struct ps_thread *t;

	ps_trace_fd = mkstemp(path);
	ck_assert_int_ge(ps_trace_fd, 0);
	unlink(path);
	ps_cfg.bufsize = 64 << 10;
	ps_cfg.stack_depth = 4;
	ps_switch_errno = ENOENT;	/* no perf event opened here */
	ps_chunk_reset();
	t = ps_thread_setup();
	ck_assert_ptr_nonnull(t);
	t->sw.err = -ENOENT;
	return t;
}

/* Commit 8-byte records of byte @v until the chunk is full (its next record flushes). */
static size_t fill(struct ps_thread *t, uint8_t v)
{
	size_t n = 0;

	do {
		uint8_t *p = ps_reserve(t, 8);

		ck_assert_ptr_nonnull(p);
		memset(p, v, 8);
		ps_commit(t, p + 8);
		n += 8;
	} while (t->rec.pos < t->chunk.end - TRACE_MAX_RECORD);
	return n;
}

/* The chunks of the file, in file order. Return: how many. */
static int read_chunks(void)
{
	off_t off = sizeof(struct trace_file_header), end = lseek(ps_trace_fd, 0, SEEK_END);
	int n = 0;

	while (off + (off_t)sizeof(chunks[0]) <= end && n < MAX_CHUNKS) {
		struct trace_chunk_header *h = &chunks[n];

		ck_assert_int_eq(pread(ps_trace_fd, h, sizeof(*h), off), sizeof(*h));
		free(payloads[n]);
		ck_assert_uint_eq(h->magic, TRACE_CHUNK_MAGIC);
		ck_assert_uint_eq(h->header_checksum, trace_checksum(h, TRACE_CHUNK_HEADER_CKLEN));
		payloads[n] = malloc(h->size + 1);
		ck_assert_int_eq(pread(ps_trace_fd, payloads[n], h->size, off + sizeof(*h)), h->size);
		if (!(h->flags & TRACE_CHUNK_OPEN))
			ck_assert_uint_eq(h->payload_checksum, trace_checksum(payloads[n], h->size));
		off += (off_t)(sizeof(*h) + h->size + h->pad);
		n++;
	}
	return n;
}

/* The final flush, on a thread of its own that never recorded: one step per call of step(). */
static sem_t go, done;

static void *flusher(void *arg)
{
	(void)arg;
	sem_wait(&go);
	ps_chunk_ending((pid_t)syscall(SYS_gettid), 0);	/* no other thread opens a chunk */
	sem_post(&done);
	sem_wait(&go);
	ps_tbuf_cut_others(&ps_self, 0);			/* this thread's own: not listed */
	sem_post(&done);
	return NULL;
}

static pthread_t flush_thread;

static void flusher_start(void)
{
	sem_init(&go, 0, 0);
	sem_init(&done, 0, 0);
	ck_assert_int_eq(pthread_create(&flush_thread, NULL, flusher, NULL), 0);
}

static void step(void)
{
	sem_post(&go);
	sem_wait(&done);
}

/* A context-switch ring as the kernel maps it, with @nsw switch-outs in it. */
static void *ring_new(int nsw)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct perf_event_mmap_page *pg = mmap(NULL, 17 * page, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct {
		struct perf_event_header h;
		uint32_t pid, tid;
		uint64_t time;
	} rec = { { PERF_RECORD_SWITCH, PERF_RECORD_MISC_SWITCH_OUT, sizeof(rec) }, 1, 1, 500 };
	int i;

	ck_assert_ptr_ne(pg, MAP_FAILED);
	pg->data_offset = page;
	pg->data_size = 16 * page;
	for (i = 0; i < nsw; i++)
		memcpy((uint8_t *)pg + page + i * sizeof(rec), &rec, sizeof(rec));
	pg->data_head = nsw * sizeof(rec);
	pg->data_tail = 0;
	return pg;
}

START_TEST(test_refused_full_chunk_is_cut)
{
	struct ps_thread *t = thread_new();
	uint8_t *buf;
	size_t n;
	int i;

	flusher_start();
	n = fill(t, 0x2a);
	buf = t->chunk.buf;
	step();					/* the flush bars this thread */
	ck_assert_ptr_null(ps_reserve(t, 8));	/* full, no next chunk: nothing recorded */
	ck_assert_int_eq(t->state, PS_T_ACTIVE);
	ck_assert_ptr_eq(t->chunk.buf, buf);	/* the chunk stays open, as it was */
	ck_assert_uint_eq(t->chunk.seq, 0);
	ck_assert_ptr_eq(t->rec.pos, buf + n);
	ck_assert_ptr_null(ps_reserve(t, 8));	/* and so on until the cut */
	step();					/* the cut */
	ck_assert_int_eq(t->state, PS_T_OFF);
	ck_assert_int_eq(read_chunks(), 1);
	ck_assert_uint_eq(chunks[0].tid, t->tid);
	ck_assert_uint_eq(chunks[0].seq, 0);
	ck_assert_uint_eq(chunks[0].flags, CUT_FLAGS);
	ck_assert_uint_eq(chunks[0].size, n);
	for (i = 0; i < (int)n; i++)
		ck_assert_uint_eq(payloads[0][i], 0x2a);
	pthread_join(flush_thread, NULL);
}
END_TEST

START_TEST(test_cut_thread_cpu_clock)
{
	struct ps_thread *t = thread_new();
	uint8_t want[16], *w;
	size_t n = 0;
	int i;

	flusher_start();
	for (i = 0; i < 3; i++) {
		uint8_t *p = ps_reserve(t, 8);

		memset(p, 0x11, 8);
		ps_commit(t, p + 8);
		n += 8;
	}
	t->sw.err = 0;
	t->sw.ring = ring_new(0);	/* a ring with nothing in it: the clock alone */
	step();
	step();
	ck_assert_int_eq(read_chunks(), 2);
	ck_assert_uint_eq(chunks[0].seq, 0);
	ck_assert_uint_eq(chunks[0].flags, 0);
	ck_assert_uint_eq(chunks[0].size, n);
	ck_assert_uint_eq(chunks[1].tid, t->tid);
	ck_assert_uint_eq(chunks[1].seq, 1);
	ck_assert_uint_eq(chunks[1].flags, CUT_FLAGS);
	w = trace_put_varint(want, TRACE_OP_H(TRACE_OP_SWITCH));
	w = trace_put_varint(w, TRACE_SWITCH_CPUTIME);
	ck_assert_uint_ge(chunks[1].size, (size_t)(w - want) + 2);
	ck_assert_mem_eq(payloads[1], want, (size_t)(w - want));
	pthread_join(flush_thread, NULL);
}
END_TEST

START_TEST(test_end_while_barred)
{
	struct ps_thread *t = thread_new();
	size_t n;

	flusher_start();
	n = fill(t, 0x33);
	t->sw.err = 0;
	t->sw.ring = ring_new(1);	/* a switch that does not fit the full chunk */
	step();				/* the flush bars this thread; it ends */
	ps_tbuf_end_thread(t);
	ck_assert_int_eq(t->state, PS_T_OFF);
	ck_assert_int_eq(read_chunks(), 1);
	ck_assert_uint_eq(chunks[0].seq, 0);
	ck_assert_uint_eq(chunks[0].flags, TRACE_CHUNK_LAST);
	ck_assert_uint_eq(chunks[0].size, n);
	step();				/* the cut: the thread is gone from the list */
	ck_assert_int_eq(read_chunks(), 1);
	pthread_join(flush_thread, NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("preload-tbuf");
	TCase *tc = tcase_create("exit");

	tcase_add_test(tc, test_refused_full_chunk_is_cut);
	tcase_add_test(tc, test_cut_thread_cpu_clock);
	tcase_add_test(tc, test_end_while_barred);
	suite_add_tcase(s, tc);
	return s;
}

/* (testutil's tu_run would pull the analyzer in: the same fork-mode run, here) */
int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_set_fork_status(r, CK_FORK);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
