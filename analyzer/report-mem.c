// SPDX-License-Identifier: MIT
/*
 * The `memory` and `leaks` reports and mem_summarize (for `summary`): one replay of the
 * malloc-family events of a trace in global time order (WALK_MERGED), keeping only live
 * blocks and per-stack aggregates. Leak suppressions are in suppress.c.
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
 * after the real allocator returns, so a block freed on one thread and handed out again on
 * another pairs correctly in the merged order. A realloc has two times, and whichever one
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
 * table (32 bytes per slot, at most half full) plus one aggregate per distinct stack.
 *
 * Stacks whose symbolized frames are identical (two call sites in one function) are merged
 * into one site for output; their per-site peak is then recomputed exactly by a second replay
 * keyed by site, done only when such merges happened.
 */
#define PR_FMT "memory"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "analyzer/analyze.h"

#define NBUCKETS 65		/* size 0, then [2^(k-1), 2^k - 1] for k = 1..64 */
#define TEXT_LIMIT 10		/* rows per text table without --limit */
#define TEXT_FRAMES 4		/* frames shown per stack in text tables */

/* A live block. ptr 0 marks an empty slot (no allocation returns NULL and is recorded). */
struct blk {
	uint64_t ptr;
	uint64_t size;			/* bytes requested */
	uint64_t seq;			/* allocating thread's allocation count when made */
	uint32_t agg;			/* stack id (pass 1) or site (pass 2) */
	uint32_t thread;		/* index into trace->threads */
};

/* Open addressing, linear probing, backward-shift deletion; at most half full. */
struct live {
	struct blk *v;
	uint64_t mask;			/* capacity - 1 (capacity is a power of two) */
	uint64_t n;
};

/* What one stack (pass 1) or one site (pass 2) did. */
struct agg {
	uint64_t allocs, bytes, frees, temporary;
	uint64_t live_bytes, live_blocks;
	uint64_t peak_bytes;		/* the most this stack held at once */
	uint64_t snap_bytes, snap_blocks; /* live at the last peak, when snap_epoch == epoch */
	uint64_t snap_epoch;
};

/*
 * A block still live when its address was allocated again: its release was lost, or is a
 * realloc's that the reader delivers late (a realloc may be ordered by ns2 while its old
 * block left at ns). Kept aside until such a realloc claims it; the rest are lost frees.
 */
struct displaced {
	struct blk b;
	uint64_t ns;			/* when the address was allocated again */
};

/* A realloc's new block waiting for its time (ns2) in the merged order. */
struct pend {
	uint64_t ns2, ptr, size;
	uint32_t stack, thread;
};

struct replay {
	const uint32_t *map;		/* pass 2: stack id -> site; NULL: aggregate by stack */
	uint32_t nmap;
	struct agg *aggs;
	uint32_t naggs;
	struct live live;
	uint64_t *tseq;			/* per thread: allocations made so far */
	uint32_t nthreads;
	struct pend *pend;
	uint32_t npend, pcap;
	struct displaced *disp;
	uint32_t ndisp, dcap;
	uint64_t epoch;			/* advances at each new peak */

	uint64_t allocs, frees, bytes_alloc, bytes_freed, reallocs;
	uint64_t unknown_frees, temporary, overlaps;
	uint64_t live_bytes, live_blocks;
	uint64_t peak_bytes, peak_blocks, peak_ns;
	uint64_t events, live_max;	/* memory events seen; most live blocks at once */
	uint64_t hist_count[NBUCKETS], hist_bytes[NBUCKETS];
};

/* ---- the live block table ---- */

static inline uint64_t ptr_hash(uint64_t p)
{
	p ^= p >> 29;
	p *= 0xbf58476d1ce4e5b9ULL;
	return p ^ (p >> 32);
}

static void live_init(struct live *l)
{
	l->mask = 1023;
	l->n = 0;
	l->v = xcalloc(l->mask + 1, sizeof(*l->v));
}

static void live_grow(struct live *l)
{
	struct blk *old = l->v;
	uint64_t i, j, oldcap = l->mask + 1;

	l->mask = oldcap * 2 - 1;
	l->v = xcalloc(l->mask + 1, sizeof(*l->v));
	for (i = 0; i < oldcap; i++) {
		if (!old[i].ptr)
			continue;
		for (j = ptr_hash(old[i].ptr) & l->mask; l->v[j].ptr; j = (j + 1) & l->mask)
			;
		l->v[j] = old[i];
	}
	free(old);
}

/* The slot of @ptr, or of the empty slot where it would go. */
static inline struct blk *live_slot(const struct live *l, uint64_t ptr)
{
	uint64_t i = ptr_hash(ptr) & l->mask;

	while (l->v[i].ptr && l->v[i].ptr != ptr)
		i = (i + 1) & l->mask;
	return &l->v[i];
}

