// SPDX-License-Identifier: MIT
/*
 * Unit tests of analyzer/trace-read.c and the encoding helpers of trace.h: varints,
 * checksums, every record through tracegen and back, chunk validation and ordering, damage
 * (flipped, zeroed, cut, missing chunks, malformed records), clock conversion, stacks and
 * the merged order. Each case writes a synthetic trace with a known answer.
 */
#define PR_FMT "test"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/walk.h"
#include "tests/fuzz/fuzz-common.h"
#include "tests/unit/testutil.h"

static char path[64];

static void setup(void)
{
	tu_tmpfile(path, "test-trace-read");
}

static void teardown(void)
{
	unlink(path);
}

/* ---- collecting events ---- */

struct evs {
	struct trace_event *v;
	char **str;
	size_t n, cap;
};

static int collect(const struct trace_event *ev, void *ctx)
{
	struct evs *e = ctx;

	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
		e->str = realloc(e->str, e->cap * sizeof(*e->str));
	}
	e->v[e->n] = *ev;
	e->str[e->n] = ev->str && (ev->type == EV_MARK || ev->type == EV_THREAD_NAME ||
				   ev->type == EV_PROCESS || ev->type == EV_MODULE)
			       ? strdup(ev->str)
			       : NULL;
	e->n++;
	return 0;
}

static void evs_free(struct evs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->str[i]);
	free(e->v);
	free(e->str);
	memset(e, 0, sizeof(*e));
}

static struct trace *open_ok(void)
{
	struct trace *t = NULL;

	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_ptr_nonnull(t);
	return t;
}

static void walk(struct trace *t, unsigned flags, int thread, struct evs *e)
{
	ck_assert_int_eq(trace_walk(t, flags, thread, collect, e), 0);
}

/* ---- varints, zigzag, checksums ---- */

START_TEST(test_varint_edges)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 255, 16383, 16384, 1ULL << 32,
					 (1ULL << 63) - 1, 1ULL << 63, UINT64_MAX };
	uint8_t buf[16];
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t *end = trace_put_varint(buf, vals[i]);
		const uint8_t *p = buf;
		uint64_t v = 12345;
		size_t n = (size_t)(end - buf), cut;

		ck_assert_int_le(n, 10);
		ck_assert_int_eq(trace_get_varint(&p, end, &v), 0);
		ck_assert_uint_eq(v, vals[i]);
		ck_assert_ptr_eq(p, end);
		/* every shorter buffer fails without moving the cursor or reading past it */
		for (cut = 0; cut < n; cut++) {
			p = buf;
			ck_assert_int_eq(trace_get_varint(&p, buf + cut, &v), -1);
			ck_assert_ptr_eq(p, buf);
		}
	}
	ck_assert_int_eq(trace_put_varint(buf, 127) - buf, 1);
	ck_assert_int_eq(trace_put_varint(buf, 128) - buf, 2);
	ck_assert_int_eq(trace_put_varint(buf, UINT64_MAX) - buf, 10);
	{
		/* 11 continuation bytes: refused */
		uint8_t bad[12];
		const uint8_t *p = bad;
		uint64_t v;

		memset(bad, 0x80, sizeof(bad));
		ck_assert_int_eq(trace_get_varint(&p, bad + sizeof(bad), &v), -1);
	}
}
END_TEST

START_TEST(test_zigzag)
{
	static const int64_t vals[] = { 0, 1, -1, 2, -2, 63, -64, INT64_MAX, INT64_MIN };
	size_t i;

	ck_assert_uint_eq(trace_zigzag(0), 0);
	ck_assert_uint_eq(trace_zigzag(-1), 1);
	ck_assert_uint_eq(trace_zigzag(1), 2);
	ck_assert_uint_eq(trace_zigzag(INT64_MIN), UINT64_MAX);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		ck_assert_int_eq(trace_unzigzag(trace_zigzag(vals[i])), vals[i]);
}
END_TEST

START_TEST(test_checksum)
{
	uint8_t buf[200];
	size_t len, i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (len = 0; len <= 100; len++) {
		uint32_t c = trace_checksum(buf, len);

		ck_assert_uint_eq(c, trace_checksum(buf, len));
		if (len)
			ck_assert_uint_ne(c, trace_checksum(buf, len - 1));
		for (i = 0; i < len; i++) {
			buf[i] ^= 0x10;
			ck_assert_uint_ne(c, trace_checksum(buf, len));
			buf[i] ^= 0x10;
		}
	}
}
END_TEST

/* ---- records round trip ---- */

