// SPDX-License-Identifier: MIT
/*
 * Writes the committed test traces of tests/data/ (run tests/data/make-data.sh). Each
 * NAME.bin has a NAME.expect saying what perfshim-analyze must do with it (see
 * tests/run/50-data-files.sh). The traces are deterministic: rerunning gives the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tracegen.h"

static char dir[512];

static const char *at(const char *name)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* The traces keep format version 1: readers must go on reading it (tracegen writes 2). */
static struct tg *open_v1(const char *path)
{
	struct tg *g = tg_open(path);

	g->hdr.version = 1;
	return g;
}

/*
 * valid: 2 threads; thread 100 has 3 chunks (main { work x2 } with allocations), thread 200
 * has 1 chunk. 23 events in a dump. Chunk offsets are printed for the damage below. Thread
 * 100's last chunk is the exit flush: flagged PROCESS_END by tg_close.
 */
static void valid(const char *name, uint64_t *offs)
{
	struct tg *g = open_v1(at(name));
	struct tg_thread *a = tg_thread(g, 100), *b = tg_thread(g, 200);
	static const uint64_t st[] = { 0x401234, 0x401567 };
	uint32_t node;


	tg_process(a, 4242, 1, "/usr/bin/sample", "sample\0--fast\0", 14);
	tg_module(a, 0x400000, 0x400000, 0x402000, "\x01\x02\x03\x04", 4, "/usr/bin/sample", 1000);
	tg_enter(a, 0x401000, 2000);			/* main */
	tg_enter(a, 0x401100, 3000);			/* work */
	node = tg_stack(a, true, st, 2);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 100, 0x10000, node, 3500);
	tg_exit(a, 5000);
	offs[0] = tg_flush(a, 0);
	tg_mark(a, "middle", 6000);
	tg_enter(a, 0x401100, 7000);
	tg_alloc(a, TRACE_ALLOC_CALLOC, 200, 0x20000, node, 7500);
	tg_free(a, 0x10000, 8000);
	tg_exit(a, 9000);
	offs[1] = tg_flush(a, 0);
	tg_enter(b, 0x401100, 2500);
	tg_realloc(b, 0, 0x30000, 64, 0, 2600, 2700);
	tg_exit(b, 4000);
	tg_thread_name(b, "worker");
	offs[2] = tg_flush(b, TRACE_CHUNK_LAST);
	tg_rss(a, 1 << 20, 9500);
	tg_exit(a, 10000);
	tg_thread_name(a, "sample");
	offs[3] = tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

/* copy @n bytes at @from of file @path to its end (a chunk written twice) */
static void repeat_bytes(const char *path, uint64_t from, uint64_t n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(n);

	if (!f || !buf || fseek(f, (long)from, SEEK_SET) || fread(buf, 1, n, f) != n)
		abort();
	fclose(f);
	tg_write_at(path, tg_file_size(path), buf, n);
	free(buf);
}

/*
 * nolast: thread 200 writes one chunk (work, a malloc of 64 bytes) and is then lost: its
 * last chunk never reached the file; thread 100 (main, a malloc of 32 bytes) exits with the
 * process (PROCESS_END).
 */
static void nolast(const char *name)
{
	struct tg *g = open_v1(at(name));
	struct tg_thread *a = tg_thread(g, 100), *b = tg_thread(g, 200);
	struct tg_chunk *lost;

	tg_process(a, 4242, 1, "/usr/bin/sample", "sample\0", 7);
	tg_enter(a, 0x401000, 2000);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 32, 0x10000, 0, 2100);
	tg_enter(b, 0x401100, 2500);
	tg_alloc(b, TRACE_ALLOC_MALLOC, 64, 0x20000, 0, 2600);
	tg_flush(b, 0);
	tg_exit(b, 4000);
	tg_thread_name(b, "worker");
	lost = tg_take(b, TRACE_CHUNK_LAST);
	free(lost->payload);
	free(lost);
	tg_exit(a, 10000);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

/*
 * Crafted values that pass every checksum: thread 100 runs main (2000..10000) with a
 * malloc of 100 bytes at 0x10000 (freed at 9000) and, per @what:
 *   huge-alloc    a malloc of 2^64 - 1 bytes at 0x20000 (3000)
 *   huge-realloc  a malloc of 50 bytes at 0x30000 (3000), realloc'd to 2^63 bytes at
 *                 0x40000 (4000, 4100): a realloc that cannot have succeeded
 *   late-time     an EXIT whose delta puts it 2^40 ticks after its chunk's end (raw bytes)
 */
