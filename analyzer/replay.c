// SPDX-License-Identifier: MIT
/*
 * The memory replay (replay.h): the malloc-family events of a trace in global time order
 * (WALK_MERGED), keeping only live blocks and per-stack aggregates, with stops where a report
 * looks at the state between events (`diff` at two marks, `timeline` at time steps).
 *
 * Accounting (the text output's legend says the same):
 *   - malloc/calloc/memalign/... and realloc(NULL, n): one allocation of its size;
 *   - realloc(p, n) -> q: one allocation of n (block q, appearing at ev.ns2) and one free of
 *     p (leaving at ev.ns), also when q == p (resized in place);
 *   - realloc(p, 0) that returned NULL: one free of p, no allocation;
 *   - a free (or a realloc's old block) of a pointer with no live block is an unknown free
 *     (allocated before recording started, or its allocation was lost): counted, never
 *     matched, not in `frees`. So allocations - frees == blocks still live at the end.
 *   - temporary allocation (heaptrack's definition, per thread): a block freed by the thread
 *     that allocated it before that thread allocated anything else. A realloc's old block is
 *     not temporary (its contents live on); realloc(p, 0) is a free and may be.
 *
 * Time order: the recorder reads a free's time before the real free and an allocation's
 * after the real allocator returns, both fenced, so a block freed on one thread and handed
 * out again on another, or allocated on one and freed on another, pairs correctly in the
 * merged order (the reader merges by clock ticks, not by rounded ns). What remains is the
 * clock's error across cores (REPLAY_PAIR_NS, docs/design.md "Clock"), and within it the
 * replay pairs by causality: a free of an address that is not live is held back that long,
 * and an allocation of that address by another thread meanwhile is the block it freed
 * (pair_defer); a free that comes that soon after its address was allocated again while
 * still live, from another thread than the new block's, releases the older block (the
 * displaced one), not the new one. Only a free still unmatched after the window is an
 * unknown free. A realloc has two times, and whichever one
 * the reader orders it by, both of its halves pair exactly: its new block is held back in a
 * small pending list until the replay reaches ns2 (so a free of that address by another
 * thread before ns2 still releases the older block), and when its old address was allocated
 * again by another thread between ns and the realloc's delivery, the old block (set aside
 * at that allocation) is the one it releases. The live total follows the delivery order:
 * with reallocs delivered at ns2, bytes another thread allocates during a realloc's own
 * (ns, ns2) window count with the old block still live.
 *
 * The peak and its holders are exact in one pass: when the live total reaches a new maximum
 * the "peak epoch" advances; each stack aggregate saves its live bytes/blocks the first time
 * it changes after that (a lazy snapshot), so its value at the last peak is either the saved
 * one or, if unchanged since, its current one. No per-event storage: memory is the live block
 * table (56 bytes per slot, at most half full) plus one aggregate per distinct stack.
 *
 * Stops: before delivering an event later than the next stop, the pending realloc blocks due
 * by the stop are applied and the stop's callback runs; events at the stop's own time come
 * before it. docs/memory-diff.md shows how `diff` and `timeline` use them.
 */
#define PR_FMT "replay"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/json.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/replay.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

/*
 * A block still live when its address was allocated again: its release was lost, or is a
 * realloc's that the reader delivers late (a realloc may be ordered by ns2 while its old
 * block left at ns). Kept aside until such a realloc claims it; the rest are lost frees.
 */
struct replay_displaced {
	struct replay_blk b;
	uint64_t ns;			/* when the address was allocated again */
};

/* A free (or a realloc's release) of an address with no live block, within the window. */
struct replay_defer {
	uint64_t ptr, ns;
	uint32_t thread;
	bool as_free;
};

/* A realloc's new block waiting for its time (ns2) in the merged order. */
struct replay_pend {
	uint64_t ns2, ptr, size;
	uint32_t stack, thread;
};

/* ---- the live block table (replay.h: an hmap keyed by the block's address) ---- */

static void live_init(struct replay_live *l)
{
	replay_live_init(l, 1024);
}

static void live_grow(struct replay_live *l)
{
	replay_live_grow(l);
}

/* The slot of @ptr, or of the empty slot where it would go. */
static inline struct replay_blk *live_slot(const struct replay_live *l, uint64_t ptr)
{
	return replay_live_slot(l, ptr);
}

static void live_del(struct replay_live *l, struct replay_blk *b)
{
	replay_live_del(l, b);
}

/* ---- the replay ---- */

/* agg of a block that counts nowhere (another thread's, with one_thread) */
#define AGG_NONE UINT32_MAX

/* Do the blocks @thread allocates (its reallocs, unknown frees) count? */
static inline bool counted(const struct replay *r, uint32_t thread)
{
	return !r->one_thread || thread == r->thread;
}

static inline uint32_t group_of(struct replay *r, uint32_t stack);

/* The index in r->aggs of a block of stack @stack (made where missing). */
static inline uint32_t agg_get(struct replay *r, uint32_t stack)
{
	uint32_t id = stack;

	if (r->map)
		id = stack < r->nmap ? r->map[stack] : 0;
	else if (r->by_group)
		id = group_of(r, stack);
	ARRAY_GROW_ZERO(r->aggs, r->naggs, (size_t)id + 1);
	return id;
}

