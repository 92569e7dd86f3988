/* SPDX-License-Identifier: MIT */
/*
 * The analyzer's one merge heap: k streams, each with a pending event, merged into one order
 * by the least (key, index). The trace reader merges its threads with it (trace-walk.c), the
 * replay log its streams (replay-log.c). Entries hold their key and index by value beside the
 * stream's pointer, so a sift compares without following pointers; ties go to the lower
 * index, which makes the order total and the same from run to run.
 *
 * Use: mheap_add each stream that has an event, mheap_build once, then loop: mheap_top's
 * stream gives its event, and either mheap_advance (its next key) or mheap_pop (it ended).
 */
#ifndef PERFSHIM_ANALYZER_MHEAP_H
#define PERFSHIM_ANALYZER_MHEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/util.h"

struct mheap_ent {
	uint64_t key;
	uint32_t index;
	void *item;
};

struct mheap {
	struct mheap_ent *e;
	uint32_t n;
};

static inline bool mheap_less(const struct mheap_ent *a, const struct mheap_ent *b)
{
	return a->key < b->key || (a->key == b->key && a->index < b->index);
}

static inline void mheap_down(struct mheap *h, uint32_t i)
{
	struct mheap_ent *e = h->e, x = e[i];
	uint32_t n = h->n;

	for (;;) {
		uint32_t l = 2 * i + 1, m;

		if (l >= n)
			break;
		m = l + 1 < n && mheap_less(&e[l + 1], &e[l]) ? l + 1 : l;
		if (!mheap_less(&e[m], &x))
			break;
		e[i] = e[m];
		i = m;
	}
	e[i] = x;
}

/* mheap_init - room for @cap streams */
static inline void mheap_init(struct mheap *h, uint32_t cap)
{
	h->e = xmalloc((cap ? cap : 1) * sizeof(*h->e));
	h->n = 0;
}

static inline void mheap_free(struct mheap *h)
{
	free(h->e);
	h->e = NULL;
	h->n = 0;
}

/* mheap_add - a stream before mheap_build; at most the capacity mheap_init was given */
static inline void mheap_add(struct mheap *h, void *item, uint64_t key, uint32_t index)
{
	h->e[h->n++] = (struct mheap_ent){ .key = key, .index = index, .item = item };
}

static inline void mheap_build(struct mheap *h)
{
	for (uint32_t i = h->n / 2; i-- > 0;)
		mheap_down(h, i);
}

/* mheap_top - the stream whose pending event comes first; NULL when none is left */
static inline void *mheap_top(const struct mheap *h)
{
	return h->n ? h->e[0].item : NULL;
}

/* mheap_advance - the top stream's pending event is now the one at @key */
static inline void mheap_advance(struct mheap *h, uint64_t key)
{
	h->e[0].key = key;
	mheap_down(h, 0);
}

/* mheap_pop - the top stream has ended */
static inline void mheap_pop(struct mheap *h)
{
	h->e[0] = h->e[--h->n];
	if (h->n)
		mheap_down(h, 0);
}

#endif
