/* SPDX-License-Identifier: MIT */
/*
 * The per-thread state and the inline helpers the hooks are built from: the thread's set-up,
 * the reservation and commit of records, the guard. tbuf.c owns the buffers and the thread
 * list; everything slow lives behind noinline functions. docs/design.md explains the choices.
 */
#ifndef PERFSHIM_PRELOAD_THREAD_H
#define PERFSHIM_PRELOAD_THREAD_H

#include "preload/common.h"

/* A frame of the shadow call stack kept by the enter/exit hooks (hooks-cyg.c). */
struct ps_frame {
	uintptr_t fn;			/* function entry address */
	uintptr_t sp;			/* stack pointer of fn at its entry hook, for repairs */
	uint64_t ticks;			/* entry time */
	uint32_t fid;			/* function id in this thread */
	uint32_t node;			/* stack node of this frame's call path, 0 = not interned */
	uint32_t written;		/* entry record written (lazy under min-duration) */
	uint32_t pad;
};

/* Open-addressing tables, mmap'd, owned by the thread (see ids.c / stack.c). */
#define PS_FID_GONE UINTPTR_MAX		/* addr of a forgotten slot (code dlclosed) */
#define PS_NODE_GONE UINTPTR_MAX	/* ip of a forgotten node slot */
struct ps_fid_slot {
	uintptr_t addr;			/* 0 = empty, PS_FID_GONE = forgotten */
	uint32_t fid;
	uint32_t pad;
};

struct ps_node_slot {
	uintptr_t ip;			/* 0 = empty slot, PS_NODE_GONE = forgotten */
	uint32_t parent;		/* parent node id, 0 = root */
	uint32_t id;			/* node id, from 1 */
};

enum ps_thread_state {
	PS_T_NEW = 0,			/* TLS zero-initialised: not set up yet */
	PS_T_ACTIVE = 1,
	PS_T_OFF = 2,			/* recording off for this thread (failed, finished, dead) */
	PS_T_VFORK = 3,			/* a vfork child runs on this thread's TLS (exec.c): record
					 * nothing until the parent resumes */
};

/*
 * Per-thread state, in initial-exec TLS, in parts: each part is written by the file named
 * at it (others may read it). The first cache line holds what every hook touches (the write
 * cursor, the guard, the held signals, the allocation countdown); the second what the call
 * hooks' fast path touches besides (function ids, shadow stack, mode). Another thread
 * touches a thread's state only under ps_threads_lock (registry) and ->list.flush_lock.
 */

/* tbuf.c (and the appenders below): where the next record goes, and its bases */
struct ps_rec {
	uint8_t *pos;			/* next free byte of the buffer */
	uint8_t *limit;			/* slow path when pos >= limit (end - TRACE_MAX_RECORD);
					 * NULL while the thread has no chunk open (chunk.c) */
	uint64_t *cursor;		/* ps_commit publishes pos here too: the open chunk's
					 * trailer in the mapped file, else &chunk.cursor_sink */
	uint64_t last_ticks;		/* time base: ticks of the last timed record */
	uintptr_t last_ptr;		/* pointer base for zz-encoded pointers */
};

/* signals-held.c: signals held back while guard > 0 */
struct ps_sig_part {
	uint64_t held;			/* bit n-1 for signal n; delivered when the guard drops
					 * to 0 */
};

/* sample.c / sample.h: the sampler's countdown (hot) */
struct ps_sample_part {
	int64_t left;			/* bytes to the next sample point, 0 to INT64_MAX; 0
					 * sends every allocation to the slow path (in the hot
					 * line: the unsampled malloc touches only this) */
};

/* ids.c: function ids */
struct ps_ids_part {
	struct ps_fid_slot *fids;	/* function address -> fid */
	uint32_t fid_mask;		/* table size - 1 */
	uint32_t nfids;			/* fids defined so far (next fid) */
	uint32_t code_gen;		/* code unloads this thread's ids have forgotten */
	uint32_t pad;
};

