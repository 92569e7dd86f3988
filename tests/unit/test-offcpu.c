// SPDX-License-Identifier: MIT
/*
 * Unit tests of off-CPU time (analyzer/offcpu.c, report-waits.c, the SWITCH record in
 * trace-walk.c) over synthetic traces with exact answers: intervals charged to the function
 * on top of the stack, CPU self = self - wait in `functions`, the `waits` rows by stack,
 * intervals written in a later chunk than their events (as the recorder does), chrome's
 * off-CPU slices, the call tree's off-CPU self time per path (ctree_build and model_build
 * alike) and the flame graph's CPU time, and what reports say when the recorder was refused or the kernel dropped
 * records. Functions have no module here: their names are "0xADDR".
 */
#define PR_FMT "test"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/export.h"
#include "analyzer/model.h"
#include "analyzer/offcpu.h"
#include "tests/unit/testutil.h"

static char path[64], out[64];
static char *output;

static void setup(void)
{
	tu_tmpfile(path, "test-offcpu");
	tu_tmpfile(out, "test-offcpu-out");
}

static void teardown(void)
{
	unlink(path);
	unlink(out);
	free(output);
	output = NULL;
}

static int run(tu_report_fn fn, const struct opts *o)
{
	int rc;

	free(output);
	output = tu_report(fn, path, o, out, &rc);
	return rc;
}

#define has(needle) tu_has(output, needle)

#define hasnt(needle) tu_hasnt(output, needle)

/*
 * main 0..1000 { a 100..400 { b 150..350 }, b 500..600 }, off-CPU:
 *   [120, 140) preempted, in a         [200, 250) blocked, in b (under a)
 *   [450, 480) blocked, in main        [550, 560) preempted, in b (under main)
 * The intervals go into the chunk after the events (@late), or with them.
 */
static void waits_trace(bool late)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_enter(th, 0x1000, 0);
	tg_enter(th, 0x2000, 100);
	tg_enter(th, 0x3000, 150);
	tg_exit(th, 350);
	tg_exit(th, 400);
	if (late)
		tg_flush(th, 0);
	tg_switch(th, TRACE_SWITCH_PREEMPTED, 120, 140);
	tg_switch(th, TRACE_SWITCH_BLOCKED, 200, 250);
	tg_switch(th, TRACE_SWITCH_BLOCKED, 450, 480);
	tg_enter(th, 0x3000, 500);
	tg_exit(th, 600);
	tg_exit(th, 1000);
	tg_switch(th, TRACE_SWITCH_PREEMPTED, 550, 560);
	tg_close(g);
}

#define FROW(addr, calls, total, self, cpu, wait, vol, inv)                               \
	"\"addr\":\"" addr "\",\"file\":null,\"line\":null,\"calls\":" #calls ",\"total_ns\":" #total ",\"self_ns\":" #self \
	",\"cpu_self_ns\":" #cpu ",\"wait_ns\":" #wait ",\"voluntary_ns\":" #vol               \
	",\"involuntary_ns\":" #inv ","

START_TEST(test_functions_cpu_self)
{
	struct opts o = tu_opts();

	waits_trace(_i);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	/* main: self 1000 - 300 - 100 = 600, of which 30 blocked */
	has(FROW("0x1000", 1, 1000, 600, 570, 30, 30, 0));
	has(FROW("0x2000", 1, 300, 100, 80, 20, 0, 20));
	has(FROW("0x3000", 2, 300, 300, 240, 60, 50, 10));
	hasnt("wall-clock");
	/* text: the self column is CPU self, and --sort=self sorts by it */
	o.format = FMT_TEXT;
	o.sort = "self";
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("CPU self");
	has("Wait");
	ck_assert(strstr(output, "0x1000") < strstr(output, "0x3000"));
	ck_assert(strstr(output, "0x3000") < strstr(output, "0x2000"));
	o.wall = 1;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("Wall self");
	hasnt("CPU self");
	/* --sort=wait */
	o.wall = 0;
	o.sort = "wait";
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	ck_assert(strstr(output, "\"0x3000\"") < strstr(output, "\"0x1000\""));
	ck_assert(strstr(output, "\"0x1000\"") < strstr(output, "\"0x2000\""));
}
END_TEST

