/* SPDX-License-Identifier: MIT */
/*
 * minidb planner: binds a SELECT's names, splits WHERE and ON into conjuncts, pushes each to
 * the earliest point where its tables are all bound, picks an access path per table (primary
 * key lookup, B+tree range, or full scan) and a method per join:
 *
 *	J_PK_LOOKUP	the inner column is the inner table's primary key: one probe per row
 *	J_MERGE		first join, both columns B+tree-indexed, both tables scanned whole:
 *			walk both indexes in order
 *	J_HASH		any other equality: build a hash table on the inner rows
 *	J_NESTED	no equality: every pair
 *
 * Inner joins only, so a condition in ON and one in WHERE mean the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

#define MAX_FROM 16
#define MAX_GROUP 16	/* group.c keeps a group's keys on the stack */

/* Appends the AND-ed parts of E (borrowed pointers) to *OUT. */
void split_conjuncts(struct expr *e, struct expr ***out, int *n)
{
	if (!e)
		return;
	if (e->kind == E_BIN && e->op == K_AND) {
		split_conjuncts(e->a, out, n);
		split_conjuncts(e->b, out, n);
		return;
	}
	*out = xrealloc(*out, sizeof(**out) * (size_t)(*n + 1));
	(*out)[(*n)++] = e;
}

static void push(struct expr ***list, int *n, struct expr *e)
{
	*list = xrealloc(*list, sizeof(**list) * (size_t)(*n + 1));
	(*list)[(*n)++] = e;
}

static int is_col(const struct expr *e, int tab)
{
	return e->kind == E_COL && e->tab == tab;
}

static int is_const(const struct expr *e)
{
	return e->kind == E_LIT && e->lit.t != V_NULL;
}

/* A conjunct "col OP constant" (or reversed) on column COL of FROM item TAB narrows a range:
 * returns 1 and updates R. */
static int narrow_range(const struct expr *e, int tab, int col, struct range *r)
{
	const struct expr *c, *k;
	int op;

	if (e->kind == E_BETWEEN && !e->negate && is_col(e->a, tab) && e->a->col == col &&
	    is_const(e->b) && is_const(e->c)) {
		r->lo = e->b->lit;
		r->hi = e->c->lit;
		r->lo_incl = r->hi_incl = 1;
		return 1;
	}
	if (e->kind != E_BIN)
		return 0;
	op = e->op;
	if (is_col(e->a, tab) && e->a->col == col && is_const(e->b)) {
		c = e->a;
		k = e->b;
	} else if (is_col(e->b, tab) && e->b->col == col && is_const(e->a)) {
		c = e->b;
		k = e->a;
		/* constant OP column: mirror the operator */
		op = op == T_LT ? T_GT : op == T_GT ? T_LT : op == T_LE ? T_GE : op == T_GE ? T_LE : op;
	} else {
		return 0;
	}
	(void)c;
	switch (op) {
	case T_EQ:
		r->lo = r->hi = k->lit;
		r->lo_incl = r->hi_incl = 1;
		return 1;
	case T_LT:
	case T_LE:
		r->hi = k->lit;
		r->hi_incl = op == T_LE;
		return 1;
	case T_GT:
	case T_GE:
		r->lo = k->lit;
		r->lo_incl = op == T_GE;
		return 1;
	default:
		return 0;
	}
}

/* The access path for FROM item TAB from its filter conjuncts: an equality on the primary
 * key first, else the first indexed column a conjunct narrows. Filters stay in the list:
 * they are checked again on every row the path returns. */
void choose_access(const struct table *t, int tab, struct scan_plan *sp)
{
	sp->acc = ACC_SCAN;
	for (int i = 0; i < sp->nfilter && t->pk >= 0; i++) {
		const struct expr *e = sp->filter[i];
		struct range r = { 0 };

		if (narrow_range(e, tab, t->pk, &r) && e->kind == E_BIN && e->op == T_EQ) {
			sp->acc = ACC_PK;
			sp->key = r.lo;
			return;
		}
	}
	for (int x = 0; x < t->nidx; x++) {
		struct range r = { .lo_incl = 1, .hi_incl = 1 };
		int narrowed = 0;

		for (int i = 0; i < sp->nfilter; i++)
			narrowed |= narrow_range(sp->filter[i], tab, t->idx[x].col, &r);
		if (narrowed) {
			sp->acc = ACC_RANGE;
			sp->index = x;
			sp->r = r;
			return;
		}
	}
}

/* "a.x = b.y" with one side on FROM item I and the other on an earlier one. */
static int equi_join(const struct expr *e, int i, struct join_plan *jp)
{
	const struct expr *in, *out;

	if (e->kind != E_BIN || e->op != T_EQ || e->a->kind != E_COL || e->b->kind != E_COL)
		return 0;
	if (e->a->tab == i && e->b->tab < i) {
		in = e->a;
		out = e->b;
	} else if (e->b->tab == i && e->a->tab < i) {
		in = e->b;
		out = e->a;
	} else {
		return 0;
	}
	jp->inner_col = in->col;
	jp->outer_tab = out->tab;
	jp->outer_col = out->col;
	return 1;
}

