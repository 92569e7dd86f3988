/* SPDX-License-Identifier: MIT */
/*
 * The report fuzzer without libFuzzer (gcc-only machines, `make check`): every input of the
 * seed corpus tests/fuzz/corpus/, then a deterministic mutation loop from a fixed seed, each
 * through every command and format (tests/fuzz/fuzz-reports.h). A crash or a sanitizer report
 * is the failure. PERFSHIM_FUZZ_RUNS=N runs N mutants (default 100); PERFSHIM_FUZZ_SEED the seed.
 */
#include <dirent.h>

#include "tests/fuzz/fuzz-reports.h"
#include "tests/unit/testutil.h"

#define CORPUS_DIR "tests/fuzz/corpus"
#define FUZZ_MAX_INPUT (1U << 16)

struct input {
	uint8_t *b;
	size_t n;
};

/* the corpus files, sorted by name (the same order on every machine) */
static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned load_corpus(struct input *in, unsigned max)
{
	char *names[256], path[512];
	unsigned n = 0, i, k = 0;
	struct dirent *de;
	DIR *d = opendir(getenv("PERFSHIM_FUZZ_CORPUS") ? getenv("PERFSHIM_FUZZ_CORPUS")
							 : CORPUS_DIR);

	ck_assert_msg(d != NULL, "no %s (run from the top of the tree)", CORPUS_DIR);
	while ((de = readdir(d)) != NULL && n < 256)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s",
			 getenv("PERFSHIM_FUZZ_CORPUS") ? getenv("PERFSHIM_FUZZ_CORPUS")
							: CORPUS_DIR, names[i]);
		f = fopen(path, "rb");
		if (f && k < max) {
			in[k].b = malloc(FUZZ_MAX_INPUT);
			in[k].n = fread(in[k].b, 1, FUZZ_MAX_INPUT, f);
			k++;
		}
		if (f)
			fclose(f);
		free(names[i]);
	}
	return k;
}

START_TEST(test_corpus)
{
	struct input in[64];
	unsigned n = load_corpus(in, 64), i;

	ck_assert_uint_ge(n, 8);
	memset(&fuzz_stats, 0, sizeof(fuzz_stats));
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(fuzz_reports_bytes(in[i].b, in[i].n), 0);
		free(in[i].b);
	}
	printf("fuzz-reports: %u corpus inputs, %lu analyzer runs, %lu exited 0\n", n,
	       fuzz_stats.runs, fuzz_stats.ok);
	/* the corpus is mostly good traces: nearly every run must succeed */
	ck_assert_uint_gt(fuzz_stats.runs, 50 * n);
	ck_assert_uint_gt(fuzz_stats.ok * 10, fuzz_stats.runs * 7);
}
END_TEST

/* one mutation of @b (@n bytes, room for FUZZ_MAX_INPUT), libFuzzer-like; returns the new size */
static size_t mutate(uint8_t *b, size_t n, uint64_t *rng)
{
	uint64_t r = tgr_rand(rng);
	size_t at = n ? (size_t)(tgr_rand(rng) % n) : 0, len = 1 + (size_t)(tgr_rand(rng) % 16);

	switch (r % 6) {
	case 0:					/* flip a bit */
		if (n)
			b[at] ^= (uint8_t)(1U << (r >> 8) % 8);
		break;
	case 1:					/* a random byte */
		if (n)
			b[at] = (uint8_t)(r >> 16);
		break;
	case 2:					/* delete a run */
		if (at + len > n)
			len = n - at;
		memmove(b + at, b + at + len, n - at - len);
		n -= len;
		break;
	case 3:					/* insert random bytes */
		if (n + len <= FUZZ_MAX_INPUT) {
			size_t i;

			memmove(b + at + len, b + at, n - at);
			for (i = 0; i < len; i++)
				b[at + i] = (uint8_t)tgr_rand(rng);
			n += len;
		}
		break;
	case 4:					/* copy a run elsewhere (repeats records) */
		if (n && at + len <= n && n + len <= FUZZ_MAX_INPUT) {
			size_t to = (size_t)(tgr_rand(rng) % n);

			memmove(b + to + len, b + to, n - to);
			memmove(b + to, b + (at >= to ? at + len : at), len);
			n += len;
		}
		break;
	default:				/* an interesting value */
		if (n >= 8 && at + 8 <= n) {
			static const uint64_t vals[] = { 0, 1, 255, 0xffffffffffffffffULL,
							 1ULL << 47, 0x7fffffffffffffffULL };

			memcpy(b + at, &vals[(r >> 8) % 6], 8);
		}
		break;
	}
	return n;
}

START_TEST(test_mutants)
{
	struct input in[64];
	unsigned n = load_corpus(in, 64), i, runs = 100;
	uint64_t seed = 0x5eed, rng;
	uint8_t *b = malloc(FUZZ_MAX_INPUT);

	if (getenv("PERFSHIM_FUZZ_RUNS"))
		runs = (unsigned)strtoul(getenv("PERFSHIM_FUZZ_RUNS"), NULL, 0);
	if (getenv("PERFSHIM_FUZZ_SEED"))
		seed = strtoull(getenv("PERFSHIM_FUZZ_SEED"), NULL, 0);
	rng = seed;
	memset(&fuzz_stats, 0, sizeof(fuzz_stats));
	for (i = 0; i < runs; i++) {
		const struct input *src = &in[tgr_rand(&rng) % n];
		unsigned k, rounds = 1 + (unsigned)(tgr_rand(&rng) % 4);
		size_t len = src->n;

		memcpy(b, src->b, len);
		for (k = 0; k < rounds; k++)
			len = mutate(b, len, &rng);
		if (fuzz_reports_bytes(b, len) != 0)
			ck_abort_msg("mutant %u (seed 0x%llx): no memfd", i, (unsigned long long)seed);
	}
	printf("fuzz-reports: %u mutants (seed 0x%llx), %lu analyzer runs, %lu exited 0\n", runs,
	       (unsigned long long)seed, fuzz_stats.runs, fuzz_stats.ok);
	/* the mutants still reach the reports: a good part of the runs succeed */
	ck_assert_uint_gt(fuzz_stats.ok * 4, fuzz_stats.runs);
	for (i = 0; i < n; i++)
		free(in[i].b);
	free(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuzz-reports");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);	/* bounded by counts, not time; ASan is slow */
	tcase_add_test(tc, test_corpus);
	tcase_add_test(tc, test_mutants);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
