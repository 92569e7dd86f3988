/* SPDX-License-Identifier: MIT */
/*
 * The profile model: what one walk of a trace's calls gives every view. hot_collect() fills
 * the per-function table (struct hot: calls, total, self, CPU self and waits, percentiles),
 * the caller/callee edges and the call tree; ctree_build() the per-thread call tree that
 * html, flamegraph and the exports draw; model_build() both in one walk (html), so a view
 * renders what the model holds instead of walking the trace again. The definitions of the
 * numbers are in report-hot.c's header comment (the `functions` report).
 */
#define PR_FMT "model"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"
#include "analyzer/hist.h"
#include "analyzer/hmap.h"
#include "analyzer/hot.h"
#include "analyzer/model.h"
#include "analyzer/offcpu.h"
#include "analyzer/replay-log.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

/* stat_add's other cases: an exact sample, or the samples moved to the histogram */
static void stat_add_samp(struct hot_func *f, uint64_t dur)
{
	if (f->nsamp == HOT_EXACT) {
		uint32_t i;

		f->hist = xcalloc(HOT_HIST_N, sizeof(*f->hist));
		for (i = 0; i < f->nsamp; i++)
			f->hist[hist_bucket(f->samp[i], HOT_HIST_SHIFT)]++;
		free(f->samp);
		f->samp = NULL;
		f->hist[hist_bucket(dur, HOT_HIST_SHIFT)]++;
		return;
	}
	if (!f->samp)
		f->samp = xmalloc(HOT_EXACT * sizeof(*f->samp));
	f->samp[f->nsamp++] = dur;
	f->sorted = false;
}

/* one call of @dur ns into @f's percentile samples; inline for a function's usual case, its
 * histogram */
static inline void stat_add(struct hot_func *f, uint64_t dur)
{
	if (f->hist)
		f->hist[hist_bucket(dur, HOT_HIST_SHIFT)]++;
	else
		stat_add_samp(f, dur);
}

/* hot_stat_add - one call of @dur ns into @f's percentile samples (hot_func_add) */
void hot_stat_add(struct hot_func *f, uint64_t dur)
{
	stat_add(f, dur);
}

/**
 * hot_func_add - add the calls of @src to @dst (the same function in two tables: traces of
 * one process tree). Percentiles stay exact while both have samples and the sum fits
 * HOT_EXACT; beyond that they come from the merged histogram.
 */
