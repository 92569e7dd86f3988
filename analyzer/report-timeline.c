// SPDX-License-Identifier: MIT
/*
 * The `timeline` report, perfshim's leak detector: live heap bytes and blocks (the memory
 * replay, replay.c, stopped at evenly spaced times) and the recorder's RSS samples over the
 * run, with marks; a least-squares growth rate over the second half of the run and a verdict
 * naming the stacks whose live bytes grew fastest. docs/memory-diff.md explains the verdict.
 */
#define PR_FMT "timeline"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

#define NSTEPS 200			/* intervals: NSTEPS + 1 samples from 0 to the end */
#define NSUSPECTS 5			/* stacks named in the verdict */
#define CHART_W 64			/* terminal chart: columns ... */
#define CHART_H 8			/* ... and rows */

struct sample {
	uint64_t ns, live_bytes, live_blocks, rss;
};

struct timeline {
	uint64_t end_ns;
	struct sample s[NSTEPS + 1];
	uint32_t n;			/* samples taken */
	uint32_t half;			/* first sample of the second half */
	uint64_t rss;			/* last RSS record seen */
	/* per stack live bytes at each second-half sample: snap[k][stack], nsnap[k] stacks */
	uint64_t *snap[NSTEPS + 1];
	uint32_t nsnap[NSTEPS + 1];
};

static uint64_t step_ns(const struct timeline *tl, uint32_t k)
{
	return (uint64_t)((double)tl->end_ns * k / NSTEPS);
}

static uint64_t tl_stop(struct replay *r, uint64_t at, void *arg)
{
	struct timeline *tl = arg;
	uint32_t k = tl->n, i;

	tl->s[k] = (struct sample){ at, r->live_bytes, r->live_blocks, tl->rss };
	if (k >= tl->half) {
		tl->snap[k] = xcalloc(r->naggs + 1, sizeof(uint64_t));
		for (i = 0; i < r->naggs; i++)
			tl->snap[k][i] = r->aggs[i].live_bytes;
		tl->nsnap[k] = r->naggs;
	}
	tl->n++;
	if (tl->n > NSTEPS)
		return UINT64_MAX;
	return step_ns(tl, tl->n) > at ? step_ns(tl, tl->n) : at + 1;
}

static void tl_other(struct replay *r, const struct trace_event *ev, void *arg)
{
	struct timeline *tl = arg;

	if (ev->type == EV_RSS)
		tl->rss = ev->size;
}

/* Least squares y = a + b x over @n points; @resid: RMS of the residuals. Return: b. */
static double lsq(const double *x, const double *y, uint32_t n, double *resid)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, b, a, ss = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	b = sxx > 0 ? sxy / sxx : 0;
	a = my - b * mx;
	for (i = 0; i < n; i++)
		ss += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
	if (resid)
		*resid = n ? sqrt(ss / n) : 0;
	return b;
}

struct suspect {
	char *key;
	uint32_t stack;			/* a representative stack */
	double rate;			/* bytes per second */
	uint64_t first, last;		/* live bytes at the window's first and last sample */
};

/* the suspects by their key (stacks grouped by function chain) */
struct suspect_ref {
	uint64_t key;
	const char *str;		/* its suspect's key */
	struct suspect *s;
};
HMAP_DEFINE_STR(suspects, struct suspect_ref, key, str)

struct verdict {
	bool grows;
	double rate;			/* bytes/s over the second half */
	double resid;			/* RMS residual of the fit, bytes */
	double mean;			/* mean live bytes over the second half */
	uint64_t from_ns, to_ns;	/* the fitted window */
	struct suspect **sus;		/* fastest growing first */
	uint32_t nsus;
};

