/* SPDX-License-Identifier: MIT */
/*
 * perfshim trace format: the only header shared by the preload library and the analyzer.
 * docs/trace-format.md describes every byte; this file is its executable form.
 *
 * Glossary
 *   trace    one file written by one process image (fork and exec each start a new one)
 *   chunk    a self-describing block written by one thread: header + payload of records
 *   record   one event in a chunk payload, varint-encoded (see "Records" below)
 *   tick     one unit of the trace clock: TSC cycles (TRACE_F_TSC) or nanoseconds
 *   fid      per-thread function id, defined once per thread by a FUNC record
 *   node     per-thread stack node id (a prefix tree of frames), defined by NODE_* records;
 *            an allocation names its innermost node; 0 means "no stack"
 */
#ifndef PERFSHIM_TRACE_H
#define PERFSHIM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TRACE_MAGIC "PERFSHIM"		/* 8 bytes, no NUL */
#define TRACE_VERSION 4		/* written; readers also read 1 to 3 (docs/trace-format.md) */
#define TRACE_VERSION_MIN 1		/* oldest version readers accept */
#define TRACE_ENDIAN 0x01020304U	/* as written by a little-endian host */
#define TRACE_CHUNK_MAGIC 0x4b4e4843U	/* "CHNK" little-endian */
#define TRACE_MAX_CHUNK (64U << 20)	/* no valid chunk payload is larger */
#define TRACE_MAX_STRING 4096U		/* labels, paths, names are cut to this */
#define TRACE_MAX_RECORD 64U		/* largest fixed-field record (no strings) */

/* trace_file_header.flags */
#define TRACE_F_TSC (1U << 0)		/* ticks are TSC cycles; otherwise CLOCK_MONOTONIC ns */
#define TRACE_F_CALLS (1U << 1)		/* function entry/exit were recorded */
#define TRACE_F_MALLOC (1U << 2)	/* the malloc family was recorded */
#define TRACE_F_SHADOW_STACKS (1U << 3) /* allocation stacks may come from the shadow stack */
#define TRACE_F_CHILD (1U << 4)		/* written by a forked or spawned child */
#define TRACE_F_EXEC (1U << 5)		/* written by an image that replaced a traced one by exec */
#define TRACE_F_MODULE_CHUNKS (1U << 6)	/* every chunk with MODULE/UNLOAD records is flagged
					 * TRACE_CHUNK_MODULES (readers read only those for the
					 * module map; without this flag, every chunk) */
#define TRACE_F_CUT_FSIZE (1U << 7)	/* recording stopped early: the file-size limit (RLIMIT_FSIZE) */
#define TRACE_F_CUT_WRITE (1U << 8)	/* recording stopped early: the trace could not be written
					 * (disk full, I/O error, file closed by the program) */
#define TRACE_F_SWITCHES (1U << 9)	/* context switches were recorded: every thread's
					 * off-CPU time is in SWITCH records (or one says why
					 * not); without it times are wall-clock only */

/*
 * File header: at offset 0, once. All integers little-endian.
 */
struct trace_file_header {
	char magic[8];			/* TRACE_MAGIC */
	uint16_t version;		/* TRACE_VERSION; readers refuse other versions */
	uint16_t header_size;		/* sizeof(struct trace_file_header) */
	uint32_t endian;		/* TRACE_ENDIAN */
	uint32_t flags;			/* TRACE_F_* */
	uint32_t pid;
	uint32_t ppid;
	uint32_t stack_depth;		/* PERFSHIM_STACK_DEPTH in force */
	uint32_t max_chunk;		/* no chunk payload in this file is larger (bytes) */
	uint32_t sample_mean;		/* PERFSHIM_SAMPLE: mean bytes between sampled allocations
					 * (docs/sampling.md); 0 = every allocation recorded.
					 * Version-2 files written before sampling existed have 0 */
	uint64_t min_duration_ns;	/* PERFSHIM_MIN_DURATION in force; 0 = all calls kept */
	uint64_t start_ticks;		/* trace clock at start, paired with start_mono_ns */
	uint64_t start_mono_ns;		/* CLOCK_MONOTONIC at start, ns */
	uint64_t start_real_ns;		/* CLOCK_REALTIME at start, ns since the epoch */
	uint64_t tick_hz;		/* rough clock rate measured at start; chunk pairs refine it */
	uint32_t sample_seed;		/* PERFSHIM_SAMPLE_SEED of the sampler (with sample_mean) */
	uint32_t checksum;		/* trace_checksum() of the bytes before this field */
};

