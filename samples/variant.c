// variant: one source, two builds. With -DVARIANT, crunch() does twice the work and
// buffers() allocates 2 KiB blocks instead of 1 KiB; nothing else changes
// (tests/run/82-diff-runs.sh compares the two builds' traces).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VARIANT
#define CRUNCH_ROUNDS 60000000UL
#define BUF_SIZE 2048
#else
#define CRUNCH_ROUNDS 30000000UL
#define BUF_SIZE 1024
#endif
#define NBUF 8
#define NTABLE 4
#define TABLE_SIZE 512

static void *bufs[NBUF], *tables[NTABLE];
volatile unsigned long acc;

/* The one function whose time differs. */
static __attribute__((noinline)) void crunch(void)
{
	unsigned long i;

	for (i = 0; i < CRUNCH_ROUNDS; i++)
		acc += i ^ (acc >> 3);
}

/* The one site whose allocations differ: NBUF x BUF_SIZE, freed. */
static __attribute__((noinline)) void buffers(void)
{
	int i;

	for (i = 0; i < NBUF; i++) {
		bufs[i] = malloc(BUF_SIZE);
		memset(bufs[i], 1, BUF_SIZE);
	}
	for (i = 0; i < NBUF; i++)
		free(bufs[i]);
}

/* The same in both builds: NTABLE x TABLE_SIZE, freed. */
static __attribute__((noinline)) void tables_alloc(void)
{
	int i;

	for (i = 0; i < NTABLE; i++) {
		tables[i] = malloc(TABLE_SIZE);
		memset(tables[i], 2, TABLE_SIZE);
	}
	for (i = 0; i < NTABLE; i++)
		free(tables[i]);
}

int main(void)
{
	tables_alloc();
	buffers();
	crunch();
	printf("done %lu\n", acc & 1);
	return 0;
}
