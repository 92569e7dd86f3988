// SPDX-License-Identifier: MIT
/*
 * Unit tests of what reports say about their trace (analyzer/notes.c) and of the reader's
 * trust checks behind it (trace-read.c, trace-walk.c, replay.c): a process killed, a file cut
 * at a chunk boundary, a thread's last chunk missing, a chunk repeated, values no program
 * gives, a header contradicting the contents; and two presentation rules of the same issue:
 * stacks cut at PERFSHIM_STACK_DEPTH are marked [truncated], and flame trees fold recursion
 * past FLAME_FOLD_DEPTH frames. Synthetic traces (tracegen: ticks are ns), exact answers.
 */
#define PR_FMT "test"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/export.h"
#include "analyzer/hot.h"
#include "analyzer/notes.h"
#include "tests/unit/testutil.h"

void ntfn_main(void), ntfn_a(void);
void ntfn_b(void);
void ntfn_rec(void);
/* the lines of these four are in test_truncated_stacks' expected text (file:line) */
void __attribute__((noinline)) ntfn_main(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) ntfn_a(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) ntfn_b(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }
void __attribute__((noinline)) ntfn_rec(void) { __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop"); }

#define FMAIN ((uint64_t)(uintptr_t)ntfn_main)
#define FA ((uint64_t)(uintptr_t)ntfn_a)
#define FB ((uint64_t)(uintptr_t)ntfn_b)
#define FREC ((uint64_t)(uintptr_t)ntfn_rec)

#define NO_END "the process's end was not recorded (it was killed, crashed, or exited where the " \
	"recorder could not see it): what it did after "

static char path[64], out[64];

static void setup(void)
{
	tu_tmpfile(path, "test-notes");
	tu_tmpfile(out, "test-notes-out");
}

static void teardown(void)
{
	if (!getenv("KEEP")) {
		unlink(path);
		unlink(out);
	}
}

#define ck_has(s, sub) ck_assert_msg(strstr((s), (sub)), "missing: %s\n--- in:\n%.3000s", (sub), (s))

static struct trace *open_trace(void)
{
	struct trace *t;

	ck_assert_int_eq(trace_open(path, &t), 0);
	return t;
}

/* @fn's output on the trace (stdout captured, or -o for the exports) */
static char *report(tu_report_fn fn, const struct opts *o)
{
	struct trace *t = open_trace();
	char *s;
	int rc;

	s = tu_capture(fn, t, o, out, &rc);
	ck_assert_int_eq(rc, 0);
	trace_close(t);
	if (o->output) {
		free(s);
		s = tu_slurp(out);
	}
	return s;
}

static char *notes_block(struct trace *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	notes_text(t, f);
	fclose(f);
	return buf;
}

/* thread 100: main 1000.. with a malloc of 16 bytes at 2000, a chunk written at 2000 */
static struct tg *two_chunks(struct tg_thread **a)
{
	struct tg *g = tg_open(path);

	*a = tg_thread(g, 100);
	tu_module_of(*a, FMAIN, 0);
	tg_enter(*a, FMAIN, 1000);
	tg_alloc(*a, TRACE_ALLOC_MALLOC, 16, 0x1000, 0, 2000);
	tg_flush(*a, 0);
	tg_exit(*a, 3000);
	return g;
}

START_TEST(test_complete)
{
	struct tg_thread *a;
	struct trace *t;
	struct notes n;
	char *s;

	tg_close(two_chunks(&a));
	t = open_trace();
	notes_get(t, &n);
	ck_assert(n.complete && n.finished);
	ck_assert_uint_eq(n.nmissing + n.nwarn, 0);
	notes_free(&n);
	s = notes_block(t);
	ck_assert_str_eq(s, "");
	free(s);
	trace_close(t);
}
END_TEST

/* killed after its first chunk: the rest never reached the file */
START_TEST(test_killed)
{
	struct opts o = tu_opts();
	struct tg_thread *a;
	struct trace *t;
	struct notes n;
	char *s;

	tg_close_raw(two_chunks(&a));
	t = open_trace();
	notes_get(t, &n);
	ck_assert(!n.complete && !n.finished);
	ck_assert_uint_eq(n.nmissing, 2);
	ck_assert_str_eq(n.missing[0], NO_END "2.00 us is missing");
	ck_assert_str_eq(n.missing[1], "thread 100 has no last chunk: its events after 2.00 us are "
				       "missing");
	notes_free(&n);
	s = notes_block(t);
	ck_assert_str_eq(s, "Warning: incomplete trace; the figures below cover only what was "
			    "recorded:\n  - " NO_END "2.00 us is missing\n"
			    "  - thread 100 has no last chunk: its events after 2.00 us are missing\n\n");
	free(s);
	trace_close(t);

	/* leaks: live when recording stopped, not leaked */
	s = report(report_leaks, &o);
	ck_has(s, "\n\nNote: the process did not finish: these blocks were live when recording "
		  "stopped, not necessarily leaked.\nLive when recording stopped: 16 bytes in 1 "
		  "blocks from 1 stack\n");
	free(s);
	o.format = FMT_JSON;
	s = report(report_leaks, &o);
	ck_has(s, "{\"complete\":false,\"incomplete\":[\"" NO_END "2.00 us is missing\",\"thread "
		  "100 has no last chunk: its events after 2.00 us are missing\"],\"warnings\":[],"
		  "\"process_finished\":false,\"leaked_bytes\":16,\"leaked_blocks\":1,");
	free(s);
	o.format = FMT_CSV;
	s = report(report_functions, &o);
	ck_assert_msg(!strncmp(s, "# incomplete trace ", 19), "%s", s);
	ck_has(s, ": " NO_END "2.00 us is missing\n# incomplete trace ");
	ck_has(s, ": thread 100 has no last chunk: its events after 2.00 us are missing\nname,");
	free(s);
}
END_TEST

/* the file cut exactly where a chunk starts: every byte left is whole */
START_TEST(test_chunk_boundary)
{
	struct tg_thread *a;
	struct tg *g = two_chunks(&a);
	struct trace *t;
	struct notes n;
	uint64_t off;

	tg_enter(a, FA, 3500);
	tg_exit(a, 3600);
	tg_flush(a, 0);
	off = g->off;
	tg_close(g);			/* the last chunk (LAST, PROCESS_END) starts at off */
	tg_truncate(path, off);
	t = open_trace();
	ck_assert(!t->truncated && !t->damaged_chunks);
	notes_get(t, &n);
	ck_assert_uint_eq(n.nmissing, 2);
	ck_assert_str_eq(n.missing[0], NO_END "3.60 us is missing");
	ck_assert_str_eq(n.missing[1], "thread 100 has no last chunk: its events after 3.60 us are "
				       "missing");
	notes_free(&n);
	trace_close(t);
}
END_TEST

/* thread 200's last chunk is missing; the process's end was recorded by thread 100 */
START_TEST(test_thread_last_missing)
{
	struct opts o = tu_opts();
	struct tg_thread *a, *b;
	struct tg *g = two_chunks(&a);
	struct tg_chunk *c;
	struct trace *t;
	struct notes n;
	char *s;

	b = tg_thread(g, 200);
	tg_enter(b, FB, 1500);
	tg_flush(b, 0);
	tg_exit(b, 2500);
	tg_thread_name(b, "worker");
	c = tg_take(b, TRACE_CHUNK_LAST);
	free(c->payload);
	free(c);
	tg_close(g);
	t = open_trace();
	notes_get(t, &n);
	ck_assert(!n.complete && n.finished);
	ck_assert_uint_eq(n.nmissing, 1);
	ck_assert_str_eq(n.missing[0], "thread 200 has no last chunk: its events after 1.50 us are "
				       "missing");
	notes_free(&n);
	trace_close(t);
	o.format = FMT_JSON;
	s = report(report_summary, &o);
	ck_has(s, "\"complete\":false,\"incomplete\":[\"thread 200 has no last chunk: its events "
		  "after 1.50 us are missing\"],\"warnings\":[],\"process_finished\":true,");
	free(s);
}
END_TEST

/* the same chunk twice in the file: read once, said once */
START_TEST(test_repeated_chunk)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);
	struct tg_chunk *c, *copy;
	struct trace *t;
	struct notes n;
	uint64_t first;

	tg_enter(a, FMAIN, 1000);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 100, 0x1000, 0, 1100);
	c = tg_take(a, 0);
	copy = malloc(sizeof(*copy));
	*copy = *c;
	copy->payload = malloc(c->size);
	memcpy(copy->payload, c->payload, c->size);
	first = tg_put(g, c);
	tg_put(g, copy);		/* the same bytes again */
	tg_exit(a, 2000);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
	t = open_trace();
	ck_assert_uint_eq(t->nthreads, 1);
	ck_assert_uint_eq(t->repeated_chunks, 1);
	notes_get(t, &n);
	ck_assert(n.complete);
	ck_assert_uint_eq(n.nwarn, 1);
	ck_assert_str_eq(n.warn[0], "1 chunk appears twice in the file (same thread, seq and "
				    "header): read once");
	notes_free(&n);
	ck_assert_uint_eq(t->nevents, 3);	/* entry, alloc, exit: once */
	ck_assert_uint_eq(t->nallocs, 1);
	ck_assert_uint_eq(first, sizeof(struct trace_file_header));
	trace_close(t);
}
END_TEST

