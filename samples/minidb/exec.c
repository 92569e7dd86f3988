/* SPDX-License-Identifier: MIT */
/*
 * minidb execution of a planned SELECT: scans, joins (nested loop, primary key lookup, hash,
 * merge), then grouping, sorting, projection, DISTINCT and LIMIT (group.c). Intermediate
 * results are materialised: a join stage reads one array of tuples (a row pointer per FROM
 * item) and writes the next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"
#include "exec.h"

/* Deliberately small and fixed: sized for the small dimension tables the hash join was
 * written for. With a big inner table every probe walks a long chain (hj_probe), which is
 * what a profile of bench.sql's hash join of customers and orders shows. */
#define HJ_BUCKETS 64

/* ---------------------------------------------------------------- tuples */

void tup_init(struct tuples *tp, int width)
{
	memset(tp, 0, sizeof(*tp));
	tp->width = width;
}

/* Appends one tuple (copied from ROWS) and returns it. */
struct row **tup_push(struct tuples *tp, struct row *const *rows)
{
	struct row **t;

	if (tp->n == tp->cap) {
		tp->cap = tp->cap ? tp->cap * 2 : 64;
		tp->t = xrealloc(tp->t, sizeof(*tp->t) * tp->cap * (size_t)tp->width);
	}
	t = tp->t + tp->n++ * (size_t)tp->width;
	memcpy(t, rows, sizeof(*t) * (size_t)tp->width);
	return t;
}

struct row **tup_at(const struct tuples *tp, size_t i)
{
	return tp->t + i * (size_t)tp->width;
}

void tup_free(struct tuples *tp)
{
	free(tp->t);
	tp->t = NULL;
	tp->n = tp->cap = 0;
}

/* ---------------------------------------------------------------- scans */

static int passes(struct expr *const *conds, int n, const struct evalctx *cx)
{
	for (int i = 0; i < n; i++)
		if (!expr_true(conds[i], cx))
			return 0;
	return 1;
}

/* Is KEY past the range's upper end (for a scan in index order)? */
static int above(const struct range *r, struct value key)
{
	int c;

	if (r->hi.t == V_NULL)
		return 0;
	c = value_cmp(key, r->hi);
	return r->hi_incl ? c > 0 : c >= 0;
}

struct row **scan_rows(struct table *t, const struct scan_plan *sp, int tab, struct row **ctx,
		       size_t *n)
{
	struct evalctx cx = { .rows = ctx };
	struct row **out = NULL;
	size_t cap = 0;
	struct bt_cursor c;

	*n = 0;
#define EMIT(r)                                                                   \
	do {                                                                      \
		ctx[tab] = (r);                                                   \
		if (passes(sp->filter, sp->nfilter, &cx)) {                       \
			if (*n == cap) {                                          \
				cap = cap ? cap * 2 : 64;                         \
				out = xrealloc(out, sizeof(*out) * cap);          \
			}                                                         \
			out[(*n)++] = (r);                                        \
		}                                                                 \
	} while (0)

	switch (sp->acc) {
	case ACC_SCAN:
		for (uint32_t s = 0; s < t->nslots; s++)
			if (t->rows[s])
				EMIT(t->rows[s]);
		break;
	case ACC_PK: {
		struct row *r = table_pk_lookup(t, sp->key);

		if (r)
			EMIT(r);
		break;
	}
	case ACC_RANGE:
		if (sp->r.lo.t == V_NULL)
			bt_first(t->idx[sp->index].bt, &c);
		else
			bt_seek(t->idx[sp->index].bt, sp->r.lo, &c);
		for (; bt_valid(&c); bt_next(&c)) {
			struct value k = bt_key(&c);

			if (sp->r.lo.t != V_NULL && !sp->r.lo_incl && value_cmp(k, sp->r.lo) == 0)
				continue;
			if (above(&sp->r, k))
				break;
			EMIT(t->rows[bt_slot(&c)]);
		}
		break;
	}
#undef EMIT
	ctx[tab] = NULL;
	return out;
}

