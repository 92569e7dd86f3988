// SPDX-License-Identifier: MIT
/*
 * Unit tests of analyzer/mem.c, analyzer/report-mem.c and analyzer/suppress.c: synthetic traces written with
 * tracegen, each with a known answer for every field. Reports run with stdout sent to a file
 * that is read back (JSON through the small parser below, text by exact lines). Stacks name
 * this test binary's own functions (a MODULE record at its real load bias), so frames
 * symbolize to the names below; libc frames use the real libc at its real load bias.
 */
#define PR_FMT "test"

#include <check.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/mem.h"
#include "analyzer/supp.h"
#include "analyzer/text.h"
#include "tests/unit/testutil.h"

/* ---- functions whose addresses are the test's stack frames (their lines: test_text) ---- */
void leakfn_a(void), leakfn_b(void);
void leakfn_c(void), leakfn_main(void);
void __attribute__((noinline)) leakfn_a(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) leakfn_b(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) leakfn_c(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) leakfn_main(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }

#define FA ((uint64_t)(uintptr_t)leakfn_a)
#define FB ((uint64_t)(uintptr_t)leakfn_b)
#define FC ((uint64_t)(uintptr_t)leakfn_c)
#define FMAIN ((uint64_t)(uintptr_t)leakfn_main)

static char trace_path[64], out_path[64];

static void setup(void)
{
	tu_tmpfile(trace_path, "test-report-mem");
	tu_tmpfile(out_path, "test-report-mem-out");
}

struct jv;
static void jfree(struct jv *v);
static struct jv *last_json;	/* freed by the next run_json and the teardown */

static void teardown(void)
{
	unlink(trace_path);
	unlink(out_path);
	jfree(last_json);
	last_json = NULL;
}

/* ---- modules: this binary and libc, at their real addresses ---- */

/* One-frame stack of a function entry (NODE_FN). */
static uint32_t fn1(struct tg_thread *th, uint64_t f)
{
	return tg_stack(th, false, &f, 1);
}

static uint32_t fn2(struct tg_thread *th, uint64_t f, uint64_t caller)
{
	uint64_t ips[2] = { f, caller };

	return tg_stack(th, false, ips, 2);
}

/* ---- a small JSON parser for reading reports back ---- */

enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
struct jv {
	enum jt t;
	char *s;			/* J_STR */
	double d;
	uint64_t u;			/* J_NUM: exact for integers */
	int n;				/* J_ARR/J_OBJ: children */
	char **keys;
	struct jv **kids;
};

static const char *jp;

static void jws(void)
{
	while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r')
		jp++;
}

static struct jv *jparse(void);

static char *jstring(void)
{
	char *out = malloc(strlen(jp) + 1), *o = out;

	ck_assert_int_eq(*jp, '"');
	jp++;
	while (*jp && *jp != '"') {
		if (*jp == '\\') {
			jp++;
			switch (*jp) {
			case 'n': *o++ = '\n'; break;
			case 't': *o++ = '\t'; break;
			case 'u': *o++ = '?'; jp += 4; break;
			default: *o++ = *jp; break;
			}
			jp++;
			continue;
		}
		*o++ = *jp++;
	}
	ck_assert_int_eq(*jp, '"');
	jp++;
	*o = '\0';
	return out;
}

static struct jv *jparse(void)
{
	struct jv *v = calloc(1, sizeof(*v));

	jws();
	if (*jp == '{' || *jp == '[') {
		bool obj = *jp == '{';
		char close = obj ? '}' : ']';

		v->t = obj ? J_OBJ : J_ARR;
		jp++;
		jws();
		while (*jp != close) {
			v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
			v->kids = realloc(v->kids, (v->n + 1) * sizeof(*v->kids));
			v->keys[v->n] = NULL;
			if (obj) {
				v->keys[v->n] = jstring();
				jws();
				ck_assert_int_eq(*jp, ':');
				jp++;
			}
			v->kids[v->n++] = jparse();
			jws();
			if (*jp == ',') {
				jp++;
				jws();
			} else {
				ck_assert_int_eq(*jp, close);
			}
		}
		jp++;
	} else if (*jp == '"') {
		v->t = J_STR;
		v->s = jstring();
	} else if (!strncmp(jp, "true", 4) || !strncmp(jp, "false", 5)) {
		v->t = J_BOOL;
		v->u = *jp == 't';
		jp += v->u ? 4 : 5;
	} else if (!strncmp(jp, "null", 4)) {
		jp += 4;
	} else {
		char *end;

		v->t = J_NUM;
		v->d = strtod(jp, &end);
		v->u = strtoull(jp, NULL, 10);
		ck_assert_msg(end != jp, "bad JSON at %.20s", jp);
		jp = end;
	}
	return v;
}

static struct jv *jget(const struct jv *o, const char *key)
{
	int i;

	ck_assert_msg(o && o->t == J_OBJ, "not an object looking for %s", key);
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return o->kids[i];
	ck_abort_msg("no key %s", key);
	return NULL;
}

static bool jhas(const struct jv *o, const char *key)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return true;
	return false;
}

static uint64_t ju(const struct jv *o, const char *key)
{
	struct jv *v = jget(o, key);

	ck_assert_msg(v->t == J_NUM, "%s is not a number", key);
	return v->u;
}

static struct jv *jat(const struct jv *a, int i)
{
	ck_assert_msg(a && a->t == J_ARR && i < a->n, "no element %d", i);
	return a->kids[i];
}

/* "f0,f1,..." of a "stack" array */
static const char *jstack(const struct jv *o)
{
	static char buf[1024];
	const struct jv *st = jget(o, "stack");
	int i;

	buf[0] = '\0';
	for (i = 0; i < st->n; i++) {
		ck_assert_int_eq(st->kids[i]->t, J_STR);
		if (i)
			strcat(buf, ",");
		strcat(buf, st->kids[i]->s);
	}
	return buf;
}

/* ---- running reports ---- */

static struct opts default_opts(enum out_format fmt)
{
	struct opts o = tu_opts();

	o.format = fmt;
	return o;
}

/* Run @fn on the trace with stdout sent to out_path. Return: the output (malloc'd). */
static char *run(int (*fn)(struct trace *, const struct opts *), const struct opts *o)
{
	struct trace *t;
	char *out;
	int rc;

	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	out = tu_capture(fn, t, o, out_path, &rc);
	ck_assert_int_eq(rc, 0);
	trace_close(t);
	return out;
}

static void jfree(struct jv *v)
{
	int i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		free(v->keys[i]);
		jfree(v->kids[i]);
	}
	free(v->keys);
	free(v->kids);
	free(v->s);
	free(v);
}


static struct jv *run_json(int (*fn)(struct trace *, const struct opts *), const struct opts *o)
{
	char *s = run(fn, o);

	jfree(last_json);
	jp = s;
	last_json = jparse();
	jws();
	ck_assert_msg(*jp == '\0', "trailing bytes after JSON: %.40s", jp);
	free(s);
	return last_json;
}

static struct jv *memory_json(void)
{
	struct opts o = default_opts(FMT_JSON);

	return run_json(report_memory, &o);
}

/* the site whose stack is @stack */
static struct jv *site(const struct jv *sites, const char *stack)
{
	int i;

