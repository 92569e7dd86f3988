/* SPDX-License-Identifier: MIT */
/*
 * `summary` (the default command): what was recorded (program, command line, duration,
 * threads, event counts, damage), the top functions by total time (model.c's
 * hot_collect), the memory totals with the largest leaks (mem.c's mem_build) and the
 * first findings (findings.c).
 */
#define PR_FMT "summary"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/findings-out.h"
#include "analyzer/findings.h"
#include "analyzer/hot.h"
#include "analyzer/json.h"
#include "analyzer/mem.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/replay.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#define TOP_FUNCS 10

struct top {
	uint32_t func;
	uint64_t total_ns;
};

static int cmp_top(const void *a, const void *b)
{
	const struct top *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

/* the functions of @h by total time, largest first; count in *@n (at most TOP_FUNCS) */
static struct top *top_funcs(const struct hot *h, uint32_t *n)
{
	struct top *v = xmalloc((h->nfuncs + 1) * sizeof(*v));
	uint32_t i, k = 0;

	for (i = 0; i < h->nfuncs; i++)
		if (h->funcs[i].calls)
			v[k++] = (struct top){ i, h->funcs[i].total_ns };
	qsort(v, k, sizeof(*v), cmp_top);
	*n = k < TOP_FUNCS ? k : TOP_FUNCS;
	return v;
}

static const char *stack_top(struct symbols *sym, const struct trace *t, uint32_t id)
{
	struct trace_stack st = trace_stack_get(t, id);

	if (!st.nframes)
		return "(no stack)";
	return sym_frame_name(sym, &st.frames[0]);
}

/* What the calls walk took out of the times (read before another walk resets it). */
struct comp_seen {
	uint64_t removed_ns, clamps;
	double alloc_ns;		/* mean per allocation (the run's own figures) */
};

/* why a trace's times are raw (docs/compensation.md) */
static const char *comp_why(const struct trace *t)
{
	if (t->comp.recorded)
		return "--no-compensation";
	if (!(t->hdr.flags & TRACE_F_CALLS))
		return "calls were not recorded";
	if (t->hdr.min_duration_ns)
		return "PERFSHIM_MIN_DURATION drops calls whose hooks ran";
	if (!t->ncalls)
		return "no calls: the recorder measures its cost at the first one";
	return "the recorder did not measure its cost (an older trace)";
}

/* "compensation": the figures used (ns per event) and what they took out, or null */
static void comp_json(struct json *j, const struct trace *t, const struct comp_seen *cs)
{
	const struct trace_comp *c = &t->comp;

	if (!c->applied) {
		json_null(j, "compensation");
		json_str(j, "compensation_off", comp_why(t));
		return;
	}
	json_obj_begin(j, "compensation");
	json_dbl(j, "call_ns", c->call_ns);
	json_dbl(j, "alloc_ns", c->alloc_ns);
	json_dbl(j, "call_caller_ns", c->parent_ns);
	json_dbl(j, "call_callee_ns", c->call_ns - c->parent_ns);
	json_dbl(j, "node_ns", c->node_ns);
	json_dbl(j, "free_ns", c->free_ns);
	json_dbl(j, "alloc_run_ns", cs->alloc_ns);
	json_u64(j, "removed_ns", cs->removed_ns);
	json_u64(j, "clamped", cs->clamps);
	json_obj_end(j);
}

static void comp_text(const struct trace *t, const struct comp_seen *cs)
{
	const struct trace_comp *c = &t->comp;
	char a[32];

	if (!c->recorded) {
		printf("Overhead:   raw times (%s)\n", comp_why(t));
		return;
	}
	printf("Overhead:   %s: a call %.1f ns (%.1f in the caller, %.1f in the callee), an "
	       "allocation %.1f ns\n            (+%.1f per new stack node), a free %.1f ns\n",
	       c->applied ? "taken out of call times" : "left in (--no-compensation)", c->call_ns,
	       c->parent_ns, c->call_ns - c->parent_ns, c->alloc_ns, c->node_ns, c->free_ns);
	if (c->applied && cs->alloc_ns > 0)
		printf("            an allocation as timed in the run: %.1f ns on average "
		       "(its stack walk)\n", cs->alloc_ns);
	if (c->applied)
		printf("            %s removed in all (%.1f%% of the run), %" PRIu64 " call times "
		       "held at their limit\n", fmt_ns(a, sizeof(a), cs->removed_ns),
		       t->duration_ns ? 100.0 * (double)cs->removed_ns / (double)t->duration_ns : 0,
		       cs->clamps);
}

/* the steal taken out of CPU time (offcpu.c), when the trace read the threads' CPU clocks */
static void steal_text(const struct trace *t)
{
	uint64_t n, steal = offcpu_steal(t, &n);
	char a[32];

	if (n)
		printf("Steal:      %s: on a CPU by the trace's clock, not by the threads' CPU clocks "
		       "(a hypervisor\n            ran something else); taken out of CPU time as "
		       "involuntary wait\n", fmt_ns(a, sizeof(a), steal));
}

/* the "threads" array of summary's JSON */
static void threads_json(struct json *j, const struct trace *t)
{
	uint32_t i;

	json_arr_begin(j, "threads");
	for (i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];

		json_obj_begin(j, NULL);
		json_u64(j, "tid", th->tid);
		json_str(j, "name", th->name);
		json_u64(j, "first_ns", th->first_ns);
		json_u64(j, "last_ns", th->last_ns);
		json_u64(j, "chunks", th->nchunks);
		json_u64(j, "bytes", th->bytes);
		json_bool(j, "complete", th->complete);
		json_bool(j, "damaged", th->damaged);
		json_bool(j, "cut", th->cut);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void summary_json(struct trace *t, struct hot *h, struct symbols *sym,
			 struct mem_summary *ms, bool have_mem, struct findings *fnd,
			 const struct comp_seen *cs)
{
	struct json j;
	uint32_t i, n;
	struct top *top;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "trace", t->path);
	notes_json(t, &j);
	json_bool(&j, "process_finished", t->end_seen);
	json_str(&j, "program", t->exe);
	json_str(&j, "cmdline", t->cmdline);
	json_u64(&j, "pid", t->pid);
	json_u64(&j, "ppid", t->ppid);
	json_u64(&j, "start_real_ns", t->hdr.start_real_ns);
	json_u64(&j, "duration_ns", t->duration_ns);
	json_bool(&j, "calls_recorded", t->hdr.flags & TRACE_F_CALLS);
	json_bool(&j, "malloc_recorded", t->hdr.flags & TRACE_F_MALLOC);
	json_u64(&j, "min_duration_ns", t->hdr.min_duration_ns);
	threads_json(&j, t);
	json_obj_begin(&j, "events");
	json_u64(&j, "total", t->nevents);
	json_u64(&j, "calls", t->ncalls);
	json_u64(&j, "allocs", t->nallocs);
	json_u64(&j, "frees", t->nfrees);
	json_u64(&j, "reallocs", t->nreallocs);
	json_u64(&j, "lost", t->nlost);
	json_u64(&j, "unmatched_exits", trace_unmatched_exits(t));
	json_u64(&j, "marks", t->nmarks);
	json_u64(&j, "modules", t->nmodules);
	json_obj_end(&j);
	json_obj_begin(&j, "damage");
	json_u64(&j, "damaged_chunks", t->damaged_chunks);
	json_u64(&j, "damaged_bytes", t->damaged_bytes);
	json_bool(&j, "truncated", t->truncated);
	json_obj_end(&j);
	comp_json(&j, t, cs);
	if (h->switches) {
		uint64_t nrd, steal = offcpu_steal(t, &nrd);

		if (nrd)
			json_u64(&j, "steal_ns", steal);
	}
	top = top_funcs(h, &n);
	json_arr_begin(&j, "functions");
	for (i = 0; i < n; i++) {
		struct hot_func *f = &h->funcs[top[i].func];
		const char *file;
		unsigned line;

		json_obj_begin(&j, NULL);
		json_str(&j, "name", sym_func_name(sym, top[i].func));
		json_str(&j, "module", sym_func_module(sym, top[i].func));
		if (sym_func_decl(sym, top[i].func, &file, &line) == 0) {	/* the definition */
			json_str(&j, "file", file);
			json_u64(&j, "line", line);
		} else {
			json_null(&j, "file");
			json_null(&j, "line");
		}
		json_u64(&j, "calls", f->calls);
		json_u64(&j, "total_ns", f->total_ns);
		json_u64(&j, "self_ns", f->self_ns);
		if (h->switches) {	/* off-CPU time (offcpu.c): as in `functions` */
			uint64_t w = f->wait_ns[0] + f->wait_ns[1];

			json_u64(&j, "cpu_self_ns", f->self_ns > w ? f->self_ns - w : 0);
			json_u64(&j, "wait_ns", w);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	free(top);
	if (have_mem) {
		json_obj_begin(&j, "memory");
		json_u64(&j, "allocations", ms->allocations);
		json_u64(&j, "frees", ms->frees);
		json_u64(&j, "bytes_allocated", ms->bytes_allocated);
		json_u64(&j, "bytes_freed", ms->bytes_freed);
		json_u64(&j, "peak_bytes", ms->peak_bytes);
		json_u64(&j, "peak_time_ns", ms->peak_time_ns);
		json_u64(&j, "temporary_allocations", ms->temporary);
		json_u64(&j, "leaked_bytes", ms->leaked_bytes);
		json_u64(&j, "leaked_blocks", ms->leaked_blocks);
		json_obj_end(&j);
		json_arr_begin(&j, "leaks");
		for (i = 0; i < ms->ntop; i++) {
			json_obj_begin(&j, NULL);
			replay_json_stack(&j, t, sym, ms->top[i].stack);
			json_u64(&j, "bytes", ms->top[i].bytes);
			json_u64(&j, "blocks", ms->top[i].blocks);
			json_obj_end(&j);
		}
		json_arr_end(&j);
	} else {
		json_null(&j, "memory");
	}
	findings_json(fnd, &j, FINDINGS_SUMMARY_TOP);
	json_u64(&j, "findings_total", fnd->n);
	json_obj_end(&j);
	json_finish(&j);
}

static void summary_text(struct trace *t, struct hot *h, struct symbols *sym,
			 struct mem_summary *ms, bool have_mem, const struct comp_seen *cs)
{
	char a[32], b[32], c[32], nb[256];
	uint32_t i, n, named = 0;
	struct top *top;

	notes_text(t, stdout);
	printf("Trace:      %s\n", t->path);
	printf("Program:    %s\n", t->exe ? t->exe : "(unknown)");
	if (t->cmdline)
		printf("Command:    %s\n", t->cmdline);
	printf("Process:    pid %u, parent %u%s%s\n", t->pid, t->ppid,
	       t->hdr.flags & TRACE_F_CHILD ? ", forked child" : "",
	       t->hdr.flags & TRACE_F_EXEC ? ", after exec" : "");
	printf("Duration:   %s\n", fmt_ns(a, sizeof(a), t->duration_ns));
	printf("Recorded:   %s%s%s\n", t->hdr.flags & TRACE_F_CALLS ? "calls" : "",
	       (t->hdr.flags & TRACE_F_CALLS) && (t->hdr.flags & TRACE_F_MALLOC) ? ", " : "",
	       t->hdr.flags & TRACE_F_MALLOC ? "malloc" : "");
	if (t->hdr.min_duration_ns)
		printf("            calls shorter than %s were not recorded\n",
		       fmt_ns(a, sizeof(a), t->hdr.min_duration_ns));
	printf("Threads:    %u", t->nthreads);
	for (i = 0; i < t->nthreads && named < 8; i++)
		if (*t->threads[i].name)
			printf("%s%u %s", named++ ? ", " : " (", t->threads[i].tid,
			       t->threads[i].name);
	printf("%s\n", named ? (named < t->nthreads ? ", ...)" : ")") : "");
	printf("Events:     %s (%s calls, %s allocations, %s frees, %s reallocs)\n",
	       fmt_count(a, sizeof(a), t->nevents), fmt_count(b, sizeof(b), t->ncalls),
	       fmt_count(c, sizeof(c), t->nallocs), fmt_count(nb, 32, t->nfrees),
	       fmt_count(nb + 32, 32, t->nreallocs));
	if (t->nlost)
		printf("Lost:       %s events dropped by the recorder\n",
		       fmt_count(a, sizeof(a), t->nlost));
	if (trace_unmatched_exits(t))
		printf("Unmatched:  %s exits without an entry\n",
		       fmt_count(a, sizeof(a), trace_unmatched_exits(t)));
	if (t->damaged_chunks || t->truncated)
		printf("Damage:     %" PRIu64 " damaged chunks, %s lost%s\n", t->damaged_chunks,
		       fmt_bytes(a, sizeof(a), t->damaged_bytes),
		       t->truncated ? ", file cut short" : "");
	if (t->hdr.flags & TRACE_F_CALLS || t->ncalls)
		comp_text(t, cs);
	if (h->switches)
		steal_text(t);

	top = top_funcs(h, &n);
	if (n) {
		static const char *const hdr[] = { "Total", "Self", "Calls", "Function" };
		static const char *const hdr_cpu[] = { "Total", "CPU self", "Calls", "Function" };
		struct table *tb = table_new(4, h->switches ? hdr_cpu : hdr, "rrrl");

		printf("\nTop functions by total time:\n");
		for (i = 0; i < n; i++) {
			struct hot_func *f = &h->funcs[top[i].func];
			uint64_t w = h->switches ? f->wait_ns[0] + f->wait_ns[1] : 0;

			table_add(tb, fmt_ns(a, sizeof(a), f->total_ns),
				  fmt_ns(b, sizeof(b), f->self_ns > w ? f->self_ns - w : 0),
				  fmt_count(c, sizeof(c), f->calls),
				  short_name(sym_func_name(sym, top[i].func), nb,
					     sizeof(nb), 90));
		}
		table_print(tb, stdout);
		table_free(tb);
	}
	free(top);

	if (!have_mem)
		return;
	printf("\nMemory:\n");
	printf("  allocations  %s (%s), frees %s\n", fmt_count(a, sizeof(a), ms->allocations),
	       fmt_bytes(b, sizeof(b), ms->bytes_allocated), fmt_count(c, sizeof(c), ms->frees));
	printf("  peak         %s at %s\n", fmt_bytes(a, sizeof(a), ms->peak_bytes),
	       fmt_ns(b, sizeof(b), ms->peak_time_ns));
	if (t->hdr.sample_mean)
		printf("  temporary    not counted (sampled trace: figures are estimates)\n");
	else
		printf("  temporary    %s allocations\n", fmt_count(a, sizeof(a), ms->temporary));
	printf("  %s %s in %s blocks%s\n", t->end_seen ? "leaked      " : "live at stop",
	       fmt_bytes(a, sizeof(a), ms->leaked_bytes), fmt_count(b, sizeof(b), ms->leaked_blocks),
	       t->end_seen ? "" : " (" NOTES_UNFINISHED ")");
	if (ms->ntop) {
		printf("\n%s:\n", t->end_seen ? "Top leaks" : "Top blocks live when recording stopped");
		for (i = 0; i < ms->ntop; i++)
			printf("  %10s in %6s blocks  from %s%s\n",
			       fmt_bytes(a, sizeof(a), ms->top[i].bytes),
			       fmt_count(b, sizeof(b), ms->top[i].blocks),
			       stack_top(sym, t, ms->top[i].stack),
			       trace_stack_truncated(t, ms->top[i].stack) ?
			       " (stack " TRACE_TRUNCATED_FRAME ")" : "");
	}
}

/**
 * report_summary - the overview of @t (text or JSON, see summary_json for the keys).
 * Return: 0, or -1 when the trace could not be read.
 */
int report_summary(struct trace *t, const struct opts *o)
{
	struct mem_summary ms;
	struct comp_seen cs;
	struct hot h = { 0 };
	struct findings fnd;
	struct findings_given given = { 0 };
	struct timeline_growth g;
	struct symbols *sym;
	struct mem m = { 0 };
	bool have_mem = false;
	int ret = -1;

	/*
	 * the calls walk also collects modules, marks, names and the totals; its call tree
	 * is what findings needs, which takes the table over (fnd.h) with the memory totals
	 */
	if (t->hdr.flags & TRACE_F_MALLOC)
		replay_log_want(t);	/* and the heap's events, for mem_build: one walk */
	if (hot_collect(t, -1, HOT_TREE, &h) < 0) {
		hot_free(&h);
		return -1;
	}
	cs.removed_ns = trace_comp_removed_ns(t);
	cs.clamps = trace_comp_clamps(t);
	cs.alloc_ns = trace_comp_alloc_ns(t);
	memset(&ms, 0, sizeof(ms));
	sym = sym_open(t);
	sym_set_demangle(sym, o->demangle);
	/*
	 * the contents decide (a header that says otherwise is warned about): one replay for
	 * the memory totals, the leaks and what findings reads of the heap (mem_build)
	 */
	if ((t->hdr.flags & TRACE_F_MALLOC) || t->nallocs || t->nfrees || t->nreallocs) {
		have_mem = true;
		if (mem_build(&m, t, o, sym, MEM_TIMELINE | MEM_SHAPES) < 0 || mem_suppress(&m) < 0)
			goto out;
		mem_summary_of(&m, &ms);
		timeline_growth_of(&m.v, &g);
		given.mem = &m;
		given.ms = &ms;
		given.growth = &g;
	}
	given.hot = &h;
	if (findings_collect_given(t, o, NULL, &given, &fnd) < 0) {
		findings_free(&fnd);
		goto out;
	}
	if (o->format == FMT_JSON) {
		summary_json(t, &fnd.h, sym, &ms, have_mem, &fnd, &cs);
	} else {
		summary_text(t, &fnd.h, sym, &ms, have_mem, &cs);
		printf("\nFindings: %u\n", fnd.n);
		findings_text(&fnd, stdout, FINDINGS_SUMMARY_TOP);
	}
	findings_free(&fnd);
	ret = 0;
out:
	if (have_mem)
		mem_free(&m);
	hot_free(&h);
	sym_close(sym);
	return ret;
}
