// Allocation stacks through code without frame pointers, alloca, a variable-length array and
// one function reached from two call sites: 1000 leaks of 100 bytes and 1000 of 200 per path.
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOFP __attribute__((noinline, optimize("omit-frame-pointer")))
#define NOINL __attribute__((noinline))

static volatile int sink;

NOFP static void *leaf(size_t n)
{
	char *p = malloc(n);

	if (p)
		memset(p, 1, n);
	sink += (int)n;
	return p;
}

/* a variable-length array: the frame size is only known at run time */
NOINL static void *vla(int k, size_t n)
{
	char buf[k * 16 + 8];
	void *p;

	memset(buf, k, sizeof(buf));
	p = leaf(n + (size_t)(buf[3] - k));
	sink += buf[k];
	return p;
}

/* alloca, without a frame pointer of its own if the compiler can help it */
NOFP static void *grow(int k, size_t n)
{
	char *b = alloca((size_t)k * 32 + 16);
	void *p;

	memset(b, 1, (size_t)k * 32 + 16);
	p = vla(k % 7 + 1, n);
	sink += b[k];
	return p;
}

/* reached from two call sites of top(): only the return address into top() differs */
NOFP static void *mid(int k, size_t n)
{
	void *p = (k & 1) ? grow(k, n) : leaf(n);

	sink++;
	return p;
}

NOINL static void top(int k)
{
	if (k % 2)
		sink += mid(k, 100) != NULL;	/* odd k: mid -> grow -> vla -> leaf */
	else
		sink += mid(k, 200) != NULL;	/* even k: mid -> leaf */
	free(strdup("x"));
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000, i;

	for (i = 0; i < n; i++)
		top(i);
	printf("%d allocations leaked\n", n);
	return 0;
}
