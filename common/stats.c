// SPDX-License-Identifier: MIT
/*
 * Statistics for comparing runs (docs/compare.md): summaries of a sample, Mann-Whitney U
 * with its exact null distribution, the Hodges-Lehmann shift and its distribution-free
 * confidence interval, Welch's t, Holm-Bonferroni across a family of tests, and the verdict
 * text. Built into both the runner and the analyzer; no allocation survives a call.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stats.h"

/* Exact Mann-Whitney distributions up to this many values per side; the normal beyond. */
#define MW_EXACT_MAX 50

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, uint32_t n)
{
	double *s = malloc((n ? n : 1) * sizeof(*s));

	if (!s)
		return NULL;
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return s;
}

/*
 * stats_quantile_sorted - the @q quantile (0..1) of @n sorted values, interpolated linearly
 * between order statistics (R's type 7, numpy's default): p99 of 10 runs lies between the
 * 9th and the 10th. Return: the quantile, NAN when @n is 0.
 */
double stats_quantile_sorted(const double *s, uint32_t n, double q)
{
	double h;
	uint32_t i;

	if (!n)
		return NAN;
	h = (double)(n - 1) * q;
	i = (uint32_t)floor(h);
	if (i + 1 >= n)
		return s[n - 1];
	return s[i] + (h - (double)i) * (s[i + 1] - s[i]);
}

/*
 * stats_summarize - mean, sample standard deviation, median, p99, min and max of @x[@n]
 * into @s. The mean and deviation use Welford's update (no cancellation on large values).
 * Every figure is NAN when @n is 0, and when a copy for sorting cannot be had.
 */
void stats_summarize(const double *x, uint32_t n, struct stats_summary *s)
{
	double mean = 0, m2 = 0, *sorted;
	uint32_t i;

	s->n = n;
	s->mean = s->stddev = s->median = s->p99 = s->min = s->max = NAN;
	if (!n)
		return;
	for (i = 0; i < n; i++) {
		double d = x[i] - mean;

		mean += d / (double)(i + 1);
		m2 += d * (x[i] - mean);
	}
	s->mean = mean;
	s->stddev = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
	sorted = sorted_copy(x, n);
	if (!sorted)
		return;
	s->median = stats_quantile_sorted(sorted, n, 0.5);
	s->p99 = stats_quantile_sorted(sorted, n, 0.99);
	s->min = sorted[0];
	s->max = sorted[n - 1];
	free(sorted);
}

/* stats_norm_cdf - the standard normal distribution function at @x. */
double stats_norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/*
 * stats_norm_quantile - the x with stats_norm_cdf(x) = @p, by bisection on the lower tail
 * (where erfc keeps full relative precision) and symmetry. Return: x, -INF/INF at 0 and 1.
 */
