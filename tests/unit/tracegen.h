/* SPDX-License-Identifier: MIT */
/*
 * tracegen: writes synthetic traces byte for byte in the format of include/perfshim/trace.h,
 * for unit tests that need a trace with a known answer. Linked into every unit test binary.
 * docs/trace-format.md describes the bytes.
 *
 * Times: every timed helper takes an absolute tick value (>= the thread's previous one). With
 * the defaults (no TRACE_F_TSC, start_ticks 0, tick_hz 1e9) a tick is a nanosecond and the
 * analyzer reports event.ns == the ticks given here. Pointers and addresses are absolute too;
 * tracegen does the delta, zigzag and varint encoding and keeps the per-thread bases.
 *
 * Usage:
 *	struct tg *g = tg_open("/tmp/x.bin");
 *	struct tg_thread *th = tg_thread(g, 42);
 *	tg_enter(th, 0x401000, 100);		// FUNC (first time) + ENTRY
 *	tg_alloc(th, TRACE_ALLOC_MALLOC, 16, 0x5000, 0, 150);
 *	tg_exit(th, 300);
 *	tg_close(g);				// flushes open threads with TRACE_CHUNK_LAST
 * Any misuse (time going backwards, I/O error) aborts: tests must not silently pass.
 */
#ifndef PERFSHIM_TRACEGEN_H
#define PERFSHIM_TRACEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/perfshim/trace.h"

struct tg_thread;

struct tg {
	/*
	 * The file header. tg_open fills defaults (version 1, flags CALLS|MALLOC, pid 1000,
	 * ppid 1, stack_depth 64, max_chunk 1 MiB, start_ticks 0, start_mono_ns 5e9,
	 * start_real_ns 1.7e18, tick_hz 1e9). Tests may change any field until tg_close, which
	 * rewrites the header (checksum recomputed) at offset 0.
	 */
	struct trace_file_header hdr;
	double ns_per_tick;		/* true clock rate used for chunk (end_ticks, end_mono_ns)
					 * pairs; default 1.0 */
	size_t chunk_limit;		/* auto-flush a thread when its payload would pass this
					 * (bytes; default hdr.max_chunk) */
	bool no_header_fix;		/* tg_close does not rewrite the header */
	/*
	 * tg_close is the process's exit as the recorder sees it: unless this is set (or no
	 * chunk in the file has TRACE_CHUNK_PROCESS_END yet), it adds that flag to the last
	 * chunk written (checksum fixed), as the recorder's exit flush does. tg_close_raw (a
	 * crash) never adds it.
	 */
	bool no_process_end;
	/* private */
	int fd;
	char *path;
	uint64_t off;			/* file size so far */
	uint64_t last_chunk;		/* offset of the last chunk written + 1, 0 = none */
	bool end_written;		/* a chunk with TRACE_CHUNK_PROCESS_END was written */
	struct tg_thread **threads;
	unsigned nthreads;
};

/* tg_open - create (truncate) @path, write a default header. Aborts on error. */
struct tg *tg_open(const char *path);
/* tg_close - flush every thread with pending bytes (flag LAST unless already ended), rewrite
 * the header, close and free. */
void tg_close(struct tg *g);
/* tg_close_raw - as tg_close but flushes nothing: pending bytes are dropped (a crash). */
void tg_close_raw(struct tg *g);

/* tg_thread - the generator of thread @tid (created on first use). */
struct tg_thread *tg_thread(struct tg *g, uint32_t tid);

/* ---- records (each aborts if @ticks is before the thread's time base) ---- */
uint32_t tg_func(struct tg_thread *th, uint64_t addr);		/* FUNC: returns the fid */
void tg_entry(struct tg_thread *th, uint32_t fid, uint64_t ticks);	/* ENTRY */
void tg_exit(struct tg_thread *th, uint64_t ticks);			/* EXIT */
/* tg_enter - ENTRY of function @addr, writing its FUNC record first if this thread has none */
uint32_t tg_enter(struct tg_thread *th, uint64_t addr, uint64_t ticks);
/* ENTRY_AT: entry at @ticks (<= time base); the time base does not move */
void tg_entry_at(struct tg_thread *th, uint32_t fid, uint64_t ticks);
void tg_exits(struct tg_thread *th, uint64_t n, uint64_t ticks);	/* EXITS n */
void tg_alloc(struct tg_thread *th, unsigned kind, uint64_t size, uint64_t ptr, uint32_t node,
	      uint64_t ticks);
void tg_free(struct tg_thread *th, uint64_t ptr, uint64_t ticks);
/* REALLOC: @old released at @ticks_old, @new_ptr (0: freed by realloc(p, 0)) at @ticks_new */
void tg_realloc(struct tg_thread *th, uint64_t old, uint64_t new_ptr, uint64_t size,
		uint32_t node, uint64_t ticks_old, uint64_t ticks_new);
