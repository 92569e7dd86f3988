// SPDX-License-Identifier: MIT
/*
 * common/stats.c against known values: distribution functions (tables), Welch's t on R's
 * `sleep` data, Mann-Whitney against R's documented example and against a brute-force
 * enumeration, Holm's textbook example, and on synthetic samples from a fixed seed: the
 * coverage of the ratio's interval and the family-wise error of whole comparisons.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/stats.h"
#include "tests/unit/testutil.h"

#define near(a, b, eps) ck_assert_msg(fabs((a) - (b)) <= (eps), "%s = %.10g, expected %.10g", #a, \
				     (double)(a), (double)(b))

/* splitmix64: a small generator with a fixed seed, so every run draws the same samples */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_uniform(void)		/* (0, 1) */
{
	return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)		/* Box-Muller */
{
	return sqrt(-2 * log(rng_uniform())) * cos(2 * M_PI * rng_uniform());
}

START_TEST(test_summary)
{
	double x[] = { 4, 1, 3, 2, 10, 5, 6, 7, 8, 9 };
	struct stats_summary s;

	stats_summarize(x, 10, &s);
	near(s.mean, 5.5, 1e-12);
	near(s.stddev, sqrt(55.0 / 6), 1e-12);	/* var of 1..10 = 9.1667 */
	near(s.median, 5.5, 1e-12);
	near(s.p99, 9.91, 1e-12);		/* 9 + 0.91 * (10 - 9): R's quantile(1:10, .99) */
	near(s.min, 1, 0);
	near(s.max, 10, 0);
	stats_summarize(x, 1, &s);
	near(s.stddev, 0, 0);
	near(s.p99, 4, 0);
}
END_TEST

START_TEST(test_distributions)
{
	near(stats_norm_cdf(1.959963985), 0.975, 1e-9);
	near(stats_norm_quantile(0.975), 1.959963985, 1e-8);
	near(stats_norm_quantile(1e-10), -6.361340902, 1e-7);
	near(stats_betai(2, 3, 0.5), 11.0 / 16, 1e-12);
	near(stats_betai(0.5, 0.5, 0.25), 1.0 / 3, 1e-10);	/* arcsine law: 2/pi asin(sqrt x) */
	/* Student's t quantiles from the tables */
	near(stats_t_quantile(0.975, 1), 12.70620474, 1e-6);
	near(stats_t_quantile(0.975, 10), 2.228138852, 1e-8);
	near(stats_t_quantile(0.995, 30), 2.749995654, 1e-8);
	near(stats_t_quantile(0.025, 10), -2.228138852, 1e-8);
	near(stats_t_cdf(2.228138852, 10), 0.975, 1e-9);
	near(stats_t_cdf(0, 7), 0.5, 1e-12);
}
END_TEST

/* R: t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p = 0.07939,
 * 95% CI of mean(g1) - mean(g2): -3.3654832 0.2054832 */
START_TEST(test_welch_sleep)
{
	double g1[] = { 0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0 };
	double g2[] = { 1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4 };
	double d, lo, hi, p, df;

	ck_assert_int_eq(stats_welch(g1, 10, g2, 10, 0.05, &d, &lo, &hi, &p, &df), 0);
	near(d, 1.58, 1e-12);
	near(df, 17.776, 5e-4);
	near(p, 0.07939, 5e-6);
	near(lo, -0.2054832, 1e-6);
	near(hi, 3.3654832, 1e-6);
	/* one value a side, or no variance: no test */
	ck_assert_int_eq(stats_welch(g1, 1, g2, 10, 0.05, &d, &lo, &hi, &p, &df), -EINVAL);
}
END_TEST

/* R's ?wilcox.test: x (depression scale, first visit) against y: W = 35, one-sided p = 0.1272 */
START_TEST(test_mann_whitney_r)
{
	double x[] = { 0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46 };
	double y[] = { 1.15, 0.88, 0.90, 0.74, 1.21 };
	double u, p;
	bool exact;

	/* U of x against y: the pairs with x above y, R's W */
	ck_assert_int_eq(stats_mann_whitney(y, 5, x, 10, &u, &p, &exact), 0);
	ck_assert(exact);
	near(u, 35, 0);
	near(p, 2 * 0.1272, 1e-4);
	/* the smallest p of 10 against 10: 2 / C(20, 10) */
	near(stats_mw_min_p(10, 10), 2.0 / 184756, 1e-15);
	ck_assert_int_eq(stats_runs_needed(8, 0.05), 6);	/* 2/C(12,6) = 2.2e-3 <= .05/8 < 2/C(10,5) */
}
END_TEST