START_TEST(test_every_record)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 42);
	static const uint64_t ips[] = { 0x401111, 0x402222, 0x403333 };
	uint32_t node, fid;
	struct trace *t;
	struct evs e = { 0 };
	size_t i = 0;

	tg_process(a, 777, 5, "/usr/bin/prog", "prog\0-v\0x y\0", 12);
	tg_module(a, 0x400000, 0x400000, 0x480000, "\xab\xcd\xef", 3, "/usr/bin/prog", 10);
	tg_thread_name(a, "main-thread");
	fid = tg_func(a, 0x401000);
	ck_assert_uint_eq(fid, 0);
	tg_entry(a, fid, 100);
	node = tg_stack(a, true, ips, 3);
	ck_assert_uint_eq(node, 3);
	tg_alloc(a, TRACE_ALLOC_CALLOC, 48, 0x7f0000001000ULL, node, 150);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 8, 0x1000, 0, 160);	/* pointer delta negative */
	tg_free(a, 0x7f0000001000ULL, 170);
	tg_realloc(a, 0x1000, 0x2000, 4096, node, 180, 190);
	tg_realloc(a, 0x2000, 0, 0, 0, 200, 200);		/* realloc(p, 0) */
	tg_mark(a, "phase one", 210);
	tg_rss(a, 123456789, 220);
	tg_lost(a, 17);
	tg_unload(a, 0x400000, 230);
	tg_exit(a, 300);
	tg_close(g);

	t = open_ok();
	walk(t, WALK_ALL, -1, &e);
	ck_assert_uint_eq(t->nthreads, 1);
	ck_assert_uint_eq(t->threads[0].tid, 42);
	ck_assert_str_eq(t->threads[0].name, "main-thread");
	ck_assert(t->threads[0].complete);
	ck_assert_uint_eq(t->pid, 777);
	ck_assert_uint_eq(t->ppid, 5);
	ck_assert_str_eq(t->exe, "/usr/bin/prog");
	ck_assert_str_eq(t->cmdline, "prog -v x y");
	ck_assert_uint_eq(t->nmodules, 1);
	ck_assert_uint_eq(t->modules[0].lo, 0x400000);
	ck_assert_uint_eq(t->modules[0].hi, 0x480000);
	ck_assert_uint_eq(t->modules[0].build_id_len, 3);
	ck_assert_int_eq(memcmp(t->modules[0].build_id, "\xab\xcd\xef", 3), 0);
	ck_assert_uint_eq(t->modules[0].load_ns, 10);
	ck_assert_uint_eq(t->modules[0].unload_ns, 230);
	ck_assert_uint_eq(t->nfuncs, 1);
	ck_assert_uint_eq(t->funcs[0], 0x401000);

	ck_assert_int_eq(e.v[i].type, EV_PROCESS);
	ck_assert_str_eq(e.str[i], "/usr/bin/prog");
	ck_assert_uint_eq(e.v[i++].size, 777);
	ck_assert_int_eq(e.v[i].type, EV_MODULE);
	ck_assert_uint_eq(e.v[i].ns, 10);
	ck_assert_str_eq(e.str[i], "/usr/bin/prog");
	ck_assert_uint_eq(e.v[i++].module, 0);
	ck_assert_int_eq(e.v[i].type, EV_THREAD_NAME);
	ck_assert_str_eq(e.str[i++], "main-thread");
	ck_assert_int_eq(e.v[i].type, EV_ENTRY);
	ck_assert_uint_eq(e.v[i].ns, 100);
	ck_assert_uint_eq(e.v[i].addr, 0x401000);
	ck_assert_uint_eq(e.v[i].depth, 0);
	ck_assert_uint_eq(e.v[i].tid, 42);
	ck_assert_uint_eq(e.v[i++].func, 0);
	ck_assert_int_eq(e.v[i].type, EV_ALLOC);
	ck_assert_uint_eq(e.v[i].ns, 150);
	ck_assert_uint_eq(e.v[i].kind, TRACE_ALLOC_CALLOC);
	ck_assert_uint_eq(e.v[i].size, 48);
	ck_assert_uint_eq(e.v[i].ptr, 0x7f0000001000ULL);
	ck_assert_uint_ne(e.v[i].stack, 0);
	{
		struct trace_stack st = trace_stack_get(t, e.v[i].stack);

		ck_assert_uint_eq(st.nframes, 3);
		ck_assert_uint_eq(st.frames[0].ip, 0x401111);
		ck_assert_uint_eq(st.frames[1].ip, 0x402222);
		ck_assert_uint_eq(st.frames[2].ip, 0x403333);
		ck_assert(st.frames[0].is_ra);
		ck_assert_uint_eq(trace_stack_get(t, trace_stack_parent(t, e.v[i].stack))
					  .frames[0].ip, 0x402222);
	}
	i++;
	ck_assert_int_eq(e.v[i].type, EV_ALLOC);
	ck_assert_uint_eq(e.v[i].ptr, 0x1000);
	ck_assert_uint_eq(e.v[i++].stack, 0);
	ck_assert_int_eq(e.v[i].type, EV_FREE);
	ck_assert_uint_eq(e.v[i].ns, 170);
	ck_assert_uint_eq(e.v[i++].ptr, 0x7f0000001000ULL);
	ck_assert_int_eq(e.v[i].type, EV_REALLOC);
	ck_assert_uint_eq(e.v[i].ns, 180);
	ck_assert_uint_eq(e.v[i].ns2, 190);
	ck_assert_uint_eq(e.v[i].old_ptr, 0x1000);
	ck_assert_uint_eq(e.v[i].ptr, 0x2000);
	ck_assert_uint_eq(e.v[i++].size, 4096);
	ck_assert_int_eq(e.v[i].type, EV_REALLOC);
	ck_assert_uint_eq(e.v[i].old_ptr, 0x2000);
	ck_assert_uint_eq(e.v[i].ptr, 0);
	ck_assert_uint_eq(e.v[i++].ns2, 200);
	ck_assert_int_eq(e.v[i].type, EV_MARK);
	ck_assert_uint_eq(e.v[i].ns, 210);
	ck_assert_str_eq(e.str[i++], "phase one");
	ck_assert_int_eq(e.v[i].type, EV_RSS);
	ck_assert_uint_eq(e.v[i].ns, 220);
	ck_assert_uint_eq(e.v[i++].size, 123456789);
	ck_assert_int_eq(e.v[i].type, EV_LOST);
	ck_assert_uint_eq(e.v[i++].size, 17);
	ck_assert_int_eq(e.v[i].type, EV_UNLOAD);
	ck_assert_uint_eq(e.v[i].ns, 230);
	ck_assert_uint_eq(e.v[i++].module, 0);
	ck_assert_int_eq(e.v[i].type, EV_EXIT);
	ck_assert_uint_eq(e.v[i].ns, 300);
	ck_assert_uint_eq(e.v[i].entry_ns, 100);
	ck_assert_uint_eq(e.v[i].addr, 0x401000);
	ck_assert_uint_eq(e.v[i++].depth, 0);
	ck_assert_uint_eq(e.n, i);

	/* totals: counted once, whatever the number of walks */
	ck_assert_uint_eq(t->ncalls, 1);
	ck_assert_uint_eq(t->nallocs, 2);
	ck_assert_uint_eq(t->nfrees, 1);
	ck_assert_uint_eq(t->nreallocs, 2);
	ck_assert_uint_eq(t->nlost, 17);
	ck_assert_uint_eq(t->nmarks, 1);
	ck_assert_str_eq(t->marks[0].label, "phase one");
	evs_free(&e);
	walk(t, WALK_MEMORY, -1, &e);
	ck_assert_uint_eq(e.n, 6);	/* 2 alloc, free, 2 realloc, rss */
	ck_assert_uint_eq(t->nallocs, 2);
	ck_assert_uint_eq(t->nmodules, 1);
	ck_assert_uint_eq(t->nmarks, 1);
	evs_free(&e);
	trace_close(t);
}
END_TEST

START_TEST(test_flags_select)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1);
	struct trace *t;
	struct evs e = { 0 };
	size_t i;

	tg_enter(a, 0x1000, 10);
	tg_alloc(a, 0, 1, 0x10, 0, 11);
	tg_mark(a, "m", 12);
	tg_exit(a, 20);
	tg_close(g);
	t = open_ok();
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.n, 2);
	evs_free(&e);
	walk(t, WALK_OTHER, -1, &e);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_int_eq(e.v[0].type, EV_MARK);
	evs_free(&e);
	walk(t, WALK_EXITS, -1, &e);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_int_eq(e.v[0].type, EV_EXIT);
	ck_assert_uint_eq(e.v[0].ns - e.v[0].entry_ns, 10);
	evs_free(&e);
	walk(t, 0, -1, &e);
	ck_assert_uint_eq(e.n, 0);
	walk(t, WALK_ALL, -1, &e);
	for (i = 1; i < e.n; i++)
		ck_assert_uint_ge(e.v[i].ns, e.v[i - 1].ns);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/* ---- calls: EXITS, unmatched exits, unclosed calls, ENTRY_AT, child time ---- */

START_TEST(test_calls_repair)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 7);
	struct trace *t;
	struct evs e = { 0 };

	tg_exit(a, 5);			/* nothing open: ignored and counted */
	tg_enter(a, 0xa0, 10);		/* main */
	tg_enter(a, 0xb0, 20);		/*   setjmp caller */
	tg_enter(a, 0xc0, 30);		/*     longjmp'd over */
	tg_enter(a, 0xd0, 40);
	tg_exits(a, 3, 50);		/* longjmp back to main: 3 calls closed */
	tg_exits(a, 5, 60);		/* more than open: closes main, 4 unmatched */
	tg_enter(a, 0xa0, 70);
	tg_enter(a, 0xb0, 80);
	tg_rss(a, 1, 95);		/* the thread's last record */
	tg_close(g);

	t = open_ok();
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.n, 12);	/* 6 entries, 6 exits */
	ck_assert_int_eq(e.v[4].type, EV_EXIT);
	ck_assert_uint_eq(e.v[4].addr, 0xd0);
	ck_assert_uint_eq(e.v[4].ns, 50);
	ck_assert_uint_eq(e.v[4].depth, 3);
	ck_assert_uint_eq(e.v[5].addr, 0xc0);
	ck_assert_uint_eq(e.v[6].addr, 0xb0);
	ck_assert_uint_eq(e.v[6].ns, 50);
	ck_assert_uint_eq(e.v[6].entry_ns, 20);
	ck_assert_uint_eq(e.v[6].child_ns, 20);	/* 0xc0: 30..50 (with 0xd0 inside) */
	ck_assert_uint_eq(e.v[7].addr, 0xa0);
	ck_assert_uint_eq(e.v[7].ns, 60);
	ck_assert_uint_eq(e.v[7].child_ns, 30);
	/* unclosed at the end: closed at the last record's time, innermost first */
	ck_assert_int_eq(e.v[10].type, EV_EXIT);
	ck_assert_uint_eq(e.v[10].addr, 0xb0);
	ck_assert_uint_eq(e.v[10].ns, 95);
	ck_assert_uint_eq(e.v[11].addr, 0xa0);
	ck_assert_uint_eq(e.v[11].ns, 95);
	ck_assert_uint_eq(e.v[11].depth, 0);
	ck_assert_uint_eq(trace_unmatched_exits(t), 5);
	ck_assert_uint_eq(t->threads[0].last_ns, 95);
	evs_free(&e);
	trace_close(t);
}
END_TEST