	for (i = 0; i < sites->n; i++)
		if (!strcmp(jstack(sites->kids[i]), stack))
			return sites->kids[i];
	ck_abort_msg("no site %s", stack);
	return NULL;
}

/* ---- the tests ---- */

/*
 * Totals, peak and holders, site peaks, temporaries, histogram. One thread:
 *   t    event                   live   (A = leakfn_a, B = leakfn_b<leakfn_main)
 *   100  malloc 0x1000 100 A     100
 *   200  malloc 0x2000 200 B     300
 *   300  malloc 0x3000 300 A     600    A's own peak: 400
 *   400  free   0x1000           500
 *   500  malloc 0x4000  50 B     550
 *   600  free   0x2000           350
 *   700  malloc 0x5000 400 B     750    peak: A 300 (1), B 450 (2); B's own peak 450
 *   800  free   0x3000           450
 *   900  free   0x4000           400
 *   1000 malloc 0x6000   8 A     408
 *   1100 free   0x6000           400    temporary (nothing allocated in between)
 * Leaked: 0x5000 (400 B, B).
 */
static void write_basic(void)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 100);
	uint32_t a, b;

	tu_module_of(th, FA, 1);
	a = fn1(th, FA);
	b = fn2(th, FB, FMAIN);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 100, 0x1000, a, 100);
	tg_alloc(th, TRACE_ALLOC_CALLOC, 200, 0x2000, b, 200);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 300, 0x3000, a, 300);
	tg_free(th, 0x1000, 400);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 50, 0x4000, b, 500);
	tg_free(th, 0x2000, 600);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 400, 0x5000, b, 700);
	tg_free(th, 0x3000, 800);
	tg_free(th, 0x4000, 900);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 8, 0x6000, a, 1000);
	tg_free(th, 0x6000, 1100);
	tg_close(g);
}

START_TEST(test_basic_totals)
{
	struct jv *v, *s, *peak, *h, *hist;
	static const char *const keys[] = { "allocations", "frees", "bytes_allocated", "peak_bytes",
		"peak_time_ns", "leaked_bytes", "leaked_blocks", "temporary_allocations", "sites" };
	size_t i;

	write_basic();
	v = memory_json();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(jhas(v, keys[i]), "contract key %s missing", keys[i]);
	ck_assert_uint_eq(ju(v, "allocations"), 6);
	ck_assert_uint_eq(ju(v, "frees"), 5);
	ck_assert_uint_eq(ju(v, "bytes_allocated"), 1058);
	ck_assert_uint_eq(ju(v, "bytes_freed"), 658);
	ck_assert_uint_eq(ju(v, "peak_bytes"), 750);
	ck_assert_uint_eq(ju(v, "peak_time_ns"), 700);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 400);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 1);
	ck_assert_uint_eq(ju(v, "temporary_allocations"), 1);
	ck_assert_uint_eq(ju(v, "unknown_frees"), 0);

	peak = jget(v, "peak");
	ck_assert_uint_eq(ju(peak, "bytes"), 750);
	ck_assert_uint_eq(ju(peak, "blocks"), 3);
	ck_assert_uint_eq(ju(peak, "time_ns"), 700);
	h = jget(peak, "holders");
	ck_assert_int_eq(h->n, 2);
	ck_assert_str_eq(jstack(jat(h, 0)), "leakfn_b,leakfn_main");
	ck_assert_uint_eq(ju(jat(h, 0), "bytes"), 450);
	ck_assert_uint_eq(ju(jat(h, 0), "blocks"), 2);
	ck_assert_str_eq(jstack(jat(h, 1)), "leakfn_a");
	ck_assert_uint_eq(ju(jat(h, 1), "bytes"), 300);
	ck_assert_uint_eq(ju(jat(h, 1), "blocks"), 1);

	s = jget(v, "sites");
	ck_assert_int_eq(s->n, 2);
	/* sorted by bytes: B 650, A 408 */
	ck_assert_str_eq(jstack(jat(s, 0)), "leakfn_b,leakfn_main");
	ck_assert_uint_eq(ju(jat(s, 0), "allocations"), 3);
	ck_assert_uint_eq(ju(jat(s, 0), "bytes"), 650);
	ck_assert_uint_eq(ju(jat(s, 0), "peak_bytes"), 450);
	ck_assert_uint_eq(ju(jat(s, 0), "leaked_bytes"), 400);
	ck_assert_uint_eq(ju(jat(s, 0), "leaked_blocks"), 1);
	ck_assert_uint_eq(ju(jat(s, 0), "temporary_allocations"), 0);
	ck_assert_str_eq(jstack(jat(s, 1)), "leakfn_a");
	ck_assert_uint_eq(ju(jat(s, 1), "allocations"), 3);
	ck_assert_uint_eq(ju(jat(s, 1), "bytes"), 408);
	ck_assert_uint_eq(ju(jat(s, 1), "peak_bytes"), 400);
	ck_assert_uint_eq(ju(jat(s, 1), "leaked_bytes"), 0);
	ck_assert_uint_eq(ju(jat(s, 1), "leaked_blocks"), 0);
	ck_assert_uint_eq(ju(jat(s, 1), "temporary_allocations"), 1);

	/* power-of-two buckets: 8 | 50 | 100 | 200 | 300+400 */
	hist = jget(v, "histogram");
	ck_assert_int_eq(hist->n, 5);
	ck_assert_uint_eq(ju(jat(hist, 0), "min"), 8);
	ck_assert_uint_eq(ju(jat(hist, 0), "max"), 15);
	ck_assert_uint_eq(ju(jat(hist, 0), "allocations"), 1);
	ck_assert_uint_eq(ju(jat(hist, 1), "min"), 32);
	ck_assert_uint_eq(ju(jat(hist, 1), "bytes"), 50);
	ck_assert_uint_eq(ju(jat(hist, 2), "min"), 64);
	ck_assert_uint_eq(ju(jat(hist, 3), "min"), 128);
	ck_assert_uint_eq(ju(jat(hist, 4), "min"), 256);
	ck_assert_uint_eq(ju(jat(hist, 4), "max"), 511);
	ck_assert_uint_eq(ju(jat(hist, 4), "allocations"), 2);
	ck_assert_uint_eq(ju(jat(hist, 4), "bytes"), 700);
}
END_TEST

START_TEST(test_sort_and_limit)
{
	struct opts o = default_opts(FMT_JSON);
	struct jv *v, *s;

	write_basic();
	o.sort = "count";
	o.limit = 1;
	v = run_json(report_memory, &o);
	s = jget(v, "sites");
	ck_assert_int_eq(s->n, 1);
	/* 3 allocations each: ties go to bytes */
	ck_assert_str_eq(jstack(jat(s, 0)), "leakfn_b,leakfn_main");
	o.sort = "temporary";
	o.limit = -1;
	v = run_json(report_memory, &o);
	ck_assert_str_eq(jstack(jat(jget(v, "sites"), 0)), "leakfn_a");
	o.sort = "peak";
	v = run_json(report_memory, &o);
	ck_assert_str_eq(jstack(jat(jget(v, "sites"), 0)), "leakfn_b,leakfn_main");
}
END_TEST

