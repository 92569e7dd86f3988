/* SPDX-License-Identifier: MIT */
/*
 * The trace reader, part 3: the module map. Every MODULE and UNLOAD record of the file is
 * collected when it is opened (trace_open), so that any walk, whatever order it decodes the
 * threads in, can give an address the module that was loaded there when its event happened:
 * a library loaded where another was dlclosed is that library from its load on, and the
 * other one before. Where no module was loaded at that time (a constructor runs before the
 * MODULE record dlopen writes after it), the next one loaded there is taken, else the last
 * one. Only chunks the recorder flagged as holding such records are read for this
 * (TRACE_CHUNK_MODULES, promised by the header's TRACE_F_MODULE_CHUNKS); an older trace
 * without the promise is read whole. docs/design.md ("Analyzer") has the rest.
 */
#define PR_FMT "read"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/hmap.h"
#include "analyzer/trace-priv.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/* A MODULE or UNLOAD record found by the scan. */
struct found {
	uint64_t ns;
	uint64_t order;			/* file offset of its chunk, then its place: ties */
	uint64_t at;			/* chunk index << 32 | offset after it (trace_module_of) */
	uint64_t base, lo, hi;
	uint8_t bid[64];		/* MODULE: the build-id (as much as a module keeps) */
	uint32_t blen;
	char *path;			/* MODULE: its path, owned (then by the module) */
	bool unload;
};

struct scan {
	struct found *v;
	uint32_t n, cap;
	uint64_t cost[TRACE_COST_N];	/* the last COST record's figures (trace-comp.c) */
	bool has_cost;
};

/* TRACE_OP_COST: n, then n figures; those past the ones this reader knows are skipped */
static int scan_cost(const uint8_t **pp, const uint8_t *end, struct scan *sc)
{
	uint64_t n, v, i, cost[TRACE_COST_N] = { 0 };

	if (trace_get_varint(pp, end, &n) < 0 || n > 64)
		return -1;
	for (i = 0; i < n; i++) {
		if (trace_get_varint(pp, end, &v) < 0)
			return -1;
		if (i < TRACE_COST_N)
			cost[i] = v;
	}
	if (cost[TRACE_COST_RUN])
		return 0;	/* a thread's own, from the run: the walk applies it */
	memcpy(sc->cost, cost, sizeof(cost));
	sc->has_cost = true;
	return 0;
}

static int get_str(const uint8_t **pp, const uint8_t *end, const uint8_t **s, size_t *len)
{
	uint64_t l;

	if (trace_get_varint(pp, end, &l) < 0 || l > (uint64_t)(end - *pp) ||
	    l > TRACE_MAX_STRING)
		return -1;
	*s = *pp;
	*len = (size_t)l;
	*pp += l;
	return 0;
}

/*
 * Walk the records of one payload (time base @ticks at its start), collecting MODULE and
 * UNLOAD records into @sc. Return: 0, or -1 at a malformed record (the thread's stream ends
 * there in every walk too, so the records after it are not collected).
 */
static int scan_payload(const struct trace *t, const struct reader *r, struct scan *sc,
			uint32_t ci, const uint8_t *buf, size_t size)
{
	const uint8_t *p = buf, *end = buf + size;
	uint64_t ticks = r->chunks[ci].base_ticks, h, v, n;
	struct found f;
	int i;

/* a one-byte varint (nearly every ENTRY/EXIT field) inline, longer ones by the decoder's
 * get_varint (two bytes without a loop) */
#define V(x) do {                                                                          \
		if (p < end && *p < 0x80)                                                  \
			(x) = *p++;                                                        \
		else if (get_varint(&p, end, &(x)) < 0)                                    \
			return -1;                                                         \
	} while (0)
