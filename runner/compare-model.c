// SPDX-License-Identifier: MIT
/*
 * The model of `perfshim compare`: the functions and sites seen in any run, each with its
 * figures per run, and the rows of changes the statistics of common/stats.c make of them:
 * every variant against the first, every row of every variant in one Holm family.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/compare.h"
#include "runner/runner.h"

static void *zalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "%s compare: out of memory\n", progname);
		exit(1);
	}
	return p;
}

/*
 * cmp_entity_get - the function (@kind CMP_FUNCTION, @key its name) or site (CMP_SITE, @key
 * its names joined by '\n'), made with zero figures on first sight. Return: it (never NULL).
 */
struct cmp_entity *cmp_entity_get(struct compare *c, enum cmp_kind kind, const char *key)
{
	struct cmp_entity *e;
	size_t n = strlen(key) + 2;
	char *hk = zalloc(n, 1);
	const char *nl;

	hk[0] = kind == CMP_FUNCTION ? 'f' : 's';	/* one namespace per kind */
	memcpy(hk + 1, key, n - 1);
	HASH_FIND_STR(c->ents, hk, e);
	if (e) {
		free(hk);
		return e;
	}
	e = zalloc(1, sizeof(*e));
	e->kind = kind;
	e->key = hk;
	nl = strchr(key, '\n');
	e->name = nl ? strndup(key, (size_t)(nl - key)) : strdup(key);
	e->val[0] = zalloc((size_t)c->nv * c->runs, sizeof(uint64_t));
	e->val[1] = zalloc((size_t)c->nv * c->runs, sizeof(uint64_t));
	if (kind == CMP_FUNCTION)
		e->cpu_self = zalloc((size_t)c->nv * c->runs, sizeof(uint64_t));
	HASH_ADD_KEYPTR(hh, c->ents, e->key, strlen(e->key), e);
	if (c->nent == c->ecap) {
		c->ecap = c->ecap ? c->ecap * 2 : 64;
		c->elist = realloc(c->elist, c->ecap * sizeof(*c->elist));
		if (!c->elist)
			exit(1);
	}
	c->elist[c->nent++] = e;
	return e;
}

static const struct {
	const char *key, *name, *what;
	enum stats_unit unit;
} metrics[NMETRICS] = {
	[M_SELF] = { "self_ns", "self time", NULL, STATS_NS },
	[M_CPU_SELF] = { "cpu_self_ns", "CPU self time", NULL, STATS_NS },
	[M_CALLS] = { "calls", "calls", "calls", STATS_COUNT },
	[M_BYTES] = { "bytes", "bytes", "allocates", STATS_BYTES },
	[M_ALLOCS] = { "allocations", "allocations", "allocations", STATS_COUNT },
	[M_WALL] = { "time_ns", "time", NULL, STATS_NS },
	[M_CPU] = { "cpu_ns", "cpu time", NULL, STATS_NS },
	[M_ALLOCATED] = { "allocated_bytes", "allocated", "allocates", STATS_BYTES },
	[M_PEAK] = { "peak_bytes", "peak", "peak", STATS_BYTES },
};

/* cmp_metric_key - the metric's JSON name ("self_ns"); cmp_metric_name - its text label. */
const char *cmp_metric_key(enum cmp_metric m)
{
	return metrics[m].key;
}

const char *cmp_metric_name(enum cmp_metric m)
{
	return metrics[m].name;
}

/* cmp_metric_self - whether @m is a function's self time (wall clock or CPU). */
bool cmp_metric_self(enum cmp_metric m)
{
	return m == M_SELF || m == M_CPU_SELF;
}

enum stats_unit cmp_metric_unit(enum cmp_metric m)
{
	return metrics[m].unit;
}

/* cmp_verdict - the row's verdict ("2.03x slower ± 4%", "allocates +8.0 KiB (exact)"). */
char *cmp_verdict(const struct cmp_row *r, char *buf, size_t len)
{
	if (r->below_floor) {
		snprintf(buf, len, "no significant difference (a shift under the floor)");
		return buf;
	}
	return stats_verdict(&r->c, metrics[r->metric].unit, metrics[r->metric].what, buf, len);
}

/*
 * A function's self time (wall or CPU) that moved by less than --floor % of the base's
 * median run time (wall, as diff --base/--new takes its traces' duration) is not news, however sure the test is: code layout, cache and clock effects move small
 * functions by a few microseconds between two builds of one program (measured: main() of
 * samples/variant.c, 15% or 12 us of a 90 ms run). Applied after Holm, so it only takes
 * decisions away and the family-wise guarantee stands.
 */
static void apply_floor(struct compare *c)
{
	double floor_ns = c->v[0].s[0].median * c->floor_pct / 100;
	uint32_t i;

	for (i = 0; i < c->nrows; i++) {
		struct cmp_row *r = &c->rows[i];

		if (cmp_metric_self(r->metric) && r->c.significant && !isnan(r->c.difference) &&
		    fabs(r->c.difference) < floor_ns) {
			r->c.significant = false;
			r->below_floor = true;
		}
	}
}

static struct cmp_row *new_row(struct compare *c, uint32_t *cap)
{
	if (c->nrows == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		c->rows = realloc(c->rows, *cap * sizeof(*c->rows));
		if (!c->rows)
			exit(1);
	}
	memset(&c->rows[c->nrows], 0, sizeof(c->rows[0]));
	return &c->rows[c->nrows++];
}

