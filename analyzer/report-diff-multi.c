// SPDX-License-Identifier: MIT
/*
 * `diff --base A1,A2,.. --new B1,B2,..` (docs/compare.md): several traces a side, matched as
 * `diff BASE NEW` matches two (functions by name, sites by function chain), every row
 * decided by the statistics `perfshim compare` uses (common/stats.c): exact when a figure
 * never varies, else Mann-Whitney with a Hodges-Lehmann ratio, one Holm family at --alpha,
 * and the floor for self times. report_diff (report-diff.c) calls diff_multi. Self times are
 * CPU self (model_self: the off-CPU time within them left out) when every trace has context
 * switches and --wall is not given, else wall-clock; the output says which.
 */
#define PR_FMT "diff"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/diff.h"
#include "analyzer/hmap.h"
#include "analyzer/hot.h"
#include "analyzer/json.h"
#include "analyzer/model.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "common/stats.h"

#define NM 3				/* metrics a row: functions self, calls; sites bytes, allocations, leaked */
#define FLOOR_PCT 1.0			/* as compare's --floor default */

static const char *const fmetric[NM] = { "self", "calls", NULL };	/* [2]: wall self, kept
									 * when self is CPU self */
static const char *const smetric[NM] = { "bytes", "allocations", "leaked" };

struct mrow {
	char *key;			/* 'f' or 's', then the name or replay_stack_key */
	bool site;
	uint32_t k, stack;		/* sites: a trace that has it and its stack id there */
	double *v[NM];			/* [trace], base traces first */
	struct stats_change c[NM];
	bool below_floor;
};

struct multi {
	struct trace **t;
	struct symbols **sym;
	uint32_t n, nb;			/* traces; of them BASE */
	double *dur, *bytes, *peak;	/* per trace */
	struct stats_change tot[3];	/* duration, bytes allocated, peak */
	struct strmap rows;		/* index into list by key */
	struct mrow **list;
	uint32_t nrows, cap, ntested;
	bool cpu;			/* every trace has context switches, no --wall: CPU self */
	bool switches;			/* some have them (self is then named for its clock) */
	uint64_t ncalls;		/* calls of every trace */
};

static struct mrow *row_get(struct multi *m, bool site, const char *key, bool *isnew)
{
	size_t len = strlen(key);
	char *hk = xmalloc(len + 2);
	struct strmap_ent *e;
	struct mrow *r;
	int i;

	hk[0] = site ? 's' : 'f';
	memcpy(hk + 1, key, len + 1);
	e = strmap_intern(&m->rows, hk, isnew);
	if (!*isnew) {
		free(hk);
		return m->list[e->v];
	}
	e->v = m->nrows;
	r = xcalloc(1, sizeof(*r));
	r->key = hk;
	r->site = site;
	for (i = 0; i < NM; i++)
		r->v[i] = xcalloc(m->n, sizeof(double));
	ARRAY_ROOM(m->list, m->cap, m->nrows);
	m->list[m->nrows++] = r;
	return r;
}

/* Trace @k's functions and sites into the rows. Return: 0, or -1 after an error line. */
static int load(struct multi *m, uint32_t k, const struct opts *o)
{
	struct trace *t = m->t[k];
	struct hot h;
	struct replay r;
	uint32_t i;
	bool isnew;
	int ret = -1;

	memset(&h, 0, sizeof(h));
	memset(&r, 0, sizeof(r));
	if (hot_collect(t, -1, 0, &h) < 0 || replay_run(&r, t) < 0)
		goto out;
	m->sym[k] = replay_symbols(t, o);
	if (!m->sym[k])
		goto out;
	for (i = 0; i < h.nfuncs; i++) {
		struct mrow *row;

		if (!h.funcs[i].calls)
			continue;
		row = row_get(m, false, sym_name(m->sym[k], t->funcs[i], false), &isnew);
		row->v[0][k] += (double)model_self(&h.funcs[i], m->cpu);
		row->v[1][k] += (double)h.funcs[i].calls;
		row->v[2][k] += (double)h.funcs[i].self_ns;
	}
	for (i = 0; i < r.naggs; i++) {
		const struct replay_agg *a = &r.aggs[i];
		struct mrow *row;
		char *key;

		if (!a->allocs)
			continue;
		key = replay_stack_key(t, m->sym[k], i);
		row = row_get(m, true, key, &isnew);
		free(key);
		if (isnew) {
			row->k = k;
			row->stack = i;
		}
		row->v[0][k] += (double)a->bytes;
		row->v[1][k] += (double)a->allocs;
		row->v[2][k] += (double)a->live_bytes;
	}
	m->ncalls += h.ncalls;
	m->dur[k] = (double)t->duration_ns;
	m->bytes[k] = (double)r.bytes_alloc;
	m->peak[k] = (double)r.peak_bytes;
	ret = 0;
out:
	hot_free(&h);
	replay_free(&r);
	return ret;
}

