/* SPDX-License-Identifier: MIT */
/*
 * The options of a command (main.c parses them; every report reads them), and the
 * command-line helpers of cli.c.
 */
#ifndef PERFSHIM_ANALYZER_OPTS_H
#define PERFSHIM_ANALYZER_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/trace.h"

enum out_format { FMT_TEXT = 0, FMT_JSON = 1, FMT_CSV = 2 };

struct opts {
	const char *command;
	enum out_format format;
	int format_set;			/* --format was given */
	const char **traces;		/* positional trace files */
	int ntraces;
	const char *sort;		/* column name for functions/memory tables */
	long limit;			/* rows; -1 = command's default */
	const char *filter;		/* regex on function names */
	int thread_set;			/* --thread given */
	uint32_t thread_tid;
	int per_thread;			/* --per-thread */
	int lines;			/* functions --lines: a "Defined at" column */
	const char *function;		/* callgraph --function */
	int depth;			/* callgraph --depth, -1 = unlimited */
	double min_percent;		/* callgraph --min-percent */
	const char *suppressions;	/* leaks --suppressions FILE */
	int no_suppress;		/* leaks --no-suppress */
	const char *from, *to;		/* diff marks */
	double threshold;		/* diff, massif --threshold PCT */
	int threshold_set;		/* --threshold given */
	const char *time_unit;		/* massif --time-unit: "ms" or "B"; NULL = ms */
	int nbase;			/* diff --base/--new: traces[0..nbase) are BASE, 0 = not */
	double alpha;			/* diff --alpha, 0 = 0.05 (docs/compare.md) */
	const char *metric;		/* flamegraph --metric */
	int folded;			/* flamegraph --folded */
	const char *output;		/* -o FILE for html/svg/chrome, NULL = stdout */
	int color;			/* colour on a terminal */
	int progress;			/* progress line on stderr */
	int demangle;			/* 1 by default */
	int merged;			/* dump --merged: all threads in time order */
	int tree;			/* functions --tree: the traces as one process tree */
	uint64_t high_memory;		/* findings --high-memory=BYTES, 0 = the default */
	long recursion_depth;		/* findings --recursion-depth=N, 0 = the default */
	int wall;			/* functions --wall: wall-clock self time even with
					 * off-CPU data */
};

/* thread selection by --thread (cli.c): the one thread a one-thread walk takes (-1 all, -2
 * none), and every instance of that tid */
int opts_thread(const struct trace *t, const struct opts *o);
uint32_t hot_threads(const struct trace *t, const struct opts *o, int *idx);

/* the newest perfshim.*.bin or perfshim.*.bin.zst of the working directory, or NULL */
const char *cli_newest_trace(void);

#endif /* PERFSHIM_ANALYZER_OPTS_H */
