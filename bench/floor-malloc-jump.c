/* SPDX-License-Identifier: MIT */
/*
 * floor-malloc-jump.c - the interposition floor of bench/sampling.sh (docs/sampling.md,
 * "Cost"): malloc, free, calloc and realloc interposed and nothing else, each one tail jump
 * to glibc's own entry point (__libc_malloc...), bound at load time (-fno-plt), so that no
 * pointer needs resolving and no bootstrap area is needed. What an LD_PRELOAD allocation
 * hook cannot go below: the program's PLT jump lands in the library and a second jump
 * takes it to glibc. The other functions of the family are glibc's own, which is safe
 * here only because every block is glibc's either way. Built by bench/bench.mk; a floor
 * to measure against, never a recorder.
 */
#include <stdlib.h>

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

void *__libc_malloc(size_t size);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

EXPORT void *malloc(size_t size)
{
	return __libc_malloc(size);
}

EXPORT void free(void *p)
{
	__libc_free(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
	return __libc_calloc(n, size);
}

EXPORT void *realloc(void *p, size_t size)
{
	return __libc_realloc(p, size);
}
