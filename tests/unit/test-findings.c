// SPDX-License-Identifier: MIT
/*
 * Unit tests of analyzer/findings.c over synthetic traces: every threshold of
 * findings.h exactly at, just below and just above its boundary, and the blocking rule over
 * synthetic per-function waits (the trace format has no waits yet: the rule's input is
 * struct findings_waits, empty for a trace without them).
 */
#define PR_FMT "test"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/findings.h"
#include "tests/unit/testutil.h"

/* functions of this binary, so that names resolve (a MODULE record of the test itself) */
void fnd_main(void);
void fnd_loader(void);
void fnd_leaf(void);
void fnd_mid(void);
void __attribute__((noinline)) fnd_main(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) fnd_loader(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) fnd_leaf(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) fnd_mid(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
#define FMAIN ((uint64_t)(uintptr_t)fnd_main)
#define FLOADER ((uint64_t)(uintptr_t)fnd_loader)
#define FLEAF ((uint64_t)(uintptr_t)fnd_leaf)
#define FMID ((uint64_t)(uintptr_t)fnd_mid)

static char path[64];

static void setup(void)
{
	tu_tmpfile(path, "test-findings");
}

static struct findings fnd;
static struct trace *cur;		/* the trace fnd names its findings from */

static void teardown(void)
{
	findings_free(&fnd);
	if (cur)
		trace_close(cur);
	cur = NULL;
	unlink(path);
}

/* findings of the trace at path with options @o: how many of rule @rule (NULL: all) */
static unsigned collect(const struct opts *o, const struct findings_waits *w, const char *rule)
{
	unsigned i, n = 0;

	findings_free(&fnd);
	if (cur)
		trace_close(cur);
	ck_assert_int_eq(trace_open(path, &cur), 0);
	ck_assert_int_eq(findings_collect(cur, o, w, &fnd), 0);
	for (i = 0; i < fnd.n; i++)
		n += !rule || !strcmp(fnd.v[i].rule, rule);
	return n;
}

static unsigned count(const char *rule)
{
	struct opts o = tu_opts();

	return collect(&o, NULL, rule);
}

/* the evidence @key of the first finding of @rule */
static uint64_t evidence(const char *rule, const char *key)
{
	unsigned i, k;

	for (i = 0; i < fnd.n; i++) {
		if (strcmp(fnd.v[i].rule, rule))
			continue;
		for (k = 0; k < fnd.v[i].nev; k++)
			if (!strcmp(fnd.v[i].ev[k].key, key))
				return fnd.v[i].ev[k].v;
		ck_abort_msg("%s: no evidence %s", rule, key);
	}
	ck_abort_msg("no finding %s", rule);
	return 0;
}

static const char *name_of(const char *rule)
{
	unsigned i;

	for (i = 0; i < fnd.n; i++)
		if (!strcmp(fnd.v[i].rule, rule))
			return fnd.v[i].name;
	ck_abort_msg("no finding %s", rule);
	return NULL;
}

/* a trace of one thread: the module of this binary, main entered at 1000 */
static struct tg *start(struct tg_thread **th)
{
	struct tg *g = tg_open(path);

	*th = tg_thread(g, 10);
	tu_module_of(*th, FMAIN, 0);
	tg_enter(*th, FMAIN, 1000);
	return g;
}

/* a stack: a return address inside @fn, then main */
static uint32_t stack_in(struct tg_thread *th, uint64_t fn)
{
	uint64_t ips[2] = { fn + 4, FMAIN + 4 };

	return tg_stack(th, true, ips, 2);
}

/* churn: @kept blocks held across @temp alloc/free pairs of one site, then freed */
static void churn_trace(unsigned temp, unsigned kept)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint32_t st = stack_in(th, FLOADER);
	uint64_t ns = 2000;
	unsigned i;

	for (i = 0; i < kept; i++)
		tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0x100000 + i * 64ULL, st, ns++);
	for (i = 0; i < temp; i++) {
		tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0x900000, st, ns++);
		tg_free(th, 0x900000, ns++);
	}
	for (i = 0; i < kept; i++)
		tg_free(th, 0x100000 + i * 64ULL, ns++);
	tg_exit(th, ns + 10);
	tg_close(g);
}

