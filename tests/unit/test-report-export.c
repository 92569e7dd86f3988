// SPDX-License-Identifier: MIT
/*
 * Unit tests of the export reports (analyzer/report-flame.c, report-chrome.c, report-html.c,
 * svg.c, export.c) over synthetic traces written with tracegen, with exact expectations:
 * folded lines and values (tracegen ticks are nanoseconds), chrome events, SVG and HTML
 * escaping. Functions and stacks name this binary's own functions (a MODULE record at its
 * real load bias), so they symbolize to the names below.
 */
#define PR_FMT "test"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/export.h"
#include "analyzer/report.h"
#include "tests/unit/testutil.h"

/* ---- functions whose addresses are the test's calls and frames ---- */
void exfn_main(void);
void exfn_a(void);
void exfn_b(void);
void exfn_rec(void);
void __attribute__((noinline)) exfn_main(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) exfn_a(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) exfn_b(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) exfn_rec(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }

#define FMAIN ((uint64_t)(uintptr_t)exfn_main)
/* a chrome event's args: the definition of the function (lines 25-27 above), absolute path */
#define SRC_ARGS(line) "/tests/unit/test-report-export.c\",\"line\":" #line "}"
#define FA ((uint64_t)(uintptr_t)exfn_a)
#define FB ((uint64_t)(uintptr_t)exfn_b)
#define FREC ((uint64_t)(uintptr_t)exfn_rec)

static char trace_path[64], out_path[64], trace2_path[64];

static void setup(void)
{
	tu_tmpfile(trace_path, "test-report-export");
	tu_tmpfile(out_path, "test-report-export-out");
	tu_tmpfile(trace2_path, "test-report-export-2");
}

static void teardown(void)
{
	if (!getenv("KEEP")) {
		unlink(trace_path);
		unlink(out_path);
		unlink(trace2_path);
	}
}

/* ---- this binary as a MODULE record, at its real address ---- */

static void module_self(struct tg_thread *th, uint64_t ticks)
{
	tu_module_of(th, FMAIN, ticks);
}

/* open_child - trace2_path as the child (pid 2000) of trace_path's process 1000, started
 * 1500 ns after it, with its main module; @th: its one thread */
static struct tg *open_child(struct tg_thread **th)
{
	struct tg *g = tg_open(trace2_path);

	g->hdr.pid = 2000;
	g->hdr.ppid = 1000;
	g->hdr.flags |= TRACE_F_CHILD;
	g->hdr.start_mono_ns += 1500;
	*th = tg_thread(g, 2000);
	module_self(*th, 0);
	return g;
}

/* ---- running reports ---- */

static struct opts default_opts(void)
{
	struct opts o = tu_opts();

	o.output = out_path;
	return o;
}

/* Run @fn on the trace, writing to out_path (-o). Return: the output (malloc'd). */
static char *run(int (*fn)(struct trace *, const struct opts *), const struct opts *o)
{
	struct trace *t;
	int rc;

	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	rc = fn(t, o);
	ck_assert_int_eq(rc, 0);
	trace_close(t);
	return tu_slurp(out_path);
}

static char *folded(const char *metric, bool per_thread)
{
	struct opts o = default_opts();

	o.folded = 1;
	o.metric = metric;
	o.per_thread = per_thread;
	return run(report_flamegraph, &o);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

#define ck_has(s, sub) ck_assert_msg(strstr((s), (sub)), "missing: %s\n--- in:\n%.3000s", (sub), (s))

/*
 * The call tree (ns):
 *   thread 1 ("worker<1>&'x'"):
 *     0    main {                            main: 1000, self 1000-300-60-50 = 590
 *     100    a {                             a: 300, self 200
 *     150      b { } 250                     b: 100, self 100
 *            } 400
 *     500    b { } 560                       b: 60
 *     600    a { } 650                       a: 50
 *          } 1000
 *   thread 2 (no name):
 *     10   main { 20 a { } 70 } 100          main: 90, self 40; a: 50
 * Marks: "phase<1>&\"q\"" at 300 on thread 1.
 */
static void write_calls(void)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *t1 = tg_thread(g, 1), *t2 = tg_thread(g, 2);

	module_self(t1, 0);
	tg_enter(t1, FMAIN, 0);
	tg_enter(t1, FA, 100);
	tg_enter(t1, FB, 150);
	tg_exit(t1, 250);
	tg_mark(t1, "phase<1>&\"q\"", 300);
	tg_exit(t1, 400);
	tg_enter(t1, FB, 500);
	tg_exit(t1, 560);
	tg_enter(t1, FA, 600);
	tg_exit(t1, 650);
	tg_exit(t1, 1000);
	tg_thread_name(t1, "worker<1>&'x'");	/* the shim writes it in the last chunk */

	tg_enter(t2, FMAIN, 10);
	tg_enter(t2, FA, 20);
	tg_exit(t2, 70);
	tg_exit(t2, 100);
	tg_close(g);
}