static inline uint64_t *thread_seq(struct replay *r, uint32_t thread)
{
	ARRAY_GROW_ZERO(r->tseq, r->nthreads, (size_t)thread + 1);
	return &r->tseq[thread];
}

/*
 * The hot functions below take @plain, a constant where they are inlined (always_inline):
 * nonzero for a replay with none of one_thread, per_thread, sampling or a change hook
 * (replay_run sets r->plain), so that the compiler drops what such a replay never does:
 * every block then counts once with no variance. PLAIN_ONE: plain, and each block counts in
 * one aggregate only (no groups, or by_group), with no free held back: replay_event_one's
 * fast path. The other replays take the general path; all give the same results where
 * their conditions hold.
 */
#define HOT static inline __attribute__((always_inline))
#define PLAIN_ONE 2u

/* Save @a's live values for the last peak before the first change since it (see top). */
static inline void touch(struct replay *r, struct replay_agg *a)
{
	if (a->snap_epoch != r->epoch) {
		a->snap_bytes = a->live_bytes;
		a->snap_blocks = a->live_blocks;
		a->snap_epoch = r->epoch;
	}
}

static inline unsigned bucket(uint64_t size)
{
	return size ? 64 - (unsigned)__builtin_clzll(size) : 0;
}

/* ---- groups (replay.h): a block counts in its stack's, group's and (thread, group)'s ---- */

#define REPLAY_LEVELS 3

/* group_of's first time for @stack: asked of the caller */
static __attribute__((noinline)) uint32_t group_new(struct replay *r, uint32_t stack)
{
	uint32_t g;

	ARRAY_GROW_ZERO(r->sgroup, r->nsgroup, (size_t)stack + 1);
	g = r->group(r, stack, r->arg);
	r->sgroup[stack] = g + 1;
	if (!r->by_group)	/* by_group: the aggs are the groups' */
		ARRAY_GROW_ZERO(r->gaggs, r->ngaggs, (size_t)g + 1);
	return g;
}

/* The group of stack @stack, asked of the caller the first time. */
static inline uint32_t group_of(struct replay *r, uint32_t stack)
{
	if (__builtin_expect(stack < r->nsgroup && r->sgroup[stack], 1))
		return r->sgroup[stack] - 1;
	return group_new(r, stack);
}

static inline uint64_t cell_key(uint32_t thread, uint32_t group)
{
	return (uint64_t)(thread + 1ULL) << 32 | group;
}

/* The (thread, group) aggregate of a block of stack @stack being allocated: made on first use. */
static void cell_alloc(struct replay *r, uint32_t thread, uint32_t group, uint32_t stack)
{
	struct replay_cell *c;
	bool created;

	c = replay_cells_put(&r->cells, cell_key(thread, group), &created);
	if (!created) {
		if (stack < c->first)
			c->first = stack;
		return;
	}
	c->agg = r->ntaggs;
	c->first = stack;
	ARRAY_ROOM(r->taggs, r->tcap, r->ntaggs);
	memset(&r->taggs[r->ntaggs++], 0, sizeof(*r->taggs));
}

/** replay_cell_agg - see replay.h; *@first (may be NULL): the least stack id in it. */
const struct replay_agg *replay_cell_agg(const struct replay *r, uint32_t thread, uint32_t group,
					 uint32_t *first)
{
	const struct replay_cell *c = replay_cells_get(&r->cells, cell_key(thread, group));

	if (c && first)
		*first = c->first;
	return c ? &r->taggs[c->agg] : NULL;
}

/* The counts of @thread (per_thread), else NULL. */
static inline struct replay_counts *tcounts(struct replay *r, uint32_t thread)
{
	if (!r->per_thread)
		return NULL;
	ARRAY_GROW_ZERO(r->tcounts, r->ntcounts, (size_t)thread + 1);
	return &r->tcounts[thread];
}

/* The aggregates block @b counts in, into @a. Return: how many (0: it counts nowhere). */
HOT unsigned blk_aggs(struct replay *r, const struct replay_blk *b, struct replay_agg **a,
		      const unsigned plain)
{
	uint32_t g;

	if (plain == PLAIN_ONE) {	/* a plain replay's blocks all count (see do_alloc_t) */
		a[0] = &r->aggs[b->agg];
		return 1;
	}
	if (b->agg == AGG_NONE)
		return 0;
	a[0] = &r->aggs[b->agg];
	if (!r->group || r->by_group)
		return 1;
	g = r->sgroup[b->agg] - 1;	/* no map with groups: agg is the stack id */
	a[1] = &r->gaggs[g];
	if (plain || !r->per_thread)
		return 2;
	a[2] = &r->taggs[replay_cells_get(&r->cells, cell_key(b->thread, g))->agg];
	return 3;
}

