// grow: between the marks "before" and "after" the heap grows by exactly GROW_N blocks of
// GROW_SIZE bytes from grow_one(), while churn() and churn_realloc() allocate and free.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/perfshim.h"

#define GROW_N 100
#define GROW_SIZE 48

/*
 * What `diff --from before --to after` must find (tests/run/80-diff-marks.sh):
 *   grow_one: allocated 4800 B in 100 blocks, freed 0, net +4800 B (+100 blocks), all still
 *             live at "after" (the growth suspect);
 *   churn: allocated 5050 B (1 + 2 + ... + 100) in 100 blocks, all freed, net 0;
 *   churn_realloc: 100 x (malloc 16, realloc to 64, free): allocated 8000 B, freed 8000 B;
 *   totals: net +4800 B; live at "before" 1000 B (setup), at "after" 5800 B.
 */
static void *kept[GROW_N];
static void *setup_block;
void *volatile sink;

static __attribute__((noinline)) void setup(void)
{
	setup_block = malloc(1000);
	memset(setup_block, 1, 1000);
}

static __attribute__((noinline)) void grow_one(int i)
{
	kept[i] = malloc(GROW_SIZE);
	memset(kept[i], 2, GROW_SIZE);
}

static __attribute__((noinline)) void churn(int i)
{
	char *p = malloc((size_t)i + 1);

	p[0] = 3;
	sink = p;
	free(p);
}

static __attribute__((noinline)) void churn_realloc(void)
{
	char *p = malloc(16), *q;

	p[0] = 4;
	q = realloc(p, 64);
	if (!q)
		abort();
	sink = q;
	free(q);
}

int main(void)
{
	int i;

	setup();
	PERFSHIM_MARK("before");
	for (i = 0; i < GROW_N; i++) {
		churn(i);
		grow_one(i);
		churn_realloc();
	}
	PERFSHIM_MARK("after");
	for (i = 0; i < GROW_N; i++)
		free(kept[i]);
	free(setup_block);
	printf("grew %d blocks of %d bytes\n", GROW_N, GROW_SIZE);
	return 0;
}
