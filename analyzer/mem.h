/* SPDX-License-Identifier: MIT */
/*
 * The memory model (mem.c): the replay of the malloc family grouped into sites, their
 * suppressions, and what `summary` and findings show of it (mem_summarize: the `memory`
 * totals and `leaks`' top entries). The `memory` and `leaks` views are report-mem.c.
 */
#ifndef PERFSHIM_ANALYZER_MEM_H
#define PERFSHIM_ANALYZER_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/hmap.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/timeline.h"
#include "analyzer/trace.h"

#define MEM_SUMMARY_TOP 5
/* What `summary` shows of memory: the `memory` totals and `leaks`' top entries. */
struct mem_summary {
	uint64_t allocations, frees;	/* a realloc is one of each (see mem.c) */
	uint64_t bytes_allocated, bytes_freed;
	uint64_t peak_bytes, peak_time_ns;
	uint64_t temporary;		/* freed before its thread allocated again */
	uint64_t unknown_frees;		/* frees of blocks never seen allocated */
	uint64_t live_bytes, live_blocks; /* everything still live at the end */
	uint64_t leaked_bytes, leaked_blocks; /* the same less suppressions (as `leaks`) */
	uint64_t suppressed_bytes, suppressed_blocks;
	uint32_t leak_stacks;		/* stacks with unsuppressed leaks */
	uint32_t ntop;
	struct {
		uint32_t stack;		/* global stack id: trace_stack_get + sym_name */
		uint64_t bytes, blocks;
	} top[MEM_SUMMARY_TOP];		/* largest leaks first */
};
int mem_summarize(struct trace *t, const struct opts *o, struct mem_summary *out);

/* sites: stacks merged by their symbolized frames */
struct site {
	uint32_t stack;			/* a representative global stack id (0: no stack) */
	uint32_t nstacks;		/* stacks merged here */
	uint64_t allocs, bytes, frees, temporary;
	uint64_t leaked_bytes, leaked_blocks;
	uint64_t peak_bytes;		/* the most this site held at once */
	uint64_t at_peak_bytes, at_peak_blocks; /* held at the global peak */
	double bytes_var, leaked_var;	/* sampled traces: variances of bytes, leaked_bytes */
	int supp;			/* suppression rule, -1 none */
};

/*
 * The shape of each stack's allocations (findings' realloc-growth and n-plus-one rules): its
 * sizes and its longest run of same-step growths of one block by realloc, gathered by the
 * replay's mem hook (mem_shapes_event).
 */
struct mem_shape {
	uint64_t min_size, max_size;
	uint32_t run;			/* longest run of same-step growths of one block */
	uint64_t step, final;		/* that run's step and the size it reached */
};
struct mem_chain {			/* a block grown by realloc, by its address */
	uint64_t ptr, size, step;
	uint32_t run;			/* growths in a row by `step` */
};
HMAP_DEFINE(mem_chains, struct mem_chain, ptr)
struct mem_shapes {
	struct mem_shape *s;		/* ns slots, by stack id */
	uint32_t ns;
	struct mem_chains chains;
};
void mem_shapes_event(struct mem_shapes *sh, const struct trace_event *e, uint64_t old_size);
void mem_shapes_free(struct mem_shapes *sh);

struct mem {
	struct trace *t;
	const struct opts *o;
	struct symbols *sym;
	struct replay r;
	struct site *sites;
	uint32_t nsites;
	uint32_t *map;			/* stack id -> site */
	uint32_t nmap;
	bool merged;			/* some site has several stacks */
	struct suppressions *supp;	/* NULL with --no-suppress */
	uint64_t supp_bytes, supp_blocks; /* live at the end but suppressed */
	double supp_var;		/* sampled traces: the variance of supp_bytes */
	/* mem_build's: what it was asked for beside the sites (NULL: not asked) */
	struct timeline *tl;		/* the timeline, its verdict in v */
	struct verdict v;
	struct mem_shapes *shapes;
	struct strmap keys;		/* the replay's groups: site key -> group */
	bool own_sym;			/* mem_free closes sym (mem_load's) */
};

/* what mem_build gathers in its one replay, beside the sites with exact peaks */
#define MEM_TIMELINE (1U << 0)		/* m->tl and m->v */
#define MEM_SHAPES (1U << 1)		/* m->shapes */
#define MEM_THREADS (1U << 2)		/* per-thread aggregates: mem_thread_sites */

enum site_order { BY_BYTES, BY_COUNT, BY_PEAK, BY_LEAKED, BY_TEMPORARY, BY_AT_PEAK };

int mem_load(struct mem *m, struct trace *t, const struct opts *o);
/*
 * mem_load_peaks - mem_load with each site's peak exact also where stacks merged into one
 * site: from its one replay (keyed by site as it goes) where the symbols can be opened
 * before it, else from a second replay (mem_site_peaks). Return: 0 or -1 (reported).
 */
int mem_load_peaks(struct mem *m, struct trace *t, const struct opts *o);
/*
 * mem_build - the sites of @t (@m zeroed here) from one replay that also keeps what @want
 * asks for, symbolized with @sym (the caller's, opened after a walk of @t: stacks are keyed
 * during the replay, so that per-site peaks are exact without a second one). Return: 0, or
 * -1 (reported); mem_free either way.
 */
int mem_build(struct mem *m, struct trace *t, const struct opts *o, struct symbols *sym,
	      unsigned want);
/*
 * mem_thread_sites - the sites as thread index @thread counted them (its own blocks, as a
 * one_thread replay of it), into @s (m->nsites of them; MEM_THREADS): each named by the
 * least stack id of the thread's in it when @own, else by the site's.
 */
void mem_thread_sites(const struct mem *m, uint32_t thread, bool own, struct site *s);
int mem_site_peaks(struct mem *m);
int mem_suppress(struct mem *m);
/*
 * mem_match - match the sites @s (m->nsites) still holding blocks against @supp: each
 * site's supp, and what they hold into *@bytes, *@blocks (and m->supp_var when @s is m's).
 */
void mem_match(struct mem *m, struct suppressions *supp, struct site *s, uint64_t *bytes,
	       uint64_t *blocks);
/* mem_summary_of - what mem_summarize gives, of @m (suppressions matched) */
void mem_summary_of(struct mem *m, struct mem_summary *out);
void mem_free(struct mem *m);
double mem_live_var(const struct mem *m);
uint32_t *mem_sorted_sites(struct mem *m, enum site_order by, bool (*keep)(const struct site *),
			  uint32_t *n);
/*
 * mem_sort - sort the indices @idx (@n) of sites of @sites (any array of them) as `memory`
 * does: by @by, then leaked blocks (BY_LEAKED), bytes, and the stack id
 */
void mem_sort(const struct site *sites, uint32_t *idx, uint32_t n, enum site_order by);
bool mem_is_leak(const struct site *s);
bool mem_at_peak(const struct site *s);

#endif /* PERFSHIM_ANALYZER_MEM_H */
