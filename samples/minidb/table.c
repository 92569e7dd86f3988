/* SPDX-License-Identifier: MIT */
/*
 * minidb storage: tables of rows (one allocation per row, slots reused never: a deleted row
 * leaves a NULL), the primary key's hash index, the B+tree indexes CREATE INDEX makes, and
 * keeping all of them in step on INSERT, UPDATE and DELETE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

/* ---------------------------------------------------------------- hash index */

/* Open addressing with linear probing; a deleted entry becomes a tombstone until the next
 * growth rebuilds the table. */
struct hent {
	struct value key;
	uint32_t slot;
	uint8_t state;		/* 0 empty, 1 used, 2 deleted */
};

struct hindex {
	struct hent *e;
	size_t cap, used, dead;
};

struct hindex *hx_new(void)
{
	struct hindex *h = xcalloc(1, sizeof(*h));

	h->cap = 64;
	h->e = xcalloc(h->cap, sizeof(*h->e));
	return h;
}

void hx_free(struct hindex *h)
{
	if (!h)
		return;
	free(h->e);
	free(h);
}

static void hx_grow(struct hindex *h)
{
	struct hent *old = h->e;
	size_t ocap = h->cap;

	if (h->used * 2 >= h->cap)	/* else only tombstones: rebuild at the same size */
		h->cap *= 2;
	h->e = xcalloc(h->cap, sizeof(*h->e));
	h->used = h->dead = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].state == 1)
			hx_put(h, old[i].key, old[i].slot);
	free(old);
}

int hx_put(struct hindex *h, struct value key, uint32_t slot)
{
	size_t mask, i, tomb = SIZE_MAX;

	if ((h->used + h->dead + 1) * 4 > h->cap * 3)
		hx_grow(h);
	mask = h->cap - 1;
	for (i = value_hash(key) & mask; h->e[i].state; i = (i + 1) & mask) {
		if (h->e[i].state == 2) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (value_eq(h->e[i].key, key)) {
			return -1;
		}
	}
	if (tomb != SIZE_MAX) {
		i = tomb;
		h->dead--;
	}
	h->e[i].key = key;
	h->e[i].slot = slot;
	h->e[i].state = 1;
	h->used++;
	return 0;
}

static struct hent *hx_find(const struct hindex *h, struct value key)
{
	size_t mask = h->cap - 1;

	for (size_t i = value_hash(key) & mask; h->e[i].state; i = (i + 1) & mask)
		if (h->e[i].state == 1 && value_eq(h->e[i].key, key))
			return &h->e[i];
	return NULL;
}

int hx_get(const struct hindex *h, struct value key, uint32_t *slot)
{
	struct hent *e = hx_find(h, key);

	if (!e)
		return 0;
	*slot = e->slot;
	return 1;
}

void hx_del(struct hindex *h, struct value key)
{
	struct hent *e = hx_find(h, key);

	if (!e)
		return;
	e->state = 2;
	h->used--;
	h->dead++;
}

/* ---------------------------------------------------------------- tables */

struct table *db_table(struct db *db, const char *name)
{
	for (int i = 0; i < db->ntables; i++)
		if (strcmp(db->tables[i]->name, name) == 0)
			return db->tables[i];
	return NULL;
}

int table_create(struct db *db, struct stmt *s, char *err, size_t errlen)
{
	struct table *t;

	if (db_table(db, s->table)) {
		snprintf(err, errlen, "table %s exists", s->table);
		return -1;
	}
	t = xcalloc(1, sizeof(*t));
	t->name = s->table;
	t->cols = s->cols;
	t->ncols = s->ncols;
	s->table = NULL;	/* the table owns the names now */
	s->cols = NULL;
	s->ncols = 0;
	t->pk = -1;
	for (int i = 0; i < t->ncols; i++) {
		if (!t->cols[i].primary)
			continue;
		if (t->pk >= 0) {
			snprintf(err, errlen, "table %s: two primary keys", t->name);
			t->cols[i].primary = 0;
			continue;
		}
		t->pk = i;
		t->pkidx = hx_new();
	}
	db->tables = xrealloc(db->tables, sizeof(*db->tables) * (size_t)(db->ntables + 1));
	db->tables[db->ntables++] = t;
	return 0;
}

static int column_of(const struct table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return i;
	return -1;
}

int table_index_on(const struct table *t, int col)
{
	for (int i = 0; i < t->nidx; i++)
		if (t->idx[i].col == col)
			return i;
	return -1;
}

