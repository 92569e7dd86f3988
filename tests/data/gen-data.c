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

/*
 * valid: 2 threads; thread 100 has 3 chunks (main { work x2 } with allocations), thread 200
 * has 1 chunk. 23 events in a dump. Chunk offsets are printed for the damage below. Thread
 * 100's last chunk is the exit flush: flagged PROCESS_END by tg_close.
 */
static void valid(const char *name, uint64_t *offs)
{
	struct tg *g = tg_open(at(name));
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
	struct tg *g = tg_open(at(name));
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
	struct tg *g = tg_open(at(name));
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
 * escapes: strings that would drive a terminal or break JSON if printed raw: the program's
 * path, a mark label and a thread name with escape sequences (clear screen, set the window
 * title, red), a BEL, a C1 control (U+009B, CSI) and bytes that are not UTF-8.
 */
static void escapes(const char *name)
{
	struct tg *g = tg_open(at(name));
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

	/* version: a well-formed header of format version 2 */
	valid("version.bin", offs);
	tg_set_version(at("version.bin"), 2);

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

	/* header-only: a trace whose process died before writing any chunk */
	{
		struct tg *g = tg_open(at("header-only.bin"));

		tg_close(g);
	}
	return 0;
}
