/* SPDX-License-Identifier: MIT */
/*
 * The analyzer's one hash map. Records carry their own uint64_t key (0 marks an empty slot)
 * and sit in the table itself: open addressing, linear probing, backward-shift deletion (no
 * tombstones, so probes stay short after many deletes), power-of-two sizes. A lookup of a
 * present key touches one or two cache lines, which matters on the memory report's path
 * (replay.c: one lookup per malloc and free). HMAP_DEFINE makes one typed copy of the
 * functions per record type, so they inline into the walks.
 *
 * Keys may repeat (_add, _next): a map keyed by a hash of a string holds every string with
 * that hash, and the caller compares the strings (HMAP_DEFINE_STR does it for records with a
 * `str` member). Pointers into the table are valid until the next insert or delete.
 */
#ifndef PERFSHIM_ANALYZER_HMAP_H
#define PERFSHIM_ANALYZER_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/util.h"

/*
 * hmap_hash - the slot hash of a key: pointers and packed ids are far from uniform in their
 * low bits, so fold the high half down after one multiply (the slot is the low bits).
 */
static inline uint64_t hmap_hash(uint64_t k)
{
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ULL;
	return k ^ (k >> 32);
}

/* hmap_home - the slot of key @k in a table of @mask + 1 slots (shift: see hmap_home_addr) */
static inline uint64_t hmap_home(uint64_t k, uint64_t mask, unsigned shift)
{
	(void)shift;
	return hmap_hash(k) & mask;
}

/*
 * hmap_home_addr - a cheaper slot for addresses (HMAP_DEFINE_HOME): Fibonacci hashing, the
 * top bits of a multiply by 2^64 / the golden ratio (@shift = 64 - log2 of the slots). They
 * depend on every bit of the key, and keys a constant step apart (malloc's 16 bytes, pages)
 * spread evenly over the table. For tables of 2 slots or more.
 */
static inline uint64_t hmap_home_addr(uint64_t k, uint64_t mask, unsigned shift)
{
	return ((k * 0x9e3779b97f4a7c15ULL) >> shift) & mask;
}

/* hmap_key_u64 - a key for a word that packs several fields (murmur3's mix); never 0 */
static inline uint64_t hmap_key_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return v ? v : 1;
}

