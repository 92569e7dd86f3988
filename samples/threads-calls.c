// 16 threads each call work() exactly 1000 times (and leaf() 3 times per work() call) from
// thread_main(); main calls work() 5 times itself. Prints the total.
#include <pthread.h>
#include <stdio.h>

#define THREADS 16
#define CALLS 1000

__attribute__((noinline)) long leaf(long x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) long work(long i)
{
	return leaf(i) + leaf(i + 1) + leaf(i + 2);
}

static void *thread_main(void *arg)
{
	long s = 0;

	for (long i = 0; i < CALLS; i++)
		s += work(i);
	*(long *)arg = s;
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];
	long sums[THREADS], total = 0;
	int i;

	for (i = 0; i < 5; i++)
		total += work(i);
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, thread_main, &sums[i])) {
			perror("pthread_create");
			return 1;
		}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		total += sums[i];
	}
	printf("total %ld\n", total);
	return 0;
}
