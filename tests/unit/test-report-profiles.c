// SPDX-License-Identifier: MIT
/*
 * Unit tests of the profile exports (analyzer/report-pprof.c, report-callgrind.c,
 * report-massif.c, pbuf.c) over synthetic traces written with tracegen, with exact
 * expectations: the protocol-buffer bytes, the pprof profile decoded back (sample values
 * summed per type), callgrind's call edges with their calls and inclusive costs (recursion
 * counted once), massif's peak snapshot. tests/run/74-77 check the same files with the real
 * consumers.
 */
#define PR_FMT "test"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "analyzer/export.h"
#include "analyzer/report.h"
#include "tests/unit/testutil.h"

void pffn_main(void);
void pffn_a(void);
void pffn_rec(void);
void __attribute__((noinline)) pffn_main(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) pffn_a(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) pffn_rec(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }

#define FMAIN ((uint64_t)(uintptr_t)pffn_main)
#define FA ((uint64_t)(uintptr_t)pffn_a)
#define FREC ((uint64_t)(uintptr_t)pffn_rec)

static char trace_path[64], out_path[64];

static void setup(void)
{
	tu_tmpfile(trace_path, "test-report-profiles");
	tu_tmpfile(out_path, "test-report-profiles-out");
}

static void teardown(void)
{
	if (!getenv("KEEP")) {
		unlink(trace_path);
		unlink(out_path);
	}
}

/*
 * The trace (ns), one thread:
 *   0    main {                         main: 1000, self 1000 - 300 - 500 = 200
 *   100    a { alloc 64 at 150 } 400    a: 300, self 300 (64 B allocated)
 *   450    rec {                        rec: total 500 (outer), self 500 - 200 + 200 = 500
 *   500      rec { alloc 16 at 550 } 700  (nested: its calls count, its cost once)
 *          } 950
 *        } 1000
 * and at 1100, outside every call, 8 bytes from a stack [a, main] (return addresses).
 * Calls: main 1, a 1, rec 2; self sum 1000; allocations 3, 88 bytes.
 */
static void write_trace(void)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 7);
	uint64_t ia[2] = { FA + 4, FMAIN + 4 };
	uint32_t s;

	tu_module_of(th, FMAIN, 0);
	s = tg_stack(th, true, ia, 2);
	tg_enter(th, FMAIN, 0);
	tg_enter(th, FA, 100);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 64, 0x1000, s, 150);
	tg_exit(th, 400);
	tg_enter(th, FREC, 450);
	tg_enter(th, FREC, 500);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 16, 0x2000, s, 550);
	tg_exit(th, 700);
	tg_exit(th, 950);
	tg_exit(th, 1000);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 8, 0x3000, s, 1100);
	tg_free(th, 0x1000, 1200);
	tg_close(g);
}

static char *run(int (*fn)(struct trace *, const struct opts *), const struct opts *o,
		 size_t *len)
{
	struct trace *t;
	char *s;
	FILE *f;
	long n;

	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	ck_assert_int_eq(fn(t, o), 0);
	trace_close(t);
	f = fopen(out_path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return s;
}

/* ---- protocol buffers ---- */

START_TEST(test_pbuf)
{
	static const uint8_t want[] = {
		0x01, 0xac, 0x02,				/* varints 1, 300 */
		0x08, 0x96, 0x01,				/* field 1 = 150 */
		0x12, 0x03, 'a', 'b', 'c',			/* field 2 = "abc" */
		0x1a, 0x04, 0x03, 0x8e, 0x02, 0x00,		/* field 3 packed 3, 270, 0 */
	};
	uint64_t packed[] = { 3, 270, 0 };
	struct pbuf b = { 0 };

	pb_varint(&b, 1);
	pb_varint(&b, 300);
	pb_uint(&b, 1, 150);
	pb_uint(&b, 9, 0);		/* proto3: zero is left out */
	pb_bytes(&b, 2, "abc", 3);
	pb_packed(&b, 3, packed, 3);
	pb_packed(&b, 4, packed, 0);	/* nothing for no values */
	ck_assert_uint_eq(b.n, sizeof(want));
	ck_assert_mem_eq(b.p, want, sizeof(want));
	pb_free(&b);
	pb_varint(&b, UINT64_MAX);	/* ten bytes, the last 0x01 */
	ck_assert_uint_eq(b.n, 10);
	ck_assert_uint_eq(b.p[9], 0x01);
	ck_assert_uint_eq(b.p[0], 0xff);
	pb_free(&b);
}
END_TEST

/* gunzip @len bytes of @in (one gzip member). Return: malloc'd, *@out_len set */
static uint8_t *gunzip(const char *in, size_t len, size_t *out_len)
{
	size_t cap = 1 << 20;
	uint8_t *out = xmalloc(cap);
	z_stream z;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = cap - z.avail_out;
	inflateEnd(&z);
	return out;
}

static uint64_t get_varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	unsigned s = 0;

	while (*p < end) {
		uint8_t c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << s;
		if (!(c & 0x80))
			return v;
		s += 7;
	}
	ck_abort_msg("varint cut short");
	return 0;
}