/*
 * Chunk header: each chunk is this header followed by `size` payload bytes and `pad` bytes
 * of nothing (the rest of the file region the writer reserved for the chunk); the next chunk
 * header follows them. A thread's chunks
 * carry consecutive `seq` numbers from 0; chunks of different threads interleave in the file.
 * Record decoding state (fids, nodes, pointer base, time base) carries over from one chunk of
 * a thread to its next, so a thread's chunks are decoded in `seq` order.
 * tid 0 is not a thread: its chunks each hold one MARK set from a signal handler (dt 0 from
 * base_ticks), written at once because a handler cannot append to an interrupted buffer.
 */
struct trace_chunk_header {
	uint32_t magic;			/* TRACE_CHUNK_MAGIC */
	uint32_t tid;			/* kernel thread id of the writer */
	uint32_t seq;			/* per-thread sequence number, from 0 */
	uint32_t size;			/* payload bytes, <= file header's max_chunk */
	uint32_t flags;			/* TRACE_CHUNK_* */
	uint32_t payload_checksum;	/* trace_checksum() of the payload */
	uint64_t base_ticks;		/* time base: the first record's delta is from this */
	uint64_t end_ticks;		/* trace clock at write time ... */
	uint64_t end_mono_ns;		/* ... and CLOCK_MONOTONIC read right after it */
	uint32_t pad;			/* bytes after the payload before the next chunk (version 1: 0) */
	uint32_t header_checksum;	/* trace_checksum() of the 52 bytes before this field */
};

#define TRACE_CHUNK_LAST (1U << 0)	/* the thread's final chunk (thread or process exit) */
#define TRACE_CHUNK_CUT (1U << 1)	/* written by another thread at exit: thread cut short */
#define TRACE_CHUNK_PROCESS_END (1U << 2) /* written by the flush that saw the process end
					 * (exit, _exit, exit_group, exec): set on the final
					 * flush's chunks, and on the chunk written before an exec */
#define TRACE_CHUNK_OPEN (1U << 3)	/* unfinished: the writer set the region up and never closed
					 * it (killed, or still running). `size` is the whole
					 * payload area, ending in a struct trace_chunk_trailer; the
					 * records are the first (cursor - base) bytes; no payload
					 * checksum (0); end_ticks/end_mono_ns = when it was opened */

/*
 * The last TRACE_CHUNK_TRAILER bytes of an OPEN chunk's payload area: the writer's own
 * addresses of the payload start and of the end of its last committed record, updated with
 * every record (so records survive a process that dies without a word: SIGKILL, exit_group).
 */
struct trace_chunk_trailer {
	uint64_t base;			/* writer's address of payload byte 0 */
	uint64_t cursor;		/* writer's address past the last committed record */
};
#define TRACE_CHUNK_TRAILER 16U
#define TRACE_CHUNK_MODULES (1U << 4)	/* may hold MODULE or UNLOAD records */

_Static_assert(sizeof(struct trace_file_header) == 88, "file header layout");
_Static_assert(sizeof(struct trace_chunk_header) == 56, "chunk header layout");
_Static_assert(sizeof(struct trace_chunk_trailer) == TRACE_CHUNK_TRAILER, "trailer layout");

/*
 * Records. Each starts with an unsigned LEB128 varint h:
 *   (h & 1) == 0  EXIT:  dt = h >> 1. Closes the innermost open call.
 *   (h & 3) == 1  ENTRY: fid = h >> 2, then varint dt. Opens a call of function fid.
 *   (h & 3) == 3  op = h >> 2, then the op's fields below.
 * dt is the unsigned tick delta from the previous timed record of the thread (or from the
 * chunk's base_ticks); the record's time becomes the new time base. "zz" fields are signed,
 * zigzag-encoded varints. "ptr base" is the thread's last pointer written (starts at 0).
 * "str" is a varint length followed by that many bytes (no NUL).
 */
