/* SPDX-License-Identifier: MIT */
/*
 * The hot-function table as `functions` prints it (hot-table.c): an output helper over the
 * model's struct hot (hot.h), for the views that print the table.
 */
#ifndef PERFSHIM_ANALYZER_HOT_TABLE_H
#define PERFSHIM_ANALYZER_HOT_TABLE_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "analyzer/hot.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"

struct json;

/* What the rows of a hot table are called: a trace's functions (t and sym), or arrays */
struct hot_names {
	const struct trace *t;		/* names of t->funcs through sym, when set */
	struct symbols *sym;
	const char *const *name, *const *module;	/* else these, by function index */
	const uint64_t *addr;
	const char *const *file;	/* ... and definitions (NULL: none known) */
	const unsigned *line;
};
int hot_print_functions(struct hot *h, const struct hot_names *nm, const struct opts *o,
			struct json *j);


#define HOT_SORT_COLUMNS "calls total self wait avg min max p50 p99 name"
bool hot_sort_ok(const char *s);	/* main.c: --sort checked before any trace is read */
int hot_table_sort(const char *s);
const char *hot_where(const char *file, unsigned line, char *buf, size_t len);
int hot_table_filter(const struct opts *o, regex_t *re);
void hot_table_out(struct hot *h, const struct hot_names *nm, const regex_t *re, int col,
		   const struct opts *o, struct json *j, long tid, bool header);

#endif /* PERFSHIM_ANALYZER_HOT_TABLE_H */