static bool all_zero(const double *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (v[i] != 0)
			return false;
	return true;
}

/* Every row and total decided: exact or tested, Holm over the tested, then the floor. */
static int decide(struct multi *m, double alpha)
{
	struct stats_change **fam = xcalloc(m->nrows * NM + 3, sizeof(*fam));
	double *fig[3] = { m->dur, m->bytes, m->peak }, floor_ns;
	uint32_t i, nf = 0, nb = m->nb, nn = m->n - m->nb;
	struct stats_summary s;
	int k, ret = -1;

	for (k = 0; k < 3; k++) {
		if (stats_compare(fig[k], nb, fig[k] + nb, nn, STATS_RANK, alpha, &m->tot[k]) < 0)
			goto out;
		fam[nf++] = &m->tot[k];
	}
	for (i = 0; i < m->nrows; i++) {
		struct mrow *r = m->list[i];

		for (k = 0; k < NM; k++) {
			if (!(r->site ? smetric[k] : fmetric[k]))
				continue;
			if (all_zero(r->v[k], m->n)) {	/* e.g. never leaked: equal, exactly */
				stats_compare(r->v[k], 1, r->v[k], 1, STATS_RANK, alpha, &r->c[k]);
				continue;
			}
			if (stats_compare(r->v[k], nb, r->v[k] + nb, nn, STATS_RANK, alpha, &r->c[k]) < 0)
				goto out;
			fam[nf++] = &r->c[k];
		}
	}
	for (i = 0; i < nf; i++)
		m->ntested += !fam[i]->exact;
	stats_holm(fam, nf, alpha);
	stats_summarize(m->dur, nb, &s);
	floor_ns = s.median * FLOOR_PCT / 100;
	for (i = 0; i < m->nrows; i++) {
		struct mrow *r = m->list[i];

		if (!r->site && r->c[0].significant && fabs(r->c[0].difference) < floor_ns) {
			r->c[0].significant = false;
			r->below_floor = true;
		}
	}
	if (m->ntested && stats_mw_min_p(nb, nn) * m->ntested > alpha)
		pr_warn("diff: with %u and %u traces a side the smallest p-value is %.2g: among %u "
			"tests at alpha %g only exact changes can be significant\n", nb, nn,
			stats_mw_min_p(nb, nn), m->ntested, alpha);
	ret = 0;
out:
	free(fam);
	return ret;
}

/* "base 1", .. "new 3": how notes name each trace */
static char **labels(const struct multi *m)
{
	char **who = xcalloc(m->n, sizeof(*who));
	uint32_t i;

	for (i = 0; i < m->n; i++)
		if (asprintf(&who[i], "%s %u", i < m->nb ? "base" : "new",
			     i < m->nb ? i + 1 : i - m->nb + 1) < 0)
			pr_fatal("out of memory");
	return who;
}

static const char *program(const struct trace *t)
{
	const char *s;

	if (!t->exe || !*t->exe)
		return NULL;
	s = strrchr(t->exe, '/');
	return s && s[1] ? s + 1 : t->exe;
}

/* Functions called on both sides, and on either (*@either); as diff BASE NEW counts them. */
static uint32_t shared_functions(const struct multi *m, uint32_t *either)
{
	uint32_t i, both = 0;

	*either = 0;
	for (i = 0; i < m->nrows; i++) {
		const struct mrow *r = m->list[i];
		bool b = false, n = false;
		uint32_t k;

		if (r->site)
			continue;
		for (k = 0; k < m->n; k++) {
			b |= k < m->nb && r->v[1][k] > 0;
			n |= k >= m->nb && r->v[1][k] > 0;
		}
		*either += b || n;
		both += b && n;
	}
	return both;
}

/* Two unrelated programs (diff BASE NEW's rule): other file names, under half shared. */
static bool programs_differ(const struct multi *m)
{
	const char *a = program(m->t[0]), *b = program(m->t[m->nb]);
	uint32_t either, both = shared_functions(m, &either);

	return a && b && strcmp(a, b) && both * 2 < either;
}

static bool row_significant(const struct mrow *r)
{
	int k;

	for (k = 0; k < NM; k++)
		if (r->c[k].significant)
			return true;
	return false;
}

