/* SPDX-License-Identifier: MIT */
/*
 * Logging, allocation that dies on OOM, and the one way arrays grow (util.c). Every file of
 * the analyzer uses these; docs/design.md says where the rest lives.
 */
#ifndef PERFSHIM_ANALYZER_UTIL_H
#define PERFSHIM_ANALYZER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- logging (util.c). Every file defines PR_FMT before including this header. ---- */
#ifndef PR_FMT
#define PR_FMT "analyze"
#endif
extern int debug_level;
extern const char *progname;
void __pr_log(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void __pr_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define pr_dbg(lvl, fmt, ...)                                                              \
	do {                                                                               \
		if (debug_level >= (lvl))                                                  \
			__pr_log(PR_FMT ": ", fmt, ##__VA_ARGS__);                         \
	} while (0)
#define pr_warn(fmt, ...) __pr_log("warning: ", fmt, ##__VA_ARGS__)
/* pr_error: one line "perfshim-analyze: error: ..."; the caller returns an error */
#define pr_error(fmt, ...) __pr_log("error: ", fmt, ##__VA_ARGS__)
/* pr_fatal: the same line, then exit(1) (bad input, out of memory) */
#define pr_fatal(fmt, ...) __pr_fatal(fmt, ##__VA_ARGS__)

/* the last "error: " line's message (main.c: a failed trace's "error" key in JSON) */
const char *pr_last_error(void);
void pr_last_error_clear(void);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* u64_upper - the first index of the ascending @v (@n values) whose value is above @x; @n
 * when none is */
static inline uint32_t u64_upper(const uint64_t *v, uint32_t n, uint64_t x)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- growable arrays ---- */

/*
 * array_resize - @p (NULL or from xmalloc) resized to @n elements of @size bytes; dies when
 * n * size overflows or memory runs out.
 */
void *array_resize(void *p, size_t n, size_t size);
/* array_next_cap - a capacity for @need elements grown from @cap: at least double (from 16),
 * at most @max (the capacity variable's type); dies when @need is over @max */
size_t array_next_cap(size_t cap, size_t need, size_t max);

/* ARRAY_RESIZE(p, n) - p resized to n elements of its type */
#define ARRAY_RESIZE(p, n) ((p) = array_resize((p), (n), sizeof(*(p))))
/* ARRAY_NEXT_CAP(cap, need) - array_next_cap bounded by the (unsigned) type of @cap */
#define ARRAY_NEXT_CAP(cap, need)                                                          \
	((__typeof__(cap))array_next_cap((cap), (need), (size_t)(__typeof__(cap))-1))

/*
 * ARRAY_GROW(p, cap, need) - make room for @need elements in the array @p of capacity @cap
 * (an unsigned lvalue of any width, updated): amortized O(1) appends. ARRAY_GROW_ZERO zeroes
 * the elements it adds. Arrays sharing one capacity grow with ARRAY_NEXT_CAP and
 * ARRAY_RESIZE (and ARRAY_CLEAR) each. @need is compared in its own type (hot loops keep
 * 32-bit arithmetic): cast it to size_t where it could wrap.
 */
#define ARRAY_GROW(p, cap, need)                                                           \
	do {                                                                               \
		if (__builtin_expect((need) > (cap), 0)) {                 \
			(cap) = ARRAY_NEXT_CAP(cap, need);                                 \
			ARRAY_RESIZE(p, cap);                                              \
		}                                                                          \
	} while (0)
/*
 * ARRAY_ROOM(p, cap, i) - ARRAY_GROW for storing p[@i] (an append at @i = the count): the same
 * growth, tested as i >= cap, which costs no addition in the loops that append per event.
 */
#define ARRAY_ROOM(p, cap, i)                                                              \
	do {                                                                               \
		if (__builtin_expect((i) >= (cap), 0)) {                                   \
			(cap) = ARRAY_NEXT_CAP(cap, (size_t)(i) + 1);                      \
			ARRAY_RESIZE(p, cap);                                              \
		}                                                                          \
	} while (0)
/* ARRAY_CLEAR(p, from, to) - zero elements [from, to) of p (what ARRAY_RESIZE added) */
#define ARRAY_CLEAR(p, from, to)                                                           \
	memset((p) + (from), 0, ((size_t)(to) - (size_t)(from)) * sizeof(*(p)))
#define ARRAY_GROW_ZERO(p, cap, need)                                                      \
	do {                                                                               \
		if (__builtin_expect((need) > (cap), 0)) {                 \
			size_t old_ = (cap);                                               \
			(cap) = ARRAY_NEXT_CAP(cap, need);                                 \
			ARRAY_RESIZE(p, cap);                                              \
			ARRAY_CLEAR(p, old_, cap);                                         \
		}                                                                          \
	} while (0)

#endif /* PERFSHIM_ANALYZER_UTIL_H */