START_TEST(test_gzip)
{
	struct pbuf b = { 0 };
	char *buf = NULL;
	size_t blen = 0, n, i;
	uint8_t *back;
	FILE *f = open_memstream(&buf, &blen);

	for (i = 0; i < 100000; i++)
		pb_varint(&b, i * 7919);
	ck_assert_int_eq(pb_gzip(&b, f), 0);
	fclose(f);
	ck_assert_uint_eq((uint8_t)buf[0], 0x1f);	/* gzip magic */
	ck_assert_uint_eq((uint8_t)buf[1], 0x8b);
	back = gunzip(buf, blen, &n);
	ck_assert_uint_eq(n, b.n);
	ck_assert_mem_eq(back, b.p, n);
	free(back);
	free(buf);
	pb_free(&b);
}
END_TEST

/* ---- pprof: the profile decoded back ---- */

START_TEST(test_pprof)
{
	struct opts o = tu_opts();
	uint64_t sums[6] = { 0 }, nsamples = 0, ntypes = 0, nfuncs = 0, nmaps = 0;
	const uint8_t *p, *end;
	bool names[3] = { false };
	size_t len, n;
	uint8_t *pb;
	char *gz;

	write_trace();
	o.output = out_path;
	gz = run(report_pprof, &o, &len);
	pb = gunzip(gz, len, &n);
	for (p = pb, end = pb + n; p < end;) {
		uint64_t key = get_varint(&p, end), l;
		const uint8_t *q, *qe;

		ck_assert_uint_eq(key & 7, 2);		/* every top-level field here is a message,
							 * a string or packed, except the varints below */
		l = get_varint(&p, end);
		q = p;
		qe = p + l;
		p = qe;
		switch (key >> 3) {
		case 1: ntypes++; break;
		case 3: nmaps++; break;
		case 5: nfuncs++; break;
		case 6:
			names[0] |= l == 9 && !memcmp(q, "pffn_main", 9);
			names[1] |= l == 6 && !memcmp(q, "pffn_a", 6);
			names[2] |= l == 11 && !memcmp(q, "alloc_space", 11);
			break;
		case 2:
			nsamples++;
			while (q < qe) {	/* Sample: 1 location ids, 2 values (packed) */
				uint64_t k = get_varint(&q, qe), vl = get_varint(&q, qe);
				const uint8_t *v = q;
				unsigned i = 0;

				q += vl;
				if (k >> 3 != 2)
					continue;
				while (v < q)
					sums[i++] += get_varint(&v, q);
				ck_assert_uint_eq(i, 6);
			}
			break;
		}
		if (p < end && (*p & 7) == 0) {	/* time_nanos, duration, comment, default */
			while (p < end && (*p & 7) == 0) {
				get_varint(&p, end);
				get_varint(&p, end);
			}
		}
	}
	ck_assert_uint_eq(ntypes, 6);
	ck_assert(names[0] && names[1] && names[2]);
	ck_assert_uint_ge(nmaps, 1);
	ck_assert_uint_ge(nfuncs, 3);
	/* calls 4, self 1000 ns; 3 allocations of 88 B, 2 of 24 B live at the end */
	ck_assert_uint_eq(sums[0], 4);
	ck_assert_uint_eq(sums[1], 1000);
	ck_assert_uint_eq(sums[2], 3);
	ck_assert_uint_eq(sums[3], 88);
	ck_assert_uint_eq(sums[4], 2);
	ck_assert_uint_eq(sums[5], 24);
	/* call paths: main, main;a, main;rec, main;rec;rec; one allocation stack */
	ck_assert_uint_eq(nsamples, 5);
	free(pb);
	free(gz);
}
END_TEST

