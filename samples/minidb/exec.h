/* SPDX-License-Identifier: MIT */
/*
 * minidb executor internals shared by exec.c (scans, joins), group.c (grouping, sorting,
 * projection) and dml.c (UPDATE, DELETE).
 */
#ifndef MINIDB_EXEC_H
#define MINIDB_EXEC_H

#include "minidb.h"

/* Tuples: WIDTH row pointers each (one per FROM item), in one array. */
struct tuples {
	struct row **t;
	size_t n, cap;
	int width;
};

void tup_init(struct tuples *tp, int width);
struct row **tup_push(struct tuples *tp, struct row *const *rows);
struct row **tup_at(const struct tuples *tp, size_t i);
void tup_free(struct tuples *tp);

/* What ORDER BY and the select list are evaluated on: a tuple, or a group (its first tuple
 * and its finished aggregates). */
struct rec {
	struct row **rows;
	const struct value *aggs;
};

struct group;

struct recs {
	struct rec *r;
	size_t n;
	struct group **groups;	/* owned when the query groups */
	size_t ngroups;
	int naggs;
};

void tuple_records(const struct tuples *tp, struct recs *rs);
void group_records(const struct plan *p, const struct tuples *tp, struct recs *rs);
void sort_records(const struct plan *p, struct recs *rs);
void project_records(const struct plan *p, const struct recs *rs, struct result *res);
void recs_free(struct recs *rs);

#endif
