// leaky: leaks exactly 7 blocks of 1000 bytes, all from leak_here(), and frees everything
// else (temporaries, a realloc chain, realloc(NULL, n), realloc(p, 0)). `leaky sys` also
// prints with printf and runs a thread: the C library's own blocks that stay live at exit.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NLEAK 7
#define LEAK_SIZE 1000

/*
 * What the memory report must find without `sys` (see tests/run/65-memory-leaky.sh):
 *   allocations 15, bytes 7977, frees 8, leaked 7000 B in 7 blocks (leak_here),
 *   temporary 4 (three in temporaries(), realloc(d, 0) in work()),
 *   peak 7678 B (7000 + 678 live in work()) when d was allocated.
 */
void *volatile kept[NLEAK];		/* volatile: the compiler may not drop the calls */
void *volatile sink;

static void __attribute__((noinline)) leak_here(int i)
{
	kept[i] = malloc(LEAK_SIZE);
	memset(kept[i], i, LEAK_SIZE);
}

/* malloc then free with nothing allocated in between: 3 temporaries, 32 + 33 + 34 bytes */
static void __attribute__((noinline)) temporaries(void)
{
	int i;

	for (i = 0; i < 3; i++) {
		sink = malloc(32 + i);
		free(sink);
	}
}

/* 100 + 200 + 400 + 128 + 50 bytes in 5 allocations; 678 B live at most; all freed */
static void __attribute__((noinline)) work(void)
{
	char *a, *b, *c, *d;

	a = calloc(10, 10);
	b = malloc(200);
	sink = b;
	b = realloc(sink, 400);			/* one allocation of 400, one free of 200 */
	c = aligned_alloc(64, 128);
	sink = NULL;
	d = realloc(sink, 50);			/* realloc(NULL, n): an allocation */
	memset(d, 1, 50);
	sink = d;
	d = realloc(sink, 0);			/* glibc frees and returns NULL: a free */
	if (d)
		_exit(3);
	sink = a;
	free(sink);
	sink = b;
	free(sink);
	sink = c;
	free(sink);
}

static void *thread_fn(void *arg)
{
	printf("thread %d\n", *(int *)arg);
	return NULL;
}

static void __attribute__((noinline)) sys(void)
{
	pthread_t t;
	int one = 1;

	printf("hello from leaky\n");
	if (pthread_create(&t, NULL, thread_fn, &one))
		_exit(4);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	static const char done[] = "leaky: done\n";
	int i;

	for (i = 0; i < NLEAK; i++)
		leak_here(i);
	work();
	temporaries();
	if (argc > 1 && !strcmp(argv[1], "sys"))
		sys();
	if (write(1, done, sizeof(done) - 1) < 0)
		return 2;
	return 0;
}
