// SPDX-License-Identifier: MIT
/*
 * Unit tests of the reader (analyzer/trace-read.c, trace-walk.c) on what format version 2
 * adds: chunk padding (pad), unfinished chunks (TRACE_CHUNK_OPEN: records up to the commit
 * cursor in the trailer), how the end of the process was recorded (TRACE_CHUNK_PROCESS_END,
 * and what follows for threads), the file header's stop flags, and version 1 files. Each
 * case writes a synthetic trace with tracegen and lays version-2 chunks out by hand.
 */
#define PR_FMT "test"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/walk.h"
#include "tests/unit/testutil.h"

static char path[64], errpath[64];

static void setup(void)
{
	tu_tmpfile(path, "test-trace-chunks");
	tu_tmpfile(errpath, "test-trace-chunks-err");
}

static void teardown(void)
{
	unlink(path);
	unlink(errpath);
}

static void put_at(struct tg *g, uint64_t off, const void *p, size_t n)
{
	ck_assert_int_eq(pwrite(g->fd, p, n, (off_t)off), (ssize_t)n);
}

/* Write the pending chunk of @th with @flags and @pad zero bytes after it. Return: offset. */
static uint64_t put_padded(struct tg *g, struct tg_thread *th, uint32_t flags, uint32_t pad)
{
	struct tg_chunk *c = tg_take(th, flags);
	uint64_t off = g->off;
	uint8_t *zeros = calloc(1, pad + 1);

	c->hdr.pad = pad;
	c->hdr.header_checksum = trace_checksum(&c->hdr, TRACE_CHUNK_HEADER_CKLEN);
	put_at(g, off, &c->hdr, sizeof(c->hdr));
	put_at(g, off + sizeof(c->hdr), c->payload, c->size);
	put_at(g, off + sizeof(c->hdr) + c->size, zeros, pad);
	g->off += sizeof(c->hdr) + c->size + pad;
	free(zeros);
	free(c->payload);
	free(c);
	return off;
}

/*
 * Write the pending records of @th as the writer leaves an unfinished chunk: a payload area
 * of @cap bytes holding them, then @junk bytes of a record never committed, the trailer
 * (writer addresses: payload at 0x7f0000000000, cursor past the records, + @cursor_skew).
 */
static uint64_t put_open(struct tg *g, struct tg_thread *th, uint32_t cap, const char *junk,
			 int64_t cursor_skew)
{
	struct tg_chunk *c = tg_take(th, 0);
	struct trace_chunk_trailer tr = { 0x7f0000000000ULL, 0 };
	uint64_t off = g->off;
	uint8_t *area = calloc(1, cap);

	ck_assert_uint_ge(cap, c->size + strlen(junk) + sizeof(tr));
	memcpy(area, c->payload, c->size);
	memcpy(area + c->size, junk, strlen(junk));
	tr.cursor = tr.base + c->size + (uint64_t)cursor_skew;
	memcpy(area + cap - sizeof(tr), &tr, sizeof(tr));
	c->hdr.size = cap;
	c->hdr.flags = TRACE_CHUNK_OPEN;
	c->hdr.payload_checksum = 0;
	c->hdr.end_ticks = c->hdr.base_ticks;	/* the writer's clock when it opened it */
	c->hdr.header_checksum = trace_checksum(&c->hdr, TRACE_CHUNK_HEADER_CKLEN);
	put_at(g, off, &c->hdr, sizeof(c->hdr));
	put_at(g, off + sizeof(c->hdr), area, cap);
	g->off += sizeof(c->hdr) + cap;
	free(area);
	free(c->payload);
	free(c);
	return off;
}

/* trace_open with stderr captured in errpath. Return: what trace_open returned. */
static int open_quiet(struct trace **t)
{
	int saved = dup(2), fd = open(errpath, O_WRONLY | O_TRUNC), r;

	dup2(fd, 2);
	close(fd);
	r = trace_open(path, t);
	dup2(saved, 2);
	close(saved);
	return r;
}

struct counts {
	uint64_t entries, exits, allocs, last_ns;
};

static int count(const struct trace_event *ev, void *ctx)
{
	struct counts *c = ctx;

	if (ev->type == EV_ENTRY)
		c->entries++;
	else if (ev->type == EV_EXIT)
		c->exits++;
	else if (ev->type == EV_ALLOC)
		c->allocs++;
	if (ev->ns > c->last_ns)
		c->last_ns = ev->ns;
	return 0;
}

static struct counts walk_thread(struct trace *t, int thread)
{
	struct counts c = { 0 };

	ck_assert_int_eq(trace_walk(t, WALK_ALL, thread, count, &c), 0);
	return c;
}

