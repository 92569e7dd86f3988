/* SPDX-License-Identifier: MIT */
/*
 * Rare records (records.c: marks, LOST, names, RSS) and the hooks' own cost (cost.c).
 */
#ifndef PERFSHIM_PRELOAD_RECORDS_H
#define PERFSHIM_PRELOAD_RECORDS_H

#include "preload/thread.h"

/* records.c: rare records with strings; each takes the guard and reserves room itself */
void ps_emit_mark(struct ps_thread *t, const char *label);
void ps_emit_lost(struct ps_thread *t);
void ps_emit_thread_name(struct ps_thread *t);
void ps_emit_process(struct ps_thread *t);
void ps_emit_signal_mark(const char *label);	/* async-signal-safe: a chunk of tid 0 */
#define PS_RSS_PERIOD_NS 10000000ULL		/* RSS sampled at most every 10 ms */
extern uint64_t ps_next_rss_ticks PS_HIDDEN;
void ps_rss_sample(struct ps_thread *t, uint64_t now);	/* when now >= ps_next_rss_ticks */

/* cost.c: what the hooks cost, measured at the first call hook, written as a COST record */
extern uint64_t ps_cost[TRACE_COST_N];		/* ticks << TRACE_COST_SHIFT */
extern int ps_cost_valid;			/* measured (calls recorded, every call kept) */
void ps_cost_first_call(struct ps_thread *t);	/* measure, once, at the first call hook */
void ps_emit_cost(struct ps_thread *t);		/* the COST record, when measured */
void ps_cost_time_alloc(struct ps_thread *t, uint64_t since); /* 1 in ACOST_EVERY allocs */

/*
 * After an allocation's record is committed (@now: its timestamp): every ACOST_EVERY-th one
 * is timed to here, for the thread's COST records (cost.c). Inside the hook's guard.
 */
static inline void ps_cost_count_alloc(struct ps_thread *t, uint64_t now)
{
	int due;

	/* the decrement's own flags (<= 0), in memory: two instructions where gcc makes five */
	__asm__("subl $1, %0" : "+m"(t->acost.left), "=@ccle"(due));
	if (unlikely(due))
		ps_cost_time_alloc(t, now);
}

#endif /* PERFSHIM_PRELOAD_RECORDS_H */