/* a seq seen again with another header: a new thread of that id, and said so */
START_TEST(test_conflicting_chunk)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);
	struct tg_chunk *c;
	struct trace *t;

	tg_enter(a, FMAIN, 1000);
	tg_flush(a, 0);
	tg_exit(a, 2000);
	c = tg_take(a, 0);		/* seq 1 */
	tg_put(g, c);
	tg_enter(a, FA, 3000);
	c = tg_take(a, TRACE_CHUNK_LAST);
	c->hdr.seq = 1;			/* another seq 1 */
	c->hdr.header_checksum = trace_checksum(&c->hdr, TRACE_CHUNK_HEADER_CKLEN);
	tg_put(g, c);
	tg_close(g);
	t = open_trace();
	ck_assert_uint_eq(t->repeated_chunks, 0);
	ck_assert_uint_eq(t->conflicting_chunks, 1);
	ck_assert_uint_eq(t->nthreads, 2);
	trace_close(t);
}
END_TEST

/*
 * Values no program gives: a malloc of 2^64 - 1, an RSS of 2^60, a LOST count of 2^64 - 1,
 * and two live blocks that together pass the address space (2^47 and 1 more byte).
 */
START_TEST(test_impossible_values)
{
	struct opts o = tu_opts();
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);
	struct trace *t;
	char *s;

	tg_enter(a, FMAIN, 1000);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 100, 0x1000, 0, 1100);
	tg_alloc(a, TRACE_ALLOC_MALLOC, UINT64_MAX, 0x2000, 0, 1200);
	tg_rss(a, 1ULL << 60, 1300);
	tg_lost(a, UINT64_MAX);
	tg_lost(a, 5);
	tg_alloc(a, TRACE_ALLOC_MALLOC, TRACE_SIZE_MAX - 100, 0x3000, 0, 1400);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 1, 0x4000, 0, 1500);	/* live would be 2^47 + 1 */
	tg_exit(a, 2000);
	tg_close(g);
	t = open_trace();
	ck_assert_int_eq(trace_info(t), 0);
	ck_assert_uint_eq(t->nallocs, 3);
	ck_assert_uint_eq(t->bad_sizes, 2);
	ck_assert_uint_eq(t->bad_counts, 1);
	ck_assert_uint_eq(t->nlost, 5);
	trace_close(t);

	o.format = FMT_JSON;
	s = report(report_memory, &o);
	ck_has(s, "\"warnings\":[\"2 records of impossible size (beyond the 2^47-byte address "
		  "space) left out of every total\",\"1 impossible count (beyond 2^48, or a sum "
		  "that overflows) left out\",\"1 allocation left out of the memory figures: the "
		  "live heap would pass the 2^47-byte address space or a total would overflow "
		  "(impossible)\",\"5 events were dropped by the recorder (LOST records: it could "
		  "not record them): counts may be short\"]");
	ck_has(s, "\"allocations\":2,\"frees\":0,\"bytes_allocated\":140737488355328,");
	free(s);
}
END_TEST

