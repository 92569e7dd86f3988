// SPDX-License-Identifier: MIT
/*
 * Unit tests of analyzer/report-hot.c (`functions`, `callgraph`) over synthetic traces with
 * a known answer for every column: self against total, recursion counted once in total,
 * percentiles (exact and from the histogram, within its stated bound), exits closed by
 * EXITS (longjmp), --thread, --per-thread, --sort, --limit, --filter. Functions have no
 * module in these traces, so their names are "0xADDR".
 */
#define PR_FMT "test"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/export.h"
#include "analyzer/hot.h"
#include "analyzer/model.h"
#include "analyzer/json.h"
#include "analyzer/text.h"
#include "tests/unit/testutil.h"

static char path[64], out[64];

static void setup(void)
{
	tu_tmpfile(path, "test-report-hot");
	tu_tmpfile(out, "test-report-hot-out");
}

static void teardown(void)
{
	unlink(path);
	unlink(out);
}

static struct opts default_opts(void)
{
	return tu_opts();
}

static char *output;

/* run @fn on the trace with stdout captured; the text is in `output` */
static int run(int (*fn)(struct trace *, const struct opts *), const struct opts *o)
{
	struct trace *t;
	int rc;

	ck_assert_int_eq(trace_open(path, &t), 0);
	free(output);
	output = tu_capture(fn, t, o, out, &rc);
	trace_close(t);
	return rc;
}

static void has(const char *needle)
{
	ck_assert_msg(strstr(output, needle) != NULL, "missing\n  %s\nin\n%s", needle, output);
}

static void hasnt(const char *needle)
{
	ck_assert_msg(strstr(output, needle) == NULL, "unexpected\n  %s\nin\n%s", needle, output);
}

/* the row of function 0xADDR in functions --format=json */
#define ROW(addr, calls, total, self, avg, min, max, p50, p99)                             \
	"{\"name\":\"" addr "\",\"module\":\"?\",\"addr\":\"" addr "\",\"file\":null,\"line\":null,\"calls\":" #calls     \
	",\"total_ns\":" #total ",\"self_ns\":" #self ",\"avg_ns\":" #avg ",\"min_ns\":" #min \
	",\"max_ns\":" #max ",\"p50_ns\":" #p50 ",\"p99_ns\":" #p99 "}"

/* main 0..1000 { a 100..400 { b 150..350 }, b 500..600 } */
static void nested_trace(void)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);

	tg_enter(th, 0x1000, 0);
	tg_enter(th, 0x2000, 100);
	tg_enter(th, 0x3000, 150);
	tg_exit(th, 350);
	tg_exit(th, 400);
	tg_enter(th, 0x3000, 500);
	tg_exit(th, 600);
	tg_exit(th, 1000);
	tg_close(g);
}

START_TEST(test_self_total)
{
	struct opts o = default_opts();

	nested_trace();
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 1000, 600, 1000, 1000, 1000, 1000, 1000));
	has(ROW("0x2000", 1, 300, 100, 300, 300, 300, 300, 300));
	/* b: 200 and 100; p50 = rank 1 of 2, p99 = rank 2 */
	has(ROW("0x3000", 2, 300, 300, 150, 100, 200, 100, 200));
	/* default sort: total, largest first; ties by address */
	ck_assert(strstr(output, "\"0x1000\"") < strstr(output, "\"0x2000\""));
	ck_assert(strstr(output, "\"0x2000\"") < strstr(output, "\"0x3000\""));
}
END_TEST

START_TEST(test_recursion_once)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = default_opts();

	/* f 0..100 { f 10..60 { g 20..50 { f 30..40 } } } */
	tg_enter(th, 0xf000, 0);
	tg_enter(th, 0xf000, 10);
	tg_enter(th, 0x6000, 20);
	tg_enter(th, 0xf000, 30);
	tg_exit(th, 40);
	tg_exit(th, 50);
	tg_exit(th, 60);
	tg_exit(th, 100);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	/* f: total 100 (outermost only), self 50 + 20 + 10, calls 10, 50, 100 */
	has(ROW("0xf000", 3, 100, 80, 53, 10, 100, 50, 100));
	has(ROW("0x6000", 1, 30, 20, 30, 30, 30, 30, 30));
}
END_TEST

START_TEST(test_longjmp_exits)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = default_opts();

	/* main 0..100 { a 10..50 { b 20..50 } }: a and b closed by one EXITS (longjmp) */
	tg_enter(th, 0x1000, 0);
	tg_enter(th, 0x2000, 10);
	tg_enter(th, 0x3000, 20);
	tg_exits(th, 2, 50);
	tg_exit(th, 100);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x1000", 1, 100, 60, 100, 100, 100, 100, 100));
	has(ROW("0x2000", 1, 40, 10, 40, 40, 40, 40, 40));
	has(ROW("0x3000", 1, 30, 30, 30, 30, 30, 30, 30));
}
END_TEST

START_TEST(test_percentiles_exact)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = default_opts();
	uint64_t i, now = 0;

	/* 100 calls lasting 1..100 ns, in a scrambled order */
	for (i = 0; i < 100; i++) {
		uint64_t d = (i * 37) % 100 + 1;

		tg_enter(th, 0x1000, now);
		tg_exit(th, now + d);
		now += d + 5;
	}
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	/* sum 5050; p50 = rank 50, p99 = rank 99 */
	has(ROW("0x1000", 100, 5050, 5050, 50, 1, 100, 50, 99));
}
END_TEST