START_TEST(test_entry_at)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 7);
	uint32_t fa, fb;
	struct trace *t;
	struct evs e = { 0 };

	/* under PERFSHIM_MIN_DURATION: entries written at the exit of a long call */
	fa = tg_func(a, 0xa0);
	fb = tg_func(a, 0xb0);
	tg_rss(a, 1, 1000);		/* time base 1000 */
	tg_entry_at(a, fa, 100);
	tg_entry_at(a, fb, 400);
	tg_exit(a, 1500);		/* b: 400..1500; dt from 1000, not from 400 */
	tg_exit(a, 1600);
	tg_close(g);
	t = open_ok();
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.n, 4);
	ck_assert_uint_eq(e.v[0].ns, 100);
	ck_assert_uint_eq(e.v[0].depth, 0);
	ck_assert_uint_eq(e.v[1].ns, 400);
	ck_assert_uint_eq(e.v[1].depth, 1);
	ck_assert_uint_eq(e.v[2].ns, 1500);
	ck_assert_uint_eq(e.v[2].entry_ns, 400);
	ck_assert_uint_eq(e.v[3].ns, 1600);
	ck_assert_uint_eq(e.v[3].entry_ns, 100);
	ck_assert_uint_eq(e.v[3].child_ns, 1100);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/*
 * A fork child's trace (CHILD flag) re-opens the calls it inherited as ENTRY_ATs before its
 * start: main (entered at 100, the trace starts at 1000) is not a call of the child. Walks
 * leave it out (the child's own call is at depth 0) unless asked with WALK_INHERITED; the
 * totals do not count it. Without the CHILD flag the same record is an ordinary call.
 */
START_TEST(test_inherited)
{
	struct trace *t;
	struct evs e = { 0 };
	int child;

	for (child = 0; child < 2; child++) {
		struct tg *g = tg_open(path);
		struct tg_thread *a = tg_thread(g, 7);
		uint32_t fm;

		g->hdr.start_ticks = 1000;
		if (child)
			g->hdr.flags |= TRACE_F_CHILD;
		fm = tg_func(a, 0xa0);
		tg_rss(a, 1, 1000);
		tg_entry_at(a, fm, 100);
		tg_enter(a, 0xb0, 1100);
		tg_exit(a, 1200);
		tg_exit(a, 1300);
		tg_close(g);
		t = open_ok();
		walk(t, WALK_CALLS, -1, &e);
		ck_assert_uint_eq(e.n, child ? 2 : 4);
		ck_assert_uint_eq(t->ncalls, child ? 1 : 2);
		ck_assert_int_eq(e.v[0].type, EV_ENTRY);
		ck_assert_uint_eq(e.v[0].addr, child ? 0xb0 : 0xa0);
		ck_assert_uint_eq(e.v[0].depth, 0);
		ck_assert(!e.v[0].inherited);
		ck_assert_int_eq(e.v[1].type, child ? EV_EXIT : EV_ENTRY);
		ck_assert_uint_eq(e.v[1].depth, child ? 0 : 1);
		evs_free(&e);
		walk(t, WALK_CALLS | WALK_INHERITED, -1, &e);
		ck_assert_uint_eq(e.n, 4);
		ck_assert(e.v[0].inherited == child);
		ck_assert_uint_eq(e.v[0].ns, 0);	/* before the start: shown at the start */
		ck_assert_uint_eq(e.v[1].depth, 1);
		ck_assert(!e.v[1].inherited);
		ck_assert_int_eq(e.v[3].type, EV_EXIT);
		ck_assert(e.v[3].inherited == child);
		ck_assert_uint_eq(e.v[3].depth, 0);
		evs_free(&e);
		walk(t, WALK_EXITS, -1, &e);
		ck_assert_uint_eq(e.n, child ? 1 : 2);
		evs_free(&e);
		trace_close(t);
	}
}
END_TEST

START_TEST(test_recursion_nested)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 7);
	struct trace *t;
	struct evs e = { 0 };

	tg_enter(a, 0xf0, 0);
	tg_enter(a, 0xf0, 10);
	tg_enter(a, 0xe0, 20);
	tg_enter(a, 0xf0, 30);
	tg_exit(a, 40);
	tg_exit(a, 50);
	tg_exit(a, 60);
	tg_exit(a, 100);
	tg_close(g);
	t = open_ok();
	walk(t, WALK_EXITS, -1, &e);
	ck_assert_uint_eq(e.n, 4);
	ck_assert(e.v[0].nested);	/* f inside e inside f */
	ck_assert(!e.v[1].nested);	/* e */
	ck_assert(e.v[2].nested);	/* inner f */
	ck_assert(!e.v[3].nested);	/* outer f */
	evs_free(&e);
	trace_close(t);
}
END_TEST

/* ---- chunks: seq order, interleaving, tid reuse ---- */

START_TEST(test_seq_order)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100), *b = tg_thread(g, 200);
	struct tg_chunk *a0, *a1, *b0;
	struct trace *t;
	struct evs e = { 0 };
	size_t i;

	tg_enter(a, 0x10, 10);
	a0 = tg_take(a, 0);
	tg_enter(b, 0x20, 15);
	b0 = tg_take(b, 0);
	tg_exit(a, 30);
	a1 = tg_take(a, TRACE_CHUNK_LAST);
	tg_exit(b, 40);
	/* file order: a1, b0, a0, then b's last chunk */
	tg_put(g, a1);
	tg_put(g, b0);
	tg_put(g, a0);
	tg_close(g);

	t = open_ok();
	ck_assert_uint_eq(t->nthreads, 2);
	ck_assert_uint_eq(t->threads[0].tid, 100);	/* first appearance in the file */
	ck_assert_uint_eq(t->threads[0].nchunks, 2);
	ck_assert(t->threads[0].complete);
	ck_assert(t->threads[1].complete);
	walk(t, WALK_CALLS, 0, &e);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_int_eq(e.v[0].type, EV_ENTRY);
	ck_assert_uint_eq(e.v[0].ns, 10);
	ck_assert_uint_eq(e.v[1].ns, 30);
	evs_free(&e);
	walk(t, WALK_CALLS | WALK_MERGED, -1, &e);
	ck_assert_uint_eq(e.n, 4);
	for (i = 1; i < e.n; i++)
		ck_assert_uint_ge(e.v[i].ns, e.v[i - 1].ns);
	ck_assert_uint_eq(e.v[1].tid, 200);
	evs_free(&e);
	trace_close(t);
}
END_TEST

START_TEST(test_tid_reuse)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 55);
	struct trace *t;

	tg_enter(a, 0x10, 10);
	tg_exit(a, 20);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
	/* a second thread with the same tid: append its chunks with another generator */
	{
		struct tg *g2 = tg_open("/tmp/test-trace-read-reuse.bin");
		struct tg_thread *b = tg_thread(g2, 55);
		uint64_t offs[4], size;
		unsigned n;
		uint8_t *buf;
		int fd;

		tg_enter(b, 0x30, 50);
		tg_exit(b, 70);
		tg_close(g2);
		n = tg_chunk_offsets("/tmp/test-trace-read-reuse.bin", offs, 4);
		ck_assert_uint_eq(n, 1);
		size = tg_file_size("/tmp/test-trace-read-reuse.bin") - offs[0];
		buf = malloc(size);
		fd = open("/tmp/test-trace-read-reuse.bin", O_RDONLY);
		ck_assert_int_eq(pread(fd, buf, size, (off_t)offs[0]), (ssize_t)size);
		close(fd);
		tg_write_at(path, tg_file_size(path), buf, size);
		free(buf);
		unlink("/tmp/test-trace-read-reuse.bin");
	}
	t = open_ok();
	ck_assert_uint_eq(t->nthreads, 2);
	ck_assert_uint_eq(t->threads[0].tid, 55);
	ck_assert_uint_eq(t->threads[1].tid, 55);
	ck_assert_uint_eq(t->threads[1].first_ns, 0);
	trace_close(t);
}
END_TEST

START_TEST(test_many_chunks)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 9);
	struct trace *t;
	struct evs e = { 0 };
	uint64_t i;

	g->chunk_limit = 64;		/* state (fids, bases) carries across chunks */
	for (i = 0; i < 1000; i++) {
		tg_enter(a, 0x1000 + (i % 7) * 16, 10 * i);
		tg_alloc(a, 0, i, 0x100000 + i * 32, 0, 10 * i + 1);
		tg_exit(a, 10 * i + 5);
	}
	tg_close(g);
	t = open_ok();
	ck_assert_uint_gt(t->threads[0].nchunks, 50);
	walk(t, WALK_ALL, -1, &e);
	ck_assert_uint_eq(e.n, 3000);
	for (i = 0; i < 1000; i++) {
		ck_assert_uint_eq(e.v[3 * i].addr, 0x1000 + (i % 7) * 16);
		ck_assert_uint_eq(e.v[3 * i].ns, 10 * i);
		ck_assert_uint_eq(e.v[3 * i + 1].ptr, 0x100000 + i * 32);
		ck_assert_uint_eq(e.v[3 * i + 1].size, i);
		ck_assert_uint_eq(e.v[3 * i + 2].ns, 10 * i + 5);
	}
	ck_assert_uint_eq(t->nfuncs, 7);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/* ---- damage ---- */