/* Take block @b out of the live state (not counted as a free). */
HOT void unlive_t(struct replay *r, const struct replay_blk *b, const unsigned plain)
{
	struct replay_agg *as[REPLAY_LEVELS];
	unsigned i, n = blk_aggs(r, b, as, plain);

	for (i = 0; i < n; i++) {
		struct replay_agg *a = as[i];

		touch(r, a);
		a->live_bytes -= b->size;
		a->live_blocks -= b->count;
		if (!plain)
			a->live_var -= b->var;
	}
	r->live_bytes -= b->size;
	r->live_blocks -= b->count;
	if (!plain)
		r->live_var -= b->var;
}

/* ---- sampled traces (replay.h, docs/sampling.md) ---- */

/* The probability that an allocation of @size bytes was sampled. */
static double sample_p(uint64_t mean, uint64_t size)
{
	return -expm1(-(double)size / (double)mean);
}

/** replay_weight - bytes a sampled allocation of @size stands for: size / p (0 for size 0). */
double replay_weight(uint64_t mean, uint64_t size)
{
	if (!mean)
		return (double)size;
	return size ? (double)size / sample_p(mean, size) : 0;
}

/** replay_weight_var - its variance term w(w - size): the estimator's variance, summed. */
double replay_weight_var(uint64_t mean, uint64_t size)
{
	double w = replay_weight(mean, size);

	return w * (w - (double)size);
}

/**
 * replay_weight_count - the allocations a sampled one of @size stands for (1/p), rounded to
 * the nearest whole number: for a consumer that keeps one count per event. The replay's own
 * counts use the unbiased form below (sample_count).
 */
uint64_t replay_weight_count(uint64_t mean, uint64_t size)
{
	if (!mean || !size)
		return 1;
	return (uint64_t)llround(1 / sample_p(mean, size));
}

/*
 * The count of one sampled block: 1/p is rarely whole (1.58 for 512 KiB at a 512 KiB mean),
 * and rounding each one would bias the total; so floor(1/p) plus one with probability its
 * fraction, drawn from a hash of the block's thread, its place in that thread's allocations
 * and its size: unbiased, the same on every replay of the trace, and the same for two runs
 * that sampled the same allocations (addresses would differ from run to run).
 */
static uint64_t sample_count(uint64_t mean, uint64_t size, uint32_t thread, uint64_t seq)
{
	double inv, fl;
	uint64_t h;

	if (!size)
		return 1;
	inv = 1 / sample_p(mean, size);
	fl = floor(inv);
	h = (seq + ((uint64_t)thread << 40)) * 0x9E3779B97F4A7C15ULL ^ size * 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 31;
	h *= 0x94D049BB133111EBULL;
	h ^= h >> 29;
	return (uint64_t)fl + ((double)(h >> 11) * (1.0 / 9007199254740992.0) < inv - fl);
}

static void do_release(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t ns,
		       bool as_free);

/*
 * An allocation of @ptr by @thread at @ns: a free of @ptr held back (pair_defer) from
 * another thread, less than REPLAY_PAIR_NS before, was in fact after it (the clocks of two
 * cores disagree by up to that much): it releases the new block now.
 */
static void pair_defer(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t ns)
{
	uint32_t i;

	for (i = 0; i < r->ndefer; i++) {
		struct replay_defer d = r->defer[i];

		if (d.ptr != ptr || d.thread == thread || d.ns + REPLAY_PAIR_NS < ns)
			continue;
		r->defer[i] = r->defer[--r->ndefer];
		do_release(r, d.thread, ptr, ns, d.as_free);
		return;
	}
}

/* A free by @thread of a block never seen allocated. */
static void count_unknown(struct replay *r, uint32_t thread)
{
	struct replay_counts *tc = tcounts(r, thread);

	r->unknown_frees += counted(r, thread);
	if (tc)
		tc->unknown_frees++;
}

/*
 * Held-back frees older than the window before @ns (all of them: UINT64_MAX) are unknown
 * frees. Called before each event while some are held: the oldest one's time (defer_min)
 * makes that one compare.
 */
static void defer_expire(struct replay *r, uint64_t ns)
{
	uint64_t min = UINT64_MAX;
	uint32_t i;

	if (ns != UINT64_MAX && r->defer_min + REPLAY_PAIR_NS >= ns)
		return;
	for (i = 0; i < r->ndefer;) {
		const struct replay_defer *d = &r->defer[i];

		if (ns != UINT64_MAX && d->ns + REPLAY_PAIR_NS >= ns) {
			min = d->ns < min ? d->ns : min;
			i++;
			continue;
		}
		count_unknown(r, d->thread);
		r->defer[i] = r->defer[--r->ndefer];
	}
	r->defer_min = min;
}

/*
 * An allocation no process can make: all its live blocks must fit in the address space,
 * and no run allocates 2^64 bytes. Crafted values that pass the checksums reach here (each
 * size is checked by the reader): such an allocation is counted and left out, so that no
 * total wraps. Return: true when @size must be left out.
 */
static bool impossible(struct replay *r, uint64_t size)
{
	if (r->live_bytes + size <= TRACE_SIZE_MAX && r->bytes_alloc + size >= r->bytes_alloc)
		return false;
	r->impossible++;
	return true;
}

