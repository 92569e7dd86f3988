// A library for samples/dlswap.c, the twin of libswap_g.c: the same code with other names
// (and block size), so the two map to the same size and the loader puts each where the other
// was. f_work(i) calls f_leaf() and returns a 100-byte block from f_alloc().
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) void *f_alloc(int i)
{
	void *p = malloc(100);

	memset(p, i, 100);
	return p;
}

static __attribute__((noinline)) int f_leaf(int x)
{
	return x * 3;
}

void *f_work(int i)
{
	char *p = f_alloc(i);

	p[0] = (char)f_leaf(i);
	return p;
}
