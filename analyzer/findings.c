// SPDX-License-Identifier: MIT
/*
 * The findings, computed (model layer; findings-out.c writes them, report-findings.c is the
 * `findings` view). Each rule reads an aggregate of the model (the call tree and function
 * table of model.c, the memory replay of replay.c with mem.c's shapes (sizes and realloc
 * chains per stack), mem_summarize's leaks, the timeline's verdict) and, past its
 * threshold (findings.h), names the function or site, the numbers it saw and the change to
 * make. docs/findings.md explains each rule; `summary` and `html` show the same findings.
 */
#define PR_FMT "findings"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/findings.h"
#include "analyzer/hmap.h"
#include "analyzer/hot.h"
#include "analyzer/mem.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/replay.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

#define NONE UINT32_MAX

/* rules in the order they are listed (README.md's table) */
static const char *const rule_names[] = {
	"churn", "realloc-growth", "n-plus-one", "leak", "growth", "high-memory", "blocking",
	"tiny-hot", "deep-recursion",
};

static const char *const advice_churn =
	"reuse one buffer across the loop's iterations (allocate it once, outside), or batch "
	"the work into fewer, larger allocations";
static const char *const advice_realloc =
	"grow the block geometrically (double its capacity when full) instead of by a fixed step";
static const char *const advice_n1_calls =
	"call it once per parent call with all the items (a batched call) instead of once per item";
static const char *const advice_n1_alloc =
	"allocate the items in one block (an array, calloc(n, size)) or from a pool, not one by one";
static const char *const advice_leak = "free these blocks when they are no longer used";
static const char *const advice_growth =
	"bound what this site keeps (evict, or free entries when done): the heap grows steadily";
static const char *const advice_high =
	"hold less at once: stream the data, free earlier, or use smaller representations";
static const char *const advice_block =
	"don't block: move the wait off this path (asynchronous I/O, finer locks, a worker thread)";
static const char *const advice_tiny =
	"inline it (static inline, or a macro): its call overhead dominates its work";
static const char *const advice_recursion =
	"make it iterative (an explicit stack or a loop): the recursion risks overflowing the stack";

/* ---- the list ---- */

static struct finding *add(struct findings *f, const char *rule, char *name, uint64_t weight)
{
	struct finding *x;

	ARRAY_ROOM(f->v, f->cap, f->n);
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->rule = rule;
	x->name = name;
	x->func = NONE;
	x->weight = weight;
	return x;
}

static void ev(struct finding *x, const char *key, uint64_t v)
{
	if (x->nev < FINDINGS_MAX_EVIDENCE)
		x->ev[x->nev++] = (typeof(x->ev[0])){ key, v };
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		pr_fatal("out of memory");
	va_end(ap);
	return s;
}

static unsigned rule_rank(const char *rule)
{
	unsigned i;

	for (i = 0; i < sizeof(rule_names) / sizeof(rule_names[0]); i++)
		if (!strcmp(rule, rule_names[i]))
			return i;
	return i;
}

