/* SPDX-License-Identifier: MIT */
/*
 * Sampled allocations (PERFSHIM_SAMPLE=BYTES): a Poisson process over allocated bytes, as
 * tcmalloc, jemalloc and Go's heap profiler do. docs/sampling.md has the design and the
 * estimator; this file is the slow half of it (the fast half is in sample.h):
 *
 *   - each thread counts down the bytes to its next sample point; an allocation that takes
 *     the count to 0 or below is sampled (recorded with its stack), and the next interval is
 *     drawn from an exponential distribution of mean BYTES. Memorylessness makes each
 *     allocation of size s sampled independently with probability 1 - exp(-s/BYTES);
 *   - the sampled blocks still live are kept in a fixed open-addressed table (static, in
 *     .bss: no malloc, no page touched unless sampling is on), fronted by a filter of 8-bit
 *     counters, so a free of an unsampled block costs one byte load that is almost always 0;
 *   - a sampled free removes its block from the table before the real free, so the address
 *     cannot be handed out again (and sampled again by another thread) while still listed.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "preload/sample.h"

uint64_t ps_sample_mean;		/* 0: every allocation is recorded */
uint32_t ps_sample_seed;

/*
 * The filter: one 8-bit counter per bucket of addresses, the number of live sampled blocks
 * in it. 255 sticks (never decremented again): a saturated bucket only sends frees to the
 * table, it never hides a sampled block. 64 KiB: mostly in L2 for a free-heavy program.
 */
#define FILTER_BITS 16
#define FILTER_SIZE (1U << FILTER_BITS)
uint8_t ps_sample_filter[FILTER_SIZE] __attribute__((aligned(64)));

/*
 * The table: addresses of the live sampled blocks, linear probing within PROBE_MAX slots of
 * the home slot. A slot goes EMPTY -> ptr -> TOMB -> ptr' ..., never back to EMPTY, so a
 * lookup that stops at EMPTY (or after PROBE_MAX slots) cannot miss a present address; and a
 * live address is in the table once only, so an insert may take the first TOMB it meets.
 * 2^18 slots (2 MiB of .bss) hold 262144 live samples: 128 GiB of live heap at 512 KiB.
 *
 * Each address has three windows of PROBE_MAX slots, tried in turn by an insert (the first
 * EMPTY or TOMB slot of the first window that has one) and by a lookup (each searched up to
 * an EMPTY slot):
 *   - the shared window, the table's first PROBE_MAX slots (8 cache lines), the same for
 *     every address: an insert takes its first free slot, so a program that holds a few live
 *     samples at a time (mallocbench one or two, at 512K) keeps them in the first line or
 *     two, which every sample and sampled free touches again instead of a cold line of its
 *     own, and its lookups stop at the first EMPTY slot, a few slots in;
 *   - the hot window, in the next HOT_SIZE slots (32 KiB, 8 pages), at the address's hash: a
 *     program with up to a few thousand live samples keeps them in 8 pages instead of
 *     faulting in one page of the 512 per sample until all are touched (what a fault
 *     costs: docs/sampling.md "Measuring CPU time on a shared machine");
 *   - the home window, in the rest of the table.
 * The three never overlap, so a full window cannot make the next one full too, and each
 * keeps the rule above by itself, so no search can stop before the address.
 */
#define TABLE_BITS 18
#define TABLE_SIZE (1U << TABLE_BITS)
#define PROBE_MAX 64
#define SHARED_SIZE PROBE_MAX
#define HOT_SIZE 4096U
#define HOME_FIRST (SHARED_SIZE + HOT_SIZE)
#define HOME_SIZE (TABLE_SIZE - HOME_FIRST)
#define TOMB ((uintptr_t)1)
static uintptr_t table[TABLE_SIZE] __attribute__((aligned(64)));

static uint32_t thread_count;		/* threads that drew their first interval */

/*
 * The windows past the shared one that an insert ever went on to: bit WIN_HOT, bit WIN_HOME
 * (sticky, never cleared). A lookup searches only those: a free whose filter byte is raised
 * by another block's sample (a false positive) in a program whose live samples fit the
 * shared window then reads that window's first line and nothing else, where it read a slot
 * of the hot window and a slot of the home window, each in a page of its own: on mallocbench
 * 4000000 at 512K those reads faulted the zero page in 165 times (perf record -e page-faults).
 * Set before the insert it allows: whoever frees the block saw its malloc, and so the bit.
 */
static uint32_t windows_used;