void hot_func_add(struct hot_func *dst, const struct hot_func *src)
{
	uint32_t i;

	if (!src->calls)
		return;
	if (!dst->calls || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (!dst->calls || src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->calls += src->calls;
	dst->total_ns += src->total_ns;
	dst->self_ns += src->self_ns;
	dst->wait_ns[0] += src->wait_ns[0];
	dst->wait_ns[1] += src->wait_ns[1];
	dst->wait_total_ns += src->wait_total_ns;
	dst->blocked_calls += src->blocked_calls;
	dst->sum_ns += src->sum_ns;
	if (src->hist) {
		if (!dst->hist) {
			dst->hist = xcalloc(HOT_HIST_N, sizeof(*dst->hist));
			for (i = 0; i < dst->nsamp; i++)
				dst->hist[hist_bucket(dst->samp[i], HOT_HIST_SHIFT)]++;
			free(dst->samp);
			dst->samp = NULL;
			dst->nsamp = 0;
		}
		for (i = 0; i < HOT_HIST_N; i++)
			dst->hist[i] += src->hist[i];
		return;
	}
	for (i = 0; i < src->nsamp; i++)
		hot_stat_add(dst, src->samp[i]);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * hot_percentile - the @pct percentile (nearest rank) of @f's call durations.
 * Exact with the samples, else from the histogram (error bound in the file header).
 */
uint64_t hot_percentile(struct hot_func *f, double pct)
{
	uint64_t rank, seen = 0, lo, w, v;
	uint32_t b;

	if (!f->calls)
		return 0;
	rank = (uint64_t)ceil(pct / 100.0 * (double)f->calls);
	if (rank < 1)
		rank = 1;
	if (rank > f->calls)
		rank = f->calls;
	/* the extremes are known exactly */
	if (rank == 1)
		return f->min_ns;
	if (rank == f->calls)
		return f->max_ns;
	if (!f->hist) {
		if (!f->sorted) {
			qsort(f->samp, f->nsamp, sizeof(*f->samp), cmp_u64);
			f->sorted = true;
		}
		return f->samp[rank - 1];
	}
	for (b = 0; b < HOT_HIST_N; b++) {
		seen += f->hist[b];
		if (seen >= rank)
			break;
	}
	if (b == HOT_HIST_N)
		return f->max_ns;
	lo = hist_low(b, HOT_HIST_SHIFT, &w);
	v = lo + w / 2;
	return v < f->min_ns ? f->min_ns : v > f->max_ns ? f->max_ns : v;
}

/* ---- u64 key -> u32 value: an hmap (analyzer/hmap.h) ---- */

struct map_ent {
	uint64_t key;			/* key + 1 (0 = empty) */
	uint32_t val;
};
HMAP_DEFINE(idmap, struct map_ent, key)

/* map_get - the value of @key; a new key gets @next and *@created is set */
static inline uint32_t map_get(struct idmap *m, uint64_t key, uint32_t next, bool *created)
{
	struct map_ent *e = idmap_put(m, key + 1, created);

	if (*created)
		e->val = next;
	return e->val;
}

/* ---- the walk ---- */

struct frame {
	uint64_t child_ns;		/* inclusive time of its finished callees */
	uint32_t node;			/* call tree node */
	uint32_t func;
};

/* a tree node's last child looked up (node 0: none yet): a callee called again from the same
 * place (fib's two calls, a loop's) is found without node_of's map */
struct last_child {
	uint32_t func, node;
};

struct collect {
	struct hot *h;
	struct trace *t;
	struct offcpu_acc acc;		/* off-CPU time of callees (h->switches) */
	struct frame *stack;
	uint32_t cap;
	uint32_t *active;		/* open activations per function (this thread) */
	uint32_t nactive;
	struct idmap edge_map, node_map;
	struct last_child *last;	/* by tree node (HOT_TREE) */
	uint32_t last_cap;
};

static void grow_funcs(struct hot *h, uint32_t n)
{
	ARRAY_GROW_ZERO(h->funcs, h->cap, n);
}

/* One more call of @f that lasted @dur: its count and its shortest and longest. */
static inline void func_count(struct hot_func *f, uint64_t dur)
{
	if (!f->calls++) {
		f->min_ns = f->max_ns = dur;
	} else {
		if (dur < f->min_ns)
			f->min_ns = dur;
		if (dur > f->max_ns)
			f->max_ns = dur;
	}
}

static uint32_t edge_of(struct collect *c, uint32_t caller, uint32_t callee)
{
	struct hot *h = c->h;
	bool created;
	uint32_t id = map_get(&c->edge_map, (uint64_t)caller << 32 | callee, h->nedges, &created);

	if (created) {
		ARRAY_ROOM(h->edges, h->edges_cap, h->nedges);
		h->edges[id] = (struct hot_edge){ .caller = caller, .callee = callee };
		h->nedges++;
	}
	return id;
}

static uint32_t node_of(struct collect *c, uint32_t parent, uint32_t func)
{
	struct hot *h = c->h;
	bool created;
	uint32_t id;

	id = map_get(&c->node_map, (uint64_t)parent << 32 | func, h->nnodes, &created);

	if (created) {
		ARRAY_ROOM(h->nodes, h->nodes_cap, h->nnodes);
		h->nodes[id] = (struct hot_node){ .parent = parent, .func = func };
		h->nnodes++;
	}
	return id;
}

/*
 * the off-CPU part of a closed call's self time (offcpu.c), and in *@whole that within all
 * of it (an outermost activation's goes into its total's). Return: both kinds, summed
 */
static inline __attribute__((always_inline)) uint64_t
add_wait(struct collect *c, const struct trace_event *ev, struct hot_func *f, uint64_t *whole)
{
	uint64_t w[2];

	if (!offcpu_exit_quiet(&c->acc, ev->thread, ev->depth, ev->entry_ns, ev->ns, w, whole))
		offcpu_exit(c->t, &c->acc, ev->thread, ev->depth, ev->entry_ns, ev->ns, w, whole);
	f->wait_ns[0] += w[0];
	f->wait_ns[1] += w[1];
	f->blocked_calls += w[0] != 0;
	return w[0] + w[1];
}

static int on_call(const struct trace_event *ev, void *ctx)
{
	struct collect *c = ctx;
	struct hot *h = c->h;
	uint32_t d = ev->depth;

	if (ev->type == EV_ENTRY) {
		struct frame *fr;

		ARRAY_ROOM(c->stack, c->cap, d);
		ARRAY_GROW_ZERO(c->active, c->nactive, ev->func + 1);
		fr = &c->stack[d];
		fr->child_ns = 0;
		fr->func = ev->func;
		if (h->want & HOT_TREE) {
			uint32_t up = d ? c->stack[d - 1].node : 0;
			struct last_child *lc;

			ARRAY_GROW_ZERO(c->last, c->last_cap, up + 1);
			lc = &c->last[up];
			if (!lc->node || lc->func != ev->func)
				*lc = (struct last_child){ ev->func, node_of(c, up, ev->func) };
			fr->node = lc->node;
		}
		c->active[ev->func]++;
		return 0;
	}
	if (ev->type == EV_EXIT) {
		uint64_t dur = ev->ns > ev->entry_ns ? ev->ns - ev->entry_ns : 0, self, wait = 0;
		uint64_t whole = 0;		/* add_wait's: the off-CPU time within the call */
		struct hot_func *f;
		struct frame *fr = &c->stack[d];

		if (__builtin_expect(ev->func >= h->cap, 0))
			grow_funcs(h, ev->func + 1);
		f = &h->funcs[ev->func];
		self = dur > fr->child_ns ? dur - fr->child_ns : 0;
		if (d)
			c->stack[d - 1].child_ns += dur;
		func_count(f, dur);
		f->self_ns += self;
		if (h->switches)
			wait = add_wait(c, ev, f, &whole);
		f->sum_ns += dur;
		if (--c->active[ev->func] == 0) {
			f->total_ns += dur;
			if (h->switches)
				f->wait_total_ns += whole;
		}
		stat_add(f, dur);
		if (h->want & HOT_EDGES) {
			/* edge_of may move h->edges: index after the call */
			uint32_t id = edge_of(c, d ? c->stack[d - 1].func : HOT_ROOT, ev->func);
			struct hot_edge *e = &h->edges[id];

			e->calls++;
			e->total_ns += dur;
			e->self_ns += self;
			e->wait_ns += wait;
		}
		if (h->want & HOT_TREE) {
			struct hot_node *n = &h->nodes[fr->node];

			n->calls++;
			n->total_ns += dur;
			n->self_ns += self;
			n->wait_ns += wait;
		}
		h->ncalls++;
	}
	return 0;
}

/*
 * on_exit_ev - the per-function numbers from EXIT events alone (WALK_EXITS): the reader gives
 * each closed call's callee time and whether it is nested in an activation of itself, so
 * the pass needs half the callbacks of a full calls walk.
 */
static int on_exit_ev(const struct trace_event *ev, void *ctx)
{
	struct collect *c = ctx;
	struct hot *h = c->h;
	uint64_t dur = ev->ns > ev->entry_ns ? ev->ns - ev->entry_ns : 0;
	uint64_t whole = 0;			/* add_wait's: the off-CPU time within the call */
	struct hot_func *f;

	if (__builtin_expect(ev->func >= h->cap, 0))
		grow_funcs(h, ev->func + 1);
	f = &h->funcs[ev->func];
	func_count(f, dur);
	f->self_ns += dur > ev->child_ns ? dur - ev->child_ns : 0;
	if (h->switches)
		add_wait(c, ev, f, &whole);
	f->sum_ns += dur;
	if (!ev->nested) {
		f->total_ns += dur;
		if (h->switches)
			f->wait_total_ns += whole;
	}
	stat_add(f, dur);
	h->ncalls++;
	return 0;
}

/* set up @c's walk into c->h (see hot_collect). Return: 0, or -1 (reported). */
static int collect_begin(struct collect *c, unsigned want)
{
	struct hot *h = c->h;
	struct trace *t = c->t;

	h->want = want;
	if (offcpu_present(t)) {
		if (offcpu_load(t) < 0)
			return -1;
		h->switches = true;
	}
	if (!h->nodes) {
		h->nodes_cap = 256;
		h->nodes = xmalloc(h->nodes_cap * sizeof(*h->nodes));
		h->nodes[0] = (struct hot_node){ .parent = 0, .func = HOT_ROOT };
		h->nnodes = 1;
	}
	if (t->nfuncs > h->cap)
		grow_funcs(h, t->nfuncs);
	return 0;
}

/* the functions the walk learned, and the walk's state released */
static void collect_end(struct collect *c)
{
	struct hot *h = c->h;

	if (c->t->nfuncs > h->cap)
		grow_funcs(h, c->t->nfuncs);
	h->nfuncs = c->t->nfuncs;
	free(c->stack);
	free(c->active);
	free(c->last);
	offcpu_acc_free(&c->acc);
	idmap_free(&c->edge_map);
	idmap_free(&c->node_map);
}

/*
 * ---- hot_collect over the cores (-j): a table per stream, merged in stream order ----
 * A stream's calls are a world of their own (its call stack, its activations): the tables
 * made apart and added in stream order hold what one walk of every stream gives, with the
 * edges and tree nodes each stream adds first in the order it met them.
 */
struct split_part {
	struct collect c;		/* the walk's context */
	struct hot h;
};

static void *split_begin(struct trace *part, uint32_t stream, void *arg)
{
	const struct collect *g = arg;
	struct split_part *sp = xcalloc(1, sizeof(*sp));

	sp->c.h = &sp->h;
	sp->c.t = part;
	/* cannot fail: the off-CPU intervals were loaded into the trace the part copies */
	collect_begin(&sp->c, g->h->want);
	return &sp->c;
}

static inline uint32_t map_func(const uint32_t *fmap, uint32_t f)
{
	return f == HOT_ROOT ? HOT_ROOT : fmap[f];
}

/* the stream's table @ctx into the trace's (@arg's), its function ids mapped by @fmap */
static int split_merge(void *ctx, struct trace *t, const uint32_t *fmap, const uint32_t *smap,
		       void *arg)
{
	struct split_part *sp = ctx;
	struct collect *g = arg;
	struct hot *gh = g->h, *h = &sp->h;
	uint32_t i, n = sp->c.t->nfuncs < h->cap ? sp->c.t->nfuncs : h->cap, *nmap;

	if (t->nfuncs > gh->cap)
		grow_funcs(gh, t->nfuncs);
	for (i = 0; i < n; i++)
		if (h->funcs[i].calls)
			hot_func_add(&gh->funcs[fmap[i]], &h->funcs[i]);
	gh->ncalls += h->ncalls;
	for (i = 0; i < h->nedges; i++) {
		const struct hot_edge *e = &h->edges[i];
		/* edge_of may move gh->edges: index after the call */
		uint32_t id = edge_of(g, map_func(fmap, e->caller), map_func(fmap, e->callee));
		struct hot_edge *d = &gh->edges[id];

		d->calls += e->calls;
		d->total_ns += e->total_ns;
		d->self_ns += e->self_ns;
		d->wait_ns += e->wait_ns;
	}
	nmap = xmalloc((h->nnodes + 1) * sizeof(*nmap));
	nmap[0] = 0;
	for (i = 1; i < h->nnodes; i++) {	/* a node comes after its parent */
		const struct hot_node *nd = &h->nodes[i];
		struct hot_node *d;

		nmap[i] = node_of(g, nmap[nd->parent], map_func(fmap, nd->func));
		d = &gh->nodes[nmap[i]];
		d->calls += nd->calls;
		d->total_ns += nd->total_ns;
		d->self_ns += nd->self_ns;
		d->wait_ns += nd->wait_ns;
	}
	free(nmap);
	return 0;
}

static void split_drop(void *ctx, void *arg)
{
	struct split_part *sp = ctx;

	collect_end(&sp->c);
	hot_free(&sp->h);
	free(sp);
}

/* whether @h holds nothing yet (a split walk fills a fresh table) */
static bool hot_empty(const struct hot *h)
{
	return !h->ncalls && !h->nedges && h->nnodes <= 1;
}

/**
 * hot_collect - walk the calls of thread @thread of @t (-1: every thread) into @h, adding
 * to what @h holds (zero it first; free with hot_free). @want: HOT_EDGES, HOT_TREE.
 * Return: 0, or -1 when the walk failed (reported by the reader).
 */
int hot_collect(struct trace *t, int thread, unsigned want, struct hot *h)
{
	struct collect c = { .h = h, .t = t };
	bool calls = want & (HOT_EDGES | HOT_TREE);
	/* the heap's events kept for the replay: one walk of every stream, not split */
	bool log = thread < 0 && t->memlog && !t->memlog->complete;
	/* every thread, into a fresh table: on the cores -j gives (one stream each) */
	bool split = thread < 0 && !log && hot_empty(h) && trace_split_worth(t);
	int rc;

	if (collect_begin(&c, want) < 0)
		return -1;
	if (split) {
		struct trace_split sp = { .fn = calls ? on_call : on_exit_ev,
					  .begin = split_begin, .merge = split_merge,
					  .drop = split_drop, .arg = &c };

		rc = trace_walk_split(t, calls ? WALK_CALLS : WALK_EXITS, &sp);
	} else if (log) {
		rc = replay_log_calls(t, calls ? WALK_CALLS : WALK_EXITS, calls ? on_call : on_exit_ev,
				      &c);
	} else if (calls) {
		rc = trace_walk(t, WALK_CALLS, thread, on_call, &c);
	} else {
		rc = trace_walk(t, WALK_EXITS, thread, on_exit_ev, &c);
	}
	collect_end(&c);
	return rc ? -1 : 0;
}

void hot_free(struct hot *h)
{
	uint32_t i;

	for (i = 0; i < h->cap; i++) {
		free(h->funcs[i].samp);
		free(h->funcs[i].hist);
	}
	free(h->funcs);
	free(h->edges);
	free(h->nodes);
	memset(h, 0, sizeof(*h));
}


/* ---- call tree ---- */

struct cframe {
	uint32_t node, func;
	uint64_t entry_ns;
	uint64_t child_ns;		/* inclusive time of the recorded callees */
};

struct cstack {
	struct cframe *f;
	uint32_t n, cap;
};

/*
 * State of a calls walk. Each thread has its own shadow of the call stack (the reader
 * delivers ENTRY/EXIT paired up); a frame accumulates its callees' inclusive time so that
 * self time = duration - callees at its EXIT.
 */
struct cwalk {
	struct trace *t;
	struct ctree *ct;
	bool per_thread;
	struct cstack *stacks;		/* per thread index */
	uint32_t nstacks;
	uint32_t *active;		/* per func: activations on the current thread's stack */
	uint32_t nactive;
	int only;			/* thread index, or -1 for all */
	struct offcpu_acc acc;		/* off-CPU time of callees (ct->switches) */
};

static uint32_t ctree_child(struct ctree *ct, uint32_t parent, uint32_t func)
{
	uint64_t key = (uint64_t)parent << 32 | ((uint64_t)func + 1);
	struct xmap_val *v;
	bool created;

	v = xmap_put(&ct->index, key, &created);
	if (!created)
		return v->w;
	ARRAY_ROOM(ct->nodes, ct->cap, ct->nnodes);
	memset(&ct->nodes[ct->nnodes], 0, sizeof(ct->nodes[0]));
	ct->nodes[ct->nnodes].parent = parent;
	ct->nodes[ct->nnodes].func = func;
	v->w = ct->nnodes;
	return ct->nnodes++;
}

static struct cstack *cstack_of(struct cwalk *w, uint32_t thread)
{
	ARRAY_GROW_ZERO(w->stacks, w->nstacks, thread + 1);
	return &w->stacks[thread];
}

static void ct_grow_funcs(struct cwalk *w, uint32_t func)
{
	struct ctree *ct = w->ct;

	ARRAY_GROW_ZERO(ct->funcs, ct->nfuncs, (size_t)func + 1);
	ARRAY_GROW_ZERO(w->active, w->nactive, (size_t)func + 1);
}

/* the off-CPU part of a closed call's self time (as add_wait) */
static uint64_t ct_wait(struct cwalk *w, const struct trace_event *ev)
{
	uint64_t o[2], whole;

	if (!offcpu_exit_quiet(&w->acc, ev->thread, ev->depth, ev->entry_ns, ev->ns, o, &whole))
		offcpu_exit(w->t, &w->acc, ev->thread, ev->depth, ev->entry_ns, ev->ns, o, &whole);
	return o[0] + o[1];
}

/* ENTRY pushes a frame on the node of (caller's node, function); EXIT settles its times. */
static int ctree_event(const struct trace_event *ev, void *ctx)
{
	struct cwalk *w = ctx;
	struct ctree *ct = w->ct;
	struct cstack *st;
	struct cframe *fr;

	if (w->only >= 0 && ev->thread != (uint32_t)w->only)
		return 0;
	st = cstack_of(w, ev->thread);
	if (ev->type == EV_ENTRY) {
		uint32_t parent;

		ARRAY_ROOM(st->f, st->cap, st->n);
		if (st->n)
			parent = st->f[st->n - 1].node;
		else if (w->per_thread)
			parent = ctree_child(ct, 0, CTREE_THREAD | ev->thread);
		else
			parent = 0;
		fr = &st->f[st->n++];
		fr->func = ev->func;
		fr->node = ctree_child(ct, parent, ev->func);
		fr->entry_ns = ev->ns;
		fr->child_ns = 0;
		ct_grow_funcs(w, ev->func);
		w->active[ev->func]++;
	} else if (ev->type == EV_EXIT) {
		struct func_stat *fs;
		uint64_t dur, self;

		if (!st->n)	/* the reader pairs them; never trust it blindly */
			return 0;
		fr = &st->f[--st->n];
		dur = ev->ns >= fr->entry_ns ? ev->ns - fr->entry_ns : 0;
		self = dur >= fr->child_ns ? dur - fr->child_ns : 0;
		if (st->n)
			st->f[st->n - 1].child_ns += dur;
		fs = &ct->funcs[fr->func];
		w->active[fr->func]--;
		ct->nodes[fr->node].calls++;
		ct->nodes[fr->node].self_ns += self;
		if (ct->switches)
			ct->nodes[fr->node].wait_ns += ct_wait(w, ev);
		ct->self_sum_ns += self;
		ct->ncalls++;
		if (!fs->calls || dur < fs->min_ns)
			fs->min_ns = dur;
		if (dur > fs->max_ns)
			fs->max_ns = dur;
		fs->calls++;
		fs->self_ns += self;
		if (!w->active[fr->func])	/* outermost activation: recursion counted once */
			fs->total_ns += dur;
	}
	return 0;
}

static int cwalk_run(struct trace *t, int thread, struct cwalk *w)
{
	uint32_t i;
	int ret;

	/*
	 * Every thread is decoded even for one: modules and names are learned from whichever
	 * thread's chunks hold them, and a walk of one thread would miss the others'.
	 */
	w->only = thread;
	ret = trace_walk(t, WALK_CALLS, -1, ctree_event, w);
	for (i = 0; i < w->nstacks; i++)
		free(w->stacks[i].f);
	free(w->stacks);
	free(w->active);
	offcpu_acc_free(&w->acc);
	return ret < 0 ? -1 : 0;
}

/*
 * ctree_build - fill @ct (zeroed by this function) from the calls of @t. Threads are walked
 * one after the other, so one per-function activation counter serves them all.
 * Return: 0, or -1 when the walk failed; @ct is valid (and must be freed) either way.
 */
int ctree_build(struct trace *t, int thread, bool per_thread, bool waits, struct ctree *ct)
{
	struct cwalk w = { .t = t, .ct = ct, .per_thread = per_thread };

	memset(ct, 0, sizeof(*ct));
	ct->cap = 256;
	ct->nodes = xcalloc(ct->cap, sizeof(*ct->nodes));
	ct->nnodes = 1;				/* node 0: the root, never looked up */
	if (waits && offcpu_present(t)) {
		if (offcpu_load(t) < 0)
			return -1;
		ct->switches = true;
	}
	return cwalk_run(t, thread, &w);
}

/* ctree_free - release everything ctree_build allocated. */
void ctree_free(struct ctree *ct)
{
	free(ct->funcs);
	free(ct->nodes);
	xmap_free(&ct->index);
	memset(ct, 0, sizeof(*ct));
}


/* ---- the model: both in one walk ---- */

/*
 * model_build walks the EXITs once (as `functions` does: no ENTRY is delivered), and keeps
 * each open call's tree node in the reader's slot for it (ev->frame): the per-thread call
 * tree (struct ctree) is the only tree it looks nodes up in. A closed call's node is its
 * caller's child for its function; a caller without one yet gets it then, after its own
 * callers, outermost first (model_path): so nodes are made in the order their first calls
 * were entered, as an ENTRY walk makes them (a node is made at the first EXIT within its
 * call, after its callers' and before any node entered later).
 *
 * Each EXIT adds to its node only, and to its function only what a node cannot hold (the
 * count, shortest and longest, the percentile samples): a function's self and inclusive
 * times and waits are the sums over its nodes after the walk (model_sums), its outermost
 * activations' time that of its nodes with no ancestor of the same function (a node's
 * calls all have the same callers, so the reader's ev->nested of its first call holds for
 * every one). The hot table's edges and call tree are sums over nodes too (model_edges,
 * model_tree), not a second stack and two more hash lookups per call.
 */
struct mnode {				/* per call tree node, its calls' sums: one cache line */
	uint64_t calls;
	uint64_t self_ns;
	uint64_t total_ns;		/* inclusive time of its calls */
	uint64_t wait_ns[2];		/* off-CPU within self time: blocked, preempted */
	uint64_t blocked;		/* calls whose self time held a blocked wait */
	uint64_t whole_ns;		/* off-CPU time within its calls, both kinds */
	uint64_t first;			/* calls closed when its first closed (0: none yet) */
};

struct mlink {				/* per call tree node, where it is */
	uint32_t parent, func;		/* as struct ctree_node's */
	bool nested;			/* an outer activation of func is open in its calls */
};

/*
 * Most lookups of a node's child are the same few (parent, function) pairs again: a
 * direct-mapped cache in front of the tree's index answers them without hashing into it.
 */
#define MODEL_CACHE_BITS 15
struct mcache {
	uint64_t key;			/* ~(parent << 32 | func) (0: empty; no parent is
					 * UINT32_MAX) */
	uint32_t id;
};

struct mwalk {
	struct ctree *ct;
	struct model *m;
	struct collect c;		/* the function table (c.h) and off-CPU time */
	struct hot **tables;		/* per thread index (m->keep): its own function table */
	uint32_t ntables;
	struct hot *tcur;		/* the table of cur_thread, or NULL */
	int thread;			/* thread index walked, or -1 */
	struct mnode *mn;		/* per call tree node (mn_cap of them), 64-byte aligned */
	struct mlink *link;		/* the same */
	uint32_t mn_cap;
	struct mcache *cache;		/* (parent, func) -> child, direct-mapped */
	uint32_t cur_thread;		/* the thread of the last EXIT (UINT32_MAX: none yet) */
	struct walk_frame root;		/* its slot: the tree root of cur_thread (the caller of
					 * its calls at depth 0) */
};

static inline uint64_t model_key(uint32_t parent, uint32_t func)
{
	return ~((uint64_t)parent << 32 | func);
}

static inline uint32_t model_slot(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> (64 - MODEL_CACHE_BITS));
}

/* room for node @id in the walk's per-node arrays */
static void model_room(struct mwalk *w, uint32_t id)
{
	uint32_t cap = w->mn_cap;
	struct mnode *mn;

	if (id < cap)
		return;
	while (cap <= id)
		cap = cap ? cap * 2 : 256;
	mn = aligned_alloc(64, (size_t)cap * sizeof(*mn));
	if (!mn)
		pr_fatal("out of memory (%zu bytes)", (size_t)cap * sizeof(*mn));
	if (w->mn_cap)		/* the first has nothing to copy (and memcpy from NULL is undefined) */
		memcpy(mn, w->mn, (size_t)w->mn_cap * sizeof(*mn));
	memset(mn + w->mn_cap, 0, (size_t)(cap - w->mn_cap) * sizeof(*mn));
	free(w->mn);
	w->mn = mn;
	ARRAY_RESIZE(w->link, cap);
	w->mn_cap = cap;
}

/* a lookup the cache missed: the tree's index (a new node is numbered next) */
static __attribute__((noinline)) uint32_t model_child_slow(struct mwalk *w, uint32_t parent,
							   uint32_t func, struct mcache *e)
{
	struct ctree *ct = w->ct;
	struct xmap_val *v;
	bool created;

	v = xmap_put(&ct->index, (uint64_t)parent << 32 | ((uint64_t)func + 1), &created);
	if (created) {
		model_room(w, ct->nnodes);
		w->link[ct->nnodes] = (struct mlink){ .parent = parent, .func = func };
		v->w = ct->nnodes++;
	}
	*e = (struct mcache){ .key = model_key(parent, func), .id = v->w };
	return v->w;
}

/* the child of @parent for @func: from the lookup cache, else the tree's index */
static inline uint32_t model_child(struct mwalk *w, uint32_t parent, uint32_t func)
{
	uint64_t key = model_key(parent, func);
	struct mcache *e = &w->cache[model_slot(key)];

	if (__builtin_expect(e->key == key, 1))
		return e->id;
	return model_child_slow(w, parent, func, e);
}

/*
 * A call's caller and callee among the reader's open calls: the next own call down or up.
 * Calls a fork child inherited are not callers of its own (an ENTRY walk never sees them),
 * and the reader puts them outermost; this skips any it finds elsewhere (a damaged clock, a
 * crafted trace), as the ENTRY walk did. Only own calls get a node (slot).
 */
static inline struct walk_frame *own_caller(struct walk_frame *f)
{
	do
		f--;
	while (f->inherited);
	return f;
}

static inline struct walk_frame *own_callee(struct walk_frame *f)
{
	do
		f++;
	while (f->inherited);
	return f;
}

/*
 * the tree node of the open call @fr at depth @d of @ev's thread, which has none yet: its
 * callers' first, outermost first, down from the innermost of them that has one
 */
static __attribute__((noinline)) uint32_t model_path(struct mwalk *w, struct walk_frame *fr,
						     uint32_t d)
{
	struct walk_frame *f = fr;
	uint32_t k, up;

	for (k = 0; k < d; k++) {	/* d own calls lie below @fr */
		f = own_caller(f);
		if (f->slot)
			break;
	}
	if (f != fr && f->slot) {
		up = f->slot;
		f = own_callee(f);
	} else {			/* none has one: from the thread's root */
		up = w->root.slot;
	}
	for (;; f = own_callee(f)) {
		f->slot = model_child(w, up, f->func);
		if (f == fr)
			return f->slot;
		up = f->slot;
	}
}

/* the tree node of the call the EXIT @ev closed */
static inline uint32_t model_exit_node(struct mwalk *w, const struct trace_event *ev)
{
	struct walk_frame *fr = ev->frame;
	uint32_t up;

	if (fr->slot)		/* it had callees: made at the first's EXIT */
		return fr->slot;
	if (!ev->depth)
		up = w->root.slot;
	else if (__builtin_expect(fr[-1].slot != 0, 1))	/* own: only those get one */
		up = fr[-1].slot;
	else if (ev->depth >= 2 && fr[-2].slot && !fr[-1].inherited)	/* the caller's first
									 * callee */
		up = fr[-1].slot = model_child(w, fr[-2].slot, fr[-1].func);
	else
		return model_path(w, fr, ev->depth);
	return model_child(w, up, ev->func);
}

/* a closed call's off-CPU time (@wt: within its self time, @whole: within all of it) into @n */
static inline void model_add_wait(struct mnode *n, const uint64_t wt[2], uint64_t whole)
{
	n->whole_ns += whole;
	n->wait_ns[0] += wt[0];
	n->wait_ns[1] += wt[1];
	n->blocked += wt[0] != 0;
}

/*
 * the off-CPU time of the closed call @ev into its node @n (as add_wait): offcpu_exit_quiet's
 * case inline, where the compiler sees what it leaves at zero
 */
static inline __attribute__((always_inline)) void
model_wait(struct collect *c, const struct trace_event *ev, struct mnode *n)
{
	uint64_t wt[2], whole = 0;

	if (__builtin_expect(offcpu_exit_quiet(&c->acc, ev->thread, ev->depth, ev->entry_ns,
					       ev->ns, wt, &whole), 1)) {
		model_add_wait(n, wt, whole);
		return;
	}
	offcpu_exit(c->t, &c->acc, ev->thread, ev->depth, ev->entry_ns, ev->ns, wt, &whole);
	model_add_wait(n, wt, whole);
}

/* a node's first call: when it closed, and whether it was nested (model_sums) */
static __attribute__((noinline)) void model_first(struct mwalk *w, uint32_t id,
						  const struct trace_event *ev)
{
	w->mn[id].first = w->c.h->ncalls;
	w->link[id].nested = ev->nested;
}

/* the closed call @ev into the thread's own table @th: its count, extremes and samples (its
 * sums: model_sums) */
static __attribute__((noinline)) void model_thread_exit(struct hot *th,
							const struct trace_event *ev, uint64_t dur)
{
	struct hot_func *tf;

	if (ev->func >= th->cap)
		grow_funcs(th, ev->func + 1);
	tf = &th->funcs[ev->func];
	func_count(tf, dur);
	stat_add(tf, dur);
	th->ncalls++;
}

/*
 * A call closed: its tree node's numbers, and its function's count, extremes and samples.
 * The reader's EXIT carries the callees' time (ev->child_ns), which is what on_call and
 * ctree_event keep stacks for. With @threads, also into the thread's own table (w->tcur).
 */
static inline __attribute__((always_inline)) void
model_exit(struct mwalk *w, const struct trace_event *ev, bool threads)
{
	struct hot *h = w->c.h;
	uint64_t dur = ev->ns > ev->entry_ns ? ev->ns - ev->entry_ns : 0;
	uint64_t self = dur > ev->child_ns ? dur - ev->child_ns : 0;
	uint32_t id = model_exit_node(w, ev);
	struct mnode *n = &w->mn[id];
	struct hot_func *f;

	h->ncalls++;		/* ct->ncalls and ct->self_sum_ns: model_ct_funcs */
	if (__builtin_expect(!n->calls++, 0))
		model_first(w, id, ev);
	n->self_ns += self;
	n->total_ns += dur;
	if (h->switches)
		model_wait(&w->c, ev, n);
	if (__builtin_expect(ev->func >= h->cap, 0))
		grow_funcs(h, ev->func + 1);
	f = &h->funcs[ev->func];
	func_count(f, dur);
	if (f->hist)		/* stat_add's usual case, without the call */
		f->hist[hist_bucket(dur, HOT_HIST_SHIFT)]++;
	else
		stat_add(f, dur);
	if (threads)
		model_thread_exit(w->tcur, ev, dur);
}

/* model_event's every other case: another thread, or not an EXIT */
static __attribute__((noinline)) int model_slow(const struct trace_event *ev, struct mwalk *w)
{
	if (ev->type != EV_EXIT) {	/* the replay's (replay_log_want) */
		if (ev->type != EV_ENTRY)
			replay_log_add(w->c.t->memlog, w->c.t, ev);
		return 0;
	}
	if (w->thread >= 0 && ev->thread != (uint32_t)w->thread)
		return 0;
	w->cur_thread = ev->thread;	/* threads come one after another */
	/* its root: made at its first EXIT, before any node of its calls, as model_path
	 * would make it */
	w->root.slot = model_child(w, 0, CTREE_THREAD | ev->thread);
	if (w->m->keep) {
		ARRAY_GROW_ZERO(w->tables, w->ntables, ev->thread + 1);
		if (!w->tables[ev->thread]) {
			w->tables[ev->thread] = xcalloc(1, sizeof(struct hot));
			w->tables[ev->thread]->switches = w->c.h->switches;
			w->tables[ev->thread]->want = HOT_EDGES;
		}
		w->tcur = w->tables[ev->thread];
	}
	return 1;
}

/* The walk's callback: an EXIT of the thread before, or model_slow first. */
static int model_event(const struct trace_event *ev, void *ctx)
{
	struct mwalk *w = ctx;

	if (__builtin_expect(ev->type != EV_EXIT || ev->thread != w->cur_thread, 0) &&
	    !model_slow(ev, w))
		return 0;
	if (w->tcur)
		model_exit(w, ev, true);
	else
		model_exit(w, ev, false);
	return 0;
}

/* the tree's nodes (ct->nodes) from the walk's */
static void model_ct_nodes(struct mwalk *w)
{
	struct ctree *ct = w->ct;
	uint32_t i;

	ct->cap = ct->nnodes;
	ct->nodes = xcalloc(ct->cap + 1, sizeof(*ct->nodes));
	for (i = 1; i < ct->nnodes; i++) {
		const struct mnode *n = &w->mn[i];

		ct->nodes[i] = (struct ctree_node){ .parent = w->link[i].parent,
						    .func = w->link[i].func, .calls = n->calls,
						    .self_ns = n->self_ns,
						    .wait_ns = n->wait_ns[0] + n->wait_ns[1] };
	}
}

/*
 * The function table @h's sums from the nodes that closed a call (of those under thread
 * root @only when @root, each node's thread root, is given): self and inclusive times and
 * waits; outermost activations' (total_ns, wait_total_ns) from the nodes not nested.
 */
static void model_sums(struct mwalk *w, struct hot *h, const uint32_t *root, uint32_t only)
{
	const struct ctree *ct = w->ct;
	uint32_t i;

	for (i = 1; i < ct->nnodes; i++) {
		const struct mnode *n = &w->mn[i];
		const struct mlink *l = &w->link[i];
		struct hot_func *f;

		if ((l->func & CTREE_THREAD) || !n->calls || (root && root[i] != only))
			continue;
		f = &h->funcs[l->func];	/* < h->cap: its calls grew the table */
		f->self_ns += n->self_ns;
		f->sum_ns += n->total_ns;
		f->wait_ns[0] += n->wait_ns[0];
		f->wait_ns[1] += n->wait_ns[1];
		f->blocked_calls += n->blocked;
		if (!l->nested) {
			f->total_ns += n->total_ns;
			f->wait_total_ns += n->whole_ns;
		}
	}
}

static uint64_t *sort_first;		/* cmp_first's keys */

static int cmp_first(const void *a, const void *b)
{
	uint64_t x = sort_first[*(const uint32_t *)a], y = sort_first[*(const uint32_t *)b];

	return x < y ? -1 : x > y;
}

/*
 * The hot table @h's edges from the tree: one per (caller, callee) of the nodes that closed
 * a call (of those under thread root @only when @root, each node's thread root, is given),
 * numbered in the order their first call closed (hot_collect makes them at EXITs).
 */
static void model_edges(struct mwalk *w, struct hot *h, const uint32_t *root, uint32_t only)
{
	const struct ctree *ct = w->ct;
	struct idmap map = { 0 };
	uint64_t *first = xmalloc((ct->nnodes + 1) * sizeof(*first));
	struct hot_edge *e, *sorted;
	uint32_t i, *order;

	for (i = 1; i < ct->nnodes; i++) {
		const struct ctree_node *nd = &ct->nodes[i];
		const struct ctree_node *p = &ct->nodes[nd->parent];
		uint32_t caller = p->func & CTREE_THREAD || !nd->parent ? HOT_ROOT : p->func;
		uint32_t id;
		bool created;

		if ((nd->func & CTREE_THREAD) || !nd->calls || (root && root[i] != only))
			continue;
		id = map_get(&map, (uint64_t)caller << 32 | nd->func, h->nedges, &created);
		if (created) {
			ARRAY_ROOM(h->edges, h->edges_cap, h->nedges);
			h->edges[id] = (struct hot_edge){ .caller = caller, .callee = nd->func };
			first[id] = w->mn[i].first;
			h->nedges++;
		}
		e = &h->edges[id];
		e->calls += nd->calls;
		e->total_ns += w->mn[i].total_ns;
		e->self_ns += nd->self_ns;
		e->wait_ns += nd->wait_ns;
		if (w->mn[i].first < first[id])
			first[id] = w->mn[i].first;
	}
	order = xmalloc((h->nedges + 1) * sizeof(*order));
	for (i = 0; i < h->nedges; i++)
		order[i] = i;
	sort_first = first;
	qsort(order, h->nedges, sizeof(*order), cmp_first);
	sorted = xmalloc((h->nedges + 1) * sizeof(*sorted));
	for (i = 0; i < h->nedges; i++)
		sorted[i] = h->edges[order[i]];
	free(h->edges);
	h->edges = sorted;
	h->edges_cap = h->nedges + 1;
	idmap_free(&map);
	free(order);
	free(first);
}

/*
 * The hot table's call tree from the per-thread one: the same path below each thread's
 * root is one node. Nodes are numbered as hot_collect numbers them (in the order their
 * first call was entered), which is the order of the tree's node ids.
 */
static void model_tree(struct mwalk *w)
{
	const struct ctree *ct = w->ct;
	struct collect *c = &w->c;
	struct hot *h = c->h;
	uint32_t *to = xcalloc(ct->nnodes + 1, sizeof(*to)), i;

	for (i = 1; i < ct->nnodes; i++) {
		const struct ctree_node *nd = &ct->nodes[i];
		struct hot_node *hn;

		if (nd->func & CTREE_THREAD)
			continue;	/* to[i] = 0: the hot tree's root */
		to[i] = node_of(c, to[nd->parent], nd->func);
		hn = &h->nodes[to[i]];
		hn->calls += nd->calls;
		hn->total_ns += w->mn[i].total_ns;
		hn->self_ns += nd->self_ns;
		hn->wait_ns += nd->wait_ns;
	}
	free(to);
}

/*
 * ct->funcs, the tree's per-function totals: the function table's (the same calls); and the
 * tree's call count and sum of self times.
 */
static void model_ct_funcs(struct mwalk *w)
{
	struct ctree *ct = w->ct;
	const struct hot *h = w->c.h;
	uint32_t i;

	ct->ncalls = h->ncalls;
	for (i = 1; i < ct->nnodes; i++)
		ct->self_sum_ns += ct->nodes[i].self_ns;

	ct->nfuncs = h->nfuncs;
	ct->funcs = xcalloc(ct->nfuncs + 1, sizeof(*ct->funcs));
	for (i = 0; i < h->nfuncs; i++) {
		const struct hot_func *f = &h->funcs[i];

		ct->funcs[i] = (struct func_stat){ .calls = f->calls, .total_ns = f->total_ns,
						   .self_ns = f->self_ns, .min_ns = f->min_ns,
						   .max_ns = f->max_ns };
	}
}

/* ---- the threads' own function tables ---- */

/** model_busy - see model.h. */
uint64_t *model_busy(const struct ctree *ct, uint32_t nthreads, bool cpu)
{
	uint64_t *busy = xcalloc(nthreads + 1, sizeof(*busy));
	uint32_t *root = xcalloc(ct->nnodes + 1, sizeof(*root)), i;

	/* root[i]: thread index + 1 of node i's thread root (parents come first) */
	for (i = 1; i < ct->nnodes; i++) {
		const struct ctree_node *nd = &ct->nodes[i];
		uint32_t th = nd->func & ~CTREE_THREAD;

		if (nd->func & CTREE_THREAD)
			root[i] = th < nthreads ? th + 1 : 0;
		else
			root[i] = root[nd->parent];
		if (root[i])	/* + 1: a thread of calls that took no time still counts */
			busy[root[i] - 1] += ctree_self(nd, cpu) + !!(nd->func & CTREE_THREAD);
	}
	free(root);
	return busy;
}

static int by_busy(const void *a, const void *b, void *arg)
{
	const uint64_t *busy = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (busy[x] != busy[y])
		return busy[x] > busy[y] ? -1 : 1;
	return x < y ? -1 : 1;
}

/** model_busiest - see model.h. */
uint32_t model_busiest(const uint64_t *busy, uint32_t nthreads, uint32_t *order)
{
	uint32_t i, n = 0;

	for (i = 0; i < nthreads; i++)
		if (busy[i])
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), by_busy, (void *)busy);
	return n;
}