/* a 3-chunk thread 1 and a 1-chunk thread 2; @offs gets the chunk offsets */
static void three_chunks(uint64_t *offs)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1), *b = tg_thread(g, 2);

	tg_enter(a, 0x10, 100);
	offs[0] = tg_flush(a, 0);
	tg_exit(a, 200);
	tg_enter(a, 0x10, 300);
	offs[1] = tg_flush(a, 0);
	tg_exit(a, 400);
	tg_enter(b, 0x20, 150);
	tg_exit(b, 250);
	offs[2] = tg_flush(b, TRACE_CHUNK_LAST);
	offs[3] = tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

START_TEST(test_damaged_payload)
{
	uint64_t offs[4];
	struct trace *t;
	struct evs e = { 0 };

	three_chunks(offs);
	/* flip a byte in thread 1's second chunk payload */
	tg_flip(path, offs[1] + sizeof(struct trace_chunk_header), 0x04);
	t = open_ok();
	walk(t, WALK_CALLS, 0, &e);
	/* chunk 0 only: entry at 100, its exit at 200 lost; closed at the last time */
	ck_assert_uint_eq(e.n, 2);
	ck_assert_uint_eq(e.v[0].ns, 100);
	ck_assert(t->threads[0].damaged);
	ck_assert_uint_eq(t->damaged_chunks, 1);
	evs_free(&e);
	walk(t, WALK_CALLS, 1, &e);
	ck_assert_uint_eq(e.n, 2);	/* thread 2 untouched */
	ck_assert(!t->threads[1].damaged);
	evs_free(&e);
	/* a second walk: same result, no second count */
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.n, 4);
	ck_assert_uint_eq(t->damaged_chunks, 1);
	evs_free(&e);
	trace_close(t);
}
END_TEST

START_TEST(test_damaged_header)
{
	uint64_t offs[4];
	struct trace *t;
	struct evs e = { 0 };

	three_chunks(offs);
	/* thread 1's second chunk header: its seq field; the reader resyncs past it */
	tg_flip(path, offs[1] + 8, 0x01);
	t = open_ok();
	ck_assert_uint_eq(t->damaged_chunks, 1);
	ck_assert_uint_eq(t->threads[0].nchunks, 1);	/* seq 1 missing: 2 is unusable */
	ck_assert(t->threads[0].damaged);
	ck_assert_uint_eq(t->threads[1].nchunks, 1);
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.n, 4);
	evs_free(&e);
	trace_close(t);
}
END_TEST

START_TEST(test_zeroed_range)
{
	uint64_t offs[4];
	struct trace *t;

	three_chunks(offs);
	tg_zero(path, offs[1], offs[2] - offs[1] + 10);	/* a whole chunk and a bit more */
	t = open_ok();
	ck_assert_uint_eq(t->nthreads, 1);		/* thread 2's only chunk is gone */
	ck_assert_uint_eq(t->threads[0].nchunks, 1);
	ck_assert_uint_ge(t->damaged_bytes, offs[3] - offs[1]);
	trace_close(t);
}
END_TEST

START_TEST(test_cut_file)
{
	uint64_t offs[4];
	struct trace *t;
	struct evs e = { 0 };

	three_chunks(offs);
	tg_truncate(path, tg_file_size(path) - 1);	/* inside the last chunk */
	t = open_ok();
	ck_assert(t->truncated);
	ck_assert_uint_eq(t->threads[0].nchunks, 2);
	ck_assert(!t->threads[0].complete);
	walk(t, WALK_CALLS, 0, &e);
	ck_assert_uint_eq(e.n, 4);
	ck_assert_uint_eq(e.v[3].ns, 300);	/* the open call is closed at its last time */
	evs_free(&e);
	trace_close(t);

	/* cut inside a chunk header */
	tg_truncate(path, offs[3] + 10);
	t = open_ok();
	ck_assert(t->truncated);
	trace_close(t);
	/* just the header: a valid, empty trace */
	tg_truncate(path, sizeof(struct trace_file_header));
	t = open_ok();
	ck_assert_uint_eq(t->nthreads, 0);
	walk(t, WALK_ALL, -1, &e);
	ck_assert_uint_eq(e.n, 0);
	trace_close(t);
}
END_TEST

START_TEST(test_malformed_record)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 3);
	static const uint8_t bad_op[] = { 0x7f };		/* op 31: unknown */
	struct trace *t;
	struct evs e = { 0 };

	tg_enter(a, 0x10, 10);
	tg_raw(a, bad_op, 1);
	tg_exit(a, 20);
	tg_close(g);
	t = open_ok();
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_uint_eq(e.v[1].ns, 10);
	ck_assert(t->threads[0].damaged);
	evs_free(&e);
	trace_close(t);
}
END_TEST

START_TEST(test_bad_ids)
{
	static const uint8_t *cases[] = {
		(const uint8_t *)"\x05\x01",		/* ENTRY fid 1, never defined */
		(const uint8_t *)"\x13\x00\x01\x00\x05\x01",	/* ALLOC node 5 */
		(const uint8_t *)"\x0b\x03\x02",	/* NODE_RA parent 3 */
		(const uint8_t *)"\x1f\x05",		/* ENTRY_AT fid 5 */
		(const uint8_t *)"\x23\x05",		/* MARK: string runs past the end */
		(const uint8_t *)"\x13\x0c\x01\x00\x00\x01", /* ALLOC kind 12 */
	};
	static const size_t lens[] = { 2, 6, 3, 2, 2, 6 };
	size_t k;

	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct tg *g = tg_open(path);
		struct tg_thread *a = tg_thread(g, 3);
		struct trace *t;
		struct evs e = { 0 };

		tg_alloc(a, 0, 1, 0x10, 0, 5);
		tg_raw(a, cases[k], lens[k]);
		tg_flush(a, 0);			/* the bad record ends its chunk */
		tg_alloc(a, 0, 1, 0x20, 0, 6);
		tg_close(g);
		t = open_ok();
		walk(t, WALK_ALL, -1, &e);
		ck_assert_msg(e.n == 1, "case %zu: %zu events", k, e.n);
		ck_assert(t->threads[0].damaged);
		evs_free(&e);
		trace_close(t);
	}
}
END_TEST

/* ---- the file header ---- */

static int open_fails(void)
{
	struct trace *t = (struct trace *)1;
	int rc = trace_open(path, &t);

	ck_assert_ptr_null(t);
	return rc;
}

static void bad_endian(struct trace_file_header *h) { h->endian = 0x04030201; }
static void bad_size(struct trace_file_header *h) { h->header_size = 100; }
static void bad_chunk(struct trace_file_header *h) { h->max_chunk = 0; }
static void bad_pid(struct trace_file_header *h) { h->pid ^= 1; }