static int cmp_finding(const void *pa, const void *pb)
{
	const struct finding *a = pa, *b = pb;
	unsigned ra = rule_rank(a->rule), rb = rule_rank(b->rule);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* ---- names ---- */

/* the innermost frame of allocation stack @id that is not the shim's, or NULL */
static const struct trace_frame *top_frame(struct findings *f, uint32_t id)
{
	struct trace_stack st = id ? trace_stack_get(f->t, id) : (struct trace_stack){ 0 };
	uint32_t i;

	for (i = 0; i < st.nframes; i++)
		if (!replay_shim_frame(f->sym, &st.frames[i]))
			return &st.frames[i];
	return NULL;
}

static char *stack_name(struct findings *f, uint32_t id)
{
	const struct trace_frame *fr = top_frame(f, id);

	return xstrdup(fr ? sym_frame_name(f->sym, fr) : "(no stack)");
}

static char *func_name(struct findings *f, uint32_t func)
{
	return xstrdup(sym_func_name(f->sym, func));
}

/* ---- memory: the replay with the shapes of the stacks' allocations (mem.h) ---- */

struct mem_pass {
	struct replay r;
	struct mem_shapes sh;
};

static void on_mem(struct replay *r, const struct trace_event *e, uint64_t old_size, void *arg)
{
	mem_shapes_event(&((struct mem_pass *)arg)->sh, e, old_size);
}

static void mem_pass_free(struct mem_pass *m)
{
	mem_shapes_free(&m->sh);
	replay_free(&m->r);
}

/* ---- memory rules ---- */

static void rule_churn(struct findings *f, const struct replay *r)
{
	uint32_t id;

	for (id = 1; id < r->naggs; id++) {
		const struct replay_agg *a = &r->aggs[id];
		struct finding *x;

		if (a->temporary < FINDINGS_CHURN_MIN ||
		    a->temporary * 100 < (uint64_t)FINDINGS_CHURN_PCT * a->allocs)
			continue;
		x = add(f, "churn", stack_name(f, id), a->temporary);
		x->stack = id;
		x->message = fmt("%" PRIu64 " allocations from one site, %" PRIu64 " of them "
				 "temporary (freed before the thread allocated again)", a->allocs,
				 a->temporary);
		x->advice = advice_churn;
		ev(x, "allocations", a->allocs);
		ev(x, "temporary", a->temporary);
		ev(x, "bytes", a->bytes);
	}
}

static void rule_realloc(struct findings *f, const struct replay *r, const struct mem_shapes *sh)
{
	uint32_t id;

	for (id = 1; id < sh->ns && id < r->naggs; id++) {
		const struct mem_shape *sm = &sh->s[id];
		uint64_t k = sm->run, copied;
		struct finding *x;

		if (k < FINDINGS_REALLOC_STEPS)
			continue;
		/* the old sizes of the run: final - step, final - 2 step, ..., final - k step */
		copied = k * sm->final - sm->step * k * (k + 1) / 2;
		x = add(f, "realloc-growth", stack_name(f, id), copied);
		x->stack = id;
		x->message = fmt("a block grown by realloc %" PRIu64 " times in a row by %" PRIu64
				 " bytes, to %" PRIu64 " bytes: %" PRIu64 " bytes copied (quadratic)",
				 k, sm->step, sm->final, copied);
		x->advice = advice_realloc;
		ev(x, "reallocs", k);
		ev(x, "step_bytes", sm->step);
		ev(x, "final_bytes", sm->final);
		ev(x, "copied_bytes", copied);
	}
}

/* n-plus-one, allocations: one function making many same-size, kept blocks per call */
static void rule_n1_alloc(struct findings *f, const struct replay *r,
			  const struct mem_shapes *sh)
{
	struct strmap map = { 0 };		/* calls by function name */
	struct strmap_ent *nc;
	uint32_t id;

	for (id = 0; id < f->h.nfuncs; id++) {
		const char *name = sym_func_name(f->sym, id);
		bool created;

		if (!f->h.funcs[id].calls)
			continue;
		nc = strmap_intern(&map, name, &created);	/* names live in f->sym */
		nc->v += f->h.funcs[id].calls;
	}
	for (id = 1; map.n && id < r->naggs && id < sh->ns; id++) {
		const struct replay_agg *a = &r->aggs[id];
		const struct trace_frame *fr;
		struct finding *x;
		const char *name;

		if (!a->allocs || sh->s[id].min_size != sh->s[id].max_size ||
		    a->temporary * 100 >= (uint64_t)FINDINGS_N1_TEMP_PCT * a->allocs)
			continue;
		fr = top_frame(f, id);
		if (!fr)
			continue;
		name = sym_frame_name(f->sym, fr);
		nc = strmap_find(&map, name);
		if (!nc || a->allocs < (uint64_t)FINDINGS_N1_PER_CALL * nc->v)
			continue;
		x = add(f, "n-plus-one", xstrdup(name), a->allocs);
		x->stack = id;
		x->message = fmt("%" PRIu64 " allocations of %" PRIu64 " bytes each from one site "
				 "in %" PRIu64 " calls of %s: %" PRIu64 " per call", a->allocs,
				 sh->s[id].max_size, nc->v, name, a->allocs / nc->v);
		x->advice = advice_n1_alloc;
		ev(x, "allocations", a->allocs);
		ev(x, "size_bytes", sh->s[id].max_size);
		ev(x, "calls", nc->v);
		ev(x, "per_call", a->allocs / nc->v);
	}
	strmap_free(&map);
}

static void rule_leaks(struct findings *f, const struct mem_summary *ms)
{
	uint32_t i;

	if (!f->t->end_seen)	/* live when recording stopped is not leaked */
		return;
	for (i = 0; i < ms->ntop; i++) {
		struct finding *x;

		if (ms->top[i].bytes < FINDINGS_LEAK_MIN_BYTES)
			continue;
		x = add(f, "leak", stack_name(f, ms->top[i].stack), ms->top[i].bytes);
		x->stack = ms->top[i].stack;
		x->message = fmt("%" PRIu64 " bytes in %" PRIu64 " blocks never freed",
				 ms->top[i].bytes, ms->top[i].blocks);
		x->advice = advice_leak;
		ev(x, "bytes", ms->top[i].bytes);
		ev(x, "blocks", ms->top[i].blocks);
	}
}

static void rule_growth(struct findings *f, const struct replay *r,
			const struct timeline_growth *g)
{
	const struct replay_agg *a;
	struct finding *x;

	/*
	 * A heap that grew and was freed again by the end has no suspect; one that grew by a
	 * few blocks (a stdio buffer near the end) is a step, not steady growth: no finding.
	 */
	a = g->suspect && g->suspect < r->naggs ? &r->aggs[g->suspect] : NULL;
	if (!g->grows || !a || a->live_blocks < FINDINGS_GROWTH_BLOCKS)
		return;
	x = add(f, "growth", stack_name(f, g->suspect), (uint64_t)llround(g->rate));
	x->stack = g->suspect;
	x->message = fmt("the live heap grows %.0f bytes/s over the second half of the run "
			 "(timeline's verdict); this site grows fastest, %.0f bytes/s", g->rate,
			 g->suspect_rate);
	x->advice = advice_growth;
	ev(x, "bytes_per_s", (uint64_t)llround(g->rate));
	ev(x, "window_ns", g->to_ns - g->from_ns);
	ev(x, "site_bytes_per_s", (uint64_t)llround(g->suspect_rate));
	ev(x, "site_growth_bytes", g->suspect_growth > 0 ? (uint64_t)g->suspect_growth : 0);
	ev(x, "site_allocations", a->allocs);
	ev(x, "site_live_blocks", a->live_blocks);
	ev(x, "site_live_bytes", a->live_bytes);
}

static void rule_high(struct findings *f, const struct replay *r, uint64_t limit)
{
	uint64_t best = 0;
	uint32_t id, who = 0;
	struct finding *x;

	if (r->peak_bytes < limit)
		return;
	for (id = 1; id < r->naggs; id++) {
		uint64_t b = replay_peak_bytes(r, &r->aggs[id]);

		if (b > best) {
			best = b;
			who = id;
		}
	}
	x = add(f, "high-memory", who ? stack_name(f, who) : xstrdup("(heap)"), r->peak_bytes);
	x->stack = who;
	x->message = fmt("the live heap peaked at %" PRIu64 " bytes (the limit is %" PRIu64
			 "); this site held %" PRIu64 " of them", r->peak_bytes, limit, best);
	x->advice = advice_high;
	ev(x, "peak_bytes", r->peak_bytes);
	ev(x, "limit_bytes", limit);
	ev(x, "peak_time_ns", r->peak_ns);
	ev(x, "site_bytes_at_peak", best);
}

/* ---- call rules: the call tree (hot_collect HOT_TREE) ---- */

struct tree_info {
	uint32_t *first, *next;		/* children lists */
	bool *has_child;		/* node has children */
	bool *reentered;		/* node: a call below it re-enters a function of its
					 * callers' path (a loop of an interpreter, not a service) */
	bool *func_calls;		/* function calls a recorded function */
	uint32_t *top_node;		/* per function: its node with the most calls */
	uint32_t *depth, *deepest;	/* per function: most activations on one path, where */
};

static void tree_info(struct findings *f, struct tree_info *ti)
{
	const struct hot *h = &f->h;
	uint32_t i, nf = h->nfuncs + 1, *active = xcalloc(nf, sizeof(*active));
	uint32_t *stack = xmalloc((h->nnodes + 1) * 2 * sizeof(*stack)), depth_n = 0;

	ti->first = xmalloc((h->nnodes + 1) * sizeof(uint32_t));
	ti->next = xmalloc((h->nnodes + 1) * sizeof(uint32_t));
	ti->has_child = xcalloc(h->nnodes + 1, sizeof(bool));
	ti->reentered = xcalloc(h->nnodes + 1, sizeof(bool));
	ti->func_calls = xcalloc(nf, sizeof(bool));
	ti->top_node = xcalloc(nf, sizeof(uint32_t));
	ti->depth = xcalloc(nf, sizeof(uint32_t));
	ti->deepest = xcalloc(nf, sizeof(uint32_t));
	memset(ti->first, 0xff, (h->nnodes + 1) * sizeof(uint32_t));
	for (i = h->nnodes; i-- > 1;) {		/* parents come before children */
		const struct hot_node *n = &h->nodes[i];
		uint32_t p = n->parent;

		ti->next[i] = ti->first[p];
		ti->first[p] = i;
		ti->has_child[p] = true;
		if (p)
			ti->func_calls[h->nodes[p].func] = true;
		if (!ti->top_node[n->func] || n->calls > h->nodes[ti->top_node[n->func]].calls ||
		    (n->calls == h->nodes[ti->top_node[n->func]].calls && i < ti->top_node[n->func]))
			ti->top_node[n->func] = i;
	}
	/* depth-first: activations of each function on the current path */
	for (i = ti->first[0]; i != NONE; i = ti->next[i])
		stack[depth_n++] = i;
	while (depth_n) {
		uint32_t id = stack[--depth_n], c;
		uint32_t fn;

		if (id & (1U << 31)) {		/* leaving the node */
			active[h->nodes[id & ~(1U << 31)].func]--;
			continue;
		}
		fn = h->nodes[id].func;
		if (active[fn]) {
			uint32_t up;

			/* the nodes between its previous activation and here re-enter it */
			for (up = h->nodes[id].parent; up && h->nodes[up].func != fn;
			     up = h->nodes[up].parent)
				ti->reentered[up] = true;
		}
		if (++active[fn] > ti->depth[fn]) {
			ti->depth[fn] = active[fn];
			ti->deepest[fn] = id;
		}
		stack[depth_n++] = id | 1U << 31;
		/* each node is pushed once, then its leaving mark: 2 per node at most */
		for (c = ti->first[id]; c != NONE; c = ti->next[c])
			stack[depth_n++] = c;
	}
	free(stack);
	free(active);
}

static void tree_info_free(struct tree_info *ti)
{
	free(ti->first);
	free(ti->next);
	free(ti->has_child);
	free(ti->reentered);
	free(ti->func_calls);
	free(ti->top_node);
	free(ti->depth);
	free(ti->deepest);
}

/*
 * n-plus-one, calls: on one call path, a callee called FINDINGS_N1_PER_CALL times per call
 * of its caller, that does work (it calls others, FINDINGS_N1_MIN_NS a call on average)
 * and is a service, not a loop's body: nothing below it re-enters its callers' functions.
 */
static void rule_n1_calls(struct findings *f, const struct tree_info *ti)
{
	const struct hot *h = &f->h;
	uint32_t i;

	for (i = 1; i < h->nnodes; i++) {
		const struct hot_node *c = &h->nodes[i], *p = &h->nodes[c->parent];
		struct finding *x;
		uint64_t avg;

		if (!c->parent || p->func == c->func || !p->calls || !c->calls ||
		    !ti->has_child[i] || ti->reentered[i] ||
		    c->calls < (uint64_t)FINDINGS_N1_PER_CALL * p->calls)
			continue;
		avg = c->total_ns / c->calls;
		if (avg < FINDINGS_N1_MIN_NS)
			continue;
		x = add(f, "n-plus-one", func_name(f, c->func), c->total_ns);
		x->node = i;
		x->message = fmt("called %" PRIu64 " times in %" PRIu64 " calls of %s (%" PRIu64
				 " per call), %" PRIu64 " ns each", c->calls, p->calls,
				 sym_func_name(f->sym, p->func), c->calls / p->calls, avg);
		x->advice = advice_n1_calls;
		ev(x, "calls", c->calls);
		ev(x, "parent_calls", p->calls);
		ev(x, "per_call", c->calls / p->calls);
		ev(x, "avg_ns", avg);
		ev(x, "total_ns", c->total_ns);
	}
}

static void rule_tiny(struct findings *f, const struct tree_info *ti)
{
	const struct hot *h = &f->h;
	uint64_t all = h->ncalls;
	uint32_t i;

	for (i = 0; i < h->nfuncs; i++) {
		const struct hot_func *fn = &h->funcs[i];
		struct finding *x;
		uint64_t avg;

		if (fn->calls < FINDINGS_TINY_MIN_CALLS || ti->func_calls[i] ||
		    fn->calls * 100 < (uint64_t)FINDINGS_TINY_PCT * all)
			continue;
		avg = fn->sum_ns / fn->calls;
		if (avg > FINDINGS_TINY_MAX_NS)
			continue;
		x = add(f, "tiny-hot", func_name(f, i), fn->calls);
		x->node = ti->top_node[i];
		x->message = fmt("%" PRIu64 " of the %" PRIu64 " calls (%" PRIu64 "%%) are to this "
				 "leaf function, %" PRIu64 " ns each", fn->calls, all,
				 fn->calls * 100 / all, avg);
		x->advice = advice_tiny;
		ev(x, "calls", fn->calls);
		ev(x, "all_calls", all);
		ev(x, "percent", fn->calls * 100 / all);
		ev(x, "avg_ns", avg);
	}
}

static void rule_recursion(struct findings *f, const struct tree_info *ti, uint32_t limit)
{
	const struct hot *h = &f->h;
	uint32_t i;

	for (i = 0; i < h->nfuncs; i++) {
		struct finding *x;
		uint32_t n, outer = 0;

		if (ti->depth[i] < limit)
			continue;
		/* the outermost activation on the deepest path */
		for (n = ti->deepest[i]; n; n = h->nodes[n].parent)
			if (h->nodes[n].func == i)
				outer = n;
		x = add(f, "deep-recursion", func_name(f, i), ti->depth[i]);
		x->node = outer;
		x->message = fmt("%u activations of this function on one call path "
				 "(the limit is %u)", ti->depth[i], limit);
		x->advice = advice_recursion;
		ev(x, "depth", ti->depth[i]);
		ev(x, "limit", limit);
		ev(x, "calls", h->funcs[i].calls);
	}
}

/**
 * findings_blocking - the "blocking" rule over per-function waits @w (NULL or empty: the
 * trace has no waits, no finding) in a run of @duration_ns, added to @f.
 */
void findings_blocking(struct findings *f, const struct findings_waits *w, uint64_t duration_ns)
{
	uint32_t i;

	for (i = 0; w && i < w->n; i++) {
		const struct findings_wait *e = &w->v[i];
		uint64_t pct = duration_ns ? e->voluntary_ns * 100 / duration_ns : 0;
		struct finding *x;
		char *name;

		if (e->voluntary_ns < FINDINGS_BLOCK_MIN_NS || !duration_ns ||
		    e->voluntary_ns * 100 < (uint64_t)FINDINGS_BLOCK_PCT * duration_ns)
			continue;
		if (e->func != NONE && f->sym)
			name = func_name(f, e->func);
		else
			name = xstrdup(e->name ? e->name : "?");
		x = add(f, "blocking", name, e->voluntary_ns);
		x->func = e->func;
		if (e->func != NONE && e->func < f->h.nfuncs && f->h.nnodes > 1) {
			uint32_t n, best = 0;

			for (n = 1; n < f->h.nnodes; n++)
				if (f->h.nodes[n].func == e->func &&
				    (!best || f->h.nodes[n].calls > f->h.nodes[best].calls))
					best = n;
			x->node = best;
		}
		x->message = fmt("its calls blocked %" PRIu64 " ns (%" PRIu64 "%% of the run) in %"
				 PRIu64 " calls", e->voluntary_ns, pct, e->count);
		x->advice = advice_block;
		ev(x, "wait_ns", e->wait_ns);
		ev(x, "voluntary_ns", e->voluntary_ns);
		ev(x, "count", e->count);
		ev(x, "percent", pct);
	}
}

/* ---- collecting ---- */

static bool has_memory(const struct trace *t)
{
	return (t->hdr.flags & TRACE_F_MALLOC) || t->nallocs || t->nfrees || t->nreallocs;
}

/**
 * findings_collect_given - run every rule over @t into @f (see findings.h), with what
 * @given holds instead of computing it (its hot table is taken over: findings_free frees it).
 * Return: 0, or -1 when the trace could not be decoded or symbolized (reported).
 */
int findings_collect_given(struct trace *t, const struct opts *o,
			   const struct findings_waits *w, struct findings_given *given,
			   struct findings *f)
{
	uint64_t high = o->high_memory ? o->high_memory : FINDINGS_HIGH_MEMORY;
	uint32_t depth = o->recursion_depth ? (uint32_t)o->recursion_depth
					     : FINDINGS_RECURSION_DEPTH;
	struct mem_pass m = { 0 };
	const struct replay *r = &m.r;
	const struct mem_shapes *sh = &m.sh;
	struct timeline_growth g = { 0 };
	struct mem_summary ms = { 0 };
	struct tree_info ti = { 0 };
	bool mem = false;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	f->t = t;
	if (!given->hot && !given->mem && (t->hdr.flags & TRACE_F_MALLOC))
		replay_log_want(t);	/* the calls walk keeps the heap's events: one walk */
	if (given->hot) {
		f->h = *given->hot;
		memset(given->hot, 0, sizeof(*given->hot));
	} else if (hot_collect(t, -1, HOT_TREE, &f->h) < 0) {
		return -1;
	}
	if (has_memory(t)) {
		m.r.mem = on_mem;
		m.r.arg = &m;
		if (given->ms)
			ms = *given->ms;
		if (given->growth)
			g = *given->growth;
		if (given->mem) {
			r = &given->mem->r;
			sh = given->mem->shapes;
		} else if (replay_run(&m.r, t) < 0) {
			goto out;
		}
		if ((!given->ms && mem_summarize(t, o, &ms) < 0) ||
		    (!given->growth && timeline_growth(t, o, &g) < 0))
			goto out;
		mem = true;
	}
	f->sym = replay_symbols(t, o);
	if (!f->sym)
		goto out;
	if (mem) {
		rule_churn(f, r);
		rule_realloc(f, r, sh);
		rule_n1_alloc(f, r, sh);
		rule_leaks(f, &ms);
		rule_growth(f, r, &g);
		rule_high(f, r, high);
	}
	tree_info(f, &ti);
	rule_n1_calls(f, &ti);
	if (!w && f->h.switches) {	/* the trace's own waits: each function's blocked time */
		struct findings_wait *v = xcalloc(f->h.nfuncs + 1, sizeof(*v));
		struct findings_waits own = { v, 0 };
		uint32_t i;

		for (i = 0; i < f->h.nfuncs; i++)
			if (f->h.funcs[i].wait_ns[0])
				v[own.n++] = (struct findings_wait){
					i, NULL, f->h.funcs[i].wait_ns[0] + f->h.funcs[i].wait_ns[1],
					f->h.funcs[i].wait_ns[0], f->h.funcs[i].blocked_calls };
		findings_blocking(f, &own, t->duration_ns);
		free(v);
	} else {
		findings_blocking(f, w, t->duration_ns);
	}
	rule_tiny(f, &ti);
	rule_recursion(f, &ti, depth);
	tree_info_free(&ti);
	if (f->n)
		qsort(f->v, f->n, sizeof(*f->v), cmp_finding);
	ret = 0;
out:
	mem_pass_free(&m);
	return ret;
}

/** findings_collect - findings_collect_given computing everything itself. */
int findings_collect(struct trace *t, const struct opts *o, const struct findings_waits *w,
		     struct findings *f)
{
	struct findings_given none = { 0 };

	return findings_collect_given(t, o, w, &none, f);
}

/** findings_free - release what findings_collect made and zero @f. */
void findings_free(struct findings *f)
{
	uint32_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].message);
	}
	free(f->v);
	hot_free(&f->h);
	if (f->sym)
		sym_close(f->sym);
	memset(f, 0, sizeof(*f));
}
