// SPDX-License-Identifier: MIT
/*
 * The `timeline` report, perfshim's leak detector: the timeline of timeline.c (live heap,
 * blocks and RSS over the run, the growth rate and the verdict) as a text chart, CSV, or
 * JSON (timeline-out.c). docs/memory-diff.md explains the verdict.
 */
#define PR_FMT "timeline"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/timeline-out.h"
#include "analyzer/timeline.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

#define CHART_W 64			/* terminal chart: columns ... */
#define CHART_H 8			/* ... and rows */

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
	printf("Verdict: %s%s\n", timeline_verdict_text(v, a, sizeof(a)), v->grows ? "; suspects:" : "");
	for (i = 0; v->grows && i < v->nsus && i < NSUSPECTS; i++)
		printf("  %12s/s  %s\n", fmt_bytes(a, sizeof(a), (uint64_t)llround(v->sus[i]->rate)),
		       replay_text_stack(t, sym, v->sus[i]->stack, st, sizeof(st)));
	if (replay_truncated_shown())
		printf("%s.\n", TRACE_TRUNCATED_LEGEND);
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