START_TEST(test_header_checks)
{
	uint64_t offs[4];

	three_chunks(offs);
	tg_set_version(path, TRACE_VERSION + 1);
	ck_assert_int_eq(open_fails(), -1);
	tg_set_version(path, 0);
	ck_assert_int_eq(open_fails(), -1);
	tg_set_version(path, TRACE_VERSION);
	trace_close(open_ok());
	tg_patch_header(path, bad_endian, false);
	ck_assert_int_eq(open_fails(), -1);
	three_chunks(offs);
	tg_patch_header(path, bad_size, false);
	ck_assert_int_eq(open_fails(), -1);
	three_chunks(offs);
	tg_patch_header(path, bad_chunk, false);
	ck_assert_int_eq(open_fails(), -1);
	three_chunks(offs);
	tg_patch_header(path, bad_pid, true);		/* checksum no longer matches */
	ck_assert_int_eq(open_fails(), -1);
	tg_write_file(path, "", 0);
	ck_assert_int_eq(open_fails(), -1);
	tg_write_file(path, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0", 16);
	ck_assert_int_eq(open_fails(), -1);
	tg_write_file(path, "PERFSHIM", 8);
	ck_assert_int_eq(open_fails(), -1);
	three_chunks(offs);
	tg_truncate(path, 40);
	ck_assert_int_eq(open_fails(), -1);
}
END_TEST

/* ---- clock ---- */

START_TEST(test_clock_tsc)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1);
	struct trace *t;
	struct evs e = { 0 };

	/* 2.5 ticks per ns; the header's rough rate says 2.4 GHz; the pairs decide */
	g->hdr.flags |= TRACE_F_TSC;
	g->hdr.start_ticks = 1000000;
	g->hdr.tick_hz = 2400000000ULL;
	g->ns_per_tick = 0.4;
	tg_enter(a, 0x10, 1000000 + 2500);
	tg_exit(a, 1000000 + 25000000000ULL);		/* 10 s later */
	tg_close(g);
	t = open_ok();
	ck_assert(t->ns_per_tick > 0.3999999 && t->ns_per_tick < 0.4000001);
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.v[0].ns, 1000);
	ck_assert(e.v[1].ns >= 9999999990ULL && e.v[1].ns <= 10000000010ULL);
	evs_free(&e);
	trace_close(t);

	/* a run too short for a fit: the header's rate */
	g = tg_open(path);
	a = tg_thread(g, 1);
	g->hdr.flags |= TRACE_F_TSC;
	g->hdr.tick_hz = 2000000000ULL;
	g->ns_per_tick = 0.5;
	tg_enter(a, 0x10, 2000);
	tg_exit(a, 4000);
	tg_close(g);
	t = open_ok();
	ck_assert(t->ns_per_tick == 0.5);
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.v[0].ns, 1000);
	ck_assert_uint_eq(e.v[1].ns, 2000);
	evs_free(&e);
	trace_close(t);
}
END_TEST

START_TEST(test_clock_ns)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1);
	struct trace *t;
	struct evs e = { 0 };

	g->hdr.start_ticks = 5000;
	tg_enter(a, 0x10, 5000 + 123456789012ULL);
	tg_exit(a, 5000 + 123456789013ULL);
	tg_close(g);
	t = open_ok();
	ck_assert(t->ns_per_tick == 1.0);
	walk(t, WALK_CALLS, -1, &e);
	ck_assert_uint_eq(e.v[0].ns, 123456789012ULL);
	ck_assert_uint_eq(e.v[1].ns, 123456789013ULL);
	/* from the thread's start (its first chunk's base: the trace start) to the exit */
	ck_assert_uint_eq(t->duration_ns, 123456789013ULL);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/* ---- stacks ---- */

START_TEST(test_stacks)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1), *b = tg_thread(g, 2);
	static const uint64_t s1[] = { 0x111, 0x222, 0x333 }, s2[] = { 0x444, 0x222, 0x333 };
	uint64_t deep[10];
	struct trace *t;
	struct evs e = { 0 };
	struct trace_stack st;
	uint32_t i;

	g->hdr.stack_depth = 4;
	for (i = 0; i < 10; i++)
		deep[i] = 0x1000 + i;
	/* b defines its nodes in another order: the global ids still match */
	tg_alloc(b, 0, 1, 0x10, tg_stack(b, false, s2, 3), 1);
	tg_alloc(b, 0, 1, 0x20, tg_stack(b, false, s1, 3), 2);
	tg_alloc(a, 0, 1, 0x30, tg_stack(a, false, s1, 3), 3);
	tg_alloc(a, 0, 1, 0x40, tg_stack(a, false, s2, 3), 4);
	tg_alloc(a, 0, 1, 0x50, tg_stack(a, true, s1, 3), 5);	/* return addresses differ */
	tg_alloc(a, 0, 1, 0x60, tg_stack(a, false, deep, 10), 6);
	tg_close(g);
	t = open_ok();
	walk(t, WALK_MEMORY, -1, &e);
	ck_assert_uint_eq(e.n, 6);
	/* thread a first in the file: a's events are e.v[0..4) */
	ck_assert_uint_eq(e.v[0].stack, e.v[5].stack);	/* s1 */
	ck_assert_uint_eq(e.v[1].stack, e.v[4].stack);	/* s2 */
	ck_assert_uint_ne(e.v[0].stack, e.v[1].stack);
	ck_assert_uint_ne(e.v[2].stack, e.v[0].stack);
	ck_assert_uint_eq(trace_stack_parent(t, e.v[0].stack), trace_stack_parent(t, e.v[1].stack));
	st = trace_stack_get(t, e.v[2].stack);
	ck_assert(st.frames[0].is_ra);
	/* 10 frames cut to the innermost 4 */
	st = trace_stack_get(t, e.v[3].stack);
	ck_assert_uint_eq(st.nframes, 4);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(st.frames[i].ip, 0x1000 + i);
	ck_assert_uint_eq(trace_stack_get(t, 0).nframes, 0);
	ck_assert_uint_eq(trace_stack_get(t, 99999).nframes, 0);
	/*
	 * s2: 3 stacks, s1 shares two frames: 1, s1 as return addresses: 3; the deep chain:
	 * its 4 outermost nodes, then each of the 6 deeper nodes is the window of its 4
	 * innermost frames, interned from its outermost frame: 4 new stacks each
	 */
	ck_assert_uint_eq(trace_nstacks(t), 3 + 1 + 3 + 4 + 6 * 4);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/*
 * The shadow-stack caller rule (trace-read.c, drop_caller): a return address under function
 * entries is dropped when it lies inside one of them (same module, at or above the entry, no
 * known entry between), kept otherwise.
 */
static void ck_frames(struct trace *t, uint32_t id, const uint64_t *ips, const bool *ra,
		      uint32_t n)
{
	struct trace_stack st = trace_stack_get(t, id);
	uint32_t i;

	ck_assert_uint_eq(st.nframes, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(st.frames[i].ip, ips[i]);
		ck_assert_int_eq(st.frames[i].is_ra, ra[i]);
	}
}

enum { MAIN = 0x401000, F = 0x401100, G = 0x401200, H = 0x401400, LIBC = 0x7f0000001234 };