static int cmp_suspect(const void *pa, const void *pb)
{
	const struct suspect *a = *(struct suspect *const *)pa, *b = *(struct suspect *const *)pb;

	if (a->rate != b->rate)
		return a->rate > b->rate ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/*
 * The verdict: "grows" when the fitted growth over the window is over three times the RMS
 * residual (a trend, not noise), over 1% of the mean live heap and at least 1 KiB; then the
 * stacks (grouped by function chain) are ranked by their own fitted rate.
 */
static void judge(struct timeline *tl, const struct trace *t, struct symbols *sym,
		  struct verdict *v)
{
	uint32_t n = tl->n - tl->half, i, k, nstacks = 0;
	double *x = xcalloc(n + 1, sizeof(double)), *y = xcalloc(n + 1, sizeof(double));
	double growth;
	struct suspects map = { 0 };
	struct suspect_ref *ref;
	struct suspect *s;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < n; i++) {
		x[i] = (double)tl->s[tl->half + i].ns / 1e9;
		y[i] = (double)tl->s[tl->half + i].live_bytes;
		v->mean += y[i] / n;
	}
	v->from_ns = tl->s[tl->half].ns;
	v->to_ns = tl->s[tl->n - 1].ns;
	v->rate = n > 2 ? lsq(x, y, n, &v->resid) : 0;
	growth = v->rate * (double)(v->to_ns - v->from_ns) / 1e9;
	v->grows = n > 2 && growth > 3 * v->resid && growth > v->mean / 100 && growth >= 1024;

	for (k = tl->half; k < tl->n; k++)
		if (tl->nsnap[k] > nstacks)
			nstacks = tl->nsnap[k];
	for (i = 1; v->grows && i < nstacks; i++) {
		char *key;
		bool any = false, created;

		for (k = 0; k < n; k++) {
			uint32_t j = tl->half + k;

			y[k] = i < tl->nsnap[j] ? (double)tl->snap[j][i] : 0;
			any |= y[k] != 0;
		}
		if (!any)
			continue;
		key = replay_stack_key(t, sym, i);
		ref = suspects_intern(&map, key, &created);
		if (!created) {
			free(key);
		} else {
			ref->s = xcalloc(1, sizeof(*s));
			ref->s->key = key;
			ref->s->stack = i;
		}
		s = ref->s;
		s->rate += lsq(x, y, n, NULL);	/* slopes add up like the stacks' bytes */
		s->first += (uint64_t)y[0];
		s->last += (uint64_t)y[n - 1];
	}
	v->sus = xcalloc(map.n + 1, sizeof(*v->sus));
	for (ref = suspects_each(&map, NULL); ref; ref = suspects_each(&map, ref)) {
		s = ref->s;
		/* a suspect grows, and carries at least 1% of the heap's growth */
		if (s->rate > 0 && s->last > s->first && s->rate >= v->rate / 100) {
			v->sus[v->nsus++] = s;
		} else {
			free(s->key);
			free(s);
		}
	}
	suspects_free(&map);
	qsort(v->sus, v->nsus, sizeof(*v->sus), cmp_suspect);
	free(x);
	free(y);
}

static const char *verdict_text(const struct verdict *v, char *buf, size_t len)
{
	char b[32];

	if (!v->grows) {
		snprintf(buf, len, "steady");
		return buf;
	}
	snprintf(buf, len, "grows %s/s", fmt_bytes(b, sizeof(b), (uint64_t)llround(v->rate)));
	return buf;
}

/* the JSON object (under @key, or a top-level value when NULL) into @jw */
static void timeline_json(struct json *jw, const char *key, const struct timeline *tl,
			  const struct trace *t, struct symbols *sym, const struct verdict *v)
{
	struct json j = *jw;
	char buf[64];
	uint32_t i;

	json_obj_begin(&j, key);
	if (!key)	/* a document of its own (html embeds the object and says it itself) */
		notes_json((struct trace *)t, &j);
	json_u64(&j, "duration_ns", tl->end_ns);
	json_u64(&j, "interval_ns", tl->end_ns / NSTEPS);
	json_str(&j, "verdict", v->grows ? "grows" : "steady");
	json_str(&j, "summary", verdict_text(v, buf, sizeof(buf)));
	json_obj_begin(&j, "growth");
	json_dbl(&j, "bytes_per_s", v->rate);
	json_u64(&j, "window_from_ns", v->from_ns);
	json_u64(&j, "window_to_ns", v->to_ns);
	json_dbl(&j, "residual_bytes", v->resid);
	json_dbl(&j, "mean_live_bytes", v->mean);
	json_obj_end(&j);
	json_arr_begin(&j, "suspects");
	for (i = 0; i < v->nsus && v->grows; i++) {
		json_obj_begin(&j, NULL);
		replay_json_stack(&j, t, sym, v->sus[i]->stack);
		json_dbl(&j, "bytes_per_s", v->sus[i]->rate);
		json_i64(&j, "growth_bytes", (int64_t)(v->sus[i]->last - v->sus[i]->first));
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "marks");
	for (i = 0; i < t->nmarks; i++) {
		json_obj_begin(&j, NULL);
		json_str(&j, "label", t->marks[i].label);
		json_u64(&j, "time_ns", t->marks[i].ns);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "samples");
	for (i = 0; i < tl->n; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "time_ns", tl->s[i].ns);
		json_u64(&j, "live_bytes", tl->s[i].live_bytes);
		json_u64(&j, "live_blocks", tl->s[i].live_blocks);
		json_u64(&j, "rss_bytes", tl->s[i].rss);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	*jw = j;
}