START_TEST(test_folded_time)
{
	char *out;

	write_calls();
	out = folded("time", false);
	ck_assert_str_eq(out, "exfn_main 630\n"
			      "exfn_main;exfn_a 300\n"
			      "exfn_main;exfn_a;exfn_b 100\n"
			      "exfn_main;exfn_b 60\n");
	free(out);
	out = folded(NULL, false);	/* time is the default */
	ck_assert_str_eq(out, "exfn_main 630\n"
			      "exfn_main;exfn_a 300\n"
			      "exfn_main;exfn_a;exfn_b 100\n"
			      "exfn_main;exfn_b 60\n");
	free(out);
}
END_TEST

START_TEST(test_folded_per_thread)
{
	char *out;

	write_calls();
	out = folded("time", true);
	ck_assert_str_eq(out, "[thread 2];exfn_main 40\n"
			      "[thread 2];exfn_main;exfn_a 50\n"
			      "[thread worker<1>&'x' 1];exfn_main 590\n"
			      "[thread worker<1>&'x' 1];exfn_main;exfn_a 250\n"
			      "[thread worker<1>&'x' 1];exfn_main;exfn_a;exfn_b 100\n"
			      "[thread worker<1>&'x' 1];exfn_main;exfn_b 60\n");
	free(out);
}
END_TEST

START_TEST(test_folded_one_thread)
{
	struct opts o = default_opts();
	char *out;

	write_calls();
	o.folded = 1;
	o.thread_set = 1;
	o.thread_tid = 2;
	out = run(report_flamegraph, &o);
	ck_assert_str_eq(out, "exfn_main 40\nexfn_main;exfn_a 50\n");
	free(out);
}
END_TEST

/* main -> rec -> rec -> rec: durations 100, 30, 10; the tree keeps the recursion levels */
START_TEST(test_folded_recursion)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 7);
	struct ctree ct;
	struct trace *t;
	char *out;
	uint32_t i;

	module_self(th, 0);
	tg_enter(th, FREC, 0);
	tg_enter(th, FREC, 10);
	tg_enter(th, FREC, 20);
	tg_exit(th, 30);
	tg_exit(th, 40);
	tg_exit(th, 100);
	tg_close(g);
	out = folded("time", false);
	ck_assert_str_eq(out, "exfn_rec 70\nexfn_rec;exfn_rec 20\nexfn_rec;exfn_rec;exfn_rec 10\n");
	free(out);

	/* per-function totals: inclusive time counts the outermost activation only */
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	ck_assert_int_eq(ctree_build(t, -1, false, true, &ct), 0);
	ck_assert_uint_eq(ct.ncalls, 3);
	ck_assert_uint_eq(ct.self_sum_ns, 100);
	for (i = 0; i < t->nfuncs; i++)
		if (t->funcs[i] == FREC)
			break;
	ck_assert_uint_lt(i, t->nfuncs);
	ck_assert_uint_eq(ct.funcs[i].calls, 3);
	ck_assert_uint_eq(ct.funcs[i].total_ns, 100);
	ck_assert_uint_eq(ct.funcs[i].self_ns, 100);
	ck_assert_uint_eq(ct.funcs[i].min_ns, 10);
	ck_assert_uint_eq(ct.funcs[i].max_ns, 100);
	ctree_free(&ct);
	trace_close(t);
}
END_TEST

/*
 * Heap (one thread, merged order = program order). Stacks, innermost first:
 *   A = exfn_a < exfn_main, B = exfn_b < exfn_main, C = exfn_b, none = stack 0
 *   100  malloc  0x1000  100 A
 *   200  calloc  0x2000  200 A
 *   300  malloc  0x3000   50 B
 *   400  free    0x1000
 *   500  realloc 0x3000 -> 0x4000 (300, C), new block at 510
 *   600  malloc  0x5000    7 (no stack)
 *   700  realloc 0x2000 -> 0 (freed)
 *   800  free    0x9999 (never allocated)
 * Live at the end: 0x4000 (300, C), 0x5000 (7, none).
 */
