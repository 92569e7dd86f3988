/* SPDX-License-Identifier: MIT */
/*
 * Hot functions, the model's per-function table (model.c): call times, caller edges and
 * the call tree from one walk, for `functions`, `callgraph` and every view that shows top
 * functions. Views render it (hot-table.h prints the `functions` table); none computes it.
 */
#ifndef PERFSHIM_ANALYZER_HOT_H
#define PERFSHIM_ANALYZER_HOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/hist.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"


#define HOT_EDGES (1U << 0)		/* hot_collect: caller -> callee edges */
#define HOT_TREE (1U << 1)		/* hot_collect: the call tree */
#define HOT_ROOT UINT32_MAX		/* edge caller / tree node func of "no caller" */

#define HOT_EXACT 256			/* hot_func.samp holds this many durations */
#define HOT_HIST_SHIFT 4		/* then hist: 16 buckets per power of two */
#define HOT_HIST_N HIST_NBUCKETS(HOT_HIST_SHIFT)

struct hot_func {			/* indexed like trace->funcs */
	uint64_t calls;
	uint64_t total_ns;		/* inclusive, recursive activations counted once */
	uint64_t self_ns;
	uint64_t sum_ns;		/* every call's inclusive time (avg = sum / calls) */
	uint64_t min_ns, max_ns;
	uint64_t *samp;			/* exact durations while calls <= 256 */
	uint32_t nsamp;
	bool sorted;
	uint32_t *hist;			/* log-linear histogram beyond that */
	uint64_t wait_ns[2];		/* off-CPU within self time: blocked, preempted
					 * (hot.switches; CPU self = self_ns - both) */
	uint64_t blocked_calls;		/* calls whose own time held a blocked wait */
	uint64_t wait_total_ns;		/* off-CPU within total_ns, both kinds (CPU total =
					 * total_ns - it) */
};
struct hot_edge {
	uint32_t caller, callee;	/* function indices; caller HOT_ROOT = outermost */
	uint64_t calls, total_ns, self_ns;
	uint64_t wait_ns;		/* off-CPU within self_ns, both kinds (hot.switches) */
};
struct hot_node {			/* call tree node; [0] is the root */
	uint32_t parent, func;
	uint64_t calls, total_ns, self_ns;
	uint64_t wait_ns;		/* off-CPU within self_ns, both kinds (hot.switches) */
};
struct hot {
	struct hot_func *funcs;
	uint32_t nfuncs, cap;
	struct hot_edge *edges;
	uint32_t nedges, edges_cap;
	struct hot_node *nodes;
	uint32_t nnodes, nodes_cap;
	uint64_t ncalls;		/* calls closed (EXIT events) */
	unsigned want;
	bool switches;			/* the trace has off-CPU time: funcs' wait_ns hold it */
};
int hot_collect(struct trace *t, int thread, unsigned want, struct hot *h);

void hot_free(struct hot *h);
void hot_stat_add(struct hot_func *f, uint64_t dur);
void hot_func_add(struct hot_func *dst, const struct hot_func *src);
uint64_t hot_percentile(struct hot_func *f, double pct);	/* nearest rank */

#endif /* PERFSHIM_ANALYZER_HOT_H */
