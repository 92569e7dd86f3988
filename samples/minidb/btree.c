/* SPDX-License-Identifier: MIT */
/*
 * minidb B+tree index: (key, slot) entries kept in order, so duplicate keys are fine and every
 * entry is unique. Leaves are chained for range scans. Removal takes an entry out of its leaf
 * without merging nodes (an emptied leaf stays in the chain and scans step over it): tables
 * here shrink little, and lookups stay correct.
 */
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

#define BT_ORDER 32		/* a node splits when it holds more entries than this */

struct bt_node {
	int leaf;
	int n;			/* entries (leaf) or separators (inner) */
	struct value keys[BT_ORDER + 1];
	uint32_t slots[BT_ORDER + 1];
	struct bt_node *kids[BT_ORDER + 2];	/* inner: n + 1 children */
	struct bt_node *next;			/* leaf: the next leaf in order */
};

struct btree {
	struct bt_node *root;
	size_t count;
};

static int ent_cmp(struct value ka, uint32_t sa, struct value kb, uint32_t sb)
{
	int c = value_cmp(ka, kb);

	if (c)
		return c;
	return sa < sb ? -1 : sa > sb;
}

static struct bt_node *node_new(int leaf)
{
	struct bt_node *nd = xcalloc(1, sizeof(*nd));

	nd->leaf = leaf;
	return nd;
}

struct btree *bt_new(void)
{
	struct btree *t = xcalloc(1, sizeof(*t));

	t->root = node_new(1);
	return t;
}

static void node_free(struct bt_node *nd)
{
	if (!nd->leaf)
		for (int i = 0; i <= nd->n; i++)
			node_free(nd->kids[i]);
	free(nd);
}

void bt_free(struct btree *t)
{
	if (!t)
		return;
	node_free(t->root);
	free(t);
}

size_t bt_count(const struct btree *t)
{
	return t->count;
}

/* In an inner node: the child that holds (k, s): the first separator greater than it. */
static int child_for(const struct bt_node *nd, struct value k, uint32_t s)
{
	int lo = 0, hi = nd->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (ent_cmp(k, s, nd->keys[mid], nd->slots[mid]) < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* In a leaf: the position of the first entry >= (k, s). */
static int leaf_pos(const struct bt_node *nd, struct value k, uint32_t s)
{
	int lo = 0, hi = nd->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (ent_cmp(nd->keys[mid], nd->slots[mid], k, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void put_entry(struct bt_node *nd, int at, struct value k, uint32_t s)
{
	memmove(&nd->keys[at + 1], &nd->keys[at], sizeof(nd->keys[0]) * (size_t)(nd->n - at));
	memmove(&nd->slots[at + 1], &nd->slots[at], sizeof(nd->slots[0]) * (size_t)(nd->n - at));
	nd->keys[at] = k;
	nd->slots[at] = s;
	nd->n++;
}

/* Splits a full node in two; the separator that goes up is returned in *upk and *ups. */
static struct bt_node *split(struct bt_node *nd, struct value *upk, uint32_t *ups)
{
	struct bt_node *r = node_new(nd->leaf);
	int mid = nd->n / 2;

	if (nd->leaf) {
		r->n = nd->n - mid;
		memcpy(r->keys, &nd->keys[mid], sizeof(r->keys[0]) * (size_t)r->n);
		memcpy(r->slots, &nd->slots[mid], sizeof(r->slots[0]) * (size_t)r->n);
		nd->n = mid;
		r->next = nd->next;
		nd->next = r;
		*upk = r->keys[0];
		*ups = r->slots[0];
		return r;
	}
	/* inner: separator mid goes up; right takes the separators after it and their kids */
	*upk = nd->keys[mid];
	*ups = nd->slots[mid];
	r->n = nd->n - mid - 1;
	memcpy(r->keys, &nd->keys[mid + 1], sizeof(r->keys[0]) * (size_t)r->n);
	memcpy(r->slots, &nd->slots[mid + 1], sizeof(r->slots[0]) * (size_t)r->n);
	memcpy(r->kids, &nd->kids[mid + 1], sizeof(r->kids[0]) * (size_t)(r->n + 1));
	nd->n = mid;
	return r;
}

/* Inserts below ND; returns the new right sibling when ND split (and its separator). */
static struct bt_node *insert_rec(struct bt_node *nd, struct value k, uint32_t s,
				  struct value *upk, uint32_t *ups)
{
	if (nd->leaf) {
		put_entry(nd, leaf_pos(nd, k, s), k, s);
	} else {
		int c = child_for(nd, k, s);
		struct value ck;
		uint32_t cs;
		struct bt_node *r = insert_rec(nd->kids[c], k, s, &ck, &cs);

		if (r) {
			memmove(&nd->kids[c + 2], &nd->kids[c + 1],
				sizeof(nd->kids[0]) * (size_t)(nd->n - c));
			nd->kids[c + 1] = r;
			put_entry(nd, c, ck, cs);
		}
	}
	return nd->n > BT_ORDER ? split(nd, upk, ups) : NULL;
}

void bt_insert(struct btree *t, struct value key, uint32_t slot)
{
	struct value upk;
	uint32_t ups;
	struct bt_node *r = insert_rec(t->root, key, slot, &upk, &ups);

	if (r) {
		struct bt_node *root = node_new(0);

		root->n = 1;
		root->keys[0] = upk;
		root->slots[0] = ups;
		root->kids[0] = t->root;
		root->kids[1] = r;
		t->root = root;
	}
	t->count++;
}

int bt_remove(struct btree *t, struct value key, uint32_t slot)
{
	struct bt_node *nd = t->root;
	int i;

	while (!nd->leaf)
		nd = nd->kids[child_for(nd, key, slot)];
	i = leaf_pos(nd, key, slot);
	if (i >= nd->n || ent_cmp(nd->keys[i], nd->slots[i], key, slot) != 0)
		return 0;
	memmove(&nd->keys[i], &nd->keys[i + 1], sizeof(nd->keys[0]) * (size_t)(nd->n - i - 1));
	memmove(&nd->slots[i], &nd->slots[i + 1], sizeof(nd->slots[0]) * (size_t)(nd->n - i - 1));
	nd->n--;
	t->count--;
	return 1;
}

void bt_seek(const struct btree *t, struct value key, struct bt_cursor *c)
{
	struct bt_node *nd = t->root;

	while (!nd->leaf)
		nd = nd->kids[child_for(nd, key, 0)];
	c->t = t;
	c->leaf = nd;
	c->i = leaf_pos(nd, key, 0);
}

void bt_first(const struct btree *t, struct bt_cursor *c)
{
	struct bt_node *nd = t->root;

	while (!nd->leaf)
		nd = nd->kids[0];
	c->t = t;
	c->leaf = nd;
	c->i = 0;
}

/* True while the cursor stands on an entry; steps over exhausted and emptied leaves. */
int bt_valid(struct bt_cursor *c)
{
	struct bt_node *nd = c->leaf;

	while (nd && c->i >= nd->n) {
		nd = nd->next;
		c->i = 0;
	}
	c->leaf = nd;
	return nd != NULL;
}

struct value bt_key(const struct bt_cursor *c)
{
	const struct bt_node *nd = c->leaf;

	return nd->keys[c->i];
}

uint32_t bt_slot(const struct bt_cursor *c)
{
	const struct bt_node *nd = c->leaf;

	return nd->slots[c->i];
}

void bt_next(struct bt_cursor *c)
{
	c->i++;
}