/*
 * Compensation and off-CPU time together: entry 2 + 3 ns, exit 4 + 5 ns (before + after
 * each timestamp), main 1000..2000 { a 1100..1400, b 1500..1800 }, b blocked over real
 * [1700, 1790), written in the next chunk. On the calls' clock (trace-comp.c): b runs
 * 1479..1772 and its wait, taken with the offset of its moment (24 ns, after b's entry),
 * is [1676, 1766): all inside b. On the real clock it would end 18 ns after b, in main.
 */
START_TEST(test_compensated_waits)
{
	static const uint64_t cost[TRACE_COST_N] = { 2 << TRACE_COST_SHIFT, 3 << TRACE_COST_SHIFT,
						     4 << TRACE_COST_SHIFT, 5 << TRACE_COST_SHIFT };
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = tu_opts();

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_cost(th, cost, TRACE_COST_N);
	tg_enter(th, 0x1000, 1000);
	tg_enter(th, 0x2000, 1100);
	tg_exit(th, 1400);
	tg_enter(th, 0x3000, 1500);
	tg_exit(th, 1800);
	tg_exit(th, 2000);
	tg_flush(th, 0);
	tg_switch(th, TRACE_SWITCH_BLOCKED, 1700, 1790);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	/* main 998..1963: 965, less a (1093..1386) and b (1479..1772): self 379, no wait */
	has(FROW("0x1000", 1, 965, 379, 379, 0, 0, 0));
	has(FROW("0x3000", 1, 293, 293, 203, 90, 90, 0));
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("\"total_wait_ns\":90,\"outside_ns\":0");
	has("\"stack\":[\"0x3000\",\"0x1000\"]");
	hasnt("\"stack\":[\"0x1000\"]");
}
END_TEST

/*
 * A hold, then an allocation preempted: entry 2 + 3 ns, exit 4 + 5, an allocation 40 (the
 * run's figures of an xcalloc under deep stacks, in small). main enters at 1000, then 50
 * calls of h 1 ns apart, shorter than their hooks' cost: each of their 100 events is held
 * at main's entry (998) and the excess forgotten, the offset left at 107 where it would be
 * 705 without the holds. c (the xcalloc) runs real 2000..2600, allocates at 2010 and is
 * preempted over real [2020, 2520), written in the next chunk. On the calls' clock: c runs
 * 1891..2444 (553); at 2020 the offset is 152 (entry 112, the allocation 40), which would put
 * the start at 1868, 23 ns before c began: it is held at c's entry, as an event would be,
 * and the interval keeps its real 500 ns: [1891, 2391), all inside c. Blocked again over real
 * [2530, 2560), with no event between: the same offset would start it at 2378, inside the
 * first one, so it starts where that ended, [2391, 2421). main 998..2835. Without the holds
 * in the switches' walk the first interval landed at [1270, 1770), in main.
 */
