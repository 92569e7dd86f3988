/* SPDX-License-Identifier: MIT */
/*
 * The `flamegraph` report: folded stacks (as Brendan Gregg's flamegraph.pl reads them) or a
 * self-contained SVG, for one of four metrics:
 *   time         self time per call path, from ENTRY/EXIT (all threads summed, or one root
 *                per thread with --per-thread): CPU self (the off-CPU time in it left out)
 *                when the trace has context switches and --wall is not given, else
 *                wall-clock; a note line (a comment of the folded output, a line under the
 *                SVG's title) says which;
 *   alloc-bytes  bytes allocated per allocation stack (realloc to a new block included);
 *   alloc-count  allocations per allocation stack;
 *   leaked       bytes of blocks never freed, per allocation stack, after the suppressions
 *                of the `leaks` report (unless --no-suppress).
 * The walks are in export.c, the tree and the SVG in svg.c.
 */
#define PR_FMT "flame"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

enum metric { M_TIME, M_ALLOC_BYTES, M_ALLOC_COUNT, M_LEAKED };
#define FLAME_CPU 1U			/* export_flame's *clock: CPU self time */
#define FLAME_WALL 2U			/* ... wall-clock, as --wall asked */
#define FLAME_NO_SWITCHES 4U		/* ... the trace has no context switches */

static const char *const metric_names[] = { "time", "alloc-bytes", "alloc-count", "leaked" };
static const char *const metric_units[] = { "ns", "bytes", "allocations", "bytes" };
static const char *const metric_titles[] = {
	"Flame graph: wall-clock time per call path (width = inclusive wall-clock time)",
	"Flame graph: bytes allocated per stack",
	"Flame graph: allocations per stack",
	"Flame graph: bytes leaked per stack",
};

/** flame_metric_ok - whether flamegraph takes --metric=@m (main.c says bad usage otherwise). */
bool flame_metric_ok(const char *m)
{
	unsigned k;

	for (k = 0; k < 4; k++)
		if (!strcmp(m, metric_names[k]))
			return true;
	return false;
}

/* thread_root - name of a per-thread root frame: "[thread NAME TID]" in @buf */
static const char *thread_root(const struct trace *t, uint32_t thread, char *buf, size_t len)
{
	const struct trace_thread *th = &t->threads[thread];

	if (th->name[0])
		snprintf(buf, len, "[thread %s %u]", th->name, th->tid);
	else
		snprintf(buf, len, "[thread %u]", th->tid);
	return buf;
}

/*
 * flame_of_ctree - @fl gets one path per call-tree node with self time, below flame node
 * @base. A call-tree node always comes after its parent, so one forward pass maps each to
 * its flame node.
 */
static void flame_of_ctree(const struct trace *t, const struct ctree *ct, struct symbols *sym,
		    struct flame *fl, uint32_t base, bool cpu)
{
	uint32_t *map, *fname, i;

	fname = xmalloc((ct->nfuncs + 1) * sizeof(*fname));
	for (i = 0; i < ct->nfuncs; i++)
		fname[i] = UINT32_MAX;
	map = xmalloc((ct->nnodes + 1) * sizeof(*map));
	map[0] = base;
	for (i = 1; i < ct->nnodes; i++) {
		const struct ctree_node *n = &ct->nodes[i];
		uint32_t name;
		char buf[128];

		if (n->func & CTREE_THREAD) {
			name = flame_name(fl, thread_root(t, n->func & ~CTREE_THREAD, buf,
							  sizeof(buf)));
		} else if (n->func < ct->nfuncs && n->func < t->nfuncs) {
			if (fname[n->func] == UINT32_MAX)
				fname[n->func] = flame_name(fl, sym_func_name(sym, n->func));
			name = fname[n->func];
		} else {
			name = flame_name(fl, "[unknown]");
		}
		map[i] = flame_step(fl, map[n->parent], name);
		fl->nodes[map[i]].self += ctree_self(n, cpu);
	}
	free(map);
	free(fname);
}

/*
 * flame_of_sites - one path per allocation stack of @r (frames reversed: outermost first),
 * valued by @metric (1 bytes, 2 allocations, 3 leaked bytes); stacks that @supp (may be
 * NULL) suppresses are left out. Stack 0 (none recorded) becomes the frame "[no stack]".
 * The paths start below flame node @base.
 */
