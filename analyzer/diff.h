/* SPDX-License-Identifier: MIT */
/*
 * Private to the `diff` report: helpers shared by its two modes, report-diff.c (between two
 * marks, and these helpers) and report-diff-runs.c (two runs). docs/memory-diff.md.
 */
#ifndef PERFSHIM_DIFF_H
#define PERFSHIM_DIFF_H

#include "analyzer/hmap.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/trace.h"

#define DIFF_TEXT_LIMIT 20		/* rows per text table without --limit */

/* A site key (replay_stack_key) -> row index map: a strmap owning its keys. */
uint32_t diff_key_row(struct strmap *map, char *key, uint32_t *nrows, bool *isnew);
void diff_key_free(struct strmap *map);
char *diff_fmt_sbytes(char *buf, size_t len, int64_t v);
char *diff_fmt_scount(char *buf, size_t len, int64_t v);
uint32_t diff_text_limit(const struct opts *o);

int diff_runs(struct trace *base, const struct opts *o);
int diff_multi(struct trace *first, const struct opts *o);

#endif /* PERFSHIM_DIFF_H */
