/* SPDX-License-Identifier: MIT */
/*
 * minidb UPDATE and DELETE: the rows are chosen first (through the same access paths as a
 * one-table SELECT), then changed, so that changing one never moves the scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

/* Binds WHERE (and SET values) to the statement's table and collects the rows it selects. */
static struct row **target_rows(struct db *db, struct stmt *s, struct table **tp, size_t *n,
				char *err, size_t errlen)
{
	struct table *t = db_table(db, s->table);
	struct binder bd = { 0 };
	struct scan_plan sp = { 0 };
	struct row *ctx[1] = { 0 };
	struct row **rows = NULL;
	char *alias = s->table;

	*n = 0;
	if (!t) {
		snprintf(err, errlen, "no table %s", s->table);
		return NULL;
	}
	bd.tables = &t;
	bd.alias = &alias;
	bd.ntables = 1;
	if (expr_bind(&bd, s->where))
		goto fail;
	for (int i = 0; s->sets && i < s->nnames; i++)
		if (expr_bind(&bd, s->sets[i]))
			goto fail;
	split_conjuncts(s->where, &sp.filter, &sp.nfilter);
	choose_access(t, 0, &sp);
	rows = scan_rows(t, &sp, 0, ctx, n);
	free(sp.filter);
	*tp = t;
	return rows;
fail:
	snprintf(err, errlen, "%s", bd.err);
	free(bd.aggs);
	return NULL;
}

int exec_update(struct db *db, struct stmt *s, long *changed, char *err, size_t errlen)
{
	struct table *t = NULL;
	size_t n;
	struct row **rows;
	int *cols = xmalloc(sizeof(*cols) * (size_t)s->nnames);
	struct value *vals = xmalloc(sizeof(*vals) * (size_t)s->nnames);
	int rc = 0;

	*changed = 0;
	err[0] = '\0';
	rows = target_rows(db, s, &t, &n, err, errlen);
	if (err[0])
		rc = -1;
	for (int i = 0; rc == 0 && i < s->nnames; i++) {
		cols[i] = -1;
		for (int c = 0; c < t->ncols; c++)
			if (strcmp(t->cols[c].name, s->names[i]) == 0)
				cols[i] = c;
		if (cols[i] < 0) {
			snprintf(err, errlen, "table %s has no column %s", t->name, s->names[i]);
			rc = -1;
		}
	}
	for (size_t r = 0; rc == 0 && r < n; r++) {
		struct evalctx cx = { .rows = &rows[r] };

		/* every SET value is computed from the row as it was */
		for (int i = 0; i < s->nnames; i++)
			vals[i] = expr_eval(s->sets[i], &cx);
		for (int i = 0; i < s->nnames; i++) {
			if (rc == 0 && table_update(t, rows[r], cols[i], vals[i], err, errlen))
				rc = -1;
			else if (rc)
				value_release(&vals[i]);
		}
		if (rc == 0)
			(*changed)++;
	}
	free(rows);
	free(cols);
	free(vals);
	return rc;
}

int exec_delete(struct db *db, struct stmt *s, long *changed, char *err, size_t errlen)
{
	struct table *t = NULL;
	size_t n;
	struct row **rows;

	*changed = 0;
	err[0] = '\0';
	rows = target_rows(db, s, &t, &n, err, errlen);
	if (err[0])
		return -1;
	for (size_t r = 0; r < n; r++)
		table_delete(t, rows[r]);
	*changed = (long)n;
	free(rows);
	return 0;
}
