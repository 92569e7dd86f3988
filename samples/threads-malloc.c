// Cross-thread malloc/free: T threads (default 16) each malloc N blocks (default 5000) that the
// next thread frees (so freed addresses are reused across threads); thread i leaks i % 3 + 1 blocks.
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXT 64
#define MAXN 100000
#define NOINL __attribute__((noinline))

/* One single-producer single-consumer channel per thread, as long as all it will receive:
 * thread i writes to chan[(i + 1) % T] and frees what arrives in chan[i]. */
struct chan {
	void **slots;
	unsigned long count;	/* published slots (release/acquire) */
} __attribute__((aligned(64)));

static struct chan chan[MAXT];
static unsigned nthreads;
static unsigned long nblocks;
static unsigned long bad[MAXT];	/* blocks that arrived damaged */

static size_t block_size(unsigned long k)
{
	return 16 + (k * 7) % 200;
}

static NOINL void *make_block(unsigned id, unsigned long k)
{
	unsigned long *p = malloc(block_size(k));

	if (!p) {
		perror("threads-malloc: malloc");
		exit(1);
	}
	p[0] = id;
	p[1] = k;
	return p;
}

static NOINL void drop_block(unsigned from, unsigned long k, void *b)
{
	unsigned long *p = b;

	if (p[0] != from || p[1] != k)
		bad[(from + 1) % nthreads]++;
	free(p);
}

/* Free what has arrived so far; return how many have been freed in all. */
static unsigned long drain(unsigned id, unsigned long done)
{
	struct chan *in = &chan[id];
	unsigned long avail = __atomic_load_n(&in->count, __ATOMIC_ACQUIRE);
	unsigned from = (id + nthreads - 1) % nthreads;

	for (; done < avail; done++)
		drop_block(from, done, in->slots[done]);
	return done;
}

static NOINL void leak_some(unsigned id)
{
	unsigned i;

	for (i = 0; i < id % 3 + 1; i++) {
		char *p = malloc(200 + id);

		if (p)
			memset(p, (int)id, 200 + id);
	}
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct chan *out = &chan[(id + 1) % nthreads];
	unsigned long k, freed = 0;

	for (k = 0; k < nblocks; k++) {
		out->slots[k] = make_block(id, k);
		__atomic_store_n(&out->count, k + 1, __ATOMIC_RELEASE);
		if (k % 16 == 15)
			freed = drain(id, freed);
	}
	while ((freed = drain(id, freed)) < nblocks)
		sched_yield();
	leak_some(id);
	return NULL;
}

int main(int argc, char **argv)
{
	static void *storage[MAXT * 1UL * MAXN / 8];	/* slots of all channels, no malloc */
	pthread_t tids[MAXT];
	unsigned long leaked_blocks = 0, leaked_bytes = 0, damaged = 0;
	unsigned i;

	nthreads = argc > 1 ? (unsigned)atoi(argv[1]) : 16;
	nblocks = argc > 2 ? strtoul(argv[2], NULL, 10) : 5000;
	if (nthreads < 2 || nthreads > MAXT || nblocks < 1 ||
	    nthreads * nblocks > sizeof(storage) / sizeof(storage[0])) {
		fprintf(stderr, "usage: threads-malloc [THREADS 2..%d] [BLOCKS]\n", MAXT);
		return 2;
	}
	for (i = 0; i < nthreads; i++)
		chan[i].slots = storage + (size_t)i * nblocks;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&tids[i], NULL, worker, (void *)(uintptr_t)i)) {
			fprintf(stderr, "threads-malloc: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		leaked_blocks += i % 3 + 1;
		leaked_bytes += (i % 3 + 1) * (200 + i);
		damaged += bad[i];
	}
	printf("threads %u, blocks %lu each, allocations %lu, frees %lu\n", nthreads, nblocks,
	       nthreads * nblocks + leaked_blocks, nthreads * nblocks);
	printf("leaked blocks %lu, leaked bytes %lu, damaged %lu\n", leaked_blocks, leaked_bytes,
	       damaged);
	return damaged ? 1 : 0;
}