static void crafted(const char *name, const char *what)
{
	struct tg *g = open_v1(at(name));
	struct tg_thread *a = tg_thread(g, 100);

	tg_process(a, 4242, 1, "/usr/bin/sample", "sample\0", 7);
	tg_enter(a, 0x401000, 2000);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 100, 0x10000, 0, 2500);
	if (!strcmp(what, "huge-alloc")) {
		tg_alloc(a, TRACE_ALLOC_MALLOC, UINT64_MAX, 0x20000, 0, 3000);
	} else if (!strcmp(what, "huge-realloc")) {
		tg_alloc(a, TRACE_ALLOC_MALLOC, 50, 0x30000, 0, 3000);
		tg_realloc(a, 0x30000, 0x40000, 1ULL << 63, 0, 4000, 4100);
	} else if (!strcmp(what, "late-time")) {
		uint8_t rec[16], *p = trace_put_varint(rec, 1ULL << 41);	/* EXIT, dt 2^40 */

		tg_enter(a, 0x401100, 3000);
		tg_raw(a, rec, (size_t)(p - rec));
	}
	tg_free(a, 0x10000, 9000);
	tg_exit(a, 10000);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

/*
 * Context switches (SWITCH records, TRACE_F_SWITCHES; format version 4): thread 100 runs
 * main 1000..10000 { f 2000..6000 }, f's entry in chunk 0, its exit in chunk 1, main's exit
 * in chunk 2 (LAST). The recorder writes a thread's intervals when it opens a chunk, after
 * the events of their time; so do these. Per @what:
 *   sw-valid          f blocked [3000, 4000) (in chunk 1: across the boundary from f's
 *                     entry), main preempted [7000, 7500) (chunk 2), CPU clock readings
 *                     (500, 0 ns) in chunk 0 and (10000, 7200 ns) in chunk 2. By hand: on
 *                     a CPU by the trace's clock 9500 - 1500 = 8000 ns between them, by the
 *                     CPU clock 7200: steal 800, spread at 1/10 of on-CPU time. f: self
 *                     4000, on a CPU 3000, steal 300: wait 1000 + 300 = 1300, CPU self
 *                     2700. main: self 9000 - 4000 = 5000, off-CPU 500, on a CPU 4500,
 *                     steal 450: wait 950, CPU self 4050, CPU total 6750
 *   sw-late           an interval [3000, 3000 + 2e9) in chunk 1, past its chunk's end (10000
 *                     ticks) by more than the 1 s allowed: the stream ends there (6000)
 *   sw-cputime-late   a CPU clock reading at 2e9 ticks in chunk 1: the same
 *   sw-huge           f blocked [3000, 4000), then an interval whose start (2^64 - 100
 *                     after the switch base) wraps the clock: a malformed record
 *   sw-huge-cputime   the same, a CPU clock reading 2^64 - 1 ticks after the switch base
 *   sw-huge-cpu       readings (500, 0) and (10000, 2^64 - 1 ns): a CPU clock ahead of
 *                     the trace's (impossible): no steal
 *   sw-cputime-back   no intervals; readings (500, 0), (8000, 2000), (4000, 3000): the last
 *                     is out of time order (sorted), and from 4000 to 8000 the CPU clock goes
 *                     back: no steal there. 500..4000: 3500 ns on a CPU, 3000 counted:
 *                     steal 500 at 1/7 of on-CPU time: main's self 1000..2000 gets 143 ns
 *                     of it, f's 2000..4000 286
 *   sw-lost           thread 100: 7 switch records lost, and a LOST of 2^60 (impossible:
 *                     left out of the count)
 *   sw-absent         thread 200 (one call of f, 2500..4000): ABSENT, errno 13 (EACCES)
 *   sw-last           main's exit never written: the final flush for the thread cut at exit
 *                     (LAST|CUT|PROCESS_END) holds an interval [6500, 9000) after its last
 *                     event (6000): main is closed when it ended, 9000, with 2500 of wait
 */
