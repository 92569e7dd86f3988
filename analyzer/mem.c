// SPDX-License-Identifier: MIT
/*
 * The memory model (mem.h): one replay of the malloc-family events of a trace in global time
 * order (WALK_MERGED), keeping only live blocks and per-stack aggregates, the stacks grouped
 * into sites, the suppressions matched, and mem_summarize's totals (for `summary` and
 * findings). The views are report-mem.c (`memory`, `leaks`); leak suppressions are in
 * suppress.c; the replay itself, its accounting rules and time order in replay.c.
 *
 * Stacks whose symbolized frames are identical (two call sites in one function) are merged
 * into one site for output. `memory` needs each site's exact peak: mem_load_peaks keys the
 * stacks as the replay first meets them (its groups: replay.h; by_group, so that only the
 * sites' aggregates are kept), which needs the symbols before the replay; a trace whose main
 * module is unnamed (its name is the PROCESS record's exe, read by the walk) has its peaks
 * recomputed by a second replay keyed by site instead, done only when merges happened.
 * mem_build (html, summary) keys them as it goes too, and also keeps the per-thread sites,
 * the timeline and the allocation shapes findings reads.
 */
#define PR_FMT "memory"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "analyzer/mem.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

/** mem_live_var - the variance of the leaked bytes after suppressions (sampled traces). */
double mem_live_var(const struct mem *m)
{
	return m->r.live_var - m->supp_var;
}

static void free_keys(struct strmap *keys)
{
	struct strmap_ent *k;

	for (k = strmap_each(keys, NULL); k; k = strmap_each(keys, k))
		free((char *)k->str);
	strmap_free(keys);
}

/*
 * The site of stack @id, by its key (@keys: site index by key; a new one numbered @next).
 * Return: its index; *@created whether it is new.
 */
static uint32_t key_index(struct strmap *keys, const struct mem *m, uint32_t id, uint32_t next,
			  bool *created)
{
	char *key = replay_stack_key(m->t, m->sym, id);
	struct strmap_ent *k = strmap_intern(keys, key, created);

	if (*created)
		k->v = next;
	else
		free(key);
	return (uint32_t)k->v;
}

/* Add what aggregate @a of @r counted to site @s. */
static void site_add(struct site *s, const struct replay *r, const struct replay_agg *a)
{
	s->allocs += a->allocs;
	s->bytes += a->bytes;
	s->frees += a->frees;
	s->temporary += a->temporary;
	s->leaked_bytes += a->live_bytes;
	s->leaked_blocks += a->live_blocks;
	s->bytes_var += a->bytes_var;
	s->leaked_var += a->live_var;
	s->peak_bytes = a->peak_bytes;	/* exact unless merged (pass 2 fixes) */
	s->at_peak_bytes += replay_peak_bytes(r, a);
	s->at_peak_blocks += replay_peak_blocks(r, a);
}

/*
 * Group the stacks of pass 1 into sites (by their keys, or the replay's groups of them),
 * numbered by their least stack id. With by_group the replay kept only the groups'
 * aggregates: a stack allocated when the replay asked its group.
 */
static void build_sites(struct mem *m)
{
	struct strmap keys = { 0 };
	const struct replay *r = &m->r;
	bool by_group = r->by_group;
	uint32_t id, *gsite = NULL, ng = !r->group ? 0 : by_group ? r->naggs : r->ngaggs;

	m->nmap = by_group ? r->nsgroup : r->naggs;
	m->map = xcalloc(m->nmap ? m->nmap : 1, sizeof(*m->map));
	m->sites = xcalloc(m->nmap ? m->nmap : 1, sizeof(*m->sites));
	if (ng) {
		gsite = xmalloc(ng * sizeof(*gsite));
		memset(gsite, 0xff, ng * sizeof(*gsite));
	}
	for (id = 0; id < m->nmap; id++) {
		struct site *s;
		bool created;
		uint32_t k, g = 0;

		if (by_group ? !r->sgroup[id] : !r->aggs[id].allocs)
			continue;
		if (gsite) {		/* the replay grouped them by the same keys */
			g = replay_group(r, id);
			created = gsite[g] == UINT32_MAX;
			if (created)
				gsite[g] = m->nsites;
			k = gsite[g];
		} else {
			k = key_index(&keys, m, id, m->nsites, &created);
		}
		if (!created) {
			m->merged = true;
		} else {
			m->nsites++;
			m->sites[k].stack = id;
			m->sites[k].supp = -1;
		}
		m->map[id] = k;
		s = &m->sites[k];
		s->nstacks++;
		if (by_group) {		/* the group's figures, once */
			if (created)
				site_add(s, r, &r->aggs[g]);
			continue;
		}
		site_add(s, r, &r->aggs[id]);
		if (gsite)	/* the group's peak: exact, merged or not */
			s->peak_bytes = r->gaggs[g].peak_bytes;
	}
	free(gsite);
	free_keys(&keys);
}