/* The text report: exact header lines and the legend. */
START_TEST(test_text)
{
	struct opts o = default_opts(FMT_TEXT);
	char *out, line[256], a[32], b[32], c[32];

	write_basic();
	out = run(report_memory, &o);
	snprintf(line, sizeof(line), "  allocations     %s (%s)\n", fmt_count(a, sizeof(a), 6),
		 fmt_bytes(b, sizeof(b), 1058));
	ck_assert_msg(strstr(out, line), "missing [%s] in\n%s", line, out);
	snprintf(line, sizeof(line), "  frees           %s (%s)\n", fmt_count(a, sizeof(a), 5),
		 fmt_bytes(b, sizeof(b), 658));
	ck_assert_msg(strstr(out, line), "missing [%s]", line);
	snprintf(line, sizeof(line), "  peak            %s in %s blocks at %s (750 bytes)\n",
		 fmt_bytes(a, sizeof(a), 750), fmt_count(b, sizeof(b), 3), fmt_ns(c, sizeof(c), 700));
	ck_assert_msg(strstr(out, line), "missing [%s]", line);
	snprintf(line, sizeof(line), "  temporary       %s (16.7%% of allocations)\n",
		 fmt_count(a, sizeof(a), 1));
	ck_assert_msg(strstr(out, line), "missing [%s]", line);
	snprintf(line, sizeof(line), "  leaked          %s in %s blocks (as `leaks`: after "
		 "suppressions)\n", fmt_bytes(a, sizeof(a), 400), fmt_count(b, sizeof(b), 1));
	ck_assert_msg(strstr(out, line), "missing [%s]", line);
	ck_assert_ptr_nonnull(strstr(out, "leakfn_b at test-report-mem.c:27 < leakfn_main at test-report-mem.c:29"));
	ck_assert_ptr_nonnull(strstr(out, "a realloc counts as one allocation of its new size"));
	ck_assert_ptr_nonnull(strstr(out, "Held at the peak (exact)"));
	free(out);
}
END_TEST

/*
 * Address reuse across threads, chunks written out of order (thread 2's first):
 *   t=5  T1 malloc p 10 (A)      t=10 T1 free p      t=11 T2 malloc p 20 (B)
 *   t=20 T2 malloc q 30 (B)      t=30 T1 free q      t=31 T1 malloc q 40 (A)
 *   t=40 T2 free p
 * Every free pairs with the block live at its time: nothing unknown, q (40 B, A) leaks.
 */
START_TEST(test_cross_thread_reuse)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *t1 = tg_thread(g, 1), *t2 = tg_thread(g, 2);
	struct tg_chunk *c1;
	struct jv *v, *s;
	uint32_t a, b;

	tu_module_of(t1, FA, 1);
	a = fn1(t1, FA);
	b = fn1(t2, FB);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 10, 0x7000, a, 5);
	tg_free(t1, 0x7000, 10);
	tg_alloc(t2, TRACE_ALLOC_MALLOC, 20, 0x7000, b, 11);
	tg_alloc(t2, TRACE_ALLOC_MALLOC, 30, 0x8000, b, 20);
	tg_free(t1, 0x8000, 30);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 40, 0x8000, a, 31);
	tg_free(t2, 0x7000, 40);
	c1 = tg_take(t1, TRACE_CHUNK_LAST);
	tg_flush(t2, TRACE_CHUNK_LAST);
	tg_put(g, c1);
	tg_close(g);

	v = memory_json();
	ck_assert_uint_eq(ju(v, "allocations"), 4);
	ck_assert_uint_eq(ju(v, "frees"), 3);
	ck_assert_uint_eq(ju(v, "unknown_frees"), 0);
	ck_assert_uint_eq(ju(v, "lost_frees"), 0);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 40);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 1);
	/* peak: p (20) + q (40) = 60 at t=31 */
	ck_assert_uint_eq(ju(v, "peak_bytes"), 60);
	ck_assert_uint_eq(ju(v, "peak_time_ns"), 31);
	/* p freed by its own thread right away is temporary; q freed by another thread is not */
	ck_assert_uint_eq(ju(v, "temporary_allocations"), 1);
	s = jget(v, "sites");
	ck_assert_uint_eq(ju(site(s, "leakfn_a"), "leaked_bytes"), 40);
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "leaked_bytes"), 0);
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "peak_bytes"), 50);
}
END_TEST

/* Frees of blocks never seen allocated are counted, not matched; realloc of one too. */
START_TEST(test_unknown_frees)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 7);
	struct jv *v;
	uint32_t a;

	tu_module_of(th, FA, 1);
	a = fn1(th, FA);
	tg_free(th, 0xdead0, 10);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 16, 0x1000, a, 20);
	tg_free(th, 0xbeef0, 30);
	tg_realloc(th, 0xcafe0, 0x2000, 64, a, 40, 41);
	tg_free(th, 0x1000, 50);
	tg_close(g);

	v = memory_json();
	ck_assert_uint_eq(ju(v, "unknown_frees"), 3);
	ck_assert_uint_eq(ju(v, "allocations"), 2);
	ck_assert_uint_eq(ju(v, "frees"), 1);
	ck_assert_uint_eq(ju(v, "bytes_allocated"), 80);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 64);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 1);
	ck_assert_uint_eq(ju(v, "peak_bytes"), 80);
	ck_assert_uint_eq(ju(v, "peak_time_ns"), 41);
	ck_assert_uint_eq(ju(v, "reallocs"), 1);
}
END_TEST

/*
 * realloc accounting, one thread:
 *   t=10       malloc p1 100 (A)                 live 100
 *   t=20/21    realloc p1 -> p2 200 (B) (moved)  0 then 200
 *   t=30/31    realloc p2 -> p2 300 (B) (in place) 0 then 300: the peak
 *   t=40/41    realloc p2 -> 0 (freed)           0, temporary (nothing allocated since)
 *   t=50/51    realloc NULL -> p3 64 (C)         64
 *   t=60       realloc(NULL, 32) as ALLOC kind REALLOC (C)  96
 */
START_TEST(test_realloc)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 3);
	struct jv *v, *s, *h;
	uint32_t a, b, c;

	tu_module_of(th, FA, 1);
	a = fn1(th, FA);
	b = fn1(th, FB);
	c = fn1(th, FC);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 100, 0x1000, a, 10);
	tg_realloc(th, 0x1000, 0x2000, 200, b, 20, 21);
	tg_realloc(th, 0x2000, 0x2000, 300, b, 30, 31);
	tg_realloc(th, 0x2000, 0, 0, b, 40, 41);
	tg_realloc(th, 0, 0x3000, 64, c, 50, 51);
	tg_alloc(th, TRACE_ALLOC_REALLOC, 32, 0x4000, c, 60);
	tg_close(g);

	v = memory_json();
	ck_assert_uint_eq(ju(v, "allocations"), 5);
	ck_assert_uint_eq(ju(v, "frees"), 3);
	ck_assert_uint_eq(ju(v, "bytes_allocated"), 696);
	ck_assert_uint_eq(ju(v, "bytes_freed"), 600);
	ck_assert_uint_eq(ju(v, "reallocs"), 4);
	ck_assert_uint_eq(ju(v, "unknown_frees"), 0);
	ck_assert_uint_eq(ju(v, "peak_bytes"), 300);
	ck_assert_uint_eq(ju(v, "peak_time_ns"), 31);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 96);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 2);
	ck_assert_uint_eq(ju(v, "temporary_allocations"), 1);
	h = jget(jget(v, "peak"), "holders");
	ck_assert_int_eq(h->n, 1);
	ck_assert_str_eq(jstack(jat(h, 0)), "leakfn_b");
	ck_assert_uint_eq(ju(jat(h, 0), "bytes"), 300);
	s = jget(v, "sites");
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "allocations"), 2);
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "bytes"), 500);
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "peak_bytes"), 300);
	ck_assert_uint_eq(ju(site(s, "leakfn_a"), "leaked_bytes"), 0);
	ck_assert_uint_eq(ju(site(s, "leakfn_c"), "leaked_bytes"), 96);
	ck_assert_uint_eq(ju(site(s, "leakfn_c"), "leaked_blocks"), 2);
}
END_TEST

