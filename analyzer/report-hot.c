/* SPDX-License-Identifier: MIT */
/*
 * `functions` (eprof-like hot-function table) and `callgraph` (fprof-like callers/callees
 * and call tree), from one per-thread walk of ENTRY/EXIT events. hot_collect() is also what
 * `summary` uses for its top functions.
 *
 * Definitions (per function, over the threads walked):
 *   calls    ENTRY events (every activation, recursive ones too)
 *   total    inclusive time, a recursive activation nested in another activation of the same
 *            function counted once (the outermost one), as uftrace does
 *   self     inclusive time less the inclusive time of its recorded callees, per call
 *   avg, min, max, p50, p99   over every call's inclusive time (nested activations too)
 * Percentiles use nearest rank (the value at rank ceil(p/100 * calls)). They are exact for a
 * function of up to HOT_EXACT calls; beyond that a log-linear histogram (16 sub-buckets per
 * power of two) gives the bucket's midpoint, clamped to [min, max]: the relative error is
 * at most 1/32 (3.2%).
 */
#define PR_FMT "hot"
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hist.h"
#include "analyzer/hmap.h"
#include "analyzer/hot-table.h"
#include "analyzer/hot.h"
#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

/* collect over the threads --thread selects; -1 (reported) when it names none */
static int collect_selected(struct trace *t, const struct opts *o, unsigned want,
			    struct hot *h)
{
	int *idx, rc = 0;
	uint32_t i, n;

	if (!o->thread_set)
		return hot_collect(t, -1, want, h);
	/* one thread's walk does not see the modules other threads recorded */
	if (trace_info(t) < 0)
		return -1;
	idx = xmalloc((t->nthreads + 1) * sizeof(*idx));
	n = hot_threads(t, o, idx);
	if (!n) {
		pr_warn("%s: no thread %u in the trace", t->path, o->thread_tid);
		rc = -1;
	}
	for (i = 0; i < n && !rc; i++)
		rc = hot_collect(t, idx[i], want, h);
	free(idx);
	return rc;
}

/**
 * report_functions - the hot-function table (see the definitions at the top of this file):
 * all threads summed, --thread TID, or --per-thread; --sort, --limit, --filter.
 * Return: 0, or -1 on bad input (reported).
 */
int report_functions(struct trace *t, const struct opts *o)
{
	int col = hot_table_sort(o->sort), have_re, rc = 0;
	struct symbols *sym = NULL;
	struct hot_names nm = { .t = t };
	struct hot all = { 0 };
	bool csv_header_done = false;
	struct json j;
	regex_t re;
	uint32_t i;

	if (col < 0)
		return -1;
	have_re = hot_table_filter(o, &re);
	if (have_re < 0)
		return -1;
	if (collect_selected(t, o, 0, &all) < 0) {
		rc = -1;
		goto out;
	}
	sym = sym_open(t);
	sym_set_demangle(sym, o->demangle);
	nm.sym = sym;
	if (o->format == FMT_TEXT)
		notes_text(t, stdout);
	if (o->format == FMT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		notes_json(t, &j);
		hot_table_out(&all, &nm, have_re ? &re : NULL, col, o, &j, -1, true);
	} else if (o->format == FMT_CSV) {
		notes_comment(t, stdout, "# ");
		if (!o->per_thread)
			hot_table_out(&all, &nm, have_re ? &re : NULL, col, o, NULL, -1, true);
	} else if (!t->ncalls) {
		/* the contents decide: a header whose flags say otherwise is warned about */
		printf("No function calls in %s (%s).\n", t->path,
		       t->hdr.flags & TRACE_F_CALLS ? "was the program built with "
						      "-finstrument-functions?"
						    : "calls were not recorded");
	} else if (!o->per_thread) {
		hot_table_out(&all, &nm, have_re ? &re : NULL, col, o, NULL, -1, true);
	}
	if (o->per_thread) {
		if (o->format == FMT_JSON)
			json_arr_begin(&j, "threads");
		for (i = 0; i < t->nthreads; i++) {
			struct hot h = { 0 };

			if (o->thread_set && t->threads[i].tid != o->thread_tid)
				continue;
			if (hot_collect(t, (int)i, 0, &h) < 0) {
				hot_free(&h);
				rc = -1;
				break;
			}
			if (o->format == FMT_JSON) {
				json_obj_begin(&j, NULL);
				json_u64(&j, "tid", t->threads[i].tid);
				json_str(&j, "name", t->threads[i].name);
				hot_table_out(&h, &nm, have_re ? &re : NULL, col, o, &j, -1,
					      true);
				json_obj_end(&j);
			} else if (o->format == FMT_CSV) {
				hot_table_out(&h, &nm, have_re ? &re : NULL, col, o, NULL,
					      t->threads[i].tid, !csv_header_done);
				csv_header_done = true;
			} else if (h.ncalls) {
				printf("%sThread %u%s%s%s:\n", i ? "\n" : "", t->threads[i].tid,
				       *t->threads[i].name ? " (" : "", t->threads[i].name,
				       *t->threads[i].name ? ")" : "");
				hot_table_out(&h, &nm, have_re ? &re : NULL, col, o, NULL, -1,
					      true);
			}
			hot_free(&h);
		}
		if (o->format == FMT_JSON)
			json_arr_end(&j);
	}
	if (o->format == FMT_JSON) {
		json_obj_end(&j);
		json_finish(&j);
	}
out:
	hot_free(&all);
	sym_close(sym);
	if (have_re > 0)
		regfree(&re);
	return rc;
}

