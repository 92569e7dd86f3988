/* SPDX-License-Identifier: MIT */
/*
 * The `html` report: one self-contained page, an application (analyzer/html/page.html,
 * app.css, app.js, app-memory.js, embedded at build time) that renders the JSON data object
 * written here: flame graphs, top-down, bottom-up, callers/callees, the function table, the
 * heap over time, sites and leaks, per thread and merged. docs/html-data.md is the data's
 * schema and budget. This file writes the page and the time side (call tree, functions and
 * edges, per busy thread too); report-html-mem.c the memory side. Walks: one of the calls
 * (model.c's model_build) and one heap replay (mem.c's mem_build), that every section and
 * findings read.
 */
#define PR_FMT "html"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/findings-out.h"
#include "analyzer/findings.h"
#include "analyzer/hmap.h"
#include "analyzer/hot.h"
#include "analyzer/html.h"
#include "analyzer/json.h"
#include "analyzer/mem.h"
#include "analyzer/model.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/report.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/* the embedded application (build/analyzer/html-assets.c, made by analyzer/html/embed.sh) */
extern const char html_asset_page[], html_asset_css[], html_asset_js[];

#define NONE UINT32_MAX

/* ---- strings, frames and notes: the tables every section refers to ---- */

/* html_str - the id of @s in the data's "strings" table, interned (copied) on first use. */
uint32_t html_str(struct html *h, const char *s)
{
	struct html_strs *st = &h->strs;
	struct strmap_ent *e;
	bool created;

	s = s ? s : "";
	e = strmap_intern(&st->ix, s, &created);
	if (!created)
		return (uint32_t)e->v;
	ARRAY_ROOM(st->v, st->cap, st->n);
	st->v[st->n] = xstrdup(s);
	e->str = st->v[st->n];		/* the map keeps the copy, not the caller's */
	e->v = st->n;
	return st->n++;
}

/*
 * html_frames_of - the ids of stack frame @f in the data's "frames" table, into @ids (up to
 * @max): the functions inlined at its address, innermost first, then the real function
 * (sym_frames), each with name, module (the one it was in when its stack was taken), the
 * file:line (of the call site for a return address, of the definition for a function
 * entry) and whether inlined. One address's frames are kept once, in consecutive ids (for
 * the first 16382 modules). Return: how many ids (at least 1).
 */
int html_frames_of(struct html *h, const struct trace_frame *f, uint32_t *ids, int max)
{
	uint64_t mod = f->module == TRACE_NO_MODULE ? 0 : (uint64_t)f->module + 1;
	struct sym_frame chain[SYM_MAX_INLINE];
	struct xmap_val *v, fresh = { 0 };
	bool created = true;
	int n, i;

	/* an entry that carries its call's address (sym_frames) is keyed by that address */
	uint64_t key = f->site ? f->site << 1 | 1ULL << 62 : f->ip << 1 | f->is_ra;

	v = mod < 0x3fff ? xmap_put(&h->frame_ix, key | mod << 48 | 1ULL << 63, &created)
			 : &fresh;
	if (created) {
		n = sym_frames(h->sym, f, chain, SYM_MAX_INLINE);
		v->w = h->nframes;
		v->v = (uint64_t)n;
		for (i = 0; i < n; i++) {
			struct html_frame *fr;

			ARRAY_ROOM(h->frames, h->frames_cap, h->nframes);
			fr = &h->frames[h->nframes++];
			fr->name = html_str(h, chain[i].name);
			fr->module = html_str(h, chain[i].module ? chain[i].module : "?");
			fr->file = chain[i].file && chain[i].line ? html_str(h, chain[i].file) : NONE;
			fr->line = fr->file != NONE ? chain[i].line : 0;
			fr->inlined = chain[i].inlined;
		}
	}
	n = (int)v->v < max ? (int)v->v : max;
	for (i = 0; i < n; i++)
		ids[i] = v->w + (uint32_t)i;
	return n;
}

/*
 * html_frame_truncated - the id of the "[truncated]" frame (no module, no line): the outermost
 * frame of a stack cut at PERFSHIM_STACK_DEPTH, so flame graphs hang it below a root of its
 * own instead of beside main. Keyed by ip 0, which no real frame has.
 */