/* hooks-cyg.c: the shadow call stack and the calls mode */
struct ps_calls_part {
	struct ps_frame *shadow;	/* shadow call stack (mmap'd, shadow_cap frames) */
	uint32_t depth;			/* open frames in shadow[] */
	uint32_t shadow_cap;
	uint32_t cyg;			/* PS_CYG_* mode and repair flags; 0 = not set up for
					 * calls yet (longjmp.c sets PS_CYG_JUMPED) */
	uint32_t unwritten;		/* open frames whose entry is not written yet */
	uint64_t overflow;		/* open calls past shadow_cap, not recorded */
};

/* longjmp.c: where the program resumed after a jump (with PS_CYG_JUMPED) */
struct ps_jump_part {
	uintptr_t sp;			/* stack pointer the program resumed at (longjmp target,
					 * catch); 0 = unknown */
	uint32_t depth;			/* shadow depth + 1 at the target's setjmp; 0 = unknown */
	uint32_t pad;
	uint64_t overflow;		/* calls.overflow at that setjmp */
};

/* stack.c: the stack node table and the unwinder's caches */
struct ps_stack_part {
	struct ps_node_slot *nodes;	/* (parent, ip) -> node id */
	uint32_t node_mask;
	uint32_t nnodes;		/* nodes defined so far (last id) */
	uintptr_t *last_stack;		/* last unwound stack and its node: a one-entry cache */
	uint32_t last_stack_len;
	uint32_t last_stack_node;
	/* scratch, one mmap made at the first unwind (stack.c: scratch_size()) */
	void **unw_buf;			/* unw_backtrace output, stack_depth + 8 entries */
	uint32_t *last_nodes;		/* last_nodes[i]: node of last_stack[i..len) */
	struct ps_stack_memo *stack_memo; /* per shadow depth: last (parent, fn) -> node */
	uint32_t nodes_seen;		/* nnodes after stack.c's last call: less = tables reset */
	uint32_t unw_walks;		/* fast walks, every 1024th checked */
	uintptr_t unw_stack_hi;		/* highest stack address libunwind reached */
};

/* cost.c: timed allocations, for the thread's COST records */
struct ps_acost_part {
	int32_t left;			/* recorded allocations to the next timed one */
	uint32_t n;			/* timed ones in this window */
	uint64_t sum;			/* their ticks after the timestamp */
};

/* chunk.c: the open chunk and the file region it lives in */
struct ps_chunk_part {
	uint8_t *buf;			/* payload of the open chunk, NULL when none */
	uint8_t *end;			/* end of its room for records */
	uint64_t base_ticks;		/* time base at buf: the chunk being filled starts there */
	uint32_t seq;			/* next chunk's sequence number */
	uint32_t flags;			/* TRACE_CHUNK_* the chunk being filled needs (modules.c
					 * sets them) */
	uint64_t region_off;		/* file offset of its chunk header */
	uint32_t region_cap;		/* payload bytes reserved after the header */
	uint32_t region_used;		/* payload bytes of its chunk once closed */
	int region_closed;		/* its chunk's header is the final one */
	int cut;			/* closed by the exit flush of another thread: stop */
	struct trace_chunk_header *map_hdr; /* the header in the mapping (mapped region) */
	void *map;			/* mapping of the region's pages, NULL: write path */
	size_t map_len;
	uint8_t *wbuf;			/* write path: private buffer of ps_cfg.bufsize bytes */
	uint64_t cursor_sink;		/* rec.cursor when no mapped trailer takes it */
};

/* tbuf.c: the thread in the registry */
struct ps_list_part {
	int flush_lock;			/* taken by whoever writes this thread's buffer */
	int registered;			/* in tbuf.c's registry */
	int dtor_rounds;		/* pthread key destructor rounds seen (lifecycle.c) */
	int pad;
};

/* sample.c: the sampler's state (cold) */
struct ps_sampler_part {
	uint64_t rng;			/* xorshift64* state */
	int ready;			/* seeded, first interval drawn */
	int pad;
};

/* switches.c: the kernel's context-switch records of this thread */
struct ps_switch_part {
	void *ring;			/* its perf ring (mapped), NULL when none */
	uint64_t out;			/* ticks of a switch-out not yet paired, 0 = none */
	uint64_t base;			/* the end of the last SWITCH interval written (ticks) */
	uint32_t out_kind;		/* enum trace_switch_kind of out */
	int err;			/* > 0: no ring (errno), to be said in an ABSENT record;
					 * < 0: said */
};