static void plan_join(struct plan *p, int i, struct expr **conds, int nconds)
{
	struct join_plan *jp = &p->joins[i];
	const struct table *inner = p->tables[i];
	int used = -1;

	jp->m = J_NESTED;
	for (int c = 0; c < nconds && used < 0; c++)
		if (equi_join(conds[c], i, jp))
			used = c;
	if (used >= 0) {
		int ox = table_index_on(p->tables[jp->outer_tab], jp->outer_col);
		int ix = table_index_on(inner, jp->inner_col);

		if (jp->inner_col == inner->pk) {
			jp->m = J_PK_LOOKUP;
		} else if (i == 1 && ox >= 0 && ix >= 0 && p->scans[0].acc == ACC_SCAN &&
			   p->scans[1].acc == ACC_SCAN) {
			jp->m = J_MERGE;	/* both sides in index order, whole */
			p->scans[0].acc = p->scans[1].acc = ACC_RANGE;
			p->scans[0].index = ox;
			p->scans[1].index = ix;
			memset(&p->scans[0].r, 0, sizeof(p->scans[0].r));
			memset(&p->scans[1].r, 0, sizeof(p->scans[1].r));
		} else {
			jp->m = J_HASH;
		}
	}
	for (int c = 0; c < nconds; c++)
		if (c != used)
			push(&jp->post, &jp->npost, conds[c]);
}

/* ORDER BY an output name or a column number means that select item's expression. */
static int bind_order(struct plan *p, char *err, size_t errlen)
{
	struct select *q = p->sel;

	p->order_keys = xcalloc((size_t)q->norder, sizeof(*p->order_keys));
	for (int k = 0; k < q->norder; k++) {
		struct expr *e = q->order[k].e;

		if (e->kind == E_LIT && e->lit.t == V_INT) {
			int64_t n = e->lit.u.i;

			if (n < 1 || n > q->nitems || !q->items[n - 1].e) {
				snprintf(err, errlen, "ORDER BY %lld: no such select item", (long long)n);
				return -1;
			}
			p->order_keys[k] = q->items[n - 1].e;
			continue;
		}
		if (e->kind == E_COL && !e->table) {
			for (int i = 0; i < q->nitems && !p->order_keys[k]; i++)
				if (q->items[i].e && strcmp(q->items[i].alias, e->name) == 0)
					p->order_keys[k] = q->items[i].e;
			if (p->order_keys[k])
				continue;
		}
		if (expr_bind(&p->bd, e)) {
			snprintf(err, errlen, "%s", p->bd.err);
			return -1;
		}
		p->order_keys[k] = e;
	}
	return 0;
}

/* GROUP BY a name that is no column means the select item of that name (SQLite does the
 * same); anything else is bound as written. */
static int bind_group(struct plan *p)
{
	struct select *q = p->sel;

	p->group_keys = xcalloc((size_t)(q->ngroup ? q->ngroup : 1), sizeof(*p->group_keys));
	for (int k = 0; k < q->ngroup; k++) {
		struct expr *e = q->group[k];

		if (expr_bind(&p->bd, e) == 0) {
			p->group_keys[k] = e;
			continue;
		}
		for (int i = 0; e->kind == E_COL && !e->table && i < q->nitems; i++)
			if (q->items[i].e && !expr_has_agg(q->items[i].e) &&
			    strcmp(q->items[i].alias, e->name) == 0)
				p->group_keys[k] = q->items[i].e;
		if (!p->group_keys[k])
			return -1;
	}
	return 0;
}

static int bind_all(struct plan *p, struct expr ***conds, int *nconds, char *err, size_t errlen)
{
	struct select *q = p->sel;
	struct binder *bd = &p->bd;
	int agg = q->ngroup > 0;

	bd->allow_aggs = 1;
	for (int i = 0; i < q->nitems; i++) {
		if (expr_bind(bd, q->items[i].e))
			goto fail;
		agg |= expr_has_agg(q->items[i].e);
	}
	if (expr_bind(bd, q->having))
		goto fail;
	agg |= q->having != NULL;
	bd->allow_aggs = 0;
	split_conjuncts(q->where, conds, nconds);
	for (int i = 1; i < q->nfrom; i++)
		split_conjuncts(q->from[i].on, conds, nconds);
	for (int i = 0; i < *nconds; i++)
		if (expr_bind(bd, (*conds)[i]))
			goto fail;
	if (bind_group(p))
		goto fail;
	bd->allow_aggs = 1;
	if (bind_order(p, err, errlen))
		return -1;
	for (int k = 0; k < q->norder; k++)
		agg |= expr_has_agg(p->order_keys[k]);
	p->aggregate = agg;
	return 0;
fail:
	snprintf(err, errlen, "%s", bd->err);
	return -1;
}

