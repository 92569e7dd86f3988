// SPDX-License-Identifier: MIT
/*
 * The `memory` and `leaks` reports: the memory model of mem.c (the replay, its sites and
 * suppressions) as text or JSON. Leak suppressions are in suppress.c; the replay itself,
 * its accounting rules and time order in replay.c.
 */
#define PR_FMT "memory"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "analyzer/json.h"
#include "analyzer/mem.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/report.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#define NBUCKETS REPLAY_NBUCKETS
#define TEXT_LIMIT 10		/* rows per text table without --limit */

static int sort_key(const char *name, enum site_order *by)
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
	return -1;
}

/** mem_sort_ok - whether memory takes --sort=@name (main.c says bad usage otherwise). */
bool mem_sort_ok(const char *name)
{
	enum site_order by;

	return sort_key(name, &by) == 0;
}

static int parse_sort(const char *name, enum site_order *by)
{
	if (sort_key(name, by) == 0)
		return 0;
	__pr_log("error: ", "unknown --sort %s for memory (%s)\n", name, MEM_SORT_KEYS);
	return -1;
}

/* ---- output ---- */

static void json_stack(struct mem *m, struct json *j, uint32_t id)
{
	replay_json_stack(j, m->t, m->sym, id);
}

static const char *text_stack(struct mem *m, uint32_t id, char *buf, size_t len)
{
	return replay_text_stack(m->t, m->sym, id, buf, len);
}

/* One standard deviation in whole bytes, from a variance (bytes^2; < 0 only by rounding). */
static uint64_t stddev(double var)
{
	return var > 0 ? (uint64_t)(sqrt(var) + 0.5) : 0;
}

/*
 * "sampled": what the estimates of a sampled trace rest on (docs/sampling.md): the mean, the
 * seed, how many allocations were sampled, and one standard deviation of the main totals.
 * @leaked_var: the variance of the leaked_bytes the report gives (after suppressions).
 */
