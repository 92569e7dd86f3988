/* SPDX-License-Identifier: MIT */
/*
 * Off-CPU time (offcpu.c): the context switches the recorder read from the kernel, as
 * intervals per thread, and the share of them inside a call.
 */
#ifndef PERFSHIM_ANALYZER_OFFCPU_H
#define PERFSHIM_ANALYZER_OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/trace.h"

struct offcpu_iv {
	uint64_t start, end;		/* ns since trace start: off-CPU over [start, end) */
	uint32_t kind;			/* 0 blocked (voluntary), 1 preempted (involuntary) */
};
struct offcpu_acc {			/* offcpu_exit's callee sums, per depth */
	uint64_t (*child)[2];
	uint32_t cap, thread;
	uint32_t next;			/* the thread's first interval starting at or after the
					 * last call's end (calls close in time order: it moves
					 * forward, so most calls need no search) */
	uint64_t q_lo, q_hi;		/* the gap between intervals that end is in */
	bool used;
};
bool offcpu_present(const struct trace *t);
int offcpu_load(struct trace *t);
void offcpu_free(struct trace *t);
const struct offcpu_iv *offcpu_intervals(const struct trace *t, uint32_t thread, uint32_t *n);
void offcpu_within(const struct trace *t, uint32_t thread, uint64_t a, uint64_t b,
		   uint64_t out[2]);
void offcpu_exit(const struct trace *t, struct offcpu_acc *acc, uint32_t thread,
		 uint32_t depth, uint64_t a, uint64_t b, uint64_t self[2]);
void offcpu_acc_free(struct offcpu_acc *acc);

/* offcpu_gap - [@a, @b) of @thread is within the gap offcpu_exit last found (no off-CPU
 * time in it: offcpu_within would give 0) */
static inline bool offcpu_gap(const struct offcpu_acc *acc, uint32_t thread, uint64_t a,
			      uint64_t b)
{
	return acc->used && acc->thread == thread && a >= acc->q_lo && b <= acc->q_hi;
}

/*
 * offcpu_exit_quiet - offcpu_exit's common case, inline: the call [@a, @b) of @thread is
 * within the gap between two of its intervals that its last call's end was in (no off-CPU
 * time, so none for its callees either). Return: true when it was (its self off-CPU time is
 * 0, nothing more to do), false when offcpu_exit must be called.
 */
static inline bool offcpu_exit_quiet(struct offcpu_acc *acc, uint32_t thread, uint32_t depth,
				     uint64_t a, uint64_t b)
{
	if (depth + 2 > acc->cap || !offcpu_gap(acc, thread, a, b))
		return false;
	acc->child[depth + 1][0] = acc->child[depth + 1][1] = 0;
	return true;
}
const char *offcpu_note(const struct trace *t, char *buf, size_t len);

#endif /* PERFSHIM_ANALYZER_OFFCPU_H */