START_TEST(test_percentiles_histogram)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct trace *t;
	struct hot h = { 0 };
	uint64_t i, now = 0, p50, p99, p1;

	/* 10000 calls lasting 1..10000 ns: beyond the exact samples */
	for (i = 0; i < 10000; i++) {
		uint64_t d = (i * 7919) % 10000 + 1;

		tg_enter(th, 0x1000, now);
		tg_exit(th, now + d);
		now += d;
	}
	tg_close(g);
	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(hot_collect(t, -1, 0, &h), 0);
	ck_assert_ptr_nonnull(h.funcs[0].hist);
	ck_assert_uint_eq(h.funcs[0].calls, 10000);
	ck_assert_uint_eq(h.funcs[0].min_ns, 1);
	ck_assert_uint_eq(h.funcs[0].max_ns, 10000);
	ck_assert_uint_eq(h.funcs[0].total_ns, 50005000);
	p50 = hot_percentile(&h.funcs[0], 50);
	p99 = hot_percentile(&h.funcs[0], 99);
	p1 = hot_percentile(&h.funcs[0], 1);
	/* the stated bound: within 1/32 of the exact values 5000, 9900, 100 */
	ck_assert_msg(p50 * 32 >= 5000 * 31 && p50 * 32 <= 5000 * 33, "p50 %lu", p50);
	ck_assert_msg(p99 * 32 >= 9900 * 31 && p99 * 32 <= 9900 * 33, "p99 %lu", p99);
	ck_assert_msg(p1 * 32 >= 100 * 31 && p1 * 32 <= 100 * 33, "p1 %lu", p1);
	ck_assert_uint_eq(hot_percentile(&h.funcs[0], 100), 10000);
	hot_free(&h);
	trace_close(t);
}
END_TEST

/*
 * hot_func_add (functions --tree): calls, times, min and max add up; percentiles stay exact
 * while the samples fit, and come from the merged histogram beyond (within its bound).
 */
START_TEST(test_func_add)
{
	struct hot_func a = { 0 }, b = { 0 }, big = { 0 };
	uint64_t i, p50;

	for (i = 1; i <= 3; i++) {
		a.calls++;
		a.sum_ns += i;
		hot_stat_add(&a, i);
	}
	a.min_ns = 1, a.max_ns = 3, a.total_ns = a.self_ns = 6;
	b.calls = 2, b.sum_ns = b.total_ns = 30, b.self_ns = 25, b.min_ns = 10, b.max_ns = 20;
	hot_stat_add(&b, 10);
	hot_stat_add(&b, 20);
	hot_func_add(&a, &b);
	ck_assert_uint_eq(a.calls, 5);
	ck_assert_uint_eq(a.total_ns, 36);
	ck_assert_uint_eq(a.self_ns, 31);
	ck_assert_uint_eq(a.min_ns, 1);
	ck_assert_uint_eq(a.max_ns, 20);
	ck_assert_uint_eq(hot_percentile(&a, 50), 3);	/* 1 2 3 10 20: rank 3 */
	ck_assert_uint_eq(hot_percentile(&a, 80), 10);
	/* 1000 calls of 1000..1999 ns (a histogram) plus those five */
	for (i = 0; i < 1000; i++) {
		big.calls++;
		hot_stat_add(&big, 1000 + i);
	}
	big.min_ns = 1000, big.max_ns = 1999;
	ck_assert_ptr_nonnull(big.hist);
	hot_func_add(&big, &a);
	ck_assert_uint_eq(big.calls, 1005);
	ck_assert_uint_eq(big.min_ns, 1);
	ck_assert_uint_eq(big.max_ns, 1999);
	p50 = hot_percentile(&big, 50);		/* rank 503: 1497 exactly */
	ck_assert_msg(p50 * 32 >= 1497 * 31 && p50 * 32 <= 1497 * 33, "p50 %lu", p50);
	free(a.samp);
	free(a.hist);
	free(b.samp);
	free(big.samp);
	free(big.hist);
}
END_TEST

/*
 * Three threads that meet the same functions and stacks in different orders: thread 10
 * calls 0x1000 (200 calls of 10 ns) and 0x2000; thread 20 calls 0x3000 and then 0x1000
 * (200 calls of 20 ns: the 400 together pass the exact samples, a histogram); thread 30
 * has the most bytes (dealt first) and calls 0x4000 then 0x2000. Allocation stacks and marks
 * in each. The walk split over 3 cores gives what one core gives: function ids in the
 * order one walk meets them, stack ids, marks, totals, and every figure of the table.
 */
