// SPDX-License-Identifier: MIT
/*
 * Unit tests of the replay's weighting of sampled traces (analyzer/replay.c, docs/sampling.md):
 * synthetic traces written with tracegen whose header says PERFSHIM_SAMPLE was on. Expected
 * values were computed apart from the code (Python: w = s / -expm1(-s / mean), var term
 * w(w - s)) and are written out here.
 */
#define PR_FMT "test"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/notes.h"
#include "analyzer/replay.h"
#include "tests/unit/testutil.h"

static char path[64];

static void setup(void)
{
	tu_tmpfile(path, "test-replay-sample");
}

static void teardown(void)
{
	unlink(path);
}

static struct trace *open_trace(void)
{
	struct trace *t;

	ck_assert_int_eq(trace_open(path, &t), 0);
	return t;
}

/* mean 1000: blocks of 1000 (freed), 3 x 10 and 5000 (live at the end); seed 7 */
static void write_small(uint32_t mean)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);

	g->hdr.sample_mean = mean;
	g->hdr.sample_seed = mean ? 7 : 0;
	tg_alloc(a, TRACE_ALLOC_MALLOC, 1000, 0x10000, 0, 100);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 10, 0x20000, 0, 200);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 10, 0x20100, 0, 300);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 10, 0x20200, 0, 400);
	tg_free(a, 0x10000, 500);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 5000, 0x30000, 0, 600);
	tg_close(g);
}

START_TEST(test_weights)
{
	/* the published weights: size / (1 - exp(-size/mean)) and w(w - size) */
	ck_assert_double_eq_tol(replay_weight(1000, 1000), 1581.9767068693266, 1e-9);
	ck_assert_double_eq_tol(replay_weight(1000, 10), 1005.0083333194444, 1e-9);
	ck_assert_double_eq_tol(replay_weight(1000, 5000), 5033.918274531521, 1e-9);
	ck_assert_double_eq_tol(replay_weight_var(1000, 1000), 920673.5942077927, 1e-6);
	ck_assert_double_eq_tol(replay_weight_var(1000, 10), 999991.6667083331, 1e-6);
	ck_assert_uint_eq(replay_weight_count(1000, 10), 101);	/* 100.5008 rounded */
	ck_assert_uint_eq(replay_weight_count(1000, 5000), 1);
	/* not sampled: a block is itself */
	ck_assert_double_eq(replay_weight(0, 123), 123);
	ck_assert_double_eq(replay_weight_var(0, 123), 0);
	ck_assert_uint_eq(replay_weight_count(0, 123), 1);
	/* size 0 stands for nothing (never sampled by the countdown) */
	ck_assert_double_eq(replay_weight(1000, 0), 0);
}
END_TEST

START_TEST(test_replay_sampled)
{
	struct replay r;
	struct trace *t;

	write_small(1000);
	t = open_trace();
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(replay_run(&r, t), 0);
	ck_assert_uint_eq(r.sample_mean, 1000);
	ck_assert_uint_eq(r.samples, 5);
	/* bytes: 1582 + 3 x 1005 + 5034, each weight rounded to the byte */
	ck_assert_uint_eq(r.bytes_alloc, 9631);
	ck_assert_uint_eq(r.bytes_freed, 1582);
	ck_assert_uint_eq(r.live_bytes, 3 * 1005 + 5034);
	ck_assert_uint_eq(r.peak_bytes, 3 * 1005 + 5034);
	ck_assert_double_eq_tol(r.bytes_var, 4091390.416337593, 1e-3);
	ck_assert_double_eq_tol(r.live_var, 3170716.8221298005, 1e-3);
	ck_assert_double_eq_tol(r.peak_var, 3170716.8221298005, 1e-3);
	/* counts: 1/p is 1.58 (1000), 100.5 (10), 1.0068 (5000): each floor or floor + 1 */
	ck_assert_uint_ge(r.allocs, 1 + 300 + 1);
	ck_assert_uint_le(r.allocs, 2 + 303 + 2);
	ck_assert_uint_eq(r.allocs - r.live_blocks, r.frees);
	ck_assert_uint_eq(r.temporary, 0);	/* not counted under sampling */
	/* the decoder's totals for the notes agree with the replay's */
	ck_assert_uint_eq(t->nsamples, 5);
	ck_assert_double_eq_tol(t->sample_var, 4091390.416337593, 1e-3);
	ck_assert_double_eq_tol(t->sample_bytes, 9630.919, 1e-3);
	replay_free(&r);
	trace_close(t);
}
END_TEST

