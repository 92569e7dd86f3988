// handoff: a producer thread mallocs N blocks and hands each to a consumer thread that frees
// it, so freed addresses come back to the producer: the same address is freed on one thread
// and allocated again on the other, thousands of times. Usage: handoff [N] (default 20000).
// "handoff swap [N]": 32 threads each malloc N blocks of 48 bytes and swap each into one of
// 4 shared slots with an atomic exchange, freeing what they took out (another thread's block,
// or one the slot's previous taker freed and glibc handed out again); main frees the 4 left.
// Every block is freed exactly once, whatever the interleaving: 32 * N mallocs and frees.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXN 1000000
#define SLOTS 16

static void *queue[SLOTS];
static unsigned head, tail;		/* head: next to take, tail: next to fill */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER, room = PTHREAD_COND_INITIALIZER;
static uintptr_t seen[MAXN];		/* every address produced, to count reuse (no malloc) */
static long n = 20000;

static void __attribute__((noinline)) put(void *p)
{
	pthread_mutex_lock(&lock);
	while (tail - head == SLOTS)
		pthread_cond_wait(&room, &lock);
	queue[tail++ % SLOTS] = p;
	pthread_cond_signal(&more);
	pthread_mutex_unlock(&lock);
}

static void *__attribute__((noinline)) take(void)
{
	void *p;

	pthread_mutex_lock(&lock);
	while (tail == head)
		pthread_cond_wait(&more, &lock);
	p = queue[head++ % SLOTS];
	pthread_cond_signal(&room);
	pthread_mutex_unlock(&lock);
	return p;
}

static void *producer(void *arg)
{
	long i;

	for (i = 0; i < n; i++) {
		char *p = malloc(64 + (i & 3) * 16);

		memset(p, (int)i, 64);
		seen[i] = (uintptr_t)p;
		put(p);
	}
	put(NULL);
	return arg;
}

static void *consumer(void *arg)
{
	void *p;

	while ((p = take()))
		free(p);
	return arg;
}

#define SWAP_THREADS 32
#define SWAP_SLOTS 4

static void *swap_slot[SWAP_SLOTS];	/* one cache line: every exchange contends */
static pthread_barrier_t swap_start;

static void *__attribute__((noinline)) swapper(void *arg)
{
	long id = (long)(intptr_t)arg, i;

	pthread_barrier_wait(&swap_start);
	for (i = 0; i < n; i++) {
		char *p = malloc(48), *q;

		p[0] = (char)i;
		q = __atomic_exchange_n(&swap_slot[(id + i) % SWAP_SLOTS], p, __ATOMIC_ACQ_REL);
		free(q);
	}
	return arg;
}

static int swap(void)
{
	pthread_t t[SWAP_THREADS];
	long i;

	pthread_barrier_init(&swap_start, NULL, SWAP_THREADS);
	for (i = 0; i < SWAP_THREADS; i++)
		pthread_create(&t[i], NULL, swapper, (void *)(intptr_t)i);
	for (i = 0; i < SWAP_THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < SWAP_SLOTS; i++)
		free(swap_slot[i]);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	pthread_t pt, ct;
	long i, distinct = 0;
	char line[64];
	int len;

	if (argc > 1 && !strcmp(argv[1], "swap")) {
		n = argc > 2 ? atol(argv[2]) : 5000;
		return n < 1 || n > MAXN ? 2 : swap();
	}
	if (argc > 1)
		n = atol(argv[1]);
	if (n < 1 || n > MAXN)
		return 2;
	pthread_create(&ct, NULL, consumer, NULL);
	pthread_create(&pt, NULL, producer, NULL);
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	qsort(seen, (size_t)n, sizeof(seen[0]), cmp);
	for (i = 0; i < n; i++)
		distinct += !i || seen[i] != seen[i - 1];
	/* printed without stdio (its buffer would be one more allocation) */
	len = snprintf(line, sizeof(line), "handoff: %ld blocks, %s\n", n,
		       distinct < n ? "addresses reused" : "no reuse");
	return write(1, line, (size_t)len) == len ? 0 : 1;
}