/* ---- callgraph ---- */

/*
 * As in `functions`: with off-CPU time (hot.switches) and without --wall, the self column
 * is CPU self (self less the off-CPU time within it) and says so ("CPU self"; "Wall self"
 * with --wall); JSON keeps self_ns wall-clock and adds cpu_self_ns and wait_ns.
 */
static bool cg_switches, cg_cpu;

static uint64_t cg_self(uint64_t self, uint64_t wait)
{
	return !cg_cpu ? self : self > wait ? self - wait : 0;
}

static const char *cg_self_label(void)
{
	return cg_cpu ? "CPU self" : cg_switches ? "Wall self" : "Self";
}

/* "self_ns", and with switches "cpu_self_ns" and "wait_ns" */
static void cg_self_json(struct json *j, uint64_t self, uint64_t wait)
{
	json_u64(j, "self_ns", self);
	if (cg_switches) {
		json_u64(j, "cpu_self_ns", self > wait ? self - wait : 0);
		json_u64(j, "wait_ns", wait);
	}
}

static int cmp_edge_total(const void *a, const void *b)
{
	const struct hot_edge *x = *(const struct hot_edge *const *)a;
	const struct hot_edge *y = *(const struct hot_edge *const *)b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return x->callee != y->callee ? (x->callee < y->callee ? -1 : 1)
				      : (x->caller < y->caller ? -1 : x->caller > y->caller);
}

static const char *fname(struct symbols *sym, const struct trace *t, uint32_t func)
{
	return func == HOT_ROOT ? "<root>" : sym_func_name(sym, func);
}

/* "file", "line": where function @fn is defined, null when unknown (or the root) */
static void json_decl(struct json *j, struct symbols *sym, uint32_t fn)
{
	const char *file;
	unsigned line;

	if (fn != HOT_ROOT && sym_func_decl(sym, fn, &file, &line) == 0) {
		json_str(j, "file", file);
		json_u64(j, "line", line);
	} else {
		json_null(j, "file");
		json_null(j, "line");
	}
}

/* "file.c:12" where function @fn is defined, "" when unknown (or the root, or --no-lines) */
static const char *decl_text(struct symbols *sym, uint32_t fn, char *buf, size_t len)
{
	const char *file = NULL;
	unsigned line = 0;

	if (fn == HOT_ROOT || sym_func_decl(sym, fn, &file, &line) < 0)
		file = NULL;
	return hot_where(file, line, buf, len);
}

/*
 * any_decl - whether a function called in @h has a known definition: the callgraph's text
 * tables then end with a "Defined at" column (none without DWARF or with --no-lines, so
 * their output stays what it was).
 */
static bool any_decl(struct hot *h, struct symbols *sym)
{
	const char *file;
	unsigned line;
	uint32_t i;

	for (i = 0; i < h->nfuncs; i++)
		if (h->funcs[i].calls && sym_func_decl(sym, i, &file, &line) == 0)
			return true;
	return false;
}