static void write_heap(void)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 3);
	/* return addresses inside the functions (a return address is looked up as ra - 1) */
	uint64_t ia[2] = { FA + 4, FMAIN + 4 }, ib[2] = { FB + 4, FMAIN + 4 }, ic[1] = { FB };
	uint32_t a, b, c;

	module_self(th, 0);
	a = tg_stack(th, true, ia, 2);
	b = tg_stack(th, true, ib, 2);
	c = tg_stack(th, false, ic, 1);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 100, 0x1000, a, 100);
	tg_alloc(th, TRACE_ALLOC_CALLOC, 200, 0x2000, a, 200);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 50, 0x3000, b, 300);
	tg_free(th, 0x1000, 400);
	tg_realloc(th, 0x3000, 0x4000, 300, c, 500, 510);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 7, 0x5000, 0, 600);
	tg_realloc(th, 0x2000, 0, 0, 0, 700, 700);
	tg_free(th, 0x9999, 800);
	tg_close(g);
}

START_TEST(test_folded_alloc)
{
	struct replay m = { 0 };
	uint64_t leaked_bytes, leaked_blocks;
	struct trace *t;
	char *out;

	write_heap();
	out = folded("alloc-bytes", false);
	ck_assert_str_eq(out, "[no stack] 7\n"
			      "exfn_b 300\n"
			      "exfn_main;exfn_a 300\n"
			      "exfn_main;exfn_b 50\n");
	free(out);
	out = folded("alloc-count", false);
	ck_assert_str_eq(out, "[no stack] 1\n"
			      "exfn_b 1\n"
			      "exfn_main;exfn_a 2\n"
			      "exfn_main;exfn_b 1\n");
	free(out);
	out = folded("leaked", false);
	ck_assert_str_eq(out, "[no stack] 7\nexfn_b 300\n");
	free(out);

	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	ck_assert_int_eq(export_replay(t, -1, &m), 0);
	ck_assert_uint_eq(m.allocs, 5);		/* realloc to a new block counts */
	ck_assert_uint_eq(m.bytes_alloc, 657);
	ck_assert_uint_eq(m.frees, 3);		/* 0x1000, old 0x3000, 0x2000 by realloc(p, 0) */
	ck_assert_uint_eq(m.unknown_frees, 1);
	ck_assert_uint_eq(m.peak_bytes, 507);	/* 200 + 300 + 7, at 600 */
	ck_assert_uint_eq(m.peak_ns, 600);
	export_leaked(&m, &leaked_bytes, &leaked_blocks);
	ck_assert_uint_eq(leaked_blocks, 2);
	ck_assert_uint_eq(leaked_bytes, 307);
	replay_free(&m);
	trace_close(t);
}
END_TEST

/* Leaks from many blocks freed in scrambled order: exercises the live table's deletion. */
START_TEST(test_leaked_many)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 9);
	uint64_t ia[1] = { FA }, ib[1] = { FB }, t = 1, i, n = 40000, leak_a = 0, leak_b = 0;
	uint32_t a, b;
	char *out, want[128];

	module_self(th, 0);
	a = tg_stack(th, false, ia, 1);
	b = tg_stack(th, false, ib, 1);
	for (i = 1; i <= n; i++)
		tg_alloc(th, TRACE_ALLOC_MALLOC, i % 13 + 1, i * 32, i % 3 ? a : b, t++);
	/* free every block but those with i % 7 == 0, in an order unlike insertion */
	for (i = 1; i <= n; i++) {
		uint64_t k = (i * 7919) % n + 1;

		if (k % 7)
			tg_free(th, k * 32, t++);
		else if (k % 3)
			leak_a += k % 13 + 1;
		else
			leak_b += k % 13 + 1;
	}
	tg_close(g);
	out = folded("leaked", false);
	snprintf(want, sizeof(want), "exfn_a %llu\nexfn_b %llu\n", (unsigned long long)leak_a,
		 (unsigned long long)leak_b);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/* --thread: the selected thread's allocations, even when another thread frees them */
