/* SPDX-License-Identifier: MIT */
/*
 * threads-fib - the call-heavy program of the bench's thread scaling rows (docs/bench.md):
 * ROUNDS computations of fib(N) (each 2 fib(N+1) - 1 calls of fib) split evenly over T
 * threads, so that the work, and the number of calls, is the same for every T. With T = 1
 * the main thread does it all (no thread is created). Built by bench/bench.mk -O2 with
 * -finstrument-functions (build/bench/threads-fib).
 *
 *	threads-fib T ROUNDS [N]	prints the total of the results and the calls of fib
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXT 64

struct worker {
	unsigned long rounds;
	unsigned long calls;	/* calls of fib made by this thread */
	unsigned long sum;
	pthread_t tid;
} __attribute__((aligned(64)));	/* no false sharing between the threads' counters */

static int fib_n = 20;

static __attribute__((noinline)) unsigned long fib(int n, unsigned long *calls)
{
	++*calls;
	if (n < 2)
		return (unsigned long)n;
	return fib(n - 1, calls) + fib(n - 2, calls);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned long r, calls = 0, sum = 0;

	for (r = 0; r < w->rounds; r++)
		sum += fib(fib_n, &calls);
	w->calls = calls;
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker w[MAXT];
	unsigned long rounds, calls = 0, sum = 0;
	int t, i, err;

	if (argc < 3 || (t = atoi(argv[1])) < 1 || t > MAXT) {
		fprintf(stderr, "usage: threads-fib THREADS(1..%d) ROUNDS [N]\n", MAXT);
		return 2;
	}
	rounds = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		fib_n = atoi(argv[3]);
	if (fib_n < 0 || fib_n > 40) {
		fprintf(stderr, "threads-fib: N must be in 0..40\n");
		return 2;
	}
	for (i = 0; i < t; i++)
		w[i].rounds = rounds / (unsigned long)t + ((unsigned long)i < rounds % (unsigned long)t);
	for (i = 1; i < t; i++) {
		err = pthread_create(&w[i].tid, NULL, work, &w[i]);
		if (err) {
			fprintf(stderr, "threads-fib: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	work(&w[0]);
	for (i = 1; i < t; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < t; i++) {
		calls += w[i].calls;
		sum += w[i].sum;
	}
	printf("threads-fib: %d threads, %lu rounds of fib(%d) = %lu, calls of fib: %lu\n", t,
	       rounds, fib_n, sum, calls);
	return 0;
}