enum trace_op {
	TRACE_OP_FUNC = 1,	/* varint addr: defines fid = next fid of the thread (from 0) */
	TRACE_OP_NODE_RA = 2,	/* varint parent, zz (ip - parent_ip): defines the next node id
				 * (from 1); ip is a return address; parent 0 = root (ip 0) */
	TRACE_OP_NODE_FN = 3,	/* as NODE_RA, but ip is a function's entry address */
	TRACE_OP_ALLOC = 4,	/* varint kind, varint size, zz (ptr - ptr base), varint node, dt */
	TRACE_OP_FREE = 5,	/* zz (ptr - ptr base), dt */
	TRACE_OP_REALLOC = 6,	/* zz (old - ptr base), zz (new - old), varint size, varint node,
				 * dt (old freed), dt (new allocated); new == 0: realloc(p, 0) freed p */
	TRACE_OP_ENTRY_AT = 7,	/* varint fid, varint back: ENTRY at time base - back, time base
				 * unchanged (entries written lazily under PERFSHIM_MIN_DURATION) */
	TRACE_OP_MARK = 8,	/* str label, dt */
	TRACE_OP_MODULE = 9,	/* varint base (load bias), varint lo, varint hi (mapped range of
				 * PT_LOAD segments, absolute), str build-id (raw bytes), str path, dt */
	TRACE_OP_UNLOAD = 10,	/* varint base, dt: the module loaded at base was dlclosed */
	TRACE_OP_THREAD_NAME = 11, /* str name */
	TRACE_OP_LOST = 12,	/* varint count: events dropped (guard, overflow, late exit) */
	TRACE_OP_PROCESS = 13,	/* varint pid, varint ppid, str exe, str cmdline (NUL-separated) */
	TRACE_OP_RSS = 14,	/* varint rss bytes, dt */
	TRACE_OP_EXITS = 15,	/* varint n, dt: n calls closed at once (longjmp, lost exits) */
	TRACE_OP_COST = 16,	/* varint n, then n varints: what the recorder's own hooks cost,
				 * in 1/1024 ticks, as measured in the process at start
				 * (enum trace_cost; docs/compensation.md). Untimed; in a chunk
				 * flagged TRACE_CHUNK_MODULES; the last one read holds. One
				 * with TRACE_COST_RUN set sits in a thread's own chunk: the
				 * figures measured on it since, for its events after it */
	TRACE_OP_SWITCH = 17,	/* varint kind (enum trace_switch_kind), varint a, varint b:
				 * BLOCKED/PREEMPTED: a = start - switch base, b = length: the
				 * thread was off-CPU over [start, start + b) ticks; the switch
				 * base (per thread, from 0) becomes start + b.
				 * LOST: a = switch records the kernel dropped (b = 0).
				 * ABSENT: a = errno: no switch data for this thread (b = 0).
				 * Not timed (no dt): written when a chunk opens or the last
				 * closes, for times before it, in increasing order */
	TRACE_OP_MAX
};

/* TRACE_OP_COST fields, in order; a reader takes the first n it knows, ignores the rest */
enum trace_cost {
	TRACE_COST_ENTRY_BEFORE = 0,	/* entry hook, before its timestamp: in the caller */
	TRACE_COST_ENTRY_AFTER = 1,	/* entry hook, after it: in the callee */
	TRACE_COST_EXIT_BEFORE = 2,	/* exit hook, before its timestamp: in the callee */
	TRACE_COST_EXIT_AFTER = 3,	/* exit hook, after it: in the caller */
	TRACE_COST_ALLOC = 4,		/* recording an ALLOC or REALLOC whose stack was known */
	TRACE_COST_NODE = 5,		/* more for each NODE record a stack defined */
	TRACE_COST_FREE = 6,		/* recording a FREE */
	TRACE_COST_RUN = 7,		/* 1: measured in the run, on this thread; from this
					 * record on, its figures hold for the thread's events
					 * (so far: ALLOC, whose stack walk grows with depth) */
	TRACE_COST_N
};
#define TRACE_COST_SHIFT 10		/* fields are ticks << TRACE_COST_SHIFT */