/* --threshold PCT: a row is shown when a median moved by at least PCT% (any change at 0). */
static bool row_shown(const struct mrow *r, double thr)
{
	int k;

	if (thr <= 0)
		return true;
	for (k = 0; k < NM; k++) {
		double b = r->c[k].base, v = r->c[k].new;

		if (b != v && (b == 0 || fabs(v - b) * 100 >= thr * fabs(b)))
			return true;
	}
	return false;
}

static double row_mag(const struct mrow *r)
{
	double x = r->c[0].ratio;

	return isnan(x) || x <= 0 ? INFINITY : fabs(log(x));
}

static int cmp_mrow(const void *pa, const void *pb)
{
	const struct mrow *a = *(struct mrow *const *)pa, *b = *(struct mrow *const *)pb;
	double x, y;

	if (row_significant(a) != row_significant(b))
		return row_significant(a) ? -1 : 1;
	x = a->site ? fabs(a->c[0].difference) : row_mag(a);
	y = b->site ? fabs(b->c[0].difference) : row_mag(b);
	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* "2.03x slower ± 4%, calls +1 (exact)", or "no significant difference". */
static const char *row_verdict(const struct mrow *r, char *buf, size_t len)
{
	static const char *const what[2][NM] = { { NULL, "calls", NULL },
						 { "allocates", "allocations", "leaks" } };
	static const enum stats_unit unit[2][NM] = { { STATS_NS, STATS_COUNT, STATS_COUNT },
						     { STATS_BYTES, STATS_COUNT, STATS_BYTES } };
	size_t off = 0;
	char part[160];
	int k;

	buf[0] = '\0';
	for (k = 0; k < NM; k++) {
		if (!r->c[k].significant)
			continue;
		stats_verdict(&r->c[k], unit[r->site][k], what[r->site][k], part, sizeof(part));
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s", off ? ", " : "",
					part);
	}
	if (!buf[0])
		snprintf(buf, len, "no significant difference%s",
			 r->below_floor ? " (a shift under the floor)" : "");
	return buf;
}

/* A median: an integer when it is one, else a double with all its digits (the mean of the
 * two middle runs of an even count is often one half off an integer: 262504629.5). */
static void json_fig(struct json *j, const char *key, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9e15)
		json_i64(j, key, (int64_t)v);
	else
		json_dbl_exact(j, key, v);
}

static void json_change(struct json *j, const char *key, const struct stats_change *c)
{
	json_obj_begin(j, key);
	json_fig(j, "base", c->base);
	json_fig(j, "new", c->new);
	json_fig(j, "difference", c->difference);
	json_dbl(j, "ratio", c->ratio);
	json_dbl(j, "ci_low", c->ci_low);
	json_dbl(j, "ci_high", c->ci_high);
	json_dbl(j, "p_value", c->p_value);
	json_dbl(j, "p_adjusted", c->p_adjusted);
	json_bool(j, "exact", c->exact);
	json_bool(j, "significant", c->significant);
	json_obj_end(j);
}

/* a function's self medians: self_ns wall-clock (as diff BASE NEW), cpu_self_ns if m->cpu */
static void self_json(struct json *j, const struct multi *m, const struct mrow *r)
{
	struct stats_summary b, n;

	if (!m->cpu) {
		json_fig(j, "base_self_ns", r->c[0].base);
		json_fig(j, "new_self_ns", r->c[0].new);
		return;
	}
	stats_summarize(r->v[2], m->nb, &b);
	stats_summarize(r->v[2] + m->nb, m->n - m->nb, &n);
	json_fig(j, "base_self_ns", b.median);
	json_fig(j, "new_self_ns", n.median);
	json_fig(j, "base_cpu_self_ns", r->c[0].base);
	json_fig(j, "new_cpu_self_ns", r->c[0].new);
}