/* times: a header start after every chunk, a record past its chunk's end */
static void late_start(struct trace_file_header *h)
{
	h->start_ticks = UINT64_MAX;
}

START_TEST(test_impossible_times)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);
	uint8_t rec[16], *p = trace_put_varint(rec, 1ULL << 41);	/* EXIT, dt 2^40 */
	struct trace *t;
	struct hot h = { 0 };

	tg_enter(a, FMAIN, 1000);
	tg_enter(a, FA, 1500);
	tg_exit(a, 1700);
	tg_enter(a, FB, 1800);
	tg_raw(a, rec, (size_t)(p - rec));
	tg_exit(a, 2000);	/* tracegen's base did not move: a plain EXIT at 2000 */
	tg_close(g);
	tg_patch_header(path, late_start, false);
	t = open_trace();
	ck_assert(t->bad_start);
	ck_assert_int_eq(hot_collect(t, -1, 0, &h), 0);
	/* times from the first chunk (base 1000): main 1000..1800, a 500..700, b open at 800 */
	ck_assert(t->threads[0].damaged);
	ck_assert_uint_eq(h.funcs[0].total_ns, 800);
	ck_assert_uint_eq(h.funcs[1].total_ns, 200);
	ck_assert_uint_eq(h.funcs[2].total_ns, 0);
	hot_free(&h);
	trace_close(t);
}
END_TEST

