// Every malloc-family entry point and its edge cases, with exactly known results and counts
// (see the table at the end); prints each semantic check so runs with and without the shim compare.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* stdout gets a static buffer so stdio allocates nothing: the counts below are all there is */
static char outbuf[1 << 14];
static int failures;

static void check(const char *what, int ok)
{
	printf("%-48s %s\n", what, ok ? "ok" : "FAILED");
	if (!ok)
		failures++;
}

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

static volatile size_t huge = SIZE_MAX;		/* volatile: no compile-time overflow folding */
static volatile size_t half = SIZE_MAX / 2 + 1;
static void *volatile null;	/* volatile: realloc(NULL, n) must not become malloc(n) */
static void *volatile hold;	/* a block kept across a call that fails on purpose */

static __attribute__((noinline)) void *leak_one(size_t n)
{
	char *p = malloc(n);

	if (p)
		memset(p, 0x5a, n);
	return p;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p, *q, *sentinel = (void *)0x1234;
	int err, i;

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	/* malloc(0): a unique pointer in glibc; freeing it is fine */
	p = malloc(0);
	check("malloc(0) returns a pointer", p != NULL);
	free(p);
	/* free(NULL): nothing happens */
	errno = 0;
	free(NULL);
	check("free(NULL) keeps errno", errno == 0);
	/* errno is left alone by successful calls */
	errno = 1234;
	p = malloc(24);
	check("malloc success keeps errno", errno == 1234 && p);
	free(p);
	/* failures: ENOMEM, nothing allocated */
	errno = 0;
	p = malloc(huge);
	check("malloc(SIZE_MAX) fails with ENOMEM", !p && errno == ENOMEM);
	errno = 0;
	p = calloc(half, 2);
	check("calloc overflow fails with ENOMEM", !p && errno == ENOMEM);
	/* calloc zeroes */
	p = calloc(10, 10);
	for (i = 0; p && i < 100 && !((char *)p)[i]; i++)
		;
	check("calloc(10, 10) is zeroed", p && i == 100);
	check("malloc_usable_size >= 100", malloc_usable_size(p) >= 100);
	free(p);
	check("malloc_usable_size(NULL) == 0", malloc_usable_size(NULL) == 0);

	/* realloc: NULL -> allocation, grow, failure keeps the block, 0 frees */
	p = realloc(null, 100);
	check("realloc(NULL, 100) allocates", p != NULL);
	memset(p, 7, 100);
	q = realloc(p, 5000);
	check("realloc(p, 5000) keeps the contents", q && ((char *)q)[99] == 7);
	p = q;
	errno = 0;
	hold = p;
	q = realloc(p, huge);
	p = hold;
	check("realloc(p, SIZE_MAX) fails, p kept", !q && errno == ENOMEM && ((char *)p)[99] == 7);
	q = realloc(p, 0);
	check("realloc(p, 0) frees and returns NULL", q == NULL);

	/* reallocarray */
	errno = 0;
	p = reallocarray(null, half, 2);
	check("reallocarray overflow fails with ENOMEM", !p && errno == ENOMEM);
	p = reallocarray(null, 10, 20);
	check("reallocarray(NULL, 10, 20) allocates", p != NULL);
	errno = 0;
	hold = p;
	q = reallocarray(p, half, 4);
	p = hold;
	check("reallocarray(p, overflow) fails, p kept", !q && errno == ENOMEM);
	q = reallocarray(p, 20, 20);
	check("reallocarray(p, 20, 20) grows", q != NULL);
	free(q);

	/* posix_memalign: the error is returned, *p untouched, errno unchanged */
	q = sentinel;
	errno = 0;
	err = posix_memalign(&q, 3, 16);
	check("posix_memalign(align 3) is EINVAL", err == EINVAL && q == sentinel && errno == 0);
	err = posix_memalign(&q, 24, 16);
	check("posix_memalign(align 24) is EINVAL", err == EINVAL && q == sentinel);
	err = posix_memalign(&q, 64, huge - 100);
	check("posix_memalign(huge) is ENOMEM", err == ENOMEM && q == sentinel);
	err = posix_memalign(&q, 64, 100);
	check("posix_memalign(64, 100) is aligned", err == 0 && aligned(q, 64));
	free(q);

	/* aligned_alloc, memalign, valloc, pvalloc */
	p = aligned_alloc(64, 128);
	check("aligned_alloc(64, 128) is aligned", p && aligned(p, 64));
	free(p);
	p = aligned_alloc(64, 100);	/* size not a multiple: glibc accepts it */
	check("aligned_alloc(64, 100) is aligned", p && aligned(p, 64));
	free(p);
	p = memalign(256, 10);
	check("memalign(256, 10) is aligned", p && aligned(p, 256));
	free(p);
	p = valloc(10);
	check("valloc(10) is page aligned", p && aligned(p, page));
	free(p);
	p = pvalloc(10);
	check("pvalloc(10) is page aligned, one page", p && aligned(p, page) &&
						       malloc_usable_size(p) >= (size_t)page);
	free(p);
	errno = 0;
	p = pvalloc(huge);
	check("pvalloc(SIZE_MAX) fails with ENOMEM", !p && errno == ENOMEM);

	/* two leaks of known size: 1000 and 3000 bytes */
	check("leak 1000 bytes", leak_one(1000) != NULL);
	check("leak 3000 bytes", leak_one(3000) != NULL);

	printf("failures: %d\n", failures);
	fflush(stdout);
	return failures ? 1 : 0;
}

/*
 * What a trace of this program holds (tests/run/20-alloc-edge.sh checks it):
 *   ALLOC  malloc 0, malloc 24, calloc 100, realloc(NULL) 100, reallocarray(NULL) 200,
 *          posix_memalign 100, aligned_alloc 128 and 100, memalign 10, valloc 10,
 *          pvalloc one page, malloc 1000, malloc 3000                           = 13
 *   REALLOC 100 -> 5000, 5000 -> 0 (freed), 200 -> 400                        = 3
 *   FREE   malloc 0, malloc 24, calloc, reallocarray'd, posix_memalign, 2 aligned_alloc,
 *          memalign, valloc, pvalloc                                           = 10
 *   leaks: 2 blocks, 4000 bytes; no failed call leaves a record.
 */
