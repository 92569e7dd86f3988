// Calls of known cost for the overhead compensation (tests/run/58-compensation.sh): spin
// loops of fixed iteration counts, and a parent of many tiny calls, which measures itself.
//
// Instrumented functions, and what each spins per call (dependent multiply-adds):
//   outer   OUTER_N, calls inner INNER_CALLS times    (self = OUTER_N iterations)
//   inner   INNER_N                                   (a leaf)
//   parent  PARENT_N, calls tiny TINY_CALLS times     (the parent of many tiny calls)
//   tiny    TINY_N                                    (a leaf of a few ns)
//   allocer ALLOC_N, and ALLOCS malloc/free pairs     (its self holds the allocator's time)
// Beside them, never instrumented: parent_ref and tiny_ref, the same code with the calls
// -finstrument-functions adds made by hand to a no-op pair, as the binary runs them without
// the shim (glibc's hooks do nothing). Right after the instrumented parent calls, main times
// parent_ref and tiny_ref with clock_gettime and prints, per call:
//   truth parent_total_ns=T parent_self_ns=S tiny_total_ns=N iter_ps=P measured_parent_ns=M
//   quiet spin=0|1 parent=0|1
// T, S, N: what parent and tiny cost without the shim (S = T - TINY_CALLS * N); P: ps per
// spin iteration (the fastest of 10 timings); M: what an instrumented parent took here (with
// the shim: its hooks too). "quiet": the section (the outer calls; the parent calls and their
// references) ran without losing the CPU (its wall time within 1% of its thread CPU time),
// so that its times mean what they say on a loaded machine.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NOINSTR __attribute__((no_instrument_function, noinline))

#define OUTER_N 16000
#define INNER_N 4000
#define INNER_CALLS 2
#define PARENT_N 100
#define TINY_N 8
#define TINY_CALLS 10
#define ALLOC_N 40
#define ALLOCS 4
#define ALLOCER_CALLS 2000
#define OUTER_CALLS 40
#define PARENT_CALLS 2000
#define SPIN_REF_N 20000

static volatile uint64_t sink;

/* n dependent multiply-adds: the same cost wherever it is inlined (no memory, no calls) */
static inline __attribute__((always_inline, no_instrument_function)) uint64_t spin(uint64_t x,
										    int n)
{
	for (int i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

void inner(void)
{
	sink = spin(sink, INNER_N);
}

void outer(void)
{
	uint64_t x = spin(sink, OUTER_N);

	for (int i = 0; i < INNER_CALLS; i++)
		inner();
	sink += x;
}

void tiny(void)
{
	sink = spin(sink, TINY_N);
}

void parent(void)
{
	uint64_t x = spin(sink, PARENT_N);

	for (int i = 0; i < TINY_CALLS; i++)
		tiny();
	sink += x;
}

void allocer(void)
{
	void *p[ALLOCS];

	sink = spin(sink, ALLOC_N);
	for (int i = 0; i < ALLOCS; i++)
		p[i] = malloc(32 + 16 * i);
	for (int i = 0; i < ALLOCS; i++)
		free(p[i]);
}

/* ---- the reference copies: hooks by hand, to a no-op pair through a pointer (a PLT call) */

static NOINSTR void noop_hook(void *fn, void *site)
{
	__asm__ volatile("" ::"r"(fn), "r"(site));
}

static void (*volatile hook)(void *, void *) = noop_hook;

static NOINSTR void tiny_ref(void)
{
	hook((void *)tiny_ref, __builtin_return_address(0));
	sink = spin(sink, TINY_N);
	hook((void *)tiny_ref, __builtin_return_address(0));
}

static NOINSTR void parent_ref(void)
{
	uint64_t x;

	hook((void *)parent_ref, __builtin_return_address(0));
	x = spin(sink, PARENT_N);
	for (int i = 0; i < TINY_CALLS; i++)
		tiny_ref();
	sink += x;
	hook((void *)parent_ref, __builtin_return_address(0));
}

static NOINSTR void spin_ref(void)
{
	sink = spin(sink, SPIN_REF_N);
}

static NOINSTR uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static NOINSTR uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* @n calls of @fn; Return: the ns they took */
static NOINSTR uint64_t time_calls(void (*fn)(void), int n)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++)
		fn();
	return now_ns() - t0;
}

/* A section: wall and thread CPU time at its start; quiet() at its end. */
struct section {
	uint64_t wall, cpu;
};

static NOINSTR void section_begin(struct section *s)
{
	s->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	s->wall = now_ns();
}

static NOINSTR int section_quiet(const struct section *s)
{
	uint64_t wall = now_ns() - s->wall, cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - s->cpu;

	return wall <= cpu + cpu / 100;
}

NOINSTR int main(void)
{
	uint64_t p, pref, tref, it = UINT64_MAX, t;
	struct section sec;
	int qspin, qparent;

	section_begin(&sec);
	for (int i = 0; i < OUTER_CALLS; i++)
		outer();
	qspin = section_quiet(&sec);
	for (int k = 0; k < 10; k++) {
		t = time_calls(spin_ref, 1);
		if (t < it)
			it = t;
	}
	for (int i = 0; i < ALLOCER_CALLS; i++)
		allocer();
	section_begin(&sec);
	p = time_calls(parent, PARENT_CALLS);
	pref = time_calls(parent_ref, PARENT_CALLS);
	tref = time_calls(tiny_ref, PARENT_CALLS * TINY_CALLS);
	qparent = section_quiet(&sec);
	printf("truth parent_total_ns=%.2f parent_self_ns=%.2f tiny_total_ns=%.2f iter_ps=%.1f "
	       "measured_parent_ns=%.2f\n",
	       (double)pref / PARENT_CALLS, (double)pref / PARENT_CALLS - (double)tref / PARENT_CALLS,
	       (double)tref / (PARENT_CALLS * TINY_CALLS), (double)it * 1000 / SPIN_REF_N,
	       (double)p / PARENT_CALLS);
	printf("quiet spin=%d parent=%d\n", qspin, qparent);
	printf("spin outer=%d inner=%d inner_calls=%d parent=%d tiny=%d tiny_calls=%d\n", OUTER_N,
	       INNER_N, INNER_CALLS, PARENT_N, TINY_N, TINY_CALLS);
	return 0;
}