static void no_flags(struct trace_file_header *h)
{
	h->flags &= ~(TRACE_F_CALLS | TRACE_F_MALLOC);
}

/* header flags saying "no calls, no malloc" beside calls and allocations */
START_TEST(test_contradicting_flags)
{
	struct opts o = tu_opts();
	struct tg_thread *a;
	char *s;

	tg_close(two_chunks(&a));
	tg_patch_header(path, no_flags, false);
	s = report(report_functions, &o);
	ck_has(s, "Warning: the header says calls were not recorded, yet the trace holds 1 call: "
		  "the header is wrong\nWarning: the header says the malloc family was not "
		  "recorded, yet the trace holds 1 allocation event: the header is wrong\n\n");
	ck_has(s, "  ntfn_main\n");		/* the call is reported */
	free(s);
	o.format = FMT_JSON;
	s = report(report_summary, &o);
	ck_has(s, "\"memory\":{\"allocations\":1,");
	free(s);
}
END_TEST

/*
 * Stacks of a trace recorded with PERFSHIM_STACK_DEPTH=2: A = a < main (2 frames: cut),
 * B = b (1 frame), C = shadow frames [a, main] under malloc's caller in b (2 function
 * frames: cut; the caller frame does not count).
 */
static void stacks_trace(void)
{
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);
	uint64_t ia[2] = { FA + 4, FMAIN + 4 }, ib[1] = { FB + 4 };
	uint32_t sa, sb, sc;

	g->hdr.stack_depth = 2;
	tu_module_of(a, FMAIN, 0);
	tg_func(a, FB);		/* a known entry: b+4 is not inside a (docs/stacks.md) */
	sa = tg_stack(a, true, ia, 2);
	sb = tg_stack(a, true, ib, 1);
	sc = tg_node_fn(a, 0, FMAIN);
	sc = tg_node_fn(a, sc, FA);
	sc = tg_node_ra(a, sc, FB + 4);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 100, 0x1000, sa, 100);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 50, 0x2000, sb, 200);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 7, 0x3000, sc, 300);
	tg_close(g);
}

