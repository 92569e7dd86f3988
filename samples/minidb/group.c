/* SPDX-License-Identifier: MIT */
/*
 * minidb grouping and output: hash aggregation (groups kept in the order first seen, so
 * output without ORDER BY is still the same every run), HAVING, a stable merge sort for
 * ORDER BY, and projection with DISTINCT and LIMIT.
 */
#include <stdlib.h>
#include <string.h>

#include "exec.h"

struct accum {
	int64_t count, isum;
	double rsum;
	int real;		/* SUM/AVG saw a non-integer */
	struct value best;	/* MIN/MAX so far (owned) */
};

struct group {
	uint32_t hash;
	struct group *next;	/* in its bucket */
	struct value *keys;	/* GROUP BY values (owned) */
	struct row **rep;	/* the group's first tuple */
	struct accum *acc;
	struct value *aggv;	/* finished aggregates, by slot (owned) */
};

struct gtable {
	struct group **buckets;
	size_t nb;
	struct group **v;	/* in order of first appearance */
	size_t n, cap;
};

/* ---------------------------------------------------------------- records */

void tuple_records(const struct tuples *tp, struct recs *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->r = xmalloc(sizeof(*rs->r) * (tp->n ? tp->n : 1));
	for (size_t i = 0; i < tp->n; i++) {
		rs->r[i].rows = tup_at(tp, i);
		rs->r[i].aggs = NULL;
	}
	rs->n = tp->n;
}

void recs_free(struct recs *rs)
{
	for (size_t g = 0; g < rs->ngroups; g++) {
		struct group *gr = rs->groups[g];

		for (int a = 0; a < rs->naggs; a++) {
			value_release(&gr->aggv[a]);
			value_release(&gr->acc[a].best);
		}
		free(gr->aggv);
		free(gr->acc);
		free(gr->rep);
		free(gr->keys);
		free(gr);
	}
	free(rs->groups);
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* ---------------------------------------------------------------- grouping */

static void gt_grow(struct gtable *gt)
{
	size_t nb = gt->nb ? gt->nb * 2 : 256;
	struct group **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < gt->n; i++) {
		struct group *g = gt->v[i];

		g->next = b[g->hash & (nb - 1)];
		b[g->hash & (nb - 1)] = g;
	}
	free(gt->buckets);
	gt->buckets = b;
	gt->nb = nb;
}

static struct group *gt_find(struct gtable *gt, const struct value *keys, int nkeys,
			     uint32_t h)
{
	for (struct group *g = gt->buckets[h & (gt->nb - 1)]; g; g = g->next) {
		int k;

		if (g->hash != h)
			continue;
		for (k = 0; k < nkeys && value_eq(g->keys[k], keys[k]) &&
			    g->keys[k].t == keys[k].t;
		     k++)
			;
		if (k == nkeys)
			return g;
	}
	return NULL;
}

static struct group *gt_add(struct gtable *gt, const struct plan *p, struct value *keys,
			    int nkeys, uint32_t h, struct row **rep)
{
	struct group *g = xcalloc(1, sizeof(*g));
	int width = p->ntables;

	if ((gt->n + 1) * 2 > gt->nb)
		gt_grow(gt);
	g->hash = h;
	g->keys = xmalloc(sizeof(*g->keys) * (size_t)(nkeys ? nkeys : 1));
	memcpy(g->keys, keys, sizeof(*keys) * (size_t)nkeys);	/* takes them over */
	g->rep = xmalloc(sizeof(*g->rep) * (size_t)width);
	if (rep)
		memcpy(g->rep, rep, sizeof(*rep) * (size_t)width);
	else
		memset(g->rep, 0, sizeof(*rep) * (size_t)width);
	g->acc = xcalloc((size_t)(p->bd.naggs ? p->bd.naggs : 1), sizeof(*g->acc));
	g->next = gt->buckets[h & (gt->nb - 1)];
	gt->buckets[h & (gt->nb - 1)] = g;
	if (gt->n == gt->cap) {
		gt->cap = gt->cap ? gt->cap * 2 : 64;
		gt->v = xrealloc(gt->v, sizeof(*gt->v) * gt->cap);
	}
	gt->v[gt->n++] = g;
	return g;
}