START_TEST(churn_boundary)
{
	churn_trace(999, 0);
	ck_assert_uint_eq(count("churn"), 0);
	churn_trace(1000, 0);
	ck_assert_uint_eq(count("churn"), 1);
	ck_assert_uint_eq(evidence("churn", "temporary"), 1000);
	ck_assert_uint_eq(evidence("churn", "allocations"), 1000);
	ck_assert_uint_eq(evidence("churn", "bytes"), 32000);
	ck_assert_str_eq(name_of("churn"), "fnd_loader");
	churn_trace(1000, 1000);	/* exactly 50% temporary */
	ck_assert_uint_eq(count("churn"), 1);
	ck_assert_uint_eq(evidence("churn", "allocations"), 2000);
	churn_trace(1000, 1001);
	ck_assert_uint_eq(count("churn"), 0);
}
END_TEST

/* realloc: a block grown @n times by 16 bytes (then freed); @geometric: doubling */
static void realloc_trace(unsigned n, bool geometric)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint32_t st = stack_in(th, FLOADER);
	uint64_t ns = 2000, size = 16, p = 0x200000;
	unsigned i;

	tg_alloc(th, TRACE_ALLOC_MALLOC, size, p, st, ns++);
	for (i = 0; i < n; i++) {
		uint64_t q = p + 0x10000;	/* moved each time */

		size = geometric ? size * 2 : size + 16;
		tg_realloc(th, p, q, size, st, ns, ns + 1);
		ns += 2;
		p = q;
	}
	tg_free(th, p, ns++);
	tg_exit(th, ns + 10);
	tg_close(g);
}

START_TEST(realloc_boundary)
{
	realloc_trace(31, false);
	ck_assert_uint_eq(count("realloc-growth"), 0);
	realloc_trace(32, false);
	ck_assert_uint_eq(count("realloc-growth"), 1);
	ck_assert_uint_eq(evidence("realloc-growth", "reallocs"), 32);
	ck_assert_uint_eq(evidence("realloc-growth", "step_bytes"), 16);
	ck_assert_uint_eq(evidence("realloc-growth", "final_bytes"), 16 + 32 * 16);
	/* 16 + 32 + ... + 512: 16 * (1 + ... + 32) */
	ck_assert_uint_eq(evidence("realloc-growth", "copied_bytes"), 16 * 528);
	realloc_trace(40, true);
	ck_assert_uint_eq(count("realloc-growth"), 0);
}
END_TEST

/* n-plus-one, calls: @parents calls of mid, each calling leaf @per times, each call of leaf
 * taking @dur ns and calling @inner once (so it is not a leaf) */
static void n1_trace_in(unsigned parents, unsigned per, uint64_t dur, uint64_t inner)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint64_t ns = 2000;
	unsigned i, k;

	for (i = 0; i < parents; i++) {
		tg_enter(th, FMID, ns++);
		for (k = 0; k < per; k++) {
			tg_enter(th, FLEAF, ns);
			tg_enter(th, inner, ns + 1);
			tg_exit(th, ns + 2);
			tg_exit(th, ns + dur);
			ns += dur + 1;
		}
		tg_exit(th, ns++);
	}
	tg_exit(th, ns + 10);
	tg_close(g);
}

static void n1_trace(unsigned parents, unsigned per, uint64_t dur)
{
	n1_trace_in(parents, per, dur, FLOADER);
}

START_TEST(n1_calls_boundary)
{
	n1_trace(3, 19, FINDINGS_N1_MIN_NS);
	ck_assert_uint_eq(count("n-plus-one"), 0);
	n1_trace(3, 20, FINDINGS_N1_MIN_NS);
	ck_assert_uint_eq(count("n-plus-one"), 1);
	ck_assert_str_eq(name_of("n-plus-one"), "fnd_leaf");
	ck_assert_uint_eq(evidence("n-plus-one", "calls"), 60);
	ck_assert_uint_eq(evidence("n-plus-one", "parent_calls"), 3);
	ck_assert_uint_eq(evidence("n-plus-one", "per_call"), 20);
	ck_assert_uint_eq(evidence("n-plus-one", "avg_ns"), FINDINGS_N1_MIN_NS);
	n1_trace(3, 20, FINDINGS_N1_MIN_NS - 1);
	ck_assert_uint_eq(count("n-plus-one"), 0);
	/* leaf calls mid again (an interpreter's loop body re-entering it): not N+1 */
	n1_trace_in(3, 40, FINDINGS_N1_MIN_NS * 2, FMID);
	ck_assert_uint_eq(count("n-plus-one"), 0);
}
END_TEST