START_TEST(test_leaked_one_thread)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *t1 = tg_thread(g, 1), *t2 = tg_thread(g, 2);
	uint64_t ia[1] = { FA };
	struct opts o = default_opts();
	uint32_t a;
	char *out;

	module_self(t1, 0);
	a = tg_stack(t1, false, ia, 1);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 100, 0x1000, a, 10);
	tg_free(t2, 0x1000, 20);			/* freed by the other thread */
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 50, 0x2000, a, 30);
	tg_alloc(t2, TRACE_ALLOC_MALLOC, 7, 0x3000, 0, 40);
	tg_free(t2, 0x7777, 50);			/* unknown */
	tg_close(g);

	o.folded = 1;
	o.metric = "leaked";
	out = run(report_flamegraph, &o);
	ck_assert_str_eq(out, "[no stack] 7\nexfn_a 50\n");
	free(out);
	o.thread_set = 1;
	o.thread_tid = 1;
	out = run(report_flamegraph, &o);
	ck_assert_str_eq(out, "exfn_a 50\n");
	free(out);
	o.metric = "alloc-bytes";
	out = run(report_flamegraph, &o);
	ck_assert_str_eq(out, "exfn_a 150\n");
	free(out);
	o.thread_tid = 2;
	out = run(report_flamegraph, &o);
	ck_assert_str_eq(out, "[no stack] 7\n");
	free(out);
	o.metric = "leaked";
	out = run(report_flamegraph, &o);
	ck_assert_str_eq(out, "[no stack] 7\n");
	free(out);
}
END_TEST

START_TEST(test_bad_metric)
{
	struct opts o = default_opts();
	struct trace *t;

	write_calls();
	o.metric = "cycles";
	o.folded = 1;
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	ck_assert_int_ne(report_flamegraph(t, &o), 0);
	o.metric = NULL;
	o.thread_set = 1;
	o.thread_tid = 12345;
	ck_assert_int_ne(report_flamegraph(t, &o), 0);
	trace_close(t);
}
END_TEST

START_TEST(test_svg)
{
	struct opts o = default_opts();
	char *out;

	write_calls();
	o.per_thread = 1;
	out = run(report_flamegraph, &o);
	ck_assert_msg(!strncmp(out, "<?xml version=\"1.0\"", 19), "no XML declaration");
	ck_assert_str_eq(out + strlen(out) - 7, "</svg>\n");
	/* frames: all, 2 thread roots, 2 x main, 2 x a, 2 x b = 9 */
	ck_assert_uint_eq(count(out, "<g class=\"f\""), 9);
	ck_has(out, "<title>all\n(1.09 us, 100.00%)</title>");
	ck_has(out, "<title>exfn_main\n(1.00 us, 91.74%)</title>");
	/* the thread name, escaped everywhere it appears; never raw */
	ck_has(out, "data-n=\"[thread worker&lt;1&gt;&amp;&#39;x&#39; 1]\"");
	ck_has(out, "<title>[thread worker&lt;1&gt;&amp;&#39;x&#39; 1]\n");
	ck_assert_ptr_null(strstr(out, "worker<1>"));
	ck_assert_ptr_null(strstr(out, "&'x"));
	/* the script cannot break out of its CDATA section */
	ck_assert_uint_eq(count(out, "<![CDATA["), 1);
	ck_assert_uint_eq(count(out, "]]>"), 1);
	free(out);
}
END_TEST