uint32_t html_frame_truncated(struct html *h)
{
	struct html_frame *fr;
	struct xmap_val *v;
	bool created;

	v = xmap_put(&h->frame_ix, 1ULL << 62, &created);
	if (!created)
		return v->w;
	ARRAY_ROOM(h->frames, h->frames_cap, h->nframes);
	fr = &h->frames[h->nframes];
	fr->name = html_str(h, TRACE_TRUNCATED_FRAME);
	fr->module = html_str(h, "");
	fr->file = NONE;
	fr->line = 0;
	fr->inlined = false;
	v->w = h->nframes;
	return h->nframes++;
}

/* html_note - what a capped table left out (the page shows one line per note) */
void html_note(struct html *h, const char *what, int thread, uint64_t kept, uint64_t total,
	       uint64_t value, const char *unit)
{
	if (h->nnotes == HTML_NOTES)
		return;
	h->notes[h->nnotes++] = (struct html_note){ what, thread, kept, total, value, unit };
}

/* html_cap - rows a table of budget @budget keeps: --limit when it is smaller */
uint32_t html_cap(const struct html *h, uint32_t budget)
{
	return h->rows && h->rows < budget ? h->rows : budget;
}

/* a column list: "columns": ["a", "b", ...] from a NULL-terminated array, up to @stop */
static void columns_upto(struct json *j, const char *const *names, const char *stop)
{
	json_arr_begin(j, "columns");
	for (; *names && (!stop || strcmp(*names, stop)); names++)
		json_str(j, NULL, *names);
	json_arr_end(j);
}

static void columns(struct json *j, const char *const *names)
{
	columns_upto(j, names, NULL);
}

