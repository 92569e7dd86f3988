/* SPDX-License-Identifier: MIT */
/*
 * The `callgrind` report: the callgrind profile format (valgrind's docs/callgrind-format),
 * what kcachegrind, qcachegrind and callgrind_annotate read. Three events:
 *   ns      wall-clock time (waits included; a trace with context switches says so in a
 *           note): a function's self time; a call edge's inclusive time
 *   allocs  allocations made while the function was the innermost recorded call
 *   bytes   the bytes they asked for (a realloc to a new block counts its size)
 * Per function: one self-cost line at its definition line; per call edge: calls=N and the
 * inclusive cost of those calls. A call nested in an activation of the same function (a
 * recursion) adds its calls but no inclusive cost, since its caller's activation already
 * holds it: callgrind_annotate --inclusive=yes, which sums the costs of the calls into each
 * function, then prints the inclusive totals of `functions` (recursion counted once).
 * Calls at a thread's outermost level come from the pseudo function "[root]". Allocations
 * made outside every recorded call (a program not built with -finstrument-functions, the C
 * library's start-up) are the self cost of their stack's innermost frame.
 */
#define PR_FMT "callgrind"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"
#include "analyzer/hmap.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

#define CG_DEFAULT_FILE "callgrind.out.perfshim"
#define CG_ROOT UINT32_MAX		/* caller of the outermost calls */
enum { E_NS, E_ALLOCS, E_BYTES, NEV };

struct cg_frame {
	uint32_t func;
	uint64_t entry_ns, child_ns;
	uint64_t incl[NEV];		/* allocations of this activation and its callees */
};

struct cg_edge {
	uint32_t caller, callee;	/* trace functions (walk) or cg functions (output) */
	uint64_t calls;
	uint64_t incl[NEV];
};

/* A function as callgrind shows it: name and file (equal ones are merged). */
struct cg_fn {
	const char *name, *file;
	const char *module;		/* path of its module ("ob="), or NULL */
	unsigned line;
	uint64_t self[NEV];
	bool named;			/* its "(id) name" was written */
};

/* compressed names of one kind: "fl=(1) name" the first time, "fl=(1)" after */
struct names {
	struct strmap ids;		/* name -> its id (1, 2, ... in order of first use) */
};

struct cg_site {			/* allocations outside every recorded call, per stack */
	uint32_t stack;
	uint64_t allocs, bytes;
};

struct cg {
	struct trace *t;
	/* the walk */
	struct cg_frame **stacks;	/* per thread index */
	uint32_t *depth, *cap, nthreads;
	uint32_t *active;		/* per trace function: open activations (this thread) */
	uint64_t (*self)[NEV];		/* per trace function */
	uint32_t nfuncs;
	struct cg_edge *edges;
	uint32_t nedges, edges_cap;
	struct xmap edge_index;		/* (caller + 1) << 32 | callee, + 1 -> edge */
	struct cg_site *sites;
	uint32_t nsites, sites_cap;
	struct xmap site_index;		/* stack + 1 -> site */
	/* the output */
	struct cg_fn *fns;
	uint32_t nfns, fns_cap;
	struct ixmap fn_index;		/* fn_key of name and file -> index into fns */
	struct names files, objs;	/* "fl" and "ob" ids (two name spaces) */
	uint64_t total[NEV];
};

static void grow_funcs(struct cg *c, uint32_t func)
{
	uint32_t n;

	if (func < c->nfuncs)
		return;
	n = ARRAY_NEXT_CAP(c->nfuncs, (size_t)func + 1);
	ARRAY_RESIZE(c->active, n);
	ARRAY_RESIZE(c->self, n);
	ARRAY_CLEAR(c->active, c->nfuncs, n);
	ARRAY_CLEAR(c->self, c->nfuncs, n);
	c->nfuncs = n;
}

static struct cg_edge *edge_of(struct cg *c, uint32_t caller, uint32_t callee)
{
	uint64_t key = ((uint64_t)(caller + 1U) << 32 | callee) + 1;
	struct xmap_val *v;
	bool created;

	v = xmap_put(&c->edge_index, key, &created);
	if (created) {
		ARRAY_ROOM(c->edges, c->edges_cap, c->nedges);
		c->edges[c->nedges] = (struct cg_edge){ .caller = caller, .callee = callee };
		v->w = c->nedges++;
	}
	return &c->edges[v->w];
}

static void alloc_outside(struct cg *c, uint32_t stack, uint64_t n, uint64_t bytes)
{
	struct xmap_val *v;
	bool created;

	v = xmap_put(&c->site_index, (uint64_t)stack + 1, &created);
	if (created) {
		ARRAY_ROOM(c->sites, c->sites_cap, c->nsites);
		c->sites[c->nsites] = (struct cg_site){ .stack = stack };
		v->w = c->nsites++;
	}
	c->sites[v->w].allocs += n;
	c->sites[v->w].bytes += bytes;
}