START_TEST(test_truncated_stacks)
{
	struct opts o = tu_opts();
	char *s;

	stacks_trace();
	o.output = out;
	o.folded = 1;
	o.metric = "alloc-bytes";
	s = report(report_flamegraph, &o);
	/* C keeps its innermost 2 frames (the caller frame and a): main is cut off */
	ck_assert_str_eq(s, "[truncated];ntfn_a;ntfn_b 7\n[truncated];ntfn_main;ntfn_a 100\n"
			    "ntfn_b 50\n");
	free(s);
	o = tu_opts();
	s = report(report_leaks, &o);
	ck_has(s, "  100       1  ntfn_a at test-notes.c:27 < ntfn_main at test-notes.c:26 < [truncated]\n");
	ck_has(s, "   50       1  ntfn_b at test-notes.c:28\n");
	ck_has(s, "    7       1  ntfn_b at test-notes.c:28 < ntfn_a at test-notes.c:27 < [truncated]\n");
	ck_has(s, "[truncated]: the stack reached PERFSHIM_STACK_DEPTH; its outer frames were not "
		  "recorded.\n");
	free(s);
	o.format = FMT_JSON;
	s = report(report_leaks, &o);
	/* frames: file (the absolute path of this source) and line of each */
	ck_has(s, "{\"stack\":[\"ntfn_a\",\"ntfn_main\"],\"frames\":[{\"name\":\"ntfn_a\","
		  "\"module\":\"test-notes\",\"file\":\"/");
	ck_has(s, "/tests/unit/test-notes.c\",\"line\":27,\"inlined\":false},{\"name\":\"ntfn_main\","
		  "\"module\":\"test-notes\",\"file\":\"/");
	ck_has(s, "/tests/unit/test-notes.c\",\"line\":26,\"inlined\":false}],\"truncated\":true,"
		  "\"bytes\":100,");
	ck_has(s, "{\"stack\":[\"ntfn_b\"],\"frames\":[{\"name\":\"ntfn_b\",\"module\":\"test-notes\",");
	ck_has(s, "/tests/unit/test-notes.c\",\"line\":28,\"inlined\":false}],\"truncated\":false,"
		  "\"bytes\":50,");
	free(s);
	o = tu_opts();
	s = report(report_dump, &o);
	/* dump spells the frames as leaks does, with " <- " between them */
	ck_has(s, "stack 2: ntfn_a at test-notes.c:27 <- ntfn_main at test-notes.c:26 <- "
		  "[truncated]\n");
	ck_has(s, "stack 3: ntfn_b at test-notes.c:28\n");
	free(s);
}
END_TEST

/*
 * Recursion 1000 deep: ntfn_main 0..4000 { ntfn_rec entered at 1..1000, left at 3000 - k }.
 * Past FLAME_FOLD_DEPTH frames a function on the path folds into its nearest activation: the
 * folded output has main plus 127 rec paths (the deepest 128 frames), not 1000 paths of up to
 * 1001 frames, and the values are unchanged.
 */
START_TEST(test_fold_recursion)
{
	struct opts o = tu_opts();
	struct tg *g = tg_open(path);
	struct tg_thread *a = tg_thread(g, 100);
	unsigned lines = 0, maxf = 0, f;
	uint64_t total = 0, rec = 0;
	char *s, *line, *save;
	uint32_t k;

	tu_module_of(a, FMAIN, 0);
	tg_enter(a, FMAIN, 0);
	for (k = 1; k <= 1000; k++)
		tg_enter(a, FREC, k);
	for (k = 1000; k >= 1; k--)
		tg_exit(a, 3000 - k);
	tg_exit(a, 4000);
	tg_close(g);
	o.output = out;
	o.folded = 1;
	s = report(report_flamegraph, &o);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *sp = strrchr(line, ' ');

		if (line[0] == '#') {
			ck_assert_str_eq(line, "# recursion folded: on paths deeper than 128 frames, "
					       "873 frames of functions already on the path were "
					       "merged into their nearest activation");
			continue;
		}
		lines++;
		f = 1;
		for (const char *c = line; c < sp; c++)
			f += *c == ';';
		if (f > maxf)
			maxf = f;
		total += strtoull(sp + 1, NULL, 10);
		if (strstr(line, "ntfn_rec"))
			rec += strtoull(sp + 1, NULL, 10);
	}
	ck_assert_uint_eq(lines, 128);
	ck_assert_uint_eq(maxf, FLAME_FOLD_DEPTH);
	ck_assert_uint_eq(total, 4000);		/* main's total */
	/* rec: 1000 + (3000 - 1) - 1 = 2998 ns inclusive, all of it self or rec's */
	ck_assert_uint_eq(rec, 2998);
	free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("notes");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_complete);
	tcase_add_test(tc, test_killed);
	tcase_add_test(tc, test_chunk_boundary);
	tcase_add_test(tc, test_thread_last_missing);
	tcase_add_test(tc, test_repeated_chunk);
	tcase_add_test(tc, test_conflicting_chunk);
	tcase_add_test(tc, test_impossible_values);
	tcase_add_test(tc, test_impossible_times);
	tcase_add_test(tc, test_contradicting_flags);
	tcase_add_test(tc, test_truncated_stacks);
	tcase_add_test(tc, test_fold_recursion);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