static void accumulate(struct accum *a, const struct expr *agg, const struct evalctx *cx)
{
	struct value v;

	if (agg->a->kind == E_STAR) {
		a->count++;
		return;
	}
	v = expr_eval(agg->a, cx);
	if (v.t == V_NULL)
		return;
	a->count++;
	switch (agg->op) {
	case A_SUM:
	case A_AVG:
		if (v.t == V_INT && !a->real) {
			a->isum += v.u.i;
		} else {
			if (!a->real)
				a->rsum = (double)a->isum;
			a->real = 1;
			a->rsum += value_num(v);
		}
		break;
	case A_MIN:
	case A_MAX: {
		int c = a->best.t == V_NULL ? 0 : value_cmp(v, a->best);

		if (a->best.t == V_NULL || (agg->op == A_MIN ? c < 0 : c > 0)) {
			value_release(&a->best);
			a->best = value_dup(v);
		}
		break;
	}
	default:
		break;
	}
	value_release(&v);
}

static struct value finish(const struct accum *a, const struct expr *agg)
{
	switch (agg->op) {
	case A_COUNT:
		return v_int(a->count);
	case A_SUM:
		if (!a->count)
			return v_null();
		return a->real ? v_real(a->rsum) : v_int(a->isum);
	case A_AVG:
		if (!a->count)
			return v_null();
		return v_real((a->real ? a->rsum : (double)a->isum) / (double)a->count);
	default:
		return value_dup(a->best);
	}
}

static uint32_t keys_hash(const struct value *keys, int n)
{
	uint32_t h = 0x811c9dc5u;

	for (int k = 0; k < n; k++)
		h = (h ^ value_hash(keys[k])) * 0x01000193u;
	return h;
}

/* Groups the tuples by the GROUP BY expressions, accumulating every aggregate of the query;
 * then keeps the groups that pass HAVING as records. Without GROUP BY there is one group,
 * even over no rows (COUNT(*) is then 0). */
void group_records(const struct plan *p, const struct tuples *tp, struct recs *rs)
{
	const struct select *q = p->sel;
	struct gtable gt = { 0 };
	struct value keys[16];
	int nk = q->ngroup < 16 ? q->ngroup : 16;

	memset(rs, 0, sizeof(*rs));
	gt_grow(&gt);
	if (!q->ngroup)
		gt_add(&gt, p, keys, 0, 0, tp->n ? tup_at(tp, 0) : NULL);
	for (size_t i = 0; i < tp->n; i++) {
		struct evalctx cx = { .rows = tup_at(tp, i) };
		struct group *g = nk ? NULL : gt.v[0];

		if (nk) {
			uint32_t h;

			for (int k = 0; k < nk; k++)
				keys[k] = expr_eval(p->group_keys[k], &cx);
			h = keys_hash(keys, nk);
			g = gt_find(&gt, keys, nk, h);
			if (g) {
				for (int k = 0; k < nk; k++)
					value_release(&keys[k]);
			} else {
				g = gt_add(&gt, p, keys, nk, h, cx.rows);
			}
		}
		for (int a = 0; a < p->bd.naggs; a++)
			accumulate(&g->acc[a], p->bd.aggs[a], &cx);
	}
	rs->groups = gt.v;
	rs->ngroups = gt.n;
	rs->naggs = p->bd.naggs;
	rs->r = xmalloc(sizeof(*rs->r) * (gt.n ? gt.n : 1));
	for (size_t g = 0; g < gt.n; g++) {
		struct group *gr = gt.v[g];
		struct evalctx cx = { .rows = gr->rep };

		gr->aggv = xcalloc((size_t)(p->bd.naggs ? p->bd.naggs : 1), sizeof(*gr->aggv));
		for (int a = 0; a < p->bd.naggs; a++)
			gr->aggv[a] = finish(&gr->acc[a], p->bd.aggs[a]);
		cx.aggs = gr->aggv;
		if (q->having && !expr_true(q->having, &cx))
			continue;
		rs->r[rs->n].rows = gr->rep;
		rs->r[rs->n++].aggs = gr->aggv;
	}
	for (size_t g = 0; g < gt.n; g++) {	/* group keys are no longer needed */
		for (int k = 0; k < nk; k++)
			value_release(&gt.v[g]->keys[k]);
	}
	free(gt.buckets);
}

/* ---------------------------------------------------------------- sorting */

/* Deliberately naive: the ORDER BY expressions are evaluated again for both records in every
 * comparison (n log n evaluations instead of n), which is where a profile of the ORDER BY
 * queries puts their time (sort_cmp, expr_eval). */
