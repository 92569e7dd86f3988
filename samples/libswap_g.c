// A library for samples/dlswap.c, the twin of libswap_f.c: the same code with other names
// (and block size), so the two map to the same size and the loader puts each where the other
// was. g_work(i) calls g_leaf() and returns a 200-byte block from g_alloc().
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) void *g_alloc(int i)
{
	void *p = malloc(200);

	memset(p, i, 200);
	return p;
}

static __attribute__((noinline)) int g_leaf(int x)
{
	return x * 3;
}

void *g_work(int i)
{
	char *p = g_alloc(i);

	p[0] = (char)g_leaf(i);
	return p;
}
