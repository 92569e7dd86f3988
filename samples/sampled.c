// sampled: 1 GiB allocated from three sites, 50/30/20%, in blocks of 64 KiB to 1 MiB, all
// freed; and a 10 MiB leak of 160 blocks of 64 KiB from leak_site(). The allocation sizes are
// fixed, so the totals are exact (tests/run/86-sampling.sh checks the sampled estimates
// against them; docs/sampling.md):
//   site_half    536870912 bytes      site_third   322122547 bytes
//   site_fifth   214748365 bytes      leak_site     10485760 bytes (never freed)
// `sampled small` allocates the same totals in blocks of 64 to 4096 bytes (a heavier run).
// `sampled many N` instead holds N blocks of 64 bytes from many_site() live at once, then
// frees them all (more live samples than the shim's table holds, with PERFSHIM_SAMPLE=1).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEEP 8				/* blocks each site keeps live at once */
#define LEAK_BLOCKS 160
#define LEAK_SIZE (64 << 10)

static void *live[3][KEEP];
static void *leaked[LEAK_BLOCKS];
static unsigned next_size = 1;		/* the size sequence, the same in every run */
static int small;

static size_t block_size(void)
{
	next_size = next_size * 1103515245u + 12345u;
	if (small)
		return 64 + (next_size >> 8) % 4033;			/* 64 .. 4096 */
	return (64 << 10) + (size_t)((next_size >> 8) % (960 << 10));	/* 64 KiB .. 1 MiB */
}

/* Allocate @total bytes in blocks, keeping the last KEEP of them live; the last is cut. */
static void __attribute__((noinline)) fill(int site, uint64_t total)
{
	unsigned k = 0;

	while (total) {
		size_t n = block_size();
		char *p;

		if (n > total)
			n = total;
		p = malloc(n);
		if (!p)
			abort();
		p[0] = (char)site;		/* touch one byte: the pages stay untouched */
		free(live[site][k]);
		live[site][k] = p;
		k = (k + 1) % KEEP;
		total -= n;
	}
}

#define ROUNDS 16
/* round @i's share of @total: a sixteenth, the remainder in the last round */
static uint64_t share(uint64_t total, int i)
{
	return total / ROUNDS + (i == ROUNDS - 1 ? total % ROUNDS : 0);
}

static void __attribute__((noinline)) site_half(int i)
{
	fill(0, share(536870912, i));
}

static void __attribute__((noinline)) site_third(int i)
{
	fill(1, share(322122547, i));
}

static void __attribute__((noinline)) site_fifth(int i)
{
	fill(2, share(214748365, i));
}

static void __attribute__((noinline)) leak_site(int i)
{
	leaked[i] = malloc(LEAK_SIZE);
	if (!leaked[i])
		abort();
	memset(leaked[i], 1, 64);
}

static void __attribute__((noinline)) many_site(void **v, long i)
{
	v[i] = malloc(64);
	if (!v[i])
		abort();
}

static int many(long n)
{
	void **v = malloc(n * sizeof(*v));
	long i;

	if (!v)
		return 1;
	for (i = 0; i < n; i++)
		many_site(v, i);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	int i, s, k;

	if (argc > 2 && !strcmp(argv[1], "many"))
		return many(atol(argv[2]));
	small = argc > 1 && !strcmp(argv[1], "small");
	/* interleaved in rounds, as a real program's sites would be */
	for (i = 0; i < ROUNDS; i++) {
		site_half(i);
		site_third(i);
		site_fifth(i);
		for (k = 0; k < LEAK_BLOCKS / ROUNDS; k++)
			leak_site(i * (LEAK_BLOCKS / ROUNDS) + k);
	}
	for (s = 0; s < 3; s++)
		for (k = 0; k < KEEP; k++)
			free(live[s][k]);
	return 0;
}