/*
 * A counted allocation of @size bytes (@count blocks, variance @var; histogram bucket @k,
 * of the size recorded) by @thread from stack @stack: the totals, and its aggregates made
 * where missing. Return: the index in r->aggs of the stack's (the site's, with a map or
 * by_group).
 */
HOT uint32_t count_alloc(struct replay *r, uint32_t thread, uint32_t stack, uint64_t size,
			 uint64_t count, double var, unsigned k, const unsigned plain)
{
	uint32_t a = agg_get(r, stack);
	struct replay_counts *tc = plain ? NULL : tcounts(r, thread);

	if (plain != PLAIN_ONE && r->group && !r->by_group) {
		uint32_t g = group_of(r, stack);

		if (!plain && r->per_thread)
			cell_alloc(r, thread, g, stack);
	}
	r->allocs += count;
	r->bytes_alloc += size;
	r->hist_count[k] += count;
	r->hist_bytes[k] += size;
	if (!plain) {
		r->bytes_var += var;
		r->samples += r->sample_mean != 0;
	}
	if (tc) {
		tc->allocs += count;
		tc->bytes_alloc += size;
		tc->hist_count[k] += count;
		tc->hist_bytes[k] += size;
	}
	return a;
}

HOT void do_alloc_t(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t size,
		    uint32_t stack, uint64_t ns, const unsigned plain)
{
	struct replay_agg *a, *as[REPLAY_LEVELS];
	uint32_t ai = AGG_NONE;
	uint64_t *seq = thread_seq(r, thread);
	struct replay_blk *b;
	unsigned k = bucket(size), l, nl;
	uint64_t count = 1;
	double var = 0;

	if (!ptr)
		return;
	if (!plain && r->sample_mean) {
		/* the block stands for its weight in bytes and blocks (see replay_weight) */
		uint64_t raw = size;

		if (raw > TRACE_SIZE_MAX)
			raw = TRACE_SIZE_MAX;
		size = (uint64_t)llround(replay_weight(r->sample_mean, raw));
		var = replay_weight_var(r->sample_mean, raw);
		count = sample_count(r->sample_mean, raw, thread, *seq);
	}
	if (impossible(r, size))
		return;
	++*seq;
	if (plain || counted(r, thread))
		ai = count_alloc(r, thread, stack, size, count, var, k, plain);

	b = live_slot(&r->live, ptr);
	if (b->ptr) {
		/* still live: set it aside (see struct replay_displaced) */
		unlive_t(r, b, plain);
		if (r->ndisp == r->dcap && r->ndisp_live * 2 < r->ndisp) {
			/* drop the claimed ones, keeping the order */
			uint32_t i, n = 0;

			for (i = 0; i < r->ndisp; i++)
				if (r->disp[i].b.ptr)
					r->disp[n++] = r->disp[i];
			r->ndisp = n;
		}
		ARRAY_ROOM(r->disp, r->dcap, r->ndisp);
		r->disp[r->ndisp].b = *b;
		r->disp[r->ndisp++].ns = ns;
		r->ndisp_live++;
	} else {
		if (2 * (r->live.n + 1) > r->live.mask + 1) {
			live_grow(&r->live);
			b = live_slot(&r->live, ptr);
		}
		r->live.n++;
	}
	b->ptr = ptr;
	b->size = size;
	b->seq = *seq;
	b->ns = ns;
	b->agg = ai;
	b->thread = thread;
	b->count = count;
	b->var = var;

	nl = blk_aggs(r, b, as, plain);
	for (l = 0; l < nl; l++) {
		a = as[l];
		a->allocs += count;
		a->bytes += size;
		touch(r, a);
		a->live_bytes += size;
		a->live_blocks += count;
		if (!plain) {
			a->bytes_var += var;
			a->live_var += var;
		}
		if (a->live_bytes > a->peak_bytes)
			a->peak_bytes = a->live_bytes;
	}
	r->live_bytes += size;
	r->live_blocks += count;
	if (!plain)
		r->live_var += var;
	if (r->live_blocks > r->live_max)
		r->live_max = r->live_blocks;
	if (r->live_bytes > r->peak_bytes) {
		r->peak_bytes = r->live_bytes;
		r->peak_blocks = r->live_blocks;
		r->peak_ns = ns;
		r->peak_var = r->live_var;
		r->epoch++;
	}
	if (!plain && r->change)
		r->change(r, ns, r->arg);
	if (plain != PLAIN_ONE && r->ndefer)	/* (replay_event_one: none held back) */
		pair_defer(r, thread, ptr, ns);
}

static void do_alloc(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t size,
		     uint32_t stack, uint64_t ns)
{
	if (r->plain)
		do_alloc_t(r, thread, ptr, size, stack, ns, true);
	else
		do_alloc_t(r, thread, ptr, size, stack, ns, false);
}

