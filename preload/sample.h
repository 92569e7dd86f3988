/* SPDX-License-Identifier: MIT */
/*
 * Sampled allocations (PERFSHIM_SAMPLE): the fast half, inlined into the exported hooks of
 * hooks-malloc.c; sample.c is the slow half. docs/sampling.md ("The fast path") has the
 * design and the instruction counts it was measured by.
 *
 * The unsampled malloc and free must cost about what interposing them costs (one indirect
 * jump), so each is a test that almost never fails, then a tail jump to the real function:
 *   - malloc: the thread's countdown (ps_sample_count_in_place), before the real call, so
 *     that the hook needs no frame, saves no register and returns through the real
 *     malloc's ret;
 *   - free: one byte of the filter of sampled blocks (ps_sample_maybe_listed), 0 for almost
 *     every block.
 * Every other case (a sample point reached, the thread or the process not started, the
 * allocator not resolved, every allocation recorded) takes the slow path, because the state
 * that says so is the same countdown at 0, or a raised filter byte.
 */
#ifndef PERFSHIM_PRELOAD_SAMPLE_H
#define PERFSHIM_PRELOAD_SAMPLE_H

#include "preload/thread.h"

/*
 * sample.c: the settings (init.c reads them). ps_sample_mean is 0 unless sampling is on.
 */
extern uint64_t ps_sample_mean PS_HIDDEN;		/* mean bytes between samples, 0 = off */
extern uint32_t ps_sample_seed;
void ps_sample_init(uint64_t mean, int seed_set, uint32_t seed);


extern uint8_t ps_sample_filter[] PS_HIDDEN;		/* per address bucket: live samples in it */
int ps_sample_take(struct ps_thread *t, size_t size);	/* noinline: a sample point reached */
int ps_sample_remember(uintptr_t p);		/* list a sampled block; 0 if the table is full */
int ps_sample_forget_slow(uintptr_t p);	/* unlist; 1 if it was listed */
void ps_sample_filter_raise(uintptr_t p);	/* a block free must never forward (boot area) */

/*
 * The filter's bucket of @p: bits 16..31 of its low 32 bits times 257 (0x101), which is
 * (p >> 8) + (p >> 16) in 16 bits, give or take a carry: within a 64 KiB region, each
 * 256 bytes of addresses are the next bucket, so the frees of a program's working set of
 * blocks read a few neighbouring lines of the filter (16 KiB of heap to a cache line)
 * instead of one line per block scattered over all 64 KiB of it, which evicted the
 * program's own data from L1 (docs/sampling.md "Cost": callgrind counted a D1 miss in
 * one free of six on mallocbench with a scattering hash). Two instructions (imul with an
 * immediate, shr). Regions 16 MiB apart are 256 buckets apart, blocks 4 GiB apart share a
 * bucket; a shared bucket can only send a free to the table, never hide a sampled block.
 */
static inline uint32_t ps_sample_filter_index(uintptr_t p)
{
	uint32_t x;

	/* in asm: gcc makes * 257 a mov, shl and add, one instruction more on free's path */
	__asm__("imull $257, %k1, %0" : "=r"(x) : "r"(p));
	return x >> 16;
}

/*
 * ps_sample_count_in_place - malloc's and calloc's test: @size subtracted from the calling
 * thread's countdown in place, before the real call. Return: 1 when the count stays above 0
 * (@size < the bytes left, unsigned: not sampled, forward it), 0 when it reaches the point
 * (@size >= the bytes left): the count then holds left - @size, wrapped, and the slow path
 * gives the bytes back first (ps_sample_uncount). One read-modify-write and one branch, two
 * instructions fewer than ps_sample_count's load, subtract, branch and store.
 *
 * A signal handler's allocation between the subtract and the give-back sees the wrapped
 * count, far above any size, and takes its hook's fast path: so every fast path jumps
 * through a pointer (hooks-malloc.c: malloc_next, ...) that is a recording function when
 * every allocation is recorded; under sampling such an allocation is forwarded unsampled,
 * its bytes lost from the count, once per sample point at most (docs/sampling.md "The fast
 * path").
 */
static inline int ps_sample_count_in_place(size_t size)
{
	int reached;

	__asm__("subq %2, %0" : "+m"(ps_self.sample.left), "=@ccbe"(reached) : "r"(size));
	return !reached;
}

/*
 * ps_sample_uncount - the first step of malloc's and calloc's slow paths: the count as it
 * was before ps_sample_count_in_place's subtract (modulo 2^64, as it was wrapped); or 0 when
 * every allocation is recorded, or the settings are not known yet, whatever a nested
 * allocation did to it meanwhile.
 */
static inline void ps_sample_uncount(size_t size)
{
	if (__atomic_load_n(&ps_sample_mean, __ATOMIC_RELAXED))
		ps_self.sample.left = (int64_t)((uint64_t)ps_self.sample.left + size);
	else
		ps_self.sample.left = 0;
}

/*
 * ps_sample_count - count an allocation of @size bytes off the calling thread's countdown,
 * if it stays short of the next sample point. Return: 1 when counted (the allocation is not
 * sampled: forward it and record nothing), 0 when it reaches the point (@size >= the bytes
 * left) and the countdown is left as it was, for the slow path (alloc_thread_due) to decide.
 * The countdown is 0 until a thread's first allocation went through that slow path, and it
 * stays 0 when every allocation is recorded: one unsigned compare decides every case.
 * Counting before the real call makes a failed allocation count its bytes too; the Poisson
 * process is memoryless, so that moves the sample points, never the probability of any
 * allocation being sampled. A signal handler's allocation between the load and the store is
 * lost from the count, with the same effect.
 */
static inline int ps_sample_count(size_t size)
{
	uint64_t left = (uint64_t)ps_self.sample.left;
	int reached;

	/*
	 * The subtract's own flags (CF or ZF: size >= left) decide, one compare fewer than
	 * the compiler's code; the count is stored only when it stays above 0. (A subtract in
	 * place, undone on the slow path, would be two instructions fewer, but a signal
	 * handler's malloc between the two would see a wrapped count and be forwarded
	 * unrecorded: with every allocation recorded, the count is 0 at every malloc.)
	 */
	__asm__("subq %2, %0" : "+r"(left), "=@ccbe"(reached) : "r"(size));
	if (likely(!reached)) {
		ps_self.sample.left = (int64_t)left;
		return 1;
	}
	return 0;
}

/*
 * ps_sample_maybe_listed - whether the free of @p must look further: its filter byte is not
 * 0 (a live sampled block in the bucket, or a bootstrap block: hooks-malloc.c). One load,
 * ordered after the store of the malloc that raised it by the program's own hand-over of @p.
 */
static inline int ps_sample_maybe_listed(const void *p)
{
	/* a plain load: a byte's load is single-copy atomic and an acquire load on x86, and
	 * the compiler folds it into one compare with memory, which it does not do for an
	 * __atomic_load_n or a volatile load (movzbl and test: one instruction more) */
	return ps_sample_filter[ps_sample_filter_index((uintptr_t)p)] != 0;
}

/*
 * ps_sample_forget - the free (or realloc) of @p under sampling: whether it is a sampled
 * block; if so it is taken out of the table, before the real call gives the address away.
 */
static inline int ps_sample_forget(uintptr_t p)
{
	if (likely(!ps_sample_maybe_listed((const void *)p)))
		return 0;
	return ps_sample_forget_slow(p);
}

#endif /* PERFSHIM_PRELOAD_SAMPLE_H */
