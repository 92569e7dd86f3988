// SPDX-License-Identifier: MIT
/*
 * Unit tests of the overhead compensation (analyzer/trace-comp.c and the decoder's
 * comp_clock, docs/compensation.md) over synthetic traces carrying known COST figures: the
 * compensated self and total of every function worked out by hand from the model, the
 * allocation figures (a known stack, each new node, a free), the clamp, traces without the
 * record, records with more or fewer figures than this reader knows, --no-compensation, and
 * the exports and dump that read the same walk. Ticks are ns here (no TSC), so a figure of
 * N ns is N << TRACE_COST_SHIFT.
 */
#define PR_FMT "test"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/report.h"
#include "tests/unit/testutil.h"

static char path[64], out[64];
static char *output;

static void setup(void)
{
	tu_tmpfile(path, "test-comp");
	tu_tmpfile(out, "test-comp-out");
	trace_set_compensation(true);
}

static void teardown(void)
{
	unlink(path);
	unlink(out);
	trace_set_compensation(true);
}

static int run(tu_report_fn fn, const struct opts *o)
{
	int rc;

	free(output);
	output = tu_report(fn, path, o, out, &rc);
	return rc;
}

#define has(needle) tu_has(output, needle)

#define NS(x) ((uint64_t)(x) << TRACE_COST_SHIFT)

#define ROW(addr, calls, total, self, avg, min, max, p50, p99)                             \
	"{\"name\":\"" addr "\",\"module\":\"?\",\"addr\":\"" addr "\",\"file\":null,\"line\":null,\"calls\":" #calls\
	",\"total_ns\":" #total ",\"self_ns\":" #self ",\"avg_ns\":" #avg ",\"min_ns\":" #min \
	",\"max_ns\":" #max ",\"p50_ns\":" #p50 ",\"p99_ns\":" #p99 "}"

/*
 * main 1000..2000 { a 1100..1400 { b 1150..1350 }, b 1500..1600 }, with entry 2 + 3 ns and
 * exit 4 + 5 ns (before + after each timestamp). Compensated times (the cost so far taken
 * off, this event's "before" part included):
 *   main in 1000 - 2 = 998   a in 1100 - 7 = 1093   b in 1150 - 12 = 1138
 *   b out 1350 - 19 = 1331   a out 1400 - 28 = 1372
 *   b in 1500 - 35 = 1465    b out 1600 - 42 = 1558  main out 2000 - 51 = 1949
 */
static void nested_trace(const uint64_t *cost, unsigned n)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);

	if (n)
		tg_cost(th, cost, n);
	tg_enter(th, 0x1000, 1000);
	tg_enter(th, 0x2000, 1100);
	tg_enter(th, 0x3000, 1150);
	tg_exit(th, 1350);
	tg_exit(th, 1400);
	tg_enter(th, 0x3000, 1500);
	tg_exit(th, 1600);
	tg_exit(th, 2000);
	tg_close(g);
}

static const uint64_t call_cost[TRACE_COST_N] = { NS(2), NS(3), NS(4), NS(5), 0, 0, 0 };

START_TEST(test_calls_exact)
{
	struct opts o = tu_opts();

	nested_trace(call_cost, TRACE_COST_N);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	/* main 1949 - 998; a 1372 - 1093; b 193 and 93 */
	has(ROW("0x1000", 1, 951, 579, 951, 951, 951, 951, 951));
	has(ROW("0x2000", 1, 279, 86, 279, 279, 279, 279, 279));
	has(ROW("0x3000", 2, 286, 286, 143, 93, 193, 93, 193));
}
END_TEST

START_TEST(test_no_compensation)
{
	struct opts o = tu_opts();

	nested_trace(call_cost, TRACE_COST_N);
	trace_set_compensation(false);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 1000, 600, 1000, 1000, 1000, 1000, 1000));
	has(ROW("0x2000", 1, 300, 100, 300, 300, 300, 300, 300));
	has(ROW("0x3000", 2, 300, 300, 150, 100, 200, 100, 200));
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"compensation\":null,\"compensation_off\":\"--no-compensation\"");
}
END_TEST

START_TEST(test_summary_figures)
{
	struct opts o = tu_opts();

	nested_trace(call_cost, TRACE_COST_N);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_summary, &o), 0);
	/* 51 ns taken off up to main's exit, 5 more after it; nothing held */
	has("\"compensation\":{\"call_ns\":14,\"alloc_ns\":0,\"call_caller_ns\":7,"
	    "\"call_callee_ns\":7,\"node_ns\":0,\"free_ns\":0,\"alloc_run_ns\":0,\"removed_ns\":56,"
	    "\"clamped\":0}");
	o.format = FMT_TEXT;
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("Overhead:   taken out of call times: a call 14.0 ns (7.0 in the caller, 7.0 in the "
	    "callee)");
}
END_TEST