START_TEST(test_shadow_caller)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1), *b = tg_thread(g, 2);
	static const bool R1[] = { false }, R2[] = { true, false }, R3[] = { true, false, false },
			  F2[] = { false, false };
	uint32_t nm, nf, nh, n[8], i;
	struct trace *t;
	struct evs e = { 0 };

	tg_module(a, 0x400000, 0x400000, 0x480000, "\x01", 1, "/prog", 1);
	tg_module(a, 0x7f0000000000, 0x7f0000000000, 0x7f0000200000, "\x02", 1, "/libc.so", 2);
	tg_enter(a, MAIN, 10);
	tg_enter(a, F, 11);
	tg_exit(a, 12);
	tg_enter(a, G, 13);
	tg_exit(a, 14);
	/* h is known only from another thread's NODE_FN (no FUNC record anywhere) */
	nh = tg_node_fn(b, 0, H);
	n[7] = tg_node_ra(b, nh, H + 0x10);
	nm = tg_node_fn(a, 0, MAIN);
	nf = tg_node_fn(a, nm, F);
	n[0] = tg_node_ra(a, nm, MAIN + 0x50);	/* inside main: dropped */
	n[1] = tg_node_ra(a, nf, LIBC);		/* libc's strdup under f: kept */
	n[2] = tg_node_ra(a, nf, G + 0x30);	/* g's entry lies between f and it: kept */
	n[3] = tg_node_ra(a, nm, H + 0x10);	/* h (a NODE_FN) between main and it: kept */
	n[4] = tg_node_ra(a, nf, MAIN + 0x60);	/* f inlined into main: in main, dropped */
	n[5] = tg_node_ra(a, nm, 0x900000);	/* in no recorded module: kept */
	n[6] = tg_node_ra(a, nf, F);		/* ra - 1 below f's entry, in main: dropped */
	for (i = 0; i < 7; i++)
		tg_alloc(a, 0, 1, 0x1000 + i * 16, n[i], 20 + i);
	tg_alloc(b, 0, 1, 0x2000, n[7], 30);
	tg_close(g);

	t = open_ok();
	walk(t, WALK_MEMORY, -1, &e);
	ck_assert_uint_eq(e.n, 8);
	ck_frames(t, e.v[0].stack, (const uint64_t[]){ MAIN }, R1, 1);
	ck_frames(t, e.v[1].stack, (const uint64_t[]){ LIBC, F, MAIN }, R3, 3);
	ck_frames(t, e.v[2].stack, (const uint64_t[]){ G + 0x30, F, MAIN }, R3, 3);
	ck_frames(t, e.v[3].stack, (const uint64_t[]){ H + 0x10, MAIN }, R2, 2);
	ck_frames(t, e.v[4].stack, (const uint64_t[]){ F, MAIN }, F2, 2);
	ck_frames(t, e.v[5].stack, (const uint64_t[]){ 0x900000, MAIN }, R2, 2);
	ck_frames(t, e.v[6].stack, (const uint64_t[]){ F, MAIN }, F2, 2);
	/* thread b: the return address inside h, its only frame */
	ck_frames(t, e.v[7].stack, (const uint64_t[]){ H }, R1, 1);
	evs_free(&e);
	trace_close(t);

	/* stack_depth 2: a kept caller frame counts, a dropped one leaves 2 function frames */
	g = tg_open(path);
	g->hdr.stack_depth = 2;
	a = tg_thread(g, 1);
	tg_module(a, 0x400000, 0x400000, 0x480000, "\x01", 1, "/prog", 1);
	tg_enter(a, MAIN, 10);
	tg_enter(a, F, 11);
	nm = tg_node_fn(a, 0, MAIN);
	nf = tg_node_fn(a, nm, F);
	tg_alloc(a, 0, 1, 0x1000, tg_node_ra(a, nf, F + 0x20), 20);	/* dropped */
	tg_alloc(a, 0, 1, 0x1010, tg_node_ra(a, nf, LIBC), 21);	/* kept, cut */
	tg_close(g);
	t = open_ok();
	memset(&e, 0, sizeof(e));
	walk(t, WALK_MEMORY, -1, &e);
	ck_assert_uint_eq(e.n, 2);
	ck_frames(t, e.v[0].stack, (const uint64_t[]){ F, MAIN }, F2, 2);
	ck_frames(t, e.v[1].stack, (const uint64_t[]){ LIBC, F }, R2, 2);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/* ---- merged order and marks ---- */

START_TEST(test_merged_realloc)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1), *b = tg_thread(g, 2);
	struct trace *t;
	struct evs e = { 0 };
	uint64_t ns;

	/* a frees 0x100 inside its realloc at 10; b gets 0x100 at 12; a's new block at 15 */
	tg_realloc(a, 0x100, 0x200, 64, 0, 10, 15);
	tg_alloc(b, 0, 8, 0x100, 0, 12);
	tg_mark(b, "half", 13);
	tg_free(a, 0x200, 20);
	tg_close(g);
	t = open_ok();
	walk(t, WALK_MEMORY | WALK_MERGED, -1, &e);
	ck_assert_uint_eq(e.n, 3);
	ck_assert_int_eq(e.v[0].type, EV_ALLOC);	/* 12 */
	ck_assert_int_eq(e.v[1].type, EV_REALLOC);	/* keyed by ns2 = 15 */
	ck_assert_int_eq(e.v[2].type, EV_FREE);
	evs_free(&e);
	ck_assert_int_eq(trace_find_mark(t, "half", &ns), 0);
	ck_assert_uint_eq(ns, 13);
	ck_assert_int_eq(trace_find_mark(t, "start", &ns), 0);
	ck_assert_uint_eq(ns, 0);
	ck_assert_int_eq(trace_find_mark(t, "end", &ns), 0);
	ck_assert_uint_eq(ns, 20);
	ck_assert_int_eq(trace_find_mark(t, "nope", &ns), -1);
	trace_close(t);
}
END_TEST

/*
 * The merged order is the clock's, not the rounded ns: at 0.25 ns per tick, thread 2 mallocs
 * at tick 4000 and thread 1 (first in the file) frees that block at tick 4001; both are
 * 1000 ns, and the allocation must still come first.
 */
START_TEST(test_merged_ticks)
{
	struct tg *g = tg_open(path);
	struct tg_thread *b = tg_thread(g, 1), *a = tg_thread(g, 2);
	struct trace *t;
	struct evs e = { 0 };

	g->hdr.flags |= TRACE_F_TSC;
	g->hdr.tick_hz = 4000000000ULL;
	g->ns_per_tick = 0.25;
	tg_free(b, 0x100, 4001);
	tg_flush(b, TRACE_CHUNK_LAST);
	tg_alloc(a, 0, 8, 0x100, 0, 4000);
	tg_close(g);
	t = open_ok();
	walk(t, WALK_MEMORY | WALK_MERGED, -1, &e);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_int_eq(e.v[0].type, EV_ALLOC);
	ck_assert_int_eq(e.v[1].type, EV_FREE);
	ck_assert_uint_eq(e.v[0].ns, 1000);
	ck_assert_uint_eq(e.v[1].ns, 1000);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/*
 * An address means the module loaded there when its event happened. Thread 1 loads /a at
 * 0x7f00 (build-id 1), calls fa (+0x10) and allocates from it, unloads it, loads /b (build-id
 * 2) at the same place and calls and allocates from b's code at that very address: new FUNC
 * and NODE records, as the recorder writes after a dlclose. Thread 2 (first in the file)
 * defined its fid of that address while /a was there and keeps using it after /b came:
 * a stale id, named by time. Thread 1 then loads /a again elsewhere: the same function.
 * A call between /a's unload and /b's MODULE record (a constructor) is /b's.
 */
START_TEST(test_module_time)
{
	struct tg *g = tg_open(path);
	struct tg_thread *b = tg_thread(g, 2), *a = tg_thread(g, 1);
	const uint64_t lo = 0x7f0000000000ULL, hi = lo + 0x4000, fn = lo + 0x10;
	const uint64_t lo2 = 0x7e0000000000ULL;
	uint32_t fb, ids[8] = { 0 }, mods[8] = { 0 };
	struct trace *t;
	struct evs e = { 0 };
	size_t i, k = 0, nm = 0;

	fb = tg_func(b, fn);
	tg_entry(b, fb, 150);			/* /a's */
	tg_exit(b, 160);
	tg_entry(b, fb, 450);			/* /b's */
	tg_exit(b, 460);
	tg_flush(b, TRACE_CHUNK_LAST);
	tg_module(a, lo, lo, hi, "\x01", 1, "/a", 100);
	tg_enter(a, fn, 110);
	tg_alloc(a, 0, 8, 0x1000, tg_node_fn(a, 0, fn), 120);
	tg_exit(a, 130);
	tg_unload(a, lo, 200);
	tg_func(a, fn);				/* fid 1: a new one after the unload */
	tg_entry(a, 1, 250);			/* before /b's MODULE record: /b's constructor */
	tg_exit(a, 260);
	tg_module(a, lo, lo, hi, "\x02", 1, "/b", 300);
	tg_entry(a, 1, 310);
	tg_alloc(a, 0, 8, 0x2000, tg_node_fn(a, 0, fn), 320);
	tg_exit(a, 330);
	tg_unload(a, lo, 400);
	tg_module(a, lo2, lo2, lo2 + 0x4000, "\x01", 1, "/a", 500);
	tg_enter(a, lo2 + 0x10, 510);
	tg_alloc(a, 0, 8, 0x3000, tg_node_fn(a, 0, lo2 + 0x10), 520);
	tg_exit(a, 530);
	tg_close(g);

	t = open_ok();
	/* the module map is complete before any walk */
	ck_assert_uint_eq(t->nmodules, 3);
	ck_assert_str_eq(t->modules[0].path, "/a");
	ck_assert_str_eq(t->modules[1].path, "/b");
	ck_assert_uint_eq(t->modules[0].unload_ns, 200);
	ck_assert_uint_eq(t->modules[1].unload_ns, 400);
	ck_assert_uint_eq(trace_module_at(t, fn, 150), 0);
	ck_assert_uint_eq(trace_module_at(t, fn, 250), 1);	/* after the unload: the next */
	ck_assert_uint_eq(trace_module_at(t, fn, 450), 1);	/* after the last: that one */
	walk(t, WALK_ALL, -1, &e);
	for (i = 0; i < e.n; i++) {
		if (e.v[i].type == EV_ENTRY && k < 8)
			ids[k++] = e.v[i].func;
		if (e.v[i].type == EV_MODULE && nm < 8)
			mods[nm++] = e.v[i].module;
		if (e.v[i].type == EV_ALLOC) {
			struct trace_stack st = trace_stack_get(t, e.v[i].stack);

			ck_assert_uint_eq(st.nframes, 1);
			ck_assert_uint_eq(st.frames[0].module, e.v[i].ptr == 0x2000 ? 1 : 0);
		}
	}
	/* thread 2: /a's, /b's; thread 1: /a's, /b's (constructor), /b's, /a's elsewhere */
	ck_assert_uint_eq(k, 6);
	ck_assert_uint_eq(ids[0], ids[2]);
	ck_assert_uint_eq(ids[0], ids[5]);
	ck_assert_uint_eq(ids[1], ids[3]);
	ck_assert_uint_eq(ids[1], ids[4]);
	ck_assert_uint_ne(ids[0], ids[1]);
	ck_assert_uint_eq(t->func_module[ids[0]], 0);
	ck_assert_uint_eq(t->func_module[ids[1]], 1);
	ck_assert_uint_eq(t->nfuncs, 2);
	/* MODULE events name the module each record made */
	ck_assert_uint_eq(nm, 3);
	ck_assert_uint_eq(mods[0], 0);
	ck_assert_uint_eq(mods[1], 1);
	ck_assert_uint_eq(mods[2], 2);
	evs_free(&e);
	trace_close(t);
}
END_TEST

/*
 * Ranges that overlap without being equal: /x [0x1000, 0x5000) from 10 to 20, /y
 * [0x2000, 0x8000) from 30 to 40, /x again from 50 on. Each address and time gets the module
 * loaded there then, else the next one loaded there, else the last one.
 */
START_TEST(test_module_ranges)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1);
	struct trace *t;
	static const struct { uint64_t addr, ns; uint32_t want; } q[] = {
		{ 0x3000, 15, 0 }, { 0x3000, 25, 1 }, { 0x3000, 35, 1 }, { 0x3000, 45, 2 },
		{ 0x3000, 60, 2 }, { 0x6000, 15, 1 }, { 0x6000, 60, 1 }, { 0x1500, 25, 2 },
		{ 0x1500, 5, 0 }, { 0x9000, 35, TRACE_NO_MODULE }, { 0x800, 35, TRACE_NO_MODULE },
	};
	size_t i;

	tg_module(a, 0x1000, 0x1000, 0x5000, "\x01", 1, "/x", 10);
	tg_unload(a, 0x1000, 20);
	tg_module(a, 0x2000, 0x2000, 0x8000, "\x02", 1, "/y", 30);
	tg_unload(a, 0x2000, 40);
	tg_module(a, 0x1000, 0x1000, 0x5000, "\x01", 1, "/x", 50);
	tg_close(g);
	t = open_ok();
	ck_assert_uint_eq(t->nmodules, 3);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		ck_assert_msg(trace_module_at(t, q[i].addr, q[i].ns) == q[i].want,
			      "0x%llx at %llu: module %u, not %u", (unsigned long long)q[i].addr,
			      (unsigned long long)q[i].ns, trace_module_at(t, q[i].addr, q[i].ns),
			      q[i].want);
	trace_close(t);
}
END_TEST