static void json_sampled(struct mem *m, struct json *j, double leaked_var)
{
	const struct replay *r = &m->r;

	if (!r->sample_mean)
		return;
	json_obj_begin(j, "sampled");
	json_u64(j, "mean_bytes", r->sample_mean);
	json_u64(j, "seed", m->t->hdr.sample_seed);
	json_u64(j, "samples", r->samples);
	json_u64(j, "bytes_allocated_stddev", stddev(r->bytes_var));
	json_u64(j, "peak_bytes_stddev", stddev(r->peak_var));
	json_u64(j, "leaked_bytes_stddev", stddev(leaked_var));
	json_str(j, "method", "Poisson sampling by bytes; each sample weighted size/(1-exp(-size/mean)) (Horvitz-Thompson); stddev = sqrt(sum w(w-size))");
	json_obj_end(j);
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
	if (m->r.sample_mean) {
		json_u64(j, "bytes_stddev", stddev(s->bytes_var));
		json_u64(j, "leaked_bytes_stddev", stddev(s->leaked_var));
	}
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
	uint32_t *holders = mem_sorted_sites(m, BY_AT_PEAK, mem_at_peak, &nh);
	unsigned k;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	notes_json(m->t, &j);
	json_bool(&j, "process_finished", m->t->end_seen);
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
	json_sampled(m, &j, mem_live_var(m));
	json_obj_begin(&j, "peak");
	json_u64(&j, "time_ns", r->peak_ns);
	json_u64(&j, "bytes", r->peak_bytes);
	json_u64(&j, "blocks", r->peak_blocks);
	json_str(&j, "method", r->sample_mean ? "estimated from the samples: per-stack live bytes saved lazily at the peak instant of the weighted replay" : "exact: per-stack live bytes saved lazily at the peak instant during the replay");
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
	uint32_t i, n, *idx = mem_sorted_sites(m, by, NULL, &n);

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

/*
 * What unknown frees are: blocks allocated before recording started only when nothing of
 * the trace is missing; otherwise their allocations may be among what was lost.
 */
static const char *unknown_why(const struct trace *t)
{
	uint32_t i;
	bool whole = !t->nlost && !t->damaged_chunks && !t->truncated;

	for (i = 0; i < t->nthreads && whole; i++)
		whole = t->threads[i].complete && !t->threads[i].cut && !t->threads[i].damaged;
	return whole ? "blocks allocated before recording started"
		     : "blocks never seen allocated: allocated before recording started, or "
		       "their allocation is in what the trace lost";
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

	notes_text(m->t, f);
	fprintf(f, "Memory\n");
	fprintf(f, "  allocations     %s (%s)\n", fmt_count(a, sizeof(a), r->allocs),
		fmt_bytes(b, sizeof(b), r->bytes_alloc));
	fprintf(f, "  frees           %s (%s)\n", fmt_count(a, sizeof(a), r->frees),
		fmt_bytes(b, sizeof(b), r->bytes_freed));
	fprintf(f, "  unknown frees   %s (%s)\n", fmt_count(a, sizeof(a), r->unknown_frees),
		r->unknown_frees ? unknown_why(m->t) : "frees of blocks never seen allocated");
	fprintf(f, "  reallocs        %s\n", fmt_count(a, sizeof(a), r->reallocs));
	if (r->sample_mean)
		fprintf(f, "  temporary       not counted (sampled trace)\n");
	else
		fprintf(f, "  temporary       %s (%.1f%% of allocations)\n",
			fmt_count(a, sizeof(a), r->temporary),
			r->allocs ? 100.0 * (double)r->temporary / (double)r->allocs : 0.0);
	fprintf(f, "  peak            %s in %s blocks at %s", fmt_bytes(a, sizeof(a), r->peak_bytes),
		fmt_count(b, sizeof(b), r->peak_blocks), fmt_ns(c, sizeof(c), r->peak_ns));
	fprintf(f, " (%s bytes)\n", fmt_count(a, sizeof(a), r->peak_bytes));
	if (m->t->end_seen)
		fprintf(f, "  leaked          %s in %s blocks (as `leaks`: after suppressions)\n",
			fmt_bytes(a, sizeof(a), r->live_bytes - m->supp_bytes),
			fmt_count(b, sizeof(b), r->live_blocks - m->supp_blocks));
	else
		fprintf(f, "  live at stop    %s in %s blocks after suppressions (%s)\n",
			fmt_bytes(a, sizeof(a), r->live_bytes - m->supp_bytes),
			fmt_count(b, sizeof(b), r->live_blocks - m->supp_blocks), NOTES_UNFINISHED);
	fprintf(f, "  live at end     %s in %s blocks, %s of them suppressed\n",
		fmt_bytes(a, sizeof(a), r->live_bytes), fmt_count(b, sizeof(b), r->live_blocks),
		fmt_bytes(c, sizeof(c), m->supp_bytes));

	if (r->sample_mean)
		fprintf(f, "  estimate error  \u00b1%s allocated, \u00b1%s peak, \u00b1%s leaked (one "
			"standard deviation; %s samples)\n", fmt_bytes(a, sizeof(a), stddev(r->bytes_var)),
			fmt_bytes(b, sizeof(b), stddev(r->peak_var)),
			fmt_bytes(c, sizeof(c), stddev(mem_live_var(m))),
			fmt_count(st, sizeof(st), r->samples));
	if (r->overlaps || m->t->nlost)
		fprintf(f, "  warning: %s events lost by the recorder, %s blocks replaced "
			"without a free: figures may be short\n",
			fmt_count(a, sizeof(a), m->t->nlost), fmt_count(b, sizeof(b), r->overlaps));
	if (!r->allocs)
		return;

	fprintf(f, "\nHeld at the peak (%s)\n", r->sample_mean ? "estimated" : "exact");
	holders = mem_sorted_sites(m, BY_AT_PEAK, mem_at_peak, &nh);
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
	if (replay_truncated_shown())
		fprintf(f, "%s.\n", TRACE_TRUNCATED_LEGEND);
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
	if (mem_load_peaks(&m, t, o) < 0 || mem_suppress(&m) < 0)
		goto out;
	if (o->format == FMT_JSON) {
		idx = mem_sorted_sites(&m, by, NULL, &n);
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

/* what `leaks` shows: the sites with leaks, largest first, and their sums */
struct leaks {
	uint32_t *idx, n;		/* into m.sites */
	uint64_t bytes, blocks;
	double var;
	struct supp_tot *tot;		/* per suppression rule */
};

static void leaks_json(struct mem *m, const struct leaks *L, const struct opts *o)
{
	const struct suppressions *s = m->supp;
	uint32_t i, n = L->n;
	struct json j;

	if (o->limit > 0 && (uint64_t)o->limit < n)
		n = (uint32_t)o->limit;
	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	notes_json(m->t, &j);
	/* false: the blocks were live when recording stopped, not necessarily leaked */
	json_bool(&j, "process_finished", m->t->end_seen);
	json_u64(&j, "leaked_bytes", L->bytes);
	json_u64(&j, "leaked_blocks", L->blocks);
	json_sampled(m, &j, L->var);
	json_arr_begin(&j, "leaks");
	for (i = 0; i < n; i++) {
		const struct site *l = &m->sites[L->idx[i]];

		json_obj_begin(&j, NULL);
		json_stack(m, &j, l->stack);
		json_u64(&j, "bytes", l->leaked_bytes);
		json_u64(&j, "blocks", l->leaked_blocks);
		if (m->r.sample_mean)
			json_u64(&j, "bytes_stddev", stddev(l->leaked_var));
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_u64(&j, "suppressed_bytes", m->supp_bytes);
	json_u64(&j, "suppressed_blocks", m->supp_blocks);
	json_arr_begin(&j, "suppressed");
	for (i = 0; i < supp_count(s); i++) {
		if (!L->tot[i].blocks)
			continue;
		json_obj_begin(&j, NULL);
		json_str(&j, "rule", supp_rule(s, i));
		json_u64(&j, "bytes", L->tot[i].bytes);
		json_u64(&j, "blocks", L->tot[i].blocks);
		json_u64(&j, "stacks", L->tot[i].stacks);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_u64(&j, "unknown_frees", m->r.unknown_frees);
	json_obj_end(&j);
	json_finish(&j);
}

/* the text report's suppressed part: its total and a line per rule that matched */
static void leaks_text_suppressed(struct mem *m, const struct leaks *L, const struct opts *o)
{
	static const char *const shdr[] = { "bytes", "blocks", "rule" };
	const struct suppressions *s = m->supp;
	struct table *tb;
	char a[32], b[32];
	uint32_t i;

	if (o->no_suppress) {
		fprintf(stdout, "\nSuppressions off (--no-suppress): everything is shown.\n");
		return;
	}
	fprintf(stdout, "\nSuppressed: %s bytes in %s blocks",
		fmt_count(a, sizeof(a), m->supp_bytes), fmt_count(b, sizeof(b), m->supp_blocks));
	fprintf(stdout, m->supp_blocks ? " (--no-suppress shows them)\n" : "\n");
	tb = table_new(3, shdr, "rrl");
	for (i = 0; i < supp_count(s); i++) {
		if (!L->tot[i].blocks)
			continue;
		table_add(tb, fmt_count(a, sizeof(a), L->tot[i].bytes),
			  fmt_count(b, sizeof(b), L->tot[i].blocks), supp_rule(s, i));
	}
	if (m->supp_blocks)
		table_print(tb, stdout);
	table_free(tb);
}

static void leaks_text(struct mem *m, const struct leaks *L, const struct opts *o)
{
	static const char *const hdr[] = { "bytes", "blocks", "stack" };
	struct table *tb = table_new(3, hdr, "rrl");
	uint32_t i, n = L->n, limit = o->limit > 0 ? (uint32_t)o->limit : UINT32_MAX;
	struct trace *t = m->t;
	char a[32], b[32], st[1024];

	notes_text(t, stdout);
	if (!t->end_seen)
		fprintf(stdout, "Note: %s.\nLive when recording stopped: %s bytes in %s "
			"blocks from %u stack%s\n", NOTES_UNFINISHED,
			fmt_count(a, sizeof(a), L->bytes), fmt_count(b, sizeof(b), L->blocks), n,
			n == 1 ? "" : "s");
	else
		fprintf(stdout, "Leaks: %s bytes in %s blocks from %u stack%s\n",
			fmt_count(a, sizeof(a), L->bytes), fmt_count(b, sizeof(b), L->blocks), n,
			n == 1 ? "" : "s");
	for (i = 0; i < n && i < limit; i++) {
		const struct site *l = &m->sites[L->idx[i]];
		char c[32];

		table_add(tb, fmt_count(c, sizeof(c), l->leaked_bytes),
			  fmt_count(a, sizeof(a), l->leaked_blocks),
			  text_stack(m, l->stack, st, sizeof(st)));
	}
	if (m->r.sample_mean)
		fprintf(stdout, "(estimated from %s samples, mean %s: \u00b1%s bytes, one standard "
			"deviation)\n", fmt_count(a, sizeof(a), m->r.samples),
			fmt_bytes(b, sizeof(b), m->r.sample_mean),
			fmt_count(st, sizeof(st), stddev(L->var)));
	if (n)
		table_print(tb, stdout);
	table_free(tb);
	leaks_text_suppressed(m, L, o);
	if (m->r.unknown_frees)
		fprintf(stdout, "Unknown frees (%s): %s\n", unknown_why(t),
			fmt_count(a, sizeof(a), m->r.unknown_frees));
	if (replay_truncated_shown())
		fprintf(stdout, "%s.\n", TRACE_TRUNCATED_LEGEND);
}

/**
 * report_leaks - the `leaks` report of @t on stdout: blocks still live at the end, grouped
 * by stack, largest first, after suppressions (built-in and --suppressions FILE) unless
 * --no-suppress; what was suppressed is always shown.
 * Return: 0, or -1 after an error line (bad suppressions file, unreadable trace).
 */
int report_leaks(struct trace *t, const struct opts *o)
{
	struct leaks L = { 0 };
	struct mem m;
	uint32_t i;
	int ret = -1;

	if (mem_load(&m, t, o) < 0 || mem_suppress(&m) < 0)
		goto out;
	L.tot = supp_totals(&m);
	L.idx = mem_sorted_sites(&m, BY_LEAKED, mem_is_leak, &L.n);
	for (i = 0; i < L.n; i++) {
		L.bytes += m.sites[L.idx[i]].leaked_bytes;
		L.blocks += m.sites[L.idx[i]].leaked_blocks;
		L.var += m.sites[L.idx[i]].leaked_var;
	}
	if (o->format == FMT_JSON)
		leaks_json(&m, &L, o);
	else
		leaks_text(&m, &L, o);
	fflush(stdout);
	ret = 0;
out:
	free(L.idx);
	free(L.tot);
	mem_free(&m);
	return ret;
}