static void flame_of_sites(const struct trace *t, const struct replay *r, int metric,
		    struct symbols *sym, const struct suppressions *supp, struct flame *fl,
		    uint32_t base)
{
	uint32_t *names = NULL, cap = 0, id, cut;

	for (id = 0; id < r->naggs; id++) {
		const struct replay_agg *s = &r->aggs[id];
		uint64_t v = metric == M_ALLOC_BYTES ? s->bytes :
			     metric == M_ALLOC_COUNT ? s->allocs : s->live_bytes;
		struct sym_frame chain[SYM_MAX_INLINE];
		struct trace_stack st = { 0 };
		uint32_t i, nf = 0;
		int k, nc;

		if (!v)
			continue;
		if (supp && supp_match(supp, sym, t, id) >= 0)
			continue;
		if (id)
			st = trace_stack_get(t, id);
		cut = trace_stack_truncated(t, id);
		/* inlined functions are frames of their own (sym_frames): outermost first here */
		for (i = st.nframes; i-- > 0;) {
			nc = sym_frames(sym, &st.frames[i], chain, SYM_MAX_INLINE);
			ARRAY_GROW(names, cap, (size_t)nf + (uint32_t)nc + 2);
			for (k = nc; k-- > 0;)
				names[cut + nf++] = flame_name(fl, chain[k].name);
		}
		ARRAY_GROW(names, cap, 2);
		/* a cut stack hangs below a "[truncated]" root, not beside main as if complete */
		if (cut)
			names[0] = flame_name(fl, TRACE_TRUNCATED_FRAME);
		if (!nf)
			names[0] = flame_name(fl, "[no stack]");
		flame_add(fl, base, names, nf ? nf + cut : 1, v);
	}
	free(names);
}

/*
 * export_flame - add one trace's paths to @fl (see export.h): time from the call tree,
 * allocation metrics from the heap replay; symbols are opened after the walk, when the
 * trace's modules are known. --thread selects one thread of this trace (-3 if it has none).
 */
/* "[process NAME PID]": NAME from the PROCESS record (known after a walk), else the file */
static uint32_t process_root(struct flame *fl, const struct trace *t)
{
	const char *exe = t->exe && *t->exe ? t->exe : t->path;
	char buf[256];

	if (strrchr(exe, '/') && strrchr(exe, '/')[1])
		exe = strrchr(exe, '/') + 1;
	snprintf(buf, sizeof(buf), "[process %s %u]", exe, t->pid ? t->pid : t->hdr.pid);
	return flame_child(fl, 0, flame_name(fl, buf));
}

static int export_flame(struct trace *t, const struct opts *o, const char *metric_name,
		 bool root, struct flame *fl, const char **unit, unsigned *clock)
{
	struct suppressions *supp = NULL;
	struct symbols *sym = NULL;
	struct replay r = { 0 };
	enum metric metric;
	struct ctree ct;
	uint32_t base = 0;
	int thread, ret;

	for (metric = M_TIME; metric <= M_LEAKED; metric++)
		if (!strcmp(metric_name, metric_names[metric]))
			break;
	if (metric > M_LEAKED) {
		__pr_log("error: ", "unknown metric '%s' (time, alloc-bytes, alloc-count, leaked)",
			 metric_name);
		return -2;
	}
	*unit = metric_units[metric];
	thread = opts_thread(t, o);
	if (thread == -2)
		return -3;
	if (metric == M_TIME) {
		ret = ctree_build(t, thread, o->per_thread, !o->wall, &ct);
		if (!ret) {
			base = root ? process_root(fl, t) : 0;
			sym = sym_open(t);
			sym_set_demangle(sym, o->demangle);
			flame_of_ctree(t, &ct, sym, fl, base, ct.switches);
			*clock |= ct.switches ? FLAME_CPU : !offcpu_present(t) ? FLAME_NO_SWITCHES
								   : FLAME_WALL;
		}
		ctree_free(&ct);
	} else {
		ret = export_replay(t, thread, &r);
		if (!ret && metric == M_LEAKED && !o->no_suppress) {
			supp = supp_load(o->suppressions, true);
			if (!supp)
				ret = -1;
		}
		if (!ret) {
			base = root ? process_root(fl, t) : 0;
			sym = sym_open(t);
			sym_set_demangle(sym, o->demangle);
			flame_of_sites(t, &r, metric, sym, supp, fl, base);
		}
		if (supp)
			supp_free(supp);
		replay_free(&r);
	}
	sym_close(sym);
	return ret < 0 ? -1 : 0;
}

