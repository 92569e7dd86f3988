// SPDX-License-Identifier: MIT
/*
 * The text and JSON reports of `perfshim compare` (CONTRACT.md "compare"): the variants'
 * table as hyperfine and Benchee print it, each variant against the first, then the
 * changes per function and site, significant ones first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/compare.h"
#include "runner/json-read.h"

static double mag(const struct cmp_row *r)
{
	if (isnan(r->c.ratio) || r->c.ratio <= 0)
		return INFINITY;		/* new or gone: the largest change there is */
	return fabs(log(r->c.ratio));
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct compare *c = arg;
	const struct cmp_row *a = &c->rows[*(const uint32_t *)pa];
	const struct cmp_row *b = &c->rows[*(const uint32_t *)pb];
	double x, y;

	if (a->var != b->var)
		return a->var < b->var ? -1 : 1;
	if (a->c.significant != b->c.significant)
		return a->c.significant ? -1 : 1;
	if (a->e->kind != b->e->kind)
		return a->e->kind < b->e->kind ? -1 : 1;
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	x = mag(a);
	y = mag(b);
	if (x != y)
		return x > y ? -1 : 1;
	x = fabs(a->c.difference);
	y = fabs(b->c.difference);
	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(a->e->key, b->e->key);
}

/*
 * cmp_sorted_rows - the indices of @c's function and site rows into @idx (room for nrows):
 * by variant, significant first, functions before sites, the largest change first.
 * Return: how many.
 */
uint32_t cmp_sorted_rows(const struct compare *c, uint32_t *idx)
{
	uint32_t i, n = 0;

	for (i = 0; i < c->nrows; i++)
		if (c->rows[i].e)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_rows, (void *)c);
	return n;
}

/* The whole-run row of @var for metric @m. Return: it, or NULL. */
static const struct cmp_row *run_row(const struct compare *c, uint32_t var, enum cmp_metric m)
{
	uint32_t i;

	for (i = 0; i < c->nrows; i++)
		if (!c->rows[i].e && c->rows[i].var == var && c->rows[i].metric == m)
			return &c->rows[i];
	return NULL;
}

