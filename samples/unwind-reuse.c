// Allocation stacks that share frames with the one before: the recorder's rule walk reuses
// the last walk from the first frame whose state and stack contents still hold
// (docs/stacks.md). Each pattern alternates stacks that a walk reusing too much would mix up:
//   sibling: leaf called from a1 or a2, two functions with the same frame (only the return
//            address one frame out differs), 100 and 101 bytes;
//   deep:    the same 4-frame chain under o1 or o2 (the difference 5 frames out), 200/201 bytes;
//   alloca:  leaf under al, whose alloca moves every frame inside it, 300 bytes;
//   depth:   leaf from run directly or through b1 (one frame more or less), 400/401 bytes.
// Every block leaks: N iterations give N/2 blocks per stack (N for alloca's). Usage: [N]
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOFP __attribute__((noinline, optimize("omit-frame-pointer")))
#define NOINL __attribute__((noinline))

static volatile int sink;
static volatile size_t unit = 100;	/* sizes from memory: no constant-propagated clones */

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

NOINL static void run(int i)
{
	size_t u = unit;

	sink += (i & 1) ? a2(u + 1) != NULL : a1(u) != NULL;
	sink += (i & 1) ? o2(2 * u + 1) != NULL : o1(2 * u) != NULL;
	sink += al(i % 5, 3 * u) != NULL;
	sink += (i & 1) ? b1(4 * u + 1) != NULL : leaf(4 * u) != NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4000, i;

	for (i = 0; i < n; i++)
		run(i);
	printf("%d blocks leaked\n", 7 * n / 2);
	return 0;
}