START_TEST(test_counts_unbiased)
{
	/* 1000 blocks of 10 bytes at mean 1000: each stands for 100.5008 allocations; the dithered
	 * counts add up to about 100500.8 (binomial spread of the fractions: sd about 16) and
	 * the same on every replay */
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);
	uint64_t first = 0;
	int i, pass;

	g->hdr.sample_mean = 1000;
	for (i = 0; i < 1000; i++)
		tg_alloc(a, TRACE_ALLOC_MALLOC, 10, 0x100000 + 16 * (uint64_t)i, 0, 100 + i);
	tg_close(g);
	for (pass = 0; pass < 2; pass++) {
		struct trace *t = open_trace();
		struct replay r;

		memset(&r, 0, sizeof(r));
		ck_assert_int_eq(replay_run(&r, t), 0);
		ck_assert_uint_eq(r.bytes_alloc, 1005000);
		ck_assert_uint_ge(r.allocs, 100500 - 100);
		ck_assert_uint_le(r.allocs, 100501 + 100);
		ck_assert_uint_eq(r.live_blocks, r.allocs);
		if (pass)
			ck_assert_uint_eq(r.allocs, first);
		first = r.allocs;
		replay_free(&r);
		trace_close(t);
	}
}
END_TEST

START_TEST(test_unsampled_unchanged)
{
	/* the same events in a trace without sampling: plain sizes and counts */
	struct replay r;
	struct trace *t;
	struct notes n;
	unsigned i;

	write_small(0);
	t = open_trace();
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(replay_run(&r, t), 0);
	ck_assert_uint_eq(r.sample_mean, 0);
	ck_assert_uint_eq(r.samples, 0);
	ck_assert_uint_eq(r.bytes_alloc, 1000 + 30 + 5000);
	ck_assert_uint_eq(r.allocs, 5);
	ck_assert_uint_eq(r.frees, 1);
	ck_assert_uint_eq(r.live_blocks, 4);
	ck_assert_uint_eq(r.temporary, 0);
	ck_assert_double_eq(r.bytes_var, 0);
	notes_get(t, &n);
	for (i = 0; i < n.nwarn; i++)
		ck_assert_ptr_null(strstr(n.warn[i], "sampled"));
	notes_free(&n);
	replay_free(&r);
	trace_close(t);
}
END_TEST

START_TEST(test_note)
{
	struct trace *t;
	struct notes n;
	unsigned i, found = 0;

	write_small(1000);
	t = open_trace();
	notes_get(t, &n);
	for (i = 0; i < n.nwarn; i++)
		if (strstr(n.warn[i], "sampled trace: memory figures are estimates from 5 sampled "
			   "allocations (PERFSHIM_SAMPLE mean 1000 B, seed 7): bytes allocated "
			   "9.4 KiB \u00b12.0 KiB (one standard deviation)"))
			found++;
	if (!found)
		for (i = 0; i < n.nwarn; i++)
			fprintf(stderr, "note: %s\n", n.warn[i]);
	ck_assert_uint_eq(found, 1);
	ck_assert(n.complete);		/* an estimate is not a missing part */
	notes_free(&n);
	trace_close(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("replay-sample");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_weights);
	tcase_add_test(tc, test_replay_sampled);
	tcase_add_test(tc, test_counts_unbiased);
	tcase_add_test(tc, test_unsampled_unchanged);
	tcase_add_test(tc, test_note);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