static void split_trace(void)
{
	struct tg *g = tg_open(path);
	struct tg_thread *x = tg_thread(g, 10), *y = tg_thread(g, 20), *z = tg_thread(g, 30);
	const uint64_t s1[] = { 0x9100, 0x9000 }, s2[] = { 0x9200, 0x9000 };
	uint64_t i, now;

	for (i = 0, now = 0; i < 200; i++, now += 15) {
		tg_enter(x, 0x1000, now);
		tg_exit(x, now + 10);
	}
	tg_enter(x, 0x2000, now);
	tg_alloc(x, 0, 64, 0x50000, tg_stack(x, true, s1, 2), now + 1);
	tg_mark(x, "x-mark", now + 2);
	tg_exit(x, now + 5);
	tg_enter(y, 0x3000, 0);
	tg_alloc(y, 0, 32, 0x60000, tg_stack(y, true, s2, 2), 1);
	tg_alloc(y, 0, 32, 0x60100, tg_stack(y, true, s1, 2), 2);
	tg_exit(y, 3);
	for (i = 0, now = 10; i < 200; i++, now += 25) {
		tg_enter(y, 0x1000, now);
		tg_exit(y, now + 20);
	}
	tg_mark(y, "y-mark", now);
	for (i = 0, now = 0; i < 600; i++, now += 10) {
		tg_enter(z, 0x4000, now);
		tg_enter(z, 0x2000, now + 1);
		tg_exit(z, now + 4);
		tg_exit(z, now + 5);
	}
	tg_close(g);
}

/* the table, tree and trace state of @path with the walk on @jobs cores, as text */
static char *split_state(unsigned jobs, struct hot *h)
{
	struct trace *t;
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	uint32_t i, k;

	trace_set_jobs(jobs);
	ck_assert_int_eq(trace_open(path, &t), 0);
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(hot_collect(t, -1, HOT_TREE | HOT_EDGES, h), 0);
	fprintf(f, "funcs");
	for (i = 0; i < t->nfuncs; i++)
		fprintf(f, " %#lx", (unsigned long)t->funcs[i]);
	fprintf(f, "\nstacks %u:", trace_nstacks(t));
	for (i = 1; i <= trace_nstacks(t); i++) {
		struct trace_stack st = trace_stack_get(t, i);

		for (k = 0; k < st.nframes; k++)
			fprintf(f, " %#lx", (unsigned long)st.frames[k].ip);
		fprintf(f, ";");
	}
	fprintf(f, "\nmarks");
	for (i = 0; i < t->nmarks; i++)
		fprintf(f, " %s@%lu/%u", t->marks[i].label, (unsigned long)t->marks[i].ns,
			t->marks[i].tid);
	fprintf(f, "\nevents %lu calls %lu allocs %lu duration %lu\n", (unsigned long)t->nevents,
		(unsigned long)t->ncalls, (unsigned long)t->nallocs,
		(unsigned long)t->duration_ns);
	for (i = 0; i < h->nfuncs; i++)
		fprintf(f, "f%u calls %lu total %lu self %lu sum %lu min %lu max %lu p50 %lu "
			"p99 %lu\n", i, (unsigned long)h->funcs[i].calls,
			(unsigned long)h->funcs[i].total_ns, (unsigned long)h->funcs[i].self_ns,
			(unsigned long)h->funcs[i].sum_ns, (unsigned long)h->funcs[i].min_ns,
			(unsigned long)h->funcs[i].max_ns,
			(unsigned long)hot_percentile(&h->funcs[i], 50),
			(unsigned long)hot_percentile(&h->funcs[i], 99));
	for (i = 0; i < h->nedges; i++)
		fprintf(f, "e %u>%u %lu %lu %lu\n", h->edges[i].caller, h->edges[i].callee,
			(unsigned long)h->edges[i].calls, (unsigned long)h->edges[i].total_ns,
			(unsigned long)h->edges[i].self_ns);
	for (i = 0; i < h->nnodes; i++)
		fprintf(f, "n%u %u:%u %lu %lu %lu\n", i, h->nodes[i].parent, h->nodes[i].func,
			(unsigned long)h->nodes[i].calls, (unsigned long)h->nodes[i].total_ns,
			(unsigned long)h->nodes[i].self_ns);
	fclose(f);
	trace_close(t);
	return s;
}

START_TEST(test_split_walk)
{
	struct hot h1, h3;
	char *one, *three;
	struct opts o = default_opts();
	char *out1;

	split_trace();
	one = split_state(1, &h1);
	three = split_state(3, &h3);
	ck_assert_str_eq(three, one);
	/* what one walk gives, exactly: functions in the order thread 10, 20, 30 meet them */
	ck_assert_msg(strstr(one, "funcs 0x1000 0x2000 0x3000 0x4000\n"), "%s", one);
	ck_assert_msg(strstr(one, "stacks 3: 0x9000; 0x9100 0x9000; 0x9200 0x9000;\n"), "%s", one);
	ck_assert_msg(strstr(one, "marks x-mark@3002/10 y-mark@5010/20\n"), "%s", one);
	ck_assert_ptr_nonnull(h1.funcs[0].hist);	/* 400 calls: from the histogram */
	ck_assert_ptr_nonnull(h3.funcs[0].hist);
	ck_assert_msg(strstr(one, "f0 calls 400 total 6000 self 6000 sum 6000 min 10 max 20 "
				  "p50 10 p99 20\n"), "%s", one);
	ck_assert_msg(strstr(one, "f1 calls 601 total 1805 self 1805 sum 1805 min 3 max 5 "
				  "p50 3 p99 3\n"), "%s", one);
	hot_free(&h1);
	hot_free(&h3);
	free(one);
	free(three);
	/* and the reports' bytes */
	o.format = FMT_JSON;
	trace_set_jobs(1);
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	out1 = output;
	output = NULL;
	trace_set_jobs(3);
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	ck_assert_str_eq(output, out1);
	free(out1);
	trace_set_jobs(0);
}
END_TEST

