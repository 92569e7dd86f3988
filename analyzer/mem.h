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

#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
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
};

enum site_order { BY_BYTES, BY_COUNT, BY_PEAK, BY_LEAKED, BY_TEMPORARY, BY_AT_PEAK };

int mem_load(struct mem *m, struct trace *t, const struct opts *o);
int mem_site_peaks(struct mem *m);
int mem_suppress(struct mem *m);
void mem_free(struct mem *m);
double mem_live_var(const struct mem *m);
uint32_t *mem_sorted_sites(struct mem *m, enum site_order by, bool (*keep)(const struct site *),
			  uint32_t *n);
bool mem_is_leak(const struct site *s);
bool mem_at_peak(const struct site *s);

#endif /* PERFSHIM_ANALYZER_MEM_H */