/*
 * A realloc's new block appears at ns2, not ns: thread 1 reallocs p -> q (old gone at 100,
 * q obtained at 110) while thread 2 frees its own q at 105. The free at 105 releases thread
 * 2's block; the realloc's q is live at the end.
 */
START_TEST(test_realloc_window)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *t1 = tg_thread(g, 1), *t2 = tg_thread(g, 2);
	struct jv *v;
	uint32_t a, b;

	tu_module_of(t1, FA, 1);
	a = fn1(t1, FA);
	b = fn1(t2, FB);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 10, 0x1000, a, 20);
	tg_alloc(t2, TRACE_ALLOC_MALLOC, 30, 0x2000, b, 50);
	tg_realloc(t1, 0x1000, 0x2000, 70, a, 100, 110);
	tg_free(t2, 0x2000, 105);
	tg_close(g);

	v = memory_json();
	ck_assert_uint_eq(ju(v, "unknown_frees"), 0);
	ck_assert_uint_eq(ju(v, "lost_frees"), 0);
	ck_assert_uint_eq(ju(v, "allocations"), 3);
	ck_assert_uint_eq(ju(v, "frees"), 2);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 70);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 1);
	ck_assert_uint_eq(ju(v, "peak_bytes"), 70);
	ck_assert_uint_eq(ju(v, "peak_time_ns"), 110);
	ck_assert_uint_eq(ju(site(jget(v, "sites"), "leakfn_a"), "leaked_bytes"), 70);
	ck_assert_uint_eq(ju(site(jget(v, "sites"), "leakfn_b"), "leaked_bytes"), 0);
}
END_TEST

/*
 * The other half: thread 1 reallocs p -> q (p gone at 100, q at 110) and thread 2 mallocs p
 * at 105 and keeps it. Whatever time the reader orders the realloc by, it releases thread
 * 1's p and thread 2's p stays live.
 */
START_TEST(test_realloc_window_old)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *t1 = tg_thread(g, 1), *t2 = tg_thread(g, 2);
	struct jv *v, *s;
	uint32_t a, b;

	tu_module_of(t1, FA, 1);
	a = fn1(t1, FA);
	b = fn1(t2, FB);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 10, 0x1000, a, 20);
	tg_realloc(t1, 0x1000, 0x3000, 70, a, 100, 110);
	tg_alloc(t2, TRACE_ALLOC_MALLOC, 30, 0x1000, b, 105);
	tg_alloc(t2, TRACE_ALLOC_MALLOC, 1, 0x5000, b, 120);
	tg_free(t2, 0x5000, 130);
	tg_close(g);

	v = memory_json();
	ck_assert_uint_eq(ju(v, "unknown_frees"), 0);
	ck_assert_uint_eq(ju(v, "lost_frees"), 0);
	ck_assert_uint_eq(ju(v, "allocations"), 4);
	ck_assert_uint_eq(ju(v, "frees"), 2);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 100);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 2);
	ck_assert_uint_eq(ju(v, "peak_bytes"), 101);
	ck_assert_uint_eq(ju(v, "peak_time_ns"), 120);
	s = jget(v, "sites");
	ck_assert_uint_eq(ju(site(s, "leakfn_a"), "leaked_bytes"), 70);
	ck_assert_uint_eq(ju(site(s, "leakfn_a"), "frees"), 1);
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "leaked_bytes"), 30);
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "leaked_blocks"), 1);
	ck_assert_uint_eq(ju(site(s, "leakfn_b"), "temporary_allocations"), 1);
}
END_TEST

/* A block allocated again at its address without a free in between: a lost free. */
START_TEST(test_lost_free)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 1);
	struct jv *v;
	uint32_t a;

	tu_module_of(th, FA, 1);
	a = fn1(th, FA);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 10, 0x1000, a, 10);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 20, 0x1000, a, 20);
	tg_close(g);
	v = memory_json();
	ck_assert_uint_eq(ju(v, "lost_frees"), 1);
	ck_assert_uint_eq(ju(v, "allocations"), 2);
	ck_assert_uint_eq(ju(v, "frees"), 0);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 20);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 1);
	ck_assert_uint_eq(ju(v, "peak_bytes"), 20);
}
END_TEST

/*
 * Handoffs whose two clocks disagree by less than REPLAY_PAIR_NS (two cores): the replay
 * pairs by causality. Thread 1 mallocs p at 1000 and thread 2 frees it at "990" (its clock
 * 10 ns behind); thread 1 mallocs q at 2000, thread 2 frees it at "3010" (its clock ahead),
 * after which thread 1 gets q again at 3000 and frees it itself at 4000 (temporary). Only r,
 * freed by thread 2 at 5000 and allocated by thread 1 2 us later, is an unknown free: that
 * is beyond the clock's error, so r is live at the end.
 */
START_TEST(test_handoff_clock_skew)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *t1 = tg_thread(g, 1), *t2 = tg_thread(g, 2);
	struct jv *v;
	uint32_t a;

	tu_module_of(t1, FA, 1);
	a = fn1(t1, FA);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 48, 0x1000, a, 1000);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 64, 0x2000, a, 2000);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 80, 0x2000, a, 3000);
	tg_free(t1, 0x2000, 4000);
	tg_alloc(t1, TRACE_ALLOC_MALLOC, 96, 0x3000, a, 7000);
	tg_free(t2, 0x1000, 990);
	tg_free(t2, 0x2000, 3010);
	tg_free(t2, 0x3000, 5000);
	tg_close(g);

	v = memory_json();
	ck_assert_uint_eq(ju(v, "allocations"), 4);
	ck_assert_uint_eq(ju(v, "frees"), 3);
	ck_assert_uint_eq(ju(v, "bytes_freed"), 48 + 64 + 80);
	ck_assert_uint_eq(ju(v, "unknown_frees"), 1);
	ck_assert_uint_eq(ju(v, "lost_frees"), 0);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 96);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 1);
	ck_assert_uint_eq(ju(v, "temporary_allocations"), 1);
}
END_TEST

/*
 * Unknown frees are called "allocated before recording started" only when nothing of the
 * trace is missing: with a LOST record, their allocations may be among the lost events.
 */
