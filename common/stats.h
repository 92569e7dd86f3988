/* SPDX-License-Identifier: MIT */
/*
 * Statistics shared by the runner's `perfshim compare` and the analyzer's multi-run `diff`:
 * one implementation of the summaries, the two-sample tests, the ratio confidence intervals,
 * the family-wise (Holm-Bonferroni) decision and the verdict text. docs/compare.md explains
 * the choices; tests/unit/test-stats.c checks them against textbook values.
 */
#ifndef PERFSHIM_STATS_H
#define PERFSHIM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Descriptive figures of one sample (a variant's runs). */
struct stats_summary {
	uint32_t n;
	double mean, stddev;		/* stddev: the sample one (n - 1); 0 when n < 2 */
	double median, p99, min, max;	/* quantiles interpolated linearly (R type 7) */
};

void stats_summarize(const double *x, uint32_t n, struct stats_summary *s);
double stats_quantile_sorted(const double *sorted, uint32_t n, double q);

/* Distribution functions (two-sided tests are built on these). */
double stats_norm_cdf(double x);
double stats_norm_quantile(double p);
double stats_betai(double a, double b, double x);
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);

/* Two-sample tests of y against x; p is two-sided. */
int stats_mann_whitney(const double *x, uint32_t n, const double *y, uint32_t m, double *u,
		       double *p, bool *exact);
int stats_hodges_lehmann(const double *x, uint32_t n, const double *y, uint32_t m,
			 double alpha, double *est, double *lo, double *hi);
int stats_welch(const double *x, uint32_t n, const double *y, uint32_t m, double alpha,
		double *diff, double *lo, double *hi, double *p, double *df);
double stats_mw_min_p(uint32_t n, uint32_t m);

enum stats_test {
	STATS_RANK = 0,			/* Mann-Whitney U; Hodges-Lehmann shift of the logs */
	STATS_WELCH,			/* Welch's t on the logs */
};

/*
 * One metric of one function, site or variant, BASE against NEW. stats_compare fills every
 * field but p_adjusted and significant for tested rows; stats_holm decides those.
 */
struct stats_change {
	double base, new;		/* medians (the value itself when exact) */
	double difference;		/* new - base: Hodges-Lehmann shift of the raw values */
	double ratio;			/* new / base; NAN when a side has a value <= 0 */
	double ci_low, ci_high;		/* of the ratio, level 1 - alpha; NAN when unbounded */
	double p_value;			/* two-sided, before adjustment */
	double p_adjusted;		/* Holm-Bonferroni over the family (exact rows: p_value) */
	bool exact;			/* both sides constant: decided without a test */
	bool significant;
};

int stats_compare(const double *base, uint32_t nb, const double *new, uint32_t nn,
		  enum stats_test test, double alpha, struct stats_change *c);
void stats_holm(struct stats_change **rows, uint32_t n, double alpha);
uint32_t stats_runs_needed(uint32_t ntests, double alpha);

/* What the verdict talks about: times get "2.03x slower", the others "+8.0 KiB". */
enum stats_unit { STATS_NS, STATS_BYTES, STATS_COUNT };

char *stats_verdict(const struct stats_change *c, enum stats_unit unit, const char *what,
		    char *buf, size_t len);
char *stats_fmt_value(char *buf, size_t len, double v, enum stats_unit unit);

#endif /* PERFSHIM_STATS_H */