/*
 * model_build walks EXITs only and gives each open call its node at the first EXIT within
 * it: the nodes must be those of ctree_build's ENTRY walk, numbered alike (entry order).
 * Thread 10: main 0 { a 10 { b 20-30 } 40; c 50 { d 60 { e 70-80 } } EXITS 2 at 90;
 * a 100 { b 110-120 } 130; f 140 { g 150 (left open: closed at the end, 200) } }; thread 20:
 * x 5 { y 6-7 } 8, then y 9-11 at depth 0.
 */
START_TEST(test_model_nodes)
{
	static const struct {
		uint32_t parent;
		uint64_t addr;		/* 0: the thread's root */
		uint64_t calls, self;
	} want[] = {
		{ 0, 0, 0, 0 },			/* 1: thread 10 */
		{ 1, 0x1000, 1, 40 },		/* 2: main (200: a 30 + 30, c 40, f 60) */
		{ 2, 0x2000, 2, 40 },		/* 3: a (30 + 20 less b 10 + 10) */
		{ 3, 0x3000, 2, 20 },		/* 4: b */
		{ 2, 0x4000, 1, 10 },		/* 5: c 50-90 less d 30 */
		{ 5, 0x5000, 1, 20 },		/* 6: d 60-90 less e 10 */
		{ 6, 0x6000, 1, 10 },		/* 7: e */
		{ 2, 0x7000, 1, 10 },		/* 8: f 140-200 less g 50 */
		{ 8, 0x8000, 1, 50 },		/* 9: g */
		{ 0, 0, 0, 0 },			/* 10: thread 20 */
		{ 10, 0x9000, 1, 2 },		/* 11: x 5-8 less y 1 */
		{ 11, 0xa000, 1, 1 },		/* 12: y under x */
		{ 10, 0xa000, 1, 2 },		/* 13: y at depth 0 */
	};
	struct tg *g = tg_open(path);
	struct tg_thread *x = tg_thread(g, 10), *y = tg_thread(g, 20);
	struct model m;
	struct ctree ct;
	struct trace *t;
	uint32_t i;

	tg_enter(x, 0x1000, 0);
	tg_enter(x, 0x2000, 10);
	tg_enter(x, 0x3000, 20);
	tg_exit(x, 30);
	tg_exit(x, 40);
	tg_enter(x, 0x4000, 50);
	tg_enter(x, 0x5000, 60);
	tg_enter(x, 0x6000, 70);
	tg_exit(x, 80);
	tg_exits(x, 2, 90);
	tg_enter(x, 0x2000, 100);
	tg_enter(x, 0x3000, 110);
	tg_exit(x, 120);
	tg_exit(x, 130);
	tg_enter(x, 0x7000, 140);
	tg_enter(x, 0x8000, 150);
	tg_exit(x, 200);	/* g: the reader closes main and f at the end, at 200 */
	tg_enter(y, 0x9000, 5);
	tg_enter(y, 0xa000, 6);
	tg_exit(y, 7);
	tg_exit(y, 8);
	tg_enter(y, 0xa000, 9);
	tg_exit(y, 11);
	tg_close(g);

	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(ctree_build(t, -1, true, false, &ct), 0);
	ck_assert_int_eq(model_build(t, -1, HOT_EDGES | HOT_TREE, 0, true, &m), 0);
	ck_assert_uint_eq(ct.nnodes, 14);
	ck_assert_uint_eq(m.ct.nnodes, 14);
	for (i = 1; i < 14; i++) {
		const struct ctree_node *a = &m.ct.nodes[i], *b = &ct.nodes[i];

		ck_assert_uint_eq(a->parent, want[i - 1].parent);
		if (want[i - 1].addr)
			ck_assert_msg(!(a->func & CTREE_THREAD) &&
				      t->funcs[a->func] == want[i - 1].addr, "node %u", i);
		else
			ck_assert_msg(a->func & CTREE_THREAD, "node %u", i);
		ck_assert_uint_eq(a->calls, want[i - 1].calls);
		ck_assert_uint_eq(a->self_ns, want[i - 1].self);
		/* and ctree_build's, node for node */
		ck_assert_uint_eq(a->parent, b->parent);
		ck_assert_uint_eq(a->func, b->func);
		ck_assert_uint_eq(a->calls, b->calls);
		ck_assert_uint_eq(a->self_ns, b->self_ns);
	}
	ctree_free(&ct);
	model_free(&m);
	trace_close(t);
}
END_TEST

/* thread 10: main { a }, thread 20: c, c */
static void two_threads(void)
{
	struct tg *g = tg_open(path);
	struct tg_thread *x = tg_thread(g, 10), *y = tg_thread(g, 20);

	tg_enter(x, 0x1000, 0);
	tg_enter(x, 0x2000, 10);
	tg_exit(x, 30);
	tg_exit(x, 100);
	tg_enter(y, 0x4000, 5);
	tg_exit(y, 15);
	tg_enter(y, 0x4000, 20);
	tg_exit(y, 50);
	tg_thread_name(y, "worker");
	tg_close(g);
}