START_TEST(test_held_then_preempted_alloc)
{
	static const uint64_t cost[TRACE_COST_N] = {
		2 << TRACE_COST_SHIFT, 3 << TRACE_COST_SHIFT, 4 << TRACE_COST_SHIFT,
		5 << TRACE_COST_SHIFT, 40 << TRACE_COST_SHIFT,
	};
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = tu_opts();
	const struct offcpu_iv *iv;
	struct trace *t;
	uint32_t n;
	uint64_t k;

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_cost(th, cost, TRACE_COST_N);
	tg_enter(th, 0x1000, 1000);
	for (k = 0; k < 50; k++) {
		tg_enter(th, 0x2000, 1001 + 2 * k);
		tg_exit(th, 1002 + 2 * k);
	}
	tg_enter(th, 0x3000, 2000);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 32, 0x5000, 0, 2010);
	tg_exit(th, 2600);
	tg_exit(th, 3000);
	tg_flush(th, 0);
	tg_switch(th, TRACE_SWITCH_PREEMPTED, 2020, 2520);
	tg_switch(th, TRACE_SWITCH_BLOCKED, 2530, 2560);
	tg_close(g);
	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(offcpu_load(t), 0);
	iv = offcpu_intervals(t, 0, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert(iv[0].start == 1891 && iv[0].end == 2391 && iv[0].kind == 1);
	ck_assert(iv[1].start == 2391 && iv[1].end == 2421 && iv[1].kind == 0);
	trace_close(t);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	/* main: 1837, less c's 553 and h's 0 */
	has(FROW("0x1000", 1, 1837, 1284, 1284, 0, 0, 0));
	has(FROW("0x2000", 50, 0, 0, 0, 0, 0, 0));
	/* c: its CPU self is its 70 real ns on CPU less its hooks' 47 */
	has(FROW("0x3000", 1, 553, 553, 23, 530, 30, 500));
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("\"total_wait_ns\":530,\"outside_ns\":0");
	has("\"stack\":[\"0x3000\",\"0x1000\"]");
	hasnt("\"stack\":[\"0x1000\"]");
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"clamped\":100");
}
END_TEST

START_TEST(test_waits_by_stack)
{
	struct opts o = tu_opts();
	const char *r1, *r2, *r3, *r4;

	waits_trace(_i);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("\"switches\":true,\"total_wait_ns\":110,\"outside_ns\":0");
	r1 = strstr(output, "\"stack\":[\"0x3000\",\"0x2000\",\"0x1000\"]");
	r2 = strstr(output, "\"stack\":[\"0x1000\"]");
	r3 = strstr(output, "\"stack\":[\"0x2000\",\"0x1000\"]");
	r4 = strstr(output, "\"stack\":[\"0x3000\",\"0x1000\"]");
	ck_assert_msg(r1 && r2 && r3 && r4, "rows missing in\n%s", output);
	ck_assert(r1 < r2 && r2 < r3 && r3 < r4);		/* longest wait first */
	has("\"name\":\"0x3000\",\"stack\":[\"0x3000\",\"0x2000\",\"0x1000\"]");
	ck_assert_ptr_nonnull(strstr(r1, "\"wait_ns\":50,\"voluntary_ns\":50,\"involuntary_ns\":0,"
					 "\"count\":1}"));
	ck_assert_ptr_nonnull(strstr(r2, "\"wait_ns\":30,\"voluntary_ns\":30,"
					 "\"involuntary_ns\":0,"));
	ck_assert_ptr_nonnull(strstr(r3, "\"wait_ns\":20,\"voluntary_ns\":0,"
					 "\"involuntary_ns\":20,"));
	ck_assert_ptr_nonnull(strstr(r4, "\"wait_ns\":10,\"voluntary_ns\":0,"
					 "\"involuntary_ns\":10,"));
	has("\"frames\":[{\"name\":\"0x3000\",\"module\":\"?\",\"file\":null,\"line\":null,"
	    "\"inlined\":false}");
	/* --limit */
	o.limit = 2;
	ck_assert_int_eq(run(report_waits, &o), 0);
	hasnt("\"stack\":[\"0x2000\",\"0x1000\"]");
	has("\"stack\":[\"0x1000\"]");
	o.limit = -1;
	o.format = FMT_TEXT;
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("Off-CPU time: 110 ns (blocked 80 ns, preempted 30 ns).");
	has("0x3000 <- 0x2000 <- 0x1000");
}
END_TEST