#define DT() do { V(v); if (ticks + v < ticks) return -1; ticks += v; } while (0)
#define SKIP(k) do { for (i = 0; i < (k); i++) V(v); } while (0)
#define STR(s, l) do { if (get_str(&p, end, &(s), &(l)) < 0) return -1; } while (0)
	while (p < end) {
		const uint8_t *s1, *s2;
		size_t l1, l2;

		V(h);
		if (!(h & 1)) {
			if (ticks + (h >> 1) < ticks)
				return -1;
			ticks += h >> 1;
			continue;
		}
		if (!(h & 2)) {
			DT();
			continue;
		}
		switch (h >> 2) {
		case TRACE_OP_FUNC: case TRACE_OP_LOST:
			SKIP(1);
			break;
		case TRACE_OP_NODE_RA: case TRACE_OP_NODE_FN: case TRACE_OP_ENTRY_AT:
			SKIP(2);
			break;
		case TRACE_OP_SWITCH:
			SKIP(3);
			break;
		case TRACE_OP_ALLOC:
			V(n);
			if (n >= TRACE_ALLOC_KIND_MAX)
				return -1;
			SKIP(3);
			DT();
			break;
		case TRACE_OP_FREE: case TRACE_OP_RSS: case TRACE_OP_EXITS:
			SKIP(1);
			DT();
			break;
		case TRACE_OP_REALLOC:
			SKIP(4);
			DT();
			DT();
			break;
		case TRACE_OP_MARK:
			STR(s1, l1);
			DT();
			break;
		case TRACE_OP_THREAD_NAME:
			STR(s1, l1);
			break;
		case TRACE_OP_PROCESS:
			SKIP(2);
			STR(s1, l1);
			STR(s2, l2);
			break;
		case TRACE_OP_COST:
			if (scan_cost(&p, end, sc) < 0)
				return -1;
			break;
		case TRACE_OP_MODULE:
		case TRACE_OP_UNLOAD:
			memset(&f, 0, sizeof(f));
			f.unload = (h >> 2) == TRACE_OP_UNLOAD;
			V(f.base);
			if (!f.unload) {
				V(f.lo);
				V(f.hi);
				STR(s1, l1);
				STR(s2, l2);
				f.blen = (uint32_t)(l1 < sizeof(f.bid) ? l1 : sizeof(f.bid));
				memcpy(f.bid, s1, f.blen);
			}
			DT();
			if (!f.unload) {
				f.path = xmalloc(l2 + 1);
				memcpy(f.path, s2, l2);
				f.path[l2] = 0;
			}
			f.ns = to_ns(t, r, ticks);
			f.order = r->chunks[ci].off + (uint64_t)(p - buf);
			f.at = (uint64_t)ci << 32 | (uint32_t)(p - buf);
			ARRAY_ROOM(sc->v, sc->cap, sc->n);
			sc->v[sc->n++] = f;
			break;
		default:
			return -1;
		}
	}
	return 0;
#undef V
#undef DT
#undef SKIP
#undef STR
}

/*
 * The records of thread @ts's usable chunks that may hold modules, in seq order. A chunk
 * whose payload fails its checksum is marked bad (every walk ends the thread there) and
 * ends the scan of the thread, as a malformed record does.
 */
static void scan_thread(const struct trace *t, struct reader *r, struct scan *sc,
			struct tstate *ts, bool all)
{
	uint32_t j;

	for (j = 0; j < ts->nchunks; j++) {
		uint32_t ci = ts->chunks[j];
		struct chunk *c = &r->chunks[ci];
		uint8_t *buf;
		int bad;

		/* an unfinished chunk was never flagged (its header is the open one): read it */
		if (!all && !(c->flags & TRACE_CHUNK_MODULES) && !c->open)
			continue;
		buf = xmalloc(c->size + 1);
		if (pread(t->fd, buf, c->size, (off_t)(c->off + sizeof(struct trace_chunk_header))) !=
			    (ssize_t)c->size ||
		    !chunk_sum_ok(c, buf)) {
			c->bad = true;
			free(buf);
			return;
		}
		bad = scan_payload(t, r, sc, ci, buf, c->size) < 0;
		free(buf);
		if (bad)
			return;		/* malformed: the stream ends here */
	}
}

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_src(const void *a, const void *b)
{
	uint64_t x = ((const struct modsrc *)a)->at, y = ((const struct modsrc *)b)->at;

	return x < y ? -1 : x > y;
}

