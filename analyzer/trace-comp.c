/* SPDX-License-Identifier: MIT */
/*
 * Overhead compensation: the recorder measured what its own hooks cost at start and wrote
 * it as a COST record (preload/cost.c); the walk (trace-walk.c, comp_clock) takes that cost
 * out of every call time it delivers, so every report and export shows compensated times.
 * This file turns the record into the per-event figures the walk applies, and sums what
 * the walk took out. docs/compensation.md has the model and its error bound.
 */
#define PR_FMT "comp"
#include "analyzer/trace-priv.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

static bool comp_on = true;

/** trace_set_compensation - compensate the traces opened from now on (@on) or not. */
void trace_set_compensation(bool on)
{
	comp_on = on;
}

/* ticks << TRACE_COST_SHIFT to ns */
static double cost_ns(const struct trace *t, uint64_t v)
{
	return (double)v * t->ns_per_tick / (double)(1U << TRACE_COST_SHIFT);
}

/*
 * trace_comp_setup - after the scan at open found the COST record (r->has_cost): the
 * figures in ns for reports (t->comp), and, unless compensation is off, the ones the walk
 * applies. A trace without the record (older recorders, calls not recorded, or
 * PERFSHIM_MIN_DURATION, whose dropped calls leave no trace of their hooks' cost) is read
 * raw; the summary says so.
 */
void trace_comp_setup(struct trace *t, struct reader *r)
{
	struct trace_comp *c = &t->comp;
	const uint64_t *v = r->cost;

	memset(c, 0, sizeof(*c));
	r->c_entry_before = r->c_entry_after = r->c_exit_before = r->c_exit_after = 0;
	r->c_alloc = r->c_node = r->c_free = 0;
	if (!r->has_cost)
		return;
	c->recorded = true;
	c->entry_before_ns = cost_ns(t, v[TRACE_COST_ENTRY_BEFORE]);
	c->entry_after_ns = cost_ns(t, v[TRACE_COST_ENTRY_AFTER]);
	c->exit_before_ns = cost_ns(t, v[TRACE_COST_EXIT_BEFORE]);
	c->exit_after_ns = cost_ns(t, v[TRACE_COST_EXIT_AFTER]);
	c->alloc_ns = cost_ns(t, v[TRACE_COST_ALLOC]);
	c->node_ns = cost_ns(t, v[TRACE_COST_NODE]);
	c->free_ns = cost_ns(t, v[TRACE_COST_FREE]);
	c->call_ns = c->entry_before_ns + c->entry_after_ns + c->exit_before_ns + c->exit_after_ns;
	c->parent_ns = c->entry_before_ns + c->exit_after_ns;
	if (!comp_on)
		return;
	c->applied = true;
	r->c_entry_before = v[TRACE_COST_ENTRY_BEFORE];
	r->c_entry_after = v[TRACE_COST_ENTRY_AFTER];
	r->c_exit_before = v[TRACE_COST_EXIT_BEFORE];
	r->c_exit_after = v[TRACE_COST_EXIT_AFTER];
	r->c_alloc = v[TRACE_COST_ALLOC];
	r->c_node = v[TRACE_COST_NODE];
	r->c_free = v[TRACE_COST_FREE];
}

/** trace_comp_removed_ns - the hooks' cost the last calls walk took out, all threads. */
uint64_t trace_comp_removed_ns(const struct trace *t)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < t->nthreads; i++)
		sum += R(t)->ts[i]->ovh >> TRACE_COST_SHIFT;
	return (uint64_t)((double)sum * t->ns_per_tick + 0.5);
}

/** trace_comp_clamps - call events the last calls walk held back (cost overshot). */
uint64_t trace_comp_clamps(const struct trace *t)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < t->nthreads; i++)
		n += R(t)->ts[i]->clamps;
	return n;
}

/**
 * trace_comp_alloc_ns - what the last calls walk took out per allocation, on average: the
 * start's figure, or the threads' own as the run timed them (TRACE_COST_RUN). 0: none.
 */
double trace_comp_alloc_ns(const struct trace *t)
{
	uint64_t sum = 0, n = 0;
	uint32_t i;

	for (i = 0; i < t->nthreads; i++) {
		sum += R(t)->ts[i]->alloc_ovh;
		n += R(t)->ts[i]->alloc_charged;
	}
	return n ? cost_ns(t, sum) / (double)n : 0;
}