/* ---------------------------------------------------------------- joins */

static void join_nested(const struct join_plan *jp, int i, const struct tuples *in,
			struct row **inner, size_t ninner, struct tuples *out)
{
	struct row *cur[32];
	struct evalctx cx = { .rows = cur };

	for (size_t o = 0; o < in->n; o++) {
		memcpy(cur, tup_at(in, o), sizeof(cur[0]) * (size_t)in->width);
		for (size_t k = 0; k < ninner; k++) {
			cur[i] = inner[k];
			if (passes(jp->post, jp->npost, &cx))
				tup_push(out, cur);
		}
	}
}

static void join_pk(const struct plan *p, int i, const struct tuples *in, struct tuples *out)
{
	const struct join_plan *jp = &p->joins[i];
	const struct scan_plan *sp = &p->scans[i];
	struct row *cur[32];
	struct evalctx cx = { .rows = cur };

	for (size_t o = 0; o < in->n; o++) {
		struct row *r;

		memcpy(cur, tup_at(in, o), sizeof(cur[0]) * (size_t)in->width);
		r = table_pk_lookup(p->tables[i], cur[jp->outer_tab]->v[jp->outer_col]);
		if (!r)
			continue;
		cur[i] = r;
		if (passes(sp->filter, sp->nfilter, &cx) && passes(jp->post, jp->npost, &cx))
			tup_push(out, cur);
	}
}

struct hj_entry {
	struct row *row;
	uint32_t hash;
	struct hj_entry *next;
};

/* All inner rows whose join column equals KEY, walked along one bucket's chain. */
static void hj_probe(struct hj_entry *const *buckets, struct value key, int inner_col,
		     int i, struct row **cur, const struct join_plan *jp, struct tuples *out)
{
	struct evalctx cx = { .rows = cur };
	uint32_t h = value_hash(key);

	for (struct hj_entry *e = buckets[h % HJ_BUCKETS]; e; e = e->next) {
		if (e->hash != h || !value_eq(e->row->v[inner_col], key))
			continue;
		cur[i] = e->row;
		if (passes(jp->post, jp->npost, &cx))
			tup_push(out, cur);
	}
}

static void join_hash(const struct join_plan *jp, int i, const struct tuples *in,
		      struct row **inner, size_t ninner, struct tuples *out)
{
	struct hj_entry *buckets[HJ_BUCKETS] = { 0 };
	struct hj_entry *pool = xmalloc(sizeof(*pool) * (ninner ? ninner : 1));
	struct row *cur[32];

	/* build: in reverse, so that each chain lists rows in table order */
	for (size_t k = ninner; k-- > 0;) {
		struct value key = inner[k]->v[jp->inner_col];
		struct hj_entry *e = &pool[k];

		if (key.t == V_NULL)
			continue;
		e->row = inner[k];
		e->hash = value_hash(key);
		e->next = buckets[e->hash % HJ_BUCKETS];
		buckets[e->hash % HJ_BUCKETS] = e;
	}
	for (size_t o = 0; o < in->n; o++) {
		struct value key;

		memcpy(cur, tup_at(in, o), sizeof(cur[0]) * (size_t)in->width);
		key = cur[jp->outer_tab]->v[jp->outer_col];
		if (key.t != V_NULL)
			hj_probe(buckets, key, jp->inner_col, i, cur, jp, out);
	}
	free(pool);
}

/* Both inputs sorted by their join column (index order): equal runs are crossed. */
static void join_merge(const struct join_plan *jp, int i, const struct tuples *in,
		       struct row **inner, size_t ninner, struct tuples *out)
{
	struct row *cur[32];
	struct evalctx cx = { .rows = cur };
	size_t o = 0, k = 0;