/* every split of 0..N-1 into n x's and m y's, counted by U: the exact distribution */
static void enumerate(uint32_t n, uint32_t m, double *count)
{
	uint32_t N = n + m, mask, i;

	for (mask = 0; mask < (1U << N); mask++) {
		uint32_t u = 0, xs = 0;

		if ((uint32_t)__builtin_popcount(mask) != n)
			continue;
		for (i = 0; i < N; i++) {	/* in increasing value: a y above every x so far */
			if (mask & (1U << i))
				xs++;
			else
				u += xs;
		}
		count[u]++;
	}
}

START_TEST(test_mann_whitney_exact)
{
	const uint32_t n = 5, m = 6;
	double count[31] = { 0 }, total = 0, cum[31];
	uint32_t k, i;

	enumerate(n, m, count);
	for (k = 0; k <= n * m; k++) {
		total += count[k];
		cum[k] = total;
	}
	ck_assert(total == 462);		/* C(11, 5) */
	for (k = 0; k <= n * m; k++) {
		double x[5], y[6], u, p, want;
		uint32_t left = k;
		bool exact;

		/* x at 0, 10, .. 40, the y's placed (all distinct) so that k pairs have y > x */
		for (i = 0; i < n; i++)
			x[i] = 10.0 * i;
		for (i = 0; i < m; i++) {
			uint32_t above = left > n ? n : left;	/* how many x's this y exceeds */

			y[i] = (above ? 10.0 * (above - 1) + 5 : -5) + 0.1 * i;
			left -= above;
		}
		ck_assert_int_eq(stats_mann_whitney(x, n, y, m, &u, &p, &exact), 0);
		ck_assert(exact);
		near(u, k, 0);
		want = 2 * fmin(cum[k], cum[n * m - k]) / total;
		near(p, fmin(1, want), 1e-12);
	}
}
END_TEST

START_TEST(test_mann_whitney_ties)
{
	/* ties: the normal approximation with the tie correction (R: exact = FALSE, correct = TRUE)
	 * wilcox.test(c(1,2,2,3,4), c(2,3,4,4,5,6)): W = 5.5 and R's formula
	 * z = (W - nm/2 + 0.5) / sqrt(nm/12 ((N+1) - sum(t^3-t)/(N(N-1)))): p = 0.0933772436 */
	double x[] = { 1, 2, 2, 3, 4 }, y[] = { 2, 3, 4, 4, 5, 6 }, u, p;
	bool exact;

	ck_assert_int_eq(stats_mann_whitney(y, 6, x, 5, &u, &p, &exact), 0);
	ck_assert(!exact);
	near(u, 5.5, 0);
	near(p, 0.0933772436, 1e-9);
}
END_TEST

START_TEST(test_hodges_lehmann)
{
	/* y = x + 3 exactly: the shift is 3 and the interval tight around it */
	double x[10], y[10], est, lo, hi;
	uint32_t i;

	for (i = 0; i < 10; i++) {
		x[i] = i * 1.01;
		y[i] = i * 1.01 + 3.001;
	}
	ck_assert_int_eq(stats_hodges_lehmann(x, 10, y, 10, 0.05, &est, &lo, &hi), 0);
	near(est, 3.001, 1e-9);
	ck_assert(lo < 3.001 && hi > 3.001);
	/* n = m = 10 at 0.05: c = 23, the interval is [d(24), d(77)] of the 100 differences
	 * j*1.01 - i*1.01 + 3.001; the 24th smallest of (j - i) over 10 x 10 is -3, the 77th +3 */
	near(lo, -3 * 1.01 + 3.001, 1e-9);
	near(hi, 3 * 1.01 + 3.001, 1e-9);
	/* two runs a side cannot make a 95% interval: unbounded */
	ck_assert_int_eq(stats_hodges_lehmann(x, 2, y, 2, 0.05, &est, &lo, &hi), 0);
	ck_assert(isinf(lo) && isinf(hi));
}
END_TEST