START_TEST(test_chrome)
{
	struct opts o = default_opts();
	char *out;

	{
		struct tg *g = tg_open(trace_path);
		struct tg_thread *t1 = tg_thread(g, 1);

		module_self(t1, 0);
		tg_thread_name(t1, "worker<1>&'x'");
		tg_enter(t1, FMAIN, 0);
		tg_alloc(t1, TRACE_ALLOC_MALLOC, 64, 0x1000, 0, 50);
		tg_enter(t1, FA, 100);
		tg_alloc(t1, TRACE_ALLOC_MALLOC, 36, 0x2000, 0, 120);
		tg_mark(t1, "phase<1>&\"q\"", 300);
		tg_free(t1, 0x1000, 350);
		tg_rss(t1, 4096000, 500);
		tg_exit(t1, 1400);
		tg_exit(t1, 2001);
		tg_close(g);
	}
	out = run(report_chrome, &o);
	ck_assert_msg(!strncmp(out, "{\"traceEvents\":[", 16), "not a traceEvents object");
	ck_has(out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1000,\"tid\":1,"
		    "\"args\":{\"name\":\"worker\\u003c1>&'x'\"}}");
	ck_has(out, "{\"ph\":\"X\",\"name\":\"exfn_a\",\"args\":{\"file\":\"/");
	ck_has(out, SRC_ARGS(26) ",\"pid\":1000,\"tid\":1,\"ts\":0.100,\"dur\":1.300}");
	ck_has(out, "{\"ph\":\"X\",\"name\":\"exfn_main\",\"args\":{\"file\":\"/");
	ck_has(out, SRC_ARGS(25) ",\"pid\":1000,\"tid\":1,\"ts\":0.000,\"dur\":2.001}");
	ck_assert_uint_eq(count(out, "\"ph\":\"X\""), 2);
	/* in start order: the caller first */
	ck_assert(strstr(out, "\"name\":\"exfn_main\"") < strstr(out, "\"name\":\"exfn_a\""));
	/* live heap: 64, 100, 36 (few events: every change is a point) */
	ck_has(out, "{\"ph\":\"C\",\"name\":\"live heap\",\"pid\":1000,\"ts\":0.050,"
		    "\"args\":{\"bytes\":64}}");
	ck_has(out, "\"ts\":0.120,\"args\":{\"bytes\":100}}");
	ck_has(out, "\"ts\":0.350,\"args\":{\"bytes\":36}}");
	ck_assert_uint_eq(count(out, "\"name\":\"live heap\""), 3);
	ck_has(out, "{\"ph\":\"i\",\"name\":\"phase\\u003c1>&\\\"q\\\"\",\"pid\":1000,\"tid\":1,"
		    "\"s\":\"t\",\"ts\":0.300}");
	ck_has(out, "{\"ph\":\"C\",\"name\":\"rss\",\"pid\":1000,\"ts\":0.500,"
		    "\"args\":{\"bytes\":4096000}}");
	ck_has(out, "\"calls\":2,\"calls_written\":2,\"min_duration_ns\":0,\"heap_points\":3,"
		    "\"rss_points\":1}}\n");
	free(out);
}
END_TEST

/* --limit keeps the longest calls, whole buckets only, and says so */
START_TEST(test_chrome_limit)
{
	struct opts o = default_opts();
	char *out;

	write_calls();	/* durations 1000, 300, 100, 60, 50 | 90, 50 */
	o.limit = 2;
	out = run(report_chrome, &o);
	ck_assert_uint_eq(count(out, "\"ph\":\"X\""), 2);
	ck_has(out, SRC_ARGS(25) ",\"pid\":1000,\"tid\":1,\"ts\":0.000,\"dur\":1.000}");
	ck_has(out, SRC_ARGS(26) ",\"pid\":1000,\"tid\":1,\"ts\":0.100,\"dur\":0.300}");
	ck_has(out, "\"calls\":7,\"calls_written\":2,\"min_duration_ns\":300,");
	free(out);
	o.limit = 5;	/* 1000, 300, 100, 90, 60 */
	out = run(report_chrome, &o);
	ck_assert_uint_eq(count(out, "\"ph\":\"X\""), 5);
	ck_has(out, "\"calls\":7,\"calls_written\":5,\"min_duration_ns\":60,");
	free(out);
	o.limit = 0;	/* everything */
	out = run(report_chrome, &o);
	ck_assert_uint_eq(count(out, "\"ph\":\"X\""), 7);
	free(out);
}
END_TEST

/*
 * --limit over two traces (one histogram), the durations rising: the calls held in the one
 * walk pass 2 x --limit, and those below the rising cut are dropped, in both traces, while
 * the second is walked. The shortest call written is at the cut when it was last pruned, so
 * pruning one duration too many (or too few) shows.
 */