START_TEST(test_thread_select)
{
	struct opts o = default_opts();

	two_threads();
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x4000", 2, 40, 40, 20, 10, 30, 10, 30));
	has(ROW("0x1000", 1, 100, 80, 100, 100, 100, 100, 100));
	o.thread_set = 1;
	o.thread_tid = 20;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(ROW("0x4000", 2, 40, 40, 20, 10, 30, 10, 30));
	hasnt("0x1000");
	o.thread_tid = 99;
	ck_assert_int_eq(run(report_functions, &o), -1);
	o.thread_set = 0;
	o.per_thread = 1;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("\"threads\":[{\"tid\":10,\"name\":\"\",\"functions\":[" ROW("0x1000", 1, 100, 80, 100,
									  100, 100, 100, 100));
	has("{\"tid\":20,\"name\":\"worker\",\"functions\":[" ROW("0x4000", 2, 40, 40, 20, 10, 30,
								 10, 30) "]}");
}
END_TEST

/*
 * A fork child's trace where an inherited call (entered before the trace began) lies inside
 * one of the child's own calls: a damaged clock or a crafted trace; the reader puts
 * inherited calls outermost in real ones. The EXITs-only model skips it as the ENTRY walk
 * does: C's caller is A, and the inherited B gets no node (it did before the skip).
 */
START_TEST(test_model_inherited_inside)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a;
	struct model m;
	struct ctree ct;
	struct trace *t;
	uint32_t i, fb;

	g->hdr.flags |= TRACE_F_CHILD;
	g->hdr.start_ticks = 1000;
	a = tg_thread(g, 100);
	tg_enter(a, 0x1000, 2000);		/* A, own */
	fb = tg_func(a, 0x1100);
	tg_entry_at(a, fb, 500);		/* B: before the start, so inherited */
	tg_enter(a, 0x1200, 3000);		/* C, own, twice */
	tg_exit(a, 4000);
	tg_enter(a, 0x1200, 4500);
	tg_exit(a, 4800);
	tg_exit(a, 5000);			/* B */
	tg_exit(a, 6000);			/* A */
	tg_close(g);

	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(ctree_build(t, -1, true, false, &ct), 0);
	ck_assert_int_eq(model_build(t, -1, HOT_EDGES | HOT_TREE, 0, true, &m), 0);
	ck_assert_uint_eq(ct.nnodes, 4);	/* [0], the thread, A, C */
	ck_assert_uint_eq(m.ct.nnodes, 4);
	ck_assert_uint_eq(m.ct.nodes[2].parent, 1);
	ck_assert_uint_eq(t->funcs[m.ct.nodes[2].func], 0x1000);
	ck_assert_uint_eq(m.ct.nodes[3].parent, 2);
	ck_assert_uint_eq(t->funcs[m.ct.nodes[3].func], 0x1200);
	ck_assert_uint_eq(m.ct.nodes[3].calls, 2);
	for (i = 1; i < 4; i++) {
		ck_assert_uint_eq(m.ct.nodes[i].parent, ct.nodes[i].parent);
		ck_assert_uint_eq(m.ct.nodes[i].func, ct.nodes[i].func);
		ck_assert_uint_eq(m.ct.nodes[i].calls, ct.nodes[i].calls);
	}
	ctree_free(&ct);
	model_free(&m);
	trace_close(t);
}
END_TEST

START_TEST(test_sort_limit_filter)
{
	struct opts o = default_opts();

	two_threads();
	o.format = FMT_JSON;
	o.sort = "calls";
	o.limit = 1;
	ck_assert_int_eq(run(report_functions, &o), 0);
	ck_assert_str_eq(output, "{\"complete\":true,\"incomplete\":[],\"warnings\":[],\"functions\":[" ROW("0x4000", 2, 40, 40, 20, 10, 30, 10, 30)
				 "]}\n");
	o.sort = "self_ns";
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("\"0x1000\"");
	hasnt("\"0x4000\"");
	o.sort = "name";
	o.limit = -1;
	o.filter = "^0x[24]";
	ck_assert_int_eq(run(report_functions, &o), 0);
	ck_assert_str_eq(output, "{\"complete\":true,\"incomplete\":[],\"warnings\":[],\"functions\":[" ROW("0x2000", 1, 20, 20, 20, 20, 20, 20, 20)
				 "," ROW("0x4000", 2, 40, 40, 20, 10, 30, 10, 30) "]}\n");
	o.filter = "([";
	ck_assert_int_eq(run(report_functions, &o), -1);
	o.filter = NULL;
	o.sort = "bogus";
	ck_assert_int_eq(run(report_functions, &o), -1);
}
END_TEST