static void tables_json(struct html *h)
{
	static const char *const fcols[] = { "name", "module", "file", "line", "inlined", NULL };
	struct json *j = &h->j;
	uint32_t i;

	json_obj_begin(j, "frames");
	columns(j, fcols);
	json_arr_begin(j, "rows");
	for (i = 0; i < h->nframes; i++) {
		const struct html_frame *fr = &h->frames[i];

		json_arr_begin(j, NULL);
		json_u64(j, NULL, fr->name);
		json_u64(j, NULL, fr->module);
		if (fr->file == NONE) {
			json_null(j, NULL);
			json_null(j, NULL);
		} else {
			json_u64(j, NULL, fr->file);
			json_u64(j, NULL, fr->line);
		}
		json_bool(j, NULL, fr->inlined);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	json_arr_begin(j, "left_out");
	for (i = 0; i < h->nnotes; i++) {
		const struct html_note *n = &h->notes[i];

		json_obj_begin(j, NULL);
		json_str(j, "what", n->what);
		if (n->thread >= 0)
			json_u64(j, "thread", (uint64_t)n->thread);
		json_u64(j, "kept", n->kept);
		json_u64(j, "total", n->total);
		if (n->unit) {
			json_u64(j, "value", n->value);
			json_str(j, "unit", n->unit);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	/* last: every section above interned its strings */
	json_arr_begin(j, "strings");
	for (i = 0; i < h->strs.n; i++) {
		if (i)		/* fput_json: bad UTF-8 becomes U+FFFD, as in every page */
			fputc(',', h->f);
		fput_json(h->strs.v[i], h->f);
	}
	json_arr_end(j);
}

static void tables_free(struct html *h)
{
	uint32_t i;

	for (i = 0; i < h->strs.n; i++)
		free(h->strs.v[i]);
	free(h->strs.v);
	strmap_free(&h->strs.ix);
	free(h->frames);
	xmap_free(&h->frame_ix);
	memset(&h->strs, 0, sizeof(h->strs));
	h->frames = NULL;
	h->nframes = h->frames_cap = 0;
	h->nnotes = 0;
}

/* ---- the time side ---- */

/* order of call-tree nodes for the cut: inclusive time, then id (a parent before its child) */
static const uint64_t *sort_total;

static int by_total(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (sort_total[x] != sort_total[y])
		return sort_total[x] > sort_total[y] ? -1 : 1;
	return x < y ? -1 : 1;
}

/*
 * Which nodes of @ct stay: all, or the HTML_TREE_NODES with the most inclusive time. A
 * parent's total is at least its child's and its id smaller, so the kept set holds every
 * kept node's ancestors. Thread roots always stay, beside the budget's call paths.
 * Return: new ids (NONE: left out).
 */
static uint32_t *tree_keep(struct html *h, const struct ctree *ct, const uint64_t *total,
			   uint32_t *nkept)
{
	uint32_t *id = xmalloc((ct->nnodes + 1) * sizeof(*id)), *order, i, n = 0;
	uint32_t cap = HTML_TREE_NODES;

	for (i = 0; i < ct->nnodes; i++)
		id[i] = 0;
	if (ct->nnodes - 1 > cap) {
		order = xmalloc(ct->nnodes * sizeof(*order));
		for (i = 1; i < ct->nnodes; i++)
			order[i - 1] = i;
		sort_total = total;
		qsort(order, ct->nnodes - 1, sizeof(*order), by_total);
		for (i = 0, n = 0; i < ct->nnodes - 1; i++) {
			bool root = ct->nodes[order[i]].func & CTREE_THREAD;

			id[order[i]] = root || n < cap;
			n += !root;
		}
		n = 0;
		free(order);
	} else {
		for (i = 1; i < ct->nnodes; i++)
			id[i] = 1;
	}
	id[0] = 1;
	for (i = 0; i < ct->nnodes; i++)
		id[i] = id[i] ? n++ : NONE;
	*nkept = n;
	return id;
}

/*
 * "tree": the call tree with one root per thread, columns parent, func, calls, total_ns,
 * self_ns (thread roots: func null, listed in "roots"), and with context switches
 * cpu_total_ns and cpu_self_ns (the off-CPU time left out); "cut": per kept node, the nodes
 * below it that the budget left out and their inclusive time (cpu_total_ns too). The
 * budget keeps the paths with the most time of the page's clock (h->cpu).
 */
static void tree_json(struct html *h, const struct ctree *ct, uint8_t *used)
{
	static const char *const cols[] = { "parent", "func", "calls", "total_ns", "self_ns",
					    "cpu_total_ns", "cpu_self_ns", NULL };
	static const char *const ccols[] = { "node", "nodes", "total_ns", "cpu_total_ns", NULL };
	uint64_t *total = xcalloc(2 * ((size_t)ct->nnodes + 1), sizeof(*total));
	uint64_t *cpu = total + ct->nnodes + 1;	/* CPU totals: self less the waits */
	uint64_t *cut_ns, *cut_n, cut_all = 0;
	uint32_t *id, *anc, nkept, i, roots;
	struct json *j = &h->j;
	bool sw = ct->switches;

	/* a child's id is above its parent's: one backward pass sums the subtrees */
	for (i = ct->nnodes; i-- > 1;) {
		total[i] += ct->nodes[i].self_ns;
		total[ct->nodes[i].parent] += total[i];
		cpu[i] += ctree_self(&ct->nodes[i], true);
		cpu[ct->nodes[i].parent] += cpu[i];
	}
	id = tree_keep(h, ct, h->cpu ? cpu : total, &nkept);
	cut_ns = xcalloc(2 * ((size_t)ct->nnodes + 1), sizeof(*cut_ns));
	cut_n = xcalloc(ct->nnodes + 1, sizeof(*cut_n));
	anc = xmalloc((ct->nnodes + 1) * sizeof(*anc));	/* nearest kept ancestor-or-self */
	anc[0] = 0;
	for (i = 1; i < ct->nnodes; i++) {
		uint32_t p = ct->nodes[i].parent;

		anc[i] = id[i] != NONE ? i : anc[p];
		if (id[i] == NONE) {
			cut_n[anc[p]]++;
			if (id[p] != NONE) {
				cut_ns[2 * p] += total[i];
				cut_ns[2 * p + 1] += cpu[i];
				cut_all += h->cpu ? cpu[i] : total[i];
			}
		}
	}
	json_obj_begin(j, "tree");
	columns_upto(j, cols, sw ? NULL : "cpu_total_ns");
	json_arr_begin(j, "rows");
	for (i = 0; i < ct->nnodes; i++) {
		const struct ctree_node *n = &ct->nodes[i];

		if (id[i] == NONE)
			continue;
		json_arr_begin(j, NULL);
		json_u64(j, NULL, i ? id[n->parent] : 0);
		if (!i || (n->func & CTREE_THREAD)) {
			json_null(j, NULL);
		} else {
			json_u64(j, NULL, n->func);
			if (n->func < h->t->nfuncs)
				used[n->func] = 1;
		}
		json_u64(j, NULL, n->calls);
		json_u64(j, NULL, total[i]);
		json_u64(j, NULL, n->self_ns);
		if (sw) {
			json_u64(j, NULL, cpu[i]);
			json_u64(j, NULL, ctree_self(n, true));
		}
		json_arr_end(j);
	}
	json_arr_end(j);
	json_arr_begin(j, "roots");		/* [thread index, node] */
	for (i = 1; i < ct->nnodes; i++) {
		if (!(ct->nodes[i].func & CTREE_THREAD) || id[i] == NONE)
			continue;
		json_arr_begin(j, NULL);
		json_u64(j, NULL, ct->nodes[i].func & ~CTREE_THREAD);
		json_u64(j, NULL, id[i]);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_begin(j, "cut");
	columns_upto(j, ccols, sw ? NULL : "cpu_total_ns");
	json_arr_begin(j, "rows");
	for (i = 0; i < ct->nnodes; i++) {
		if (id[i] == NONE || !cut_n[i])
			continue;
		json_arr_begin(j, NULL);
		json_u64(j, NULL, id[i]);
		json_u64(j, NULL, cut_n[i]);
		json_u64(j, NULL, cut_ns[2 * i]);
		if (sw)
			json_u64(j, NULL, cut_ns[2 * i + 1]);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	/* call paths: the nodes but the root and the thread roots (which always stay) */
	for (i = 1, roots = 0; i < ct->nnodes; i++)
		roots += !!(ct->nodes[i].func & CTREE_THREAD);
	json_u64(j, "total_paths", ct->nnodes - 1 - roots);
	json_obj_end(j);
	if (nkept < ct->nnodes)
		html_note(h, "call_tree_nodes", -1, nkept - 1 - roots, ct->nnodes - 1 - roots,
			  cut_all, "ns");
	free(anc);
	free(cut_n);
	free(cut_ns);
	free(id);
	free(total);
}

static const struct hot *sort_hot;

/* a function's total: CPU total (the total less the off-CPU time within it) when @cpu */
static uint64_t func_total(const struct hot_func *f, bool cpu)
{
	return !cpu ? f->total_ns : f->total_ns > f->wait_total_ns ? f->total_ns - f->wait_total_ns
								 : 0;
}

static int by_func_total(const void *a, const void *b)
{
	const struct hot_func *x = &sort_hot->funcs[*(const uint32_t *)a];
	const struct hot_func *y = &sort_hot->funcs[*(const uint32_t *)b];

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int by_edge_total(const void *a, const void *b)
{
	const struct hot_edge *x = &sort_hot->edges[*(const uint32_t *)a];
	const struct hot_edge *y = &sort_hot->edges[*(const uint32_t *)b];

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/*
 * "functions" of a scope: the `functions` report's numbers, by total time (as `functions`
 * sorts), capped; with context switches also its cpu_self_ns, wait_ns and cpu_total_ns
 */
static void scope_funcs(struct html *h, struct hot *hot, int thread, uint8_t *used)
{
	static const char *const cols[] = { "func", "calls", "total_ns", "self_ns", "avg_ns",
					    "min_ns", "max_ns", "p50_ns", "p99_ns", "cpu_self_ns",
					    "wait_ns", "cpu_total_ns", NULL };
	bool sw = hot->switches;
	uint32_t *order = xmalloc((hot->nfuncs + 1) * sizeof(*order)), n = 0, i, cap;
	uint64_t left = 0;
	struct json *j = &h->j;

	for (i = 0; i < hot->nfuncs; i++)
		if (hot->funcs[i].calls)
			order[n++] = i;
	sort_hot = hot;
	qsort(order, n, sizeof(*order), by_func_total);
	cap = html_cap(h, HTML_FUNCS);
	json_obj_begin(j, "functions");
	columns_upto(j, cols, sw ? NULL : "cpu_self_ns");
	json_arr_begin(j, "rows");
	for (i = 0; i < n; i++) {
		struct hot_func *f = &hot->funcs[order[i]];

		if (i >= cap) {
			left += model_self(f, h->cpu && sw);
			continue;
		}
		used[order[i]] = 1;
		json_arr_begin(j, NULL);
		json_u64(j, NULL, order[i]);
		json_u64(j, NULL, f->calls);
		json_u64(j, NULL, f->total_ns);
		json_u64(j, NULL, f->self_ns);
		json_u64(j, NULL, f->sum_ns / f->calls);
		json_u64(j, NULL, f->min_ns);
		json_u64(j, NULL, f->max_ns);
		json_u64(j, NULL, hot_percentile(f, 50));
		json_u64(j, NULL, hot_percentile(f, 99));
		if (sw) {
			json_u64(j, NULL, model_self(f, true));
			json_u64(j, NULL, f->wait_ns[0] + f->wait_ns[1]);
			json_u64(j, NULL, func_total(f, true));
		}
		json_arr_end(j);
	}
	json_arr_end(j);
	json_u64(j, "total_rows", n);
	json_obj_end(j);
	if (n > cap)
		html_note(h, "functions", thread, cap, n, left, "ns");
	free(order);
}

/*
 * "edges" of a scope: caller -> callee (caller null: called from no recorded function);
 * with context switches also the callee's CPU self and off-CPU self time in those calls
 */
static void scope_edges(struct html *h, struct hot *hot, int thread, uint8_t *used)
{
	static const char *const cols[] = { "caller", "callee", "calls", "total_ns", "self_ns",
					    "cpu_self_ns", "wait_ns", NULL };
	bool sw = hot->switches;
	uint32_t *order = xmalloc((hot->nedges + 1) * sizeof(*order)), i, cap;
	uint64_t left = 0;
	struct json *j = &h->j;

	for (i = 0; i < hot->nedges; i++)
		order[i] = i;
	sort_hot = hot;
	qsort(order, hot->nedges, sizeof(*order), by_edge_total);
	cap = html_cap(h, HTML_EDGES);
	json_obj_begin(j, "edges");
	columns_upto(j, cols, sw ? NULL : "cpu_self_ns");
	json_arr_begin(j, "rows");
	for (i = 0; i < hot->nedges; i++) {
		const struct hot_edge *e = &hot->edges[order[i]];

		if (i >= cap) {
			left += e->total_ns;
			continue;
		}
		json_arr_begin(j, NULL);
		if (e->caller == HOT_ROOT)
			json_null(j, NULL);
		else
			json_u64(j, NULL, e->caller);
		json_u64(j, NULL, e->callee);
		json_u64(j, NULL, e->calls);
		json_u64(j, NULL, e->total_ns);
		json_u64(j, NULL, e->self_ns);
		if (sw) {
			json_u64(j, NULL, e->self_ns > e->wait_ns ? e->self_ns - e->wait_ns : 0);
			json_u64(j, NULL, e->wait_ns);
		}
		json_arr_end(j);
		if (e->caller != HOT_ROOT && e->caller < h->t->nfuncs)
			used[e->caller] = 1;
		if (e->callee < h->t->nfuncs)
			used[e->callee] = 1;
	}
	json_arr_end(j);
	json_u64(j, "total_rows", hot->nedges);
	json_obj_end(j);
	if (hot->nedges > cap)
		html_note(h, "edges", thread, cap, hot->nedges, left, "ns");
	free(order);
}

/*
 * one scope: all threads (@thread -1, or the --thread one: the model's table) or one
 * thread index (the model's table of that thread's own)
 */
static void scope_json(struct html *h, int thread, uint8_t *used, struct model *m)
{
	struct hot *hp = thread >= 0 ? model_thread_hot(m, (uint32_t)thread) : &m->hot;
	struct json *j = &h->j;

	json_obj_begin(j, NULL);
	if (thread >= 0)
		json_u64(j, "thread", (uint64_t)thread);
	else
		json_null(j, "thread");
	json_u64(j, "calls", hp->ncalls);
	scope_funcs(h, hp, thread, used);
	scope_edges(h, hp, thread, used);
	json_obj_end(j);
}

/* the threads that get their own scope: the HTML_THREADS with the most time */
static uint32_t busy_threads(struct html *h, const struct ctree *ct, uint8_t *pick)
{
	uint32_t nt = h->t->nthreads, *order = xmalloc((nt + 1) * sizeof(*order)), i, n, k;
	uint64_t *busy = model_busy(ct, nt, h->cpu);

	n = k = model_busiest(busy, nt, order);	/* the most time first, then index */
	if (n > HTML_THREADS)
		n = HTML_THREADS;
	for (i = 0; i < n; i++)
		pick[order[i]] = 1;
	if (k > n)
		html_note(h, "thread_views", -1, n, k, 0, NULL);
	free(order);
	free(busy);
	return n;
}

/* the functions the sections name: name, module, file and line of the definition */
static void funcs_json(struct html *h, const uint8_t *used)
{
	static const char *const cols[] = { "name", "module", "file", "line", NULL };
	struct json *j = &h->j;
	uint32_t i;

	json_obj_begin(j, "functions");
	columns(j, cols);
	json_arr_begin(j, "rows");
	for (i = 0; i < h->t->nfuncs; i++) {
		struct sym_info si = { 0 };

		if (!used[i]) {
			json_null(j, NULL);
			continue;
		}
		json_arr_begin(j, NULL);
		json_u64(j, NULL, html_str(h, sym_func_name(h->sym, i)));
		json_u64(j, NULL, html_str(h, sym_func_module(h->sym, i)));
		sym_resolve_func(h->sym, i, &si);
		if (si.file) {
			json_u64(j, NULL, html_str(h, si.file));
			json_u64(j, NULL, si.line);
		} else {
			json_null(j, NULL);
			json_null(j, NULL);
		}
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/*
 * "time": the call tree (per-thread roots: the page merges them for "all threads"), and
 * per scope the functions and edges of the model (a busy thread's: its own table). Absent
 * when no call was recorded. "clock": "cpu" when the trace has context switches and --wall
 * was not given (the page then shows CPU time: the off-CPU time left out), else "wall".
 */
static void time_json(struct html *h, struct model *m)
{
	const struct ctree *ct = &m->ct;
	uint8_t *used, *pick;
	uint32_t i;

	if (!ct->ncalls)
		return;
	used = xcalloc(h->t->nfuncs + 1, 1);
	pick = xcalloc(h->t->nthreads + 1, 1);
	h->cpu = ct->switches && !h->o->wall;
	json_obj_begin(&h->j, "time");
	json_str(&h->j, "clock", h->cpu ? "cpu" : "wall");
	json_u64(&h->j, "calls", ct->ncalls);
	json_u64(&h->j, "self_sum_ns", ct->self_sum_ns);
	tree_json(h, ct, used);
	json_arr_begin(&h->j, "scopes");
	scope_json(h, -1, used, m);
	if (h->thread < 0 && h->t->nthreads > 1 && busy_threads(h, ct, pick) > 1)
		for (i = 0; i < h->t->nthreads; i++)
			if (pick[i])
				scope_json(h, (int)i, used, m);
	json_arr_end(&h->j);
	funcs_json(h, used);
	json_obj_end(&h->j);
	free(pick);
	free(used);
}

/* ---- the trace's header, threads and marks ---- */

static void header_json(struct html *h)
{
	const struct trace *t = h->t;
	struct json *j = &h->j;

	json_str(j, "path", t->path);
	json_str(j, "program", t->exe && *t->exe ? t->exe : t->path);
	json_str(j, "command", t->cmdline);
	json_u64(j, "pid", t->pid ? t->pid : t->hdr.pid);
	json_u64(j, "ppid", t->ppid);
	json_u64(j, "duration_ns", t->duration_ns);
	json_arr_begin(j, "recorded");
	if (t->hdr.flags & TRACE_F_CALLS)
		json_str(j, NULL, "calls");
	if (t->hdr.flags & TRACE_F_MALLOC)
		json_str(j, NULL, "malloc");
	json_arr_end(j);
	json_obj_begin(j, "events");
	json_u64(j, "total", t->nevents);
	json_u64(j, "calls", t->ncalls);
	json_u64(j, "allocations", t->nallocs);
	json_u64(j, "frees", t->nfrees);
	json_u64(j, "reallocs", t->nreallocs);
	json_u64(j, "lost", t->nlost);
	json_obj_end(j);
	if (t->damaged_chunks || t->truncated) {
		json_obj_begin(j, "damaged");
		json_u64(j, "chunks", t->damaged_chunks);
		json_u64(j, "bytes", t->damaged_bytes);
		json_bool(j, "truncated", t->truncated);
		json_obj_end(j);
	}
	if (t->hdr.min_duration_ns)
		json_u64(j, "min_duration_ns", t->hdr.min_duration_ns);
	/* complete, incomplete, warnings (notes.c): the page's banners */
	notes_json((struct trace *)t, j);
	json_bool(j, "process_finished", t->end_seen);
	if (h->thread >= 0)
		json_u64(j, "thread_filter", (uint64_t)h->thread);
}

static void threads_json(struct html *h)
{
	const struct trace *t = h->t;
	struct json *j = &h->j;
	uint32_t i;

	json_arr_begin(j, "threads");
	for (i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];

		json_obj_begin(j, NULL);
		json_u64(j, "index", i);
		json_u64(j, "tid", th->tid);
		json_str(j, "name", th->name);
		json_u64(j, "first_ns", th->first_ns);
		json_u64(j, "last_ns", th->last_ns);
		json_str(j, "end", th->damaged ? "damaged chunk: cut short" :
				   th->cut ? "cut at process exit" :
				   th->complete ? "exited" : "no last chunk");
		json_obj_end(j);
	}
	json_arr_end(j);
	json_arr_begin(j, "marks");
	for (i = 0; i < t->nmarks; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "label", t->marks[i].label);
		json_u64(j, "time_ns", t->marks[i].ns);
		json_u64(j, "tid", t->marks[i].tid);	/* 0: set from outside (the mark signal) */
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* One trace's object in "traces". Return: 0, or -1 when a walk failed (reported). */
/* "findings": what `findings --format=json` lists, for the page's Findings tab */
static int findings_emit(struct html *h, struct model *m)
{
	struct findings f;
	/* the model's table is every thread's (what findings asks for) unless --thread */
	struct findings_given given = { .hot = h->thread < 0 ? &m->hot : NULL };
	struct timeline_growth g;
	struct mem_summary ms;
	int ret;

	if (h->have_mem) {	/* the memory model html_memory built */
		mem_summary_of(&h->mem, &ms);
		timeline_growth_of(&h->mem.v, &g);
		given.mem = &h->mem;
		given.ms = &ms;
		given.growth = &g;
	}
	ret = findings_collect_given(h->t, h->o, NULL, &given, &f);

	if (!ret)
		findings_json(&f, &h->j, 0);
	findings_free(&f);
	return ret;
}

static int html_trace(struct html *h)
{
	struct model m;
	int ret;

	/* the call tree, the functions and each busy thread's own in one walk, which keeps the
	 * memory events for the heap replay (html_memory); findings reuses the functions */
	if (h->t->hdr.flags & TRACE_F_MALLOC)
		replay_log_want(h->t);
	ret = model_build(h->t, h->thread, HOT_EDGES | (h->thread < 0 ? HOT_TREE : 0),
			  h->t->nthreads > 1 ? HTML_THREADS : 0, h->o->wall, &m);
	if (ret < 0)
		goto out;
	h->sym = sym_open(h->t);
	sym_set_demangle(h->sym, h->o->demangle);
	json_obj_begin(&h->j, NULL);
	header_json(h);
	time_json(h, &m);
	ret = html_memory(h);
	if (!ret)
		ret = findings_emit(h, &m);
	threads_json(h);
	tables_json(h);
	json_obj_end(&h->j);
out:
	if (h->have_mem)
		mem_free(&h->mem);
	h->have_mem = false;
	model_free(&m);
	return ret;
}

/* ---- the page ---- */

/*
 * The data goes into <script type="application/json">: '<', '>' and '&' can only be inside
 * JSON strings, where \u003c and the like mean the same. So no "</script>", no markup and
 * no "]]>" can appear, and the page stays well-formed XML as well as HTML.
 */
static ssize_t safe_write(void *cookie, const char *buf, size_t n)
{
	FILE *out = cookie;
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *rep = buf[i] == '<' ? "\\u003c" : buf[i] == '>' ? "\\u003e" :
				  buf[i] == '&' ? "\\u0026" : NULL;

		if (!rep)
			continue;
		fwrite(buf + from, 1, i - from, out);
		fputs(rep, out);
		from = i + 1;
	}
	fwrite(buf + from, 1, n - from, out);
	return ferror(out) ? -1 : (ssize_t)n;
}

static FILE *safe_open(FILE *out)
{
	cookie_io_functions_t io = { .write = safe_write };
	FILE *f = fopencookie(out, "w", io);

	if (!f)
		pr_fatal("out of memory");
	return f;
}

/*
 * Write the page template up to its next "@NAME@" marker; return NAME's index in @names
 * (and move *@p past the marker), or -1 at the end of the template.
 */
static int page_until(FILE *f, const char **p, const char *const *names)
{
	const char *s = *p, *at;
	int k;

	while ((at = strchr(s, '@'))) {
		for (k = 0; names[k]; k++) {
			size_t l = strlen(names[k]);

			if (!strncmp(at + 1, names[k], l) && at[l + 1] == '@') {
				fwrite(*p, 1, (size_t)(at - *p), f);
				*p = at + l + 2;
				return k;
			}
		}
		s = at + 1;
	}
	fputs(*p, f);
	*p += strlen(*p);
	return -1;
}

static const char *const markers[] = { "TITLE", "CSS", "DATA", "JS", NULL };
enum { MK_TITLE, MK_CSS, MK_DATA, MK_JS };

static void budget_json(struct json *j)
{
	json_obj_begin(j, "budget");
	json_u64(j, "call_tree_nodes", HTML_TREE_NODES);
	json_u64(j, "functions", HTML_FUNCS);
	json_u64(j, "edges", HTML_EDGES);
	json_u64(j, "sites", HTML_SITES);
	json_u64(j, "thread_views", HTML_THREADS);
	json_u64(j, "memory_thread_views", HTML_MEM_THREADS);
	json_obj_end(j);
}

/* The traces of the page, each as an object of "traces". Return: 0 or -1 (reported). */
static int traces_json(struct html *h, struct trace *t, int *done)
{
	const struct opts *o = h->o;
	int n = o->ntraces > 1 ? o->ntraces : 1, i, ret = 0;

	json_init(&h->j, h->f);
	json_obj_begin(&h->j, NULL);
	json_str(&h->j, "schema", "perfshim-html/1");
	budget_json(&h->j);
	json_arr_begin(&h->j, "traces");
	for (i = 0; i < n && !ret; i++) {
		struct trace *ti = t;

		if (i && trace_open(o->traces[i], &ti) < 0) {
			ret = -1;
			break;
		}
		h->t = ti;
		h->thread = opts_thread(ti, o);
		if (h->thread != -2) {
			ret = html_trace(h);
			(*done)++;
		}
		sym_close(h->sym);
		h->sym = NULL;
		tables_free(h);
		if (i)
			trace_close(ti);
	}
	json_arr_end(&h->j);
	json_obj_end(&h->j);
	return ret;
}

/*
 * report_html - `perfshim-analyze html [-o FILE] [--limit N] [--thread TID] TRACE...`.
 * @t is the first trace; with several (a process and its children) the page has a trace
 * selector. Return: 0, or -1 after one error line.
 */
int report_html(struct trace *t, const struct opts *o)
{
	struct html h = { .o = o, .rows = o->limit > 0 ? (uint32_t)o->limit : 0 };
	const char *p = html_asset_page;
	int done = 0, ret = 0, k;

	if (!o->no_suppress) {
		h.supp = supp_load(o->suppressions, true);
		if (!h.supp)
			return -1;
	}
	h.page = export_open(o);
	if (!h.page) {
		ret = -1;
		goto out;
	}
	while ((k = page_until(h.page, &p, markers)) >= 0) {
		if (k == MK_TITLE) {
			fput_xml(t->exe && *t->exe ? t->exe : t->path, h.page);
		} else if (k == MK_CSS) {
			fputs(html_asset_css, h.page);
		} else if (k == MK_JS) {
			fputs(html_asset_js, h.page);
		} else if (k == MK_DATA) {
			fflush(h.page);
			h.f = safe_open(h.page);
			ret = traces_json(&h, t, &done);
			fclose(h.f);
			h.f = NULL;
		}
	}
	if (!ret && !done) {
		__pr_log("error: ", "no thread %u in %s", o->thread_tid,
			 o->ntraces > 1 ? "these traces" : t->path);
		ret = -1;
	}
	if (export_close(h.page, o) < 0)
		ret = -1;
out:
	if (h.supp)
		supp_free(h.supp);
	return ret;
}