/* Block @b was freed (@temporary: before its thread allocated again): count it. */
HOT void count_free_t(struct replay *r, const struct replay_blk *b, bool temporary,
		      const unsigned plain)
{
	struct replay_agg *as[REPLAY_LEVELS];
	struct replay_counts *tc;
	unsigned i, n = blk_aggs(r, b, as, plain);

	if (!n)
		return;
	r->frees += b->count;
	r->bytes_freed += b->size;
	r->temporary += temporary;
	for (i = 0; i < n; i++) {
		as[i]->frees += b->count;
		as[i]->freed_bytes += b->size;
		as[i]->temporary += temporary;
	}
	if (!plain && (tc = tcounts(r, b->thread))) {
		tc->frees += b->count;
		tc->bytes_freed += b->size;
		tc->temporary += temporary;
	}
}

static void count_free(struct replay *r, const struct replay_blk *b, bool temporary)
{
	count_free_t(r, b, temporary, false);
}

/*
 * @thread released @ptr at @ns: if a block at @ptr was set aside because the address was
 * allocated again, that block is the one released when the address was allocated again
 * after @ns (a realloc delivered at its ns2), or less than REPLAY_PAIR_NS before @ns by
 * another thread than @thread (its clock ran ahead of ours: see the file header).
 * Return: true when it was claimed (and counted as freed).
 */
static bool claim_displaced(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t ns)
{
	const struct replay_blk *now = NULL;
	uint32_t i;

	/* newest first: the list is in the order of the allocations that displaced them */
	for (i = r->ndisp; i-- > 0;) {
		struct replay_blk *b = &r->disp[i].b;
		uint64_t at = r->disp[i].ns;

		if (at + REPLAY_PAIR_NS < ns)
			break;
		if (b->ptr != ptr)
			continue;
		if (at < ns) {
			if (!now)
				now = live_slot(&r->live, ptr);
			if (!now->ptr || now->thread == thread)
				continue;
		}
		count_free(r, b, false);
		b->ptr = 0;		/* claimed: the order of the others stays */
		r->ndisp_live--;
		return true;
	}
	return false;
}

/*
 * Release @ptr freed by @thread at @ns; @as_free: a free (or realloc to 0), may be
 * temporary.
 */
HOT void do_release_t(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t ns,
		      bool as_free, const unsigned plain)
{
	struct replay_blk *b = live_slot(&r->live, ptr);

	if (!b->ptr) {
		/* not live (yet): held back for an allocation within the window (pair_defer) */
		ARRAY_ROOM(r->defer, r->fcap, r->ndefer);
		r->defer[r->ndefer++] = (struct replay_defer){ ptr, ns, thread, as_free };
		r->fast_end = 0;	/* replay_event_one: see fast_end */
		if (r->ndefer == 1 || ns < r->defer_min)
			r->defer_min = ns;
		return;
	}
	/* under sampling the allocations between two samples are unseen: not temporary */
	count_free_t(r, b, as_free && (plain || !r->sample_mean) && b->thread == thread &&
			   *thread_seq(r, thread) == b->seq, plain);
	unlive_t(r, b, plain);
	live_del(&r->live, b);
	if (!plain && r->change)
		r->change(r, ns, r->arg);
}

static void do_release(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t ns,
		       bool as_free)
{
	if (r->plain)
		do_release_t(r, thread, ptr, ns, as_free, true);
	else
		do_release_t(r, thread, ptr, ns, as_free, false);
}

static void pend_apply(struct replay *r, uint32_t i)
{
	struct replay_pend p = r->pend[i];

	r->pend[i] = r->pend[--r->npend];
	do_alloc(r, p.thread, p.ptr, p.size, p.stack, p.ns2);
}

/*
 * Apply the pending realloc blocks due before an event at @ns of @thread, oldest first:
 * those from before @ns, and those of the same thread at @ns (its own order is known).
 */
static void pend_drain(struct replay *r, uint64_t ns, uint32_t thread)
{
	for (;;) {
		uint32_t i, best = UINT32_MAX;

		for (i = 0; i < r->npend; i++) {
			const struct replay_pend *p = &r->pend[i];

			if (p->ns2 > ns || (p->ns2 == ns && p->thread != thread))
				continue;
			if (best == UINT32_MAX || p->ns2 < r->pend[best].ns2)
				best = i;
		}
		if (best == UINT32_MAX)
			return;
		pend_apply(r, best);
	}
}

/* A free of @ptr found no live block: if a pending realloc made it (same time), apply it. */
static void pend_take(struct replay *r, uint64_t ptr)
{
	uint32_t i;

	if (live_slot(&r->live, ptr)->ptr)
		return;
	for (i = 0; i < r->npend; i++)
		if (r->pend[i].ptr == ptr) {
			pend_apply(r, i);
			return;
		}
}

/*
 * Reach the stops due before an event at @ns: apply what is due at each, then call it. The
 * held-back frees that event expires expire first, as they do before it without stops: a
 * stop only looks, the replay's results are the same with or without them.
 */
