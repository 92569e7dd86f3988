/* SPDX-License-Identifier: MIT */
/*
 * decode-floor - the analyzer's decode floor for `make bench` (docs/bench.md): reads a
 * perfshim trace chunk by chunk and walks every record with a naive byte-at-a-time varint
 * loop, keeping no state beyond event counts and a sum of the fields (so that no decoding is
 * optimised away): no checksums, no per-thread order, no times, no ids, no aggregation. What
 * any report must at least do, so the analyzer's events/s can be put beside it.
 *
 *	decode-floor TRACE	prints "events=N entries=N exits=N allocs=N frees=N reallocs=N
 *				chunks=N bytes=N sum=N"; exit 1 on a file it cannot walk
 *
 * events = entries + exits + allocs + frees + 2 x reallocs: as bench/run.sh counts them
 * (a call trace's events are 2 x calls, an allocation trace's a realloc counts twice).
 * Damaged input ends the walk with one line on stderr; bench traces are intact.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/perfshim/trace.h"

struct counts {
	uint64_t entries, exits, allocs, frees, reallocs, chunks, bytes, sum;
};

/* The naive loop: one byte at a time, no bound on the shift, no fast path. */
#define VARINT(v)                                                                                  \
	do {                                                                                       \
		unsigned shift_ = 0;                                                               \
		uint8_t b_;                                                                        \
		(v) = 0;                                                                           \
		do {                                                                               \
			if (p >= end)                                                              \
				return -1;                                                         \
			b_ = *p++;                                                                 \
			(v) |= (uint64_t)(b_ & 0x7f) << (shift_ & 63);                             \
			shift_ += 7;                                                               \
		} while (b_ & 0x80);                                                               \
	} while (0)

#define SKIP_VARINTS(n)                                                                            \
	do {                                                                                       \
		for (int k_ = 0; k_ < (n); k_++) {                                                 \
			VARINT(v);                                                                 \
			c->sum += v;                                                               \
		}                                                                                  \
	} while (0)

#define SKIP_STR()                                                                                 \
	do {                                                                                       \
		VARINT(v);                                                                         \
		if (v > (uint64_t)(end - p))                                                       \
			return -1;                                                                 \
		p += v;                                                                            \
	} while (0)

/* Walk one payload. Return: 0, or -1 at a malformed record. */
static int walk(const uint8_t *p, const uint8_t *end, struct counts *c)
{
	uint64_t h, v;

	while (p < end) {
		VARINT(h);
		c->sum += h;
		if (!(h & 1)) {
			c->exits++;
			continue;
		}
		if ((h & 3) == 1) {
			c->entries++;
			SKIP_VARINTS(1);
			continue;
		}
		switch (h >> 2) {
		case TRACE_OP_FUNC:
		case TRACE_OP_LOST:
			SKIP_VARINTS(1);
			break;
		case TRACE_OP_NODE_RA:
		case TRACE_OP_NODE_FN:
		case TRACE_OP_UNLOAD:
		case TRACE_OP_RSS:
			SKIP_VARINTS(2);
			break;
		case TRACE_OP_ALLOC:
			c->allocs++;
			SKIP_VARINTS(5);
			break;
		case TRACE_OP_FREE:
			c->frees++;
			SKIP_VARINTS(2);
			break;
		case TRACE_OP_REALLOC:
			c->reallocs++;
			SKIP_VARINTS(6);
			break;
		case TRACE_OP_ENTRY_AT:
			c->entries++;
			SKIP_VARINTS(2);
			break;
		case TRACE_OP_MARK:
			SKIP_STR();
			SKIP_VARINTS(1);
			break;
		case TRACE_OP_MODULE:
			SKIP_VARINTS(3);
			SKIP_STR();
			SKIP_STR();
			SKIP_VARINTS(1);
			break;
		case TRACE_OP_THREAD_NAME:
			SKIP_STR();
			break;
		case TRACE_OP_PROCESS:
			SKIP_VARINTS(2);
			SKIP_STR();
			SKIP_STR();
			break;
		case TRACE_OP_EXITS:
			VARINT(v);
			c->exits += v;
			SKIP_VARINTS(1);
			break;
		case TRACE_OP_COST: {	/* n, then n figures (untimed) */
			uint64_t n;

			VARINT(n);
			if (n > 64)
				return -1;
			SKIP_VARINTS((int)n);
			break;
		}
		case TRACE_OP_SWITCH:	/* kind, a, b (untimed) */
			SKIP_VARINTS(3);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct trace_file_header fh;
	struct trace_chunk_header ch;
	struct counts c = { 0 };
	uint8_t *buf = NULL;
	uint64_t off;
	FILE *f;

	if (argc != 2) {
		fputs("usage: decode-floor TRACE\n", stderr);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "decode-floor: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (fread(&fh, sizeof(fh), 1, f) != 1 || memcmp(fh.magic, TRACE_MAGIC, 8) ||
	    fh.max_chunk == 0 || fh.max_chunk > TRACE_MAX_CHUNK) {
		fprintf(stderr, "decode-floor: %s: not a perfshim trace\n", argv[1]);
		return 1;
	}
	buf = malloc(fh.max_chunk);
	if (!buf) {
		perror("decode-floor: malloc");
		return 1;
	}
	/* the next header follows the payload and the writer's unused tail (pad) */
	for (off = sizeof(fh); fread(&ch, sizeof(ch), 1, f) == 1;
	     off += sizeof(ch) + ch.size + ch.pad) {
		if (ch.magic != TRACE_CHUNK_MAGIC || ch.size > fh.max_chunk ||
		    ch.pad > fh.max_chunk - ch.size) {
			fprintf(stderr, "decode-floor: %s: damaged chunk header at offset %llu\n",
				argv[1], (unsigned long long)off);
			return 1;
		}
		if (fread(buf, 1, ch.size, f) != ch.size) {
			fprintf(stderr, "decode-floor: %s: cut inside the chunk at offset %llu\n",
				argv[1], (unsigned long long)off);
			return 1;
		}
		if (walk(buf, buf + ch.size, &c) < 0) {
			fprintf(stderr, "decode-floor: %s: malformed record in the chunk at "
				"offset %llu\n", argv[1], (unsigned long long)off);
			return 1;
		}
		c.chunks++;
		c.bytes += ch.size;
		if (ch.pad && fseek(f, ch.pad, SEEK_CUR) != 0) {
			perror("decode-floor: fseek");
			return 1;
		}
	}
	printf("events=%llu entries=%llu exits=%llu allocs=%llu frees=%llu reallocs=%llu "
	       "chunks=%llu bytes=%llu sum=%llu\n",
	       (unsigned long long)(c.entries + c.exits + c.allocs + c.frees + 2 * c.reallocs),
	       (unsigned long long)c.entries, (unsigned long long)c.exits,
	       (unsigned long long)c.allocs, (unsigned long long)c.frees,
	       (unsigned long long)c.reallocs, (unsigned long long)c.chunks,
	       (unsigned long long)c.bytes, (unsigned long long)c.sum);
	free(buf);
	fclose(f);
	return 0;
}