START_TEST(test_text_table)
{
	struct opts o = default_opts();

	nested_trace();
	ck_assert_int_eq(run(report_functions, &o), 0);
	ck_assert_str_eq(output,
			 "  Total    Self  Calls      Avg      Min      Max      P50      P99  Function\n"
			 "1.00 us  600 ns      1  1.00 us  1.00 us  1.00 us  1.00 us  1.00 us  0x1000\n"
			 " 300 ns  100 ns      1   300 ns   300 ns   300 ns   300 ns   300 ns  0x2000\n"
			 " 300 ns  300 ns      2   150 ns   100 ns   200 ns   100 ns   200 ns  0x3000\n");
}
END_TEST

START_TEST(test_csv)
{
	struct opts o = default_opts();

	two_threads();
	o.format = FMT_CSV;
	ck_assert_int_eq(run(report_functions, &o), 0);
	ck_assert_str_eq(output,
			 "name,module,addr,calls,total_ns,self_ns,avg_ns,min_ns,max_ns,p50_ns,p99_ns,"
			 "file,line\n"
			 "0x1000,?,0x1000,1,100,80,100,100,100,100,100,,\n"
			 "0x4000,?,0x4000,2,40,40,20,10,30,10,30,,\n"
			 "0x2000,?,0x2000,1,20,20,20,20,20,20,20,,\n");
	o.per_thread = 1;
	ck_assert_int_eq(run(report_functions, &o), 0);
	ck_assert_str_eq(output,
			 "tid,name,module,addr,calls,total_ns,self_ns,avg_ns,min_ns,max_ns,p50_ns,"
			 "p99_ns,file,line\n"
			 "10,0x1000,?,0x1000,1,100,80,100,100,100,100,100,,\n"
			 "10,0x2000,?,0x2000,1,20,20,20,20,20,20,20,,\n"
			 "20,0x4000,?,0x4000,2,40,40,20,10,30,10,30,,\n");
}
END_TEST

START_TEST(test_callgraph_function)
{
	struct opts o = default_opts();

	nested_trace();
	o.format = FMT_JSON;
	o.function = "0x3000";
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	ck_assert_str_eq(output,
			 "{\"complete\":true,\"incomplete\":[],\"warnings\":[],\"functions\":[{\"name\":\"0x3000\",\"module\":\"?\",\"file\":null,\"line\":null,\"calls\":2,"
			 "\"total_ns\":300,\"self_ns\":300,\"callers\":["
			 "{\"name\":\"0x2000\",\"file\":null,\"line\":null,\"calls\":1,\"total_ns\":200,\"self_ns\":200},"
			 "{\"name\":\"0x1000\",\"file\":null,\"line\":null,\"calls\":1,\"total_ns\":100,\"self_ns\":100}],"
			 "\"callees\":[]}]}\n");
	o.function = "0x1000";
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	has("\"callers\":[{\"name\":\"<root>\",\"file\":null,\"line\":null,\"calls\":1,\"total_ns\":1000,\"self_ns\":600}]");
	has("\"callees\":[{\"name\":\"0x2000\",\"file\":null,\"line\":null,\"calls\":1,\"total_ns\":300,\"self_ns\":100},"
	    "{\"name\":\"0x3000\",\"file\":null,\"line\":null,\"calls\":1,\"total_ns\":100,\"self_ns\":100}]");
	o.function = "nosuch";
	ck_assert_int_eq(run(report_callgraph, &o), -1);
}
END_TEST

START_TEST(test_callgraph_tree)
{
	struct opts o = default_opts();

	nested_trace();
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	ck_assert_str_eq(output,
			 "{\"complete\":true,\"incomplete\":[],\"warnings\":[],\"total_ns\":1000,\"nodes\":["
			 "{\"id\":1,\"parent\":0,\"depth\":0,\"name\":\"0x1000\",\"file\":null,\"line\":null,"
			 "\"calls\":1,\"total_ns\":1000,\"self_ns\":600},"
			 "{\"id\":2,\"parent\":1,\"depth\":1,\"name\":\"0x2000\",\"file\":null,\"line\":null,"
			 "\"calls\":1,\"total_ns\":300,\"self_ns\":100},"
			 "{\"id\":3,\"parent\":2,\"depth\":2,\"name\":\"0x3000\",\"file\":null,\"line\":null,"
			 "\"calls\":1,\"total_ns\":200,\"self_ns\":200},"
			 "{\"id\":4,\"parent\":1,\"depth\":1,\"name\":\"0x3000\",\"file\":null,\"line\":null,"
			 "\"calls\":1,\"total_ns\":100,\"self_ns\":100}]}\n");
	o.depth = 2;
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	hasnt("\"id\":3");
	has("\"id\":4");
	o.depth = -1;
	o.min_percent = 15;	/* hides the 100 ns node (10%) */
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	has("\"id\":3");
	hasnt("\"id\":4");
	o.format = FMT_TEXT;
	o.min_percent = 0;
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	ck_assert_str_eq(output,
			 "  Total      %    Self  Calls  Function\n"
			 "1.00 us  100.0  600 ns      1  0x1000\n"
			 " 300 ns   30.0  100 ns      1    0x2000\n"
			 " 200 ns   20.0  200 ns      1      0x3000\n"
			 " 100 ns   10.0  100 ns      1    0x3000\n");
}
END_TEST

/*
 * main 0..1000 { a 100..300 { c 150..250 }, b 400..700 { c 450..650 } }: b's frame is where
 * a's was, and both call c; each c is its caller's (the frames' last-callee caches).
 */