START_TEST(test_chrome_limit_held)
{
	static const uint64_t durs1[] = { 10, 20, 30, 40, 41 }, durs2[] = { 42, 43, 3 };
	const char *paths[2] = { trace_path, trace2_path };
	struct opts o = default_opts();
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 1000);
	char *out;
	unsigned i;

	module_self(th, 0);
	for (i = 0; i < sizeof(durs1) / sizeof(durs1[0]); i++) {
		tg_enter(th, FA, 100 * i);
		tg_exit(th, 100 * i + durs1[i]);
	}
	tg_close(g);
	g = open_child(&th);
	for (i = 0; i < sizeof(durs2) / sizeof(durs2[0]); i++) {
		tg_enter(th, FB, 100 * i);
		tg_exit(th, 100 * i + durs2[i]);
	}
	tg_close(g);
	o.traces = paths;
	o.ntraces = 2;

	/* below 64 ns a bucket is one ns; at 43 six are held: 10-30 dropped, 41 is the cut */
	o.limit = 3;
	out = run(report_chrome, &o);
	ck_assert_uint_eq(count(out, "\"ph\":\"X\""), 3);
	ck_has(out, SRC_ARGS(26) ",\"pid\":1000,\"tid\":1000,\"ts\":0.400,\"dur\":0.041}");
	ck_has(out, SRC_ARGS(27) ",\"pid\":2000,\"tid\":2000,\"ts\":1.500,\"dur\":0.042}");
	ck_has(out, SRC_ARGS(27) ",\"pid\":2000,\"tid\":2000,\"ts\":1.600,\"dur\":0.043}");
	ck_assert(strstr(out, "\"ts\":1.500,") < strstr(out, "\"ts\":1.600,"));
	ck_has(out, "\"calls\":8,\"calls_written\":3,\"min_duration_ns\":41,");
	free(out);
	/* four held at 41 (prune to 40, 41) and at 43 (prune to 42, 43): the first trace's
	 * calls all dropped while the second is walked */
	o.limit = 2;
	out = run(report_chrome, &o);
	ck_assert_uint_eq(count(out, "\"ph\":\"X\""), 2);
	ck_assert_ptr_null(strstr(out, "\"name\":\"exfn_a\""));
	ck_has(out, SRC_ARGS(27) ",\"pid\":2000,\"tid\":2000,\"ts\":1.500,\"dur\":0.042}");
	ck_has(out, SRC_ARGS(27) ",\"pid\":2000,\"tid\":2000,\"ts\":1.600,\"dur\":0.043}");
	ck_has(out, "\"calls\":8,\"calls_written\":2,\"min_duration_ns\":42,");
	free(out);
	o.limit = 0;
	out = run(report_chrome, &o);
	ck_assert_uint_eq(count(out, "\"ph\":\"X\""), 8);
	free(out);
}
END_TEST

/* the html page's data object (docs/html-data.md): the one line of its JSON script */
static const char *page_data(const char *out)
{
	const char *d = strstr(out, "<script type=\"application/json\" id=\"perfshim-data\">"), *end;

	ck_assert_ptr_nonnull(d);
	d = strchr(d, '>') + 1;
	end = strstr(d, "</script>");
	ck_assert_ptr_nonnull(end);
	ck_assert_msg(!memchr(d, '<', (size_t)(end - d)), "markup inside the data");
	return d;
}

START_TEST(test_html)
{
	struct opts o = default_opts();
	const char *d;
	char *out;

	write_calls();
	out = run(report_html, &o);
	ck_assert_msg(!strncmp(out, "<!DOCTYPE html>", 15), "no doctype");
	ck_assert_str_eq(out + strlen(out) - 8, "</html>\n");
	/* self-contained: the only URL is the SVG namespace (the script draws SVG charts) */
	ck_assert_uint_eq(count(out, "http"), count(out, "http://www.w3.org/2000/svg"));
	ck_assert_ptr_null(strstr(out, " src="));
	d = page_data(out);
	ck_has(d, "{\"schema\":\"perfshim-html/1\",");
	/*
	 * All threads, by total: main (2 calls, 1090 ns, self 630, min 90, max 1000), a (300,
	 * 50, 50: avg 133, p50 50, p99 300), b (100, 60); functions are ids in trace order.
	 */
	ck_has(d, "\"scopes\":[{\"thread\":null,\"calls\":7,\"functions\":{\"columns\":[\"func\","
		  "\"calls\",\"total_ns\",\"self_ns\",\"avg_ns\",\"min_ns\",\"max_ns\",\"p50_ns\","
		  "\"p99_ns\"],\"rows\":[[0,2,1090,630,545,90,1000,90,1000],"
		  "[1,3,400,300,133,50,300,50,300],[2,2,160,160,80,60,100,60,100]],\"total_rows\":3}");
	/* thread 0 alone: main 1000 (self 590), a 350 (300 + 50), b 160 */
	ck_has(d, "{\"thread\":0,\"calls\":5,\"functions\":{\"columns\":[\"func\",\"calls\","
		  "\"total_ns\",\"self_ns\",\"avg_ns\",\"min_ns\",\"max_ns\",\"p50_ns\",\"p99_ns\"],"
		  "\"rows\":[[0,1,1000,590,1000,1000,1000,1000,1000],[1,2,350,250,175,50,300,50,300],"
		  "[2,2,160,160,80,60,100,60,100]],\"total_rows\":3}");
	/* caller -> callee edges of all threads, by total: null is "called from no function" */
	ck_has(d, "\"edges\":{\"columns\":[\"caller\",\"callee\",\"calls\",\"total_ns\","
		  "\"self_ns\"],\"rows\":[[null,0,2,1090,630],[0,1,3,400,300],[1,2,1,100,100],"
		  "[0,2,1,60,60]],\"total_rows\":4}");
	/* names escaped for the page: no markup can end the script */
	ck_has(d, "\"exfn_main\"");
	ck_has(d, "\"name\":\"worker\\u003c1\\u003e\\u0026'x'\"");
	ck_has(d, "\"label\":\"phase\\u003c1\\u003e\\u0026\\\"q\\\"\"");
	ck_has(d, "\"left_out\":[]");
	free(out);
}
END_TEST