/*
 * The recorder writes its COST record at the process's first call (preload/cost.c), so it
 * may come after calls of other threads, in a later chunk: the reader takes it at open and
 * compensates the calls before it as test_calls_exact's. Here: thread 10's calls in a chunk
 * of their own, thread 11's COST record in a chunk after it.
 */
START_TEST(test_late_record)
{
	struct opts o = tu_opts();
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10), *late;

	tg_enter(th, 0x1000, 1000);
	tg_enter(th, 0x2000, 1100);
	tg_enter(th, 0x3000, 1150);
	tg_exit(th, 1350);
	tg_exit(th, 1400);
	tg_enter(th, 0x3000, 1500);
	tg_exit(th, 1600);
	tg_exit(th, 2000);
	tg_flush(th, TRACE_CHUNK_LAST);
	late = tg_thread(g, 11);
	tg_cost(late, call_cost, TRACE_COST_N);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 951, 579, 951, 951, 951, 951, 951));
	has(ROW("0x2000", 1, 279, 86, 279, 279, 279, 279, 279));
	has(ROW("0x3000", 2, 286, 286, 143, 93, 193, 93, 193));
}
END_TEST

/* A trace with no calls has no record (nothing was measured) and says why. */
START_TEST(test_no_calls)
{
	struct opts o = tu_opts();
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);

	tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0x9000, 0, 1200);
	tg_free(th, 0x9000, 1500);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"compensation\":null,\"compensation_off\":\"no calls: the recorder measures its "
	    "cost at the first one\"");
}
END_TEST

START_TEST(test_no_record)
{
	struct opts o = tu_opts();

	nested_trace(NULL, 0);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 1000, 600, 1000, 1000, 1000, 1000, 1000));
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"compensation\":null,\"compensation_off\":\"the recorder did not measure its cost "
	    "(an older trace)\"");
}
END_TEST

/*
 * Allocation figures: alloc 10, node 6, free 7 ns, calls free of cost. f 1000..2000 makes
 * a block from a new two-frame stack (two NODE records) at 1200 and frees it at 1500, then
 * one from the same stack at 1700: f loses 10 + 2 * 6 + 7 + 10 = 39 ns. g 2100..2200, after
 * them, keeps its 100 ns: the cost so far moves its times, not its length.
 */
START_TEST(test_allocs)
{
	static const uint64_t cost[TRACE_COST_N] = { 0, 0, 0, 0, NS(10), NS(6), NS(7) };
	static const uint64_t ips[2] = { 0x4010, 0x4020 };
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = tu_opts();
	uint32_t node;

	tg_cost(th, cost, TRACE_COST_N);
	tg_enter(th, 0x1000, 1000);
	node = tg_stack(th, true, ips, 2);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0x9000, node, 1200);
	tg_free(th, 0x9000, 1500);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0x9000, node, 1700);
	tg_exit(th, 2000);
	tg_enter(th, 0x2000, 2100);
	tg_exit(th, 2200);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 961, 961, 961, 961, 961, 961, 961));
	has(ROW("0x2000", 1, 100, 100, 100, 100, 100, 100, 100));
	/* the allocations themselves keep their recorded times */
	ck_assert_int_eq(run(report_memory, &o), 0);
	has("\"peak_bytes\":32,\"peak_time_ns\":1200");
}
END_TEST

/*
 * The run's own figures (TRACE_COST_RUN): the start says 10 ns an allocation; after the
 * thread's COST record saying 40 (its stack walk, timed in the run) allocations cost 40.
 * f 1000..2000: two new nodes (12), a block at 1200 (10), the record, one at 1500 (40), a
 * free at 1700 (7): f keeps 1000 - 69 = 931. Read as the start's figures, the record would
 * make it 901; with compensation off f keeps 1000. summary: 25 ns per allocation applied.
 */