static void edges_out(struct hot *h, struct trace *t, struct symbols *sym, uint32_t func,
		      bool callers, struct json *j, bool lines)
{
	struct hot_edge **v = xmalloc((h->nedges + 1) * sizeof(*v));
	uint32_t i, n = 0;
	char b[3][32];

	for (i = 0; i < h->nedges; i++)
		if ((callers ? h->edges[i].callee : h->edges[i].caller) == func)
			v[n++] = &h->edges[i];
	qsort(v, n, sizeof(*v), cmp_edge_total);
	if (j) {
		json_arr_begin(j, callers ? "callers" : "callees");
		for (i = 0; i < n; i++) {
			uint32_t fn = callers ? v[i]->caller : v[i]->callee;

			json_obj_begin(j, NULL);
			json_str(j, "name", fname(sym, t, fn));
			json_decl(j, sym, fn);	/* the edges carry no call site */
			json_u64(j, "calls", v[i]->calls);
			json_u64(j, "total_ns", v[i]->total_ns);
			cg_self_json(j, v[i]->self_ns, v[i]->wait_ns);
			json_obj_end(j);
		}
		json_arr_end(j);
	} else {
		const char *const hdr[] = { "Calls", "Total", cg_self_label(), "Function",
					    "Defined at" };
		struct table *tb = table_new(lines ? 5 : 4, hdr, "rrrll");
		char db[256];

		printf("\n%s:\n", callers ? "Called by" : "Calls");
		for (i = 0; i < n; i++) {
			uint32_t fn = callers ? v[i]->caller : v[i]->callee;

			table_add(tb, fmt_count(b[0], 32, v[i]->calls),
				  fmt_ns(b[1], 32, v[i]->total_ns),
				  fmt_ns(b[2], 32, cg_self(v[i]->self_ns, v[i]->wait_ns)),
				  fname(sym, t, fn), decl_text(sym, fn, db, sizeof(db)));
		}
		if (n)
			table_print(tb, stdout);
		else
			printf("  (none)\n");
		table_free(tb);
	}
	free(v);
}

/* callgraph --function NAME */
static int callgraph_function(struct hot *h, struct trace *t, struct symbols *sym,
			      const struct opts *o)
{
	uint32_t i, nfound = 0;
	bool lines = o->format != FMT_JSON && any_decl(h, sym);
	struct json j;
	char b[4][32], db[256];

	if (o->format == FMT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		notes_json(t, &j);
		json_arr_begin(&j, "functions");
	} else {
		notes_text(t, stdout);
	}
	for (i = 0; i < h->nfuncs; i++) {
		struct hot_func *f = &h->funcs[i];
		const char *name = sym_func_name(sym, i);
		uint64_t wait = f->wait_ns[0] + f->wait_ns[1];

		if (strcmp(name, o->function))
			continue;
		nfound++;
		if (o->format == FMT_JSON) {
			json_obj_begin(&j, NULL);
			json_str(&j, "name", name);
			json_str(&j, "module", sym_func_module(sym, i));
			json_decl(&j, sym, i);
			json_u64(&j, "calls", f->calls);
			json_u64(&j, "total_ns", f->total_ns);
			cg_self_json(&j, f->self_ns, wait);
			edges_out(h, t, sym, i, true, &j, false);
			edges_out(h, t, sym, i, false, &j, false);
			json_obj_end(&j);
		} else {
			printf("%s%s (0x%" PRIx64 "): %s calls, total %s, self %s%s",
			       nfound > 1 ? "\n" : "", name, t->funcs[i],
			       fmt_count(b[0], 32, f->calls), fmt_ns(b[1], 32, f->total_ns),
			       fmt_ns(b[2], 32, cg_self(f->self_ns, wait)),
			       cg_cpu ? " (CPU)" : cg_switches ? " (wall-clock)" : "");
			if (*decl_text(sym, i, db, sizeof(db)))
				printf(", defined at %s", db);
			putchar('\n');
			edges_out(h, t, sym, i, true, NULL, lines);
			edges_out(h, t, sym, i, false, NULL, lines);
		}
	}
	if (o->format == FMT_JSON) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	}
	if (!nfound) {
		pr_warn("%s: no function named '%s' was called", t->path, o->function);
		return -1;
	}
	return 0;
}

static struct hot *cmp_nodes_h;