static void run_stops(struct replay *r, uint64_t ns)
{
	if (r->ndefer)
		defer_expire(r, ns);
	while (r->next_stop < ns) {
		uint64_t at = r->next_stop;

		if (r->npend)
			pend_drain(r, at + 1, UINT32_MAX);
		r->next_stop = r->stop(r, at, r->arg);
		if (r->next_stop <= at && r->next_stop != UINT64_MAX)
			r->next_stop = at + 1;	/* a stop goes forward, never twice at one time */
	}
}

/*
 * r->fast_end: replay_event_one's one test for an event at ns < fast_end to be met with
 * nothing held back or pending and before the next stop (0 while a free is held back or a
 * realloc's block pending; an event at UINT64_MAX always takes replay_event). Set after each
 * event replay_event_one passes to replay_event; the fast path's frees held back clear it.
 */
static void fast_end(struct replay *r)
{
	if (r->ndefer || r->npend)
		r->fast_end = 0;
	else
		r->fast_end = r->next_stop == UINT64_MAX ? UINT64_MAX : r->next_stop + 1;
}

static int replay_event(const struct trace_event *ev, void *ctx)
{
	struct replay *r = ctx;

	if (ev->ns > r->next_stop)
		run_stops(r, ev->ns);
	if (r->ndefer)
		defer_expire(r, ev->ns);
	if (r->npend)
		pend_drain(r, ev->ns, ev->thread);
	switch (ev->type) {
	case EV_ALLOC:
		r->events++;
		if (r->mem)
			r->mem(r, ev, 0, r->arg);
		if (r->plain)	/* the common case inline */
			do_alloc_t(r, ev->thread, ev->ptr, ev->size, ev->stack, ev->ns, true);
		else
			do_alloc(r, ev->thread, ev->ptr, ev->size, ev->stack, ev->ns);
		break;
	case EV_FREE:
		r->events++;
		if (!ev->ptr)
			break;
		if (r->npend)
			pend_take(r, ev->ptr);
		if (r->ndisp_live && claim_displaced(r, ev->thread, ev->ptr, ev->ns))
			break;
		if (r->plain)
			do_release_t(r, ev->thread, ev->ptr, ev->ns, true, true);
		else
			do_release(r, ev->thread, ev->ptr, ev->ns, true);
		break;
	case EV_REALLOC:
		r->events++;
		r->reallocs += counted(r, ev->thread);
		if (r->per_thread)
			tcounts(r, ev->thread)->reallocs++;
		if (r->mem) {
			const struct replay_blk *ob = ev->old_ptr ? live_slot(&r->live, ev->old_ptr)
							      : NULL;

			r->mem(r, ev, ob && ob->ptr ? ob->size : 0, r->arg);
		}
		if (ev->old_ptr) {
			if (r->npend)
				pend_take(r, ev->old_ptr);
			if (!r->ndisp_live || !claim_displaced(r, ev->thread, ev->old_ptr, ev->ns))
				do_release(r, ev->thread, ev->old_ptr, ev->ns, !ev->ptr);
		}
		if (ev->ptr) {
			ARRAY_ROOM(r->pend, r->pcap, r->npend);
			r->pend[r->npend++] = (struct replay_pend){
				.ns2 = ev->ns2 > ev->ns ? ev->ns2 : ev->ns,
				.ptr = ev->ptr, .size = ev->size,
				.stack = ev->stack, .thread = ev->thread,
			};
		}
		break;
	default:
		if (r->other)
			r->other(r, ev, r->arg);
		break;
	}
	return 0;
}

/*
 * replay_event for a plain replay whose blocks count in one aggregate each and with no mem
 * hook (replay_run chooses it): an allocation, or a free, met with nothing held back,
 * pending or displaced and before the next stop, is replay_event's with its tests known;
 * any other event is replay_event's.
 */
static int replay_event_one(const struct trace_event *ev, void *ctx)
{
	struct replay *r = ctx;
	int rc;

	if (__builtin_expect(ev->ns < r->fast_end, 1)) {
		if (ev->type == EV_ALLOC) {
			r->events++;
			do_alloc_t(r, ev->thread, ev->ptr, ev->size, ev->stack, ev->ns, PLAIN_ONE);
			return 0;
		}
		if (ev->type == EV_FREE && ev->ptr && !r->ndisp_live) {
			r->events++;
			do_release_t(r, ev->thread, ev->ptr, ev->ns, true, PLAIN_ONE);
			return 0;
		}
	}
	rc = replay_event(ev, ctx);
	fast_end(r);
	return rc;
}

/**
 * replay_run - replay the memory events of @t into @r. The caller zeroes @r and may set map,
 * stop/next_stop, other, change, arg, walk_flags and one_thread/thread first (see replay.h). Stops not reached by the
 * last event are called at the end, with the final state. Free @r with replay_free.
 * Return: 0, or -1 when the trace could not be decoded (reported by the reader).
 */