/* hmap_key_mem - a key for @n bytes at @p (FNV-1a, then finalized); never 0 */
static inline uint64_t hmap_key_mem(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

/* hmap_key_str - a key for the string @s; never 0 */
static inline uint64_t hmap_key_str(const char *s)
{
	return hmap_key_mem(s, strlen(s));
}

#define HMAP_MIN_CAP 64

/*
 * HMAP_DEFINE(name, type, key) - struct name, a table of `type` records keyed by their
 * uint64_t member `key`, and these functions (m: struct name *, zero-initialized = empty):
 *   name_init(m, cap)    - start with @cap slots (a power of two); optional
 *   name_get(m, k)       - the first record of key k, or NULL
 *   name_next(m, e)      - the next record with e's key after e, or NULL
 *   name_slot(m, k)      - the record of k, or the empty slot where it would go (the caller
 *                          fills it, sets its key and counts it in m->n; the table must have
 *                          room: see name_room). Table must be allocated.
 *   name_room(m, extra)  - grow, if needed, so that @extra more records keep it <= 3/4 full
 *   name_add(m, k)       - a new record of key k (k may already be present), zeroed but k
 *   name_put(m, k, &new) - the record of k, added zeroed (and *new set) when absent
 *   name_del(m, e)       - remove record e
 *   name_each(m, e)      - the next used slot after e (NULL: the first), or NULL at the end
 *   name_grow(m)         - double the table
 *   name_free(m)         - release the table; m is empty and reusable
 * @k must not be 0. The table grows (dies on OOM, as xmalloc) before it is 3/4 full.
 */
#define HMAP_DEFINE(name, type, key) HMAP_DEFINE_HOME(name, type, key, hmap_home)

/* HMAP_DEFINE_HOME(name, type, key, home) - HMAP_DEFINE with slots from @home, not hmap_home */
#define HMAP_DEFINE_HOME(name, type, key, home)                                            \
	struct name {                                                                      \
		type *v;		/* mask + 1 slots; key 0 = empty */                \
		uint64_t mask;		/* capacity - 1 (0 with v NULL: empty) */          \
		uint64_t n;		/* records held */                                 \
		unsigned shift;		/* 64 - log2(mask + 1), for hmap_home_addr */      \
	};                                                                                 \
	static inline __attribute__((unused)) void name##_init(struct name *m, uint64_t cap) \
	{                                                                                  \
		m->v = xcalloc(cap, sizeof(*m->v));                                        \
		m->mask = cap - 1;                                                         \
		m->shift = (unsigned)__builtin_clzll(cap | 1) + 1;                         \
		m->n = 0;                                                                  \
	}                                                                                  \
	static inline type *name##_slot(const struct name *m, uint64_t k)                  \
	{                                                                                  \
		uint64_t i = home(k, m->mask, m->shift);                                       \
                                                                                           \
		while (m->v[i].key && m->v[i].key != k)                                    \
			i = (i + 1) & m->mask;                                             \
		return &m->v[i];                                                           \
	}                                                                                  \
	static inline __attribute__((unused)) type *name##_get(const struct name *m,       \
							       uint64_t k)                 \
	{                                                                                  \
		type *e;                                                                   \
                                                                                           \
		if (!m->v)                                                                 \
			return NULL;                                                       \
		e = name##_slot(m, k);                                                     \
		return e->key ? e : NULL;                                                  \
	}                                                                                  \
	static inline __attribute__((unused)) type *name##_next(const struct name *m,      \
								const type *e)             \
	{                                                                                  \
		uint64_t i = (uint64_t)(e - m->v), k = e->key;                             \
                                                                                           \
		for (i = (i + 1) & m->mask; m->v[i].key; i = (i + 1) & m->mask)            \
			if (m->v[i].key == k)                                              \
				return &m->v[i];                                           \
		return NULL;                                                               \
	}                                                                                  \
	static __attribute__((noinline, unused)) void name##_grow(struct name *m)          \
	{                                                                                  \
		type *old = m->v;                                                          \
		uint64_t i, j, oldcap = old ? m->mask + 1 : 0;                             \
		uint64_t cap = oldcap ? oldcap * 2 : HMAP_MIN_CAP;                         \
                                                                                           \
		m->v = xcalloc(cap, sizeof(*m->v));                                        \
		m->mask = cap - 1;                                                         \
		m->shift = (unsigned)__builtin_clzll(cap) + 1;                             \
		for (i = 0; i < oldcap; i++) {                                             \
			if (!old[i].key)                                                   \
				continue;                                                  \
			for (j = home(old[i].key, m->mask, m->shift); m->v[j].key;             \
			     j = (j + 1) & m->mask)                                        \
				;                                                          \
			m->v[j] = old[i];                                                  \
		}                                                                          \
		free(old);                                                                 \
	}                                                                                  \
	static inline __attribute__((unused)) void name##_room(struct name *m,             \
							       uint64_t extra)             \
	{                                                                                  \
		while (!m->v || (m->n + extra) * 4 > (m->mask + 1) * 3)                    \
			name##_grow(m);                                                    \
	}                                                                                  \
	static inline __attribute__((unused)) type *name##_add(struct name *m, uint64_t k) \
	{                                                                                  \
		uint64_t i;                                                                \
                                                                                           \
		name##_room(m, 1);                                                         \
		for (i = home(k, m->mask, m->shift); m->v[i].key; i = (i + 1) & m->mask)       \
			;                                                                  \
		memset(&m->v[i], 0, sizeof(m->v[i]));                                      \
		m->v[i].key = k;                                                           \
		m->n++;                                                                    \
		return &m->v[i];                                                           \
	}                                                                                  \
	static inline __attribute__((unused)) type *name##_put(struct name *m, uint64_t k, \
							       bool *created)              \
	{                                                                                  \
		type *e;                                                                   \
                                                                                           \
		name##_room(m, 1);                                                         \
		e = name##_slot(m, k);                                                     \
		*created = !e->key;                                                        \
		if (!e->key) {                                                             \
			memset(e, 0, sizeof(*e));                                          \
			e->key = k;                                                        \
			m->n++;                                                            \
		}                                                                          \
		return e;                                                                  \
	}                                                                                  \
	static inline __attribute__((unused)) void name##_del(struct name *m, type *e)     \
	{                                                                                  \
		uint64_t i = (uint64_t)(e - m->v), j = i, h;                               \
                                                                                           \
		/* backward shift: move later records of the probe run into the hole */    \
		for (;;) {                                                                 \
			j = (j + 1) & m->mask;                                             \
			if (!m->v[j].key)                                                  \
				break;                                                     \
			h = home(m->v[j].key, m->mask, m->shift);                              \
			/* leave v[j] where it is if its home h lies cyclically in (i, j] */ \
			if (((j - h) & m->mask) < ((j - i) & m->mask))                     \
				continue;                                                  \
			m->v[i] = m->v[j];                                                 \
			i = j;                                                             \
		}                                                                          \
		m->v[i].key = 0;                                                           \
		m->n--;                                                                    \
	}                                                                                  \
	static inline __attribute__((unused)) type *name##_each(const struct name *m,      \
								type *e)                   \
	{                                                                                  \
		type *end = m->v ? m->v + m->mask + 1 : NULL;                              \
                                                                                           \
		for (e = e ? e + 1 : m->v; e && e < end; e++)                              \
			if (e->key)                                                        \
				return e;                                                  \
		return NULL;                                                               \
	}                                                                                  \
	static inline __attribute__((unused)) void name##_free(struct name *m)             \
	{                                                                                  \
		free(m->v);                                                                \
		memset(m, 0, sizeof(*m));                                                  \
	}

