/*
 * Threads on the smallest stack POSIX allows (PTHREAD_STACK_MIN), made both ways: by
 * pthread_attr_setstacksize and on a caller's buffer by pthread_attr_setstack. glibc takes
 * the static TLS of every loaded library (the preload's too) from such a stack and refuses
 * to create the thread (EINVAL) when that leaves less than 2 KiB. Each thread allocates
 * 100 blocks in small_alloc (all freed) and leaks one block of 1000 + i bytes in small_leak.
 * Usage: small-stack [threads]; exits 1 if a thread could not be created.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *sink[100];
static void *leaked[64];

__attribute__((noinline)) static void small_alloc(int i)
{
	for (int k = 0; k < 100; k++)
		sink[k] = malloc(24 + (size_t)i);
	for (int k = 0; k < 100; k++)
		free(sink[k]);
}

__attribute__((noinline)) static void *small_leak(int i)
{
	return malloc(1000 + (size_t)i);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;

	small_alloc(i);
	leaked[i] = small_leak(i);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, bad = 0;

	if (n < 1 || n > 64)
		n = 4;
	/* one at a time: sink is shared */
	for (int i = 0; i < n; i++) {
		pthread_attr_t at;
		pthread_t th;
		void *stk = NULL;
		int r;

		pthread_attr_init(&at);
		if (i & 1) {
			stk = aligned_alloc(4096, PTHREAD_STACK_MIN);
			r = stk ? pthread_attr_setstack(&at, stk, PTHREAD_STACK_MIN) : -1;
		} else {
			r = pthread_attr_setstacksize(&at, PTHREAD_STACK_MIN);
		}
		if (!r)
			r = pthread_create(&th, &at, worker, (void *)(long)i);
		pthread_attr_destroy(&at);
		if (r) {
			fprintf(stderr, "small-stack: thread %d (%s, %d bytes): %s\n", i,
				i & 1 ? "setstack" : "setstacksize", (int)PTHREAD_STACK_MIN,
				strerror(r));
			bad = 1;
		} else {
			pthread_join(th, NULL);
		}
		free(stk);
	}
	printf("small-stack: %d threads\n", n);
	return bad;
}
