// Calls on both sides of PERFSHIM_MIN_DURATION=500us: slow() spins 2 ms (4 calls: 3 from main,
// 1 from mixed()), quick() spins 5 us (23 calls), mixed() 1 call (kept), shortparent() 2 (not).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long sink;

/* The clock and the spin loop are not instrumented: only the four functions below count. */
__attribute__((no_instrument_function)) static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

__attribute__((no_instrument_function)) static void spin(long ns)
{
	long end = now_ns() + ns;

	while (now_ns() < end)
		sink++;
}

/* 5 us: well under the threshold */
__attribute__((noinline)) void quick(void)
{
	spin(5000);
}

/* 2 ms: well over it; allocates in the middle so that the trace's time base moves on */
__attribute__((noinline)) void slow(void)
{
	char *p;

	quick();
	spin(1000000);
	p = malloc(100);
	sink += p != NULL;
	free(p);
	spin(1000000);
}

__attribute__((noinline)) void mixed(void)
{
	for (int i = 0; i < 5; i++)
		quick();
	slow();
}

__attribute__((noinline)) void shortparent(void)
{
	quick();
	quick();
}

int main(void)
{
	for (int i = 0; i < 10; i++)
		quick();
	slow();
	shortparent();
	slow();
	mixed();
	shortparent();
	slow();
	printf("done\n");
	return 0;
}