static int cmp_node(const void *a, const void *b)
{
	const struct hot_node *x = &cmp_nodes_h->nodes[*(const uint32_t *)a];
	const struct hot_node *y = &cmp_nodes_h->nodes[*(const uint32_t *)b];

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* the whole call tree, depth first, children by total time; no recursion (deep trees) */
static int callgraph_tree(struct hot *h, struct trace *t, struct symbols *sym,
			  const struct opts *o)
{
	uint32_t *order, *start, *cnt, *depth, *todo, ntodo = 0, i, n = h->nnodes;
	uint64_t grand = 0, min_ns;
	struct table *tb = NULL;
	bool lines = o->format != FMT_JSON && any_decl(h, sym);
	struct json j;
	char b[4][32], line[512], db[256];

	/* children of each node, contiguous in `order`, sorted by total */
	cnt = xcalloc(n + 1, sizeof(*cnt));
	start = xcalloc(n + 1, sizeof(*start));
	order = xmalloc((n + 1) * sizeof(*order));
	depth = xcalloc(n + 1, sizeof(*depth));
	for (i = 1; i < n; i++)
		cnt[h->nodes[i].parent]++;
	for (i = 1; i <= n; i++)
		start[i] = start[i - 1] + cnt[i - 1];
	memset(cnt, 0, (n + 1) * sizeof(*cnt));
	for (i = 1; i < n; i++) {
		uint32_t p = h->nodes[i].parent;

		order[start[p] + cnt[p]++] = i;
		if (!p)
			grand += h->nodes[i].total_ns;
	}
	cmp_nodes_h = h;
	for (i = 0; i < n; i++)
		qsort(order + start[i], cnt[i], sizeof(*order), cmp_node);
	min_ns = (uint64_t)((double)grand * o->min_percent / 100.0);

	if (o->format == FMT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		notes_json(t, &j);
		json_u64(&j, "total_ns", grand);
		json_arr_begin(&j, "nodes");
	} else {
		const char *const hdr[] = { "Total", "%", cg_self_label(), "Calls", "Function",
					    "Defined at" };

		notes_text(t, stdout);
		tb = table_new(lines ? 6 : 5, hdr, "rrrrll");
	}
	/* explicit DFS stack: push children in reverse so the largest comes out first */
	todo = xmalloc((n + 1) * sizeof(*todo));
	for (i = cnt[0]; i-- > 0;)
		todo[ntodo++] = order[start[0] + i];
	while (ntodo) {
		uint32_t id = todo[--ntodo], p = h->nodes[id].parent;
		struct hot_node *nd = &h->nodes[id];

		depth[id] = p ? depth[p] + 1 : 0;
		if (nd->total_ns < min_ns && o->min_percent > 0)
			continue;
		if (o->format == FMT_JSON) {
			json_obj_begin(&j, NULL);
			json_u64(&j, "id", id);
			json_u64(&j, "parent", p);
			json_u64(&j, "depth", depth[id]);
			json_str(&j, "name", fname(sym, t, nd->func));
			json_decl(&j, sym, nd->func);
			json_u64(&j, "calls", nd->calls);
			json_u64(&j, "total_ns", nd->total_ns);
			cg_self_json(&j, nd->self_ns, nd->wait_ns);
			json_obj_end(&j);
		} else {
			int ind = depth[id] < 60 ? (int)depth[id] * 2 : 120;

			snprintf(line, sizeof(line), "%*s%s", ind, "", fname(sym, t, nd->func));
			snprintf(b[3], sizeof(b[3]), "%.1f",
				 grand ? 100.0 * (double)nd->total_ns / (double)grand : 0.0);
			table_add(tb, fmt_ns(b[0], 32, nd->total_ns), b[3],
				  fmt_ns(b[1], 32, cg_self(nd->self_ns, nd->wait_ns)),
				  fmt_count(b[2], 32, nd->calls), line,
				  decl_text(sym, nd->func, db, sizeof(db)));
		}
		if (o->depth >= 0 && depth[id] + 1 >= (uint32_t)o->depth)
			continue;
		for (i = cnt[id]; i-- > 0;)
			todo[ntodo++] = order[start[id] + i];
	}
	if (o->format == FMT_JSON) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		if (n > 1)
			table_print(tb, stdout);
		else
			printf("No function calls in %s.\n", t->path);
		table_free(tb);
	}
	free(todo);
	free(order);
	free(start);
	free(cnt);
	free(depth);
	return 0;
}

/**
 * report_callgraph - with --function NAME: that function's callers and callees (calls,
 * total and self time of each edge); without: the whole call tree (threads summed) with
 * inclusive and self times, --depth N levels, subtrees under --min-percent hidden. Self is
 * CPU self when the trace has context switches, unless --wall (see cg_switches).
 * Return: 0, or -1 on bad input (reported).
 */
int report_callgraph(struct trace *t, const struct opts *o)
{
	struct hot h = { 0 };
	struct symbols *sym;
	int rc;

	if (collect_selected(t, o, o->function ? HOT_EDGES : HOT_TREE, &h) < 0) {
		hot_free(&h);
		return -1;
	}
	cg_switches = h.switches;
	cg_cpu = h.switches && !o->wall;
	sym = sym_open(t);
	sym_set_demangle(sym, o->demangle);
	if (o->function)
		rc = callgraph_function(&h, t, sym, o);
	else
		rc = callgraph_tree(&h, t, sym, o);
	hot_free(&h);
	sym_close(sym);
	return rc;
}