START_TEST(test_unknown_wording)
{
	struct opts o = default_opts(FMT_TEXT);
	struct tg *g;
	struct tg_thread *th;
	char *out;
	int lost;

	for (lost = 0; lost < 2; lost++) {
		g = tg_open(trace_path);
		th = tg_thread(g, 7);
		tg_free(th, 0xdead0, 10);
		if (lost)
			tg_lost(th, 3);
		tg_close(g);
		out = run(report_memory, &o);
		ck_assert_msg(strstr(out, lost ? "  unknown frees   1 (blocks never seen allocated: "
						 "allocated before recording started, or their "
						 "allocation is in what the trace lost)\n"
					       : "  unknown frees   1 (blocks allocated before "
						 "recording started)\n"), "%s", out);
		free(out);
	}
	out = run(report_leaks, &o);
	ck_assert_msg(strstr(out, "Unknown frees (blocks never seen allocated: allocated before "
				  "recording started, or their allocation is in what the trace "
				  "lost): 1\n"), "%s", out);
	free(out);
}
END_TEST

/* The address of an exported libc function (for a system frame). */
static uint64_t libc_fn(const char *name)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *p;

	ck_assert_ptr_nonnull(h);
	p = dlsym(h, name);
	ck_assert_msg(p != NULL, "no %s in libc", name);
	return (uint64_t)(uintptr_t)p;
}

/*
 * Leaks grouped by stack, largest first, with suppressions:
 *   A: 3 x 1000 from two return addresses inside leakfn_a (two stacks, one site)
 *   C: 5 x 100        B: 2 x 10        and freed blocks that are not leaks
 *   libc _IO_file_doallocate: 4096 (built-in "stdio buffer")
 *   libc setlocale < leakfn_main: 77 (built-in libc rule)
 *   leakfn_c < setlocale: 5 (a program frame innermost: no built-in rule applies)
 */
static void write_leaks(void)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 9);
	uint64_t ra1[2] = { FA + 2, FMAIN + 3 }, ra2[2] = { FA + 5, FMAIN + 3 };
	uint64_t io = libc_fn("_IO_file_doallocate"), sl = libc_fn("setlocale");
	uint64_t sys1[2] = { io, FMAIN }, sys2[2] = { sl, FMAIN }, user[2] = { FC, sl };
	uint32_t a1, a2, b, c, s1, s2, u;
	uint64_t t = 10, p = 0x10000;
	int i;

	tu_module_of(th, FA, 1);
	tu_module_of(th, io, 2);
	a1 = tg_stack(th, true, ra1, 2);
	a2 = tg_stack(th, true, ra2, 2);
	b = fn1(th, FB);
	c = fn1(th, FC);
	s1 = tg_stack(th, false, sys1, 2);
	s2 = tg_stack(th, false, sys2, 2);
	u = tg_stack(th, false, user, 2);
	for (i = 0; i < 3; i++)
		tg_alloc(th, TRACE_ALLOC_MALLOC, 1000, p += 0x1000, i == 1 ? a2 : a1, t += 10);
	for (i = 0; i < 5; i++)
		tg_alloc(th, TRACE_ALLOC_MALLOC, 100, p += 0x1000, c, t += 10);
	for (i = 0; i < 2; i++)
		tg_alloc(th, TRACE_ALLOC_MALLOC, 10, p += 0x1000, b, t += 10);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 555, 0x999000, b, t += 10);
	tg_free(th, 0x999000, t += 10);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 4096, p += 0x1000, s1, t += 10);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 77, p += 0x1000, s2, t += 10);
	tg_alloc(th, TRACE_ALLOC_MALLOC, 5, p += 0x1000, u, t += 10);
	tg_close(g);
}

START_TEST(test_leaks_sorted)
{
	struct opts o = default_opts(FMT_JSON);
	struct jv *v, *l, *sup;

	write_leaks();
	v = run_json(report_leaks, &o);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 3000 + 500 + 20 + 5);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 3 + 5 + 2 + 1);
	l = jget(v, "leaks");
	ck_assert_int_eq(l->n, 4);
	ck_assert_str_eq(jstack(jat(l, 0)), "leakfn_a,leakfn_main");
	ck_assert_uint_eq(ju(jat(l, 0), "bytes"), 3000);
	ck_assert_uint_eq(ju(jat(l, 0), "blocks"), 3);
	ck_assert_str_eq(jstack(jat(l, 1)), "leakfn_c");
	ck_assert_uint_eq(ju(jat(l, 1), "bytes"), 500);
	ck_assert_uint_eq(ju(jat(l, 1), "blocks"), 5);
	ck_assert_str_eq(jstack(jat(l, 2)), "leakfn_b");
	ck_assert_uint_eq(ju(jat(l, 2), "bytes"), 20);
	ck_assert_uint_eq(ju(jat(l, 2), "blocks"), 2);
	ck_assert_str_eq(jstack(jat(l, 3)), "leakfn_c,setlocale");
	ck_assert_uint_eq(ju(jat(l, 3), "bytes"), 5);
	ck_assert_uint_eq(ju(v, "suppressed_bytes"), 4096 + 77);
	ck_assert_uint_eq(ju(v, "suppressed_blocks"), 2);
	sup = jget(v, "suppressed");
	ck_assert_int_eq(sup->n, 2);
	ck_assert_str_eq(jget(jat(sup, 0), "rule")->s, "builtin: stdio buffer (_IO_file_doallocate)");
	ck_assert_uint_eq(ju(jat(sup, 0), "bytes"), 4096);
	ck_assert_str_eq(jget(jat(sup, 1), "rule")->s,
			 "builtin: libc internal caches (locale, iconv, NSS)");
	ck_assert_uint_eq(ju(jat(sup, 1), "bytes"), 77);

	/* --no-suppress: everything, nothing suppressed */
	o.no_suppress = 1;
	v = run_json(report_leaks, &o);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 3525 + 4096 + 77);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 13);
	ck_assert_int_eq(jget(v, "leaks")->n, 6);
	ck_assert_str_eq(jstack(jat(jget(v, "leaks"), 0)), "_IO_file_doallocate,leakfn_main");
	ck_assert_uint_eq(ju(v, "suppressed_bytes"), 0);
}
END_TEST