/*
 * After the walk: the tables of the m->keep busiest threads (model_busiest's order) get
 * their edges from the tree and go to m->threads, in thread order; the others are freed.
 */
static void model_keep_threads(struct mwalk *w, struct trace *t, bool cpu)
{
	struct model *m = w->m;
	const struct ctree *ct = w->ct;
	uint32_t nt = t->nthreads, i, n, k;
	uint64_t *busy = model_busy(ct, nt, cpu);
	uint32_t *order = xmalloc((nt + 1) * sizeof(*order));
	uint32_t *root = xcalloc(ct->nnodes + 1, sizeof(*root));	/* node's thread root */
	uint32_t *root_of = xcalloc(nt + 1, sizeof(*root_of));	/* thread -> its root */
	uint8_t *keep = xcalloc(w->ntables + 1, 1);

	for (i = 1; i < ct->nnodes; i++) {
		const struct ctree_node *nd = &ct->nodes[i];
		uint32_t th = nd->func & ~CTREE_THREAD;

		root[i] = nd->func & CTREE_THREAD ? i : root[nd->parent];
		if ((nd->func & CTREE_THREAD) && th < nt)
			root_of[th] = i;
	}
	n = model_busiest(busy, nt, order);
	for (k = 0; k < n && k < m->keep; k++)
		if (order[k] < w->ntables && w->tables[order[k]])
			keep[order[k]] = 1;
	m->threads = xcalloc(m->keep + 1, sizeof(*m->threads));
	for (i = 0; i < w->ntables; i++) {
		struct hot *h = w->tables[i];

		if (h && keep[i]) {
			model_sums(w, h, root, root_of[i]);
			model_edges(w, h, root, root_of[i]);
			if (t->nfuncs > h->cap)
				grow_funcs(h, t->nfuncs);
			h->nfuncs = t->nfuncs;
			m->threads[m->nthreads++] = (struct model_thread){ i, *h };
		} else if (h) {
			hot_free(h);
		}
		free(h);
	}
	free(keep);
	free(root_of);
	free(root);
	free(order);
	free(busy);
}