START_TEST(test_html_memory)
{
	struct opts o = default_opts();
	const char *d;
	char *out;

	write_heap();
	out = run(report_html, &o);
	d = page_data(out);
	ck_assert_ptr_null(strstr(d, "\"time\":"));	/* no calls: no time side */
	ck_has(d, "\"memory\":{\"allocations\":");
	/* leaks: C 300 and 7 bytes of no stack */
	ck_has(d, "\"leaked_bytes\":307,\"leaked_blocks\":2,");
	/*
	 * sites by bytes (stack row, allocations, bytes, frees, temporary, peak, leaked bytes and
	 * blocks, at the peak): A 300 in 2, C 300, B 50, none 7; ties by stack id
	 */
	ck_has(d, "\"sites\":{\"columns\":[\"stack\",\"allocations\",\"bytes\",\"frees\","
		  "\"temporary\",\"peak_bytes\",\"leaked_bytes\",\"leaked_blocks\",\"bytes_at_peak\","
		  "\"blocks_at_peak\"],\"rows\":[[0,2,300,2,");
	free(out);
}
END_TEST

/* An empty trace (one thread, no events): every export works and says there is nothing. */
START_TEST(test_empty)
{
	struct tg *g = tg_open(trace_path);
	struct opts o = default_opts();
	char *out;

	tg_thread(g, 1);
	tg_close(g);
	out = folded("time", false);
	ck_assert_str_eq(out, "");
	free(out);
	out = folded("leaked", false);
	ck_assert_str_eq(out, "");
	free(out);
	out = run(report_flamegraph, &o);
	ck_has(out, ">no data</text>");
	ck_assert_str_eq(out + strlen(out) - 7, "</svg>\n");
	free(out);
	out = run(report_chrome, &o);
	ck_assert_msg(!strncmp(out, "{\"traceEvents\":[", 16), "not a traceEvents object");
	ck_has(out, "\"calls\":0,\"calls_written\":0");
	free(out);
	out = run(report_html, &o);
	ck_assert_str_eq(out + strlen(out) - 8, "</html>\n");
	free(out);
}
END_TEST

/*
 * Two traces (a process and its forked child, pid 2000, started 1500 ns later): one chrome
 * timeline with both pids and aligned times, one flame graph with a root per process.
 */
static void write_two(void)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 1000);

	module_self(th, 0);
	tg_enter(th, FMAIN, 100);
	tg_enter(th, FA, 200);
	tg_exit(th, 300);
	tg_exit(th, 400);
	tg_close(g);

	g = open_child(&th);
	tg_enter(th, FB, 10);
	tg_exit(th, 70);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 5, 0x100, 0, 80);
	tg_close(g);
}