static int add_row(struct compare *c, uint32_t *cap, struct cmp_entity *e, enum cmp_metric m,
		   uint32_t var, const double *base, const double *new)
{
	struct cmp_row *r = new_row(c, cap);

	r->e = e;
	r->metric = m;
	r->var = var;
	if (stats_compare(base, c->runs, new, c->runs, c->test, c->alpha, &r->c) < 0) {
		fprintf(stderr, "%s compare: out of memory\n", progname);
		return -1;
	}
	return 0;
}

/* An entity's metric @k of variant @var, as doubles; false when every run is 0. */
static bool figures(const struct compare *c, const struct cmp_entity *e, int k, uint32_t var,
		    double *out)
{
	bool any = false;
	uint32_t i;

	for (i = 0; i < c->runs; i++) {
		out[i] = (double)e->val[k][var * c->runs + i];
		any |= out[i] != 0;
	}
	return any;
}

/* Say so when the runs are too few for anything measured to reach significance. */
static void warn_too_few(const struct compare *c)
{
	double minp = stats_mw_min_p(c->runs, c->runs);
	uint32_t need;

	if (c->test != STATS_RANK || !c->ntested || minp * c->ntested <= c->alpha)
		return;
	need = stats_runs_needed(c->ntested, c->alpha);
	fprintf(stderr, "%s compare: with %u runs a variant the rank test's smallest p-value is "
		"%.2g: among %u tests at alpha %g no measured change can be significant (--runs %u "
		"or more would do)\n", progname, c->runs, minp, c->ntested, c->alpha,
		need ? need : 1000);
}

/*
 * CPU self times where every measured run's trace had them (context switches recorded),
 * unless --wall: a loaded machine then moves no self time. Mixed runs compare wall clock,
 * as figures of one kind must.
 */
static void choose_self(struct compare *c)
{
	uint32_t i;

	c->cpu_self = !c->wall && c->docs && c->cpu_docs == c->docs;
	if (!c->cpu_self)
		return;
	for (i = 0; i < c->nent; i++) {
		struct cmp_entity *e = c->elist[i];
		uint64_t *w = e->val[0];

		if (e->kind != CMP_FUNCTION)
			continue;
		e->val[0] = e->cpu_self;
		e->cpu_self = w;
	}
}

/*
 * cmp_analyze - the summaries of every variant, and a row per (variant after the first,
 * metric, function or site seen in either side) plus the whole-run rows, all decided
 * together by Holm at --alpha, then the --floor of self times. Return: 0, or -1.
 */
int cmp_analyze(struct compare *c)
{
	static const enum cmp_metric sm[2] = { M_BYTES, M_ALLOCS };
	enum cmp_metric fm[2] = { M_SELF, M_CALLS };
	double *b = zalloc(c->runs, sizeof(double)), *n = zalloc(c->runs, sizeof(double));
	struct stats_change **fam;
	uint32_t var, i, cap = 0;
	int k, ret = -1;

	choose_self(c);
	if (c->cpu_self)
		fm[0] = M_CPU_SELF;
	for (var = 0; var < c->nv; var++) {
		struct cmp_variant *v = &c->v[var];

		stats_summarize(v->wall, c->runs, &v->s[0]);
		stats_summarize(v->cpu, c->runs, &v->s[1]);
		stats_summarize(v->allocated, c->runs, &v->s[2]);
		stats_summarize(v->peak, c->runs, &v->s[3]);
	}
	for (var = 1; var < c->nv; var++) {
		for (i = 0; i < c->nent; i++) {
			struct cmp_entity *e = c->elist[i];

			for (k = 0; k < 2; k++) {
				bool any = figures(c, e, k, 0, b);

				if (!(figures(c, e, k, var, n) | any))
					continue;
				if (add_row(c, &cap, e, e->kind == CMP_FUNCTION ? fm[k] : sm[k], var,
					    b, n) < 0)
					goto out;
			}
		}
		if (add_row(c, &cap, NULL, M_WALL, var, c->v[0].wall, c->v[var].wall) < 0 ||
		    add_row(c, &cap, NULL, M_CPU, var, c->v[0].cpu, c->v[var].cpu) < 0 ||
		    add_row(c, &cap, NULL, M_ALLOCATED, var, c->v[0].allocated,
			    c->v[var].allocated) < 0 ||
		    add_row(c, &cap, NULL, M_PEAK, var, c->v[0].peak, c->v[var].peak) < 0)
			goto out;
	}
	fam = zalloc(c->nrows, sizeof(*fam));
	for (i = 0; i < c->nrows; i++) {
		fam[i] = &c->rows[i].c;
		c->ntested += !c->rows[i].c.exact;
	}
	stats_holm(fam, c->nrows, c->alpha);
	free(fam);
	apply_floor(c);
	warn_too_few(c);
	ret = 0;
out:
	free(b);
	free(n);
	return ret;
}

/* cmp_free - everything @c holds. */
void cmp_free(struct compare *c)
{
	struct cmp_entity *e, *tmp;
	uint32_t i, k;

	HASH_ITER(hh, c->ents, e, tmp) {
		HASH_DEL(c->ents, e);
		free(e->key);
		free(e->name);
		for (k = 0; k < e->depth; k++)
			free(e->stack[k]);
		free(e->stack);
		free(e->frames);
		free(e->val[0]);
		free(e->val[1]);
		free(e->cpu_self);
		free(e);
	}
	free(c->elist);
	free(c->rows);
	for (i = 0; i < c->nv; i++) {
		for (k = 0; c->v[i].argv && c->v[i].argv[k]; k++)
			free(c->v[i].argv[k]);
		free(c->v[i].argv);
		free(c->v[i].name);
		free(c->v[i].wall);
		free(c->v[i].cpu);
		free(c->v[i].allocated);
		free(c->v[i].peak);
	}
	free(c->v);
}
