/* SPDX-License-Identifier: MIT */
/*
 * The entry point of every command (main.c's table of commands calls them), and the checks
 * of the option values a command takes, made before any trace is opened. Each report-*.c
 * implements its own.
 */
#ifndef PERFSHIM_ANALYZER_REPORT_H
#define PERFSHIM_ANALYZER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/opts.h"
#include "analyzer/trace.h"

/* option values a report takes, checked by main.c before any trace is opened */
#define MEM_SORT_KEYS "bytes count peak leaked temporary"
#define FLAME_METRICS "time alloc-bytes alloc-count leaked"
bool mem_sort_ok(const char *s);
bool flame_metric_ok(const char *m);

int report_summary(struct trace *t, const struct opts *o);
int report_findings(struct trace *t, const struct opts *o);
int report_functions(struct trace *t, const struct opts *o);
int report_callgraph(struct trace *t, const struct opts *o);
int report_memory(struct trace *t, const struct opts *o);
int report_leaks(struct trace *t, const struct opts *o);
int report_dump(struct trace *t, const struct opts *o);
int report_waits(struct trace *t, const struct opts *o);	/* report-waits.c */
/* marks, diff and timeline (report-marks.c, report-diff.c, report-timeline.c; replay.h) */
int report_marks(struct trace *t, const struct opts *o);
int report_diff(struct trace *t, const struct opts *o);
int report_timeline(struct trace *t, const struct opts *o);
/* export (report-flame.c, report-chrome.c, report-html.c): write to o->output or stdout */
int report_flamegraph(struct trace *t, const struct opts *o);
int report_chrome(struct trace *t, const struct opts *o);
int report_html(struct trace *t, const struct opts *o);
/* pprof, callgrind and massif files (report-pprof.c, report-callgrind.c, report-massif.c) */
int report_pprof(struct trace *t, const struct opts *o);
int report_callgrind(struct trace *t, const struct opts *o);
int report_massif(struct trace *t, const struct opts *o);

/* `functions --tree`: the traces of @o reported as one process tree (report-tree.c) */
int report_functions_tree(const struct opts *o);

#endif /* PERFSHIM_ANALYZER_REPORT_H */