int replay_run(struct replay *r, struct trace *t)
{
	trace_event_fn fn = replay_event;
	int ret;

	if (!r->stop)
		r->next_stop = UINT64_MAX;
	r->sample_mean = t->hdr.sample_mean;
	r->plain = !r->one_thread && !r->per_thread && !r->sample_mean && !r->change;
	if (r->plain && !r->mem && (!r->group || r->by_group))
		fn = replay_event_one;
	fast_end(r);
	live_init(&r->live);
	/* the events a calls walk kept (replay-log.c) in the merged walk's order, else a walk */
	if (t->memlog && t->memlog->complete && !r->walk_flags)
		ret = replay_log_walk(t->memlog, fn, r);
	else
		ret = trace_walk(t, WALK_MERGED | WALK_MEMORY | r->walk_flags, -1, fn, r);
	if (r->npend)
		pend_drain(r, UINT64_MAX, UINT32_MAX);
	if (r->ndefer)
		defer_expire(r, UINT64_MAX);
	while (!ret && r->next_stop != UINT64_MAX) {
		uint64_t at = r->next_stop;

		r->next_stop = r->stop(r, at, r->arg);
		if (r->next_stop <= at && r->next_stop != UINT64_MAX)
			r->next_stop = at + 1;
	}
	r->overlaps = r->ndisp_live;	/* never claimed: their frees were lost */
	if (r->impossible && !t->bad_live) {	/* said once per trace (notes.c repeats it) */
		t->bad_live = r->impossible;
		pr_warn("%s: %" PRIu64 " allocation%s left out: the live heap would pass the "
			"2^47-byte address space or a total would overflow (impossible)", t->path,
			r->impossible, r->impossible == 1 ? "" : "s");
	}
	pr_dbg(1, "replay: %" PRIu64 " events, at most %" PRIu64 " live blocks (table: %" PRIu64
	       " slots, %" PRIu64 " KiB), %u stack slots (%zu KiB)\n", r->events, r->live_max,
	       r->live.mask + 1, (r->live.mask + 1) * sizeof(struct replay_blk) >> 10, r->naggs,
	       (size_t)r->naggs * sizeof(struct replay_agg) >> 10);
	if (ret)
		return -1;
	return 0;
}

/* replay_free - release what replay_run allocated and zero @r. */
void replay_free(struct replay *r)
{
	free(r->live.v);
	free(r->aggs);
	free(r->tseq);
	free(r->pend);
	free(r->disp);
	free(r->defer);
	free(r->gaggs);
	free(r->sgroup);
	free(r->taggs);
	replay_cells_free(&r->cells);
	free(r->tcounts);
	memset(r, 0, sizeof(*r));
}

/* ---- sites ---- */

/*
 * replay_symbols - the symbols of @t, opened after a walk (the modules are known then), with
 * names mangled when @o (may be NULL) has demangle 0. Close with sym_close.
 * Return: NULL after one error line.
 */
struct symbols *replay_symbols(const struct trace *t, const struct opts *o)
{
	struct symbols *sym = sym_open(t);

	if (!sym) {
		__pr_log("error: ", "cannot read symbols for %s\n", t->path);
		return NULL;
	}
	if (o && o->demangle == 0)
		sym_set_demangle(sym, false);
	return sym;
}

/** replay_shim_frame - whether frame @f is one of the shim's own (left out of stacks). */
bool replay_shim_frame(struct symbols *sym, const struct trace_frame *f)
{
	return !strncmp(sym_frame_module(sym, f), "libperfshim", 11);
}

/*
 * Walk the frames of stack @id as reports show them: the shim's own frames left out, every
 * address expanded into its inlined functions (sym_frames). Fills @names or @frames (either
 * may be NULL) up to @max. Return: how many frames the stack shows (may exceed @max).
 */
static uint32_t stack_walk(const struct trace *t, struct symbols *sym, uint32_t id,
			   const char **names, struct sym_frame *frames, uint32_t max)
{
	struct sym_frame chain[SYM_MAX_INLINE];
	struct trace_stack st;
	uint32_t i, n = 0;
	int k, nc;

	if (!id)
		return 0;
	st = trace_stack_get(t, id);
	for (i = 0; i < st.nframes; i++) {
		if (replay_shim_frame(sym, &st.frames[i]))
			continue;
		nc = sym_frames(sym, &st.frames[i], chain, SYM_MAX_INLINE);
		for (k = 0; k < nc; k++, n++) {
			if (n >= max)
				continue;
			if (names)
				names[n] = chain[k].name;
			if (frames)
				frames[n] = chain[k];
		}
	}
	return n;
}

/*
 * replay_stack_names - frame names of stack @id, innermost first, without the shim's own
 * frames and with inlined functions as frames of their own (sym_frames), into @names (up
 * to @max; strings owned by @sym).
 * Return: how many frames the stack has (may exceed @max); 0 for stack 0.
 */
uint32_t replay_stack_names(const struct trace *t, struct symbols *sym, uint32_t id,
			    const char **names, uint32_t max)
{
	return stack_walk(t, sym, id, names, NULL, max);
}

/*
 * replay_stack_frames - the frames of stack @id as replay_stack_names names them, with
 * module, file, line and whether inlined, into @out (up to @max).
 * Return: how many frames the stack has (may exceed @max); 0 for stack 0.
 */