/* n-plus-one, allocations: @calls calls of loader, each allocating @per blocks of @size
 * (the last one @odd bytes more), all kept until the end and freed */
static void n1_alloc_trace(unsigned calls, unsigned per, uint64_t odd)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint32_t st = stack_in(th, FLOADER);
	uint64_t ns = 2000, p = 0x300000;
	unsigned i, k;

	for (i = 0; i < calls; i++) {
		tg_enter(th, FLOADER, ns++);
		for (k = 0; k < per; k++)
			tg_alloc(th, TRACE_ALLOC_MALLOC, 24 + (i == calls - 1 && k == per - 1 ? odd : 0),
				 p + (i * per + k) * 64ULL, st, ns++);
		tg_exit(th, ns++);
	}
	for (i = 0; i < calls * per; i++)
		tg_free(th, p + i * 64ULL, ns++);
	tg_exit(th, ns + 10);
	tg_close(g);
}

START_TEST(n1_alloc_boundary)
{
	n1_alloc_trace(3, 19, 0);
	ck_assert_uint_eq(count("n-plus-one"), 0);
	n1_alloc_trace(3, 20, 0);
	ck_assert_uint_eq(count("n-plus-one"), 1);
	ck_assert_str_eq(name_of("n-plus-one"), "fnd_loader");
	ck_assert_uint_eq(evidence("n-plus-one", "allocations"), 60);
	ck_assert_uint_eq(evidence("n-plus-one", "size_bytes"), 24);
	ck_assert_uint_eq(evidence("n-plus-one", "calls"), 3);
	ck_assert_uint_eq(evidence("n-plus-one", "per_call"), 20);
	n1_alloc_trace(3, 20, 8);	/* not all the same size */
	ck_assert_uint_eq(count("n-plus-one"), 0);
}
END_TEST

/* tiny-hot: leaf called @n times for @dur ns each, and mid (not a leaf) @other times */
static void tiny_trace(unsigned n, uint64_t dur, unsigned other)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint64_t ns = 2000;
	unsigned i;

	for (i = 0; i < n; i++) {
		tg_enter(th, FLEAF, ns);
		tg_exit(th, ns + dur);
		ns += dur + 1;
	}
	for (i = 0; i < other; i++) {
		tg_enter(th, FMID, ns++);
		tg_enter(th, FLOADER, ns++);
		tg_exit(th, ns++);
		tg_exit(th, ns++);
	}
	tg_exit(th, ns + 10);
	tg_close(g);
}

START_TEST(tiny_boundary)
{
	tiny_trace(FINDINGS_TINY_MIN_CALLS - 1, 100, 0);
	ck_assert_uint_eq(count("tiny-hot"), 0);
	tiny_trace(FINDINGS_TINY_MIN_CALLS, FINDINGS_TINY_MAX_NS, 0);
	ck_assert_uint_eq(count("tiny-hot"), 1);
	ck_assert_str_eq(name_of("tiny-hot"), "fnd_leaf");
	ck_assert_uint_eq(evidence("tiny-hot", "calls"), 10000);
	ck_assert_uint_eq(evidence("tiny-hot", "all_calls"), 10001);
	ck_assert_uint_eq(evidence("tiny-hot", "avg_ns"), FINDINGS_TINY_MAX_NS);
	tiny_trace(FINDINGS_TINY_MIN_CALLS, FINDINGS_TINY_MAX_NS + 1, 0);
	ck_assert_uint_eq(count("tiny-hot"), 0);
	/* 10,000 of 20,000 calls (main, 4,999 mid and 4,999 loader): exactly 50% */
	tiny_trace(10000, 100, 4999);
	ck_assert_uint_eq(count("tiny-hot"), 1);
	ck_assert_uint_eq(evidence("tiny-hot", "percent"), 50);
	tiny_trace(10000, 100, 5000);
	ck_assert_uint_eq(count("tiny-hot"), 0);
}
END_TEST

/* deep-recursion: mid nested @depth deep */
static void recursion_trace(unsigned depth)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint64_t ns = 2000;
	unsigned i;

	for (i = 0; i < depth; i++)
		tg_enter(th, FMID, ns++);
	for (i = 0; i < depth; i++)
		tg_exit(th, ns++);
	tg_exit(th, ns + 10);
	tg_close(g);
}