	while (o < in->n && k < ninner) {
		struct value ok = tup_at(in, o)[jp->outer_tab]->v[jp->outer_col];
		struct value ik = inner[k]->v[jp->inner_col];
		int c = value_cmp(ok, ik);
		size_t kend;

		if (ok.t == V_NULL || c < 0) {
			o++;
			continue;
		}
		if (ik.t == V_NULL || c > 0) {
			k++;
			continue;
		}
		for (kend = k; kend < ninner && value_eq(inner[kend]->v[jp->inner_col], ok); kend++)
			;
		for (; o < in->n && value_eq(tup_at(in, o)[jp->outer_tab]->v[jp->outer_col], ok);
		     o++) {
			memcpy(cur, tup_at(in, o), sizeof(cur[0]) * (size_t)in->width);
			for (size_t m = k; m < kend; m++) {
				cur[i] = inner[m];
				if (passes(jp->post, jp->npost, &cx))
					tup_push(out, cur);
			}
		}
		k = kend;
	}
}

/* Joins FROM item I into the tuples of items 0..I-1. */
static void join_step(const struct plan *p, int i, struct tuples *tp)
{
	const struct join_plan *jp = &p->joins[i];
	struct tuples out;
	struct row *ctx[32] = { 0 };
	struct row **inner = NULL;
	size_t ninner = 0;

	tup_init(&out, tp->width);
	if (jp->m != J_PK_LOOKUP)
		inner = scan_rows(p->tables[i], &p->scans[i], i, ctx, &ninner);
	switch (jp->m) {
	case J_NESTED:
		join_nested(jp, i, tp, inner, ninner, &out);
		break;
	case J_PK_LOOKUP:
		join_pk(p, i, tp, &out);
		break;
	case J_HASH:
		join_hash(jp, i, tp, inner, ninner, &out);
		break;
	case J_MERGE:
		join_merge(jp, i, tp, inner, ninner, &out);
		break;
	}
	free(inner);
	tup_free(tp);
	*tp = out;
}

/* The tuples of the FROM clause after every scan filter and join condition. */
static void from_tuples(const struct plan *p, struct tuples *tp)
{
	struct row *ctx[32] = { 0 };
	size_t n;
	struct row **first = scan_rows(p->tables[0], &p->scans[0], 0, ctx, &n);

	tup_init(tp, p->ntables);
	for (size_t k = 0; k < n; k++) {
		ctx[0] = first[k];
		tup_push(tp, ctx);
	}
	free(first);
	for (int i = 1; i < p->ntables; i++)
		join_step(p, i, tp);
}

/* ---------------------------------------------------------------- SELECT */

static void result_names(const struct plan *p, struct result *res)
{
	const struct select *q = p->sel;

	for (int i = 0; i < q->nitems; i++) {
		int n = 1;

		if (!q->items[i].e) {	/* '*': every column of every FROM item */
			n = 0;
			for (int t = 0; t < p->ntables; t++)
				n += p->tables[t]->ncols;
		}
		res->names = xrealloc(res->names, sizeof(*res->names) * (size_t)(res->ncols + n));
		if (q->items[i].e) {
			res->names[res->ncols++] = xstrdup(q->items[i].alias);
			continue;
		}
		for (int t = 0; t < p->ntables; t++)
			for (int c = 0; c < p->tables[t]->ncols; c++)
				res->names[res->ncols++] = xstrdup(p->tables[t]->cols[c].name);
	}
}

int exec_select(struct db *db, struct plan *p, struct result *res)
{
	struct tuples tp;
	struct recs rs;

	memset(res, 0, sizeof(*res));
	result_names(p, res);
	from_tuples(p, &tp);
	if (p->aggregate)
		group_records(p, &tp, &rs);
	else
		tuple_records(&tp, &rs);
	if (p->sel->norder)
		sort_records(p, &rs);
	project_records(p, &rs, res);
	recs_free(&rs);
	tup_free(&tp);
	return 0;
}

void result_free(struct result *res)
{
	for (size_t r = 0; r < res->nrows; r++) {
		for (int c = 0; c < res->ncols; c++)
			value_release(&res->rows[r][c]);
		free(res->rows[r]);
	}
	free(res->rows);
	for (int c = 0; c < res->ncols; c++)
		free(res->names[c]);
	free(res->names);
	memset(res, 0, sizeof(*res));
}
