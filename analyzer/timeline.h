/* SPDX-License-Identifier: MIT */
/*
 * The timeline (timeline.c, the model layer): live heap bytes and blocks (the memory
 * replay, replay.c, stopped at evenly spaced times) and the recorder's RSS samples over the
 * run; a least-squares growth rate over the second half of the run and a verdict naming
 * the stacks whose live bytes grew fastest. `timeline` (report-timeline.c) draws it,
 * timeline-out.c writes its JSON (also html's), findings reads its verdict.
 * docs/memory-diff.md explains the verdict.
 */
#ifndef PERFSHIM_ANALYZER_TIMELINE_H
#define PERFSHIM_ANALYZER_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"

#define NSTEPS 200			/* intervals: NSTEPS + 1 samples from 0 to the end */
#define NSUSPECTS 5			/* stacks named in the verdict */

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

struct suspect {
	char *key;
	uint32_t stack;			/* a representative stack */
	double rate;			/* bytes per second */
	uint64_t first, last;		/* live bytes at the window's first and last sample */
};

struct verdict {
	bool grows;
	double rate;			/* bytes/s over the second half */
	double resid;			/* RMS residual of the fit, bytes */
	double mean;			/* mean live bytes over the second half */
	uint64_t from_ns, to_ns;	/* the fitted window */
	struct suspect **sus;		/* fastest growing first */
	uint32_t nsus;
};

/* The verdict and its fastest growing stack, for findings */
struct timeline_growth {
	bool grows;
	double rate;			/* bytes/s over the second half */
	uint64_t from_ns, to_ns;	/* the fitted window */
	uint32_t suspect;		/* stack id of the fastest growing site, 0: none */
	double suspect_rate;		/* its bytes/s */
	int64_t suspect_growth;		/* its live bytes, last less first sample of the window */
};

/*
 * timeline_load - the replay of @t stopped at the sample times into @tl (zeroed by the
 * caller), @r, the symbols (*@sym) and the verdict @v. Return: 0, or -1 (reported). Free
 * what it made with timeline_drop either way.
 */
int timeline_load(struct trace *t, const struct opts *o, struct timeline *tl,
		  struct replay *r, struct symbols **sym, struct verdict *v);
/*
 * The same in parts, for a replay shared with other models: timeline_begin readies @tl
 * (zeroed by the caller) and @r's first stop (Return: 0, or -1 reported); the replay's
 * stops call timeline_stop, the events it does not use go to timeline_other; after it,
 * timeline_judge gives the verdict, and timeline_release frees what they made in @tl, @v.
 */
int timeline_begin(struct trace *t, struct timeline *tl, struct replay *r);
uint64_t timeline_stop(struct replay *r, uint64_t at, struct timeline *tl);
void timeline_other(struct timeline *tl, const struct trace_event *ev);
void timeline_judge(struct timeline *tl, const struct trace *t, struct symbols *sym,
		    struct verdict *v);
void timeline_release(struct timeline *tl, struct verdict *v);
/* timeline_drop - free @tl (allocated by the caller), @r, @sym and @v's suspects */
void timeline_drop(struct timeline *tl, struct replay *r, struct symbols *sym,
		   struct verdict *v);
/* timeline_verdict_text - "steady" or "grows 1.2 MiB/s" into @buf */
const char *timeline_verdict_text(const struct verdict *v, char *buf, size_t len);
/* timeline_growth_of - @v's verdict as timeline_growth gives it */
void timeline_growth_of(const struct verdict *v, struct timeline_growth *g);
int timeline_growth(struct trace *t, const struct opts *o, struct timeline_growth *g);

#endif /* PERFSHIM_ANALYZER_TIMELINE_H */