/* CSV: one row per sample; "mark" names the marks since the previous sample. */
static void timeline_csv(const struct timeline *tl, const struct trace *t)
{
	uint32_t i, m;

	notes_comment((struct trace *)t, stdout, "# ");
	printf("time_ns,live_bytes,live_blocks,rss_bytes,mark\n");
	for (i = 0; i < tl->n; i++) {
		const struct sample *s = &tl->s[i];
		bool first = true;

		printf("%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",\"", s->ns, s->live_bytes,
		       s->live_blocks, s->rss);
		for (m = 0; m < t->nmarks; m++) {
			const char *c;

			if (t->marks[m].ns > s->ns || (i && t->marks[m].ns <= tl->s[i - 1].ns))
				continue;
			if (!first)
				putchar(' ');
			for (c = t->marks[m].label; *c; c++) {
				if (*c == '"')	/* CSV: a quote is doubled */
					putchar('"');
				putchar(*c);
			}
			first = false;
		}
		printf("\"\n");
	}
}

/* A CHART_W x CHART_H chart of one series (the largest value of each column's samples). */
static void chart(const struct timeline *tl, const char *title, int which)
{
	uint64_t col[CHART_W] = { 0 }, max = 0;
	char b[32];
	int c, row;
	uint32_t i;

	for (i = 0; i < tl->n; i++) {
		uint64_t v = which == 0 ? tl->s[i].live_bytes : tl->s[i].rss;

		c = (int)((uint64_t)i * CHART_W / (tl->n ? tl->n : 1));
		if (v > col[c])
			col[c] = v;
		if (v > max)
			max = v;
	}
	printf("\n%s (max %s)\n", title, fmt_bytes(b, sizeof(b), max));
	for (row = CHART_H; row >= 1; row--) {
		printf("  %10s |", row == CHART_H ? fmt_bytes(b, sizeof(b), max) : "");
		for (c = 0; c < CHART_W; c++) {
			/* cell filled when the column reaches this row's lower edge */
			uint64_t edge = max * (uint64_t)(row - 1) / CHART_H;

			putchar(max && col[c] > edge ? '#' : ' ');
		}
		putchar('\n');
	}
}

static void timeline_text(const struct timeline *tl, const struct trace *t, struct symbols *sym,
			  const struct verdict *v)
{
	char a[32], b[32], line[CHART_W + 1], st[1024];
	uint32_t i, m;
	bool rss = false;

	notes_text((struct trace *)t, stdout);
	printf("Timeline of %s: %s, sampled every %s\n", t->path, fmt_ns(a, sizeof(a), tl->end_ns),
	       fmt_ns(b, sizeof(b), tl->end_ns / NSTEPS));
	for (i = 0; i < tl->n; i++)
		rss |= tl->s[i].rss != 0;
	chart(tl, "Live heap", 0);
	if (rss)
		chart(tl, "RSS", 1);
	memset(line, '-', CHART_W);
	line[CHART_W] = 0;
	for (m = 0; m < t->nmarks; m++) {
		uint64_t c = tl->end_ns ? t->marks[m].ns * CHART_W / (tl->end_ns + 1) : 0;

		line[c < CHART_W ? c : CHART_W - 1] = '^';
	}
	printf("  %10s +%s\n  %10s  0%*s\n", "", line, "", CHART_W - 1,
	       fmt_ns(a, sizeof(a), tl->end_ns));
	for (m = 0; m < t->nmarks; m++)
		printf("  ^ %-20s at %s\n", t->marks[m].label, fmt_ns(a, sizeof(a), t->marks[m].ns));

	printf("\nLive heap: %s at the start of the second half, %s at the end\n",
	       fmt_bytes(a, sizeof(a), tl->s[tl->half].live_bytes),
	       fmt_bytes(b, sizeof(b), tl->s[tl->n - 1].live_bytes));
	printf("Growth (least squares, second half): %+.0f B/s (residual %.0f B)\n", v->rate,
	       v->resid);
	printf("Verdict: %s%s\n", verdict_text(v, a, sizeof(a)), v->grows ? "; suspects:" : "");
	for (i = 0; v->grows && i < v->nsus && i < NSUSPECTS; i++)
		printf("  %12s/s  %s\n", fmt_bytes(a, sizeof(a), (uint64_t)llround(v->sus[i]->rate)),
		       replay_text_stack(t, sym, v->sus[i]->stack, st, sizeof(st)));
	if (replay_truncated_shown())
		printf("%s.\n", TRACE_TRUNCATED_LEGEND);
}