/* Padding between chunks is skipped, also when it runs past the end of the file. */
START_TEST(test_pad)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10), *b = tg_thread(g, 20);
	struct trace *t;
	char *err;

	tg_enter(a, 0x1000, 100);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 16, 0x5000, 0, 110);
	put_padded(g, a, 0, 4096 + 13);
	tg_enter(b, 0x2000, 120);
	tg_exit(b, 130);
	put_padded(g, b, TRACE_CHUNK_LAST, 7);
	tg_exit(a, 200);
	put_padded(g, a, TRACE_CHUNK_LAST | TRACE_CHUNK_PROCESS_END, 100000);
	g->off -= 100000;		/* the writer cut its own pad off at the end */
	tg_close_raw(g);

	ck_assert_int_eq(open_quiet(&t), 0);
	err = tu_slurp(errpath);
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_uint_eq(t->nthreads, 2);
	ck_assert_uint_eq(t->threads[0].nchunks, 2);
	ck_assert(t->threads[0].complete && t->threads[1].complete);
	ck_assert(t->end_seen);
	ck_assert_uint_eq(t->unfinished_chunks, 0);
	ck_assert_uint_eq(walk_thread(t, 0).allocs, 1);
	ck_assert_uint_eq(walk_thread(t, 0).exits, 1);
	ck_assert_uint_eq(walk_thread(t, 1).entries, 1);
	trace_close(t);
}
END_TEST

/*
 * An unfinished chunk: only the committed records (not the half record after them) are
 * read, without a payload checksum; the thread is unfinished, the end not recorded (both
 * said), the thread's last time is its last record's; the chunk after the region is found.
 */
START_TEST(test_open_chunk)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10), *b = tg_thread(g, 20);
	struct trace *t;
	struct counts c;
	char *err;

	tg_enter(a, 0x1000, 100);
	tg_flush(a, 0);
	tg_enter(a, 0x1100, 300);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 32, 0x6000, 0, 310);
	tg_realloc(a, 0x6000, 0x7000, 64, 0, 320, 330);
	tg_mark(a, "m", 340);
	tg_module(a, 0x400000, 0x400000, 0x410000, "\x01", 1, "/bin/x", 350);
	tg_free(a, 0x7000, 360);
	tg_rss(a, 4096, 370);
	tg_thread_name(a, "worker");
	tg_exits(a, 1, 400);
	/* a half ALLOC record (op, kind, size) stands after the cursor */
	put_open(g, a, 4096, "\x13\x01\x20", 0);
	tg_enter(b, 0x2000, 150);
	tg_exit(b, 160);
	tg_flush(b, TRACE_CHUNK_LAST);
	tg_close_raw(g);

	ck_assert_int_eq(open_quiet(&t), 0);
	err = tu_slurp(errpath);
	ck_assert_msg(strstr(err, "thread 10 has no last chunk: its events after 400 ns are "
				  "missing") && strstr(err, "the process's end was not recorded"),
		      "warning: %s", err);
	free(err);
	ck_assert_uint_eq(t->nthreads, 2);
	ck_assert(t->threads[0].unfinished);
	ck_assert(!t->threads[0].complete);
	ck_assert(!t->threads[0].cut);
	ck_assert(!t->threads[0].damaged);
	ck_assert(t->threads[1].complete);
	ck_assert(!t->end_seen);
	ck_assert_uint_eq(t->unfinished_chunks, 1);
	ck_assert_uint_eq(t->threads[0].last_ns, 400);
	ck_assert_uint_eq(t->duration_ns, 400);
	c = walk_thread(t, 0);
	ck_assert_uint_eq(c.entries, 2);
	ck_assert_uint_eq(c.exits, 2);		/* EXITS 1, then main closed at the end */
	ck_assert_uint_eq(c.allocs, 1);
	ck_assert_uint_eq(c.last_ns, 400);
	ck_assert_str_eq(t->threads[0].name, "worker");
	ck_assert_uint_eq(t->nmarks, 1);
	ck_assert_uint_eq(walk_thread(t, 1).entries, 1);
	trace_close(t);
}
END_TEST

/* A commit cursor outside its payload area: the chunk is damaged, the thread ends before it. */
START_TEST(test_open_bad_cursor)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10);
	struct trace *t;
	char *err;

	tg_enter(a, 0x1000, 100);
	tg_flush(a, 0);
	tg_exit(a, 200);
	put_open(g, a, 1024, "", 5000);
	tg_close_raw(g);

	ck_assert_int_eq(open_quiet(&t), 0);
	err = tu_slurp(errpath);
	ck_assert_msg(strstr(err, "unfinished chunk at offset") &&
			      strstr(err, "(thread 10, seq 1) with a damaged commit cursor"),
		      "warning: %s", err);
	free(err);
	ck_assert_uint_eq(t->threads[0].nchunks, 1);
	ck_assert(!t->threads[0].unfinished);
	ck_assert_uint_eq(t->damaged_chunks, 1);
	ck_assert_uint_eq(walk_thread(t, 0).entries, 1);
	trace_close(t);
}
END_TEST

