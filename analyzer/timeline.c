// SPDX-License-Identifier: MIT
/*
 * The timeline, perfshim's leak detector (model layer, timeline.h): live heap bytes and
 * blocks (the memory replay, replay.c, stopped at evenly spaced times) and the recorder's
 * RSS samples over the run, with marks; a least-squares growth rate over the second half of
 * the run and a verdict naming the stacks whose live bytes grew fastest. The `timeline`
 * view is report-timeline.c. docs/memory-diff.md explains the verdict.
 */
#define PR_FMT "timeline"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/replay.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/timeline.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

static uint64_t step_ns(const struct timeline *tl, uint32_t k)
{
	return (uint64_t)((double)tl->end_ns * k / NSTEPS);
}

/** timeline_stop - a sample at @at (a stop of the replay @tl_begin readied). Return: the next. */
uint64_t timeline_stop(struct replay *r, uint64_t at, struct timeline *tl)
{
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

/** timeline_other - an event the replay does not use: RSS samples. */
void timeline_other(struct timeline *tl, const struct trace_event *ev)
{
	if (ev->type == EV_RSS)
		tl->rss = ev->size;
}

static uint64_t tl_stop(struct replay *r, uint64_t at, void *arg)
{
	return timeline_stop(r, at, arg);
}

static void tl_other(struct replay *r, const struct trace_event *ev, void *arg)
{
	timeline_other(arg, ev);
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

/* the suspects by their key (stacks grouped by function chain) */
struct suspect_ref {
	uint64_t key;
	const char *str;		/* its suspect's key */
	struct suspect *s;
};
HMAP_DEFINE_STR(suspects, struct suspect_ref, key, str)

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
 * stacks (grouped by function chain) are ranked by their own fitted rate. (timeline_judge)
 */
void timeline_judge(struct timeline *tl, const struct trace *t, struct symbols *sym,
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

/** timeline_verdict_text - "steady" or "grows RATE/s" into @buf; returns @buf. */
const char *timeline_verdict_text(const struct verdict *v, char *buf, size_t len)
{
	char b[32];

	if (!v->grows) {
		snprintf(buf, len, "steady");
		return buf;
	}
	snprintf(buf, len, "grows %s/s", fmt_bytes(b, sizeof(b), (uint64_t)llround(v->rate)));
	return buf;
}

/** timeline_begin - ready @tl (zeroed) for a replay @r stopping at its sample times. */
int timeline_begin(struct trace *t, struct timeline *tl, struct replay *r)
{
	/* the end is known after a walk: let that one keep the heap's events for @r */
	if (replay_log_info(t) < 0 || trace_find_mark(t, "end", &tl->end_ns) < 0)
		return -1;
	tl->half = NSTEPS / 2;
	r->next_stop = 0;
	return 0;
}

/** timeline_load - the replay stopped at the sample times, the symbols, the verdict. */
int timeline_load(struct trace *t, const struct opts *o, struct timeline *tl,
		  struct replay *r, struct symbols **sym, struct verdict *v)
{
	memset(r, 0, sizeof(*r));
	if (timeline_begin(t, tl, r) < 0)
		return -1;
	r->stop = tl_stop;
	r->other = tl_other;
	r->arg = tl;
	if (replay_run(r, t) < 0)
		return -1;
	*sym = replay_symbols(t, o);
	if (!*sym)
		return -1;
	timeline_judge(tl, t, *sym, v);
	return 0;
}

/** timeline_release - free @tl's snapshots and @v's suspects (not @tl itself). */
void timeline_release(struct timeline *tl, struct verdict *v)
{
	uint32_t i;

	for (i = 0; i < v->nsus; i++) {
		free(v->sus[i]->key);
		free(v->sus[i]);
	}
	free(v->sus);
	v->sus = NULL;
	v->nsus = 0;
	for (i = 0; i <= NSTEPS; i++) {
		free(tl->snap[i]);
		tl->snap[i] = NULL;
	}
}

void timeline_drop(struct timeline *tl, struct replay *r, struct symbols *sym,
		   struct verdict *v)
{
	timeline_release(tl, v);
	free(tl);
	if (sym)
		sym_close(sym);
	replay_free(r);
}

/** timeline_growth_of - @v's verdict as timeline_growth gives it, into @g. */
void timeline_growth_of(const struct verdict *v, struct timeline_growth *g)
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
		timeline_growth_of(&v, g);
		ret = 0;
	}
	timeline_drop(tl, &r, sym, &v);
	return ret;
}