int plan_select(struct db *db, struct select *sel, struct plan *p, char *err, size_t errlen)
{
	struct expr **conds = NULL;
	int nconds = 0, rc = -1;

	memset(p, 0, sizeof(*p));
	p->sel = sel;
	if (sel->nfrom > MAX_FROM) {
		snprintf(err, errlen, "more than %d tables", MAX_FROM);
		return -1;
	}
	if (sel->ngroup > MAX_GROUP) {
		snprintf(err, errlen, "more than %d GROUP BY expressions", MAX_GROUP);
		return -1;
	}
	p->ntables = sel->nfrom;
	p->tables = xcalloc((size_t)sel->nfrom, sizeof(*p->tables));
	p->scans = xcalloc((size_t)sel->nfrom, sizeof(*p->scans));
	p->joins = xcalloc((size_t)sel->nfrom, sizeof(*p->joins));
	p->bd.alias = xcalloc((size_t)sel->nfrom, sizeof(*p->bd.alias));
	for (int i = 0; i < sel->nfrom; i++) {
		p->tables[i] = db_table(db, sel->from[i].table);
		if (!p->tables[i]) {
			snprintf(err, errlen, "no table %s", sel->from[i].table);
			goto out;
		}
		p->bd.alias[i] = sel->from[i].alias;
	}
	p->bd.tables = p->tables;
	p->bd.ntables = p->ntables;
	if (bind_all(p, &conds, &nconds, err, errlen))
		goto out;

	/* each conjunct goes where its last table is joined; one-table ones into that scan */
	struct expr **late[MAX_FROM] = { 0 };
	int nlate[MAX_FROM] = { 0 };

	for (int c = 0; c < nconds; c++) {
		uint32_t m = expr_tables(conds[c]);
		int last = 0, single;

		for (int t = 0; t < p->ntables; t++)
			if (m & (1u << t))
				last = t;
		single = m == 0 || m == (1u << last);
		if (single)
			push(&p->scans[last].filter, &p->scans[last].nfilter, conds[c]);
		else
			push(&late[last], &nlate[last], conds[c]);
	}
	for (int t = 0; t < p->ntables; t++)
		choose_access(p->tables[t], t, &p->scans[t]);
	for (int t = 1; t < p->ntables; t++)
		plan_join(p, t, late[t], nlate[t]);
	for (int t = 0; t < p->ntables; t++)
		free(late[t]);
	rc = 0;
out:
	free(conds);
	return rc;
}

void plan_free(struct plan *p)
{
	for (int t = 0; t < p->ntables; t++) {
		free(p->scans[t].filter);
		free(p->joins[t].post);
	}
	free(p->scans);
	free(p->joins);
	free(p->tables);
	free(p->group_keys);
	free(p->order_keys);
	free(p->bd.alias);
	free(p->bd.aggs);
	memset(p, 0, sizeof(*p));
}

static void explain_scan(const struct plan *p, int t, struct sbuf *b)
{
	const struct scan_plan *sp = &p->scans[t];
	const struct table *tb = p->tables[t];

	sb_printf(b, "%s %s", tb->name, p->sel->from[t].alias);
	if (t > 0 && p->joins[t].m == J_PK_LOOKUP)
		goto filters;	/* rows come from the probes, not from a scan */
	switch (sp->acc) {
	case ACC_SCAN:
		sb_puts(b, " full scan");
		break;
	case ACC_PK:
		sb_printf(b, " primary key %s = ", tb->cols[tb->pk].name);
		value_format(b, sp->key);
		break;
	case ACC_RANGE:
		sb_printf(b, " index %s", tb->idx[sp->index].name);
		if (sp->r.lo.t != V_NULL || sp->r.hi.t != V_NULL)
			sb_puts(b, " range");
		break;
	}
filters:
	if (sp->nfilter)
		sb_printf(b, ", %d filter%s", sp->nfilter, sp->nfilter > 1 ? "s" : "");
}

/* One line per step: "plan: scan ...; hash join ...; group; sort; limit". */
void plan_explain(const struct plan *p, struct sbuf *b)
{
	static const char *const how[] = { "nested loop", "primary key lookup", "hash join",
					   "merge join" };

	sb_puts(b, "plan: scan ");
	explain_scan(p, 0, b);
	for (int t = 1; t < p->ntables; t++) {
		const struct join_plan *jp = &p->joins[t];

		sb_printf(b, "; %s ", how[jp->m]);
		explain_scan(p, t, b);
		if (jp->m != J_NESTED)
			sb_printf(b, " on %s = %s.%s", p->tables[t]->cols[jp->inner_col].name,
				  p->sel->from[jp->outer_tab].alias,
				  p->tables[jp->outer_tab]->cols[jp->outer_col].name);
		if (jp->npost)
			sb_printf(b, ", %d condition%s", jp->npost, jp->npost > 1 ? "s" : "");
	}
	if (p->aggregate)
		sb_printf(b, "; %s", p->sel->ngroup ? "hash group" : "aggregate");
	if (p->sel->norder)
		sb_puts(b, "; sort");
	if (p->sel->distinct)
		sb_puts(b, "; distinct");
	if (p->sel->limit >= 0)
		sb_printf(b, "; limit %ld", p->sel->limit);
}
