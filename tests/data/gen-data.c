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
 * has 1 chunk. 23 events in a dump. Chunk offsets are printed for the damage below.
 */
static void valid(const char *name, uint64_t *offs)
{
	struct tg *g = tg_open(at(name));
	struct tg_thread *a = tg_thread(g, 100), *b = tg_thread(g, 200);
	static const uint64_t st[] = { 0x401234, 0x401567 };
	uint32_t node;

	g->hdr.version = 1;		/* these files keep format version 1 readable */

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

	/* header-only: a trace whose program recorded nothing (valid, no events) */
	{
		struct tg *g = tg_open(at("header-only.bin"));

		g->hdr.version = 1;
		tg_close(g);
	}
	return 0;
}