/* tid 0: marks set from a signal handler, one chunk each; not a thread */
START_TEST(test_signal_marks)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10), *z = tg_thread(g, 0);
	struct tg_chunk *m0, *m1;
	struct trace *t;
	struct evs e = { 0 };
	uint64_t ns;

	tg_enter(a, 0x10, 100);
	tg_mark(z, "signal-12", 150);
	m0 = tg_take(z, 0);
	tg_mark(z, "signal-12b", 250);
	m1 = tg_take(z, 0);
	tg_put(g, m1);			/* handlers in two threads: written out of seq order */
	tg_flush(a, 0);
	tg_put(g, m0);
	tg_exit(a, 300);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close_raw(g);		/* tid 0 never writes a LAST chunk */

	t = open_ok();
	ck_assert_uint_eq(t->nthreads, 1);
	ck_assert_uint_eq(t->threads[0].tid, 10);
	walk(t, WALK_OTHER | WALK_CALLS | WALK_MERGED, -1, &e);
	ck_assert_uint_eq(e.n, 4);
	ck_assert_int_eq(e.v[1].type, EV_MARK);
	ck_assert_uint_eq(e.v[1].tid, 0);
	ck_assert_uint_eq(e.v[1].ns, 150);
	ck_assert_str_eq(e.str[2], "signal-12b");
	ck_assert_uint_eq(e.v[2].ns, 250);
	evs_free(&e);
	ck_assert_int_eq(trace_find_mark(t, "signal-12b", &ns), 0);
	ck_assert_uint_eq(ns, 250);
	ck_assert_uint_eq(t->nmarks, 2);
	walk(t, WALK_OTHER, 0, &e);	/* thread 0 is tid 10: no marks of its own */
	ck_assert_uint_eq(e.n, 0);
	trace_close(t);
}
END_TEST

static int stop_at_3(const struct trace_event *ev, void *ctx)
{
	return ++*(int *)ctx == 3 ? 42 : 0;
}

START_TEST(test_stop_walk)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 1);
	struct trace *t;
	int n = 0;
	uint64_t i;

	for (i = 0; i < 10; i++)
		tg_alloc(a, 0, 1, 0x10 * i, 0, i);
	tg_close(g);
	t = open_ok();
	ck_assert_int_eq(trace_walk(t, WALK_MEMORY, -1, stop_at_3, &n), 42);
	ck_assert_int_eq(n, 3);
	n = 0;
	ck_assert_int_eq(trace_walk(t, WALK_MEMORY | WALK_MERGED, -1, stop_at_3, &n), 42);
	n = -100;
	ck_assert_int_eq(trace_walk(t, WALK_MEMORY, -1, stop_at_3, &n), 0);
	ck_assert_int_eq(n, -90);
	ck_assert_uint_eq(t->nallocs, 10);
	trace_close(t);
}
END_TEST

/* ---- deterministic mutations (the fuzz harness's loop for `make check`) ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* a seed with every record kind, 3 threads, many small chunks */
static uint8_t *seed_trace(size_t *size)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th[3];
	static const uint64_t st[] = { 0x401010, 0x402020, 0x403030, 0x404040, 0x405050, 0x406060 };
	uint8_t *buf;
	FILE *f;
	uint64_t i;
	int k;

	g->chunk_limit = 120;
	g->hdr.stack_depth = 3;
	for (k = 0; k < 3; k++)
		th[k] = tg_thread(g, 10 + (uint32_t)k);
	tg_process(th[0], 1, 0, "/bin/x", "x\0y\0", 4);
	tg_module(th[0], 0x400000, 0x400000, 0x500000, "\1\2", 2, "/bin/x", 1);
	for (i = 0; i < 60; i++) {
		struct tg_thread *t = th[i % 3];
		uint64_t now = 10 + i * 100;
		uint32_t node = tg_stack(t, i & 1, st + (i % 2), 2 + (uint32_t)(i % 3));

		tg_enter(t, 0x401000 + (i % 5) * 0x10, now);
		tg_alloc(t, (unsigned)(i % TRACE_ALLOC_KIND_MAX), i * 8, 0x10000 + i * 64, node,
			 now + 1);
		if (i % 4 == 0)
			tg_realloc(t, 0x10000 + i * 64, 0x90000 + i * 64, i, node, now + 2, now + 3);
		if (i % 7 == 0)
			tg_mark(t, "m", now + 4);
		if (i % 11 == 0)
			tg_entry_at(t, tg_func(t, 0x409000), now);
		if (i % 9 == 0)
			tg_exits(t, 2, now + 5);
		else
			tg_exit(t, now + 5);
		tg_free(t, 0x10000 + i * 64, now + 6);
		if (i % 13 == 0) {
			tg_rss(t, i << 20, now + 7);
			tg_lost(t, i);
			tg_unload(t, 0x400000, now + 8);
		}
	}
	tg_thread_name(th[1], "worker");
	tg_close(g);
	*size = tg_file_size(path);
	buf = malloc(*size);
	f = fopen(path, "rb");
	ck_assert_int_eq(fread(buf, 1, *size, f), *size);
	fclose(f);
	return buf;
}