/* cmp_stack_text - a site's stack as "buffers <- main", cut to @len with "...". */
void cmp_stack_text(const struct cmp_entity *e, char *buf, size_t len)
{
	size_t off = 0;
	uint32_t i;

	buf[0] = '\0';
	if (!e->depth)
		snprintf(buf, len, "(no stack)");
	for (i = 0; i < e->depth && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " <- " : "", e->stack[i]);
	if (off >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

/* cmp_fmt_spread - "95.21 ms ± 12.10 ms", or the mean alone when it never varied. */
char *cmp_fmt_spread(char *buf, size_t len, const struct stats_summary *s, enum stats_unit u)
{
	char m[48], d[48];

	stats_fmt_value(m, sizeof(m), s->mean, u);
	if (s->stddev > 0)
		snprintf(buf, len, "%s ± %s", m, stats_fmt_value(d, sizeof(d), s->stddev, u));
	else
		snprintf(buf, len, "%s", m);
	return buf;
}

/* Columns of text, left-aligned first column, right-aligned others; ± counts as one. */
#define COLS 8
struct cols {
	char cell[64][COLS][96];
	uint32_t n, ncol;
};

static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;	/* UTF-8: count lead bytes */
	return w;
}

static void cols_print(const struct cols *t, FILE *f)
{
	size_t w[COLS] = { 0 };
	uint32_t r, k;

	for (r = 0; r < t->n; r++)
		for (k = 0; k < t->ncol; k++)
			if (width(t->cell[r][k]) > w[k])
				w[k] = width(t->cell[r][k]);
	for (r = 0; r < t->n; r++) {
		for (k = 0; k < t->ncol; k++) {
			size_t pad = w[k] - width(t->cell[r][k]);

			if (k == 0)
				fprintf(f, "  %s%*s", t->cell[r][k], (int)pad, "");
			else
				fprintf(f, "  %*s%s", (int)pad, "", t->cell[r][k]);
		}
		fputc('\n', f);
	}
}

static void variants_text(const struct compare *c, FILE *f)
{
	static const char *const hdr[COLS] = { "variant", "runs", "time (mean ± sd)", "median",
					       "p99", "cpu (mean ± sd)", "allocated", "peak" };
	struct cols *t = calloc(1, sizeof(*t));
	uint32_t i, k, r;

	if (!t)
		return;
	t->ncol = COLS;
	for (i = 0; i < c->nv; i += 63) {
		t->n = 0;
		for (k = 0; k < COLS; k++)
			snprintf(t->cell[0][k], 96, "%s", hdr[k]);
		for (r = 1; r < 64 && i + r - 1 < c->nv; r++) {
			const struct cmp_variant *v = &c->v[i + r - 1];

			snprintf(t->cell[r][0], 96, "%s", v->name);
			snprintf(t->cell[r][1], 96, "%u", c->runs);
			cmp_fmt_spread(t->cell[r][2], 96, &v->s[0], STATS_NS);
			stats_fmt_value(t->cell[r][3], 96, v->s[0].median, STATS_NS);
			stats_fmt_value(t->cell[r][4], 96, v->s[0].p99, STATS_NS);
			cmp_fmt_spread(t->cell[r][5], 96, &v->s[1], STATS_NS);
			cmp_fmt_spread(t->cell[r][6], 96, &v->s[2], STATS_BYTES);
			cmp_fmt_spread(t->cell[r][7], 96, &v->s[3], STATS_BYTES);
		}
		t->n = r;
		cols_print(t, f);
	}
	free(t);
}

static void fmt_p(char *buf, size_t len, const struct stats_change *s)
{
	if (s->exact)
		buf[0] = '\0';
	else
		snprintf(buf, len, "(p = %.2g)", s->p_adjusted);
}

static void versus_text(const struct compare *c, uint32_t var, FILE *f)
{
	static const enum cmp_metric m[4] = { M_WALL, M_CPU, M_ALLOCATED, M_PEAK };
	char v[160], p[48];
	int k;

	fprintf(f, "\n%s against %s:\n", c->v[var].name, c->v[0].name);
	for (k = 0; k < 4; k++) {
		const struct cmp_row *r = run_row(c, var, m[k]);

		if (!r)
			continue;
		fmt_p(p, sizeof(p), &r->c);
		stats_verdict(&r->c, cmp_metric_unit(m[k]), NULL, v, sizeof(v));
		fprintf(f, "  %-10s %s%s%s\n", cmp_metric_name(m[k]), v, *p ? "  " : "", p);
	}
}

static void changes_text(const struct compare *c, uint32_t var, const uint32_t *idx,
			 uint32_t n, FILE *f)
{
	uint32_t i, hidden[2] = { 0, 0 }, shown = 0;
	char v[160], p[48], name[72];

	fprintf(f, "\nChanges of %s against %s (%s, Holm-Bonferroni over %u tests at alpha %g):\n",
		c->v[var].name, c->v[0].name,
		c->test == STATS_WELCH ? "Welch's t on logs" : "Mann-Whitney U", c->ntested,
		c->alpha);
	for (i = 0; i < n; i++) {
		const struct cmp_row *r = &c->rows[idx[i]];

		if (r->var != var)
			continue;
		if (!r->c.significant && !c->all) {
			hidden[r->e->kind == CMP_SITE]++;
			continue;
		}
		if (r->e->kind == CMP_SITE)
			cmp_stack_text(r->e, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s", r->e->name);
		fmt_p(p, sizeof(p), &r->c);
		fprintf(f, "  %-8s  %-32s  %-13s  %s%s%s\n",
			r->e->kind == CMP_SITE ? "site" : "function", name, cmp_metric_name(r->metric),
			cmp_verdict(r, v, sizeof(v)), *p ? "  " : "", p);
		shown++;
	}
	if (!shown && !hidden[0] && !hidden[1])
		fprintf(f, "  (no function or site in either variant)\n");
	else if (hidden[0] || hidden[1])
		fprintf(f, "  %s%u function and %u site rows: no significant difference (--all shows "
			"them)\n", shown ? "" : "none significant; ", hidden[0], hidden[1]);
}

/* cmp_report_text - the whole comparison as aligned text on @f. */
void cmp_report_text(const struct compare *c, FILE *f)
{
	uint32_t *idx = calloc(c->nrows + 1, sizeof(*idx)), n, var;

	fprintf(f, "%u variant%s, %u runs each after %u warmup run%s, interleaved, under perfshim\n\n",
		c->nv, c->nv == 1 ? "" : "s", c->runs, c->warmup, c->warmup == 1 ? "" : "s");
	variants_text(c, f);
	for (var = 0; var < c->nv; var++)
		if (c->v[var].incomplete)
			fprintf(f, "  Note: %u of %s's runs left an incomplete trace (see the warnings "
				"above): their figures may lack the end of the run\n",
				c->v[var].incomplete, c->v[var].name);
	if (!idx)
		return;
	n = cmp_sorted_rows(c, idx);
	for (var = 1; var < c->nv; var++) {
		versus_text(c, var, f);
		changes_text(c, var, idx, n, f);
	}
	free(idx);
}

/* A number, or null where none is defined (JSON has no NaN or infinity). */
static void jnum(FILE *f, const char *key, double v)
{
	fprintf(f, "\"%s\":", key);
	if (!isfinite(v))
		fputs("null", f);
	else if (v == floor(v) && fabs(v) < 9e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.12g", v);
}

static void summary_json(FILE *f, const char *key, const struct stats_summary *s)
{
	fprintf(f, "\"%s\":{", key);
	jnum(f, "mean", s->mean);
	fputc(',', f);
	jnum(f, "stddev", s->stddev);
	fputc(',', f);
	jnum(f, "median", s->median);
	fputc(',', f);
	jnum(f, "p99", s->p99);
	fputc(',', f);
	jnum(f, "min", s->min);
	fputc(',', f);
	jnum(f, "max", s->max);
	fputc('}', f);
}

/* The statistics of one row: base, new, ratio and its interval, p, decision, verdict. */
static void change_json(FILE *f, const struct cmp_row *r)
{
	char v[160];

	jnum(f, "base", r->c.base);
	fputc(',', f);
	jnum(f, "new", r->c.new);
	fputc(',', f);
	jnum(f, "difference", r->c.difference);
	fputc(',', f);
	jnum(f, "ratio", r->c.ratio);
	fputc(',', f);
	jnum(f, "ci_low", r->c.ci_low);
	fputc(',', f);
	jnum(f, "ci_high", r->c.ci_high);
	fputc(',', f);
	jnum(f, "p_value", r->c.p_value);
	fputc(',', f);
	jnum(f, "p_adjusted", r->c.p_adjusted);
	fprintf(f, ",\"exact\":%s,\"significant\":%s,\"below_floor\":%s,\"verdict\":",
		r->c.exact ? "true" : "false", r->c.significant ? "true" : "false",
		r->below_floor ? "true" : "false");
	jr_write_string(f, r->e ? cmp_verdict(r, v, sizeof(v)) :
			stats_verdict(&r->c, cmp_metric_unit(r->metric), NULL, v, sizeof(v)));
}

static void variant_json(const struct compare *c, uint32_t var, FILE *f)
{
	static const enum cmp_metric m[4] = { M_WALL, M_CPU, M_ALLOCATED, M_PEAK };
	const struct cmp_variant *v = &c->v[var];
	uint32_t k;

	fputs("{\"name\":", f);
	jr_write_string(f, v->name);
	fputs(",\"command\":[", f);
	for (k = 0; v->argv[k]; k++) {
		if (k)
			fputc(',', f);
		jr_write_string(f, v->argv[k]);
	}
	fprintf(f, "],\"runs\":%u,\"incomplete_runs\":%u,", c->runs, v->incomplete);
	summary_json(f, "time_ns", &v->s[0]);
	fputc(',', f);
	summary_json(f, "cpu_ns", &v->s[1]);
	fputc(',', f);
	summary_json(f, "allocated_bytes", &v->s[2]);
	fputc(',', f);
	summary_json(f, "peak_bytes", &v->s[3]);
	fputs(",\"versus_base\":", f);
	if (!var) {
		fputs("null}", f);
		return;
	}
	fputc('{', f);
	for (k = 0; k < 4; k++) {
		const struct cmp_row *r = run_row(c, var, m[k]);

		fprintf(f, "%s\"%s\":{", k ? "," : "", cmp_metric_key(m[k]));
		if (r)
			change_json(f, r);
		fputc('}', f);
	}
	fputs("}}", f);
}

/* A site's stack, and its frames: the analyzer's when it gave them, else names alone. */
static void stack_json(FILE *f, const struct cmp_entity *e)
{
	uint32_t i;

	fputs("\"stack\":[", f);
	for (i = 0; i < e->depth; i++) {
		if (i)
			fputc(',', f);
		jr_write_string(f, e->stack[i]);
	}
	fputs("],\"frames\":", f);
	if (e->frames) {
		fputs(e->frames, f);
		return;
	}
	fputc('[', f);
	for (i = 0; i < e->depth; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		jr_write_string(f, e->stack[i]);
		fputs(",\"module\":null,\"file\":null,\"line\":null,\"inlined\":false}", f);
	}
	fputc(']', f);
}

/* cmp_report_json - the comparison as one JSON document (CONTRACT.md "compare") on @f. */
void cmp_report_json(const struct compare *c, FILE *f)
{
	uint32_t *idx = calloc(c->nrows + 1, sizeof(*idx)), n, i;

	fputs("{\"base\":", f);
	jr_write_string(f, c->v[0].name);
	fprintf(f, ",\"runs\":%u,\"warmup\":%u,\"test\":\"%s\",\"alpha\":%g,\"floor_pct\":%g,"
		   "\"tests\":%u,\"variants\":[", c->runs, c->warmup,
		c->test == STATS_WELCH ? "welch" : "mann-whitney", c->alpha, c->floor_pct, c->ntested);
	for (i = 0; i < c->nv; i++) {
		if (i)
			fputc(',', f);
		variant_json(c, i, f);
	}
	fputs("],\"changes\":[", f);
	n = idx ? cmp_sorted_rows(c, idx) : 0;
	for (i = 0; i < n; i++) {
		const struct cmp_row *r = &c->rows[idx[i]];

		fputs(i ? ",{" : "{", f);
		fprintf(f, "\"kind\":\"%s\",\"name\":", r->e->kind == CMP_SITE ? "site" : "function");
		jr_write_string(f, r->e->name);
		fputc(',', f);
		if (r->e->kind == CMP_SITE)
			stack_json(f, r->e);
		else
			fputs("\"stack\":null", f);
		fprintf(f, ",\"metric\":\"%s\",\"base_variant\":", cmp_metric_key(r->metric));
		jr_write_string(f, c->v[0].name);
		fputs(",\"new_variant\":", f);
		jr_write_string(f, c->v[r->var].name);
		fputc(',', f);
		change_json(f, r);
		fputc('}', f);
	}
	fputs("]}\n", f);
	free(idx);
}