/*
 * The end of the process: recorded only when some thread's final chunk carries PROCESS_END.
 * After an exec (the exec'ing thread's final chunk has it, not LAST) the others, still in
 * unfinished chunks, were cut by it; a PROCESS_END before a failed exec that is followed by
 * more chunks of that thread records nothing.
 */
START_TEST(test_process_end)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10), *b = tg_thread(g, 20);
	struct trace *t;

	/* exec succeeded: a's last chunk is the one written before it */
	tg_enter(a, 0x1000, 100);
	tg_enter(b, 0x2000, 110);
	tg_flush(a, TRACE_CHUNK_PROCESS_END);
	put_open(g, b, 512, "", 0);
	tg_close_raw(g);
	ck_assert_int_eq(open_quiet(&t), 0);
	ck_assert(t->end_seen);
	ck_assert(t->threads[0].complete && !t->threads[0].cut);
	/* b was running when the exec replaced the image: cut by it, nothing missing */
	ck_assert(t->threads[1].unfinished && t->threads[1].cut && t->threads[1].complete);
	trace_close(t);

	/* exec failed, then the process was killed: a's later chunk is unfinished */
	g = tg_open(path);
	a = tg_thread(g, 10);
	tg_enter(a, 0x1000, 100);
	tg_flush(a, TRACE_CHUNK_PROCESS_END);
	tg_exit(a, 200);
	put_open(g, a, 512, "", 0);
	tg_close_raw(g);
	ck_assert_int_eq(open_quiet(&t), 0);
	ck_assert(!t->end_seen);
	ck_assert(t->threads[0].unfinished && !t->threads[0].cut && !t->threads[0].complete);
	ck_assert_uint_eq(walk_thread(t, 0).exits, 1);
	trace_close(t);

	/* a thread that ended before the process did (LAST) and no end recorded */
	g = tg_open(path);
	a = tg_thread(g, 10);
	tg_enter(a, 0x1000, 100);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close_raw(g);
	ck_assert_int_eq(open_quiet(&t), 0);
	ck_assert(!t->end_seen);
	ck_assert(t->threads[0].complete);
	trace_close(t);
}
END_TEST

/* The header says the recorder stopped early: a field each, and one warning naming why. */
START_TEST(test_stop_flags)
{
	static const struct {
		uint32_t flag;
		const char *words;
	} cases[] = {
		{ TRACE_F_CUT_FSIZE, "recording stopped early: the trace reached the file-size "
				     "limit (RLIMIT_FSIZE)" },
		{ TRACE_F_CUT_WRITE, "recording stopped early: writing the trace failed" },
	};
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct tg *g = tg_open(path);
		struct tg_thread *a = tg_thread(g, 10);
		struct trace *t;
		char *err;

		g->hdr.flags |= cases[i].flag;
		tg_enter(a, 0x1000, 100);
		tg_flush(a, 0);
		tg_close_raw(g);
		ck_assert_int_eq(open_quiet(&t), 0);
		err = tu_slurp(errpath);
		ck_assert_msg(strstr(err, cases[i].words), "warning: %s", err);
		ck_assert_uint_eq(strchr(err, '\n') - err + 1, strlen(err));	/* one line */
		free(err);
		ck_assert(t->cut_fsize == (i == 0) && t->cut_write == (i == 1));
		trace_close(t);
	}
}
END_TEST

/* Version 1 files read as before; a version after the current one is refused. */
START_TEST(test_versions)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10);
	struct trace *t;
	char *err;

	g->hdr.version = 1;
	tg_enter(a, 0x1000, 100);
	tg_exit(a, 200);
	tg_close(g);
	ck_assert_int_eq(open_quiet(&t), 0);
	ck_assert_uint_eq(walk_thread(t, 0).exits, 1);
	trace_close(t);
	tg_set_version(path, TRACE_VERSION + 1);
	ck_assert_int_eq(open_quiet(&t), -1);
	err = tu_slurp(errpath);
	ck_assert_msg(strstr(err, "trace format version 5, this perfshim-analyze reads versions "
				  "1 to 4"), "error: %s", err);
	free(err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("trace-chunks");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pad);
	tcase_add_test(tc, test_open_chunk);
	tcase_add_test(tc, test_open_bad_cursor);
	tcase_add_test(tc, test_process_end);
	tcase_add_test(tc, test_stop_flags);
	tcase_add_test(tc, test_versions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	return failed ? 1 : 0;
}
