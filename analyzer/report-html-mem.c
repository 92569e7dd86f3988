/* SPDX-License-Identifier: MIT */
/*
 * The memory side of the `html` report's data (docs/html-data.md, "memory"): totals, sites
 * (stacks grouped by their symbolized frames, as `memory` and `leaks` group them) for all
 * threads and per thread, leaks after the suppressions, the size histogram and the
 * `timeline` object. All of it from the memory model (mem.c's mem_build): one heap replay
 * that keeps the sites with exact peaks, per thread too, the timeline and what findings
 * reads; html_trace hands the same model to findings.
 */
#define PR_FMT "html"
#include <stdlib.h>
#include <string.h>

#include "analyzer/html.h"
#include "analyzer/json.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/timeline-out.h"

#define NONE UINT32_MAX

/* what the page lists of the model: its scope's sites and their rows in "stacks" */
struct hmem {
	struct mem *m;
	struct site *all;		/* the page's sites: the model's, or --thread's own */
	uint32_t nsites;
	uint32_t *row;			/* site -> row of "stacks", NONE until a scope lists it */
	uint32_t *rows;			/* rows of "stacks": site ids */
	uint32_t nrows;
	uint64_t supp_bytes, supp_blocks;
};

/*
 * The sites a scope lists: the largest html_cap(HTML_SITES) by bytes allocated, by bytes
 * leaked (unsuppressed leaks) and by bytes held at the peak, together, in order of bytes.
 * Return: their number; *@total and *@left_bytes say what the others were.
 */
static uint32_t pick_sites(struct html *h, struct hmem *m, const struct site *s,
			   uint32_t *out, uint32_t *total, uint64_t *left_bytes)
{
	static const enum site_order rank[] = { BY_AT_PEAK, BY_LEAKED, BY_BYTES };
	uint32_t *order = xmalloc((m->nsites + 1) * sizeof(*order)), n, i, k, cap, got = 0;
	uint8_t *take = xcalloc(m->nsites + 1, 1);
	unsigned r;

	cap = html_cap(h, HTML_SITES);
	*total = 0;
	*left_bytes = 0;
	for (r = 0; r < sizeof(rank) / sizeof(rank[0]); r++) {
		for (i = 0, n = 0; i < m->nsites; i++) {
			bool leak = s[i].leaked_blocks && m->all[i].supp < 0;

			if (!s[i].allocs || (rank[r] == BY_LEAKED && !leak) ||
			    (rank[r] == BY_AT_PEAK && !s[i].at_peak_bytes))
				continue;
			order[n++] = i;
		}
		mem_sort(s, order, n, rank[r]);	/* as `memory` sorts */
		for (k = 0; k < n && k < cap; k++)
			take[order[k]] = 1;
	}
	/* listed in order of bytes */
	for (i = 0, n = 0; i < m->nsites; i++)
		if (s[i].allocs)
			order[n++] = i;
	mem_sort(s, order, n, BY_BYTES);
	for (k = 0; k < n; k++) {
		if (take[order[k]])
			out[got++] = order[k];
		else
			*left_bytes += s[order[k]].bytes;
	}
	*total = n;
	free(take);
	free(order);
	return got;
}