/* Merged stacks (two return addresses in leakfn_a): site totals and an exact site peak. */
START_TEST(test_merged_site_peak)
{
	struct jv *v, *a;

	write_leaks();
	v = memory_json();
	a = site(jget(v, "sites"), "leakfn_a,leakfn_main");
	ck_assert_uint_eq(ju(a, "allocations"), 3);
	ck_assert_uint_eq(ju(a, "bytes"), 3000);
	ck_assert_uint_eq(ju(a, "peak_bytes"), 3000);	/* not 2000 (one stack's own peak) */
	ck_assert_uint_eq(ju(a, "leaked_blocks"), 3);
	/* leaked as in `leaks` (after the built-in rules); everything live in live_at_end */
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 3525);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 11);
	ck_assert_uint_eq(ju(v, "live_at_end_bytes"), 3525 + 4096 + 77);
	ck_assert_uint_eq(ju(v, "live_at_end_blocks"), 13);
	ck_assert_uint_eq(ju(v, "suppressed_bytes"), 4096 + 77);
	ck_assert_uint_eq(ju(v, "suppressed_blocks"), 2);
	ck_assert_str_eq(jget(site(jget(v, "sites"), "_IO_file_doallocate,leakfn_main"),
			      "suppressed_by")->s, "builtin: stdio buffer (_IO_file_doallocate)");
	ck_assert(!jhas(a, "suppressed_by"));
	ck_assert_uint_eq(ju(v, "peak_bytes"), 3525 + 4096 + 77);
	ck_assert_uint_eq(ju(v, "temporary_allocations"), 1);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_suppression_file)
{
	struct opts o = default_opts(FMT_JSON);
	char supp[] = "/tmp/test-report-mem-supp.XXXXXX";
	struct jv *v, *sup;
	char exe[512], rules[600];
	ssize_t n;
	int fd = mkstemp(supp);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_leaks();
	/* a function glob, an anchored name, a source file; comments and blank lines */
	write_file(supp, "# test rules\n\nleak:leakfn_?\n  leak:^leakfn_b$  \nleak:*fn_c\n"
		   "leak:no_such_function\n");
	o.suppressions = supp;
	v = run_json(report_leaks, &o);
	/* leakfn_? is not a wildcard in LSan (only '*'): it matches nothing */
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 3000);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), 3);
	ck_assert_int_eq(jget(v, "leaks")->n, 1);
	ck_assert_uint_eq(ju(v, "suppressed_bytes"), 4096 + 77 + 20 + 500 + 5);
	sup = jget(v, "suppressed");
	ck_assert_int_eq(sup->n, 4);
	ck_assert_str_eq(jget(jat(sup, 2), "rule")->s, "leak:^leakfn_b$");
	ck_assert_uint_eq(ju(jat(sup, 2), "bytes"), 20);
	ck_assert_str_eq(jget(jat(sup, 3), "rule")->s, "leak:*fn_c");
	ck_assert_uint_eq(ju(jat(sup, 3), "bytes"), 505);
	ck_assert_uint_eq(ju(jat(sup, 3), "blocks"), 6);
	ck_assert_uint_eq(ju(jat(sup, 3), "stacks"), 2);

	/* source file of a frame, and the module path */
	write_file(supp, "leak:test-report-mem.c\n");
	v = run_json(report_leaks, &o);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 0);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	snprintf(rules, sizeof(rules), "leak:^/proc/nothing\nleak:%s$\n", strrchr(exe, '/') + 1);
	write_file(supp, rules);
	v = run_json(report_leaks, &o);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), 0);
	ck_assert_uint_eq(ju(v, "suppressed_bytes"), 3525 + 4096 + 77);
	unlink(supp);
}
END_TEST

START_TEST(test_suppression_errors)
{
	struct suppressions *s;

	ck_assert_ptr_null(supp_load("/nonexistent/supp.txt", true));
	{
		char supp[] = "/tmp/test-report-mem-supp.XXXXXX";
		int fd = mkstemp(supp);

		close(fd);
		write_file(supp, "leak:ok\nrace:foo\n");
		ck_assert_ptr_null(supp_load(supp, false));
		write_file(supp, "leak:\n");
		ck_assert_ptr_null(supp_load(supp, false));
		write_file(supp, "# only comments\n\n");
		s = supp_load(supp, false);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(supp_count(s), 0);
		supp_free(s);
		s = supp_load(NULL, true);
		ck_assert_uint_eq(supp_count(s), 5);
		supp_free(s);
		unlink(supp);
	}
}
END_TEST

START_TEST(test_glob)
{
	static const struct {
		const char *pat, *str;
		bool match;
	} cases[] = {
		{ "foo", "foo", true }, { "foo", "xfooy", true }, { "foo", "fo", false },
		{ "^foo", "foobar", true }, { "^foo", "xfoo", false }, { "foo$", "xfoo", true },
		{ "foo$", "foox", false }, { "^foo$", "foo", true }, { "^foo$", "foox", false },
		{ "f*o", "fxxxo", true }, { "f*o", "fxxx", false }, { "^a*b*c$", "aXbYbc", true },
		{ "^a*bc$", "abcbc", true }, { "^a*bc$", "abcbd", false }, { "*", "anything", true },
		{ "^*$", "", true }, { "lib*.so", "/usr/lib/libz.so.1", true },
		{ "ns::Widget::*", "ns::Widget::method(int)", true }, { "x", NULL, false },
		{ "^_dl_", "_dl_init", true }, { "^_dl_", "my_dl_init", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(supp_glob(cases[i].pat, cases[i].str) == cases[i].match,
			      "supp_glob(%s, %s) != %d", cases[i].pat,
			      cases[i].str ? cases[i].str : "NULL", cases[i].match);
}
END_TEST

START_TEST(test_leaks_text)
{
	struct opts o = default_opts(FMT_TEXT);
	char *out, line[256], a[32], b[32];

	write_leaks();
	out = run(report_leaks, &o);
	snprintf(line, sizeof(line), "Leaks: %s bytes in %s blocks from 4 stacks\n",
		 fmt_count(a, sizeof(a), 3525), fmt_count(b, sizeof(b), 11));
	ck_assert_msg(strstr(out, line), "missing [%s] in\n%s", line, out);
	snprintf(line, sizeof(line), "Suppressed: %s bytes in %s blocks (--no-suppress shows them)\n",
		 fmt_count(a, sizeof(a), 4173), fmt_count(b, sizeof(b), 2));
	ck_assert_msg(strstr(out, line), "missing [%s] in\n%s", line, out);
	ck_assert_ptr_nonnull(strstr(out, "builtin: stdio buffer (_IO_file_doallocate)"));
	ck_assert_ptr_nonnull(strstr(out, "leakfn_a at test-report-mem.c:26 < leakfn_main at test-report-mem.c:29"));
	/* largest first */
	ck_assert(strstr(out, "leakfn_a at test-report-mem.c:26 < leakfn_main at test-report-mem.c:29") < strstr(out, "leakfn_b"));
	free(out);
}
END_TEST

START_TEST(test_summary)
{
	struct mem_summary ms;
	struct trace *t;
	struct opts o = default_opts(FMT_TEXT);
	struct trace_stack st;

	write_leaks();
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	ck_assert_int_eq(mem_summarize(t, &o, &ms), 0);
	ck_assert_uint_eq(ms.allocations, 14);
	ck_assert_uint_eq(ms.frees, 1);
	ck_assert_uint_eq(ms.bytes_allocated, 3000 + 500 + 20 + 555 + 4096 + 77 + 5);
	ck_assert_uint_eq(ms.live_bytes, 3525 + 4096 + 77);
	ck_assert_uint_eq(ms.live_blocks, 13);
	ck_assert_uint_eq(ms.leaked_bytes, 3525);
	ck_assert_uint_eq(ms.leaked_blocks, 11);
	ck_assert_uint_eq(ms.suppressed_bytes, 4173);
	ck_assert_uint_eq(ms.suppressed_blocks, 2);
	ck_assert_uint_eq(ms.temporary, 1);
	ck_assert_uint_eq(ms.leak_stacks, 4);
	ck_assert_uint_eq(ms.ntop, 4);
	ck_assert_uint_eq(ms.top[0].bytes, 3000);
	ck_assert_uint_eq(ms.top[0].blocks, 3);
	st = trace_stack_get(t, ms.top[0].stack);
	ck_assert_uint_eq(st.nframes, 2);
	ck_assert_uint_eq(ms.top[1].bytes, 500);
	ck_assert_uint_eq(ms.top[2].bytes, 20);
	ck_assert_uint_eq(ms.top[3].bytes, 5);
	ck_assert_uint_eq(ms.peak_bytes, 3525 + 4096 + 77);
	trace_close(t);
}
END_TEST

/*
 * A model check: random traces (3 threads, 5 stacks, 24 reused addresses, cross-thread frees,
 * reallocs of every kind, unknown frees) against a straightforward model of the accounting
 * in mem.c's header that recomputes every stack's live bytes at each new peak.
 */
#define M_ADDRS 24
#define M_STACKS 5
#define M_THREADS 3

struct mblk {
	bool live;
	uint64_t size, seq;
	int stack, thread;
};

struct model {
	struct mblk b[M_ADDRS];
	uint64_t seq[M_THREADS];
	uint64_t allocs, frees, bytes, unknown, temporary, live, peak, peak_ns;
	uint64_t stack_live[M_STACKS], stack_peak[M_STACKS], at_peak[M_STACKS];
};

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rnd_state >> 33) % n;
}