/** model_thread_hot - thread index @thread's own table (model_build's @keep), or NULL */
struct hot *model_thread_hot(struct model *m, uint32_t thread)
{
	uint32_t i;

	for (i = 0; i < m->nthreads; i++)
		if (m->threads[i].thread == thread)
			return &m->threads[i].hot;
	return NULL;
}

/**
 * model_build - fill @m (zeroed here) in one walk of the calls of thread index @thread (-1:
 * every thread): the call tree with per-thread roots (m->ct, as ctree_build(@t, @thread,
 * true, true), off-CPU time in its nodes' wait_ns) and the function table, edges and call
 * tree (m->hot, as hot_collect(@t, @thread, @want)); with @keep (and @thread -1), the own
 * function table and edges of the @keep busiest threads (m->threads: as hot_collect(@t,
 * thread index, HOT_EDGES) gives them; busiest by CPU time when the trace has off-CPU time
 * and not @wall; during the walk every thread with calls has its table, the others are
 * freed after it). Return: 0, or -1 when the walk failed (reported); free @m with
 * model_free either way.
 */
int model_build(struct trace *t, int thread, unsigned want, uint32_t keep, bool wall,
		struct model *m)
{
	struct mwalk w = { .ct = &m->ct, .m = m, .c = { .h = &m->hot, .t = t }, .thread = thread };
	uint32_t i;
	bool log;
	int rc;