uint32_t tg_node_ra(struct tg_thread *th, uint32_t parent, uint64_t ip);	/* new node id */
uint32_t tg_node_fn(struct tg_thread *th, uint32_t parent, uint64_t ip);
/*
 * tg_stack - node of the stack @ips[0..n) (innermost first), reusing this thread's existing
 * nodes for known (parent, ip, kind) pairs and writing NODE_RA/NODE_FN records for new ones.
 * Return: the innermost node id (0 when n == 0).
 */
uint32_t tg_stack(struct tg_thread *th, bool is_ra, const uint64_t *ips, unsigned n);
void tg_mark(struct tg_thread *th, const char *label, uint64_t ticks);
void tg_module(struct tg_thread *th, uint64_t base, uint64_t lo, uint64_t hi,
	       const void *build_id, size_t build_id_len, const char *path, uint64_t ticks);
void tg_unload(struct tg_thread *th, uint64_t base, uint64_t ticks);
void tg_thread_name(struct tg_thread *th, const char *name);
void tg_lost(struct tg_thread *th, uint64_t count);
/* PROCESS: @cmdline of @cmdlen bytes, arguments NUL-separated (as /proc/self/cmdline) */
void tg_process(struct tg_thread *th, uint32_t pid, uint32_t ppid, const char *exe,
		const char *cmdline, size_t cmdlen);
void tg_rss(struct tg_thread *th, uint64_t bytes, uint64_t ticks);
/* COST: @n figures (enum trace_cost order, ticks << TRACE_COST_SHIFT): the hooks' cost */
void tg_cost(struct tg_thread *th, const uint64_t *v, unsigned n);
/*
 * SWITCH: off-CPU over [@start, @end) ticks, @kind TRACE_SWITCH_BLOCKED or _PREEMPTED;
 * intervals of a thread in increasing order (aborts otherwise), in any chunk (not timed:
 * the time base does not move). tg_switch_note: LOST (@v records) or ABSENT (@v = errno).
 * Set TRACE_F_SWITCHES in g->hdr.flags for a trace that recorded switches.
 */
void tg_switch(struct tg_thread *th, unsigned kind, uint64_t start, uint64_t end);
void tg_switch_note(struct tg_thread *th, unsigned kind, uint64_t v);
/* CPUTIME: the thread's CPU clock read @cpu_ns at @at ticks (not before the last interval's
 * end; the switch base stays) */
void tg_cputime(struct tg_thread *th, uint64_t at, uint64_t cpu_ns);
/* tg_raw - append raw payload bytes (malformed records); the time base is not touched */
void tg_raw(struct tg_thread *th, const void *bytes, size_t n);

/* ---- chunks ---- */
/*
 * tg_flush - write the thread's pending payload as one chunk with @flags (TRACE_CHUNK_LAST,
 * TRACE_CHUNK_CUT) and the next seq. An empty payload still makes a chunk. After LAST or
 * CUT the thread is ended (tg_close leaves it alone). Return: the chunk header's file offset.
 */
uint64_t tg_flush(struct tg_thread *th, uint32_t flags);

/* A chunk built but not yet written: to write threads' chunks out of order. */
struct tg_chunk {
	struct trace_chunk_header hdr;
	uint8_t *payload;
	size_t size;
};
/* tg_take - build the pending chunk (as tg_flush) without writing it. Free with tg_put. */
struct tg_chunk *tg_take(struct tg_thread *th, uint32_t flags);
/* tg_put - write @c at the end of the file and free it. Return: its header's offset. */
uint64_t tg_put(struct tg *g, struct tg_chunk *c);

/* Current time base (ticks) and pending payload bytes of a thread. */
uint64_t tg_time(const struct tg_thread *th);
size_t tg_pending(const struct tg_thread *th);
uint32_t tg_tid(const struct tg_thread *th);
uint32_t tg_seq(const struct tg_thread *th);	/* seq the next chunk gets */

/* ---- damage, on a closed file ---- */
uint64_t tg_file_size(const char *path);
void tg_truncate(const char *path, uint64_t size);	/* cut the file to @size bytes */
void tg_flip(const char *path, uint64_t off, uint8_t mask);	/* byte ^= @mask */
void tg_zero(const char *path, uint64_t off, uint64_t len);
void tg_write_at(const char *path, uint64_t off, const void *bytes, size_t n);
/* tg_set_version - a well-formed header (checksum fixed) of another version */
void tg_set_version(const char *path, uint16_t version);
/* tg_patch_header - apply @fn to the header, then fix its checksum (unless @keep_checksum) */
void tg_patch_header(const char *path, void (*fn)(struct trace_file_header *h),
		     bool keep_checksum);
/* tg_write_file - write @n bytes as the whole file @path */
void tg_write_file(const char *path, const void *bytes, size_t n);

/* chunk header offsets of a file (trusting it; for tests): fills up to @max, returns count */
unsigned tg_chunk_offsets(const char *path, uint64_t *offs, unsigned max);

#endif /* PERFSHIM_TRACEGEN_H */