/* two threads: --thread, and waits outside every call (a thread with none) */
START_TEST(test_waits_threads)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10), *b = tg_thread(g, 11);
	struct opts o = tu_opts();

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_enter(a, 0x1000, 0);
	tg_switch(a, TRACE_SWITCH_BLOCKED, 10, 70);
	tg_exit(a, 100);
	tg_switch(a, TRACE_SWITCH_BLOCKED, 150, 160);	/* after main: outside */
	tg_mark(b, "x", 5);
	tg_switch(b, TRACE_SWITCH_PREEMPTED, 20, 60);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("\"total_wait_ns\":110,\"outside_ns\":50");
	has("\"stack\":[\"0x1000\"]");
	has("\"wait_ns\":60,\"voluntary_ns\":60,\"involuntary_ns\":0,\"count\":1}");
	o.thread_set = 1;
	o.thread_tid = 11;
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("\"total_wait_ns\":40,\"outside_ns\":40,\"waits\":[]");
	o.thread_tid = 12;
	ck_assert_int_eq(run(report_waits, &o), -1);
}
END_TEST

/* a thread cut at exit while blocked: its open calls last until its wait ended */
START_TEST(test_cut_blocked)
{
	struct tg *g = tg_open(path);
	struct tg_thread *m = tg_thread(g, 10), *w = tg_thread(g, 11);
	struct opts o = tu_opts();

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_enter(m, 0x1000, 0);
	tg_enter(w, 0x2000, 0);
	tg_enter(w, 0x3000, 10);
	tg_flush(w, 0);
	tg_switch(w, TRACE_SWITCH_BLOCKED, 20, 500);
	tg_flush(w, TRACE_CHUNK_CUT | TRACE_CHUNK_LAST | TRACE_CHUNK_PROCESS_END);
	tg_exit(m, 500);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("\"stack\":[\"0x3000\",\"0x2000\"]");
	has("\"wait_ns\":480,\"voluntary_ns\":480,\"involuntary_ns\":0,\"count\":1}");
	has("\"outside_ns\":0");
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(FROW("0x3000", 1, 490, 490, 10, 480, 480, 0));
	has(FROW("0x2000", 1, 500, 10, 10, 0, 0, 0));
}
END_TEST

START_TEST(test_within)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct trace *t;
	uint64_t w[2];

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_enter(th, 0x1000, 0);
	tg_exit(th, 1000);
	tg_switch(th, TRACE_SWITCH_BLOCKED, 100, 200);
	tg_switch(th, TRACE_SWITCH_PREEMPTED, 300, 400);
	tg_switch(th, TRACE_SWITCH_BLOCKED, 500, 600);
	tg_close(g);
	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert(offcpu_present(t));
	ck_assert_int_eq(offcpu_load(t), 0);
	offcpu_within(t, 0, 0, 1000, w);
	ck_assert(w[0] == 200 && w[1] == 100);
	offcpu_within(t, 0, 150, 350, w);	/* clipped at both ends */
	ck_assert(w[0] == 50 && w[1] == 50);
	offcpu_within(t, 0, 120, 180, w);	/* inside one interval */
	ck_assert(w[0] == 60 && w[1] == 0);
	offcpu_within(t, 0, 200, 300, w);	/* between two */
	ck_assert(w[0] == 0 && w[1] == 0);
	offcpu_within(t, 0, 550, 2000, w);
	ck_assert(w[0] == 50 && w[1] == 0);
	offcpu_within(t, 1, 0, 1000, w);	/* no such thread */
	ck_assert(w[0] == 0 && w[1] == 0);
	trace_close(t);
}
END_TEST

START_TEST(test_chrome_slices)
{
	struct opts o = tu_opts();

	waits_trace(false);
	o.output = NULL;
	ck_assert_int_eq(run(report_chrome, &o), 0);
	has("{\"ph\":\"X\",\"name\":\"off-CPU (blocked)\",\"cat\":\"off-cpu\",\"pid\":1000,"
	    "\"tid\":10,\"ts\":0.200,\"dur\":0.050}");
	has("{\"ph\":\"X\",\"name\":\"off-CPU (preempted)\",\"cat\":\"off-cpu\",\"pid\":1000,"
	    "\"tid\":10,\"ts\":0.550,\"dur\":0.010}");
}
END_TEST