static void m_alloc(struct model *m, int a, uint64_t size, int stack, int th, uint64_t ns)
{
	int i;

	m->seq[th]++;
	m->allocs++;
	m->bytes += size;
	m->b[a] = (struct mblk){ true, size, m->seq[th], stack, th };
	m->live += size;
	m->stack_live[stack] += size;
	if (m->stack_live[stack] > m->stack_peak[stack])
		m->stack_peak[stack] = m->stack_live[stack];
	if (m->live > m->peak) {
		m->peak = m->live;
		m->peak_ns = ns;
		for (i = 0; i < M_STACKS; i++)
			m->at_peak[i] = m->stack_live[i];
	}
}

static void m_release(struct model *m, int a, int th, bool as_free)
{
	struct mblk *b = &m->b[a];

	if (!b->live) {
		m->unknown++;
		return;
	}
	m->frees++;
	if (as_free && b->thread == th && m->seq[th] == b->seq)
		m->temporary++;
	b->live = false;
	m->live -= b->size;
	m->stack_live[b->stack] -= b->size;
}

static int m_pick(const struct model *m, bool live)
{
	int i, start = (int)rnd(M_ADDRS);

	for (i = 0; i < M_ADDRS; i++)
		if (m->b[(start + i) % M_ADDRS].live == live)
			return (start + i) % M_ADDRS;
	return -1;
}

#define M_ADDR(a) (0x100000ULL + (uint64_t)(a) * 0x40)
#define M_IP(s) (0x7700000ULL + (uint64_t)(s) * 0x100)

static void model_run(uint64_t seed)
{
	struct model m;
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th[M_THREADS];
	uint32_t node[M_THREADS][M_STACKS];
	uint64_t ns = 10, leaked = 0, leaked_blocks = 0;
	struct jv *v, *sites, *h;
	char name[32];
	int i, j, k;

	memset(&m, 0, sizeof(m));
	rnd_state = seed;
	for (i = 0; i < M_THREADS; i++) {
		th[i] = tg_thread(g, 100 + i);
		for (j = 0; j < M_STACKS; j++) {
			uint64_t ip = M_IP(j);

			node[i][j] = tg_stack(th[i], false, &ip, 1);
		}
	}
	for (k = 0; k < 400; k++, ns += 3) {
		int t = (int)rnd(M_THREADS), st = (int)rnd(M_STACKS), op = (int)rnd(10), a, b;
		uint64_t size = 1 + rnd(5000);

		if (op < 4 && (a = m_pick(&m, false)) >= 0) {		/* malloc */
			tg_alloc(th[t], TRACE_ALLOC_MALLOC, size, M_ADDR(a), node[t][st], ns);
			m_alloc(&m, a, size, st, t, ns);
		} else if (op < 7 && (a = m_pick(&m, true)) >= 0) {	/* free, any thread's */
			tg_free(th[t], M_ADDR(a), ns);
			m_release(&m, a, t, true);
		} else if (op == 7) {					/* unknown free */
			tg_free(th[t], 0x900000 + rnd(100) * 16, ns);
			m.unknown++;
		} else if ((a = m_pick(&m, true)) >= 0) {		/* realloc */
			int kind = (int)rnd(3);

			if (kind == 0) {				/* to 0 */
				tg_realloc(th[t], M_ADDR(a), 0, 0, node[t][st], ns, ns + 1);
				m_release(&m, a, t, true);
			} else {
				b = kind == 1 ? a : m_pick(&m, false);
				if (b < 0)
					b = a;
				tg_realloc(th[t], M_ADDR(a), M_ADDR(b), size, node[t][st], ns,
					   ns + 1);
				m_release(&m, a, t, false);
				m_alloc(&m, b, size, st, t, ns + 1);
			}
		}
	}
	tg_close(g);
	for (i = 0; i < M_ADDRS; i++)
		if (m.b[i].live) {
			leaked += m.b[i].size;
			leaked_blocks++;
		}

	v = memory_json();
	ck_assert_uint_eq(ju(v, "allocations"), m.allocs);
	ck_assert_uint_eq(ju(v, "frees"), m.frees);
	ck_assert_uint_eq(ju(v, "bytes_allocated"), m.bytes);
	ck_assert_uint_eq(ju(v, "unknown_frees"), m.unknown);
	ck_assert_uint_eq(ju(v, "temporary_allocations"), m.temporary);
	ck_assert_uint_eq(ju(v, "peak_bytes"), m.peak);
	ck_assert_uint_eq(ju(v, "peak_time_ns"), m.peak_ns);
	ck_assert_uint_eq(ju(v, "leaked_bytes"), leaked);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), leaked_blocks);
	ck_assert_uint_eq(ju(v, "lost_frees"), 0);
	sites = jget(v, "sites");
	h = jget(jget(v, "peak"), "holders");
	for (j = 0, k = 0; j < M_STACKS; j++) {
		uint64_t got = 0;

		snprintf(name, sizeof(name), "0x%llx", (unsigned long long)M_IP(j));
		for (i = 0; i < h->n; i++)
			if (!strcmp(jstack(jat(h, i)), name))
				got = ju(jat(h, i), "bytes");
		ck_assert_msg(got == m.at_peak[j], "seed %llu: %s held %llu at the peak, not %llu",
			      (unsigned long long)seed, name, (unsigned long long)got,
			      (unsigned long long)m.at_peak[j]);
		k += m.at_peak[j] > 0;
		for (i = 0; i < sites->n; i++)
			if (!strcmp(jstack(jat(sites, i)), name))
				ck_assert_uint_eq(ju(jat(sites, i), "peak_bytes"), m.stack_peak[j]);
	}
	ck_assert_int_eq(h->n, k);
}

START_TEST(test_model_random)
{
	uint64_t seed;

	for (seed = 1; seed <= 40; seed++)
		model_run(seed);
}
END_TEST

/* here, not at the top: the leak tests above name the lines of the functions they call */
#include "tests/unit/tracegen-random.h"

