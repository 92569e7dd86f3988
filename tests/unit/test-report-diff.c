// SPDX-License-Identifier: MIT
/*
 * Unit tests of the replay's stops (analyzer/replay.c), which `diff --from/--to` and
 * `timeline` read: the live state at a stop holds exactly the events up to its time, blocks
 * keep their allocation time, stacks their freed bytes; report_diff between two marks and
 * of two runs (sites matched by function chain, not address), and its error paths.
 */
#define PR_FMT "test"

#include <check.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/replay.h"
#include "tests/unit/testutil.h"

/* functions whose addresses are the test's frames (8 bytes each at least) */
void difffn_a(void);
void difffn_main(void);
void __attribute__((noinline)) difffn_a(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) difffn_main(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
#define FA ((uint64_t)(uintptr_t)difffn_a)
#define FMAIN ((uint64_t)(uintptr_t)difffn_main)

static char trace_path[64], trace2_path[64], out_path[64];

static void setup(void)
{
	tu_tmpfile(trace_path, "test-report-diff-a");
	tu_tmpfile(trace2_path, "test-report-diff-b");
	tu_tmpfile(out_path, "test-report-diff-out");
}

static void teardown(void)
{
	unlink(trace_path);
	unlink(trace2_path);
	unlink(out_path);
}

static struct opts json_opts(const char **traces, int n)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.traces = traces;
	o.ntraces = n;
	o.format = FMT_JSON;
	o.limit = -1;
	o.demangle = 1;
	return o;
}

/* how many times @needle occurs in @hay */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
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

/*
 * diff --from A --to B of write_trace(): at A (200) 0x1000 (stack 1) is live; by B (600)
 * it was freed, 0x2000 allocated and moved by the realloc to 0x3000 (stack 2, 50 B live).
 */
START_TEST(test_diff_marks_json)
{
	const char *traces[1] = { trace_path };
	struct opts o = json_opts(traces, 1);
	struct trace *t;
	char *out;
	int rc;

	write_trace();
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	o.from = "A";
	o.to = "B";
	out = tu_capture(report_diff, t, &o, out_path, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "{\"complete\":true,\"incomplete\":[],\"warnings\":[],\"from\":\"A\",\"to\":\"B\",\"from_ns\":200,\"to_ns\":600,"
				  "\"net_bytes\":-50,\"net_blocks\":0,\"allocated_bytes\":250,"
				  "\"allocations\":2,\"freed_bytes\":300,\"frees\":2,"
				  "\"new_live_bytes\":50,\"new_live_blocks\":1,"
				  "\"live_at_from_bytes\":100,\"live_at_from_blocks\":1,"
				  "\"live_at_to_bytes\":50,\"live_at_to_blocks\":1,"), "%s", out);
	/* the growth suspect (stack 2) first, then stack 1 which only freed */
	ck_assert_msg(strstr(out, "\"allocated_bytes\":250,\"freed_bytes\":200,\"net_bytes\":50,"
				  "\"net_blocks\":1,\"allocations\":2,\"frees\":1,"
				  "\"new_live_bytes\":50,\"new_live_blocks\":1},{"), "%s", out);
	ck_assert_msg(strstr(out, "\"allocated_bytes\":0,\"freed_bytes\":100,\"net_bytes\":-100,"
				  "\"net_blocks\":-1,\"allocations\":0,\"frees\":1,"
				  "\"new_live_bytes\":0,\"new_live_blocks\":0}]}"), "%s", out);
	free(out);
	trace_close(t);
}
END_TEST

/*
 * One run of a program: difffn_main calls difffn_a (from @enter to @exit ns), which
 * allocates the sizes of @sizes from the return addresses FA + @ras[i] (other addresses in
 * one function: two call sites, or another build) and never frees them.
 */
static void write_run(const char *path, uint64_t exit_ns, const uint64_t *sizes,
		      const unsigned *ras, unsigned n)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 9);
	unsigned i;

	tu_module_of(th, FA, 1);
	tg_enter(th, FMAIN, 10);
	tg_enter(th, FA, 100);
	for (i = 0; i < n; i++) {
		uint64_t ips[2] = { FA + ras[i], FMAIN + 4 };
		uint32_t node = tg_stack(th, true, ips, 2);

		tg_alloc(th, TRACE_ALLOC_MALLOC, sizes[i], 0x1000 + 0x100 * i, node, 110 + i);
	}
	tg_exit(th, exit_ns);
	tg_exit(th, exit_ns + 10);
	tg_close(g);
}

/* Two runs: one site (by function chain) whatever its addresses; 3x slower; exact peak. */
START_TEST(test_diff_runs_json)
{
	static const uint64_t base_sizes[] = { 100 }, new_sizes[] = { 100, 200 };
	static const unsigned base_ras[] = { 1 }, new_ras[] = { 5, 3 };
	const char *traces[2] = { trace_path, trace2_path };
	struct opts o = json_opts(traces, 2);
	struct trace *t;
	char *out;
	int rc;

	write_run(trace_path, 200, base_sizes, base_ras, 1);		/* a: 100 ns */
	write_run(trace2_path, 400, new_sizes, new_ras, 2);		/* a: 300 ns */
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	out = tu_capture(report_diff, t, &o, out_path, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "{\"name\":\"difffn_a\",\"base_calls\":1,\"new_calls\":1,"
				  "\"base_self_ns\":100,\"new_self_ns\":300,\"base_total_ns\":100,"
				  "\"new_total_ns\":300,\"base_alloc_bytes\":100,"
				  "\"new_alloc_bytes\":300,"), "%s", out);
	ck_assert_msg(strstr(out, "\"verdict\":\"3.00x slower, allocates 200 B more\"}"), "%s", out);
	/* one site in both runs: three stacks (addresses FA+1, FA+5, FA+3) share the chain */
	ck_assert_int_eq(count(out, "\"stack\":"), 1);
	/* frames: this file's lines of the two functions (the return addresses are inside them) */
	ck_assert_msg(strstr(out, "{\"stack\":[\"difffn_a\",\"difffn_main\"],\"frames\":[{\"name\":"
				  "\"difffn_a\",\"module\":\"test-report-diff\",\"file\":\"/"), "%s", out);
	ck_assert_msg(strstr(out, "/tests/unit/test-report-diff.c\",\"line\":23,\"inlined\":false},"
				  "{\"name\":\"difffn_main\",\"module\":\"test-report-diff\","), "%s", out);
	ck_assert_msg(strstr(out, "/tests/unit/test-report-diff.c\",\"line\":24,\"inlined\":false}],"
				  "\"truncated\":false,\"base_bytes\":100,"
				  "\"new_bytes\":300,\"base_leaked_bytes\":100,"
				  "\"new_leaked_bytes\":300,\"base_allocations\":1,"
				  "\"new_allocations\":2,\"base_peak_bytes\":100,"
				  "\"new_peak_bytes\":300,"), "%s", out);
	free(out);

	/* --threshold 300: the site's +200% and a's +200% are under it, both hidden */
	o.threshold = 300;
	out = tu_capture(report_diff, t, &o, out_path, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(count(out, "\"stack\":"), 0);
	ck_assert_msg(strstr(out, "\"functions\":[],\"hidden_functions\":2,"), "%s", out);
	free(out);
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
	tcase_add_test(tc, test_diff_marks_json);
	tcase_add_test(tc, test_diff_runs_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