/* one scope's "sites" table; its sites get rows in "stacks" */
static void scope_json(struct html *h, struct hmem *m, int thread, const struct site *s)
{
	static const char *const cols[] = { "stack", "allocations", "bytes", "frees",
					    "temporary", "peak_bytes", "leaked_bytes",
					    "leaked_blocks", "bytes_at_peak", "blocks_at_peak",
					    NULL };
	uint32_t *pick = xmalloc((m->nsites + 1) * sizeof(*pick)), n, total, i, c;
	struct json *j = &h->j;
	uint64_t left;

	n = pick_sites(h, m, s, pick, &total, &left);
	json_obj_begin(j, NULL);
	if (thread >= 0)
		json_u64(j, "thread", (uint64_t)thread);
	else
		json_null(j, "thread");
	json_obj_begin(j, "sites");
	json_arr_begin(j, "columns");
	for (c = 0; cols[c]; c++)
		json_str(j, NULL, cols[c]);
	json_arr_end(j);
	json_arr_begin(j, "rows");
	for (i = 0; i < n; i++) {
		const struct site *x = &s[pick[i]];

		if (m->row[pick[i]] == NONE) {
			m->row[pick[i]] = m->nrows;
			m->rows[m->nrows++] = pick[i];
		}
		json_arr_begin(j, NULL);
		json_u64(j, NULL, m->row[pick[i]]);
		json_u64(j, NULL, x->allocs);
		json_u64(j, NULL, x->bytes);
		json_u64(j, NULL, x->frees);
		json_u64(j, NULL, x->temporary);
		json_u64(j, NULL, x->peak_bytes);
		json_u64(j, NULL, x->leaked_bytes);
		json_u64(j, NULL, x->leaked_blocks);
		json_u64(j, NULL, x->at_peak_bytes);
		json_u64(j, NULL, x->at_peak_blocks);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_u64(j, "total_rows", total);
	json_obj_end(j);
	json_obj_end(j);
	if (n < total)
		html_note(h, "sites", thread, n, total, left, "bytes");
	free(pick);
}

/* "stacks": the listed sites' stacks (frames innermost first, without the shim's own) */
static void stacks_json(struct html *h, struct hmem *m)
{
	static const char *const cols[] = { "id", "frames", "suppressed_by", NULL };
	struct json *j = &h->j;
	uint32_t i, k, c;

	json_obj_begin(j, "stacks");
	json_arr_begin(j, "columns");
	for (c = 0; cols[c]; c++)
		json_str(j, NULL, cols[c]);
	json_arr_end(j);
	json_arr_begin(j, "rows");
	for (i = 0; i < m->nrows; i++) {
		const struct site *s = &m->all[m->rows[i]];
		struct trace_stack st = { 0 };

		if (s->stack)
			st = trace_stack_get(h->t, s->stack);
		json_arr_begin(j, NULL);
		json_u64(j, NULL, s->stack);
		json_arr_begin(j, NULL);
		for (k = 0; k < st.nframes; k++) {
			uint32_t ids[SYM_MAX_INLINE];
			int n, x;

			if (replay_shim_frame(h->sym, &st.frames[k]))
				continue;
			n = html_frames_of(h, &st.frames[k], ids, SYM_MAX_INLINE);
			for (x = 0; x < n; x++)
				json_u64(j, NULL, ids[x]);
		}
		if (s->stack && trace_stack_truncated(h->t, s->stack))
			json_u64(j, NULL, html_frame_truncated(h));
		json_arr_end(j);
		if (s->supp >= 0 && s->leaked_blocks)
			json_u64(j, NULL, html_str(h, supp_rule(h->supp, (unsigned)s->supp)));
		else
			json_null(j, NULL);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/* leaks left to the suppressions, per rule (as `leaks` lists them) */
static void suppressed_json(struct html *h, struct hmem *m)
{
	unsigned nrules = h->supp ? supp_count(h->supp) : 0, r;
	uint64_t(*tot)[3] = xcalloc(nrules + 1, sizeof(*tot));
	struct json *j = &h->j;
	uint32_t i;

	for (i = 0; i < m->nsites; i++) {
		const struct site *s = &m->all[i];

		if (!s->leaked_blocks || s->supp < 0)
			continue;
		tot[s->supp][0] += s->leaked_bytes;
		tot[s->supp][1] += s->leaked_blocks;
		tot[s->supp][2]++;
	}
	json_arr_begin(j, "suppressed");
	for (r = 0; r < nrules; r++) {
		if (!tot[r][1])
			continue;
		json_obj_begin(j, NULL);
		json_str(j, "rule", supp_rule(h->supp, r));
		json_u64(j, "bytes", tot[r][0]);
		json_u64(j, "blocks", tot[r][1]);
		json_u64(j, "stacks", tot[r][2]);
		json_obj_end(j);
	}
	json_arr_end(j);
	free(tot);
}

/* the scope's counts: every thread's, or the --thread one's (as a one_thread replay) */
static void scope_counts(const struct html *h, const struct replay *r, struct replay_counts *c)
{
	if (h->thread >= 0) {
		if ((uint32_t)h->thread < r->ntcounts)
			*c = r->tcounts[h->thread];
		else
			memset(c, 0, sizeof(*c));
		return;
	}
	*c = (struct replay_counts){ .allocs = r->allocs, .frees = r->frees,
				     .bytes_alloc = r->bytes_alloc, .bytes_freed = r->bytes_freed,
				     .reallocs = r->reallocs, .unknown_frees = r->unknown_frees,
				     .temporary = r->temporary };
	memcpy(c->hist_count, r->hist_count, sizeof(c->hist_count));
	memcpy(c->hist_bytes, r->hist_bytes, sizeof(c->hist_bytes));
}

/* the totals: the scope's counts; the live heap and its peak are the process's */
static void totals_json(struct html *h, const struct hmem *m)
{
	const struct replay *r = &m->m->r;
	struct json *j = &h->j;
	struct replay_counts c;
	unsigned k;

	scope_counts(h, r, &c);
	json_u64(j, "allocations", c.allocs);
	json_u64(j, "frees", c.frees);
	json_u64(j, "bytes_allocated", c.bytes_alloc);
	json_u64(j, "bytes_freed", c.bytes_freed);
	json_u64(j, "peak_bytes", r->peak_bytes);
	json_u64(j, "peak_time_ns", r->peak_ns);
	json_u64(j, "peak_blocks", r->peak_blocks);
	json_u64(j, "leaked_bytes", r->live_bytes - m->supp_bytes);
	json_u64(j, "leaked_blocks", r->live_blocks - m->supp_blocks);
	json_u64(j, "temporary_allocations", c.temporary);
	json_u64(j, "live_at_end_bytes", r->live_bytes);
	json_u64(j, "live_at_end_blocks", r->live_blocks);
	json_u64(j, "suppressed_bytes", m->supp_bytes);
	json_u64(j, "suppressed_blocks", m->supp_blocks);
	json_u64(j, "unknown_frees", c.unknown_frees);
	json_u64(j, "reallocs", c.reallocs);
	json_bool(j, "suppressions", h->supp != NULL);
	json_arr_begin(j, "histogram");		/* size 0, then [2^(k-1), 2^k - 1] */
	for (k = 0; k < REPLAY_NBUCKETS; k++) {
		if (!c.hist_count[k])
			continue;
		json_obj_begin(j, NULL);
		json_u64(j, "min", k ? 1ULL << (k - 1) : 0);
		json_u64(j, "max", k ? (k == 64 ? UINT64_MAX : (1ULL << k) - 1) : 0);
		json_u64(j, "allocations", c.hist_count[k]);
		json_u64(j, "bytes", c.hist_bytes[k]);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static const uint64_t *sort_allocs;

static int by_allocs(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (sort_allocs[x] != sort_allocs[y])
		return sort_allocs[x] > sort_allocs[y] ? -1 : 1;
	return x < y ? -1 : 1;
}

static int by_index(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Per-thread scopes: the HTML_MEM_THREADS threads that allocated most, each counting only
 * the blocks it allocated (the model's per-thread aggregates). None with --thread, or when
 * one thread allocated.
 */
static void thread_scopes(struct html *h, struct hmem *m)
{
	const struct trace *t = h->t;
	const struct replay *r = &m->m->r;
	uint32_t *order = xmalloc((t->nthreads + 1) * sizeof(*order)), n = 0, i, nt;
	struct site *s = xcalloc(m->nsites + 1, sizeof(*s));

	/* the replay's own count of each thread's allocations (its temporary-block clock) */
	for (i = 0; h->thread < 0 && i < t->nthreads && i < r->nthreads; i++)
		if (r->tseq[i])
			order[n++] = i;
	sort_allocs = r->tseq;
	qsort(order, n, sizeof(*order), by_allocs);
	nt = n;
	if (n > HTML_MEM_THREADS)
		n = HTML_MEM_THREADS;
	if (nt > n)
		html_note(h, "memory_thread_views", -1, n, nt, 0, NULL);
	/* in thread order, as the time side lists them */
	qsort(order, n, sizeof(*order), by_index);
	for (i = 0; n > 1 && i < n; i++) {
		mem_thread_sites(m->m, order[i], false, s);
		scope_json(h, m, (int)order[i], s);
	}
	free(s);
	free(order);
}

/*
 * html_memory - the "memory" object of the trace (absent when the malloc family was not
 * recorded) from the model h->mem, built here (h->have_mem) for findings to read too.
 * Return: 0, or -1 when the replay failed (reported by the reader).
 */
int html_memory(struct html *h)
{
	struct mem *mm = &h->mem;
	struct hmem m = { .m = mm };
	uint32_t id;

	if (!(h->t->hdr.flags & TRACE_F_MALLOC))
		return 0;
	h->have_mem = true;
	if (mem_build(mm, h->t, h->o, h->sym, MEM_TIMELINE | MEM_SHAPES | MEM_THREADS) < 0)
		return -1;
	m.nsites = mm->nsites;
	m.all = mm->sites;
	if (h->supp)	/* the model's sites as `leaks` has them: findings reads them */
		mem_match(mm, h->supp, mm->sites, &mm->supp_bytes, &mm->supp_blocks);
	if (h->thread >= 0) {	/* the thread's own sites */
		m.all = xcalloc(m.nsites + 1, sizeof(*m.all));
		mem_thread_sites(mm, (uint32_t)h->thread, true, m.all);
		if (h->supp)
			mem_match(mm, h->supp, m.all, &m.supp_bytes, &m.supp_blocks);
	} else {
		m.supp_bytes = mm->supp_bytes;
		m.supp_blocks = mm->supp_blocks;
	}
	m.row = xmalloc((m.nsites + 1) * sizeof(*m.row));
	for (id = 0; id < m.nsites; id++)
		m.row[id] = NONE;
	m.rows = xmalloc((m.nsites + 1) * sizeof(*m.rows));
	json_obj_begin(&h->j, "memory");
	totals_json(h, &m);
	json_arr_begin(&h->j, "scopes");
	scope_json(h, &m, -1, m.all);
	thread_scopes(h, &m);
	json_arr_end(&h->j);
	stacks_json(h, &m);
	suppressed_json(h, &m);
	if (mm->tl)
		timeline_json(&h->j, "timeline", mm->tl, h->t, h->sym, &mm->v);
	json_obj_end(&h->j);
	if (m.all != mm->sites)
		free(m.all);
	free(m.row);
	free(m.rows);
	return 0;
}