/* The replay stopped at the sample times, the symbols and the verdict. Return: 0 or -1. */
static int timeline_load(struct trace *t, const struct opts *o, struct timeline *tl,
			 struct replay *r, struct symbols **sym, struct verdict *v)
{
	memset(r, 0, sizeof(*r));
	if (trace_find_mark(t, "end", &tl->end_ns) < 0)
		return -1;
	tl->half = NSTEPS / 2;
	r->stop = tl_stop;
	r->next_stop = 0;
	r->other = tl_other;
	r->arg = tl;
	if (replay_run(r, t) < 0)
		return -1;
	*sym = replay_symbols(t, o);
	if (!*sym)
		return -1;
	judge(tl, t, *sym, v);
	return 0;
}

static void timeline_drop(struct timeline *tl, struct replay *r, struct symbols *sym,
			  struct verdict *v)
{
	uint32_t i;

	for (i = 0; i < v->nsus; i++) {
		free(v->sus[i]->key);
		free(v->sus[i]);
	}
	free(v->sus);
	for (i = 0; i <= NSTEPS; i++)
		free(tl->snap[i]);
	free(tl);
	if (sym)
		sym_close(sym);
	replay_free(r);
}

/**
 * report_timeline - live heap, blocks and RSS of @t over time on stdout (a text chart,
 * --format=json or --format=csv series), a growth rate and the steady/grows verdict.
 * Return: 0, or -1 when the trace could not be decoded or symbolized.
 */
int report_timeline(struct trace *t, const struct opts *o)
{
	struct timeline *tl = xcalloc(1, sizeof(*tl));
	struct symbols *sym = NULL;
	struct verdict v = { 0 };
	struct replay r;
	int ret = -1;

	if (!(t->hdr.flags & TRACE_F_MALLOC) && !t->nallocs && !t->nfrees && !t->nreallocs)
		pr_warn("%s: the malloc family was not recorded (PERFSHIM_EVENTS): no allocations\n",
			t->path);
	if (timeline_load(t, o, tl, &r, &sym, &v) < 0)
		goto out;
	if (o->format == FMT_JSON) {
		struct json j;

		json_init(&j, stdout);
		timeline_json(&j, NULL, tl, t, sym, &v);
		json_finish(&j);
	} else if (o->format == FMT_CSV) {
		timeline_csv(tl, t);
	} else {
		timeline_text(tl, t, sym, &v);
	}
	fflush(stdout);
	ret = 0;
out:
	timeline_drop(tl, &r, sym, &v);
	return ret;
}

/* @v's verdict as timeline_growth gives it */
static void growth_of(const struct verdict *v, struct timeline_growth *g)
{
	memset(g, 0, sizeof(*g));
	g->grows = v->grows;
	g->rate = v->rate;
	g->from_ns = v->from_ns;
	g->to_ns = v->to_ns;
	if (v->grows && v->nsus) {
		g->suspect = v->sus[0]->stack;
		g->suspect_rate = v->sus[0]->rate;
		g->suspect_growth = (int64_t)(v->sus[0]->last - v->sus[0]->first);
	}
}

/**
 * timeline_emit - the object `timeline --format=json` prints for @t, under @key of @j (the
 * html report embeds it), and into @g (NULL: not wanted) what timeline_growth gives, from
 * the same pass. Return: 0, or -1 when the trace could not be decoded (reported).
 */
int timeline_emit(struct trace *t, const struct opts *o, struct json *j, const char *key,
		  struct timeline_growth *g)
{
	struct timeline *tl = xcalloc(1, sizeof(*tl));
	struct symbols *sym = NULL;
	struct verdict v = { 0 };
	struct replay r;
	int ret = -1;

	if (timeline_load(t, o, tl, &r, &sym, &v) == 0) {
		timeline_json(j, key, tl, t, sym, &v);
		if (g)
			growth_of(&v, g);
		ret = 0;
	}
	timeline_drop(tl, &r, sym, &v);
	return ret;
}

/**
 * timeline_growth - the verdict `timeline` gives for @t and its fastest growing stack (the
 * first suspect), into @g. Return: 0, or -1 when the trace could not be decoded (reported).
 */
int timeline_growth(struct trace *t, const struct opts *o, struct timeline_growth *g)
{
	struct timeline *tl = xcalloc(1, sizeof(*tl));
	struct symbols *sym = NULL;
	struct verdict v = { 0 };
	struct replay r;
	int ret = -1;

	memset(g, 0, sizeof(*g));
	if (timeline_load(t, o, tl, &r, &sym, &v) == 0) {
		growth_of(&v, g);
		ret = 0;
	}
	timeline_drop(tl, &r, sym, &v);
	return ret;
}
