// SPDX-License-Identifier: MIT
/*
 * `perfshim compare --format=html`: one self-contained page (no script, no network): the
 * variants' table, a box plot of each variant's run times and a chart of the significant
 * time changes with their intervals, both inline SVG, and the tables of changes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/compare.h"

#define W 760				/* chart width, px */
#define LEFT 140			/* room for the names */

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* x of value @v on a linear axis [@lo, @hi] drawn from LEFT to W - 20 */
static double xpos(double v, double lo, double hi)
{
	return LEFT + (hi > lo ? (v - lo) / (hi - lo) : 0.5) * (W - 20 - LEFT);
}

/* A box per variant: whiskers min..max, box q1..q3, the median, and every run as a dot. */
static void box_plot(const struct compare *c, FILE *f)
{
	double lo = INFINITY, hi = -INFINITY, *s = calloc(c->runs, sizeof(double));
	uint32_t i, k, h = 40 * c->nv + 40;
	char a[48];

	if (!s)
		return;
	for (i = 0; i < c->nv; i++) {
		lo = fmin(lo, c->v[i].s[0].min);
		hi = fmax(hi, c->v[i].s[0].max);
	}
	lo = fmax(0, lo - (hi - lo) * 0.05);
	hi += (hi - lo) * 0.05;
	fprintf(f, "<svg width=\"%d\" height=\"%u\" role=\"img\" aria-label=\"run times\">\n", W, h);
	for (k = 0; k <= 4; k++) {
		double v = lo + (hi - lo) * k / 4, x = xpos(v, lo, hi);

		fprintf(f, "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"%u\" class=\"grid\"/>"
			   "<text x=\"%.1f\" y=\"%u\" class=\"tick\">%s</text>\n", x, x, h - 25, x,
			h - 10, stats_fmt_value(a, sizeof(a), v, STATS_NS));
	}
	for (i = 0; i < c->nv; i++) {
		const struct cmp_variant *v = &c->v[i];
		double y = 30 + 40.0 * i, q1, q3;

		memcpy(s, v->wall, c->runs * sizeof(double));
		qsort(s, c->runs, sizeof(double), cmp_dbl);
		q1 = stats_quantile_sorted(s, c->runs, 0.25);
		q3 = stats_quantile_sorted(s, c->runs, 0.75);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"name\">", LEFT - 8, y + 4);
		esc(f, v->name);
		fprintf(f, "</text>\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"wh\"/>"
			   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" class=\"box%u\"/>"
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"med\"/>\n",
			xpos(s[0], lo, hi), y, xpos(s[c->runs - 1], lo, hi), y, xpos(q1, lo, hi), y - 10,
			fmax(1, xpos(q3, lo, hi) - xpos(q1, lo, hi)), i % 4, xpos(v->s[0].median, lo, hi),
			y - 12, xpos(v->s[0].median, lo, hi), y + 12);
		for (k = 0; k < c->runs; k++)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" class=\"dot\"/>",
				xpos(v->wall[k], lo, hi), y);
		fputc('\n', f);
	}
	fputs("</svg>\n", f);
	free(s);
}

/* The significant time changes as bars on a log axis of the ratio, 1 in the middle. */
static void ratio_chart(const struct compare *c, uint32_t var, const uint32_t *idx, uint32_t n,
			FILE *f)
{
	double span = log(2);
	uint32_t i, k = 0, rows = 0;
	char name[64];

	for (i = 0; i < n; i++) {
		const struct cmp_row *r = &c->rows[idx[i]];

		if (r->var == var && r->c.significant && cmp_metric_self(r->metric) &&
		    isfinite(r->c.ratio) && r->c.ratio > 0) {
			span = fmax(span, fabs(log(r->c.ratio)) * 1.15);
			if (isfinite(r->c.ci_low))
				span = fmax(span, fmax(fabs(log(r->c.ci_low)), fabs(log(r->c.ci_high))));
			rows++;
		}
	}
	if (!rows)
		return;
	fprintf(f, "<h3>Self time, new against base (log scale)</h3>\n<svg width=\"%d\" height=\"%u\" "
		   "role=\"img\" aria-label=\"time ratios\">\n", W, 26 * rows + 40);
	fprintf(f, "<line x1=\"%.1f\" y1=\"5\" x2=\"%.1f\" y2=\"%u\" class=\"one\"/>"
		   "<text x=\"%.1f\" y=\"%u\" class=\"tick\">1x</text>"
		   "<text x=\"%d\" y=\"%u\" class=\"tick\">%.2gx</text>"
		   "<text x=\"%d\" y=\"%u\" class=\"tick\">%.2gx</text>\n",
		xpos(0, -span, span), xpos(0, -span, span), 26 * rows + 10, xpos(0, -span, span),
		26 * rows + 30, LEFT, 26 * rows + 30, exp(-span), W - 20, 26 * rows + 30, exp(span));
	for (i = 0; i < n; i++) {
		const struct cmp_row *r = &c->rows[idx[i]];
		double y, x0 = xpos(0, -span, span), x1;

		if (!(r->var == var && r->c.significant && cmp_metric_self(r->metric) &&
		      isfinite(r->c.ratio) && r->c.ratio > 0))
			continue;
		y = 15 + 26.0 * k++;
		x1 = xpos(log(r->c.ratio), -span, span);
		snprintf(name, sizeof(name), "%s", r->e->name);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"name\">", LEFT - 8, y + 12);
		esc(f, name);
		fprintf(f, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" class=\"%s\"/>",
			fmin(x0, x1), y, fmax(1, fabs(x1 - x0)), r->c.ratio > 1 ? "slow" : "fast");
		if (isfinite(r->c.ci_low))
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ci\"/>",
				xpos(log(r->c.ci_low), -span, span), y + 8,
				xpos(log(r->c.ci_high), -span, span), y + 8);
		fputc('\n', f);
	}
	fputs("</svg>\n", f);
}

