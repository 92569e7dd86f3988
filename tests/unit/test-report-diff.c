// SPDX-License-Identifier: MIT
/*
 * Unit tests of the replay's stops (analyzer/replay.c), which `diff --from/--to` and
 * `timeline` read: the live state at a stop holds exactly the events up to its time, blocks
 * keep their allocation time, stacks their freed bytes; and report_diff's error paths.
 */
#define PR_FMT "test"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/replay.h"
#include "tests/unit/tracegen.h"

static char trace_path[64];

static void setup(void)
{
	int fd;

	strcpy(trace_path, "/tmp/test-report-diff.XXXXXX");
	fd = mkstemp(trace_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	unlink(trace_path);
}

/*
 * One thread, stacks 1 and 2 (times in ns):
 *   100 malloc 0x1000 100 B (stack a)     live 100
 *   200 mark "A"
 *   300 malloc 0x2000 200 B (stack b)     live 300
 *   400 free 0x1000                        live 200
 *   500 realloc 0x2000 -> 0x3000 50 B (b)  live 50
 *   600 mark "B"
 *   700 free 0x3000                        live 0
 */
static void write_trace(void)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 7);
	uint64_t ia = 0x401000, ib = 0x402000;
	uint32_t a = tg_stack(th, false, &ia, 1), b = tg_stack(th, false, &ib, 1);

	tg_alloc(th, TRACE_ALLOC_MALLOC, 100, 0x1000, a, 100);
	tg_mark(th, "A", 200);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 200, 0x2000, b, 300);
	tg_free(th, 0x1000, 400);
	tg_realloc(th, 0x2000, 0x3000, 50, b, 500, 500);
	tg_mark(th, "B", 600);
	tg_free(th, 0x3000, 700);
	tg_close(g);
}

struct seen {
	uint64_t at[8], live[8], blocks[8], newer[8];	/* newer: bytes allocated after 200 */
	uint64_t freed_a[8], freed_b[8];
	int n;
};

static uint64_t stop(struct replay *r, uint64_t at, void *arg)
{
	struct seen *s = arg;
	uint64_t i;

	s->at[s->n] = at;
	s->live[s->n] = r->live_bytes;
	s->blocks[s->n] = r->live_blocks;
	for (i = 0; i <= r->live.mask; i++)
		if (r->live.v[i].ptr && r->live.v[i].ns > 200)
			s->newer[s->n] += r->live.v[i].size;
	s->freed_a[s->n] = r->naggs > 1 ? r->aggs[1].freed_bytes : 0;
	s->freed_b[s->n] = r->naggs > 2 ? r->aggs[2].freed_bytes : 0;
	s->n++;
	return s->n < 6 ? at + 150 : UINT64_MAX;	/* 50, 200, 350, 500, 650, 800 */
}

START_TEST(test_stops)
{
	static const uint64_t live[] = { 0, 100, 300, 50, 50, 0 };
	static const uint64_t blocks[] = { 0, 1, 2, 1, 1, 0 };
	static const uint64_t newer[] = { 0, 0, 200, 50, 50, 0 };
	static const uint64_t freed_a[] = { 0, 0, 0, 100, 100, 100 };
	static const uint64_t freed_b[] = { 0, 0, 0, 200, 200, 250 };
	struct trace *t;
	struct replay r;
	struct seen s;
	int i;

	write_trace();
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	r.stop = stop;
	r.next_stop = 50;
	r.arg = &s;
	ck_assert_int_eq(replay_run(&r, t), 0);
	/* stops at 50..650 come between events; 800 is after the last one (called at the end) */
	ck_assert_int_eq(s.n, 6);
	for (i = 0; i < 6; i++) {
		ck_assert_uint_eq(s.at[i], 50 + 150 * (uint64_t)i);
		ck_assert_uint_eq(s.live[i], live[i]);
		ck_assert_uint_eq(s.blocks[i], blocks[i]);
		ck_assert_uint_eq(s.newer[i], newer[i]);
		ck_assert_uint_eq(s.freed_a[i], freed_a[i]);
		ck_assert_uint_eq(s.freed_b[i], freed_b[i]);
	}
	replay_free(&r);
	trace_close(t);
}
END_TEST

/* report_diff: an unknown mark and marks out of order fail (exit 1 in main), known ones work */
START_TEST(test_diff_marks_errors)
{
	struct opts o;
	struct trace *t;
	const char *traces[1] = { trace_path };

	write_trace();
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	memset(&o, 0, sizeof(o));
	o.traces = traces;
	o.ntraces = 1;
	o.format = FMT_JSON;
	o.limit = -1;
	o.demangle = 1;
	o.from = "A";
	o.to = "nosuch";
	ck_assert_int_eq(report_diff(t, &o), -1);
	o.from = "B";
	o.to = "A";
	ck_assert_int_eq(report_diff(t, &o), -1);
	o.ntraces = 3;
	ck_assert_int_eq(report_diff(t, &o), -1);
	trace_close(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report-diff");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stops);
	tcase_add_test(tc, test_diff_marks_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