/* Holm's textbook case: p = .01 .04 .03 .005 -> adjusted .03 .06 .06 .02 */
START_TEST(test_holm)
{
	struct stats_change c[5], *rows[5];
	double p[] = { 0.01, 0.04, 0.03, 0.005 };
	uint32_t i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 4; i++) {
		c[i].p_value = p[i];
		rows[i] = &c[i];
	}
	c[4].exact = true;			/* an exact row stays out of the family */
	c[4].p_value = c[4].p_adjusted = 0;
	c[4].significant = true;
	rows[4] = &c[4];
	stats_holm(rows, 5, 0.05);
	near(c[0].p_adjusted, 0.03, 1e-12);
	near(c[1].p_adjusted, 0.06, 1e-12);
	near(c[2].p_adjusted, 0.06, 1e-12);
	near(c[3].p_adjusted, 0.02, 1e-12);
	ck_assert(c[0].significant && c[3].significant);
	ck_assert(!c[1].significant && !c[2].significant);
	ck_assert(c[4].significant);
}
END_TEST

/* Zero variance: exact, outside the family; 8 KiB more is +8192 bytes, "exact". */
START_TEST(test_compare_exact)
{
	double b[10], n[10];
	struct stats_change c;
	char v[128];
	uint32_t i;

	for (i = 0; i < 10; i++) {
		b[i] = 8192;
		n[i] = 16384;
	}
	ck_assert_int_eq(stats_compare(b, 10, n, 10, STATS_RANK, 0.05, &c), 0);
	ck_assert(c.exact && c.significant);
	near(c.difference, 8192, 0);
	near(c.ratio, 2, 0);
	near(c.p_value, 0, 0);
	ck_assert_str_eq(stats_verdict(&c, STATS_BYTES, "allocates", v, sizeof(v)),
			 "allocates +8.0 KiB (exact)");
	ck_assert_int_eq(stats_compare(b, 10, b, 10, STATS_RANK, 0.05, &c), 0);
	ck_assert(c.exact && !c.significant);
	near(c.p_value, 1, 0);
	ck_assert_str_eq(stats_verdict(&c, STATS_BYTES, "allocates", v, sizeof(v)),
			 "no significant difference");
}
END_TEST

/* a sample of @n: exp(mu + sigma N(0,1)), with probability @po an outlier up to 3x slower
 * (@po < 0: up to 1.5x, as a preemption of a run of some length makes it) */
static void lognormal(double *x, uint32_t n, double mu, double sigma, double po)
{
	double big = po < 0 ? 0.5 : 2;

	uint32_t i;

	for (i = 0; i < n; i++) {
		x[i] = exp(mu + sigma * rng_normal()) * 1e6;
		if (po && rng_uniform() < fabs(po))
			x[i] *= 1 + big * rng_uniform();	/* a preemption */
	}
}

/* The ratio's interval covers the true ratio (2) in about 1 - alpha of the samples. */
static void coverage(enum stats_test test, double po, double lo_ok, double hi_ok)
{
	const uint32_t reps = 2000;
	double b[10], n[10];
	uint32_t r, covered = 0;

	rng_state = 12345;
	for (r = 0; r < reps; r++) {
		struct stats_change c;

		lognormal(b, 10, 0, 0.1, po);
		lognormal(n, 10, log(2), 0.1, po);
		ck_assert_int_eq(stats_compare(b, 10, n, 10, test, 0.05, &c), 0);
		covered += c.ci_low <= 2 && 2 <= c.ci_high;
	}
	ck_assert_msg(covered >= lo_ok * reps && covered <= hi_ok * reps,
		      "covered %u of %u", covered, reps);
}

START_TEST(test_coverage)
{
	coverage(STATS_RANK, 0, 0.94, 0.975);
	coverage(STATS_WELCH, 0, 0.94, 0.96);
	/* outliers that hit both sides alike leave the ratio of the rank test covered */
	coverage(STATS_RANK, 0.1, 0.93, 0.99);
}
END_TEST

/*
 * Whole comparisons of identical variants: 30 rows (functions, sites, times) with
 * different spreads, tested at 0.05 with Holm. At most 5% of comparisons may call anything
 * significant. One row with a real 2x change must still be found nearly always.
 */