/* the off-CPU self time of call path @funcs (outermost first, @n of them) in @ct, below
 * the thread's root if it has one (model_build's tree) */
static uint64_t path_wait(const struct trace *t, const struct ctree *ct, const uint64_t *funcs,
			  unsigned n, uint64_t *self)
{
	uint32_t i, node = 0, k;

	for (i = 1; i < ct->nnodes; i++)
		if (!ct->nodes[i].parent && (ct->nodes[i].func & CTREE_THREAD))
			node = i;

	for (k = 0; k < n; k++) {
		for (i = 1; i < ct->nnodes; i++)
			if (ct->nodes[i].parent == node && !(ct->nodes[i].func & CTREE_THREAD) &&
			    t->funcs[ct->nodes[i].func] == funcs[k])
				break;
		ck_assert_uint_lt(i, ct->nnodes);
		node = i;
	}
	*self = ct->nodes[node].self_ns;
	return ct->nodes[node].wait_ns;
}

/*
 * The call tree's nodes: main waits 30 (blocked), a under main 20 (preempted), b under a 50,
 * b under main 10, as ctree_build finds them and as model_build takes them from its
 * function table's walk; the flame graph's time is the CPU self per path (--wall: wall).
 */
START_TEST(test_tree_waits)
{
	static const uint64_t p_main[] = { 0x1000 }, p_a[] = { 0x1000, 0x2000 },
			      p_ab[] = { 0x1000, 0x2000, 0x3000 }, p_b[] = { 0x1000, 0x3000 };
	struct opts o = tu_opts();
	struct model m;
	struct ctree ct;
	struct trace *t;
	uint64_t self;
	int k;

	waits_trace(_i);
	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(ctree_build(t, -1, false, true, &ct), 0);
	ck_assert_int_eq(model_build(t, -1, HOT_EDGES | HOT_TREE, 0, false, &m), 0);
	for (k = 0; k < 2; k++) {
		const struct ctree *c = k ? &m.ct : &ct;

		ck_assert(c->switches);
		ck_assert_uint_eq(path_wait(t, c, p_main, 1, &self), 30);
		ck_assert_uint_eq(self, 600);
		ck_assert_uint_eq(path_wait(t, c, p_a, 2, &self), 20);
		ck_assert_uint_eq(self, 100);
		ck_assert_uint_eq(path_wait(t, c, p_ab, 3, &self), 50);
		ck_assert_uint_eq(self, 200);
		ck_assert_uint_eq(path_wait(t, c, p_b, 2, &self), 10);
		ck_assert_uint_eq(self, 100);
	}
	model_free(&m);
	ctree_free(&ct);
	trace_close(t);

	o.folded = 1;
	o.metric = "time";
	ck_assert_int_eq(run(report_flamegraph, &o), 0);
	has("\n0x1000 570\n0x1000;0x2000 80\n0x1000;0x2000;0x3000 150\n0x1000;0x3000 90\n");
	has("# times are CPU time");
	o.wall = 1;
	ck_assert_int_eq(run(report_flamegraph, &o), 0);
	has("\n0x1000 600\n0x1000;0x2000 100\n0x1000;0x2000;0x3000 200\n0x1000;0x3000 100\n");
	has("# times are wall-clock (--wall)");
}
END_TEST

/* the recorder was refused: one ABSENT record per thread, no header flag */
START_TEST(test_refused)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = tu_opts();

	tg_switch_note(th, TRACE_SWITCH_ABSENT, EACCES);
	tg_enter(th, 0x1000, 0);
	tg_exit(th, 1000);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("\"warnings\":[\"times are wall-clock: the kernel refused context-switch records "
	    "(perf_event_open: Permission denied)\"]");
	hasnt("cpu_self_ns");
	o.format = FMT_TEXT;
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("times are wall-clock");
	ck_assert_int_eq(run(report_waits, &o), 0);
	has("times are wall-clock");
	has("where threads waited is not known");
}
END_TEST