START_TEST(recursion_boundary)
{
	struct opts o = tu_opts();

	recursion_trace(FINDINGS_RECURSION_DEPTH - 1);
	ck_assert_uint_eq(count("deep-recursion"), 0);
	recursion_trace(FINDINGS_RECURSION_DEPTH);
	ck_assert_uint_eq(count("deep-recursion"), 1);
	ck_assert_str_eq(name_of("deep-recursion"), "fnd_mid");
	ck_assert_uint_eq(evidence("deep-recursion", "depth"), 1000);
	ck_assert_uint_eq(evidence("deep-recursion", "calls"), 1000);
	/* the outermost activation's path: mid, then main */
	ck_assert_uint_eq(fnd.v[0].node != 0, 1);
	ck_assert_uint_eq(fnd.h.nodes[fnd.h.nodes[fnd.v[0].node].parent].parent, 0);
	recursion_trace(7);
	o.recursion_depth = 7;
	ck_assert_uint_eq(collect(&o, NULL, "deep-recursion"), 1);
	o.recursion_depth = 8;
	ck_assert_uint_eq(collect(&o, NULL, "deep-recursion"), 0);
}
END_TEST

/* one block of @size allocated and freed; @leak: @leak more bytes never freed */
static void heap_trace(uint64_t size, uint64_t leak, bool end_seen)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint32_t st = stack_in(th, FLOADER), st2 = stack_in(th, FLEAF);

	g->no_process_end = !end_seen;
	tg_alloc(th, TRACE_ALLOC_MALLOC, size, 0x400000, st, 2000);
	if (leak)
		tg_alloc(th, TRACE_ALLOC_MALLOC, leak, 0x500000, st2, 2100);
	tg_free(th, 0x400000, 3000);
	tg_exit(th, 4000);
	tg_close(g);
}

START_TEST(high_memory_boundary)
{
	struct opts o = tu_opts();

	heap_trace(FINDINGS_HIGH_MEMORY - 1, 0, true);
	ck_assert_uint_eq(count("high-memory"), 0);
	heap_trace(FINDINGS_HIGH_MEMORY, 0, true);
	ck_assert_uint_eq(count(NULL), 1);
	ck_assert_uint_eq(count("high-memory"), 1);
	ck_assert_str_eq(name_of("high-memory"), "fnd_loader");
	ck_assert_uint_eq(evidence("high-memory", "peak_bytes"), FINDINGS_HIGH_MEMORY);
	ck_assert_uint_eq(evidence("high-memory", "site_bytes_at_peak"), FINDINGS_HIGH_MEMORY);
	ck_assert_uint_eq(evidence("high-memory", "peak_time_ns"), 2000);
	heap_trace(1000, 0, true);
	o.high_memory = 1000;
	ck_assert_uint_eq(collect(&o, NULL, "high-memory"), 1);
	o.high_memory = 1001;
	ck_assert_uint_eq(collect(&o, NULL, "high-memory"), 0);
}
END_TEST

START_TEST(leak_boundary)
{
	heap_trace(64, 0, true);
	ck_assert_uint_eq(count(NULL), 0);
	heap_trace(64, FINDINGS_LEAK_MIN_BYTES, true);
	ck_assert_uint_eq(count(NULL), 1);
	ck_assert_uint_eq(count("leak"), 1);
	ck_assert_str_eq(name_of("leak"), "fnd_leaf");
	ck_assert_uint_eq(evidence("leak", "bytes"), 1);
	ck_assert_uint_eq(evidence("leak", "blocks"), 1);
	/* the process's end not seen: live when recording stopped, not leaked */
	heap_trace(64, 100, false);
	ck_assert_uint_eq(count("leak"), 0);
}
END_TEST

/* growth: @n blocks of 200 bytes at even times, never freed, the end not seen */
static void growth_trace(unsigned n)
{
	struct tg_thread *th;
	struct tg *g = start(&th);
	uint32_t st = stack_in(th, FLOADER);
	unsigned i;

	g->no_process_end = true;
	for (i = 0; i < n; i++)
		tg_alloc(th, TRACE_ALLOC_MALLOC, 200, 0x600000 + i * 256ULL, st,
			 2000 + (uint64_t)i * 1000000 / n);
	tg_exit(th, 2000 + 1000000);
	tg_close(g);
}