static void multi_json(const struct multi *m, struct mrow **rows, uint32_t n, uint32_t limit,
		       double alpha)
{
	static const char *const tot[3] = { "duration_ns", "bytes", "peak_bytes" };
	char v[512], **who = labels(m);
	uint32_t i, k, count, either;
	struct json j;
	int s;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	notes_json_many(&j, m->t, (const char *const *)who, m->n);
	for (i = 0; i < m->n; i++)
		free(who[i]);
	free(who);
	json_arr_begin(&j, "base");
	for (i = 0; i < m->nb; i++)
		json_str(&j, NULL, m->t[i]->path);
	json_arr_end(&j);
	json_arr_begin(&j, "new");
	for (i = m->nb; i < m->n; i++)
		json_str(&j, NULL, m->t[i]->path);
	json_arr_end(&j);
	json_str(&j, "base_program", m->t[0]->exe);
	json_str(&j, "new_program", m->t[m->nb]->exe);
	json_bool(&j, "programs_differ", programs_differ(m));
	json_u64(&j, "shared_functions", shared_functions(m, &either));
	json_u64(&j, "functions_in_either", either);
	json_dbl(&j, "alpha", alpha);
	json_u64(&j, "tests", m->ntested);
	json_str(&j, "clock", m->cpu ? "cpu" : "wall");	/* of "self" */
	json_obj_begin(&j, "totals");
	for (k = 0; k < 3; k++)
		json_change(&j, tot[k], &m->tot[k]);
	json_obj_end(&j);
	for (s = 0; s < 2; s++) {
		json_arr_begin(&j, s ? "sites" : "functions");
		for (i = count = 0; i < n; i++) {
			const struct mrow *r = rows[i];

			if (r->site != s || count++ >= limit)
				continue;
			json_obj_begin(&j, NULL);
			if (s) {
				replay_json_stack(&j, m->t[r->k], m->sym[r->k], r->stack);
				json_fig(&j, "base_bytes", r->c[0].base);
				json_fig(&j, "new_bytes", r->c[0].new);
				json_fig(&j, "base_allocations", r->c[1].base);
				json_fig(&j, "new_allocations", r->c[1].new);
				json_fig(&j, "base_leaked_bytes", r->c[2].base);
				json_fig(&j, "new_leaked_bytes", r->c[2].new);
			} else {
				json_str(&j, "name", r->key + 1);
				json_fig(&j, "base_calls", r->c[1].base);
				json_fig(&j, "new_calls", r->c[1].new);
				self_json(&j, m, r);
			}
			for (k = 0; k < NM; k++)
				if (s ? smetric[k] : fmetric[k])
					json_change(&j, s ? smetric[k] : fmetric[k], &r->c[k]);
			json_bool(&j, "significant", row_significant(r));
			json_bool(&j, "below_floor", r->below_floor);
			json_str(&j, "verdict", row_verdict(r, v, sizeof(v)));
			json_obj_end(&j);
		}
		json_arr_end(&j);
	}
	json_obj_end(&j);
	json_finish(&j);
}

static void multi_text(const struct multi *m, struct mrow **rows, uint32_t n,
		       const struct opts *o, double alpha)
{
	const char *const fhdr[] = { "function", "calls",
				     m->cpu ? "CPU self base" : m->switches ? "wall self base" : "self base",
				     m->cpu ? "CPU self new" : m->switches ? "wall self new" : "self new",
				     "verdict" };
	static const char *const shdr[] = { "bytes base", "bytes new", "verdict", "stack" };
	static const char *const tname[3] = { "duration", "allocated", "peak" };
	static const enum stats_unit tunit[3] = { STATS_NS, STATS_BYTES, STATS_BYTES };
	uint32_t i, shown[2] = { 0, 0 }, limit = diff_text_limit(o);
	char c[4][48], v[512], st[1024], nm[128], **who = labels(m);
	uint32_t either, both;
	struct table *tb[2];
	int k;

	for (i = 0; i < m->n; i++) {
		notes_text_named(m->t[i], stdout, who[i]);
		free(who[i]);
	}
	free(who);
	printf("Base: %u traces (%s, ...)\nNew:  %u traces (%s, ...)\n", m->nb, m->t[0]->path,
	       m->n - m->nb, m->t[m->nb]->path);
	if (programs_differ(m)) {
		both = shared_functions(m, &either);
		printf("Note: these are different programs (%s and %s, sharing %u of %u functions): "
		       "functions and allocation sites are matched by name only, so the changes "
		       "below compare unrelated code\n", program(m->t[0]), program(m->t[m->nb]),
		       both, either);
	}
	for (k = 0; k < 3; k++)
		printf("  %-10s %s -> %s: %s\n", tname[k],
		       stats_fmt_value(c[0], 48, m->tot[k].base, tunit[k]),
		       stats_fmt_value(c[1], 48, m->tot[k].new, tunit[k]),
		       stats_verdict(&m->tot[k], tunit[k], NULL, v, sizeof(v)));
	tb[0] = table_new(5, fhdr, "lrrrl");
	tb[1] = table_new(4, shdr, "rrll");
	for (i = 0; i < n; i++) {
		const struct mrow *r = rows[i];

		if (shown[r->site] >= limit)
			continue;
		shown[r->site]++;
		row_verdict(r, v, sizeof(v));
		if (r->site) {
			table_add(tb[1], stats_fmt_value(c[0], 48, r->c[0].base, STATS_BYTES),
				  stats_fmt_value(c[1], 48, r->c[0].new, STATS_BYTES), v,
				  replay_text_stack(m->t[r->k], m->sym[r->k], r->stack, st, sizeof(st)));
		} else {
			snprintf(c[2], 48, "%.0f -> %.0f", r->c[1].base, r->c[1].new);
			table_add(tb[0], short_name(r->key + 1, nm, sizeof(nm), 40), c[2],
				  stats_fmt_value(c[0], 48, r->c[0].base, STATS_NS),
				  stats_fmt_value(c[1], 48, r->c[0].new, STATS_NS), v);
		}
	}
	printf("\nFunctions, medians (Mann-Whitney U, Holm-Bonferroni over %u tests at alpha %g)\n",
	       m->ntested, alpha);
	if (shown[0])
		table_print(tb[0], stdout);
	else
		printf("  (none)\n");
	printf("\nAllocation sites, matched by function chain, medians\n");
	if (shown[1])
		table_print(tb[1], stdout);
	else
		printf("  (none)\n");
	table_free(tb[0]);
	table_free(tb[1]);
	if (m->cpu)
		printf("\nSelf times are CPU self: the off-CPU time (waits) within them left out.");
	else if (m->switches)
		printf("\nSelf times are wall-clock, waits included (%s).", o->wall ? "--wall" :
		       "not every trace has context switches");
	printf("\nMedians of each side; a self-time shift under %g%% of the base's run is no change.\n",
	       FLOOR_PCT);
	if (replay_truncated_shown())
		printf("%s.\n", TRACE_TRUNCATED_LEGEND);
}