/*
 * HMAP_DEFINE_STR(name, type, key, str) - HMAP_DEFINE for records named by a string (their
 * `const char *` member `str`, keyed by hmap_key_str of it), plus:
 *   name_find(m, s)          - the record named @s, or NULL
 *   name_intern(m, s, &new)  - the record named @s, added zeroed with str = @s (and *new
 *                              set) when absent: the caller makes str durable if @s is not
 */
#define HMAP_DEFINE_STR(name, type, key, str)                                              \
	HMAP_DEFINE(name, type, key)                                                       \
	static inline __attribute__((unused)) type *name##_find(const struct name *m,      \
								const char *s)             \
	{                                                                                  \
		type *e;                                                                   \
                                                                                           \
		for (e = name##_get(m, hmap_key_str(s)); e; e = name##_next(m, e))         \
			if (!strcmp(e->str, s))                                            \
				return e;                                                  \
		return NULL;                                                               \
	}                                                                                  \
	static inline __attribute__((unused)) type *name##_intern(struct name *m,          \
								  const char *s, bool *created) \
	{                                                                                  \
		uint64_t k = hmap_key_str(s);                                              \
		type *e;                                                                   \
                                                                                           \
		for (e = name##_get(m, k); e; e = name##_next(m, e))                       \
			if (!strcmp(e->str, s)) {                                          \
				*created = false;                                          \
				return e;                                                  \
			}                                                                  \
		e = name##_add(m, k);                                                      \
		e->str = s;                                                                \
		*created = true;                                                           \
		return e;                                                                  \
	}

/*
 * ixmap - a key -> an index into the caller's array. With keys that are hashes of what the
 * elements hold, several elements may share a key: look them up with ixmap_get and
 * ixmap_next, comparing the elements, and add with ixmap_add.
 */
struct ixmap_ent {
	uint64_t key;
	uint32_t ix;
};
HMAP_DEFINE(ixmap, struct ixmap_ent, key)

/*
 * strmap - a string -> a u64 value (an index, a count). strmap_intern keeps the caller's
 * pointer as the name: the caller owns it (and frees it after the map, with strmap_each).
 */
struct strmap_ent {
	uint64_t key;
	const char *str;
	uint64_t v;
};
HMAP_DEFINE_STR(strmap, struct strmap_ent, key, str)

#endif /* PERFSHIM_ANALYZER_HMAP_H */