START_TEST(test_alloc_run_figures)
{
	static const uint64_t cost[TRACE_COST_N] = { 0, 0, 0, 0, NS(10), NS(6), NS(7), 0 };
	static const uint64_t run_cost[TRACE_COST_N] = { 0, 0, 0, 0, NS(40), NS(6), NS(7), 1 };
	static const uint64_t ips[2] = { 0x4010, 0x4020 };
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = tu_opts();
	uint32_t node;

	tg_cost(th, cost, TRACE_COST_N);
	tg_enter(th, 0x1000, 1000);
	node = tg_stack(th, true, ips, 2);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0x9000, node, 1200);
	tg_cost(th, run_cost, TRACE_COST_N);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0xa000, node, 1500);
	tg_free(th, 0x9000, 1700);
	tg_exit(th, 2000);
	tg_enter(th, 0x2000, 2100);
	tg_exit(th, 2200);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 931, 931, 931, 931, 931, 931, 931));
	has(ROW("0x2000", 1, 100, 100, 100, 100, 100, 100, 100));
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"alloc_ns\":10,");
	has("\"alloc_run_ns\":25,");
	trace_set_compensation(false);
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 1000, 1000, 1000, 1000, 1000, 1000, 1000));
}
END_TEST

/*
 * Figures larger than the gaps: 50 ns each side. f 1000..1010: in at 950, and its exit
 * would be at 1010 - 150 = 860, before it: held at 950 (f lasts 0, counted), the excess
 * forgotten (110 ns taken off so far). g 2000..2080 then: in at 2000 - 160 = 1840, out at
 * 2080 - 260 = 1820: held too; h 5000..6000 lasts 1000 - 100 = 900.
 */
START_TEST(test_clamp)
{
	static const uint64_t cost[TRACE_COST_N] = { NS(50), NS(50), NS(50), NS(50), 0, 0, 0 };
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = tu_opts();

	tg_cost(th, cost, TRACE_COST_N);
	tg_enter(th, 0x1000, 1000);
	tg_exit(th, 1010);
	tg_enter(th, 0x2000, 2000);
	tg_exit(th, 2080);
	tg_enter(th, 0x3000, 5000);
	tg_exit(th, 6000);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 0, 0, 0, 0, 0, 0, 0));
	has(ROW("0x2000", 1, 0, 0, 0, 0, 0, 0, 0));
	has(ROW("0x3000", 1, 900, 900, 900, 900, 900, 900, 900));
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"clamped\":2}");
}
END_TEST

/* A record with figures this reader does not know: the known ones are used. And fewer. */
START_TEST(test_more_and_fewer_figures)
{
	/* (figure 7 is TRACE_COST_RUN: 0, the start's record; 8 and 9 are unknown here) */
	static const uint64_t more[10] = { NS(2), NS(3), NS(4), NS(5), 0, 0, 0, 0, NS(99),
					   NS(99) };
	static const uint64_t fewer[2] = { NS(2), NS(3) };
	struct opts o = tu_opts();

	nested_trace(more, 10);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 951, 579, 951, 951, 951, 951, 951));
	/* entry 2 + 3, exits free: main 998 .. 2000 - 20 = 1980, a 1093 .. 1400 - 15 = 1385,
	 * b 1138 .. 1335 and 1500 - 17 = 1483 .. 1580 */
	nested_trace(fewer, 2);
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 982, 593, 982, 982, 982, 982, 982));
	has(ROW("0x2000", 1, 292, 95, 292, 292, 292, 292, 292));
}
END_TEST

/* the exports read the same walk; dump lists the events as recorded */
START_TEST(test_exports_and_dump)
{
	struct opts o = tu_opts();

	nested_trace(call_cost, TRACE_COST_N);
	o.folded = 1;
	o.metric = "time";
	ck_assert_int_eq(run(report_flamegraph, &o), 0);
	/* self times: main 579, a 86, b 286 (under a 193, under main 93) */
	has("0x1000 579\n");
	has("0x1000;0x2000 86\n");
	has("0x1000;0x2000;0x3000 193\n");
	has("0x1000;0x3000 93\n");
	ck_assert_int_eq(run(report_dump, &o), 0);
	has(" exit depth=0 addr=0x1000 dur=1000 0x1000");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("comp");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_calls_exact);
	tcase_add_test(tc, test_no_compensation);
	tcase_add_test(tc, test_summary_figures);
	tcase_add_test(tc, test_no_record);
	tcase_add_test(tc, test_late_record);
	tcase_add_test(tc, test_no_calls);
	tcase_add_test(tc, test_allocs);
	tcase_add_test(tc, test_alloc_run_figures);
	tcase_add_test(tc, test_clamp);
	tcase_add_test(tc, test_more_and_fewer_figures);
	tcase_add_test(tc, test_exports_and_dump);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	free(output);
	return failed ? 1 : 0;
}