/**
 * diff_multi - `diff --base LIST --new LIST`: o->traces[0..o->nbase) against the rest,
 * @first being o->traces[0] (opened by main; the others are opened and closed here). Every
 * row of every function and site seen, decided by common/stats.c, on stdout as text or JSON.
 * Return: 0, or -1 after an error line.
 */
int diff_multi(struct trace *first, const struct opts *o)
{
	double alpha = o->alpha > 0 ? o->alpha : 0.05;
	struct mrow **shown, *r;
	struct multi m;
	uint32_t i, ns = 0;
	int ret = -1, k;

	memset(&m, 0, sizeof(m));
	m.n = (uint32_t)o->ntraces;
	m.nb = (uint32_t)o->nbase;
	m.t = xcalloc(m.n, sizeof(*m.t));
	m.sym = xcalloc(m.n, sizeof(*m.sym));
	m.dur = xcalloc(m.n, sizeof(double));
	m.bytes = xcalloc(m.n, sizeof(double));
	m.peak = xcalloc(m.n, sizeof(double));
	m.t[0] = first;
	m.cpu = !o->wall;
	for (i = 0; i < m.n; i++) {
		if (i && trace_open(o->traces[i], &m.t[i]) < 0)
			goto out;
		trace_set_progress(m.t[i], o);
		m.cpu &= offcpu_present(m.t[i]);
		m.switches |= offcpu_present(m.t[i]);
	}
	m.cpu &= m.switches;
	for (i = 0; i < m.n; i++)
		if (load(&m, i, o) < 0)
			goto out;
	if (!m.ncalls)		/* no calls recorded: no self time to name a clock for */
		m.cpu = m.switches = false;
	if (decide(&m, alpha) < 0)
		goto out;
	shown = xcalloc(m.nrows + 1, sizeof(*shown));
	for (i = 0; i < m.nrows; i++)
		if (row_shown(m.list[i], o->threshold))
			shown[ns++] = m.list[i];
	qsort(shown, ns, sizeof(*shown), cmp_mrow);
	if (o->format == FMT_JSON)
		multi_json(&m, shown, ns, o->limit > 0 ? (uint32_t)o->limit : UINT32_MAX, alpha);
	else
		multi_text(&m, shown, ns, o, alpha);
	fflush(stdout);
	free(shown);
	ret = 0;
out:
	for (i = 0; i < m.nrows; i++) {
		r = m.list[i];
		for (k = 0; k < NM; k++)
			free(r->v[k]);
		free(r->key);
		free(r);
	}
	strmap_free(&m.rows);
	free(m.list);
	for (i = 0; i < m.n; i++) {
		if (m.sym[i])
			sym_close(m.sym[i]);
		if (i && m.t[i])
			trace_close(m.t[i]);
	}
	free(m.t);
	free(m.sym);
	free(m.dur);
	free(m.bytes);
	free(m.peak);
	return ret;
}