/* two aggregates of two replays hold the same, peaks and values at the peak included */
static void agg_eq(const struct replay *ra, const struct replay_agg *a, const struct replay *rb,
		   const struct replay_agg *b, const char *what, uint64_t seed, uint32_t i)
{
	ck_assert_msg(a->allocs == b->allocs && a->bytes == b->bytes && a->frees == b->frees &&
		      a->freed_bytes == b->freed_bytes && a->temporary == b->temporary &&
		      a->live_bytes == b->live_bytes && a->live_blocks == b->live_blocks &&
		      a->peak_bytes == b->peak_bytes &&
		      replay_peak_bytes(ra, a) == replay_peak_bytes(rb, b) &&
		      replay_peak_blocks(ra, a) == replay_peak_blocks(rb, b),
		      "seed %llu: %s %u: %llu/%llu allocs, %llu/%llu peak bytes",
		      (unsigned long long)seed, what, i, (unsigned long long)a->allocs,
		      (unsigned long long)b->allocs, (unsigned long long)a->peak_bytes,
		      (unsigned long long)b->peak_bytes);
}

/* the totals a one_thread replay @one counted and what mem_build's kept for its thread */
static void counts_eq(const struct replay *one, const struct replay_counts *c, uint64_t seed)
{
	ck_assert_msg(one->allocs == c->allocs && one->frees == c->frees &&
		      one->bytes_alloc == c->bytes_alloc && one->bytes_freed == c->bytes_freed &&
		      one->reallocs == c->reallocs && one->unknown_frees == c->unknown_frees &&
		      one->temporary == c->temporary &&
		      !memcmp(one->hist_count, c->hist_count, sizeof(c->hist_count)) &&
		      !memcmp(one->hist_bytes, c->hist_bytes, sizeof(c->hist_bytes)),
		      "seed %llu: a thread's counts differ", (unsigned long long)seed);
}

/*
 * mem_build's one replay against the replays it stands for, on a random program (threads,
 * cross-thread frees, reallocs): a plain replay (no stops: the stacks and totals), one keyed
 * by site (the groups) and one_thread replays keyed by site (the threads' counts and their
 * sites): every figure equal.
 */
static void build_run(uint64_t seed)
{
	struct replay plain = { 0 }, bysite = { 0 };
	struct tgr_stream s = { 0 };
	struct opts o = tu_opts();
	struct symbols *sym;
	struct trace *t;
	struct mem m;
	uint32_t *map, i, th;

	tgr_random(&s, seed, 400);
	tgr_write(&s, trace_path);
	tgr_free(&s);
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	ck_assert_int_eq(replay_run(&plain, t), 0);	/* also the walk before symbols */
	sym = replay_symbols(t, &o);
	ck_assert_int_eq(mem_build(&m, t, &o, sym, MEM_THREADS | MEM_TIMELINE | MEM_SHAPES), 0);
	ck_assert_uint_eq(m.r.allocs, plain.allocs);
	ck_assert_uint_eq(m.r.frees, plain.frees);
	ck_assert_uint_eq(m.r.bytes_alloc, plain.bytes_alloc);
	ck_assert_uint_eq(m.r.unknown_frees, plain.unknown_frees);
	ck_assert_uint_eq(m.r.temporary, plain.temporary);
	ck_assert_uint_eq(m.r.peak_bytes, plain.peak_bytes);
	ck_assert_uint_eq(m.r.peak_ns, plain.peak_ns);
	ck_assert_uint_eq(m.r.live_bytes, plain.live_bytes);
	for (i = 0; i < plain.naggs && i < m.r.naggs; i++)
		agg_eq(&plain, &plain.aggs[i], &m.r, &m.r.aggs[i], "stack", seed, i);
	map = xcalloc(m.r.nsgroup + 1, sizeof(*map));
	for (i = 0; i < m.r.nsgroup; i++)
		map[i] = m.r.sgroup[i] ? m.r.sgroup[i] - 1 : 0;	/* unasked: never allocated */
	bysite.map = map;
	bysite.nmap = m.r.nsgroup;
	ck_assert_int_eq(replay_run(&bysite, t), 0);
	for (i = 0; i < bysite.naggs && i < m.r.ngaggs; i++)
		agg_eq(&bysite, &bysite.aggs[i], &m.r, &m.r.gaggs[i], "site", seed, i);
	for (th = 0; th < t->nthreads; th++) {
		struct replay one = { .map = map, .nmap = m.r.nsgroup, .one_thread = true,
				      .thread = th };
		struct replay_counts none = { 0 };

		ck_assert_int_eq(replay_run(&one, t), 0);
		counts_eq(&one, th < m.r.ntcounts ? &m.r.tcounts[th] : &none, seed);
		for (i = 0; i < one.naggs; i++) {
			const struct replay_agg *x = replay_cell_agg(&m.r, th, i, NULL);

			if (!one.aggs[i].allocs) {
				ck_assert(!x || !x->allocs);
				continue;
			}
			ck_assert_ptr_nonnull(x);
			agg_eq(&one, &one.aggs[i], &m.r, x, "thread's site", seed, i);
		}
		replay_free(&one);
	}
	free(map);
	replay_free(&bysite);
	replay_free(&plain);
	mem_free(&m);
	sym_close(sym);
	trace_close(t);
}

START_TEST(test_build_random)
{
	uint64_t seed;

	for (seed = 1; seed <= 40; seed++)
		build_run(seed);
}
END_TEST

/* Many blocks: the live table grows and deletes with backward shifts; totals stay exact. */
START_TEST(test_many_blocks)
{
	struct tg *g = tg_open(trace_path);
	struct tg_thread *th = tg_thread(g, 5);
	struct jv *v;
	uint64_t t = 1, i, n = 50000;
	uint32_t a;

	tu_module_of(th, FA, 1);
	a = fn1(th, FA);
	for (i = 1; i <= n; i++)
		tg_alloc(th, TRACE_ALLOC_MALLOC, i % 97, i * 16, a, t++);
	for (i = 1; i <= n; i += 2)	/* free the odd ones, in an order unlike insertion */
		tg_free(th, ((i * 7919) % n + 1) * 16, t++);
	tg_close(g);
	v = memory_json();
	ck_assert_uint_eq(ju(v, "allocations"), n);
	ck_assert_uint_eq(ju(v, "frees"), n / 2);	/* i -> i * 7919 mod n is one-to-one */
	ck_assert_uint_eq(ju(v, "unknown_frees"), 0);
	ck_assert_uint_eq(ju(v, "leaked_blocks"), n / 2);
	ck_assert_uint_eq(ju(v, "lost_frees"), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report-mem");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_basic_totals);
	tcase_add_test(tc, test_sort_and_limit);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_cross_thread_reuse);
	tcase_add_test(tc, test_unknown_frees);
	tcase_add_test(tc, test_realloc);
	tcase_add_test(tc, test_realloc_window);
	tcase_add_test(tc, test_realloc_window_old);
	tcase_add_test(tc, test_lost_free);
	tcase_add_test(tc, test_handoff_clock_skew);
	tcase_add_test(tc, test_unknown_wording);
	tcase_add_test(tc, test_leaks_sorted);
	tcase_add_test(tc, test_merged_site_peak);
	tcase_add_test(tc, test_suppression_file);
	tcase_add_test(tc, test_suppression_errors);
	tcase_add_test(tc, test_glob);
	tcase_add_test(tc, test_leaks_text);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_many_blocks);
	tcase_add_test(tc, test_model_random);
	tcase_add_test(tc, test_build_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = tu_run(suite());

	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