/* offsets of the chunk headers of a valid trace in memory */
static unsigned chunk_offs(const uint8_t *b, size_t size, size_t *offs, unsigned max)
{
	size_t off = sizeof(struct trace_file_header);
	unsigned n = 0;

	while (off + sizeof(struct trace_chunk_header) <= size && n < max) {
		struct trace_chunk_header h;

		memcpy(&h, b + off, sizeof(h));
		offs[n++] = off;
		off += sizeof(h) + h.size;
	}
	return n;
}

static void fix_chunk(uint8_t *b, size_t off, bool payload)
{
	struct trace_chunk_header h;

	memcpy(&h, b + off, sizeof(h));
	if (payload)
		h.payload_checksum = trace_checksum(b + off + sizeof(h), h.size);
	h.header_checksum = trace_checksum(&h, TRACE_CHUNK_HEADER_CKLEN);
	memcpy(b + off, &h, sizeof(h));
}

static size_t mutate(uint8_t *b, size_t size, size_t cap, const size_t *offs, unsigned nch)
{
	unsigned kind = (unsigned)(rnd() % 8), i, n;
	size_t off, len;

	switch (kind) {
	case 0:		/* flip bits */
		for (i = 0, n = 1 + (unsigned)(rnd() % 4); i < n; i++)
			b[rnd() % size] ^= (uint8_t)(1U << (rnd() % 8));
		break;
	case 1:		/* zero a range */
		off = rnd() % size;
		len = rnd() % 200;
		memset(b + off, 0, off + len > size ? size - off : len);
		break;
	case 2:		/* cut */
		return rnd() % size;
	case 3:		/* random bytes */
		off = rnd() % size;
		len = rnd() % 64;
		for (i = 0; i < len && off + i < size; i++)
			b[off + i] = (uint8_t)rnd();
		break;
	case 4: {	/* payload bytes changed, checksums fixed: the decoder must cope */
		size_t c = offs[rnd() % nch];
		struct trace_chunk_header h;

		/* an earlier round may have cut the file or changed the size */
		if (c + sizeof(h) > size)
			break;
		memcpy(&h, b + c, sizeof(h));
		if (!h.size || c + sizeof(h) + h.size > size)
			break;
		for (i = 0, n = 1 + (unsigned)(rnd() % 3); i < n; i++) {
			uint8_t *p = b + c + sizeof(h) + rnd() % h.size;

			*p = rnd() & 1 ? (uint8_t)rnd() : (uint8_t)(*p ^ (1U << (rnd() % 8)));
		}
		fix_chunk(b, c, true);
		break;
	}
	case 5: {	/* chunk header fields changed, checksum fixed */
		size_t c = offs[rnd() % nch];
		struct trace_chunk_header h;
		static const uint32_t edges[] = { 0, 1, 2, 0x7fffffff, 0xffffffff, 1U << 20 };

		if (c + sizeof(h) > size)
			break;
		memcpy(&h, b + c, sizeof(h));
		switch (rnd() % 6) {
		case 0: h.tid = (uint32_t)(rnd() % 3 ? 10 + rnd() % 3 : rnd()); break;
		case 1: h.seq = rnd() & 1 ? edges[rnd() % 6] : (uint32_t)(rnd() % 20); break;
		case 2: h.size = rnd() & 1 ? edges[rnd() % 6] : (uint32_t)(h.size + rnd() % 9 - 4); break;
		case 3: h.flags = (uint32_t)rnd(); break;
		case 4: h.base_ticks = rnd() & 1 ? rnd() : UINT64_MAX - rnd() % 100; break;
		case 5: h.end_ticks = rnd(); h.end_mono_ns = rnd(); break;
		}
		memcpy(b + c, &h, sizeof(h));
		fix_chunk(b, c, false);
		break;
	}
	case 6: {	/* a chunk written twice (duplicate seq), appended */
		size_t c = offs[rnd() % nch];
		struct trace_chunk_header h;

		if (c + sizeof(h) > size)
			break;
		memcpy(&h, b + c, sizeof(h));
		len = sizeof(h) + h.size;
		if (size + len <= cap && c + len <= size) {
			memmove(b + size, b + c, len);
			return size + len;
		}
		break;
	}
	case 7: {	/* file header fields changed, checksum fixed */
		struct trace_file_header h;

		if (size < sizeof(h))
			break;
		memcpy(&h, b, sizeof(h));
		switch (rnd() % 5) {
		case 0: h.stack_depth = (uint32_t)(rnd() % 5); break;
		case 1: h.max_chunk = (uint32_t)(rnd() % 300); break;
		case 2: h.start_ticks = rnd(); break;
		case 3: h.tick_hz = rnd() & 1 ? 0 : rnd(); h.flags |= TRACE_F_TSC; break;
		case 4: h.flags = (uint32_t)rnd(); break;
		}
		h.checksum = trace_checksum(&h, TRACE_FILE_HEADER_CKLEN);
		memcpy(b, &h, sizeof(h));
		break;
	}
	}
	return size;
}

START_TEST(test_mutations)
{
	size_t size, offs[512], cap;
	uint8_t *seed = seed_trace(&size), *b;
	unsigned nch = chunk_offs(seed, size, offs, 512), iter, opened = 0;
	int saved = dup(2);

	ck_assert_uint_gt(nch, 20);
	ck_assert_int_eq(fuzz_bytes(seed, size), 0);
	cap = size * 3;
	b = malloc(cap);
	/* the reader's damage warnings would be thousands of lines */
	{
		int nul = open("/dev/null", O_WRONLY);

		ck_assert_int_ge(nul, 0);
		dup2(nul, 2);
		close(nul);
	}
	for (iter = 0; iter < 4000; iter++) {
		size_t n = size;
		unsigned k, rounds = 1 + (unsigned)(rnd() % 3);

		memcpy(b, seed, size);
		for (k = 0; k < rounds && n > 0; k++)
			n = mutate(b, n, cap, offs, nch);
		if (fuzz_bytes(b, n) == 0)
			opened++;
	}
	dup2(saved, 2);
	close(saved);
	/* most mutants keep a good header: the walks really ran */
	ck_assert_uint_gt(opened, 2000);
	free(b);
	free(seed);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("trace-read");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_varint_edges);
	tcase_add_test(tc, test_zigzag);
	tcase_add_test(tc, test_checksum);
	tcase_add_test(tc, test_every_record);
	tcase_add_test(tc, test_flags_select);
	tcase_add_test(tc, test_calls_repair);
	tcase_add_test(tc, test_entry_at);
	tcase_add_test(tc, test_recursion_nested);
	tcase_add_test(tc, test_seq_order);
	tcase_add_test(tc, test_tid_reuse);
	tcase_add_test(tc, test_many_chunks);
	tcase_add_test(tc, test_damaged_payload);
	tcase_add_test(tc, test_damaged_header);
	tcase_add_test(tc, test_zeroed_range);
	tcase_add_test(tc, test_cut_file);
	tcase_add_test(tc, test_malformed_record);
	tcase_add_test(tc, test_bad_ids);
	tcase_add_test(tc, test_header_checks);
	tcase_add_test(tc, test_clock_tsc);
	tcase_add_test(tc, test_clock_ns);
	tcase_add_test(tc, test_stacks);
	tcase_add_test(tc, test_shadow_caller);
	tcase_add_test(tc, test_merged_realloc);
	tcase_add_test(tc, test_merged_ticks);
	tcase_add_test(tc, test_inherited);
	tcase_add_test(tc, test_module_time);
	tcase_add_test(tc, test_module_ranges);
	tcase_add_test(tc, test_stop_walk);
	tcase_add_test(tc, test_signal_marks);
	suite_add_tcase(s, tc);
	tc = tcase_create("fuzz");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	return failed ? 1 : 0;
}
