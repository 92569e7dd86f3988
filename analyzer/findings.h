/* SPDX-License-Identifier: MIT */
/*
 * Findings (findings.c, the model layer): the automatic advice of `findings`, and the
 * findings sections of `summary` and `html` (findings-out.h writes them). Each rule reads
 * the aggregates the other reports use (the call tree of model.c, the memory replay of
 * replay.c, mem.c's leaks, timeline.c's growth verdict) and names what it saw, where, and
 * the change it suggests.
 * docs/findings.md explains every rule and its threshold.
 */
#ifndef PERFSHIM_FINDINGS_H
#define PERFSHIM_FINDINGS_H

#include <stdio.h>

#include "analyzer/hot.h"
#include "analyzer/json.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/timeline.h"

/*
 * Thresholds. Each is documented in docs/findings.md and README.md; those with an option
 * take it from struct opts (0 there: the default here).
 */
#define FINDINGS_CHURN_MIN 1000		/* churn: temporaries from one site, at least */
#define FINDINGS_CHURN_PCT 50		/* ... and at least this % of its allocations */
#define FINDINGS_REALLOC_STEPS 32	/* realloc-growth: growing reallocs of one block in a
					 * row by the same number of bytes, at least */
#define FINDINGS_N1_PER_CALL 20		/* n-plus-one: callee calls (or same-size allocations)
					 * per call of the parent, at least */
#define FINDINGS_N1_MIN_NS 10000	/* n-plus-one: the callee's mean inclusive time, ns */
#define FINDINGS_N1_TEMP_PCT 50		/* n-plus-one (allocations): below this % temporary
					 * (more is churn) */
#define FINDINGS_LEAK_MIN_BYTES 1	/* leak: unsuppressed bytes never freed, per site */
#define FINDINGS_GROWTH_BLOCKS 16	/* growth: the timeline says "grows" and its fastest
					 * growing site holds at least this many blocks at the end */
#define FINDINGS_HIGH_MEMORY (512ULL << 20) /* high-memory: peak live heap, bytes
					 * (--high-memory=BYTES) */
#define FINDINGS_BLOCK_PCT 10		/* blocking: voluntary waits of one function, % of
					 * the trace's duration, at least */
#define FINDINGS_BLOCK_MIN_NS 1000000	/* ... and at least this many ns */
#define FINDINGS_TINY_PCT 50		/* tiny-hot: a leaf with this % of all calls ... */
#define FINDINGS_TINY_MIN_CALLS 10000	/* ... and at least this many ... */
#define FINDINGS_TINY_MAX_NS 1000	/* ... whose mean call takes at most this, ns */
#define FINDINGS_RECURSION_DEPTH 1000	/* deep-recursion: activations of one function on
					 * one call path (--recursion-depth=N) */

#define FINDINGS_MAX_EVIDENCE 8
#define FINDINGS_SUMMARY_TOP 5		/* findings `summary` lists */

/*
 * The off-CPU input of the "blocking" rule: per function, how long its calls waited. Empty
 * (n == 0) when the trace has no waits; the waits data of the trace fills it.
 */
struct findings_wait {
	uint32_t func;			/* index into trace->funcs, or UINT32_MAX */
	const char *name;		/* used when func is UINT32_MAX */
	uint64_t wait_ns;		/* off-CPU time in its calls */
	uint64_t voluntary_ns;		/* of which it blocked (slept, waited for a lock, I/O) */
	uint64_t count;			/* its calls that blocked (evidence "count") */
};
struct findings_waits {
	const struct findings_wait *v;
	uint32_t n;
};

struct finding {
	const char *rule;		/* churn, realloc-growth, n-plus-one, leak, growth,
					 * high-memory, blocking, tiny-hot, deep-recursion */
	char *name;			/* the function (or the site's innermost frame) */
	char *message;			/* what was seen, with its numbers */
	const char *advice;		/* the change suggested */
	uint32_t stack;			/* an allocation stack (global id), or 0 */
	uint32_t node;			/* else a call path (node of the call tree), or 0 */
	uint32_t func;			/* else a function, or UINT32_MAX */
	uint64_t weight;		/* order within the rule: larger first */
	uint32_t nev;
	struct {
		const char *key;
		uint64_t v;
	} ev[FINDINGS_MAX_EVIDENCE];	/* the evidence: integers, units in the key */
};

struct findings {
	struct finding *v;
	uint32_t n, cap;
	/* private: what the stacks are named from */
	struct trace *t;
	struct symbols *sym;
	struct hot h;
};

/*
 * findings_collect - every rule over @t (@w: the waits, may be NULL) into @f (zeroed here).
 * Return: 0, or -1 when the trace could not be decoded (reported). Free with findings_free.
 */
int findings_collect(struct trace *t, const struct opts *o, const struct findings_waits *w,
		     struct findings *f);
/*
 * What a caller already has of what findings needs (the model and memory passes its own
 * view made), so findings does not compute it again; NULL members are computed.
 */
struct mem;
struct findings_given {
	struct hot *hot;		/* hot_collect(t, -1, HOT_TREE)'s; taken over (zeroed) */
	const struct mem_summary *ms;	/* mem_summarize(t, o)'s */
	const struct timeline_growth *growth;	/* timeline_growth(t, o)'s */
	const struct mem *mem;		/* a mem_build(MEM_SHAPES) of t: its replay, shapes */
};
int findings_collect_given(struct trace *t, const struct opts *o,
			   const struct findings_waits *w, struct findings_given *given,
			   struct findings *f);
void findings_free(struct findings *f);
/* findings_blocking - the blocking rule alone, over @w and a run of @duration_ns */
void findings_blocking(struct findings *f, const struct findings_waits *w, uint64_t duration_ns);

#endif /* PERFSHIM_FINDINGS_H */