double stats_norm_quantile(double p)
{
	double lo = -40, hi = 0;
	int i;

	if (!(p > 0))
		return -INFINITY;
	if (!(p < 1))
		return INFINITY;
	if (p > 0.5)
		return -stats_norm_quantile(1 - p);
	for (i = 0; i < 200 && hi - lo > 1e-15; i++) {
		double mid = (lo + hi) / 2;

		if (stats_norm_cdf(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* The continued fraction of the incomplete beta function, by the modified Lentz method. */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;
	int k;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (k = 1; k <= 1000; k++) {
		double aa, del;

		aa = k * (b - k) * x / ((a - 1 + 2 * k) * (a + 2 * k));
		d = 1 + aa * d;
		d = fabs(d) < tiny ? 1 / tiny : 1 / d;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		h *= d * c;
		aa = -(a + k) * (a + b + k) * x / ((a + 2 * k) * (a + 1 + 2 * k));
		d = 1 + aa * d;
		d = fabs(d) < tiny ? 1 / tiny : 1 / d;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return h;
}

/*
 * stats_betai - the regularized incomplete beta function I_x(@a, @b), for a, b > 0.
 * The continued fraction converges fast on the side of the mean a / (a + b); the other side
 * comes from I_x(a, b) = 1 - I_(1-x)(b, a). Return: the value in [0, 1].
 */
double stats_betai(double a, double b, double x)
{
	double front;

	if (!(x > 0))
		return 0;
	if (!(x < 1))
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * betacf(a, b, x) / a;
	return 1 - front * betacf(b, a, 1 - x) / b;
}

/* P(|T| > |t|) for Student's t with @df degrees of freedom, without 1 - cdf cancellation. */
static double t_two_tail(double t, double df)
{
	return stats_betai(df / 2, 0.5, df / (df + t * t));
}

/* stats_t_cdf - Student's t distribution function with @df (> 0) degrees of freedom. */
double stats_t_cdf(double t, double df)
{
	double tail = t_two_tail(t, df) / 2;

	return t > 0 ? 1 - tail : tail;
}

/*
 * stats_t_quantile - the t with stats_t_cdf(t, @df) = @p: an upper bound found by doubling,
 * then bisection on the tail probability. Return: t, -INF/INF at 0 and 1.
 */
double stats_t_quantile(double p, double df)
{
	double q, lo = 0, hi = 1;
	int i;

	if (!(p > 0))
		return -INFINITY;
	if (!(p < 1))
		return INFINITY;
	if (p < 0.5)
		return -stats_t_quantile(1 - p, df);
	q = 2 * (1 - p);			/* the two-sided tail we look for */
	while (t_two_tail(hi, df) > q && hi < 1e300)
		hi *= 2;
	for (i = 0; i < 400 && hi - lo > 1e-14 * hi; i++) {
		double mid = (lo + hi) / 2;

		if (t_two_tail(mid, df) > q)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/*
 * The exact null distribution of U for sizes @n and @m (all values distinct), as cumulative
 * probabilities P(U <= u), u = 0..n*m. Counted by the recurrence on where the largest value
 * sits: f(a, b, u) = f(a - 1, b, u) + f(a, b - 1, u - a) (a y above all a x's adds a pairs).
 * Only sums of positive counts: no cancellation. The last table is kept, since a comparison
 * asks for the same sizes once per row. Return: the table (owned here), NULL without memory.
 */
static const double *mw_cdf(uint32_t n, uint32_t m)
{
	static double *cache;
	static uint32_t cn, cm;
	size_t w = (size_t)n * m + 1, a, b, u;
	double *cur, *prev, *res, total;

	if (cache && cn == n && cm == m)
		return cache;
	cur = calloc((n + 1) * w, sizeof(*cur));
	prev = calloc((n + 1) * w, sizeof(*prev));
	res = malloc(w * sizeof(*res));
	if (!cur || !prev || !res) {
		free(cur);
		free(prev);
		free(res);
		return NULL;
	}
	for (a = 0; a <= n; a++)		/* b = 0: no y, U = 0 whatever a */
		cur[a * w] = 1;
	for (b = 1; b <= m; b++) {
		double *t = prev;

		prev = cur;
		cur = t;
		memset(cur, 0, (n + 1) * w * sizeof(*cur));
		cur[0] = 1;			/* a = 0: no x, U = 0 */
		for (a = 1; a <= n; a++)
			for (u = 0; u <= a * b; u++)
				cur[a * w + u] = cur[(a - 1) * w + u] + (u >= a ? prev[a * w + u - a] : 0);
	}
	total = 0;
	for (u = 0; u < w; u++)
		total += cur[n * w + u];
	for (u = 0; u < w; u++)
		res[u] = (u ? res[u - 1] : 0) + cur[n * w + u] / total;
	free(cur);
	free(prev);
	free(cache);
	cache = res;
	cn = n;
	cm = m;
	return res;
}

/* U (pairs with y > x, half for a tie), whether any two values are equal, and the tie
 * correction sum of t^3 - t over the groups of equal values of the combined sample. */
static int u_and_ties(const double *x, uint32_t n, const double *y, uint32_t m, double *u,
		      bool *ties, double *tiesum)
{
	uint32_t i, j, N = n + m;
	double *all = malloc((N ? N : 1) * sizeof(*all));

	if (!all)
		return -ENOMEM;
	*u = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++)
			*u += y[j] > x[i] ? 1 : y[j] == x[i] ? 0.5 : 0;
	memcpy(all, x, n * sizeof(*all));
	memcpy(all + n, y, m * sizeof(*all));
	qsort(all, N, sizeof(*all), cmp_double);
	*ties = false;
	*tiesum = 0;
	for (i = 0; i < N; i = j) {
		for (j = i + 1; j < N && all[j] == all[i]; j++)
			;
		if (j - i > 1) {
			double t = j - i;

			*ties = true;
			*tiesum += t * t * t - t;
		}
	}
	free(all);
	return 0;
}

/* The standard deviation of U under the null, corrected for ties. */
static double u_sd(uint32_t n, uint32_t m, double tiesum)
{
	double N = (double)n + m, nm = (double)n * m;

	return sqrt(nm / 12 * ((N + 1) - tiesum / (N * (N - 1))));
}

/*
 * stats_mann_whitney - Mann-Whitney U test of @y[@m] against @x[@n]: *@u counts the pairs
 * with y > x (a tie counts half), *@p is two-sided. Exact (*@exact set) when no two values
 * are equal and each side has at most 50; otherwise the normal approximation with the
 * continuity and tie corrections. Return: 0, -EINVAL for an empty side, -ENOMEM.
 */
int stats_mann_whitney(const double *x, uint32_t n, const double *y, uint32_t m, double *u,
		       double *p, bool *exact)
{
	double tiesum, sd, z;
	bool ties;
	int err;

	if (!n || !m)
		return -EINVAL;
	err = u_and_ties(x, n, y, m, u, &ties, &tiesum);
	if (err)
		return err;
	*exact = !ties && n <= MW_EXACT_MAX && m <= MW_EXACT_MAX;
	if (*exact) {
		const double *cdf = mw_cdf(n, m);
		size_t k = (size_t)*u;

		if (!cdf)
			return -ENOMEM;
		/* P(U <= k) and P(U >= k) = P(U <= nm - k) by symmetry */
		*p = 2 * fmin(cdf[k], cdf[(size_t)n * m - k]);
		*p = fmin(*p, 1);
		return 0;
	}
	sd = u_sd(n, m, tiesum);
	if (!(sd > 0)) {			/* every value equal: no evidence at all */
		*p = 1;
		return 0;
	}
	z = (fabs(*u - (double)n * m / 2) - 0.5) / sd;
	*p = z > 0 ? fmin(1, erfc(z / M_SQRT2)) : 1;
	return 0;
}

/*
 * stats_mw_min_p - the smallest two-sided p-value the exact test can give with @n and @m
 * values (every y above every x): 2 / C(n + m, n). Return: it, at most 1.
 */
double stats_mw_min_p(uint32_t n, uint32_t m)
{
	double lc = lgamma((double)n + m + 1) - lgamma((double)n + 1) - lgamma((double)m + 1);

	return fmin(1, 2 * exp(-lc));
}

/*
 * stats_hodges_lehmann - the Hodges-Lehmann estimate of the shift of @y against @x (the
 * median of the n*m differences y - x) and its distribution-free confidence interval of
 * level 1 - @alpha (Moses): the differences of rank c + 1 and n*m - c, where c is the lower
 * alpha/2 critical value of U. The interval excludes 0 exactly when the Mann-Whitney test
 * rejects at @alpha. The bounds are -INF and INF when the samples are too small for the level.
 * Return: 0, -EINVAL for an empty side, -ENOMEM.
 */
int stats_hodges_lehmann(const double *x, uint32_t n, const double *y, uint32_t m,
			 double alpha, double *est, double *lo, double *hi)
{
	size_t nm = (size_t)n * m, i, j, k;
	double u, tiesum, *d;
	long c;
	bool ties;
	int err;

	if (!n || !m)
		return -EINVAL;
	d = malloc(nm * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = k = 0; i < n; i++)
		for (j = 0; j < m; j++)
			d[k++] = y[j] - x[i];
	qsort(d, nm, sizeof(*d), cmp_double);
	*est = nm % 2 ? d[nm / 2] : (d[nm / 2 - 1] + d[nm / 2]) / 2;
	err = u_and_ties(x, n, y, m, &u, &ties, &tiesum);
	if (err)
		goto out;
	if (!ties && n <= MW_EXACT_MAX && m <= MW_EXACT_MAX) {
		const double *cdf = mw_cdf(n, m);

		if (!cdf) {
			err = -ENOMEM;
			goto out;
		}
		/* the largest c with P(U <= c) <= alpha/2 (-1: none) */
		for (c = -1; c + 1 < (long)nm && cdf[c + 1] <= alpha / 2 * (1 + 1e-12); c++)
			;
	} else {
		c = (long)floor((double)nm / 2 - 0.5 -
				stats_norm_quantile(1 - alpha / 2) * u_sd(n, m, tiesum));
	}
	if (c < 0) {
		*lo = -INFINITY;
		*hi = INFINITY;
	} else {
		if (2 * (size_t)c >= nm)	/* a level under 0: the estimate alone */
			c = (long)((nm - 1) / 2);
		*lo = d[c];
		*hi = d[nm - 1 - (size_t)c];
	}
out:
	free(d);
	return err;
}

static void mean_var(const double *x, uint32_t n, double *mean, double *var)
{
	struct stats_summary s;

	stats_summarize(x, n, &s);
	*mean = s.mean;
	*var = s.stddev * s.stddev;
}

/*
 * stats_welch - Welch's t test of mean(@y) against mean(@x), unequal variances, with the
 * Welch-Satterthwaite degrees of freedom: *@diff = mean(y) - mean(x), its confidence
 * interval of level 1 - @alpha in *@lo, *@hi, the two-sided *@p and *@df.
 * Return: 0, -EINVAL with fewer than two values a side or no variance at all.
 */
int stats_welch(const double *x, uint32_t n, const double *y, uint32_t m, double alpha,
		double *diff, double *lo, double *hi, double *p, double *df)
{
	double mx, vx, my, vy, sx, sy, se, t, q;

	if (n < 2 || m < 2)
		return -EINVAL;
	mean_var(x, n, &mx, &vx);
	mean_var(y, m, &my, &vy);
	sx = vx / n;
	sy = vy / m;
	se = sqrt(sx + sy);
	if (!(se > 0))
		return -EINVAL;
	*diff = my - mx;
	*df = (sx + sy) * (sx + sy) / (sx * sx / (n - 1) + sy * sy / (m - 1));
	t = *diff / se;
	*p = t_two_tail(t, *df);
	q = stats_t_quantile(1 - alpha / 2, *df);
	*lo = *diff - q * se;
	*hi = *diff + q * se;
	return 0;
}

static bool constant(const double *x, uint32_t n)
{
	uint32_t i;

	for (i = 1; i < n; i++)
		if (x[i] != x[0])
			return false;
	return true;
}

static bool positive(const double *x, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!(x[i] > 0))
			return false;
	return true;
}

static double *logs(const double *x, uint32_t n)
{
	double *l = malloc((n ? n : 1) * sizeof(*l));
	uint32_t i;

	if (l)
		for (i = 0; i < n; i++)
			l[i] = log(x[i]);
	return l;
}

/* Both sides constant: the difference is a fact of the program, not a measurement. */
static void compare_exact(double b, double v, struct stats_change *c)
{
	c->exact = true;
	c->base = b;
	c->new = v;
	c->difference = v - b;
	c->ratio = b > 0 && v >= 0 ? v / b : NAN;
	c->ci_low = c->ci_high = c->ratio;
	c->p_value = c->p_adjusted = b == v ? 1 : 0;
	c->significant = b != v;
}

/* The ratio and its interval from the logs of two positive samples, by @test. */
static int ratio_ci(const double *base, uint32_t nb, const double *new, uint32_t nn,
		    enum stats_test test, double alpha, struct stats_change *c)
{
	double *lb = logs(base, nb), *ln = logs(new, nn), est, lo, hi, p, df;
	int err = -ENOMEM;

	if (!lb || !ln)
		goto out;
	if (test == STATS_WELCH &&
	    stats_welch(lb, nb, ln, nn, alpha, &est, &lo, &hi, &p, &df) == 0) {
		c->p_value = p;
		err = 0;
	} else {
		/* rank test, or Welch without two values a side: the rank interval */
		err = stats_hodges_lehmann(lb, nb, ln, nn, alpha, &est, &lo, &hi);
	}
	if (!err) {
		c->ratio = exp(est);
		c->ci_low = exp(lo);
		c->ci_high = exp(hi);
		if (isinf(lo) || isinf(hi))
			c->ci_low = c->ci_high = NAN;
	}
out:
	free(lb);
	free(ln);
	return err;
}

/*
 * stats_compare - one metric of @base[@nb] runs against @new[@nn] into @c. Both sides
 * constant: exact (equal: no difference; unequal: a difference with p = 0, outside the
 * family). Otherwise the Mann-Whitney p on the raw values (a rank test does not care about
 * zeros or scale), replaced by Welch's on the logs with STATS_WELCH; the ratio and its
 * interval (level 1 - @alpha) from the logs when every value is positive, else NAN.
 * c->significant is left for stats_holm. Return: 0, -EINVAL (an empty side), -ENOMEM.
 */
int stats_compare(const double *base, uint32_t nb, const double *new, uint32_t nn,
		  enum stats_test test, double alpha, struct stats_change *c)
{
	double *sb, *sn, u, lo, hi;
	bool exact;
	int err;

	memset(c, 0, sizeof(*c));
	if (!nb || !nn)
		return -EINVAL;
	if (constant(base, nb) && constant(new, nn)) {
		compare_exact(base[0], new[0], c);
		return 0;
	}
	sb = sorted_copy(base, nb);
	sn = sorted_copy(new, nn);
	err = -ENOMEM;
	if (!sb || !sn)
		goto out;
	c->base = stats_quantile_sorted(sb, nb, 0.5);
	c->new = stats_quantile_sorted(sn, nn, 0.5);
	c->ratio = c->ci_low = c->ci_high = NAN;
	err = stats_mann_whitney(base, nb, new, nn, &u, &c->p_value, &exact);
	if (!err)
		err = stats_hodges_lehmann(base, nb, new, nn, alpha, &c->difference, &lo, &hi);
	if (!err && positive(base, nb) && positive(new, nn))
		err = ratio_ci(base, nb, new, nn, test, alpha, c);
	c->p_adjusted = c->p_value;
out:
	free(sb);
	free(sn);
	return err;
}

struct holm_item {
	double p;
	uint32_t i;
};

static int cmp_holm(const void *a, const void *b)
{
	const struct holm_item *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * stats_holm - the family-wise decision over @rows[@n]: the tested (not exact) rows, sorted
 * by p, get p_adjusted = max over the first k of (m - k + 1) p_(k) (capped at 1), and are
 * significant when it is at most @alpha. The chance that any true null row is called
 * significant is then at most alpha, whatever the rows' dependence (Holm 1979). Exact rows
 * keep their decision. Without memory every tested row is left not significant, p_adjusted 1.
 */
void stats_holm(struct stats_change **rows, uint32_t n, double alpha)
{
	struct holm_item *it = malloc((n ? n : 1) * sizeof(*it));
	uint32_t i, m = 0;
	double run = 0;

	for (i = 0; i < n; i++)
		if (!rows[i]->exact) {
			rows[i]->significant = false;
			rows[i]->p_adjusted = 1;
			if (it)
				it[m++] = (struct holm_item){ rows[i]->p_value, i };
		}
	if (!it)
		return;
	qsort(it, m, sizeof(*it), cmp_holm);
	for (i = 0; i < m; i++) {
		double adj = fmin(1, (double)(m - i) * it[i].p);

		run = fmax(run, adj);
		rows[it[i].i]->p_adjusted = run;
		rows[it[i].i]->significant = run <= alpha;
	}
	free(it);
}

/*
 * stats_runs_needed - the fewest runs per side (both sides alike) with which the exact rank
 * test can call a change significant among @ntests at @alpha: 2 / C(2n, n) <= alpha / ntests.
 * Return: that n (at least 2), or 0 if over 1000.
 */
uint32_t stats_runs_needed(uint32_t ntests, double alpha)
{
	uint32_t n;

	for (n = 2; n <= 1000; n++)
		if (stats_mw_min_p(n, n) * (ntests ? ntests : 1) <= alpha)
			return n;
	return 0;
}

/*
 * stats_fmt_value - @v in @unit: "812 ns", "1.25 us", "3.40 ms"; "512 B", "8.0 KiB";
 * counts as integers when whole. A negative value gets a '-'. Return: @buf.
 */
char *stats_fmt_value(char *buf, size_t len, double v, enum stats_unit unit)
{
	static const char *const bu[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	const char *sign = v < 0 ? "-" : "";
	double a = fabs(v);
	int u = -1;

	if (isnan(v)) {
		snprintf(buf, len, "n/a");
	} else if (unit == STATS_NS) {
		if (a < 1000)
			snprintf(buf, len, "%s%.0f ns", sign, a);
		else if (a < 1e6)
			snprintf(buf, len, "%s%.2f us", sign, a / 1e3);
		else if (a < 1e9)
			snprintf(buf, len, "%s%.2f ms", sign, a / 1e6);
		else
			snprintf(buf, len, "%s%.2f s", sign, a / 1e9);
	} else if (unit == STATS_BYTES && a >= 1024) {
		while (a >= 1024 && u < 5) {
			a /= 1024;
			u++;
		}
		snprintf(buf, len, "%s%.1f %s", sign, a, bu[u]);
	} else if (a == floor(a) && a < 1e15) {
		snprintf(buf, len, "%s%.0f%s", sign, a, unit == STATS_BYTES ? " B" : "");
	} else {
		snprintf(buf, len, "%s%.1f%s", sign, a, unit == STATS_BYTES ? " B" : "");
	}
	return buf;
}

/* " ± 4%": half the interval's width, relative to @f (the factor shown); "" if unbounded. */
static void fmt_pm(char *buf, size_t len, double f, double lo, double hi)
{
	double pm = 100 * (hi - lo) / (2 * f);

	if (!isfinite(pm))
		buf[0] = '\0';
	else
		snprintf(buf, len, pm < 1 ? " ± %.1f%%" : " ± %.0f%%", pm);
}

/*
 * stats_verdict - the verdict on @c in words, Benchee-style: "no significant difference";
 * times "2.03x slower ± 4%", "1.50x faster ± 2%", "new (1.20 ms)", "gone (was 1.20 ms)";
 * bytes and counts "@what +8.0 KiB (exact)" or "@what +8.0 KiB (2.00x ± 3%)" (no word when
 * @what is NULL or empty). The ± is half
 * the confidence interval, relative to the factor. Return: @buf.
 */
char *stats_verdict(const struct stats_change *c, enum stats_unit unit, const char *what,
		    char *buf, size_t len)
{
	char v[48], pm[32];
	const char *sp;
	double f, lo, hi;

	if (!c->significant) {
		snprintf(buf, len, "no significant difference");
		return buf;
	}
	if (unit == STATS_NS && (isnan(c->ratio) || c->ratio <= 0)) {
		if (c->base > 0)
			snprintf(buf, len, "gone (was %s)", stats_fmt_value(v, sizeof(v), c->base, unit));
		else
			snprintf(buf, len, "new (%s)", stats_fmt_value(v, sizeof(v), c->new, unit));
		return buf;
	}
	if (unit == STATS_NS) {
		bool slower = c->ratio >= 1;

		f = slower ? c->ratio : 1 / c->ratio;
		lo = slower ? c->ci_low : 1 / c->ci_high;
		hi = slower ? c->ci_high : 1 / c->ci_low;
		if (c->exact)
			snprintf(pm, sizeof(pm), " (exact)");
		else
			fmt_pm(pm, sizeof(pm), f, lo, hi);
		snprintf(buf, len, "%.2fx %s%s", f, slower ? "slower" : "faster", pm);
		return buf;
	}
	stats_fmt_value(v + 1, sizeof(v) - 1, fabs(c->difference), unit);
	v[0] = c->difference < 0 ? '-' : '+';
	sp = what && *what ? " " : "";
	what = what ? what : "";
	if (c->exact) {
		snprintf(buf, len, "%s%s%s (exact)", what, sp, v);
	} else if (isnan(c->ratio)) {
		snprintf(buf, len, "%s%s%s", what, sp, v);
	} else {
		fmt_pm(pm, sizeof(pm), c->ratio, c->ci_low, c->ci_high);
		snprintf(buf, len, "%s%s%s (%.2fx%s)", what, sp, v, c->ratio, pm);
	}
	return buf;
}
