// SPDX-License-Identifier: MIT
/*
 * Unit tests of the replay log (analyzer/replay-log.c): the memory events a calls walk keeps
 * come back from replay_log_walk exactly as a merged memory walk (trace_walk WALK_MERGED |
 * WALK_MEMORY) delivers them: the same order (ticks, then stream index, ties included), the
 * same fields. Synthetic traces written with tracegen.
 */
#define PR_FMT "test"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/replay-log.h"
#include "analyzer/trace.h"
#include "analyzer/walk.h"
#include "tests/unit/testutil.h"

static char path[64];

static void setup(void)
{
	tu_tmpfile(path, "test-replay-log");
}

static void teardown(void)
{
	unlink(path);
}

struct evs {
	struct trace_event v[64];
	uint32_t n;
};

static int keep(const struct trace_event *ev, void *ctx)
{
	struct evs *e = ctx;

	ck_assert_uint_lt(e->n, 64);
	e->v[e->n++] = *ev;
	return 0;
}

static int calls_seen(const struct trace_event *ev, void *ctx)
{
	ck_assert(ev->type == EV_ENTRY || ev->type == EV_EXIT);
	++*(uint32_t *)ctx;
	return 0;
}

/* two threads: ties in ticks across them, a realloc (keyed by its new block's time), a
 * realloc to 0, an RSS, pointers that go down and sizes near the 2^47 limit */
static void write_trace(void)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100), *b = tg_thread(g, 200);
	uint64_t ips[] = { 0x401000, 0x402000 };
	uint32_t na = tg_stack(a, true, ips, 2), nb = tg_stack(b, true, ips + 1, 1);
	uint32_t f = tg_enter(a, 0x401000, 50);

	tg_alloc(a, TRACE_ALLOC_MALLOC, 100, 0x7f0000001000ULL, na, 100);
	tg_alloc(b, TRACE_ALLOC_CALLOC, 1ULL << 46, 0x7f0000100000ULL, nb, 100);
	tg_free(b, 0x7f0000001000ULL, 150);
	tg_realloc(a, 0x7f0000100000ULL, 0x10000, 300, na, 160, 400);
	tg_alloc(b, TRACE_ALLOC_POSIX_MEMALIGN, 64, 0x20000, 0, 400);
	tg_rss(a, 123456789, 500);
	tg_realloc(b, 0x20000, 0, 0, 0, 600, 610);
	tg_exit(a, 700);
	(void)f;
	tg_close(g);
}

START_TEST(test_log_order)
{
	struct evs merged = { 0 }, logged = { 0 };
	struct trace *t;
	uint32_t calls = 0, i;

	write_trace();
	ck_assert_int_eq(trace_open(path, &t), 0);
	replay_log_want(t);
	ck_assert_int_eq(replay_log_calls(t, WALK_CALLS, calls_seen, &calls), 0);
	ck_assert_uint_eq(calls, 2);		/* the calls still go to the callback */
	ck_assert(t->memlog->complete);
	ck_assert_int_eq(replay_log_walk(t->memlog, keep, &logged), 0);
	ck_assert_int_eq(trace_walk(t, WALK_MERGED | WALK_MEMORY, -1, keep, &merged), 0);
	ck_assert_uint_eq(merged.n, 7);
	ck_assert_uint_eq(logged.n, merged.n);
	for (i = 0; i < merged.n; i++) {
		const struct trace_event *x = &merged.v[i], *y = &logged.v[i];

		ck_assert_int_eq(y->type, x->type);
		ck_assert_uint_eq(y->thread, x->thread);
		ck_assert_uint_eq(y->tid, x->tid);
		ck_assert_uint_eq(y->ns, x->ns);
		ck_assert_uint_eq(y->size, x->size);
		if (x->type == EV_RSS)
			continue;
		ck_assert_uint_eq(y->ptr, x->ptr);
		if (x->type == EV_FREE)
			continue;
		ck_assert_uint_eq(y->stack, x->stack);
		if (x->type == EV_ALLOC) {
			ck_assert_uint_eq(y->kind, x->kind);
		} else {
			ck_assert_uint_eq(y->old_ptr, x->old_ptr);
			ck_assert_uint_eq(y->ns2, x->ns2);
		}
	}
	/* the tie at tick 100 goes to the lower stream index, thread 100's allocation */
	ck_assert_uint_eq(merged.v[0].tid, 100);
	ck_assert_uint_eq(merged.v[1].tid, 200);
	ck_assert_uint_eq(logged.v[2].type, EV_FREE);
	trace_close(t);
}
END_TEST

/* a log not complete (no calls walk asked for it) is never walked: replay_log_calls of a
 * trace without a log is a plain walk */
START_TEST(test_no_log)
{
	struct trace *t;
	uint32_t calls = 0;

	write_trace();
	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(replay_log_calls(t, WALK_CALLS, calls_seen, &calls), 0);
	ck_assert_uint_eq(calls, 2);
	ck_assert_ptr_null(t->memlog);
	ck_assert_uint_eq(trace_walks(t), 1);
	trace_close(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("replay-log");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_log_order);
	tcase_add_test(tc, test_no_log);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