struct ps_thread {
	/* first cache line: every hook */
	struct ps_rec rec;
	int guard;			/* > 0 while inside a hook: nested events pass through
					 * (ps_guard_take/drop, below) */
	int state;			/* enum ps_thread_state (tbuf.c, lifecycle.c) */
	struct ps_sig_part sig;
	struct ps_sample_part sample;
	/* second line: the call hooks */
	struct ps_ids_part ids;
	struct ps_calls_part calls;
	/* the rest: slow paths */
	struct ps_jump_part jump;
	uint64_t lost;			/* events dropped, not yet reported in a LOST record
					 * (counted by the hooks, reported by records.c) */
	pid_t tid;			/* tbuf.c */
	struct ps_list_part list;
	struct ps_acost_part acost;
	struct ps_stack_part stk;
	struct ps_chunk_part chunk;
	struct ps_sampler_part sampler;
	struct ps_switch_part sw;
};
/* what the hooks' fast paths touch stays in the first two cache lines */
_Static_assert(offsetof(struct ps_thread, ids) == 64, "ps_thread: first line");
_Static_assert(offsetof(struct ps_thread, calls) + sizeof(struct ps_calls_part) <= 128,
	       "ps_thread: second line");

extern __thread struct ps_thread ps_self PS_TLS;

/* tbuf.c: the buffers, the thread list, and the last chunks (when: lifecycle.c) */
struct ps_thread *ps_thread_setup(void);	/* noinline: lazy per-thread set-up */
void ps_tbuf_flush(struct ps_thread *t);	/* noinline: write the current chunk */
uint8_t *ps_reserve_slow(struct ps_thread *t, size_t n); /* flush; NULL if recording stopped */
void ps_tbuf_end_thread(struct ps_thread *t);	/* last chunk; off the list; buffers freed */
void ps_tbuf_cut_others(struct ps_thread *self, int busy); /* process end: cut the others */
void ps_tbuf_end_process(struct ps_thread *self, int busy); /* own last chunk, file's end */
void ps_tbuf_end_image(struct ps_thread *self);	/* before exec: close own chunk */
void ps_tbuf_key_create(void (*dtor)(void *));	/* the thread key, with its destructor */
void ps_tbuf_key_rearm(struct ps_thread *t);	/* destructor round: again in the next */
void ps_tbuf_lock_list(void);			/* around fork */
void ps_tbuf_unlock_list(void);
void ps_tbuf_fork_child(struct ps_thread *self); /* fork child: new list, parent's region gone */
void ps_tbuf_fork_adopt(struct ps_thread *self); /* fork child: the thread listed anew, no ids */

/* init.c: recording starts at the first event of the process or in the constructor */
extern int ps_started PS_HIDDEN;			/* the start was made (recording or not) */
struct ps_thread *ps_start_lazy(void);		/* noinline: start from a first event */

/*
 * ps_thread_get - the calling thread's state, ready to append, or NULL when this thread does
 * not record (recording off, thread finished, or inside a hook already). The guard test is
 * the caller's: hooks increment ->guard themselves around their work. The first event of
 * the process starts recording (another library's constructor may allocate before ours runs).
 */
static inline struct ps_thread *ps_thread_get(void)
{
	struct ps_thread *t = &ps_self;

	if (likely(t->state == PS_T_ACTIVE))
		return t;
	if (t->state == PS_T_NEW) {
		if (ps_recording)
			return ps_thread_setup();
		if (!__atomic_load_n(&ps_started, __ATOMIC_ACQUIRE))
			return ps_start_lazy();
	}
	return NULL;
}

/*
 * ps_reserve - room for @n bytes (n <= TRACE_MAX_RECORD for the fast check; larger records
 * go through ps_reserve_slow directly). Return: write cursor, or NULL when recording stopped.
 */