START_TEST(test_callgraph_siblings)
{
	struct opts o = default_opts();
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);

	tg_enter(th, 0x1000, 0);
	tg_enter(th, 0x2000, 100);
	tg_enter(th, 0x4000, 150);
	tg_exit(th, 250);
	tg_exit(th, 300);
	tg_enter(th, 0x3000, 400);
	tg_enter(th, 0x4000, 450);
	tg_exit(th, 650);
	tg_exit(th, 700);
	tg_exit(th, 1000);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	has("{\"id\":3,\"parent\":2,\"depth\":2,\"name\":\"0x4000\",\"file\":null,\"line\":null,"
	    "\"calls\":1,\"total_ns\":100,\"self_ns\":100}");
	has("{\"id\":4,\"parent\":1,\"depth\":1,\"name\":\"0x3000\",\"file\":null,\"line\":null,"
	    "\"calls\":1,\"total_ns\":300,\"self_ns\":100}");
	has("{\"id\":5,\"parent\":4,\"depth\":2,\"name\":\"0x4000\",\"file\":null,\"line\":null,"
	    "\"calls\":1,\"total_ns\":200,\"self_ns\":200}");
	o.function = "0x4000";
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	has("\"callers\":[{\"name\":\"0x3000\",\"file\":null,\"line\":null,\"calls\":1,"
	    "\"total_ns\":200,\"self_ns\":200},{\"name\":\"0x2000\",\"file\":null,\"line\":null,"
	    "\"calls\":1,\"total_ns\":100,\"self_ns\":100}]");
}
END_TEST

START_TEST(test_no_calls)
{
	struct tg *g = tg_open(path);
	struct opts o = default_opts();

	tg_alloc(tg_thread(g, 1), 0, 10, 0x100, 0, 5);
	tg_close(g);
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("No function calls");
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	ck_assert_str_eq(output, "{\"complete\":true,\"incomplete\":[],\"warnings\":[],\"functions\":[]}\n");
}
END_TEST

/* ---- names when one thread is walked: the modules come from another thread ---- */

void hot_fn_b(void);
void __attribute__((noinline)) hot_fn_b(void) { __asm__ volatile("nop; nop; nop; nop"); }

START_TEST(test_thread_names)
{
	struct tg *g = tg_open(path);
	struct tg_thread *x = tg_thread(g, 10), *y = tg_thread(g, 20);
	uint64_t fn = (uint64_t)(uintptr_t)hot_fn_b;
	struct opts o = default_opts();

	tu_module_of(x, fn, 1);		/* the main thread records it */
	tg_enter(y, fn, 10);
	tg_exit(y, 30);
	tg_close(g);
	o.format = FMT_JSON;
	o.thread_set = 1;
	o.thread_tid = 20;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("{\"name\":\"hot_fn_b\",\"module\":\"test-report-hot\",");
	o.function = "hot_fn_b";
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	has("\"name\":\"hot_fn_b\"");
}
END_TEST

START_TEST(test_summary)
{
	struct tg *g = tg_open(path);
	struct tg_thread *x = tg_thread(g, 10), *y = tg_thread(g, 20);
	struct opts o = default_opts();

	tg_process(x, 1000, 1, "/bin/prog", "prog\0-x\0", 8);
	tg_enter(x, 0x1000, 0);
	tg_alloc(x, 0, 100, 0x5000, 0, 10);
	tg_alloc(x, 0, 50, 0x6000, 0, 20);
	tg_free(x, 0x5000, 30);
	tg_lost(x, 4);
	tg_exit(x, 1000);
	tg_enter(y, 0x2000, 100);
	tg_exit(y, 300);
	tg_thread_name(y, "worker");
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"complete\":true,\"incomplete\":[],\"warnings\":[\"4 events were dropped by the "
	    "recorder (LOST records: it could not record them): counts may be short\"],"
	    "\"process_finished\":true,\"program\":\"/bin/prog\",\"cmdline\":\"prog -x\","
	    "\"pid\":1000,\"ppid\":1,");
	has("\"duration_ns\":1000,");
	has("{\"tid\":20,\"name\":\"worker\",\"first_ns\":0,\"last_ns\":300,\"chunks\":1,");
	has("\"events\":{\"total\":7,\"calls\":2,\"allocs\":2,\"frees\":1,\"reallocs\":0,"
	    "\"lost\":4,\"unmatched_exits\":0,\"marks\":0,\"modules\":0}");
	has("\"functions\":[{\"name\":\"0x1000\",\"module\":\"?\",\"file\":null,\"line\":null,\"calls\":1,\"total_ns\":1000,"
	    "\"self_ns\":1000},{\"name\":\"0x2000\",\"module\":\"?\",\"file\":null,\"line\":null,\"calls\":1,"
	    "\"total_ns\":200,\"self_ns\":200}]");
	has("\"memory\":{\"allocations\":2,\"frees\":1,\"bytes_allocated\":150,");
	has("\"leaked_bytes\":50,\"leaked_blocks\":1}");
	has("\"leaks\":[{\"stack\":[],\"frames\":[],\"truncated\":false,\"bytes\":50,\"blocks\":1}]");
	o.format = FMT_TEXT;
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("Program:    /bin/prog\nCommand:    prog -x\n");
	has("Threads:    2 (20 worker, ...)\n");	/* thread 10 has no name */
	has("Events:     7 (2 calls, 2 allocations, 1 frees, 0 reallocs)\n");
	has("Lost:       4 events dropped by the recorder\n");
	/* the warning block first, on stdout */
	ck_assert_msg(!strncmp(output, "Warning: 4 events were dropped by the recorder", 46), "%s",
		      output);
}
END_TEST

