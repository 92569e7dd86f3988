/* SPDX-License-Identifier: MIT */
/*
 * The trace clock: the TSC where it is invariant, CLOCK_MONOTONIC otherwise. The analyzer
 * converts ticks to ns from (ticks, CLOCK_MONOTONIC) pairs in the file and chunk headers;
 * the rough rate measured here only serves PERFSHIM_MIN_DURATION and very short runs.
 */
#include <cpuid.h>
#include <time.h>

#include "preload/common.h"

int ps_use_tsc;
static double ticks_per_ns = 1.0;
static uint64_t calib_ticks, calib_ns;

/* ps_mono_ns - CLOCK_MONOTONIC in ns (through the vDSO: no system call). */
uint64_t ps_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Invariant TSC: CPUID 0x80000007 EDX bit 8 (same rate in every P/C-state, on every core). */
static int tsc_invariant(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
		return 0;
	__get_cpuid(0x80000007, &a, &b, &c, &d);
	return (d >> 8) & 1;
}

/* A (ticks, ns) pair read as close together as possible: the tighter of three tries. */
static void clock_pair(uint64_t *ticks, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t t0 = __builtin_ia32_rdtsc();
		uint64_t n = ps_mono_ns();
		uint64_t t1 = __builtin_ia32_rdtsc();

		if (t1 - t0 < best) {
			best = t1 - t0;
			*ticks = t0 + (t1 - t0) / 2;
			*ns = n;
		}
	}
}

/*
 * ps_clock_init - choose the clock and take the first calibration pair. With
 * PERFSHIM_MIN_DURATION set, the threshold must be in ticks now, so the rate is measured
 * over 200 us at once; otherwise ps_clock_rate() refines it when start-up is done.
 */
void ps_clock_init(void)
{
	ps_use_tsc = tsc_invariant();
	if (!ps_use_tsc)
		return;
	clock_pair(&calib_ticks, &calib_ns);
	if (ps_cfg.min_duration_ns) {
		uint64_t t, n;

		do
			clock_pair(&t, &n);
		while (n - calib_ns < 200000);
		ticks_per_ns = (double)(t - calib_ticks) / (double)(n - calib_ns);
	}
}

/*
 * ps_clock_rate - ticks per second measured since ps_clock_init (0 when the interval was too
 * short to mean anything, or 1e9 without the TSC).
 */
uint64_t ps_clock_rate(void)
{
	uint64_t t, n;

	if (!ps_use_tsc)
		return 1000000000ULL;
	clock_pair(&t, &n);
	if (n - calib_ns < 20000)
		return ps_cfg.min_duration_ns ? (uint64_t)(ticks_per_ns * 1e9) : 0;
	ticks_per_ns = (double)(t - calib_ticks) / (double)(n - calib_ns);
	return (uint64_t)(ticks_per_ns * 1e9);
}

/* ps_ns_to_ticks - @ns in trace ticks, at the rate measured so far. */
uint64_t ps_ns_to_ticks(uint64_t ns)
{
	return ps_use_tsc ? (uint64_t)((double)ns * ticks_per_ns + 0.5) : ns;
}