static void family(enum stats_test test, double po, double shift, double *fwer, double *power)
{
	const uint32_t reps = 1000, rows = 30;
	struct stats_change c[30], *rp[30];
	double b[10], n[10];
	uint32_t r, i, any = 0, found = 0;

	rng_state = 987654321;
	for (r = 0; r < reps; r++) {
		bool hit = false;

		for (i = 0; i < rows; i++) {
			double sigma = 0.02 + 0.3 * i / rows;

			lognormal(b, 10, i, sigma, po);
			lognormal(n, 10, i + (i == 0 ? shift : 0), sigma, po);
			ck_assert_int_eq(stats_compare(b, 10, n, 10, test, 0.05, &c[i]), 0);
			rp[i] = &c[i];
		}
		stats_holm(rp, rows, 0.05);
		for (i = shift ? 1 : 0; i < rows; i++)
			hit |= c[i].significant;
		any += hit;
		found += c[0].significant;
	}
	*fwer = (double)any / reps;
	*power = (double)found / reps;
}

START_TEST(test_family_identical)
{
	double fwer, power;

	family(STATS_RANK, 0, 0, &fwer, &power);
	ck_assert_msg(fwer <= 0.05, "rank: %.3f of identical comparisons had a change", fwer);
	family(STATS_RANK, 0.15, 0, &fwer, &power);
	ck_assert_msg(fwer <= 0.05, "rank, outliers: %.3f", fwer);
	family(STATS_WELCH, 0, 0, &fwer, &power);
	ck_assert_msg(fwer <= 0.05, "welch: %.3f", fwer);
	family(STATS_RANK, -0.15, log(2), &fwer, &power);
	ck_assert_msg(fwer <= 0.05, "rank, one real change: %.3f false", fwer);
	ck_assert_msg(power >= 0.99, "rank: the 2x change found in %.3f", power);
	/* outliers up to 3x in 15% of the runs on both sides: found less often, never invented */
	family(STATS_RANK, 0.15, log(2), &fwer, &power);
	ck_assert_msg(fwer <= 0.05, "rank, heavy outliers, one real change: %.3f false", fwer);
	ck_assert_msg(power >= 0.75, "rank, heavy outliers: the 2x change found in %.3f", power);
}
END_TEST

START_TEST(test_verdicts)
{
	struct stats_change c = { .base = 1e6, .new = 2.03e6, .ratio = 2.03, .ci_low = 1.95,
				  .ci_high = 2.11, .p_value = 1e-9, .significant = true };
	char v[128];

	ck_assert_str_eq(stats_verdict(&c, STATS_NS, NULL, v, sizeof(v)), "2.03x slower ± 4%");
	c.ratio = 0.5;
	c.ci_low = 0.49;
	c.ci_high = 0.51;
	ck_assert_str_eq(stats_verdict(&c, STATS_NS, NULL, v, sizeof(v)), "2.00x faster ± 2%");
	c.ratio = NAN;
	c.base = 0;
	c.new = 1.2e6;
	ck_assert_str_eq(stats_verdict(&c, STATS_NS, NULL, v, sizeof(v)), "new (1.20 ms)");
	c.significant = false;
	ck_assert_str_eq(stats_verdict(&c, STATS_NS, NULL, v, sizeof(v)),
			 "no significant difference");
	ck_assert_str_eq(stats_fmt_value(v, sizeof(v), -8192, STATS_BYTES), "-8.0 KiB");
	ck_assert_str_eq(stats_fmt_value(v, sizeof(v), 812, STATS_NS), "812 ns");
	ck_assert_str_eq(stats_fmt_value(v, sizeof(v), 3, STATS_COUNT), "3");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_distributions);
	tcase_add_test(tc, test_welch_sleep);
	tcase_add_test(tc, test_mann_whitney_r);
	tcase_add_test(tc, test_mann_whitney_exact);
	tcase_add_test(tc, test_mann_whitney_ties);
	tcase_add_test(tc, test_hodges_lehmann);
	tcase_add_test(tc, test_holm);
	tcase_add_test(tc, test_compare_exact);
	tcase_add_test(tc, test_coverage);
	tcase_add_test(tc, test_family_identical);
	tcase_add_test(tc, test_verdicts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
