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

struct model {
	struct ctree ct;		/* call tree, per-thread roots (ctree_build's) */
	struct hot hot;			/* functions, edges, tree of .thread (hot_collect's) */
	int thread;			/* thread index of .hot, or -1: every thread */
};

/* model_self - @f's self time: CPU self (its self less the off-CPU time in it) when @cpu */
static inline uint64_t model_self(const struct hot_func *f, bool cpu)
{
	uint64_t wait = f->wait_ns[0] + f->wait_ns[1];

	return !cpu ? f->self_ns : f->self_ns > wait ? f->self_ns - wait : 0;
}

int model_build(struct trace *t, int thread, unsigned want, struct model *m);
void model_free(struct model *m);

#endif