/* ---- output helpers (text.c, json.c) ---- */

START_TEST(test_units)
{
	char b[64];

	ck_assert_str_eq(fmt_ns(b, sizeof(b), 0), "0 ns");
	ck_assert_str_eq(fmt_ns(b, sizeof(b), 999), "999 ns");
	ck_assert_str_eq(fmt_ns(b, sizeof(b), 1250), "1.25 us");
	ck_assert_str_eq(fmt_ns(b, sizeof(b), 3400000), "3.40 ms");
	ck_assert_str_eq(fmt_ns(b, sizeof(b), 2000000000), "2.00 s");
	ck_assert_str_eq(fmt_bytes(b, sizeof(b), 512), "512 B");
	ck_assert_str_eq(fmt_bytes(b, sizeof(b), 1536), "1.5 KiB");
	ck_assert_str_eq(fmt_bytes(b, sizeof(b), 3355443), "3.2 MiB");
	ck_assert_str_eq(fmt_bytes(b, sizeof(b), UINT64_MAX), "16.0 EiB");
	ck_assert_str_eq(fmt_count(b, sizeof(b), 0), "0");
	ck_assert_str_eq(fmt_count(b, sizeof(b), 999), "999");
	ck_assert_str_eq(fmt_count(b, sizeof(b), 1234567), "1,234,567");
	ck_assert_str_eq(fmt_count(b, sizeof(b), UINT64_MAX), "18,446,744,073,709,551,615");
	ck_assert_str_eq(fmt_count(b, 4, 1234567), "1,2");	/* cut, still terminated */
}
END_TEST

START_TEST(test_short_name)
{
	char b[128];
	const char *n = "std::vector<std::pair<int, long>, std::allocator<std::pair<int, long> > >"
			"::push_back(std::pair<int, long> const&)";

	ck_assert_str_eq(short_name("main", b, sizeof(b), 40), "main");
	ck_assert_str_eq(short_name(n, b, sizeof(b), 60), "std::vector<...>::push_back(...)");
	ck_assert_str_eq(short_name("ns::Widget<int>::run()", b, sizeof(b), 10),
			 "...::run()");
	ck_assert_str_eq(short_name(NULL, b, sizeof(b), 10), "?");
}
END_TEST

START_TEST(test_json_writer)
{
	struct json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_str(&j, "s", "a\"b\\c\n\x01");
	json_u64(&j, "u", UINT64_MAX);
	json_i64(&j, "i", -5);
	json_dbl(&j, "d", 0.5);
	json_dbl(&j, "nan", 0.0 / 0.0);
	json_bool(&j, "b", true);
	json_null(&j, "n");
	json_str(&j, "null", NULL);
	json_arr_begin(&j, "a");
	json_u64(&j, NULL, 1);
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	json_arr_begin(&j, NULL);
	json_arr_end(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
	fclose(f);
	ck_assert_str_eq(buf, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"u\":18446744073709551615,"
			      "\"i\":-5,\"d\":0.5,\"nan\":null,\"b\":true,\"n\":null,\"null\":null,"
			      "\"a\":[1,{},[]]}\n");
	free(buf);
}
END_TEST

START_TEST(test_table)
{
	static const char *const hdr[] = { "Name", "Count", "Last" };
	struct table *tb = table_new(3, hdr, "lrl");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	table_add(tb, "a", "1", "x");
	table_add(tb, "longer", "12345", "the end");
	table_print(tb, f);
	table_free(tb);
	fclose(f);
	ck_assert_str_eq(buf, "Name    Count  Last\n"
			      "a           1  x\n"
			      "longer  12345  the end\n");
	free(buf);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report-hot");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_self_total);
	tcase_add_test(tc, test_func_add);
	tcase_add_test(tc, test_recursion_once);
	tcase_add_test(tc, test_longjmp_exits);
	tcase_add_test(tc, test_percentiles_exact);
	tcase_add_test(tc, test_percentiles_histogram);
	tcase_add_test(tc, test_thread_select);
	tcase_add_test(tc, test_split_walk);
	tcase_add_test(tc, test_model_nodes);
	tcase_add_test(tc, test_model_inherited_inside);
	tcase_add_test(tc, test_sort_limit_filter);
	tcase_add_test(tc, test_text_table);
	tcase_add_test(tc, test_csv);
	tcase_add_test(tc, test_callgraph_function);
	tcase_add_test(tc, test_callgraph_tree);
	tcase_add_test(tc, test_callgraph_siblings);
	tcase_add_test(tc, test_no_calls);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_thread_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_short_name);
	tcase_add_test(tc, test_json_writer);
	tcase_add_test(tc, test_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	free(output);
	return failed ? 1 : 0;
}