static int sort_cmp(const struct plan *p, const struct rec *a, const struct rec *b)
{
	for (int k = 0; k < p->sel->norder; k++) {
		struct evalctx ca = { .rows = a->rows, .aggs = a->aggs };
		struct evalctx cb = { .rows = b->rows, .aggs = b->aggs };
		struct value va = expr_eval(p->order_keys[k], &ca);
		struct value vb = expr_eval(p->order_keys[k], &cb);
		int c = value_cmp(va, vb);

		value_release(&va);
		value_release(&vb);
		if (c)
			return p->sel->order[k].desc ? -c : c;
	}
	return 0;
}

static void merge_sort(const struct plan *p, struct rec *v, struct rec *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	merge_sort(p, v, tmp, mid);
	merge_sort(p, v + mid, tmp, n - mid);
	while (i < mid && j < n)
		tmp[k++] = sort_cmp(p, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, sizeof(*v) * n);
}

void sort_records(const struct plan *p, struct recs *rs)
{
	struct rec *tmp = xmalloc(sizeof(*tmp) * (rs->n ? rs->n : 1));

	merge_sort(p, rs->r, tmp, rs->n);
	free(tmp);
}

/* ---------------------------------------------------------------- projection */

struct dset {
	uint32_t *h;
	size_t *row;
	size_t cap, n;
};

static uint32_t row_hash(const struct value *v, int n)
{
	return keys_hash(v, n);
}

/* DISTINCT: returns 1 if an equal row is already in RES (else records row IDX). */
static int seen(struct dset *ds, const struct result *res, size_t idx)
{
	const struct value *v = res->rows[idx];
	uint32_t h = row_hash(v, res->ncols);
	size_t i;

	if ((ds->n + 1) * 2 > ds->cap) {
		struct dset big = { .cap = ds->cap ? ds->cap * 2 : 64 };

		big.h = xcalloc(big.cap, sizeof(*big.h));
		big.row = xcalloc(big.cap, sizeof(*big.row));
		for (size_t k = 0; k < ds->cap; k++) {
			if (!ds->row[k])
				continue;
			for (i = ds->h[k] & (big.cap - 1); big.row[i]; i = (i + 1) & (big.cap - 1))
				;
			big.h[i] = ds->h[k];
			big.row[i] = ds->row[k];
		}
		big.n = ds->n;
		free(ds->h);
		free(ds->row);
		*ds = big;
	}
	for (i = h & (ds->cap - 1); ds->row[i]; i = (i + 1) & (ds->cap - 1)) {
		const struct value *o = res->rows[ds->row[i] - 1];
		int c = 0;

		if (ds->h[i] != h)
			continue;
		while (c < res->ncols && value_eq(o[c], v[c]) && o[c].t == v[c].t)
			c++;
		if (c == res->ncols)
			return 1;
	}
	ds->h[i] = h;
	ds->row[i] = idx + 1;	/* 0 marks a free cell */
	ds->n++;
	return 0;
}

static struct value *project(const struct plan *p, const struct rec *r, int ncols)
{
	const struct select *q = p->sel;
	struct value *out = xmalloc(sizeof(*out) * (size_t)ncols);
	struct evalctx cx = { .rows = r->rows, .aggs = r->aggs };
	int c = 0;

	for (int i = 0; i < q->nitems; i++) {
		if (q->items[i].e) {
			out[c++] = expr_eval(q->items[i].e, &cx);
			continue;
		}
		for (int t = 0; t < p->ntables; t++)
			for (int k = 0; k < p->tables[t]->ncols; k++)
				out[c++] = r->rows[t] ? r->rows[t]->v[k] : v_null();
	}
	return out;
}

void project_records(const struct plan *p, const struct recs *rs, struct result *res)
{
	struct dset ds = { 0 };
	long limit = p->sel->limit;

	for (size_t i = 0; i < rs->n; i++) {
		if (limit >= 0 && res->nrows >= (size_t)limit)
			break;
		if (res->nrows == res->cap) {
			res->cap = res->cap ? res->cap * 2 : 16;
			res->rows = xrealloc(res->rows, sizeof(*res->rows) * res->cap);
		}
		res->rows[res->nrows] = project(p, &rs->r[i], res->ncols);
		if (p->sel->distinct && seen(&ds, res, res->nrows)) {
			for (int c = 0; c < res->ncols; c++)
				value_release(&res->rows[res->nrows][c]);
			free(res->rows[res->nrows]);
			continue;
		}
		res->nrows++;
	}
	free(ds.h);
	free(ds.row);
}