int index_create(struct db *db, struct stmt *s, char *err, size_t errlen)
{
	struct table *t = db_table(db, s->table);
	struct index *ix;
	int col;

	if (!t) {
		snprintf(err, errlen, "no table %s", s->table);
		return -1;
	}
	col = column_of(t, s->column);
	if (col < 0) {
		snprintf(err, errlen, "table %s has no column %s", t->name, s->column);
		return -1;
	}
	t->idx = xrealloc(t->idx, sizeof(*t->idx) * (size_t)(t->nidx + 1));
	ix = &t->idx[t->nidx++];
	ix->name = s->index;
	s->index = NULL;
	ix->col = col;
	ix->bt = bt_new();
	for (uint32_t i = 0; i < t->nslots; i++)	/* index the rows already there */
		if (t->rows[i])
			bt_insert(ix->bt, t->rows[i]->v[col], i);
	return 0;
}

/* Stores one row of ncols values (consumed: strings interned, types coerced). */
int table_insert(struct table *t, struct value *vals, char *err, size_t errlen)
{
	struct row *r;
	uint32_t slot = t->nslots;

	for (int i = 0; i < t->ncols; i++)
		vals[i] = value_interned(value_coerce(vals[i], t->cols[i].type));
	if (t->pk >= 0) {
		if (vals[t->pk].t == V_NULL) {
			snprintf(err, errlen, "%s.%s may not be NULL", t->name, t->cols[t->pk].name);
			return -1;
		}
		if (hx_put(t->pkidx, vals[t->pk], slot) < 0) {
			struct sbuf b = { 0 };

			value_format(&b, vals[t->pk]);
			snprintf(err, errlen, "duplicate key %s in %s", b.p, t->name);
			sb_free(&b);
			return -1;
		}
	}
	if (t->nslots == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->rows = xrealloc(t->rows, sizeof(*t->rows) * t->cap);
	}
	r = xmalloc(sizeof(*r) + sizeof(r->v[0]) * (size_t)t->ncols);
	r->slot = slot;
	memcpy(r->v, vals, sizeof(r->v[0]) * (size_t)t->ncols);
	t->rows[t->nslots++] = r;
	t->nlive++;
	for (int i = 0; i < t->nidx; i++)
		bt_insert(t->idx[i].bt, r->v[t->idx[i].col], slot);
	return 0;
}

/* Sets one column of a row (V consumed), keeping the indexes in step. */
int table_update(struct table *t, struct row *r, int col, struct value v, char *err,
		 size_t errlen)
{
	int ix = table_index_on(t, col);

	v = value_interned(value_coerce(v, t->cols[col].type));
	if (value_eq(v, r->v[col]) && v.t == r->v[col].t)
		return 0;
	if (col == t->pk) {
		if (v.t == V_NULL || hx_put(t->pkidx, v, r->slot) < 0) {
			snprintf(err, errlen, "%s.%s: key taken or NULL", t->name, t->cols[col].name);
			return -1;
		}
		hx_del(t->pkidx, r->v[col]);
	}
	if (ix >= 0) {
		bt_remove(t->idx[ix].bt, r->v[col], r->slot);
		bt_insert(t->idx[ix].bt, v, r->slot);
	}
	r->v[col] = v;
	return 0;
}

void table_delete(struct table *t, struct row *r)
{
	if (t->pk >= 0)
		hx_del(t->pkidx, r->v[t->pk]);
	for (int i = 0; i < t->nidx; i++)
		bt_remove(t->idx[i].bt, r->v[t->idx[i].col], r->slot);
	t->rows[r->slot] = NULL;
	t->nlive--;
	free(r);
}

struct row *table_pk_lookup(const struct table *t, struct value key)
{
	uint32_t slot;

	if (t->pk < 0 || !hx_get(t->pkidx, key, &slot))
		return NULL;
	return t->rows[slot];
}

static void table_free(struct table *t)
{
	for (uint32_t i = 0; i < t->nslots; i++)
		free(t->rows[i]);
	free(t->rows);
	for (int i = 0; i < t->nidx; i++) {
		bt_free(t->idx[i].bt);
		free(t->idx[i].name);
	}
	free(t->idx);
	hx_free(t->pkidx);
	for (int i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	free(t->name);
	free(t);
}

/* Frees every table and then the string pool their rows pointed into. */
void db_close(struct db *db)
{
	for (int i = 0; i < db->ntables; i++)
		table_free(db->tables[i]);
	free(db->tables);
	db->tables = NULL;
	db->ntables = 0;
	str_pool_free();
}
