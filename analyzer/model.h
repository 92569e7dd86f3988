/* SPDX-License-Identifier: MIT */
/*
 * The profile model (model.c): one walk of a trace's calls, shared by the views that need
 * both the per-thread call tree and the function table (html, summary), instead of one walk
 * each. struct hot and struct ctree are declared in hot.h and export.h.
 */
#ifndef PERFSHIM_ANALYZER_MODEL_H
#define PERFSHIM_ANALYZER_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/export.h"
#include "analyzer/hot.h"

/* A thread's own function table and edges (model_build's keep) */
struct model_thread {
	uint32_t thread;		/* thread index */
	struct hot hot;
};

struct model {
	struct ctree ct;		/* call tree, per-thread roots (ctree_build's) */
	struct hot hot;			/* functions, edges, tree of .thread (hot_collect's) */
	int thread;			/* thread index of .hot, or -1: every thread */
	struct model_thread *threads;	/* the busiest threads' own tables, in thread order */
	uint32_t nthreads, keep;
};

/* model_self - @f's self time: CPU self (its self less the off-CPU time in it) when @cpu */
static inline uint64_t model_self(const struct hot_func *f, bool cpu)
{
	uint64_t wait = f->wait_ns[0] + f->wait_ns[1];

	return !cpu ? f->self_ns : f->self_ns > wait ? f->self_ns - wait : 0;
}

int model_build(struct trace *t, int thread, unsigned want, uint32_t keep, bool wall,
		struct model *m);
void model_free(struct model *m);
struct hot *model_thread_hot(struct model *m, uint32_t thread);
/*
 * model_busy - per thread index (@nthreads) the self time of its calls in @ct (CPU self when
 * @cpu), plus one when it has calls (a thread of calls that took no time still counts); the
 * caller frees it. model_busiest - the threads with some, the most first (then by index),
 * into @order. Return: how many.
 */
uint64_t *model_busy(const struct ctree *ct, uint32_t nthreads, bool cpu);
uint32_t model_busiest(const uint64_t *busy, uint32_t nthreads, uint32_t *order);

#endif