static inline uint8_t *ps_reserve(struct ps_thread *t, size_t n)
{
	if (likely(t->rec.pos < t->rec.limit))
		return t->rec.pos;
	return ps_reserve_slow(t, n);
}

/*
 * ps_commit - publish the bytes written up to @p. The release store pairs with the exit
 * flusher's acquire load of ->rec.pos, so a record is either wholly in a chunk or not at all.
 */
static inline void ps_commit(struct ps_thread *t, uint8_t *p)
{
	__atomic_store_n(&t->rec.pos, p, __ATOMIC_RELEASE);
	/* the same in the mapped trailer: what a process that dies without a word keeps */
	__atomic_store_n(t->rec.cursor, (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
}

/* ps_put_dt - the delta from the time base; the base becomes @now. Never negative. */
static inline uint8_t *ps_put_dt(struct ps_thread *t, uint8_t *p, uint64_t now)
{
	uint64_t dt = now > t->rec.last_ticks ? now - t->rec.last_ticks : 0;

	t->rec.last_ticks = now > t->rec.last_ticks ? now : t->rec.last_ticks;
	return trace_put_varint(p, dt);
}

/* ps_put_ptr - a pointer as a zz delta from the pointer base; the base becomes @ptr. */
static inline uint8_t *ps_put_ptr(struct ps_thread *t, uint8_t *p, uintptr_t ptr)
{
	p = trace_put_varint(p, trace_zigzag((int64_t)(ptr - t->rec.last_ptr)));
	t->rec.last_ptr = ptr;
	return p;
}

/* added to ->guard around code of the shim that may allocate (libunwind): nested events
 * seen with a guard this high are the shim's own, not the program's lost ones */
#define PS_GUARD_INTERNAL 0x100

/*
 * Hooks set ->guard and then need a compiler barrier: a signal handler that runs between the
 * guard test and the reservation appends records of its own, so ->rec.pos must be re-read after
 * the guard is set, never cached from before it.
 */
#define ps_signal_fence() __atomic_signal_fence(__ATOMIC_SEQ_CST)

/*
 * signals.c: no signal handler of the program runs while its thread is inside the shim. The
 * handlers are called through a trampoline that, when the thread's guard is held, blocks
 * the signal, queues it again and returns; the thread delivers what it held back when its
 * guard drops to 0 (ps_guard_drop). So a handler that leaves by siglongjmp, or exits, never
 * leaves a lock held or a record, table or count half-done (docs/design.md "Signals").
 */
void ps_signals_release(struct ps_thread *t);	/* noinline: unblock what was held back */

/* ps_guard_take - raise @t's guard (the calling thread's) by @n before shim work. */
static inline void ps_guard_take(struct ps_thread *t, int n)
{
	t->guard += n;
	ps_signal_fence();
}

/*
 * ps_guard_drop - lower the guard by @n; at 0, deliver the signals held back meanwhile. The
 * fences order the store before the test: a signal before it is held and seen here, one
 * after it runs its handler at once.
 */
static inline void ps_guard_drop(struct ps_thread *t, int n)
{
	ps_signal_fence();
	t->guard -= n;
	ps_signal_fence();
	if (unlikely(t->sig.held) && !t->guard)
		ps_signals_release(t);
}

/* hooks-cyg.c: t->calls.cyg is PS_CYG_READY when the enter/exit fast path may run; any other
 * bit sends the hooks to their slow path. longjmp.c sets PS_CYG_JUMPED. */
#define PS_CYG_READY (1U << 0)		/* set up for calls (mode bits below read from ps_cfg) */
#define PS_CYG_JUMPED (1U << 1)		/* longjmp or catch left frames: repair at next hook */
#define PS_CYG_OVERFLOW (1U << 2)	/* calls.overflow > 0: exits of unrecorded calls pending */
#define PS_CYG_MINDUR (1U << 3)		/* PERFSHIM_MIN_DURATION: entries written lazily */
#define PS_CYG_OFF (1U << 4)		/* PERFSHIM_EVENTS without calls */
#define PS_CYG_NOTSC (1U << 5)		/* no invariant TSC: the clock needs ps_now() */

#endif /* PERFSHIM_PRELOAD_THREAD_H */