static void switches(const char *name, const char *what)
{
	struct tg *g = tg_open(at(name));
	struct tg_thread *a = tg_thread(g, 100);
	bool last = !strcmp(what, "sw-last");

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_process(a, 4242, 1, "/usr/bin/sample", "sample\0", 7);
	if (!strcmp(what, "sw-valid") || !strcmp(what, "sw-cputime-back") ||
	    !strcmp(what, "sw-huge-cpu"))
		tg_cputime(a, 500, 0);
	tg_enter(a, 0x401000, 1000);
	tg_enter(a, 0x401100, 2000);
	tg_flush(a, 0);
	if (!strcmp(what, "sw-valid") || !strncmp(what, "sw-huge", 7)) {
		tg_switch(a, TRACE_SWITCH_BLOCKED, 3000, 4000);
	} else if (!strcmp(what, "sw-late")) {
		tg_switch(a, TRACE_SWITCH_BLOCKED, 3000, 3000 + 2000000000ULL);
	} else if (!strcmp(what, "sw-cputime-late")) {
		tg_cputime(a, 2000000000ULL, 5000);
	} else if (!strcmp(what, "sw-cputime-back")) {
		tg_cputime(a, 8000, 2000);
		tg_cputime(a, 4000, 3000);
	} else if (!strcmp(what, "sw-lost")) {
		tg_switch_note(a, TRACE_SWITCH_LOST, 7);
		tg_switch_note(a, TRACE_SWITCH_LOST, 1ULL << 60);
	} else if (!strcmp(what, "sw-absent")) {
		struct tg_thread *b = tg_thread(g, 200);

		tg_switch_note(b, TRACE_SWITCH_ABSENT, 13);
		tg_enter(b, 0x401100, 2500);
		tg_exit(b, 4000);
		tg_flush(b, TRACE_CHUNK_LAST);
	}
	if (!strcmp(what, "sw-huge") || !strcmp(what, "sw-huge-cputime")) {
		uint8_t rec[40], *p = rec;
		bool cpu = !strcmp(what, "sw-huge-cputime");

		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_SWITCH));
		p = trace_put_varint(p, cpu ? TRACE_SWITCH_CPUTIME : TRACE_SWITCH_PREEMPTED);
		p = trace_put_varint(p, cpu ? UINT64_MAX : UINT64_MAX - 100);
		p = trace_put_varint(p, 5);
		tg_raw(a, rec, (size_t)(p - rec));
	}
	tg_exit(a, 6000);
	tg_flush(a, 0);
	if (last) {
		tg_switch(a, TRACE_SWITCH_BLOCKED, 6500, 9000);
		tg_flush(a, TRACE_CHUNK_LAST | TRACE_CHUNK_CUT | TRACE_CHUNK_PROCESS_END);
		tg_close(g);
		return;
	}
	if (!strcmp(what, "sw-valid"))
		tg_switch(a, TRACE_SWITCH_PREEMPTED, 7000, 7500);
	tg_exit(a, 10000);
	if (!strcmp(what, "sw-valid"))
		tg_cputime(a, 10000, 7200);
	else if (!strcmp(what, "sw-huge-cpu"))
		tg_cputime(a, 10000, UINT64_MAX);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

/*
 * sw_costed - thread 100 of @g, for sw-unmatched and sw-back: context switches on, and the
 * hooks' costs (COST) entry 2 + 3 ticks, exit 4 + 5
 */
static struct tg_thread *sw_costed(struct tg *g)
{
	static const uint64_t cost[TRACE_COST_N] = { 2 << TRACE_COST_SHIFT, 3 << TRACE_COST_SHIFT,
						     4 << TRACE_COST_SHIFT, 5 << TRACE_COST_SHIFT };
	struct tg_thread *a = tg_thread(g, 100);

	g->hdr.flags |= TRACE_F_SWITCHES;
	tg_process(a, 4242, 1, "/usr/bin/sample", "sample\0", 7);
	tg_cost(a, cost, TRACE_COST_N);
	return a;
}