/* ---- callgrind ---- */

/* whether a "calls=@calls ..." line is followed by a cost line ending " @cost" */
static bool has_call(const char *s, unsigned long calls, const char *cost)
{
	char pre[64];
	const char *p, *nl;

	snprintf(pre, sizeof(pre), "\ncalls=%lu ", calls);
	for (p = strstr(s, pre); p; p = strstr(p + 1, pre)) {
		const char *line = strchr(p + 1, '\n');

		if (!line)
			return false;
		nl = strchr(line + 1, '\n');
		if (nl && (size_t)(nl - line) > strlen(cost) &&
		    !strncmp(nl - strlen(cost), cost, strlen(cost)) && nl[-(long)strlen(cost) - 1] == ' ')
			return true;
	}
	return false;
}

START_TEST(test_callgrind)
{
	struct opts o = tu_opts();
	char *s;

	write_trace();
	o.output = out_path;
	s = run(report_callgrind, &o, NULL);
	ck_assert_msg(!strncmp(s, "# callgrind format\nversion: 1\n", 30), "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "\nevents: ns allocs bytes\n"));
	ck_assert_ptr_nonnull(strstr(s, "fn=(1) pffn_main\n"));
	/* [root] -> main: 1000 ns, 2 allocations of 80 B inside */
	ck_assert_msg(has_call(s, 1, "1000 2 80"), "%s", s);
	/* main -> a: 300 ns and a's 64 B; main -> rec: 500 ns and the nested one's 16 B */
	ck_assert_msg(has_call(s, 1, "300 1 64"), "%s", s);
	ck_assert_msg(has_call(s, 1, "500 1 16"), "%s", s);
	/* rec -> rec: a call, no cost (the outer activation holds it) */
	ck_assert_msg(has_call(s, 1, "0 0 0"), "%s", s);
	/* the 8 B outside every call: the stack's innermost function, a */
	ck_assert_msg(strstr(s, "fn=(2) pffn_a\n") && strstr(s, " 300 2 72\n"), "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "\ntotals: 1000 3 88\n"));
	free(s);
}
END_TEST

/* ---- massif ---- */

START_TEST(test_massif)
{
	struct opts o = tu_opts();
	const char *pk;
	char *s;

	write_trace();
	o.output = out_path;
	o.time_unit = "B";
	s = run(report_massif, &o, NULL);
	ck_assert_msg(!strncmp(s, "desc: ", 6), "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "\ncmd: "));
	ck_assert_ptr_nonnull(strstr(s, "\ntime_unit: B\n"));
	/* the peak: 64 + 16 + 8 = 88 B live at 1100 (88 B allocated, none freed yet) */
	pk = strstr(s, "heap_tree=peak\n");
	ck_assert_ptr_nonnull(pk);
	ck_assert_ptr_null(strstr(pk + 1, "heap_tree=peak"));
	ck_assert_msg(strstr(s, "time=88\nmem_heap_B=88\nmem_heap_extra_B=0\nmem_stacks_B=0\n"
				"heap_tree=peak\nn1: 88 (heap allocation functions)"), "%s", s);
	/* below it the one stack: a, then main */
	ck_assert_msg(strstr(pk, "\n n1: 88 0x") && strstr(pk, ": pffn_a ") &&
		      strstr(pk, "\n  n0: 88 0x"), "%s", pk);
	/* the last snapshot: 24 B live, after 88 B allocated and 64 B freed */
	ck_assert_msg(strstr(s, "time=152\nmem_heap_B=24\n"), "%s", s);
	free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report-profiles");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pbuf);
	tcase_add_test(tc, test_gzip);
	tcase_add_test(tc, test_pprof);
	tcase_add_test(tc, test_callgrind);
	tcase_add_test(tc, test_massif);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