static inline uint32_t table_home(uintptr_t p)
{
	return (uint32_t)(((uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ULL) >> 20) & (TABLE_SIZE - 1);
}

static void filter_add(uint32_t i)
{
	uint8_t c = __atomic_load_n(&ps_sample_filter[i], __ATOMIC_RELAXED);

	while (c != 255 && !__atomic_compare_exchange_n(&ps_sample_filter[i], &c, c + 1, 1,
							__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

static void filter_sub(uint32_t i)
{
	uint8_t c = __atomic_load_n(&ps_sample_filter[i], __ATOMIC_RELAXED);

	while (c != 255 && c != 0 &&
	       !__atomic_compare_exchange_n(&ps_sample_filter[i], &c, c - 1, 1,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/*
 * ps_sample_filter_raise - raise @p's filter bucket for good, for a block whose free must not
 * be forwarded (the bootstrap area's, hooks-malloc.c): its free takes the slow path, which
 * knows it. A few buckets, for the few blocks dlsym allocates before the allocator is known.
 */
void ps_sample_filter_raise(uintptr_t p)
{
	filter_add(ps_sample_filter_index(p));
}

enum { WIN_SHARED, WIN_HOT, WIN_HOME };

/* the @k-th slot of @p's window @win (@h its hash) */
static inline uint32_t window_slot(uint32_t h, uint32_t k, int win)
{
	uint32_t j;

	if (win == WIN_SHARED)
		return k;
	if (win == WIN_HOT)
		return SHARED_SIZE + ((h + k) & (HOT_SIZE - 1));
	j = h % HOME_SIZE + k;
	return HOME_FIRST + (j < HOME_SIZE ? j : j - HOME_SIZE);
}

/* claim the first EMPTY or TOMB slot of @p's window @win */
static int window_insert(uintptr_t p, uint32_t h, int win)
{
	uint32_t i, k;

	for (k = 0; k < PROBE_MAX; k++) {
		/* In the hot and home windows, a compare-and-swap from EMPTY first, not a
		 * load: their pages are fresh .bss, and a load of an untouched one maps the zero
		 * page only for the store after it to fault again (a second page fault:
		 * docs/sampling.md). The shared window's page is made ready by ps_sample_init, and its slots
		 * are mostly taken or TOMB: a load first, so that a slot in use costs no locked
		 * instruction. A failed swap leaves the slot's value in cur. */
		uintptr_t cur = 0;

		i = window_slot(h, k, win);
		if (win == WIN_SHARED) {
			cur = __atomic_load_n(&table[i], __ATOMIC_RELAXED);
			if (cur != 0 && cur != TOMB)
				continue;
		}
		if (__atomic_compare_exchange_n(&table[i], &cur, p, 0, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return 1;
		while (cur == TOMB) {
			if (__atomic_compare_exchange_n(&table[i], &cur, p, 0, __ATOMIC_RELEASE,
							__ATOMIC_RELAXED))
				return 1;
		}
	}
	return 0;
}

/* swap @p for a TOMB in its window @win, searched up to an EMPTY slot: 1 if it was there */
static int window_forget(uintptr_t p, uint32_t h, int win)
{
	uint32_t i, k;

	for (k = 0; k < PROBE_MAX; k++) {
		uintptr_t cur;

		i = window_slot(h, k, win);
		cur = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
		if (cur == 0)
			return 0;
		if (cur == p && __atomic_compare_exchange_n(&table[i], &cur, TOMB, 0,
							    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return 1;
	}
	return 0;
}

/* an insert goes on to window @win (WIN_HOT, WIN_HOME): its bit in windows_used, once */
static inline void window_open(int win)
{
	if (!(__atomic_load_n(&windows_used, __ATOMIC_RELAXED) & (1U << win)))
		__atomic_fetch_or(&windows_used, 1U << win, __ATOMIC_RELEASE);
}

/*
 * ps_sample_remember - list @p, a sampled block just allocated. The filter is raised first:
 * a thread that is given @p (through the program's own synchronisation) sees both.
 * Return: 1, or 0 when the PROBE_MAX slots of its three windows are all live (the table is
 * full there: the block is not sampled, the caller counts it lost; one warning line).
 */
int ps_sample_remember(uintptr_t p)
{
	uint32_t h = table_home(p);

	filter_add(ps_sample_filter_index(p));
	if (window_insert(p, h, WIN_SHARED))
		return 1;
	/* each window's bit before its insert (constant windows: window_slot folds) */
	window_open(WIN_HOT);
	if (window_insert(p, h, WIN_HOT))
		return 1;
	window_open(WIN_HOME);
	if (window_insert(p, h, WIN_HOME))
		return 1;
	filter_sub(ps_sample_filter_index(p));
	ps_warn_once("the table of sampled blocks is full (it holds %u live samples); further "
		     "samples are dropped while it is, counted as lost in the trace: use a larger "
		     "PERFSHIM_SAMPLE", TABLE_SIZE);
	return 0;
}

/*
 * ps_sample_forget_slow - take @p out of the table if it is a sampled block (its filter
 * bucket was not 0). Return: 1 when it was listed (the free is recorded), else 0.
 */
PS_NOINLINE int ps_sample_forget_slow(uintptr_t p)
{
	uint32_t h = table_home(p), used;

	if (window_forget(p, h, WIN_SHARED))
		goto found;
	/* the home window's bit implies the hot one's: an insert tries hot first */
	used = __atomic_load_n(&windows_used, __ATOMIC_ACQUIRE);
	if (!(used & (1U << WIN_HOT)))
		return 0;
	if (window_forget(p, h, WIN_HOT))
		goto found;
	if (!(used & (1U << WIN_HOME)) || !window_forget(p, h, WIN_HOME))
		return 0;
found:
	filter_sub(ps_sample_filter_index(p));
	return 1;
}

/*
 * The interval: -ln(u) * mean for u uniform in (0, 1]. The shim links no libm (the program
 * may not), so ln is computed here: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), and
 * ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172: the series to s^13 is within
 * 1e-12 of it, far below what an interval needs.
 */
static double ln_unit(double x)
{
	double m, s, s2, r;
	uint64_t b;
	int e;

	memcpy(&b, &x, sizeof(b));
	e = (int)((b >> 52) & 0x7ff) - 1023;
	b = (b & ((1ULL << 52) - 1)) | (1023ULL << 52);
	memcpy(&m, &b, sizeof(m));
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	s = (m - 1) / (m + 1);
	s2 = s * s;
	r = s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 +
									     s2 / 13)))));
	return e * 0.69314718055994531 + 2 * s * (1 + r);
}

/* xorshift64*: the thread's generator, seeded by splitmix64 (never 0). */
static uint64_t next_random(struct ps_thread *t)
{
	uint64_t x = t->sampler.rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->sampler.rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

/* Bytes to the next sample point: ceil of an exponential of mean ps_sample_mean, >= 1. */
static int64_t draw_interval(struct ps_thread *t)
{
	double u = (double)((next_random(t) >> 11) + 1) * (1.0 / 9007199254740992.0);
	double x = -ln_unit(u) * (double)ps_sample_mean;
	int64_t n = (int64_t)x;

	if ((double)n < x)
		n++;
	return n < 1 ? 1 : n;
}

/*
 * ps_sample_take - an allocation of @size bytes by recording thread @t reached its next
 * sample point (ps_sample_count said so: @size >= the bytes left). The first time in a
 * thread, its generator is seeded from the seed and the thread's index (the order threads
 * first allocate in: one seed gives one run), and its first interval is drawn: the
 * allocation is sampled only if it reaches that one.
 * Return: 1 when the allocation is sampled (the next interval is drawn from its end), 0 if not.
 */
PS_NOINLINE int ps_sample_take(struct ps_thread *t, size_t size)
{
	if (unlikely(!t->sampler.ready)) {
		uint32_t idx = __atomic_fetch_add(&thread_count, 1, __ATOMIC_RELAXED);
		int64_t first;

		t->sampler.rng = splitmix64(((uint64_t)ps_sample_seed << 32) ^ idx);
		if (!t->sampler.rng)
			t->sampler.rng = 1;
		t->sampler.ready = 1;
		first = draw_interval(t);
		if (size < (uint64_t)first) {
			t->sample.left = first - (int64_t)size;
			return 0;
		}
	}
	t->sample.left = draw_interval(t);
	return 1;
}

/*
 * ps_sample_init - settings are read (init.c): with sampling on and no PERFSHIM_SAMPLE_SEED,
 * the seed comes from the clock and the pid (it goes into the trace header either way).
 */
void ps_sample_init(uint64_t mean, int seed_set, uint32_t seed)
{
	struct timespec ts;

	if (!seed_set) {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint32_t)splitmix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
					    ((uint64_t)getpid() << 20));
	}
	ps_sample_seed = seed;
	if (mean) {
		/* the shared window's page written now (a swap of 0 for 0, which leaves a
		 * slot in use alone): the first sample's load would map the zero page, and its
		 * swap fault again */
		uintptr_t zero = 0;

		__atomic_compare_exchange_n(&table[0], &zero, 0, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
	__atomic_store_n(&ps_sample_mean, mean, __ATOMIC_RELEASE);
}