/*
 * sw-unmatched: the switches' walk keeps the calls' clock after an EXIT with no open call.
 * The hooks cost entry 2 + 3 ticks, exit 4 + 5 (COST). main 1000..1100, then 10 EXITs of no
 * call (1200, 1300, ..., 2100: the calls walk counts them unmatched and charges no cost),
 * f 3000..4000, blocked [3010, 3510) (in the next chunk). On the calls' clock: main's 14
 * ticks of cost and 2 of f's entry hook: f enters at 2984 and exits at 4000 - 23 = 3977
 * (total 993); the offset after its entry is 19 (no hold: 3010 - 2984 = 26 is more), so the
 * interval is [2991, 3491), all in f: f's wait is 500, its CPU self 493, nothing outside.
 * The switches' walk charged the 10 unmatched exits (90 ticks) and put it at [2901, 3401):
 * 83 ns before f's entry, outside every call (f's wait was 417, the waits' outside 500).
 */
static void sw_unmatched(const char *name)
{
	struct tg *g = tg_open(at(name));
	struct tg_thread *a = sw_costed(g);
	unsigned i;

	tg_enter(a, 0x401000, 1000);
	tg_exit(a, 1100);
	for (i = 0; i < 10; i++)
		tg_exit(a, 1200 + 100 * i);
	tg_enter(a, 0x401100, 3000);
	tg_exit(a, 4000);
	tg_flush(a, 0);
	tg_switch(a, TRACE_SWITCH_BLOCKED, 3010, 3510);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

/*
 * sw-back: an interval written after a CPU clock reading later than its start (the format
 * has readings after the intervals before them: a recorder does not write this, a damaged
 * or hand-made trace may). Costs as sw-unmatched. main 1000..10000 { 20 calls of g, 100
 * ticks each, 1100..3000; f 4000..5000 }, in chunk 0; chunk 1: the reading at 8000, then f
 * blocked [4800, 4900). On the calls' clock: main enters at 998; each g call costs 14,
 * g lasts 43 (860 for the 20); f enters at 4000 - 287 = 3713 and exits at 5000 - 294 =
 * 4706 (993); main exits at 9697 (8699). The offset at 4800 is that after f's entry, 290
 * (no hold: 4800 - 3713 is more): the interval is [4510, 4610), in f: f's wait 100, main's
 * 0. The reading had moved the checkpoints' head past f's exit (5000), and a tick before
 * the head took offset 0: [4800, 4900), after f's end, in main (f's wait was 0, main's 100).
 * sw-late-drain (@late): no reading; main calls g once more (6000..6100) in a chunk of its
 * own, and the interval comes in the chunk after it, two chunks late (the recorder drains
 * a thread's switches at every chunk it opens: it does not write this): the head was at
 * that chunk's start, after f's exit, and the figures were wrong the same way.
 */
static void sw_back(const char *name, bool late)
{
	struct tg *g = tg_open(at(name));
	struct tg_thread *a = sw_costed(g);
	unsigned i;

	tg_enter(a, 0x401000, 1000);
	for (i = 0; i < 20; i++) {
		tg_enter(a, 0x401200, 1100 + 100 * i);
		tg_exit(a, 1150 + 100 * i);
	}
	tg_enter(a, 0x401100, 4000);
	tg_exit(a, 5000);
	if (late) {
		tg_flush(a, 0);
		tg_enter(a, 0x401200, 6000);
		tg_exit(a, 6100);
	}
	tg_exit(a, 10000);
	tg_flush(a, 0);
	if (!late)
		tg_cputime(a, 8000, 6000);
	tg_switch(a, TRACE_SWITCH_BLOCKED, 4800, 4900);
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

/*
 * escapes: strings that would drive a terminal or break JSON if printed raw: the program's
 * path, a mark label and a thread name with escape sequences (clear screen, set the window
 * title, red), a BEL, a C1 control (U+009B, CSI) and bytes that are not UTF-8.
 */
static void escapes(const char *name)
{
	struct tg *g = open_v1(at(name));
	struct tg_thread *a = tg_thread(g, 100);

	tg_process(a, 4242, 1, "/usr/bin/\x1b]0;pwned\x07prog\xff", "prog\0\x1b[2J\0", 10);
	tg_enter(a, 0x401000, 1000);
	tg_mark(a, "phase\x1b[2J\x1b]0;title\x07\xff\xfe\xc2\x9b", 2000);
	tg_alloc(a, TRACE_ALLOC_MALLOC, 10, 0x1000, 0, 2500);
	tg_exit(a, 3000);
	tg_thread_name(a, "th\x1b[31mred\r");
	tg_flush(a, TRACE_CHUNK_LAST);
	tg_close(g);
}

static void late_start(struct trace_file_header *h)
{
	h->start_ticks = UINT64_MAX;
}

static void no_calls_flag(struct trace_file_header *h)
{
	h->flags &= ~TRACE_F_CALLS;
}

int main(int argc, char **argv)
{
	uint64_t offs[4];
	uint8_t rnd[4096];
	unsigned i, seed = 12345;

	snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : ".");
	valid("valid.bin", offs);

	/* cut: the last chunk loses its last 3 bytes (a crash while writing) */
	valid("cut.bin", offs);
	tg_truncate(at("cut.bin"), tg_file_size(at("cut.bin")) - 3);

	/* flipped: one bit of thread 100's second chunk payload */
	valid("flipped.bin", offs);
	tg_flip(at("flipped.bin"), offs[1] + sizeof(struct trace_chunk_header) + 3, 0x20);

	/* zeroed: 40 bytes from inside thread 100's first chunk header */
	valid("zeroed.bin", offs);
	tg_zero(at("zeroed.bin"), offs[0] + 8, 40);

	/* version: a well-formed header of the next format version */
	valid("version.bin", offs);
	tg_set_version(at("version.bin"), TRACE_VERSION + 1);

	/* badheader: the header's pid changed, checksum not fixed */
	valid("badheader.bin", offs);
	tg_flip(at("badheader.bin"), 20, 0x01);

	/* header-cut: the file ends inside the header */
	valid("header-cut.bin", offs);
	tg_truncate(at("header-cut.bin"), 50);

	/* garbage: a good header followed by random bytes */
	valid("garbage.bin", offs);
	for (i = 0; i < sizeof(rnd); i++) {
		seed = seed * 1103515245 + 12345;
		rnd[i] = (uint8_t)(seed >> 16);
	}
	tg_truncate(at("garbage.bin"), sizeof(struct trace_file_header));
	tg_write_at(at("garbage.bin"), sizeof(struct trace_file_header), rnd, 1000);

	/* random: random bytes only */
	tg_write_file(at("random.bin"), rnd + 1000, 3000);

	/* empty */
	tg_write_file(at("empty.bin"), "", 0);

	/* foreign: a gzip stream's first bytes */
	tg_write_file(at("foreign.bin"), "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03hello", 15);

	/* repeated: thread 100's first chunk written again at the end of the file (read as a
	 * new thread of that tid, it would count its events twice) */
	valid("repeated.bin", offs);
	repeat_bytes(at("repeated.bin"), offs[0], offs[1] - offs[0]);

	/* boundary: cut exactly where thread 100's last chunk (the exit flush) starts */
	valid("boundary.bin", offs);
	tg_truncate(at("boundary.bin"), offs[3]);

	/* nolast: a thread's last chunk is missing, the process's end is there */
	nolast("nolast.bin");

	/* crafted values (see crafted()) and headers that contradict the contents */
	crafted("huge-alloc.bin", "huge-alloc");
	crafted("huge-realloc.bin", "huge-realloc");
	crafted("late-time.bin", "late-time");
	valid("late-start.bin", offs);
	tg_patch_header(at("late-start.bin"), late_start, false);
	valid("no-calls-flag.bin", offs);
	tg_patch_header(at("no-calls-flag.bin"), no_calls_flag, false);

	/* escapes: control characters and bytes that are not UTF-8 in its strings */
	escapes("escapes.bin");

	/* context switches (see switches()) */
	switches("sw-valid.bin", "sw-valid");
	switches("sw-late.bin", "sw-late");
	switches("sw-cputime-late.bin", "sw-cputime-late");
	switches("sw-huge.bin", "sw-huge");
	switches("sw-huge-cputime.bin", "sw-huge-cputime");
	switches("sw-huge-cpu.bin", "sw-huge-cpu");
	switches("sw-cputime-back.bin", "sw-cputime-back");
	switches("sw-lost.bin", "sw-lost");
	switches("sw-absent.bin", "sw-absent");
	sw_unmatched("sw-unmatched.bin");
	sw_back("sw-back.bin", false);
	sw_back("sw-late-drain.bin", true);
	switches("sw-last.bin", "sw-last");

	/* header-only: a trace whose process died before writing any chunk */
	{
		struct tg *g = open_v1(at("header-only.bin"));

		tg_close(g);
	}
	return 0;
}