/* the note that says which clock the time metric's values are (@clock: export_flame's) */
static void clock_note(struct strv *notes, unsigned clock)
{
	if (clock == FLAME_CPU)
		strv_add(notes, "times are CPU time: self time on a CPU per call path, the off-CPU "
			 "time in it (waits) left out; --wall for wall-clock time");
	else if (clock & FLAME_CPU)
		strv_add(notes, "times are CPU time for the traces with context switches, wall-clock "
			 "for the others (waits included)");
	else if (clock & FLAME_WALL)
		strv_add(notes, "times are wall-clock (--wall): waits included");
	/* no switches: a refused trace's note says times are wall-clock; a trace from before
	 * context switches were recorded says nothing, as in every report (offcpu_note) */
}

/*
 * report_flamegraph - `perfshim-analyze flamegraph [--folded] [--metric=M] [-o FILE]
 * TRACE...`. Folded lines are sorted by path (depth first, names in byte order), one per
 * call path or stack with a non-zero value. @t is the first trace; with several (a process
 * and its children) each gets a root frame "[process NAME PID]" in the same graph.
 * Return: 0, or -1 after one error line.
 */
int report_flamegraph(struct trace *t, const struct opts *o)
{
	const char *metric = o->metric && *o->metric ? o->metric : "time";
	int n = o->ntraces > 1 ? o->ntraces : 1, i, found = 0, ret = 0;
	const char *unit = "ns";
	struct strv notes = { 0 };
	unsigned k, clock = 0;
	struct flame fl;
	FILE *f;

	flame_init(&fl);
	for (i = 0; i < n && !ret; i++) {
		struct trace *ti = t;

		if (i && trace_open(o->traces[i], &ti) < 0) {
			ret = -1;
			break;
		}
		ret = export_flame(ti, o, metric, n > 1, &fl, &unit, &clock);
		if (ret == -3)	/* --thread names a thread of another trace */
			ret = 0;
		else if (!ret)
			found++;
		if (!ret)
			export_notes(ti, &notes, n > 1, !strcmp(metric, "leaked"));
		if (i)
			trace_close(ti);
	}
	if (fl.folded)
		strv_add(&notes, "recursion folded: on paths deeper than %d frames, %" PRIu64
			 " frames of functions already on the path were merged into their nearest "
			 "activation", FLAME_FOLD_DEPTH, fl.folded);
	clock_note(&notes, clock);	/* last: what the trace lacks comes first */
	if (!ret && !found) {
		__pr_log("error: ", "no thread %u in %s", o->thread_tid,
			 n > 1 ? "these traces" : t->path);
		ret = -1;
	}
	if (ret < 0) {
		flame_free(&fl);
		strv_free(&notes);
		return -1;
	}
	flame_finish(&fl);
	if (!fl.nodes[0].total) {
		if (!strcmp(metric, "time"))
			pr_warn("%s: no function calls recorded (was the program built with "
				"-finstrument-functions?)", t->path);
		else if (!strcmp(metric, "leaked"))
			pr_warn("%s: no leaked blocks", t->path);
		else
			pr_warn("%s: no allocations recorded", t->path);
	}
	f = export_open(o);
	if (!f) {
		flame_free(&fl);
		strv_free(&notes);
		return -1;
	}
	if (o->folded) {
		/* text: names and labels from the trace reach a terminal escaped */
		FILE *tf = text_filter_open(f);

		/* flamegraph.pl and speedscope skip lines that do not end in a number */
		for (k = 0; k < notes.n; k++)
			notes_comment_line(tf, "# ", notes.v[k]);
		flame_folded(&fl, tf);
		fclose(tf);
	} else {
		struct svg_opts so = {
			.title = metric_titles[0],
			.unit = unit,
			.subtitle = t->exe ? t->exe : t->path,
			.standalone = true,
			.width = 1200,
			.notes = (const char *const *)notes.v,
			.nnotes = notes.n,
		};

		for (k = 0; k < 4; k++)
			if (!strcmp(metric, metric_names[k]))
				so.title = metric_titles[k];
		if (clock == FLAME_CPU)
			so.title = "Flame graph: CPU time per call path (width = inclusive CPU time)";
		flame_svg(&fl, &so, f);
	}
	flame_free(&fl);
	strv_free(&notes);
	return export_close(f, o);
}