START_TEST(test_several_traces)
{
	const char *paths[2] = { trace_path, trace2_path };
	struct opts o = default_opts();
	char *out;

	write_two();
	o.traces = paths;
	o.ntraces = 2;
	out = run(report_chrome, &o);
	ck_has(out, "{\"ph\":\"X\",\"name\":\"exfn_a\",\"args\":{\"file\":\"/");
	ck_has(out, SRC_ARGS(26) ",\"pid\":1000,\"tid\":1000,\"ts\":0.200,\"dur\":0.100}");
	ck_has(out, "{\"ph\":\"X\",\"name\":\"exfn_b\",\"args\":{\"file\":\"/");
	ck_has(out, SRC_ARGS(27) ",\"pid\":2000,\"tid\":2000,\"ts\":1.510,\"dur\":0.060}");
	ck_has(out, "{\"ph\":\"C\",\"name\":\"live heap\",\"pid\":2000,\"ts\":1.580,"
		    "\"args\":{\"bytes\":5}}");
	ck_assert_uint_eq(count(out, "\"name\":\"process_name\""), 2);
	ck_has(out, "\"processes\":2,\"calls\":3,\"calls_written\":3,");
	free(out);

	o.folded = 1;
	out = run(report_flamegraph, &o);
	ck_assert_msg(strstr(out, "[process ") == out, "no process root: %s", out);
	ck_assert_uint_eq(count(out, "\n"), 3);
	ck_has(out, " 1000];exfn_main 200\n");
	ck_has(out, " 1000];exfn_main;exfn_a 100\n");
	ck_has(out, " 2000];exfn_b 60\n");
	free(out);

	o.folded = 0;
	out = run(report_html, &o);
	ck_assert_uint_eq(count(out, "<!DOCTYPE html>"), 1);
	ck_assert_uint_eq(count(out, "</html>"), 1);
	/* one page, one data object, one entry per trace (the page's trace selector) */
	ck_assert_uint_eq(count(page_data(out), "{\"path\":"), 2);
	ck_has(page_data(out), "\"pid\":1000,\"ppid\":");
	ck_has(page_data(out), "\"pid\":2000,\"ppid\":1000,");
	free(out);
}
END_TEST

/* escaping of C++ names and of bytes that are not UTF-8 */
START_TEST(test_escape)
{
	static const char name[] = "std::map<int, std::string>::operator[](int) const & \"q\" 'a'";
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	fput_xml(name, f);
	fputc('|', f);
	fput_json(name, f);
	fputc('|', f);
	fput_xml("a\xff" "b\x01\xc3\xa9", f);
	fputc('|', f);
	fput_json("a\xff" "b\x01\\\xc3\xa9</script>", f);
	fclose(f);
	ck_assert_str_eq(buf, "std::map&lt;int, std::string&gt;::operator[](int) const &amp; "
			      "&quot;q&quot; &#39;a&#39;"
			      "|\"std::map\\u003cint, std::string>::operator[](int) const & "
			      "\\\"q\\\" 'a'\""
			      "|a\xef\xbf\xbd" "b?\xc3\xa9"
			      "|\"a\\ufffdb\\u0001\\\\\xc3\xa9\\u003c/script>\"");
	free(buf);
}
END_TEST

/* the live-block table: inserts, deletes (backward shift) and lookups agree with a model */
START_TEST(test_xmap)
{
	struct xmap m = { 0 };
	static uint8_t model[20001];
	uint64_t k;
	bool created;
	unsigned i;

	for (i = 0; i < 200000; i++) {
		k = (uint64_t)(i * 2654435761U % 20000) + 1;
		if (model[k]) {
			struct xmap_val old;

			ck_assert(xmap_del(&m, k * 16, &old));
			ck_assert_uint_eq(old.v, k);
			model[k] = 0;
		} else {
			struct xmap_val *v = xmap_put(&m, k * 16, &created);

			ck_assert(created);
			v->v = k;
			model[k] = 1;
		}
	}
	for (k = 1; k <= 20000; k++) {
		struct xmap_val *v = xmap_get(&m, k * 16);

		ck_assert_int_eq(v != NULL, model[k]);
		if (v)
			ck_assert_uint_eq(v->v, k);
	}
	xmap_free(&m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report-export");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_folded_time);
	tcase_add_test(tc, test_folded_per_thread);
	tcase_add_test(tc, test_folded_one_thread);
	tcase_add_test(tc, test_folded_recursion);
	tcase_add_test(tc, test_folded_alloc);
	tcase_add_test(tc, test_leaked_many);
	tcase_add_test(tc, test_leaked_one_thread);
	tcase_add_test(tc, test_bad_metric);
	tcase_add_test(tc, test_svg);
	tcase_add_test(tc, test_chrome);
	tcase_add_test(tc, test_chrome_limit);
	tcase_add_test(tc, test_chrome_limit_held);
	tcase_add_test(tc, test_html);
	tcase_add_test(tc, test_html_memory);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_several_traces);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_xmap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