/* a trace from before context switches: read as before, no note */
START_TEST(test_old_trace)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);
	struct opts o = tu_opts();

	tg_enter(th, 0x1000, 0);
	tg_exit(th, 1000);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("\"warnings\":[]");
	hasnt("cpu_self_ns");
	o.format = FMT_TEXT;
	ck_assert_int_eq(run(report_functions, &o), 0);
	hasnt("CPU self");
	hasnt("Wall self");
}
END_TEST

/* records the kernel dropped, and a thread that had no ring: said, the rest kept */
START_TEST(test_lost_and_absent)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 10), *b = tg_thread(g, 11);
	struct opts o = tu_opts();

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_enter(a, 0x1000, 0);
	tg_switch(a, TRACE_SWITCH_BLOCKED, 10, 30);
	tg_switch_note(a, TRACE_SWITCH_LOST, 7);
	tg_exit(a, 100);
	tg_switch_note(b, TRACE_SWITCH_ABSENT, EPERM);
	tg_enter(b, 0x2000, 0);
	tg_exit(b, 50);
	tg_close(g);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("1 thread without context-switch records (Operation not permitted): its times are "
	    "wall-clock");
	has(FROW("0x1000", 1, 100, 100, 80, 20, 20, 0));
	has(FROW("0x2000", 1, 50, 50, 50, 0, 0, 0));
	/* the note about dropped records comes when no thread lacks them */
	g = tg_open(path);
	a = tg_thread(g, 10);
	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_enter(a, 0x1000, 0);
	tg_switch_note(a, TRACE_SWITCH_LOST, 7);
	tg_exit(a, 100);
	tg_close(g);
	ck_assert_int_eq(run(report_functions, &o), 0);
	has("7 context-switch records were dropped by the kernel");
}
END_TEST

/* damaged SWITCH records end the stream with a warning, never a crash */
START_TEST(test_bad_switch)
{
	static const uint8_t bad_kind[] = { (TRACE_OP_SWITCH << 2) | 3, 9, 1, 1 };
	static const uint8_t cut[] = { (TRACE_OP_SWITCH << 2) | 3, 0, 0x80 };
	static const uint8_t cut_cputime[] = { (TRACE_OP_SWITCH << 2) | 3, TRACE_SWITCH_CPUTIME,
					       1, 0x80 };
	struct opts o = tu_opts();
	int k;

	for (k = 0; k < 3; k++) {
		struct tg *g = tg_open(path);
		struct tg_thread *th = tg_thread(g, 10);

		g->hdr.flags |= TRACE_F_SWITCHES;
		tg_enter(th, 0x1000, 0);
		tg_exit(th, 100);
		if (k == 2)
			tg_raw(th, cut_cputime, sizeof(cut_cputime));
		else if (k)
			tg_raw(th, cut, sizeof(cut));
		else
			tg_raw(th, bad_kind, sizeof(bad_kind));
		tg_close(g);
		o.format = FMT_JSON;
		ck_assert_int_eq(run(report_waits, &o), 0);
		has("\"complete\":false");
		has("damage ends its stream");
	}
}
END_TEST

/*
 * Steal: the thread's CPU clock read at 0 (1000 ns), 1000 (1760) and 2000 (2660), with
 * main 0..2000 { a 100..500 { b 200..300 }, c 1200..1800 { d 1300..1400, e 1500..1600 } }
 * and a blocked over [400, 450). On-CPU time 0..950 counted 760 (steal 190: 0.2 per on-CPU
 * ns), 950..1950 counted 900 (steal 100: 0.1 per ns). Involuntary time per call is the steal
 * of its on-CPU span, less its callees': b 20 of O 200..300; a 70 of O 100..450, less b's;
 * d and e 10 each, c 60 of O 1150..1750, less theirs; main all 290, less a's and c's. The
 * CPU self times add up to what the clock counted, 1660 ns. e and c close in the window d's
 * exit found (offcpu_exit_quiet), the others search.
 */