/* by lo, then hi, then load order: the loads of one range come together, oldest first */
static int cmp_lo(const void *a, const void *b, void *arg)
{
	const struct trace_module *m = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (m[i].lo != m[j].lo)
		return m[i].lo < m[j].lo ? -1 : 1;
	if (m[i].hi != m[j].hi)
		return m[i].hi < m[j].hi ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The name a module's file goes by: the basename of its path. */
static const char *base_of(const char *path)
{
	const char *sl = strrchr(path, '/');

	return sl ? sl + 1 : path;
}

/*
 * File identities: the modules that are one file loaded again (or at another address): the
 * same build-id and name, or without a build-id the same path. Their functions and frames
 * are the same ones (trace-read.c keys them by file and offset).
 */
static void file_ids(struct trace *t, struct reader *r)
{
	struct ixmap files = { 0 };	/* identity's hash -> its first module */
	uint32_t i, n = 0;

	r->mod_file = xcalloc(t->nmodules + 1, sizeof(*r->mod_file));
	for (i = 0; i < t->nmodules; i++) {
		const struct trace_module *m = &t->modules[i];
		struct ixmap_ent *e;
		uint64_t h;

		if (m->build_id_len)
			h = hmap_key_u64(hmap_key_mem(m->build_id, m->build_id_len) * 31 +
					 hmap_key_str(base_of(m->path)));
		else
			h = hmap_key_str(m->path);
		for (e = ixmap_get(&files, h); e; e = ixmap_next(&files, e)) {
			const struct trace_module *o = &t->modules[e->ix];

			if (o->build_id_len != m->build_id_len)
				continue;
			if (m->build_id_len ? !memcmp(o->build_id, m->build_id, m->build_id_len) &&
						      !strcmp(base_of(o->path), base_of(m->path))
					    : !strcmp(o->path, m->path))
				break;
		}
		if (!e) {
			ixmap_add(&files, h)->ix = i;
			r->mod_file[i] = n++;
		} else {
			r->mod_file[i] = r->mod_file[e->ix];
		}
	}
	r->nfiles = n;
	ixmap_free(&files);
}

/*
 * The address index (modules by lo, with the running maximum of hi) and the epochs: the
 * times at which the module holding some address can change, which are the loads and
 * unloads of modules whose ranges overlap another's. A sweep in lo order keeps the modules
 * still reaching the current lo; each of them overlaps it.
 */
static void index_modules(struct trace *t, struct reader *r)
{
	uint32_t i, k, n = t->nmodules, nact = 0, *act;
	bool *over;

	r->by_lo = xcalloc(n + 1, sizeof(*r->by_lo));
	r->max_hi = xcalloc(n + 1, sizeof(*r->max_hi));
	for (i = 0; i < n; i++)
		r->by_lo[i] = i;
	qsort_r(r->by_lo, n, sizeof(*r->by_lo), cmp_lo, t->modules);
	for (i = 0; i < n; i++) {
		uint64_t hi = t->modules[r->by_lo[i]].hi;

		r->max_hi[i] = i && r->max_hi[i - 1] > hi ? r->max_hi[i - 1] : hi;
	}
	/* the distinct ranges, each with its loads (a stretch of by_lo, in load order) */
	r->rng = xcalloc(n + 1, sizeof(*r->rng));
	for (i = 0; i < n; i++) {
		const struct trace_module *m = &t->modules[r->by_lo[i]];
		struct mrange *g = r->nrng ? &r->rng[r->nrng - 1] : NULL;
		uint64_t top = g ? g->max_hi : 0;

		if (g && g->lo == m->lo && g->hi == m->hi) {
			g->n++;
			continue;
		}
		r->rng[r->nrng++] = (struct mrange){ m->lo, m->hi, i, 1, m->hi > top ? m->hi : top };
	}
	act = xcalloc(n + 1, sizeof(*act));
	over = xcalloc(n + 1, sizeof(*over));
	for (i = 0; i < n; i++) {
		const struct trace_module *m = &t->modules[r->by_lo[i]];

		for (k = 0; k < nact;)
			if (t->modules[act[k]].hi <= m->lo)
				act[k] = act[--nact];
			else
				k++;
		if (nact > 4096) {		/* a crowd: every time counts, and that is all */
			memset(over, 1, n * sizeof(*over));
			break;
		}
		for (k = 0; k < nact; k++)
			over[act[k]] = over[r->by_lo[i]] = true;
		if (m->hi > m->lo)
			act[nact++] = r->by_lo[i];
	}
	r->bounds = xcalloc(2 * n + 1, sizeof(*r->bounds));
	for (i = 0; i < n; i++) {
		if (!over[i])
			continue;
		r->overlap = true;
		r->bounds[r->nbounds++] = t->modules[i].load_ns;
		if (t->modules[i].unload_ns != UINT64_MAX)
			r->bounds[r->nbounds++] = t->modules[i].unload_ns;
	}
	qsort(r->bounds, r->nbounds, sizeof(*r->bounds), cmp_u64);
	for (i = k = 0; i < r->nbounds; i++)
		if (!k || r->bounds[i] != r->bounds[k - 1])
			r->bounds[k++] = r->bounds[i];
	r->nbounds = k;
	free(act);
	free(over);
}

/* Give each UNLOAD (in time order) the module it unloaded: the last one loaded at that base
 * before it and not unloaded yet (else the first one still loaded there). */
static uint32_t match_unload(struct trace *t, const struct found *u)
{
	uint32_t i, first = UINT32_MAX;

	for (i = t->nmodules; i-- > 0;) {
		struct trace_module *m = &t->modules[i];

		if (m->base != u->base || m->unload_ns != UINT64_MAX)
			continue;
		if (m->load_ns <= u->ns)
			return i;
		first = i;
	}
	return first;
}

/**
 * trace_modules_scan - collect the module map of @t (opened, chunks indexed): t->modules
 * in load order with their load and unload times, the place of each record, file
 * identities and the address index. Never fails: damage found here ends the thread's
 * stream as it would in a walk.
 */
void trace_modules_scan(struct trace *t, struct reader *r)
{
	bool all = !(t->hdr.flags & TRACE_F_MODULE_CHUNKS);
	struct scan sc = { 0 };
	uint32_t i, k = 0;

	for (i = 0; i < t->nthreads + r->npseudo; i++)
		scan_thread(t, r, &sc, r->ts[i], all);
	if (sc.n)
		qsort(sc.v, sc.n, sizeof(*sc.v), cmp_found);
	for (i = 0; i < sc.n; i++)
		k += !sc.v[i].unload;
	t->modules = xcalloc(k + 1, sizeof(*t->modules));
	r->msrc = xcalloc(sc.n + 1, sizeof(*r->msrc));
	for (i = 0; i < sc.n; i++) {
		const struct found *f = &sc.v[i];
		struct trace_module *m;
		uint32_t mi;

		if (f->unload) {
			mi = match_unload(t, f);
			if (mi != UINT32_MAX)
				t->modules[mi].unload_ns = f->ns;
			r->msrc[r->nmsrc++] = (struct modsrc){ f->at, mi };
			continue;
		}
		mi = t->nmodules++;
		m = &t->modules[mi];
		m->base = f->base;
		m->lo = f->lo;
		m->hi = f->hi;
		m->build_id_len = f->blen;
		memcpy(m->build_id, f->bid, f->blen);
		m->path = f->path;		/* now the module's */
		m->load_ns = f->ns;
		m->unload_ns = UINT64_MAX;
		r->msrc[r->nmsrc++] = (struct modsrc){ f->at, mi };
	}
	qsort(r->msrc, r->nmsrc, sizeof(*r->msrc), cmp_src);
	free(sc.v);
	memcpy(r->cost, sc.cost, sizeof(r->cost));
	r->has_cost = sc.has_cost;
	trace_comp_setup(t, r);
	file_ids(t, r);
	index_modules(t, r);
}

/**
 * trace_module_of - the module of the MODULE or UNLOAD record that ends at offset @off of
 * chunk @ci (an index into r->chunks). Return: its index, or TRACE_NO_MODULE.
 */
uint32_t trace_module_of(const struct reader *r, uint32_t ci, uint32_t off)
{
	uint64_t at = (uint64_t)ci << 32 | off;
	uint32_t lo = 0, hi = r->nmsrc;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->msrc[mid].at < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nmsrc && r->msrc[lo].at == at ? r->msrc[lo].module : TRACE_NO_MODULE;
}

/* Sort module @i (holding the address) into the three kinds of trace_module_pick. */
static inline void consider(const struct trace_module *m, uint32_t i, uint64_t ns,
			    uint32_t *live, uint32_t *after, uint32_t *before)
{
	if (m->load_ns <= ns && ns < m->unload_ns) {
		if (*live == TRACE_NO_MODULE || i > *live)
			*live = i;
	} else if (m->load_ns > ns) {
		if (*after == TRACE_NO_MODULE || i < *after)
			*after = i;
	} else if (*before == TRACE_NO_MODULE || i > *before) {
		*before = i;
	}
}

/**
 * trace_module_pick - the module holding address @a at time @ns (ns since the trace start),
 * given the @n modules @mods (in load order) indexed by lo (@by_lo, with @max_hi the running
 * maximum of hi; @overlap: some ranges were used twice): among the modules whose range holds
 * it, the one loaded then (the latest of them, should two be), else the first loaded after
 * @ns (its MODULE record is written when dlopen returns, after its constructors ran), else
 * the last loaded before it (an address seen after its unload: the name it had). Without
 * ranges used twice the time changes nothing. The one rule of the reader and the symbols;
 * this form looks at every module that holds @a (trace_module_at, at a few per range).
 * Return: an index into @mods, or TRACE_NO_MODULE.
 */
uint32_t trace_module_pick(const struct trace_module *mods, const uint32_t *by_lo,
			   const uint64_t *max_hi, uint32_t n, bool overlap, uint64_t a, uint64_t ns)
{
	uint32_t live = TRACE_NO_MODULE, after = TRACE_NO_MODULE, before = TRACE_NO_MODULE;
	uint32_t lo = 0, hi = n, k;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mods[by_lo[mid]].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = lo;
	if (!overlap)
		return k && a < mods[by_lo[k - 1]].hi ? by_lo[k - 1] : TRACE_NO_MODULE;
	while (k-- > 0 && max_hi[k] > a)
		if (a < mods[by_lo[k]].hi)
			consider(&mods[by_lo[k]], by_lo[k], ns, &live, &after, &before);
	return live != TRACE_NO_MODULE ? live : after != TRACE_NO_MODULE ? after : before;
}

/**
 * trace_module_at - trace_module_pick over the modules of @t, by range: the loads of one
 * range are in load order, so only the last loaded by @ns and the next one can be picked
 * (a binary search); a program that dlopens a library a million times costs a few steps
 * per range holding @a, not a million.
 */
uint32_t trace_module_at(const struct trace *t, uint64_t a, uint64_t ns)
{
	const struct reader *r = R(t);
	uint32_t live = TRACE_NO_MODULE, after = TRACE_NO_MODULE, before = TRACE_NO_MODULE;
	uint32_t lo = 0, hi = r->nrng, k;

	if (!r->overlap)
		return trace_module_pick(t->modules, r->by_lo, r->max_hi, t->nmodules, false, a, ns);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->rng[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k-- > 0 && r->rng[k].max_hi > a;) {
		const struct mrange *g = &r->rng[k];
		const uint32_t *v = r->by_lo + g->first;
		uint32_t l = 0, h = g->n;

		if (a >= g->hi)
			continue;
		while (l < h) {		/* l = how many of its loads came by ns */
			uint32_t mid = l + (h - l) / 2;

			if (t->modules[v[mid]].load_ns <= ns)
				l = mid + 1;
			else
				h = mid;
		}
		if (l)
			consider(&t->modules[v[l - 1]], v[l - 1], ns, &live, &after, &before);
		if (l < g->n)
			consider(&t->modules[v[l]], v[l], ns, &live, &after, &before);
	}
	return live != TRACE_NO_MODULE ? live : after != TRACE_NO_MODULE ? after : before;
}

/**
 * trace_epoch_enter - thread @ts's events reached @ns outside its epoch: take the epoch
 * holding @ns (between two module changes) and forget what the thread resolved so far
 * (its function ids and stack nodes are resolved again, at their next use).
 */
void trace_epoch_enter(const struct reader *r, struct tstate *ts, uint64_t ns)
{
	uint32_t lo = u64_upper(r->bounds, r->nbounds, ns);

	ts->ep_lo = lo ? r->bounds[lo - 1] : 0;
	ts->ep_hi = lo < r->nbounds ? r->bounds[lo] : UINT64_MAX;
	ts->ep_hi_tk = ns_tick_bound(r, ts->ep_hi);
	ts->gen++;
}
