/* SPDX-License-Identifier: MIT */
/*
 * Log-linear histograms of durations (hot functions' percentiles, chrome's call-size
 * guard).
 */
#ifndef PERFSHIM_ANALYZER_HIST_H
#define PERFSHIM_ANALYZER_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Log-linear histogram of durations (hot_func.hist; chrome's call-size guard): values below
 * 2^@shift have a bucket each, then 2^@shift buckets per power of two (width / low value
 * <= 2^-@shift). HIST_NBUCKETS(@shift) buckets hold any uint64_t.
 */
#define HIST_NBUCKETS(shift) ((65U - (shift)) << (shift))
static inline unsigned hist_bucket(uint64_t v, unsigned shift)
{
	unsigned e;

	if (v < (1ULL << shift))
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);			/* >= shift */
	return ((e - shift + 1) << shift) + (unsigned)((v >> (e - shift)) & ((1U << shift) - 1));
}
/* hist_low - lowest value of bucket @b, and its *@width */
static inline uint64_t hist_low(unsigned b, unsigned shift, uint64_t *width)
{
	unsigned e;

	if (b < (1U << shift)) {
		*width = 1;
		return b;
	}
	e = (b >> shift) - 1 + shift;
	*width = 1ULL << (e - shift);
	return (1ULL << e) + (uint64_t)(b & ((1U << shift) - 1)) * *width;
}

#endif /* PERFSHIM_ANALYZER_HIST_H */
