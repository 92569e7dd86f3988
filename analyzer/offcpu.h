/* SPDX-License-Identifier: MIT */
/*
 * Off-CPU time (offcpu.c): the context switches the recorder read from the kernel, as
 * intervals per thread, and the share of them inside a call; with the steal the thread's CPU
 * clock shows (time it was on a CPU the hypervisor did not run), as involuntary time.
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
	uint64_t q_lo, q_hi;		/* the window that end is in: no interval in it, one
					 * steal rate (between two CPU clock readings) */
	uint64_t q_off;			/* off-CPU time before the window */
	uint64_t s_base, s_o;		/* steal before on-CPU time s_o (a reading's) */
	uint64_t s_max;			/* ... and the most at the window's end */
	double s_rate;			/* steal per ns of on-CPU time in the window, 0 = none */
	bool used;
};
bool offcpu_present(const struct trace *t);
int offcpu_load(struct trace *t);
void offcpu_free(struct trace *t);
const struct offcpu_iv *offcpu_intervals(const struct trace *t, uint32_t thread, uint32_t *n);
void offcpu_within(const struct trace *t, uint32_t thread, uint64_t a, uint64_t b,
		   uint64_t out[2]);
uint64_t offcpu_steal(const struct trace *t, uint64_t *readings);
void offcpu_exit(const struct trace *t, struct offcpu_acc *acc, uint32_t thread,
		 uint32_t depth, uint64_t a, uint64_t b, uint64_t self[2], uint64_t *whole);
void offcpu_acc_free(struct offcpu_acc *acc);

/* the steal @d ns of on-CPU time into a span between two readings: @base before it, at
 * @rate per ns, never more than the span's @max */
static inline uint64_t offcpu_span_steal(uint64_t base, double rate, uint64_t d, uint64_t max)
{
	uint64_t s = (uint64_t)(rate * (double)d);

	return base + (s < max ? s : max);
}

/* the steal before time @x in @acc's window (on-CPU time there: x - q_off) */
static inline uint64_t offcpu_window_steal(const struct offcpu_acc *acc, uint64_t x)
{
	return offcpu_span_steal(acc->s_base, acc->s_rate, x - acc->q_off - acc->s_o,
				 acc->s_max);
}

/*
 * offcpu_quick - [@a, @b) of @thread is within the window offcpu_exit last found: no
 * interval in it, so its off-CPU time is the steal only, into *@steal
 */
static inline bool offcpu_quick(const struct offcpu_acc *acc, uint32_t thread, uint64_t a,
				uint64_t b, uint64_t *steal)
{
	if (!acc->used || acc->thread != thread || a < acc->q_lo || b > acc->q_hi || b < a)
		return false;
	*steal = acc->s_rate == 0 ? 0 : offcpu_window_steal(acc, b) - offcpu_window_steal(acc, a);
	return true;
}

/*
 * offcpu_exit_quiet - offcpu_exit's common case, inline: the call [@a, @b) of @thread at
 * @depth is within the window its last call's end was in (no interval, so none for its
 * callees either; at most steal, at one rate). Return: true when it was, with its self
 * off-CPU time in @self and that within all of it in *@whole (what offcpu_quick gives
 * now), false when offcpu_exit must be called.
 */
static inline bool offcpu_exit_quiet(struct offcpu_acc *acc, uint32_t thread, uint32_t depth,
				     uint64_t a, uint64_t b, uint64_t self[2], uint64_t *whole)
{
	uint64_t st, c;

	if (depth + 2 > acc->cap || !offcpu_quick(acc, thread, a, b, &st))
		return false;
	c = acc->child[depth + 1][1];
	self[0] = 0;
	self[1] = st > c ? st - c : 0;
	acc->child[depth + 1][0] = acc->child[depth + 1][1] = 0;
	acc->child[depth][1] += st;
	*whole = st;
	return true;
}
const char *offcpu_note(const struct trace *t, char *buf, size_t len);

#endif /* PERFSHIM_ANALYZER_OFFCPU_H */