static int cg_event(const struct trace_event *ev, void *ctx)
{
	struct cg *c = ctx;
	uint32_t th = ev->thread, *d;
	struct cg_frame *fr, *up;
	struct cg_edge *e;
	uint64_t dur, self, wn, bytes;
	unsigned k;

	if (th >= c->nthreads) {
		uint32_t n = ARRAY_NEXT_CAP(c->nthreads, (size_t)th + 1);

		ARRAY_RESIZE(c->stacks, n);
		ARRAY_RESIZE(c->depth, n);
		ARRAY_RESIZE(c->cap, n);
		ARRAY_CLEAR(c->stacks, c->nthreads, n);
		ARRAY_CLEAR(c->depth, c->nthreads, n);
		ARRAY_CLEAR(c->cap, c->nthreads, n);
		c->nthreads = n;
	}
	d = &c->depth[th];
	switch (ev->type) {
	case EV_ENTRY:
		ARRAY_ROOM(c->stacks[th], c->cap[th], *d);
		grow_funcs(c, ev->func);
		c->stacks[th][(*d)++] = (struct cg_frame){ .func = ev->func, .entry_ns = ev->ns };
		c->active[ev->func]++;
		break;
	case EV_EXIT:
		if (!*d)	/* the reader pairs them; never trust it blindly */
			break;
		fr = &c->stacks[th][--*d];
		up = *d ? &c->stacks[th][*d - 1] : NULL;
		dur = ev->ns > fr->entry_ns ? ev->ns - fr->entry_ns : 0;
		self = dur > fr->child_ns ? dur - fr->child_ns : 0;
		c->self[fr->func][E_NS] += self;
		fr->incl[E_NS] = dur;
		e = edge_of(c, up ? up->func : CG_ROOT, fr->func);
		e->calls++;
		/* the outermost activation holds the nested ones: count its cost once */
		if (--c->active[fr->func] == 0)
			for (k = 0; k < NEV; k++)
				e->incl[k] += fr->incl[k];
		if (up) {
			up->child_ns += dur;
			up->incl[E_ALLOCS] += fr->incl[E_ALLOCS];
			up->incl[E_BYTES] += fr->incl[E_BYTES];
		}
		break;
	case EV_ALLOC:
	case EV_REALLOC:
		if (!ev->ptr)		/* a failed allocation, or realloc(p, 0): nothing new */
			break;
		/* a sampled trace's allocation stands for 1/p of its kind (replay_weight) */
		wn = replay_weight_count(c->t->hdr.sample_mean, ev->size);
		bytes = (uint64_t)llround(replay_weight(c->t->hdr.sample_mean, ev->size));
		if (*d) {
			fr = &c->stacks[th][*d - 1];
			c->self[fr->func][E_ALLOCS] += wn;
			c->self[fr->func][E_BYTES] += bytes;
			fr->incl[E_ALLOCS] += wn;
			fr->incl[E_BYTES] += bytes;
		} else {
			alloc_outside(c, ev->stack, wn, bytes);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* ---- output: functions by name and file ---- */

/* the fn_index key of (@name, @file), either NULL: a hash (fn_id compares) */
static uint64_t fn_key(const char *name, const char *file)
{
	return hmap_key_u64(hmap_key_str(name ? name : "") ^
			    hmap_key_str(file ? file : "") << 1);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* fn_id - the callgrind function (@name, @file), added when new */
static uint32_t fn_id(struct cg *c, const char *name, const char *file, unsigned line,
		      const char *module)
{
	uint64_t k = fn_key(name, file);
	struct ixmap_ent *e;

	for (e = ixmap_get(&c->fn_index, k); e; e = ixmap_next(&c->fn_index, e)) {
		struct cg_fn *fn = &c->fns[e->ix];

		if (same(fn->name, name) && same(fn->file, file)) {
			if (!fn->line)
				fn->line = line;
			if (!fn->module)
				fn->module = module;
			return e->ix;
		}
	}
	ARRAY_ROOM(c->fns, c->fns_cap, c->nfns);
	c->fns[c->nfns] = (struct cg_fn){ .name = name, .file = file, .line = line,
					  .module = module };
	ixmap_add(&c->fn_index, k)->ix = c->nfns;
	return c->nfns++;
}

/* the function of trace function @func (CG_ROOT: "[root]") */
static uint32_t func_fn(struct cg *c, struct symbols *sym, uint32_t func)
{
	struct where w;

	if (func == CG_ROOT)
		return fn_id(c, "[root]", NULL, 0, NULL);
	export_where(sym, NULL, func, &w);
	return fn_id(c, w.line[w.n - 1].name, w.line[w.n - 1].file, w.line[w.n - 1].line,
		     w.module);
}

static int cmp_edge(const void *a, const void *b)
{
	const struct cg_edge *x = a, *y = b;

	if (x->caller != y->caller)
		return x->caller < y->caller ? -1 : 1;
	return x->callee < y->callee ? -1 : x->callee > y->callee;
}

/*
 * to_fns - the walk's results by callgrind function: self costs, allocation sites outside
 * calls (their innermost frame's function), and the edges renamed and merged.
 */
static void to_fns(struct cg *c, struct symbols *sym)
{
	uint32_t i, n, *map = xmalloc((c->nfuncs + 1) * sizeof(*map));
	unsigned k;

	for (i = 0; i < c->nfuncs; i++) {
		map[i] = UINT32_MAX;
		if (c->self[i][E_NS] || c->self[i][E_ALLOCS])
			map[i] = func_fn(c, sym, i);
		if (map[i] != UINT32_MAX)
			for (k = 0; k < NEV; k++)
				c->fns[map[i]].self[k] += c->self[i][k];
	}
	for (i = 0; i < c->nsites; i++) {
		const struct cg_site *s = &c->sites[i];
		struct trace_stack st = { 0 };
		uint32_t id;
		struct where w;

		if (s->stack)
			st = trace_stack_get(c->t, s->stack);
		if (!st.nframes) {
			id = fn_id(c, "[no stack]", NULL, 0, NULL);
		} else {
			export_where(sym, &st.frames[0], 0, &w);
			id = fn_id(c, w.line[0].name, w.line[0].file, 0, w.module);
		}
		c->fns[id].self[E_ALLOCS] += s->allocs;
		c->fns[id].self[E_BYTES] += s->bytes;
	}
	for (i = 0; i < c->nedges; i++) {
		struct cg_edge *e = &c->edges[i];

		e->caller = e->caller == CG_ROOT ? func_fn(c, sym, CG_ROOT)
			    : map[e->caller] != UINT32_MAX ? map[e->caller]
			    : (map[e->caller] = func_fn(c, sym, e->caller));
		e->callee = map[e->callee] != UINT32_MAX ? map[e->callee]
			    : (map[e->callee] = func_fn(c, sym, e->callee));
	}
	if (c->nedges)			/* none: edges is NULL, which qsort may not get */
		qsort(c->edges, c->nedges, sizeof(*c->edges), cmp_edge);
	for (i = 0, n = 0; i < c->nedges; i++) {	/* merge edges that now have one name */
		if (n && c->edges[n - 1].caller == c->edges[i].caller &&
		    c->edges[n - 1].callee == c->edges[i].callee) {
			c->edges[n - 1].calls += c->edges[i].calls;
			for (k = 0; k < NEV; k++)
				c->edges[n - 1].incl[k] += c->edges[i].incl[k];
		} else {
			c->edges[n++] = c->edges[i];
		}
	}
	c->nedges = n;
	for (i = 0; i < c->nfns; i++)
		for (k = 0; k < NEV; k++)
			c->total[k] += c->fns[i].self[k];
	free(map);
}

/* a name on one line: callgrind's names end at the line's end */
static void put_name(FILE *f, const char *s)
{
	char buf[4096];

	fputs(export_flat(s, NULL, buf, sizeof(buf)), f);
}

/* "KEY=(id) name" the first time a name of @ns is written, "KEY=(id)" after; NULL: ??? */
static void put_id(struct names *ns, FILE *f, const char *key, const char *name)
{
	struct strmap_ent *e;
	bool created;

	name = name ? name : "???";
	e = strmap_intern(&ns->ids, name, &created);	/* names live as long as @c */
	if (!created) {
		fprintf(f, "%s=(%u)\n", key, (unsigned)e->v);
		return;
	}
	e->v = ns->ids.n;
	fprintf(f, "%s=(%u) ", key, (unsigned)e->v);
	put_name(f, name);
	fputc('\n', f);
}

static void put_fn(struct cg *c, FILE *f, const char *key, uint32_t id)
{
	struct cg_fn *fn = &c->fns[id];

	if (fn->named) {
		fprintf(f, "%s=(%u)\n", key, id + 1);
		return;
	}
	fn->named = true;
	fprintf(f, "%s=(%u) ", key, id + 1);
	put_name(f, fn->name);
	fputc('\n', f);
}

static void write_profile(struct cg *c, FILE *f, const struct strv *notes)
{
	const struct trace *t = c->t;
	uint32_t i, e = 0;
	unsigned k;
	char buf[4096];

	fprintf(f, "# callgrind format\nversion: 1\ncreator: perfshim-analyze\n");
	for (k = 0; k < notes->n; k++)
		fprintf(f, "# %s\n", export_flat(notes->v[k], NULL, buf, sizeof(buf)));
	fprintf(f, "pid: %u\ncmd: ", t->pid ? t->pid : t->hdr.pid);
	put_name(f, t->cmdline ? t->cmdline : t->exe ? t->exe : t->path);
	fprintf(f, "\npart: 1\n\ndesc: Trace: ");
	put_name(f, t->path);
	fputc('\n', f);
	for (k = 0; k < notes->n; k++)
		fprintf(f, "desc: Note: %s\n", export_flat(notes->v[k], NULL, buf, sizeof(buf)));
	fprintf(f, "\npositions: line\n"
		   "event: ns : Wall-clock time (ns; self, or inclusive on calls)\n"
		   "event: allocs : Allocations\n"
		   "event: bytes : Bytes allocated\n"
		   "events: ns allocs bytes\n");
	for (i = 0; i < c->nfns; i++) {
		struct cg_fn *fn = &c->fns[i];

		fputc('\n', f);
		put_id(&c->objs, f, "ob", fn->module);
		put_id(&c->files, f, "fl", fn->file);
		put_fn(c, f, "fn", i);
		fprintf(f, "%u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", fn->line, fn->self[E_NS],
			fn->self[E_ALLOCS], fn->self[E_BYTES]);
		for (; e < c->nedges && c->edges[e].caller == i; e++) {
			const struct cg_edge *ce = &c->edges[e];

			put_id(&c->objs, f, "cob", c->fns[ce->callee].module);
			put_id(&c->files, f, "cfl", c->fns[ce->callee].file);
			put_fn(c, f, "cfn", ce->callee);
			fprintf(f, "calls=%" PRIu64 " %u\n", ce->calls, c->fns[ce->callee].line);
			fprintf(f, "%u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", fn->line,
				ce->incl[E_NS], ce->incl[E_ALLOCS], ce->incl[E_BYTES]);
		}
	}
	fprintf(f, "\ntotals: %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", c->total[E_NS],
		c->total[E_ALLOCS], c->total[E_BYTES]);
}

static void cg_free(struct cg *c)
{
	uint32_t i;

	for (i = 0; i < c->nthreads; i++)
		free(c->stacks[i]);
	free(c->stacks);
	free(c->depth);
	free(c->cap);
	free(c->active);
	free(c->self);
	free(c->edges);
	free(c->sites);
	free(c->fns);
	xmap_free(&c->edge_index);
	xmap_free(&c->site_index);
	ixmap_free(&c->fn_index);
	strmap_free(&c->files.ids);
	strmap_free(&c->objs.ids);
}

/*
 * report_callgrind - `perfshim-analyze callgrind [-o FILE] TRACE`: the callgrind profile of
 * one trace, to FILE (default callgrind.out.perfshim; "-" is stdout).
 * Return: 0, or -1 after one error line.
 */
int report_callgrind(struct trace *t, const struct opts *o)
{
	struct cg c = { .t = t };
	struct symbols *sym = NULL;
	struct strv notes = { 0 };
	struct opts wo = *o;
	int ret = -1;
	FILE *f;

	if (trace_walk(t, WALK_CALLS | WALK_MEMORY, -1, cg_event, &c) < 0)
		goto out;
	sym = replay_symbols(t, o);
	if (!sym)
		goto out;
	to_fns(&c, sym);
	export_notes(t, &notes, false, false);
	if (!t->ncalls)
		strv_add(&notes, "no function calls recorded (the program was not built with "
			 "-finstrument-functions): allocations are their stack's innermost "
			 "function's own cost, and there are no call edges");
	else if (offcpu_present(t))	/* without switches the trace's notes say wall-clock */
		strv_add(&notes, "times are wall-clock: ns includes the off-CPU time (waits) "
			 "within calls; perfshim-analyze functions shows CPU self, pprof a cpu "
			 "sample type");
	wo.output = o->output ? o->output : CG_DEFAULT_FILE;
	f = export_open(&wo);
	if (!f)
		goto out;
	write_profile(&c, f, &notes);
	ret = export_close(f, &wo);
	if (!ret && !o->output)
		__pr_log("", "wrote %s: callgrind_annotate %s, or kcachegrind", wo.output,
			 wo.output);
out:
	sym_close(sym);
	strv_free(&notes);
	cg_free(&c);
	return ret;
}
