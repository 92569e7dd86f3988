/* mallocbench.c - allocation-heavy sample: N malloc/free pairs (default 8M) of varied sizes,
 * each from a 10-deep call stack, split over T threads. Usage: mallocbench [N] [T] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 64			/* live blocks per thread: frees trail mallocs by 64 */
#define NOINL __attribute__((noinline))

struct worker {
	unsigned long pairs;	/* malloc/free pairs this thread makes */
	uint64_t seed;
	uint64_t sum;		/* checksum of what was written, printed at the end */
	void *ring[RING];
};

/* Sizes: mostly small (16..256 bytes), some medium (up to 4 KiB), 1 in 64 up to 16 KiB. */
static size_t pick_size(uint64_t *seed)
{
	uint64_t r;

	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	r = *seed >> 33;
	if ((r & 63) < 48)
		return 16 + (r >> 6) % 241;
	if ((r & 63) < 63)
		return 257 + (r >> 6) % 3840;
	return 4097 + (r >> 6) % 12288;
}

/* The allocation site: level0 is called from level9 through level1..level8 (noinline, and
 * each adds to its result after the call, so no level becomes a tail call). */
static NOINL unsigned char *level0(size_t size)
{
	unsigned char *p = malloc(size);

	if (!p) {
		perror("mallocbench: malloc");
		exit(1);
	}
	p[0] = (unsigned char)size;
	p[size - 1] = (unsigned char)(size >> 8);
	return p;
}

#define LEVEL(n, m)                                                                                \
	static NOINL unsigned char *level##n(size_t size, uint64_t *sum)                           \
	{                                                                                          \
		unsigned char *p = level##m(size, sum);                                            \
		*sum += n;                                                                         \
		return p;                                                                          \
	}

static NOINL unsigned char *level1(size_t size, uint64_t *sum)
{
	unsigned char *p = level0(size);

	*sum += 1;
	return p;
}
LEVEL(2, 1)
LEVEL(3, 2)
LEVEL(4, 3)
LEVEL(5, 4)
LEVEL(6, 5)
LEVEL(7, 6)
LEVEL(8, 7)
LEVEL(9, 8)

static NOINL void release(void *p, uint64_t *sum)
{
	unsigned char *c = p;

	*sum += c[0];
	free(p);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned long i;

	for (i = 0; i < w->pairs; i++) {
		void **slot = &w->ring[i % RING];
		size_t size = pick_size(&w->seed);

		if (*slot)
			release(*slot, &w->sum);
		*slot = level9(size, &w->sum);
	}
	for (i = 0; i < RING; i++)
		if (w->ring[i])
			release(w->ring[i], &w->sum);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 8UL << 20;
	int nthreads = argc > 2 ? atoi(argv[2]) : 1;
	struct worker *w;
	pthread_t *tids;
	uint64_t sum = 0;
	int i, err;

	if (nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "mallocbench: threads must be in 1..64\n");
		return 2;
	}
	w = calloc(nthreads, sizeof(*w));
	tids = calloc(nthreads, sizeof(*tids));
	if (!w || !tids) {
		perror("mallocbench: calloc");
		return 1;
	}
	for (i = 0; i < nthreads; i++) {
		w[i].pairs = n / nthreads + (i < (int)(n % nthreads));
		w[i].seed = 12345 + i;
	}
	/* Thread 0 is the main thread: with T = 1 no thread is created at all. */
	for (i = 1; i < nthreads; i++) {
		err = pthread_create(&tids[i], NULL, work, &w[i]);
		if (err) {
			fprintf(stderr, "mallocbench: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	work(&w[0]);
	for (i = 1; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	for (i = 0; i < nthreads; i++)
		sum += w[i].sum;
	printf("mallocbench: %lu malloc/free pairs in %d thread%s, checksum %llu\n", n, nthreads,
	       nthreads == 1 ? "" : "s", (unsigned long long)sum);
	free(tids);
	free(w);
	return 0;
}