static void change_cells(FILE *f, const struct cmp_row *r)
{
	enum stats_unit u = cmp_metric_unit(r->metric);
	char a[48], b[48], v[160];

	fprintf(f, "<td class=\"r\">%s</td><td class=\"r\">%s</td>",
		stats_fmt_value(a, sizeof(a), r->c.base, u), stats_fmt_value(b, sizeof(b), r->c.new, u));
	if (isfinite(r->c.ratio) && isfinite(r->c.ci_low))
		fprintf(f, "<td class=\"r\">%.3f [%.3f, %.3f]</td>", r->c.ratio, r->c.ci_low,
			r->c.ci_high);
	else if (isfinite(r->c.ratio))
		fprintf(f, "<td class=\"r\">%.3f</td>", r->c.ratio);
	else
		fputs("<td class=\"r\">n/a</td>", f);
	if (r->c.exact)
		fputs("<td class=\"r\">exact</td>", f);
	else
		fprintf(f, "<td class=\"r\">%.2g</td>", r->c.p_adjusted);
	fputs("<td>", f);
	esc(f, r->e ? cmp_verdict(r, v, sizeof(v)) : stats_verdict(&r->c, u, NULL, v, sizeof(v)));
	fputs("</td>", f);
}

static void changes_table(const struct compare *c, uint32_t var, const uint32_t *idx,
			  uint32_t n, bool significant, FILE *f)
{
	uint32_t i, rows = 0;
	char st[512];

	for (i = 0; i < n; i++)
		rows += c->rows[idx[i]].var == var && c->rows[idx[i]].c.significant == significant;
	if (!rows) {
		fprintf(f, "<p>%s</p>\n", significant ? "No significant change." : "None.");
		return;
	}
	fputs("<table><tr><th>kind</th><th>function or stack</th><th>metric</th><th>base</th>"
	      "<th>new</th><th>ratio [interval]</th><th>p (Holm)</th><th>verdict</th></tr>\n", f);
	for (i = 0; i < n; i++) {
		const struct cmp_row *r = &c->rows[idx[i]];

		if (r->var != var || r->c.significant != significant)
			continue;
		fprintf(f, "<tr><td>%s</td><td class=\"fn\">",
			r->e->kind == CMP_SITE ? "site" : "function");
		if (r->e->kind == CMP_SITE)
			cmp_stack_text(r->e, st, sizeof(st));
		else
			snprintf(st, sizeof(st), "%s", r->e->name);
		esc(f, st);
		fprintf(f, "</td><td>%s</td>", cmp_metric_name(r->metric));
		change_cells(f, r);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void variants_table(const struct compare *c, FILE *f)
{
	uint32_t i;
	char a[5][96];

	fputs("<table><tr><th>variant</th><th>command</th><th>runs</th><th>time (mean ± sd)</th>"
	      "<th>median</th><th>p99</th><th>cpu (mean ± sd)</th><th>allocated</th><th>peak</th>"
	      "</tr>\n", f);
	for (i = 0; i < c->nv; i++) {
		const struct cmp_variant *v = &c->v[i];
		uint32_t k;

		fputs("<tr><td>", f);
		esc(f, v->name);
		fputs("</td><td class=\"fn\">", f);
		for (k = 0; v->argv[k]; k++) {
			if (k)
				fputc(' ', f);
			esc(f, v->argv[k]);
		}
		fprintf(f, "</td><td class=\"r\">%u</td><td class=\"r\">%s</td><td class=\"r\">%s</td>"
			   "<td class=\"r\">%s</td><td class=\"r\">%s</td><td class=\"r\">%s</td>"
			   "<td class=\"r\">%s</td></tr>\n", c->runs,
			cmp_fmt_spread(a[0], 96, &v->s[0], STATS_NS),
			stats_fmt_value(a[1], 96, v->s[0].median, STATS_NS),
			stats_fmt_value(a[2], 96, v->s[0].p99, STATS_NS),
			cmp_fmt_spread(a[3], 96, &v->s[1], STATS_NS),
			cmp_fmt_spread(a[4], 48, &v->s[2], STATS_BYTES),
			cmp_fmt_spread(a[4] + 48, 48, &v->s[3], STATS_BYTES));
	}
	fputs("</table>\n", f);
}

static void versus_table(const struct compare *c, uint32_t var, FILE *f)
{
	uint32_t i;

	fputs("<table><tr><th>metric</th><th>base</th><th>new</th><th>ratio [interval]</th>"
	      "<th>p (Holm)</th><th>verdict</th></tr>\n", f);
	for (i = 0; i < c->nrows; i++) {
		const struct cmp_row *r = &c->rows[i];

		if (r->e || r->var != var)
			continue;
		fprintf(f, "<tr><td>%s</td>", cmp_metric_name(r->metric));
		change_cells(f, r);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:2em;color:#222}"
	"table{border-collapse:collapse;margin:.5em 0 1.5em}"
	"th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}"
	"td.r{text-align:right;font-variant-numeric:tabular-nums}td.fn{font-family:monospace}"
	".grid{stroke:#eee}.tick{font-size:11px;fill:#666;text-anchor:middle}"
	".name{font-size:12px;text-anchor:end}.wh{stroke:#555}.med{stroke:#000;stroke-width:2}"
	".box0{fill:#9ecae1}.box1{fill:#fdae6b}.box2{fill:#a1d99b}.box3{fill:#bcbddc}"
	".box0,.box1,.box2,.box3{stroke:#555}.dot{fill:#000;opacity:.5}"
	".one{stroke:#000}.slow{fill:#e6550d}.fast{fill:#31a354}.ci{stroke:#000;stroke-width:2}";

/* cmp_report_html - the comparison as one self-contained HTML page on @f. */
void cmp_report_html(const struct compare *c, FILE *f)
{
	uint32_t *idx = calloc(c->nrows + 1, sizeof(*idx)), n = 0, var;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<title>perfshim compare</title><style>%s</style></head><body>\n"
		   "<h1>perfshim compare</h1>\n<p>%u variants, %u runs each after %u warmup, "
		   "interleaved, under perfshim. Changes: %s, Holm-Bonferroni over %u tests at "
		   "alpha %g; intervals of the ratio new/base at level %g.</p>\n", style, c->nv,
		c->runs, c->warmup, c->test == STATS_WELCH ? "Welch's t on logs" : "Mann-Whitney U",
		c->ntested, c->alpha, 1 - c->alpha);
	variants_table(c, f);
	for (var = 0; var < c->nv; var++)
		if (c->v[var].incomplete) {
			fprintf(f, "<p>Note: %u of ", c->v[var].incomplete);
			esc(f, c->v[var].name);
			fputs("'s runs left an incomplete trace: their figures may lack the end of the "
			      "run.</p>\n", f);
		}
	fputs("<h2>Run times</h2>\n", f);
	box_plot(c, f);
	if (idx)
		n = cmp_sorted_rows(c, idx);
	for (var = 1; var < c->nv; var++) {
		fputs("<h2>", f);
		esc(f, c->v[var].name);
		fputs(" against ", f);
		esc(f, c->v[0].name);
		fputs("</h2>\n", f);
		versus_table(c, var, f);
		ratio_chart(c, var, idx, n, f);
		fputs("<h3>Significant changes</h3>\n", f);
		changes_table(c, var, idx, n, true, f);
		fputs("<details><summary>No significant difference</summary>\n", f);
		changes_table(c, var, idx, n, false, f);
		fputs("</details>\n", f);
	}
	fputs("</body></html>\n", f);
	free(idx);
}
