// SPDX-License-Identifier: MIT
/*
 * The memory model (mem.h): one replay of the malloc-family events of a trace in global time
 * order (WALK_MERGED), keeping only live blocks and per-stack aggregates, the stacks grouped
 * into sites, the suppressions matched, and mem_summarize's totals (for `summary` and
 * findings). The views are report-mem.c (`memory`, `leaks`); leak suppressions are in
 * suppress.c; the replay itself, its accounting rules and time order in replay.c.
 *
 * Stacks whose symbolized frames are identical (two call sites in one function) are merged
 * into one site for output; their per-site peak is then recomputed exactly by a second replay
 * keyed by site, done only when such merges happened.
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

/** mem_live_var - the variance of the leaked bytes after suppressions (sampled traces). */
double mem_live_var(const struct mem *m)
{
	return m->r.live_var - m->supp_var;
}

/* Group the stacks of pass 1 into sites. */
static void build_sites(struct mem *m)
{
	struct strmap keys = { 0 };
	struct strmap_ent *k;
	uint32_t id;

	m->nmap = m->r.naggs;
	m->map = xcalloc(m->nmap ? m->nmap : 1, sizeof(*m->map));
	m->sites = xcalloc(m->nmap ? m->nmap : 1, sizeof(*m->sites));
	for (id = 0; id < m->r.naggs; id++) {
		const struct replay_agg *a = &m->r.aggs[id];
		struct site *s;
		bool created;
		char *key;

		if (!a->allocs)
			continue;
		key = replay_stack_key(m->t, m->sym, id);
		k = strmap_intern(&keys, key, &created);	/* site index by key */
		if (!created) {
			free(key);
			m->merged = true;
		} else {
			k->v = m->nsites++;
			m->sites[k->v].stack = id;
			m->sites[k->v].supp = -1;
		}
		m->map[id] = (uint32_t)k->v;
		s = &m->sites[k->v];
		s->nstacks++;
		s->allocs += a->allocs;
		s->bytes += a->bytes;
		s->frees += a->frees;
		s->temporary += a->temporary;
		s->leaked_bytes += a->live_bytes;
		s->leaked_blocks += a->live_blocks;
		s->bytes_var += a->bytes_var;
		s->leaked_var += a->live_var;
		s->peak_bytes = a->peak_bytes;	/* exact unless merged (pass 2 fixes) */
		s->at_peak_bytes += replay_peak_bytes(&m->r, a);
		s->at_peak_blocks += replay_peak_blocks(&m->r, a);
	}
	for (k = strmap_each(&keys, NULL); k; k = strmap_each(&keys, k))
		free((char *)k->str);
	strmap_free(&keys);
}

/** mem_site_peaks - exact per-site peaks when stacks merged: replay again keyed by site. */
int mem_site_peaks(struct mem *m)
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

/** mem_load - replay, symbolize and group (@m zeroed here). Return: 0 or -1 (message printed). */
int mem_load(struct mem *m, struct trace *t, const struct opts *o)
{
	memset(m, 0, sizeof(*m));
	m->t = t;
	m->o = o;
	if (replay_run(&m->r, t) < 0)
		return -1;
	/* after the walk: the contents decide (a header that says otherwise is warned about) */
	if (!(t->hdr.flags & TRACE_F_MALLOC) && !t->nallocs && !t->nfrees && !t->nreallocs)
		pr_warn("%s: the malloc family was not recorded (PERFSHIM_EVENTS): no allocations\n",
			t->path);
	m->sym = replay_symbols(t, o);
	if (!m->sym)
		return -1;
	build_sites(m);
	return 0;
}

/** mem_free - release what mem_load and mem_suppress made. */
void mem_free(struct mem *m)
{
	supp_free(m->supp);
	replay_free(&m->r);
	if (m->sym)
		sym_close(m->sym);
	free(m->sites);
	free(m->map);
}

/**
 * mem_suppress - match the sites still holding blocks at the end against the suppressions
 * (built-in and --suppressions FILE; none with --no-suppress). Return: 0, or -1 after an
 * error line.
 */
int mem_suppress(struct mem *m)
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
			m->supp_var += st->leaked_var;
		}
	}
	return 0;
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

/** mem_sorted_sites - indices of the sites passing @keep (NULL: all), sorted by @by. Free them. */
uint32_t *mem_sorted_sites(struct mem *m, enum site_order by,
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
	idx = mem_sorted_sites(&m, BY_LEAKED, mem_is_leak, &n);
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
