// Allocation stacks that share frames with the one before: the recorder's rule walk reuses
// the last walk when the caller's frame and everything the walk read further out still hold
// (docs/stacks.md). Each stack comes twice in a row (the second reuses the first), next to
// one that a walk reusing too much would take for it:
//   sibling: leaf called from a1 or a2, two functions with the same frame (only the return
//            address one frame out differs), 100 and 101 bytes, 2N blocks each;
//   deep:    the same 4-frame chain under o1 or o2 (the difference 5 frames out), 200/201
//            bytes, 2N blocks each;
//   alloca:  leaf under al, whose alloca moves every frame inside it, 300 bytes, 2N blocks;
//   depth:   leaf from run directly or through b1 (one frame more or less), 402/401 bytes,
//            N/2 blocks each.
// Every block leaks. Usage: [N]
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOFP __attribute__((noinline, optimize("omit-frame-pointer")))
#define NOINL __attribute__((noinline))

static volatile int sink;
static volatile size_t unit = 100;	/* sizes from memory: no constant-propagated clones */
static volatile int reps = 2;		/* a loop the compiler cannot unroll into two sites */

NOFP static void *leaf(size_t n)
{
	char *p = malloc(n);

	if (p)
		memset(p, 1, n);
	sink += (int)n;
	return p;
}

NOFP static void *a1(size_t n)
{
	void *p = leaf(n);

	sink += 1;
	return p;
}

NOFP static void *a2(size_t n)
{
	void *p = leaf(n);

	sink += 2;
	return p;
}

NOINL static void *m1(size_t n)
{
	void *p = leaf(n);

	sink += 3;
	return p;
}

NOFP static void *m2(size_t n)
{
	void *p = m1(n);

	sink += 4;
	return p;
}

NOINL static void *m3(size_t n)
{
	void *p = m2(n);

	sink += 5;
	return p;
}

NOINL static void *o1(size_t n)
{
	void *p = m3(n);

	sink += 6;
	return p;
}

NOINL static void *o2(size_t n)
{
	void *p = m3(n);

	sink += 8;
	return p;
}

NOINL static void *al(int k, size_t n)
{
	char *b = alloca((size_t)k * 48 + 16);
	void *p;

	memset(b, k, (size_t)k * 48 + 16);
	p = leaf(n);
	sink += b[k];
	return p;
}

NOFP static void *b1(size_t n)
{
	void *p = leaf(n);

	sink += 7;
	return p;
}

/* each stack twice in a row: the second walk of a pair reuses the first, the first of the
 * next pair must not (a loop, not two calls: both come from one call site) */
NOINL static void run(int i)
{
	size_t u = unit;
	int j;

	for (j = 0; j < reps; j++)
		sink += a1(u) != NULL;
	for (j = 0; j < reps; j++)
		sink += a2(u + 1) != NULL;
	for (j = 0; j < reps; j++)
		sink += o1(2 * u) != NULL;
	for (j = 0; j < reps; j++)
		sink += o2(2 * u + 1) != NULL;
	for (j = 0; j < reps; j++)
		sink += al(i % 5, 3 * u) != NULL;
	sink += (i & 1) ? b1(4 * u + 1) != NULL : leaf(4 * u + 2) != NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4000, i;

	for (i = 0; i < n; i++)
		run(i);
	printf("%d blocks leaked\n", 11 * n);
	return 0;
}