/** mem_site_peaks - exact per-site peaks when stacks merged: replay again keyed by site. */
int mem_site_peaks(struct mem *m)
{
	struct replay r2;
	uint32_t i;

	if (!m->merged || m->r.group)	/* the groups' peaks are the sites' */
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

static uint32_t build_group(struct replay *r, uint32_t stack, void *arg);

/*
 * Whether the stacks of @t symbolize the same before its first walk as after it: the
 * symbols name an unnamed main module by the PROCESS record's exe, which only a walk reads.
 */
static bool keyable_now(const struct trace *t)
{
	uint32_t i;

	if (t->exe)
		return true;
	for (i = 0; i < t->nmodules; i++)
		if (!t->modules[i].path || !*t->modules[i].path)
			return false;
	return true;
}

/*
 * replay, symbolize and group; @peaks: with exact per-site peaks, from the one replay
 * (the stacks keyed as it meets them, mem_build's groups) where the symbols can be opened
 * before it, else by mem_site_peaks' second replay
 */
static int load(struct mem *m, struct trace *t, const struct opts *o, bool peaks)
{
	memset(m, 0, sizeof(*m));
	m->t = t;
	m->o = o;
	if (peaks && keyable_now(t)) {
		m->sym = replay_symbols(t, o);
		m->own_sym = true;
		m->r.group = build_group;
		/* sampled: the stacks' variances summed per site as mem_build does */
		m->r.by_group = !t->hdr.sample_mean;
		m->r.arg = m;
	}
	if (replay_run(&m->r, t) < 0)
		return -1;
	/* after the walk: the contents decide (a header that says otherwise is warned about) */
	if (!(t->hdr.flags & TRACE_F_MALLOC) && !t->nallocs && !t->nfrees && !t->nreallocs)
		pr_warn("%s: the malloc family was not recorded (PERFSHIM_EVENTS): no allocations\n",
			t->path);
	if (!m->sym) {
		m->sym = replay_symbols(t, o);
		if (!m->sym)
			return -1;
		m->own_sym = true;
	}
	build_sites(m);
	return peaks ? mem_site_peaks(m) : 0;
}

/** mem_load - replay, symbolize and group (@m zeroed here). Return: 0 or -1 (message printed). */
int mem_load(struct mem *m, struct trace *t, const struct opts *o)
{
	return load(m, t, o, false);
}

/** mem_load_peaks - mem_load with exact per-site peaks (see mem.h). */
int mem_load_peaks(struct mem *m, struct trace *t, const struct opts *o)
{
	return load(m, t, o, true);
}

/** mem_free - release what mem_load (or mem_build) and mem_suppress made. */
void mem_free(struct mem *m)
{
	supp_free(m->supp);
	replay_free(&m->r);
	if (m->sym && m->own_sym)
		sym_close(m->sym);
	free(m->sites);
	free(m->map);
	if (m->tl) {
		timeline_release(m->tl, &m->v);
		free(m->tl);
	}
	if (m->shapes) {
		mem_shapes_free(m->shapes);
		free(m->shapes);
	}
	free_keys(&m->keys);
}

/* ---- the shapes of the stacks' allocations (mem.h) ---- */

static struct mem_shape *shape_of(struct mem_shapes *sh, uint32_t id)
{
	ARRAY_GROW_ZERO(sh->s, sh->ns, (size_t)id + 1);
	return &sh->s[id];
}

static void chain_drop(struct mem_shapes *sh, uint64_t ptr)
{
	struct mem_chain *c = mem_chains_get(&sh->chains, ptr);

	if (c)
		mem_chains_del(&sh->chains, c);
}

/* a realloc grew a block from @old to ev->size: continue its chain or start one */
static void chain_grow(struct mem_shapes *sh, const struct trace_event *e, uint64_t old)
{
	uint64_t step = e->size - old, ptr = e->ptr;
	struct mem_shape *sm = shape_of(sh, e->stack);
	struct mem_chain *c = mem_chains_get(&sh->chains, e->old_ptr);
	uint32_t run = 1;
	bool created;

	if (c) {
		if (c->size == old && c->step == step)
			run = c->run + 1;
		mem_chains_del(&sh->chains, c);
	}
	c = mem_chains_put(&sh->chains, ptr, &created);	/* a stale chain of a block freed there */
	*c = (struct mem_chain){ .ptr = ptr, .size = e->size, .step = step, .run = run };
	if (run > sm->run) {
		sm->run = run;
		sm->step = step;
		sm->final = e->size;
	}
}

/** mem_shapes_event - an ALLOC or REALLOC (the replay's mem hook) into @sh. */
void mem_shapes_event(struct mem_shapes *sh, const struct trace_event *e, uint64_t old_size)
{
	struct mem_shape *sm;

	if (e->type == EV_REALLOC && e->old_ptr) {
		if (e->ptr && old_size && e->size > old_size)
			chain_grow(sh, e, old_size);
		else
			chain_drop(sh, e->old_ptr);
	}
	if (!e->ptr)
		return;
	sm = shape_of(sh, e->stack);
	if (!sm->max_size || e->size < sm->min_size)
		sm->min_size = e->size;
	if (e->size > sm->max_size)
		sm->max_size = e->size;
}

/** mem_shapes_free - release @sh's arrays (zeroed). */
void mem_shapes_free(struct mem_shapes *sh)
{
	mem_chains_free(&sh->chains);
	free(sh->s);
	memset(sh, 0, sizeof(*sh));
}

/* ---- mem_build: one replay for the sites, the timeline and the shapes ---- */

static uint32_t build_group(struct replay *r, uint32_t stack, void *arg)
{
	struct mem *m = arg;
	bool created;

	return key_index(&m->keys, m, stack, (uint32_t)m->keys.n, &created);
}

static uint64_t build_stop(struct replay *r, uint64_t at, void *arg)
{
	return timeline_stop(r, at, ((struct mem *)arg)->tl);
}

static void build_other(struct replay *r, const struct trace_event *ev, void *arg)
{
	timeline_other(((struct mem *)arg)->tl, ev);
}

static void build_mem(struct replay *r, const struct trace_event *ev, uint64_t old_size,
		      void *arg)
{
	mem_shapes_event(((struct mem *)arg)->shapes, ev, old_size);
}

/** mem_build - see mem.h. */
int mem_build(struct mem *m, struct trace *t, const struct opts *o, struct symbols *sym,
	      unsigned want)
{
	memset(m, 0, sizeof(*m));
	m->t = t;
	m->o = o;
	m->sym = sym;
	m->r.group = build_group;
	m->r.per_thread = want & MEM_THREADS;
	m->r.arg = m;
	if (want & MEM_TIMELINE) {
		m->tl = xcalloc(1, sizeof(*m->tl));
		if (timeline_begin(t, m->tl, &m->r) < 0)
			return -1;
		m->r.stop = build_stop;
		m->r.other = build_other;
	}
	if (want & MEM_SHAPES) {
		m->shapes = xcalloc(1, sizeof(*m->shapes));
		m->r.mem = build_mem;
	}
	if (replay_run(&m->r, t) < 0)
		return -1;
	build_sites(m);
	if (m->tl)
		timeline_judge(m->tl, t, sym, &m->v);
	return 0;
}

/** mem_thread_sites - see mem.h. */
void mem_thread_sites(const struct mem *m, uint32_t thread, bool own, struct site *s)
{
	uint32_t i;

	for (i = 0; i < m->nsites; i++) {
		uint32_t first = 0;
		const struct replay_agg *a = replay_cell_agg(
			&m->r, thread, replay_group(&m->r, m->sites[i].stack), &first);

		memset(&s[i], 0, sizeof(s[i]));
		s[i].stack = a && own ? first : m->sites[i].stack;
		s[i].supp = -1;
		if (!a)
			continue;
		s[i].nstacks = 1;
		s[i].allocs = a->allocs;
		s[i].bytes = a->bytes;
		s[i].frees = a->frees;
		s[i].temporary = a->temporary;
		s[i].leaked_bytes = a->live_bytes;
		s[i].leaked_blocks = a->live_blocks;
		s[i].bytes_var = a->bytes_var;
		s[i].leaked_var = a->live_var;
		s[i].peak_bytes = a->peak_bytes;
		s[i].at_peak_bytes = replay_peak_bytes(&m->r, a);
		s[i].at_peak_blocks = replay_peak_blocks(&m->r, a);
	}
}

/**
 * mem_suppress - match the sites still holding blocks at the end against the suppressions
 * (built-in and --suppressions FILE; none with --no-suppress). Return: 0, or -1 after an
 * error line.
 */
int mem_suppress(struct mem *m)
{
	if (m->o && m->o->no_suppress)
		return 0;
	m->supp = supp_load(m->o ? m->o->suppressions : NULL, true);
	if (!m->supp)
		return -1;
	mem_match(m, m->supp, m->sites, &m->supp_bytes, &m->supp_blocks);
	return 0;
}

/** mem_match - see mem.h. */
void mem_match(struct mem *m, struct suppressions *supp, struct site *s, uint64_t *bytes,
	       uint64_t *blocks)
{
	uint32_t i;

	for (i = 0; i < m->nsites; i++) {
		struct site *st = &s[i];

		if (!st->leaked_blocks)
			continue;
		st->supp = supp_match(supp, m->sym, m->t, st->stack);
		if (st->supp >= 0) {
			*bytes += st->leaked_bytes;
			*blocks += st->leaked_blocks;
			if (s == m->sites)
				m->supp_var += st->leaked_var;
		}
	}
}


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

/** mem_sort - the indices @idx (@n) of sites in @sites, sorted by @by (see mem.h). */
void mem_sort(const struct site *sites, uint32_t *idx, uint32_t n, enum site_order by)
{
	struct sort_ctx c = { sites, by };

	qsort_r(idx, n, sizeof(*idx), cmp_site, &c);
}

/** mem_sorted_sites - indices of the sites passing @keep (NULL: all), sorted by @by. Free them. */
uint32_t *mem_sorted_sites(struct mem *m, enum site_order by,
			  bool (*keep)(const struct site *), uint32_t *n)
{
	uint32_t *idx = xmalloc((m->nsites + 1) * sizeof(*idx)), i;

	*n = 0;
	for (i = 0; i < m->nsites; i++)
		if (!keep || keep(&m->sites[i]))
			idx[(*n)++] = i;
	mem_sort(m->sites, idx, *n, by);
	return idx;
}

/** mem_is_leak - whether site @s holds unsuppressed blocks at the end (a leak). */
bool mem_is_leak(const struct site *s)
{
	return s->leaked_blocks && s->supp < 0;
}

/** mem_at_peak - whether site @s held bytes at the global peak. */
bool mem_at_peak(const struct site *s)
{
	return s->at_peak_bytes > 0;
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
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (mem_load(&m, t, o) < 0 || mem_suppress(&m) < 0)
		goto out;
	mem_summary_of(&m, out);
	ret = 0;
out:
	mem_free(&m);
	return ret;
}

/** mem_summary_of - see mem.h. */
void mem_summary_of(struct mem *m, struct mem_summary *out)
{
	uint32_t i, n, *idx;

	memset(out, 0, sizeof(*out));
	out->allocations = m->r.allocs;
	out->frees = m->r.frees;
	out->bytes_allocated = m->r.bytes_alloc;
	out->bytes_freed = m->r.bytes_freed;
	out->peak_bytes = m->r.peak_bytes;
	out->peak_time_ns = m->r.peak_ns;
	out->temporary = m->r.temporary;
	out->unknown_frees = m->r.unknown_frees;
	out->live_bytes = m->r.live_bytes;
	out->live_blocks = m->r.live_blocks;
	out->suppressed_bytes = m->supp_bytes;
	out->suppressed_blocks = m->supp_blocks;
	idx = mem_sorted_sites(m, BY_LEAKED, mem_is_leak, &n);
	for (i = 0; i < n; i++) {
		const struct site *l = &m->sites[idx[i]];

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
}