uint32_t replay_stack_frames(const struct trace *t, struct symbols *sym, uint32_t id,
			     struct sym_frame *out, uint32_t max)
{
	return stack_walk(t, sym, id, NULL, out, max);
}

/*
 * replay_json_frame - one element of "frames": {"name", "module", "file", "line",
 * "inlined"}, null for what is unknown (the contract's shape; every exporter uses it).
 */
void replay_json_frame(struct json *j, const struct sym_frame *f)
{
	json_obj_begin(j, NULL);
	json_str(j, "name", f->name);
	if (f->module)
		json_str(j, "module", f->module);
	else
		json_null(j, "module");
	if (f->file && f->line) {
		json_str(j, "file", f->file);
		json_u64(j, "line", f->line);
	} else {
		json_null(j, "file");
		json_null(j, "line");
	}
	json_bool(j, "inlined", f->inlined);
	json_obj_end(j);
}

/*
 * replay_frame_text - "name at file:line" (the file's basename, as heaptrack prints it;
 * "name (inlined) at ..." for an inlined frame), or the name alone without a line, with
 * the name shortened to @width. Return: @buf.
 */
const char *replay_frame_text(const struct sym_frame *f, char *buf, size_t len, size_t width)
{
	char sb[256];
	const char *name = short_name(f->name, sb, sizeof(sb), width), *base;

	if (!f->file || !f->line) {
		snprintf(buf, len, "%s%s", name, f->inlined ? " (inlined)" : "");
		return buf;
	}
	base = strrchr(f->file, '/');
	base = base && base[1] ? base + 1 : f->file;
	snprintf(buf, len, "%s%s at %s:%u", name, f->inlined ? " (inlined)" : "", base, f->line);
	return buf;
}

/*
 * replay_stack_key - the site key of stack @id: its frame names joined by newlines. Stacks
 * with the same function chain share a key, whatever their addresses, files or lines (two
 * call sites in one function, or one site in two builds). The caller frees it.
 */
char *replay_stack_key(const struct trace *t, struct symbols *sym, uint32_t id)
{
	const char *names[256];
	uint32_t i, n = replay_stack_names(t, sym, id, names, 256);
	size_t len = 1;
	char *key, *p;

	if (n > 256) {			/* deeper than the buffer: compare by id */
		if (asprintf(&key, "#%u", id) < 0)
			pr_fatal("out of memory");
		return key;
	}
	for (i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	p = key = xmalloc(len);
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		memcpy(p, names[i], l);
		p += l;
		*p++ = '\n';
	}
	*p = '\0';
	return key;
}

/*
 * replay_json_stack - "stack": [frame names, innermost first] of stack @id into @j,
 * "frames": the same frames with module, file, line and inlined (replay_json_frame), and
 * "truncated": whether it reached PERFSHIM_STACK_DEPTH (its outer frames are unknown).
 */
void replay_json_stack(struct json *j, const struct trace *t, struct symbols *sym, uint32_t id)
{
	enum { MAXF = 1024 };
	struct sym_frame *fr = xmalloc(MAXF * sizeof(*fr));
	uint32_t i, n = replay_stack_frames(t, sym, id, fr, MAXF);

	json_arr_begin(j, "stack");
	for (i = 0; i < n && i < MAXF; i++)
		json_str(j, NULL, fr[i].name);
	json_arr_end(j);
	json_arr_begin(j, "frames");
	for (i = 0; i < n && i < MAXF; i++)
		replay_json_frame(j, &fr[i]);
	json_arr_end(j);
	json_bool(j, "truncated", trace_stack_truncated(t, id));
	free(fr);
}

static bool text_truncated;

/*
 * replay_truncated_shown - whether replay_text_stack marked a stack "[truncated]" since the
 * last call (text reports then print TRACE_TRUNCATED_LEGEND); resets it.
 */
bool replay_truncated_shown(void)
{
	bool v = text_truncated;

	text_truncated = false;
	return v;
}

/*
 * replay_text_stack - "f0 at a.c:3 < f1 at a.c:9 < ..." (replay_frame_text; innermost first, at most REPLAY_TEXT_FRAMES
 * frames, long names shortened) for text tables, into @buf; "(no stack)" for stack 0.
 * Return: @buf.
 */
const char *replay_text_stack(const struct trace *t, struct symbols *sym, uint32_t id,
			      char *buf, size_t len)
{
	struct sym_frame fr[REPLAY_TEXT_FRAMES];
	char sb[384];
	uint32_t i, n = replay_stack_frames(t, sym, id, fr, REPLAY_TEXT_FRAMES);
	size_t off = 0;

	if (!n) {
		snprintf(buf, len, "(no stack)");
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < n && i < REPLAY_TEXT_FRAMES && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " < " : "",
					replay_frame_text(&fr[i], sb, sizeof(sb), 60));
	if (n > REPLAY_TEXT_FRAMES && off < len)
		off += (size_t)snprintf(buf + off, len - off, " < ...");
	if (trace_stack_truncated(t, id) && off < len) {
		snprintf(buf + off, len - off, " < " TRACE_TRUNCATED_FRAME);
		text_truncated = true;
	}
	return buf;
}