/* TRACE_OP_ALLOC kind */
enum trace_alloc_kind {
	TRACE_ALLOC_MALLOC = 0,
	TRACE_ALLOC_CALLOC = 1,
	TRACE_ALLOC_REALLOC = 2,	/* realloc(NULL, n) */
	TRACE_ALLOC_REALLOCARRAY = 3,	/* reallocarray(NULL, n, m) */
	TRACE_ALLOC_MEMALIGN = 4,
	TRACE_ALLOC_POSIX_MEMALIGN = 5,
	TRACE_ALLOC_ALIGNED_ALLOC = 6,
	TRACE_ALLOC_VALLOC = 7,
	TRACE_ALLOC_PVALLOC = 8,
	TRACE_ALLOC_KIND_MAX
};

/* TRACE_OP_SWITCH kind */
enum trace_switch_kind {
	TRACE_SWITCH_BLOCKED = 0,	/* voluntary: it waited (syscall, lock, sleep) */
	TRACE_SWITCH_PREEMPTED = 1,	/* involuntary: runnable, but another task ran */
	TRACE_SWITCH_LOST = 2,
	TRACE_SWITCH_ABSENT = 3,
	TRACE_SWITCH_CPUTIME = 4,	/* the thread's CPU clock, read at (switch_base + a) ticks */
	TRACE_SWITCH_KIND_MAX
};

#define TRACE_OP_H(op) ((uint64_t)(op) << 2 | 3)

/*
 * Encoding helpers. The caller guarantees room (TRACE_MAX_RECORD bytes for fixed records).
 */

/** trace_put_varint - append an unsigned LEB128 varint at @p. Return: the byte after it. */
static inline uint8_t *trace_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint64_t trace_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t trace_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/** trace_put_str - append a str field (varint length, bytes), cut to TRACE_MAX_STRING. */
static inline uint8_t *trace_put_str(uint8_t *p, const char *s, size_t len)
{
	if (len > TRACE_MAX_STRING)
		len = TRACE_MAX_STRING;
	p = trace_put_varint(p, len);
	memcpy(p, s, len);
	return p + len;
}

/**
 * trace_get_varint - decode a varint from [*pp, end).
 * @pp: cursor, advanced past the varint on success
 * @v: decoded value
 * Return: 0, or -1 when the varint runs past @end or is longer than 10 bytes
 * (the cursor is then left unchanged). Never reads at or past @end.
 */
static inline int trace_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;
	unsigned shift = 0;

	while (p < end && shift < 70) {
		uint8_t b = *p++;

		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			*pp = p;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

/*
 * trace_checksum: 32-bit checksum of chunk payloads and headers. Four independent
 * multiply-xorshift lanes over 8-byte little-endian words so that the dependency chain does
 * not bound its speed (far below the cost of writing: docs/measurements.md); the tail is
 * folded in byte by byte. It detects damage, not tampering.
 */
#define TRACE_CK_M 0x9E3779B97F4A7C15ULL

static inline uint64_t trace_ck_mix(uint64_t h)
{
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 29;
	return h;
}

/** trace_checksum - checksum of @len bytes at @buf. Return: the 32-bit checksum. */
static inline uint32_t trace_checksum(const void *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	uint64_t a = 1, b = 2, c = 3, d = 4 ^ len, w[4];
	size_t i;

	while (len >= 32) {
		memcpy(w, p, 32);
		a = (a ^ w[0]) * TRACE_CK_M;
		b = (b ^ w[1]) * TRACE_CK_M;
		c = (c ^ w[2]) * TRACE_CK_M;
		d = (d ^ w[3]) * TRACE_CK_M;
		a ^= a >> 32;
		b ^= b >> 32;
		c ^= c >> 32;
		d ^= d >> 32;
		p += 32;
		len -= 32;
	}
	for (i = 0; i < len; i++)
		a = (a ^ p[i]) * TRACE_CK_M + i;
	a = trace_ck_mix(a ^ trace_ck_mix(b + 1) ^ trace_ck_mix(c + 2) ^ trace_ck_mix(d + 3));
	return (uint32_t)(a ^ (a >> 32));
}

#define TRACE_FILE_HEADER_CKLEN offsetof(struct trace_file_header, checksum)
#define TRACE_CHUNK_HEADER_CKLEN offsetof(struct trace_chunk_header, header_checksum)

#endif /* PERFSHIM_TRACE_H */
