/* SPDX-License-Identifier: MIT */
/*
 * What `summary` shows of memory (report-mem.c): the `memory` totals and `leaks`' top
 * entries.
 */
#ifndef PERFSHIM_ANALYZER_MEM_H
#define PERFSHIM_ANALYZER_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/opts.h"
#include "analyzer/trace.h"

#define MEM_SUMMARY_TOP 5
/* What `summary` shows of memory: the `memory` totals and `leaks`' top entries. */
struct mem_summary {
	uint64_t allocations, frees;	/* a realloc is one of each (see report-mem.c) */
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

#endif /* PERFSHIM_ANALYZER_MEM_H */