	memset(m, 0, sizeof(*m));
	m->thread = thread;
	m->keep = thread < 0 ? keep : 0;
	m->ct.nnodes = 1;			/* node 0: the root, never looked up */
	model_room(&w, 0);
	w.link[0] = (struct mlink){ 0 };
	w.cache = xcalloc(1U << MODEL_CACHE_BITS, sizeof(*w.cache));
	w.cur_thread = UINT32_MAX;
	if (collect_begin(&w.c, want) < 0) {
		rc = -1;
		goto out;
	}
	m->ct.switches = m->hot.switches;
	/* every thread is decoded even for one: modules and names are learned from them all;
	 * the memory events go to the replay's log when a replay follows (replay_log_want) */
	log = t->memlog && !t->memlog->complete;
	rc = trace_walk(t, WALK_EXITS | (log ? WALK_MEMORY : 0), -1, model_event, &w);
	if (!rc && log)
		t->memlog->complete = true;
	model_ct_nodes(&w);
	if (!rc)
		model_sums(&w, &m->hot, NULL, 0);
	if (!rc && (want & HOT_EDGES))
		model_edges(&w, &m->hot, NULL, 0);
	if (!rc && m->keep)
		model_keep_threads(&w, t, m->hot.switches && !wall);
	if (!rc && (want & HOT_TREE))
		model_tree(&w);	/* before collect_end: it numbers nodes through c's map */
	collect_end(&w.c);
	if (!rc)
		model_ct_funcs(&w);
out:
	if (!m->ct.nodes)
		model_ct_nodes(&w);
	for (i = 0; rc && i < w.ntables; i++) {	/* model_keep_threads took them */
		if (w.tables[i])
			hot_free(w.tables[i]);
		free(w.tables[i]);
	}
	free(w.tables);
	free(w.cache);
	free(w.mn);
	free(w.link);
	return rc ? -1 : 0;
}

/* model_free - release what model_build made and zero @m. */
void model_free(struct model *m)
{
	uint32_t i;

	for (i = 0; i < m->nthreads; i++)
		hot_free(&m->threads[i].hot);
	free(m->threads);
	ctree_free(&m->ct);
	hot_free(&m->hot);
	memset(m, 0, sizeof(*m));
}