static void live_del(struct live *l, struct blk *b)
{
	uint64_t i = (uint64_t)(b - l->v), j = i, k;

	/* backward shift: move later entries of the probe run into the hole */
	for (;;) {
		j = (j + 1) & l->mask;
		if (!l->v[j].ptr)
			break;
		k = ptr_hash(l->v[j].ptr) & l->mask;
		/* leave v[j] where it is if its home k lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		l->v[i] = l->v[j];
		i = j;
	}
	l->v[i].ptr = 0;
	l->n--;
}

/* ---- the replay ---- */

static struct agg *agg_get(struct replay *r, uint32_t stack)
{
	uint32_t id = stack;

	if (r->map)
		id = stack < r->nmap ? r->map[stack] : 0;
	if (id >= r->naggs) {
		uint32_t n = r->naggs ? r->naggs : 64;

		while (n <= id)
			n *= 2;
		r->aggs = xrealloc(r->aggs, n * sizeof(*r->aggs));
		memset(r->aggs + r->naggs, 0, (n - r->naggs) * sizeof(*r->aggs));
		r->naggs = n;
	}
	return &r->aggs[id];
}

static uint64_t *thread_seq(struct replay *r, uint32_t thread)
{
	if (thread >= r->nthreads) {
		uint32_t n = r->nthreads ? r->nthreads : 8;

		while (n <= thread)
			n *= 2;
		r->tseq = xrealloc(r->tseq, n * sizeof(*r->tseq));
		memset(r->tseq + r->nthreads, 0, (n - r->nthreads) * sizeof(*r->tseq));
		r->nthreads = n;
	}
	return &r->tseq[thread];
}

/* Save @a's live values for the last peak before the first change since it (see top). */
static inline void touch(struct replay *r, struct agg *a)
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

/* Take block @b out of the live state (not counted as a free). */
static void unlive(struct replay *r, const struct blk *b)
{
	struct agg *a = &r->aggs[b->agg];

	touch(r, a);
	a->live_bytes -= b->size;
	a->live_blocks--;
	r->live_bytes -= b->size;
	r->live_blocks--;
}

static void do_alloc(struct replay *r, uint32_t thread, uint64_t ptr, uint64_t size,
		     uint32_t stack, uint64_t ns)
{
	struct agg *a = agg_get(r, stack);
	uint64_t *seq = thread_seq(r, thread);
	struct blk *b;
	unsigned k = bucket(size);

	if (!ptr)
		return;
	++*seq;
	r->allocs++;
	r->bytes_alloc += size;
	r->hist_count[k]++;
	r->hist_bytes[k] += size;
	a->allocs++;
	a->bytes += size;

	b = live_slot(&r->live, ptr);
	if (b->ptr) {
		/* still live: set it aside (see struct displaced) */
		unlive(r, b);
		if (r->ndisp == r->dcap) {
			r->dcap = r->dcap ? 2 * r->dcap : 16;
			r->disp = xrealloc(r->disp, r->dcap * sizeof(*r->disp));
		}
		r->disp[r->ndisp].b = *b;
		r->disp[r->ndisp++].ns = ns;
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
	b->agg = (uint32_t)(a - r->aggs);
	b->thread = thread;

	touch(r, a);
	a->live_bytes += size;
	a->live_blocks++;
	if (a->live_bytes > a->peak_bytes)
		a->peak_bytes = a->live_bytes;
	r->live_bytes += size;
	r->live_blocks++;
	if (r->live_blocks > r->live_max)
		r->live_max = r->live_blocks;
	if (r->live_bytes > r->peak_bytes) {
		r->peak_bytes = r->live_bytes;
		r->peak_blocks = r->live_blocks;
		r->peak_ns = ns;
		r->epoch++;
	}
}

/*
 * A realloc released @ptr at @ns: if a block at @ptr was set aside because the address was
 * allocated again after @ns, that block is the one this realloc released.
 * Return: true when it was claimed (and counted as freed).
 */
static bool claim_displaced(struct replay *r, uint64_t ptr, uint64_t ns)
{
	uint32_t i;

	for (i = 0; i < r->ndisp; i++) {
		const struct blk *b = &r->disp[i].b;

		if (b->ptr != ptr || r->disp[i].ns < ns)
			continue;
		r->frees++;
		r->bytes_freed += b->size;
		r->aggs[b->agg].frees++;
		r->disp[i] = r->disp[--r->ndisp];
		return true;
	}
	return false;
}

/* Release @ptr freed by @thread; @as_free: a free (or realloc to 0), may be temporary. */
static void do_release(struct replay *r, uint32_t thread, uint64_t ptr, bool as_free)
{
	struct blk *b = live_slot(&r->live, ptr);
	struct agg *a;

	if (!b->ptr) {
		r->unknown_frees++;
		return;
	}
	a = &r->aggs[b->agg];
	r->frees++;
	r->bytes_freed += b->size;
	a->frees++;
	if (as_free && b->thread == thread && *thread_seq(r, thread) == b->seq) {
		r->temporary++;
		a->temporary++;
	}
	unlive(r, b);
	live_del(&r->live, b);
}

static void pend_apply(struct replay *r, uint32_t i)
{
	struct pend p = r->pend[i];

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
			const struct pend *p = &r->pend[i];

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

static int replay_event(const struct trace_event *ev, void *ctx)
{
	struct replay *r = ctx;

	if (r->npend)
		pend_drain(r, ev->ns, ev->thread);
	switch (ev->type) {
	case EV_ALLOC:
		r->events++;
		do_alloc(r, ev->thread, ev->ptr, ev->size, ev->stack, ev->ns);
		break;
	case EV_FREE:
		r->events++;
		if (!ev->ptr)
			break;
		if (r->npend)
			pend_take(r, ev->ptr);
		do_release(r, ev->thread, ev->ptr, true);
		break;
	case EV_REALLOC:
		r->events++;
		r->reallocs++;
		if (ev->old_ptr) {
			if (r->npend)
				pend_take(r, ev->old_ptr);
			if (!r->ndisp || !claim_displaced(r, ev->old_ptr, ev->ns))
				do_release(r, ev->thread, ev->old_ptr, !ev->ptr);
		}
		if (ev->ptr) {
			if (r->npend == r->pcap) {
				r->pcap = r->pcap ? 2 * r->pcap : 16;
				r->pend = xrealloc(r->pend, r->pcap * sizeof(*r->pend));
			}
			r->pend[r->npend++] = (struct pend){
				.ns2 = ev->ns2 > ev->ns ? ev->ns2 : ev->ns,
				.ptr = ev->ptr, .size = ev->size,
				.stack = ev->stack, .thread = ev->thread,
			};
		}
		break;
	default:
		break;
	}
	return 0;
}

/* Replay @t into @r (zeroed but for map/nmap). Return: 0, or -1 (reported by the reader). */
static int replay_run(struct replay *r, struct trace *t)
{
	int ret;

	live_init(&r->live);
	ret = trace_walk(t, WALK_MERGED | WALK_MEMORY, -1, replay_event, r);
	if (r->npend)
		pend_drain(r, UINT64_MAX, UINT32_MAX);
	r->overlaps = r->ndisp;		/* never claimed: their frees were lost */
	pr_dbg(1, "replay: %" PRIu64 " events, at most %" PRIu64 " live blocks (table: %" PRIu64
	       " slots, %" PRIu64 " KiB), %u stack slots (%zu KiB)\n", r->events, r->live_max,
	       r->live.mask + 1, (r->live.mask + 1) * sizeof(struct blk) >> 10, r->naggs,
	       (size_t)r->naggs * sizeof(struct agg) >> 10);
	if (ret)
		return -1;
	return 0;
}

static void replay_free(struct replay *r)
{
	free(r->live.v);
	free(r->aggs);
	free(r->tseq);
	free(r->pend);
	free(r->disp);
	memset(r, 0, sizeof(*r));
}

/* Value of @a at the peak (see the lazy snapshot at the top). */
static inline uint64_t at_peak_bytes(const struct replay *r, const struct agg *a)
{
	return a->snap_epoch == r->epoch ? a->snap_bytes : a->live_bytes;
}

static inline uint64_t at_peak_blocks(const struct replay *r, const struct agg *a)
{
	return a->snap_epoch == r->epoch ? a->snap_blocks : a->live_blocks;
}

/* ---- sites: stacks merged by their symbolized frames ---- */

struct site {
	uint32_t stack;			/* a representative global stack id (0: no stack) */
	uint32_t nstacks;		/* stacks merged here */
	uint64_t allocs, bytes, frees, temporary;
	uint64_t leaked_bytes, leaked_blocks;
	uint64_t peak_bytes;		/* the most this site held at once */
	uint64_t at_peak_bytes, at_peak_blocks; /* held at the global peak */
	int supp;			/* suppression rule, -1 none */
};

struct site_key {
	char *key;
	uint32_t site;
	UT_hash_handle hh;
};

struct mem {
	struct trace *t;
	const struct opts *o;
	struct symbols *sym;
	struct replay r;
	struct site *sites;
	uint32_t nsites;
	uint32_t *map;			/* stack id -> site */
	uint32_t nmap;
	bool merged;			/* some site has several stacks */
	struct suppressions *supp;	/* NULL with --no-suppress */
	uint64_t supp_bytes, supp_blocks; /* live at the end but suppressed */
};

static bool shim_frame(struct symbols *sym, const struct trace_frame *f)
{
	return !strncmp(sym_module_name(sym, f->ip), "libperfshim", 11);
}

/*
 * Frame names of stack @id, innermost first, without the shim's own frames, into @names
 * (up to @max). Return: how many frames the stack has (may exceed @max).
 */
static uint32_t stack_names(struct mem *m, uint32_t id, const char **names, uint32_t max)
{
	struct trace_stack st;
	uint32_t i, n = 0;

	if (!id)
		return 0;
	st = trace_stack_get(m->t, id);
	for (i = 0; i < st.nframes; i++) {
		if (shim_frame(m->sym, &st.frames[i]))
			continue;
		if (n < max)
			names[n] = sym_name(m->sym, st.frames[i].ip, st.frames[i].is_ra);
		n++;
	}
	return n;
}

static char *stack_key(struct mem *m, uint32_t id)
{
	const char *names[256];
	uint32_t i, n = stack_names(m, id, names, 256);
	size_t len = 1;
	char *key, *p;

	if (n > 256) {			/* deeper than the buffer: compare by id */
		if (asprintf(&key, "#%u", id) < 0)
			pr_err("out of memory");
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

/* Group the stacks of pass 1 into sites. */
static void build_sites(struct mem *m)
{
	struct site_key *keys = NULL, *k, *tmp;
	uint32_t id;

	m->nmap = m->r.naggs;
	m->map = xcalloc(m->nmap ? m->nmap : 1, sizeof(*m->map));
	m->sites = xcalloc(m->nmap ? m->nmap : 1, sizeof(*m->sites));
	for (id = 0; id < m->r.naggs; id++) {
		const struct agg *a = &m->r.aggs[id];
		struct site *s;
		char *key;

		if (!a->allocs)
			continue;
		key = stack_key(m, id);
		HASH_FIND_STR(keys, key, k);
		if (k) {
			free(key);
			m->merged = true;
		} else {
			k = xcalloc(1, sizeof(*k));
			k->key = key;
			k->site = m->nsites++;
			m->sites[k->site].stack = id;
			m->sites[k->site].supp = -1;
			HASH_ADD_KEYPTR(hh, keys, k->key, strlen(k->key), k);
		}
		m->map[id] = k->site;
		s = &m->sites[k->site];
		s->nstacks++;
		s->allocs += a->allocs;
		s->bytes += a->bytes;
		s->frees += a->frees;
		s->temporary += a->temporary;
		s->leaked_bytes += a->live_bytes;
		s->leaked_blocks += a->live_blocks;
		s->peak_bytes = a->peak_bytes;	/* exact unless merged (pass 2 fixes) */
		s->at_peak_bytes += at_peak_bytes(&m->r, a);
		s->at_peak_blocks += at_peak_blocks(&m->r, a);
	}
	HASH_ITER(hh, keys, k, tmp) {
		HASH_DEL(keys, k);
		free(k->key);
		free(k);
	}
}

/* Exact per-site peaks when stacks were merged: replay again keyed by site. */
static int site_peaks(struct mem *m)
{
	struct replay r2;
	uint32_t i;

	if (!m->merged)
		return 0;
	memset(&r2, 0, sizeof(r2));
	r2.map = m->map;
	r2.nmap = m->nmap;
	if (replay_run(&r2, m->t) < 0) {
		replay_free(&r2);
		return -1;
	}
	for (i = 0; i < m->nsites && i < r2.naggs; i++)
		m->sites[i].peak_bytes = r2.aggs[i].peak_bytes;
	replay_free(&r2);
	return 0;
}

/* Replay, symbolize and group. Return: 0 or -1 (message printed). */
static int mem_load(struct mem *m, struct trace *t, const struct opts *o)
{
	memset(m, 0, sizeof(*m));
	m->t = t;
	m->o = o;
	if (!(t->hdr.flags & TRACE_F_MALLOC))
		pr_warn("%s: the malloc family was not recorded (PERFSHIM_EVENTS): no allocations\n",
			t->path);
	if (replay_run(&m->r, t) < 0)
		return -1;
	m->sym = sym_open(t);
	if (!m->sym) {
		__pr_log("error: ", "cannot read symbols for %s\n", t->path);
		return -1;
	}
	if (o && o->demangle == 0)
		sym_set_demangle(m->sym, false);
	build_sites(m);
	return 0;
}

static void mem_free(struct mem *m)
{
	supp_free(m->supp);
	replay_free(&m->r);
	if (m->sym)
		sym_close(m->sym);
	free(m->sites);
	free(m->map);
}

/*
 * Match the sites still holding blocks at the end against the suppressions (built-in and
 * --suppressions FILE; none with --no-suppress). Return: 0, or -1 after an error line.
 */
static int mem_suppress(struct mem *m)
{
	uint32_t i;

	if (m->o && m->o->no_suppress)
		return 0;
	m->supp = supp_load(m->o ? m->o->suppressions : NULL, true);
	if (!m->supp)
		return -1;
	for (i = 0; i < m->nsites; i++) {
		struct site *st = &m->sites[i];

		if (!st->leaked_blocks)
			continue;
		st->supp = supp_match(m->supp, m->sym, m->t, st->stack);
		if (st->supp >= 0) {
			m->supp_bytes += st->leaked_bytes;
			m->supp_blocks += st->leaked_blocks;
		}
	}
	return 0;
}

/* ---- sorting ---- */

enum site_order { BY_BYTES, BY_COUNT, BY_PEAK, BY_LEAKED, BY_TEMPORARY, BY_AT_PEAK };

static uint64_t site_val(const struct site *s, enum site_order by)
{
	switch (by) {
	case BY_BYTES: return s->bytes;
	case BY_COUNT: return s->allocs;
	case BY_PEAK: return s->peak_bytes;
	case BY_LEAKED: return s->leaked_bytes;
	case BY_TEMPORARY: return s->temporary;
	case BY_AT_PEAK: return s->at_peak_bytes;
	}
	return 0;
}

struct sort_ctx {
	const struct site *sites;
	enum site_order by;
};

static int cmp_site(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct site *a = &c->sites[*(const uint32_t *)pa];
	const struct site *b = &c->sites[*(const uint32_t *)pb];
	enum site_order sort_by = c->by;
	uint64_t va = site_val(a, sort_by), vb = site_val(b, sort_by);

	if (va != vb)
		return va > vb ? -1 : 1;
	if (sort_by == BY_LEAKED && a->leaked_blocks != b->leaked_blocks)
		return a->leaked_blocks > b->leaked_blocks ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/* Indices of the sites passing @keep (NULL: all), sorted by @by. Free the result. */
static uint32_t *sorted_sites(struct mem *m, enum site_order by,
			      bool (*keep)(const struct site *), uint32_t *n)
{
	uint32_t *idx = xmalloc((m->nsites + 1) * sizeof(*idx)), i;
	struct sort_ctx c = { m->sites, by };

	*n = 0;
	for (i = 0; i < m->nsites; i++)
		if (!keep || keep(&m->sites[i]))
			idx[(*n)++] = i;
	qsort_r(idx, *n, sizeof(*idx), cmp_site, &c);
	return idx;
}

static bool is_leak(const struct site *s)
{
	return s->leaked_blocks && s->supp < 0;
}

static bool at_peak(const struct site *s)
{
	return s->at_peak_bytes > 0;
}

static int parse_sort(const char *name, enum site_order *by)
{
	static const struct {
		const char *name;
		enum site_order by;
	} keys[] = {
		{ "bytes", BY_BYTES }, { "count", BY_COUNT }, { "allocations", BY_COUNT },
		{ "peak", BY_PEAK }, { "peak_bytes", BY_PEAK }, { "leaked", BY_LEAKED },
		{ "leaked_bytes", BY_LEAKED }, { "temporary", BY_TEMPORARY },
	};
	size_t i;

	*by = BY_BYTES;
	if (!name)
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(name, keys[i].name)) {
			*by = keys[i].by;
			return 0;
		}
	__pr_log("error: ", "unknown --sort %s for memory (bytes, count, peak, leaked, temporary)\n",
		 name);
	return -1;
}

/* ---- output ---- */

static void json_stack(struct mem *m, struct json *j, uint32_t id)
{
	const char *names[1024];
	uint32_t i, n = stack_names(m, id, names, 1024);

	json_arr_begin(j, "stack");
	for (i = 0; i < n && i < 1024; i++)
		json_str(j, NULL, names[i]);
	json_arr_end(j);
}

/* "f0 < f1 < f2 < ..." for text tables, at most TEXT_FRAMES frames. */
static const char *text_stack(struct mem *m, uint32_t id, char *buf, size_t len)
{
	const char *names[TEXT_FRAMES];
	char sb[128];
	uint32_t i, n = stack_names(m, id, names, TEXT_FRAMES);
	size_t off = 0;

	if (!n) {
		snprintf(buf, len, "(no stack)");
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < n && i < TEXT_FRAMES && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " < " : "",
					short_name(names[i], sb, sizeof(sb), 60));
	if (n > TEXT_FRAMES && off < len)
		snprintf(buf + off, len - off, " < ...");
	return buf;
}

static void json_site(struct mem *m, struct json *j, const struct site *s)
{
	json_obj_begin(j, NULL);
	json_stack(m, j, s->stack);
	json_u64(j, "allocations", s->allocs);
	json_u64(j, "bytes", s->bytes);
	json_u64(j, "peak_bytes", s->peak_bytes);
	json_u64(j, "leaked_bytes", s->leaked_bytes);
	json_u64(j, "leaked_blocks", s->leaked_blocks);
	json_u64(j, "frees", s->frees);
	json_u64(j, "temporary_allocations", s->temporary);
	json_u64(j, "bytes_at_peak", s->at_peak_bytes);
	json_u64(j, "blocks_at_peak", s->at_peak_blocks);
	if (s->supp >= 0)
		json_str(j, "suppressed_by", supp_rule(m->supp, (unsigned)s->supp));
	json_obj_end(j);
}

static void hist_range(unsigned k, uint64_t *lo, uint64_t *hi)
{
	*lo = k ? 1ULL << (k - 1) : 0;
	*hi = k ? (k == 64 ? UINT64_MAX : (1ULL << k) - 1) : 0;
}

static void memory_json(struct mem *m, FILE *f, const uint32_t *idx, uint32_t n)
{
	const struct replay *r = &m->r;
	struct json j;
	uint32_t i, nh;
	uint32_t *holders = sorted_sites(m, BY_AT_PEAK, at_peak, &nh);
	unsigned k;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_u64(&j, "allocations", r->allocs);
	json_u64(&j, "frees", r->frees);
	json_u64(&j, "bytes_allocated", r->bytes_alloc);
	json_u64(&j, "bytes_freed", r->bytes_freed);
	json_u64(&j, "peak_bytes", r->peak_bytes);
	json_u64(&j, "peak_time_ns", r->peak_ns);
	json_u64(&j, "peak_blocks", r->peak_blocks);
	json_u64(&j, "leaked_bytes", r->live_bytes - m->supp_bytes);
	json_u64(&j, "leaked_blocks", r->live_blocks - m->supp_blocks);
	json_u64(&j, "temporary_allocations", r->temporary);
	json_u64(&j, "live_at_end_bytes", r->live_bytes);
	json_u64(&j, "live_at_end_blocks", r->live_blocks);
	json_u64(&j, "suppressed_bytes", m->supp_bytes);
	json_u64(&j, "suppressed_blocks", m->supp_blocks);
	json_u64(&j, "unknown_frees", r->unknown_frees);
	json_u64(&j, "reallocs", r->reallocs);
	json_u64(&j, "lost_frees", r->overlaps);
	json_u64(&j, "lost_events", m->t->nlost);
	json_obj_begin(&j, "peak");
	json_u64(&j, "time_ns", r->peak_ns);
	json_u64(&j, "bytes", r->peak_bytes);
	json_u64(&j, "blocks", r->peak_blocks);
	json_str(&j, "method", "exact: per-stack live bytes saved lazily at the peak instant during the replay");
	json_arr_begin(&j, "holders");
	for (i = 0; i < nh; i++) {
		const struct site *s = &m->sites[holders[i]];

		json_obj_begin(&j, NULL);
		json_stack(m, &j, s->stack);
		json_u64(&j, "bytes", s->at_peak_bytes);
		json_u64(&j, "blocks", s->at_peak_blocks);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_arr_begin(&j, "histogram");
	for (k = 0; k < NBUCKETS; k++) {
		uint64_t lo, hi;

		if (!r->hist_count[k])
			continue;
		hist_range(k, &lo, &hi);
		json_obj_begin(&j, NULL);
		json_u64(&j, "min", lo);
		json_u64(&j, "max", hi);
		json_u64(&j, "allocations", r->hist_count[k]);
		json_u64(&j, "bytes", r->hist_bytes[k]);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "sites");
	for (i = 0; i < n; i++)
		json_site(m, &j, &m->sites[idx[i]]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
	free(holders);
}

static const char *const site_hdr[] = { "allocations", "bytes", "peak", "leaked", "temporary",
					"stack" };

static void site_table(struct mem *m, FILE *f, const char *title, enum site_order by,
		       uint32_t limit)
{
	struct table *tb = table_new(6, site_hdr, "rrrrrl");
	char a[32], b[32], c[32], d[32], e[32], st[1024];
	uint32_t i, n, *idx = sorted_sites(m, by, NULL, &n);

	fprintf(f, "\n%s\n", title);
	for (i = 0; i < n && i < limit; i++) {
		const struct site *s = &m->sites[idx[i]];

		table_add(tb, fmt_count(a, sizeof(a), s->allocs), fmt_bytes(b, sizeof(b), s->bytes),
			  fmt_bytes(c, sizeof(c), s->peak_bytes),
			  fmt_bytes(d, sizeof(d), s->leaked_bytes), fmt_count(e, sizeof(e), s->temporary),
			  text_stack(m, s->stack, st, sizeof(st)));
	}
	table_print(tb, f);
	table_free(tb);
	free(idx);
}

static void memory_text(struct mem *m, FILE *f, uint32_t limit)
{
	const struct replay *r = &m->r;
	char a[32], b[32], c[32], st[1024];
	static const char *const hold_hdr[] = { "bytes", "blocks", "stack" };
	static const char *const hist_hdr[] = { "size", "allocations", "bytes" };
	struct table *tb;
	uint32_t i, nh, *holders;
	unsigned k;

	fprintf(f, "Memory\n");
	fprintf(f, "  allocations     %s (%s)\n", fmt_count(a, sizeof(a), r->allocs),
		fmt_bytes(b, sizeof(b), r->bytes_alloc));
	fprintf(f, "  frees           %s (%s)\n", fmt_count(a, sizeof(a), r->frees),
		fmt_bytes(b, sizeof(b), r->bytes_freed));
	fprintf(f, "  unknown frees   %s (blocks allocated before recording started)\n",
		fmt_count(a, sizeof(a), r->unknown_frees));
	fprintf(f, "  reallocs        %s\n", fmt_count(a, sizeof(a), r->reallocs));
	fprintf(f, "  temporary       %s (%.1f%% of allocations)\n",
		fmt_count(a, sizeof(a), r->temporary),
		r->allocs ? 100.0 * (double)r->temporary / (double)r->allocs : 0.0);
	fprintf(f, "  peak            %s in %s blocks at %s", fmt_bytes(a, sizeof(a), r->peak_bytes),
		fmt_count(b, sizeof(b), r->peak_blocks), fmt_ns(c, sizeof(c), r->peak_ns));
	fprintf(f, " (%s bytes)\n", fmt_count(a, sizeof(a), r->peak_bytes));
	fprintf(f, "  leaked          %s in %s blocks (as `leaks`: after suppressions)\n",
		fmt_bytes(a, sizeof(a), r->live_bytes - m->supp_bytes),
		fmt_count(b, sizeof(b), r->live_blocks - m->supp_blocks));
	fprintf(f, "  live at end     %s in %s blocks, %s of them suppressed\n",
		fmt_bytes(a, sizeof(a), r->live_bytes), fmt_count(b, sizeof(b), r->live_blocks),
		fmt_bytes(c, sizeof(c), m->supp_bytes));
	if (r->overlaps || m->t->nlost)
		fprintf(f, "  warning: %s events lost by the recorder, %s blocks replaced "
			"without a free: figures may be short\n",
			fmt_count(a, sizeof(a), m->t->nlost), fmt_count(b, sizeof(b), r->overlaps));
	if (!r->allocs)
		return;

	fprintf(f, "\nHeld at the peak (exact)\n");
	holders = sorted_sites(m, BY_AT_PEAK, at_peak, &nh);
	tb = table_new(3, hold_hdr, "rrl");
	for (i = 0; i < nh && i < limit; i++) {
		const struct site *s = &m->sites[holders[i]];

		table_add(tb, fmt_bytes(a, sizeof(a), s->at_peak_bytes),
			  fmt_count(b, sizeof(b), s->at_peak_blocks),
			  text_stack(m, s->stack, st, sizeof(st)));
	}
	table_print(tb, f);
	table_free(tb);
	free(holders);

	fprintf(f, "\nAllocation sizes\n");
	tb = table_new(3, hist_hdr, "lrr");
	for (k = 0; k < NBUCKETS; k++) {
		uint64_t lo, hi;
		char range[64];

		if (!r->hist_count[k])
			continue;
		hist_range(k, &lo, &hi);
		if (lo == hi)
			snprintf(range, sizeof(range), "%" PRIu64, lo);
		else
			snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, lo, hi);
		table_add(tb, range, fmt_count(a, sizeof(a), r->hist_count[k]),
			  fmt_bytes(b, sizeof(b), r->hist_bytes[k]));
	}
	table_print(tb, f);
	table_free(tb);

	site_table(m, f, "Top sites by bytes allocated", BY_BYTES, limit);
	site_table(m, f, "Top sites by allocations", BY_COUNT, limit);
	site_table(m, f, "Top sites by peak (the most each held at once)", BY_PEAK, limit);

	fprintf(f, "\nLegend: a realloc counts as one allocation of its new size and one free of "
		"the old block\n(realloc(p, 0) is only a free, realloc(NULL, n) only an "
		"allocation). Unknown frees release\nblocks never seen allocated; they are counted, "
		"not matched. Temporary: freed by its own\nthread before that thread allocated "
		"again. Stacks are innermost first (a < its caller).\n");
}

/**
 * report_memory - the `memory` report of @t on stdout, text or JSON per @o. --limit N
 * (0 = all) cuts each table; JSON lists every site unless --limit is given.
 * Return: 0, or -1 after an error line (bad --sort, unreadable trace).
 */
int report_memory(struct trace *t, const struct opts *o)
{
	struct mem m;
	enum site_order by;
	uint32_t n, *idx, limit;
	int ret = -1;

	if (parse_sort(o->sort, &by) < 0)
		return -1;
	if (mem_load(&m, t, o) < 0 || site_peaks(&m) < 0 || mem_suppress(&m) < 0)
		goto out;
	if (o->format == FMT_JSON) {
		idx = sorted_sites(&m, by, NULL, &n);
		if (o->limit > 0 && (uint64_t)o->limit < n)
			n = (uint32_t)o->limit;
		memory_json(&m, stdout, idx, n);
		free(idx);
	} else {
		limit = o->limit > 0 ? (uint32_t)o->limit : o->limit == 0 ? UINT32_MAX : TEXT_LIMIT;
		memory_text(&m, stdout, limit);
	}
	fflush(stdout);
	ret = 0;
out:
	mem_free(&m);
	return ret;
}

/* Per suppression rule: what it hid. */
struct supp_tot {
	uint64_t bytes, blocks, stacks;
};

static struct supp_tot *supp_totals(struct mem *m)
{
	struct supp_tot *tot = xcalloc(supp_count(m->supp) + 1, sizeof(*tot));
	uint32_t i;

	for (i = 0; i < m->nsites; i++) {
		const struct site *st = &m->sites[i];

		if (!st->leaked_blocks || st->supp < 0)
			continue;
		tot[st->supp].bytes += st->leaked_bytes;
		tot[st->supp].blocks += st->leaked_blocks;
		tot[st->supp].stacks++;
	}
	return tot;
}

/**
 * report_leaks - the `leaks` report of @t on stdout: blocks still live at the end, grouped
 * by stack, largest first, after suppressions (built-in and --suppressions FILE) unless
 * --no-suppress; what was suppressed is always shown.
 * Return: 0, or -1 after an error line (bad suppressions file, unreadable trace).
 */
int report_leaks(struct trace *t, const struct opts *o)
{
	struct mem m;
	const struct suppressions *s;
	struct supp_tot *tot = NULL;
	uint64_t bytes = 0, blocks = 0;
	uint32_t i, n, *idx = NULL, limit;
	char a[32], b[32], st[1024];
	int ret = -1;

	if (mem_load(&m, t, o) < 0 || mem_suppress(&m) < 0)
		goto out;
	s = m.supp;
	tot = supp_totals(&m);
	idx = sorted_sites(&m, BY_LEAKED, is_leak, &n);
	for (i = 0; i < n; i++) {
		bytes += m.sites[idx[i]].leaked_bytes;
		blocks += m.sites[idx[i]].leaked_blocks;
	}
	if (o->format == FMT_JSON) {
		struct json j;

		if (o->limit > 0 && (uint64_t)o->limit < n)
			n = (uint32_t)o->limit;
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_u64(&j, "leaked_bytes", bytes);
		json_u64(&j, "leaked_blocks", blocks);
		json_arr_begin(&j, "leaks");
		for (i = 0; i < n; i++) {
			const struct site *l = &m.sites[idx[i]];

			json_obj_begin(&j, NULL);
			json_stack(&m, &j, l->stack);
			json_u64(&j, "bytes", l->leaked_bytes);
			json_u64(&j, "blocks", l->leaked_blocks);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_u64(&j, "suppressed_bytes", m.supp_bytes);
		json_u64(&j, "suppressed_blocks", m.supp_blocks);
		json_arr_begin(&j, "suppressed");
		for (i = 0; i < supp_count(s); i++) {
			if (!tot[i].blocks)
				continue;
			json_obj_begin(&j, NULL);
			json_str(&j, "rule", supp_rule(s, i));
			json_u64(&j, "bytes", tot[i].bytes);
			json_u64(&j, "blocks", tot[i].blocks);
			json_u64(&j, "stacks", tot[i].stacks);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_u64(&j, "unknown_frees", m.r.unknown_frees);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		static const char *const hdr[] = { "bytes", "blocks", "stack" };
		static const char *const shdr[] = { "bytes", "blocks", "rule" };
		struct table *tb = table_new(3, hdr, "rrl");

		limit = o->limit > 0 ? (uint32_t)o->limit : UINT32_MAX;
		fprintf(stdout, "Leaks: %s bytes in %s blocks from %u stack%s\n",
			fmt_count(a, sizeof(a), bytes), fmt_count(b, sizeof(b), blocks), n,
			n == 1 ? "" : "s");
		for (i = 0; i < n && i < limit; i++) {
			const struct site *l = &m.sites[idx[i]];
			char c[32];

			table_add(tb, fmt_count(c, sizeof(c), l->leaked_bytes),
				  fmt_count(a, sizeof(a), l->leaked_blocks),
				  text_stack(&m, l->stack, st, sizeof(st)));
		}
		if (n)
			table_print(tb, stdout);
		table_free(tb);
		if (o->no_suppress) {
			fprintf(stdout, "\nSuppressions off (--no-suppress): everything is shown.\n");
		} else {
			fprintf(stdout, "\nSuppressed: %s bytes in %s blocks",
				fmt_count(a, sizeof(a), m.supp_bytes), fmt_count(b, sizeof(b), m.supp_blocks));
			fprintf(stdout, m.supp_blocks ? " (--no-suppress shows them)\n" : "\n");
			tb = table_new(3, shdr, "rrl");
			for (i = 0; i < supp_count(s); i++) {
				if (!tot[i].blocks)
					continue;
				table_add(tb, fmt_count(a, sizeof(a), tot[i].bytes),
					  fmt_count(b, sizeof(b), tot[i].blocks), supp_rule(s, i));
			}
			if (m.supp_blocks)
				table_print(tb, stdout);
			table_free(tb);
		}
		if (m.r.unknown_frees)
			fprintf(stdout, "Unknown frees (blocks allocated before recording): %s\n",
				fmt_count(a, sizeof(a), m.r.unknown_frees));
	}
	fflush(stdout);
	ret = 0;
out:
	free(idx);
	free(tot);
	mem_free(&m);
	return ret;
}

/**
 * mem_summarize - memory totals and the top MEM_SUMMARY_TOP leaks of @t (after suppressions
 * per @o, as `leaks`) for the `summary` report. @o may be NULL (built-in suppressions only).
 * Leak stacks are global stack ids: print them with trace_stack_get and sym_name.
 * Return: 0, or -1 after an error line.
 */
int mem_summarize(struct trace *t, const struct opts *o, struct mem_summary *out)
{
	struct mem m;
	uint32_t i, n, *idx;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (mem_load(&m, t, o) < 0 || mem_suppress(&m) < 0)
		goto out;
	out->allocations = m.r.allocs;
	out->frees = m.r.frees;
	out->bytes_allocated = m.r.bytes_alloc;
	out->bytes_freed = m.r.bytes_freed;
	out->peak_bytes = m.r.peak_bytes;
	out->peak_time_ns = m.r.peak_ns;
	out->temporary = m.r.temporary;
	out->unknown_frees = m.r.unknown_frees;
	out->live_bytes = m.r.live_bytes;
	out->live_blocks = m.r.live_blocks;
	out->suppressed_bytes = m.supp_bytes;
	out->suppressed_blocks = m.supp_blocks;
	idx = sorted_sites(&m, BY_LEAKED, is_leak, &n);
	for (i = 0; i < n; i++) {
		const struct site *l = &m.sites[idx[i]];

		out->leaked_bytes += l->leaked_bytes;
		out->leaked_blocks += l->leaked_blocks;
		if (i < MEM_SUMMARY_TOP) {
			out->top[i].stack = l->stack;
			out->top[i].bytes = l->leaked_bytes;
			out->top[i].blocks = l->leaked_blocks;
			out->ntop++;
		}
	}
	out->leak_stacks = n;
	free(idx);
	ret = 0;
out:
	mem_free(&m);
	return ret;
}