START_TEST(growth_boundary)
{
	growth_trace(FINDINGS_GROWTH_BLOCKS - 1);	/* the timeline says grows: too few blocks */
	ck_assert_uint_eq(count(NULL), 0);
	growth_trace(FINDINGS_GROWTH_BLOCKS);
	ck_assert_uint_eq(count(NULL), 1);
	ck_assert_uint_eq(count("growth"), 1);
	ck_assert_str_eq(name_of("growth"), "fnd_loader");
	ck_assert_uint_eq(evidence("growth", "site_live_blocks"), 16);
	ck_assert_uint_eq(evidence("growth", "site_live_bytes"), 3200);
	ck_assert_uint_eq(evidence("growth", "site_allocations"), 16);
}
END_TEST

/* blocking: synthetic waits over a run of 100 ms, and of 5 ms (the 1 ms floor) */
START_TEST(blocking_boundary)
{
	struct findings_wait w[] = {
		{ UINT32_MAX, "waits_at", 20000000, 10000000, 7 },	/* 10%: fires */
		{ UINT32_MAX, "waits_under", 20000000, 9999999, 3 },	/* just under */
	};
	struct findings_waits ws = { w, 2 }, empty = { NULL, 0 };
	struct findings f = { 0 };

	findings_blocking(&f, &empty, 100000000);
	findings_blocking(&f, NULL, 100000000);
	ck_assert_uint_eq(f.n, 0);
	findings_blocking(&f, &ws, 100000000);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].rule, "blocking");
	ck_assert_str_eq(f.v[0].name, "waits_at");
	ck_assert_uint_eq(f.v[0].ev[0].v, 20000000);		/* wait_ns */
	ck_assert_uint_eq(f.v[0].ev[1].v, 10000000);		/* voluntary_ns */
	ck_assert_uint_eq(f.v[0].ev[2].v, 7);			/* count */
	ck_assert_uint_eq(f.v[0].ev[3].v, 10);			/* percent */
	ck_assert_str_eq(f.v[0].ev[3].key, "percent");
	findings_free(&f);
	/* 5 ms run: 20% but under the 1 ms floor, then exactly at it */
	ws.n = 1;
	w[0].voluntary_ns = FINDINGS_BLOCK_MIN_NS - 1;
	findings_blocking(&f, &ws, 5000000);
	ck_assert_uint_eq(f.n, 0);
	w[0].voluntary_ns = FINDINGS_BLOCK_MIN_NS;
	findings_blocking(&f, &ws, 5000000);
	ck_assert_uint_eq(f.n, 1);
	findings_free(&f);
}
END_TEST

/* blocking through findings_collect: the function's name and its call path */
START_TEST(blocking_collect)
{
	struct findings_wait w = { 0, NULL, 600, 500, 2 };	/* func 0 is main */
	struct findings_waits ws = { &w, 1 };
	struct opts o = tu_opts();
	struct tg_thread *th;
	struct tg *g = start(&th);

	tg_exit(th, 1000 + FINDINGS_BLOCK_MIN_NS * 2);
	tg_close(g);
	w.voluntary_ns = FINDINGS_BLOCK_MIN_NS;
	ck_assert_uint_eq(collect(&o, &ws, "blocking"), 1);
	ck_assert_str_eq(name_of("blocking"), "fnd_main");
	ck_assert_uint_eq(fnd.v[0].node != 0, 1);
	ck_assert_uint_eq(collect(&o, NULL, "blocking"), 0);
}
END_TEST

static Suite *findings_suite(void)
{
	Suite *s = suite_create("findings");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, churn_boundary);
	tcase_add_test(tc, realloc_boundary);
	tcase_add_test(tc, n1_calls_boundary);
	tcase_add_test(tc, n1_alloc_boundary);
	tcase_add_test(tc, tiny_boundary);
	tcase_add_test(tc, recursion_boundary);
	tcase_add_test(tc, high_memory_boundary);
	tcase_add_test(tc, leak_boundary);
	tcase_add_test(tc, growth_boundary);
	tcase_add_test(tc, blocking_boundary);
	tcase_add_test(tc, blocking_collect);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(findings_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
