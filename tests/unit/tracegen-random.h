/* SPDX-License-Identifier: MIT */
/*
 * tracegen-random: event streams as data, written out through tracegen. Streams come from a
 * seed (tgr_random: random but valid programs, for the property tests of test-prop.c) or
 * from fuzz input bytes (tgr_from_bytes: the report fuzzer, tests/fuzz/fuzz-reports.h), and
 * can be cut down (tgr_shrink) while a failure persists. docs/testing.md explains the design.
 *
 * A stream is one list of events in global time order; each names its thread. tgr_write
 * replays it against a model of the program (open calls per thread, live blocks, loaded
 * modules) and, unless the stream is lenient, leaves out what a real program cannot do (an
 * exit with no call open, a free of a block not live, an unload of a module not loaded) and
 * closes the calls still open at a thread's end. So any sub-list of a valid stream is valid:
 * the shrinker may drop any event.
 */
#ifndef PERFSHIM_TRACEGEN_RANDOM_H
#define PERFSHIM_TRACEGEN_RANDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TGR_MAX_THREADS 8
#define TGR_LABEL 24			/* mark labels, thread names (with the NUL) */
#define TGR_MAX_EVENTS 8192		/* tgr_from_bytes stops there */

enum tgr_type {
	TGR_ENTER = 1,		/* addr: the function */
	TGR_EXIT,
	TGR_EXITS,		/* n calls closed at once (longjmp) */
	TGR_ALLOC,		/* ptr, size, kind; stack: the thread's open calls */
	TGR_FREE,		/* ptr (any thread's block: cross-thread frees) */
	TGR_REALLOC,		/* old_ptr -> ptr (0: realloc(p, 0)), size; ticks2 = new block */
	TGR_MARK,		/* label */
	TGR_MODULE,		/* addr = base of a module of TGR_MOD_SIZE bytes (dlopen) */
	TGR_UNLOAD,		/* addr = base (dlclose) */
	TGR_NAME,		/* label: the thread's name */
	TGR_RSS,		/* size */
	TGR_LOST,		/* size: events dropped (lenient streams only) */
	TGR_FLUSH,		/* n: chunk flags (0: a chunk boundary) */
	TGR_ENTRY_AT,		/* addr, n = ticks back (lenient streams only) */
	TGR_SWITCH,		/* a SWITCH record as it is: kind (any, bad ones too), a = ptr
				 * (ticks from the switch base), b = size (ticks, or the CPU
				 * clock's ns for CPUTIME); from fuzz bytes only */
	TGR_TYPE_MAX
};

/* fake code: functions of the executable, and of modules loaded at a base */
#define TGR_EXE_FUNC(i) (0x401000ULL + 0x40ULL * (i))
#define TGR_MOD_SIZE 0x10000ULL
#define TGR_MOD_FUNC(base, i) ((base) + 0x1000ULL + 0x40ULL * (i))

struct tgr_event {
	uint8_t type;		/* enum tgr_type */
	uint8_t kind;		/* ALLOC: enum trace_alloc_kind */
	uint16_t thread;	/* index into tgr_stream.tid */
	uint32_t n;		/* EXITS: count; FLUSH: flags; ENTRY_AT: ticks back */
	uint64_t ticks, ticks2;	/* absolute; REALLOC: ticks2 >= ticks, when the new block came */
	uint64_t addr, ptr, old_ptr, size;
	char label[TGR_LABEL];
};

struct tgr_stream {
	struct tgr_event *ev;
	size_t n, cap;
	uint32_t nthreads;
	uint32_t tid[TGR_MAX_THREADS];
	uint32_t hdr_flags_set, hdr_flags_clear;	/* file header flags */
	size_t chunk_limit;	/* tracegen's auto-flush size, 0 = its default */
	bool lenient;		/* write the events as they are (fuzzing), no repairs */
	bool no_process_end;	/* the recorder did not see the end */
	uint64_t seed;		/* tgr_random's seed, for the messages */
};

/* tgr_random - a valid stream of about @nevents events from @seed (same seed, same stream) */
void tgr_random(struct tgr_stream *s, uint64_t seed, unsigned nevents);
/* tgr_from_bytes - a stream decoded from @size fuzz bytes (docs/testing.md, the op codes) */
void tgr_from_bytes(struct tgr_stream *s, const uint8_t *data, size_t size);
/* tgr_write - the stream as a trace at @path (created or truncated). Aborts on I/O errors. */
void tgr_write(const struct tgr_stream *s, const char *path);

/*
 * What the program did with memory, as tgr_write wrote it (the repairs applied): the known
 * answer of the property tests. A realloc is a free of the old block and an allocation of
 * the new one (none for realloc(p, 0)), as report-mem.c counts it.
 */
#define TGR_MODEL_MARKS 64
struct tgr_model {
	uint64_t allocs, frees, bytes_allocated, bytes_freed;
	uint64_t live_bytes, live_blocks;	/* at the end */
	uint64_t peak_bytes;			/* the most live at once */
	uint32_t nmarks;			/* marks written, in time order */
	struct {
		char label[TGR_LABEL];
		uint64_t live_bytes, live_blocks;	/* live when the mark was set */
	} marks[TGR_MODEL_MARKS];
};
/* tgr_write_model - tgr_write, and the model of what was written into *@m */
void tgr_write_model(const struct tgr_stream *s, const char *path, struct tgr_model *m);
/* tgr_print - one line per event, as the shrinker's report shows it */
void tgr_print(const struct tgr_stream *s, FILE *f);
void tgr_copy(struct tgr_stream *dst, const struct tgr_stream *src);
void tgr_free(struct tgr_stream *s);
void tgr_push(struct tgr_stream *s, const struct tgr_event *e);

/*
 * A failure of a stream: true while it still fails. tgr_shrink keeps in @s a stream that still
 * fails after dropping threads, calls (an ENTER with what its thread did until its EXIT) and
 * runs of events (delta debugging, halving the run length down to one event), until no single
 * drop keeps the failure. Return: how many times @fails was asked.
 */
typedef bool (*tgr_fails_fn)(const struct tgr_stream *s, void *ctx);
unsigned tgr_shrink(struct tgr_stream *s, tgr_fails_fn fails, void *ctx);

/* a small deterministic PRNG (splitmix64), shared by the tests' own mutation loops */
uint64_t tgr_rand(uint64_t *state);

#endif /* PERFSHIM_TRACEGEN_RANDOM_H */
