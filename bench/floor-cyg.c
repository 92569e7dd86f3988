/* SPDX-License-Identifier: MIT */
/*
 * floor-cyg.c - the call floors of `make bench` (docs/bench.md), LD_PRELOAD libraries built
 * from this file by bench/bench.mk and never installed:
 *
 *   -DFLOOR_RECORD=0  build/bench/floor-cyg-noop.so: empty __cyg_profile_func_enter/exit,
 *                     the cost of -finstrument-functions itself (calls, argument set-up)
 *   -DFLOOR_RECORD=1  build/bench/floor-cyg-record.so: rdtsc and one 16-byte {tsc, address}
 *                     record per entry and per exit into the thread's buffer, written to
 *                     $BENCH_FLOOR_OUTPUT in 1 MiB chunks (floor-buf.h): the call recorder
 *                     floor. An exit's address has bit 63 set.
 *
 * No errno save, no recursion guard, no shadow stack, no encoding: less than any recorder
 * that keeps every call can do, which is what a floor is for.
 */
#include <stdint.h>

#ifndef FLOOR_RECORD
#error "build with -DFLOOR_RECORD=0 (no-op hooks) or -DFLOOR_RECORD=1 (records)"
#endif

#if FLOOR_RECORD
#include "bench/floor-buf.h"
#define FLOOR_EXIT_BIT (1ULL << 63)
#else
#define FLOOR_EXPORT __attribute__((visibility("default"), no_instrument_function))
#endif

FLOOR_EXPORT void __cyg_profile_func_enter(void *fn, void *site);
FLOOR_EXPORT void __cyg_profile_func_exit(void *fn, void *site);

FLOOR_EXPORT void __cyg_profile_func_enter(void *fn, void *site)
{
	(void)site;
#if FLOOR_RECORD
	floor_put(__rdtsc(), (uint64_t)(uintptr_t)fn);
#else
	(void)fn;	/* the program still calls in through the PLT: that is the cost */
#endif
}

FLOOR_EXPORT void __cyg_profile_func_exit(void *fn, void *site)
{
	(void)site;
#if FLOOR_RECORD
	floor_put(__rdtsc(), (uint64_t)(uintptr_t)fn | FLOOR_EXIT_BIT);
#else
	(void)fn;
#endif
}
