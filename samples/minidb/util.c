/* SPDX-License-Identifier: MIT */
/*
 * minidb memory wrappers, strings (temporary and interned), and a growable text buffer.
 * The intern pool is the long-lived part of the heap: every text value a row holds is one
 * pool entry, shared by all rows that hold the same text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

/* ---------------------------------------------------------------- memory */

/* Calls of xmalloc/xcalloc/xrealloc, printed at exit when MINIDB_STATS is set: a memory
 * profiler must see exactly as many allocations at these three sites. */
static unsigned long nallocs;

static void oom(void)
{
	fputs("minidb: out of memory\n", stderr);
	exit(3);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	nallocs++;
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	nallocs++;
	return p;
}

void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (!p)
		oom();
	nallocs++;
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

unsigned long mem_allocations(void)
{
	return nallocs;
}

/* ---------------------------------------------------------------- strings */

uint32_t str_hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static struct str *str_make(const char *s, size_t len, uint32_t hash)
{
	struct str *st = xmalloc(sizeof(*st) + len + 1);

	st->len = (uint32_t)len;
	st->hash = hash;
	st->interned = 0;
	memcpy(st->s, s, len);
	st->s[len] = '\0';
	return st;
}

struct str *str_temp(const char *s, size_t len)
{
	return str_make(s, len, str_hash_bytes(s, len));
}

/* The pool: open addressing, linear probing, kept at most half full. */
static struct str **pool;
static size_t pool_cap, pool_n;

static void pool_grow(void)
{
	size_t ncap = pool_cap ? pool_cap * 2 : 1024;
	struct str **np = xcalloc(ncap, sizeof(*np));

	for (size_t i = 0; i < pool_cap; i++) {
		struct str *st = pool[i];
		size_t j;

		if (!st)
			continue;
		for (j = st->hash & (ncap - 1); np[j]; j = (j + 1) & (ncap - 1))
			;
		np[j] = st;
	}
	free(pool);
	pool = np;
	pool_cap = ncap;
}

struct str *str_intern(const char *s, size_t len)
{
	uint32_t h = str_hash_bytes(s, len);
	size_t j;

	if ((pool_n + 1) * 2 > pool_cap)
		pool_grow();
	for (j = h & (pool_cap - 1); pool[j]; j = (j + 1) & (pool_cap - 1)) {
		struct str *st = pool[j];

		if (st->hash == h && st->len == len && memcmp(st->s, s, len) == 0)
			return st;
	}
	pool[j] = str_make(s, len, h);
	pool[j]->interned = 1;
	pool_n++;
	return pool[j];
}

size_t str_pool_count(void)
{
	return pool_n;
}

void str_pool_free(void)
{
	for (size_t i = 0; i < pool_cap; i++)
		free(pool[i]);
	free(pool);
	pool = NULL;
	pool_cap = pool_n = 0;
}

/* ---------------------------------------------------------------- text buffer */

static void sb_reserve(struct sbuf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap *= 2;
	b->p = xrealloc(b->p, b->cap);
}

void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sb_putn(b, small, (size_t)n);
		return;
	}
	sb_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sb_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