static void steal_trace(uint64_t cpu2)
{
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 10);

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_cputime(th, 0, 1000);
	tg_enter(th, 0x1000, 0);
	tg_enter(th, 0x2000, 100);
	tg_enter(th, 0x3000, 200);
	tg_exit(th, 300);
	tg_exit(th, 500);
	tg_enter(th, 0x4000, 1200);
	tg_enter(th, 0x5000, 1300);
	tg_exit(th, 1400);
	tg_enter(th, 0x6000, 1500);
	tg_exit(th, 1600);
	tg_exit(th, 1800);
	tg_flush(th, 0);
	tg_switch(th, TRACE_SWITCH_BLOCKED, 400, 450);
	tg_cputime(th, 1000, 1760);
	tg_exit(th, 2000);
	tg_cputime(th, 2000, cpu2);
	tg_close(g);
}

START_TEST(test_steal)
{
	struct opts o = tu_opts();
	struct trace *t;
	uint64_t w[2], n;

	steal_trace(2660);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(FROW("0x1000", 1, 2000, 1000, 840, 160, 0, 160));
	has(FROW("0x2000", 1, 400, 300, 200, 100, 50, 50));
	has(FROW("0x3000", 1, 100, 100, 80, 20, 0, 20));
	has(FROW("0x4000", 1, 600, 400, 360, 40, 0, 40));
	has(FROW("0x5000", 1, 100, 100, 90, 10, 0, 10));
	has(FROW("0x6000", 1, 100, 100, 90, 10, 0, 10));
	has("\"cpu_total_ns\":1660");		/* main: 2000 - 50 blocked - 290 steal */
	/* the call tree's paths alike (its own walk) */
	ck_assert_int_eq(run(report_callgraph, &o), 0);
	has("\"calls\":1,\"total_ns\":600,\"self_ns\":400,\"cpu_self_ns\":360,\"wait_ns\":40");
	has("\"calls\":1,\"total_ns\":2000,\"self_ns\":1000,\"cpu_self_ns\":840,\"wait_ns\":160");
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"steal_ns\":290");
	o.format = FMT_TEXT;
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("Steal:      290 ns");
	/* offcpu_within: intervals and steal together, clipped anywhere */
	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(offcpu_load(t), 0);
	offcpu_within(t, 0, 0, 2000, w);
	ck_assert(w[0] == 50 && w[1] == 290);
	offcpu_within(t, 0, 420, 1100, w);	/* O 400..1050: 0.2 x 550 + 0.1 x 100 */
	ck_assert(w[0] == 30 && w[1] == 120);
	offcpu_within(t, 0, 410, 440, w);	/* inside the interval: no on-CPU time */
	ck_assert(w[0] == 30 && w[1] == 0);
	ck_assert_uint_eq(offcpu_steal(t, &n), 290);
	ck_assert_uint_eq(n, 3);
	trace_close(t);
	/* a clock that counted more than the on-CPU time (or went back) gives no steal there */
	steal_trace(1700);
	o.format = FMT_JSON;
	ck_assert_int_eq(run(report_functions, &o), 0);
	has(FROW("0x4000", 1, 600, 400, 400, 0, 0, 0));
	has(FROW("0x3000", 1, 100, 100, 80, 20, 0, 20));
	ck_assert_int_eq(run(report_summary, &o), 0);
	has("\"steal_ns\":190");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("offcpu");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_functions_cpu_self, 0, 2);
	tcase_add_loop_test(tc, test_waits_by_stack, 0, 2);
	tcase_add_loop_test(tc, test_tree_waits, 0, 2);
	tcase_add_test(tc, test_waits_threads);
	tcase_add_test(tc, test_cut_blocked);
	tcase_add_test(tc, test_within);
	tcase_add_test(tc, test_chrome_slices);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_old_trace);
	tcase_add_test(tc, test_lost_and_absent);
	tcase_add_test(tc, test_bad_switch);
	tcase_add_test(tc, test_compensated_waits);
	tcase_add_test(tc, test_held_then_preempted_alloc);
	tcase_add_test(tc, test_steal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
