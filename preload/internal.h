/* SPDX-License-Identifier: MIT */
/*
 * Private interface of libperfshim.so. The hot path (hooks-cyg.c, hooks-malloc.c) is built
 * from the inline helpers here; everything slow (thread set-up, flushing, files, modules)
 * lives behind noinline functions. docs/design.md explains the choices.
 */
#ifndef PERFSHIM_PRELOAD_INTERNAL_H
#define PERFSHIM_PRELOAD_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "include/perfshim/trace.h"

/*
 * The recorder targets x86-64 Linux with glibc: it reads the clock with rdtsc, finds its
 * thread state through initial-exec TLS (%fs), and wraps glibc's setjmp/longjmp family and
 * internal exit paths by their glibc names. Initial-exec TLS also means the library must be
 * loaded at start (LD_PRELOAD), not dlopen'd. Elsewhere it must not build silently.
 */
#if !defined(__x86_64__) || !defined(__linux__)
#error "libperfshim.so targets x86-64 Linux (rdtsc, initial-exec TLS through %fs)"
#endif
#if !defined(__GLIBC__)
#error "libperfshim.so targets glibc (it wraps glibc's setjmp/longjmp and exit paths)"
#endif

#define PS_EXPORT __attribute__((visibility("default")))
#define PS_NOINLINE __attribute__((noinline))
#define PS_NOINSTR __attribute__((no_instrument_function))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define PS_TLS __attribute__((tls_model("initial-exec")))

/* Configuration, read once from PERFSHIM_* in the constructor (init.c). */
#define PS_EV_CALLS (1U << 0)
#define PS_EV_MALLOC (1U << 1)

struct ps_config {
	char output[PATH_MAX];		/* PERFSHIM_OUTPUT template (may hold %p) */
	int output_explicit;		/* PERFSHIM_OUTPUT was set */
	unsigned events;		/* PS_EV_* */
	unsigned stack_depth;		/* frames per allocation stack, 0 = none */
	uint64_t min_duration_ns;	/* PERFSHIM_MIN_DURATION */
	uint64_t min_duration_ticks;	/* the same in trace ticks */
	int quiet;			/* PERFSHIM_QUIET */
	int debug;			/* PERFSHIM_DEBUG level */
	size_t bufsize;			/* per-thread buffer bytes (PERFSHIM_BUFSIZE) */
	int mark_signal;		/* PERFSHIM_MARK_SIGNAL, 0 = none */
	int stack_source;		/* PS_STACK_* (PERFSHIM_STACK_SOURCE) */
	int follow;			/* PERFSHIM_FOLLOW: trace forked, spawned, exec'd children */
};

enum ps_stack_source {
	PS_STACK_AUTO = 0,		/* shadow stack when the program is instrumented */
	PS_STACK_UNWIND = 1,		/* always libunwind */
	PS_STACK_SHADOW = 2,		/* always the shadow stack (empty when not instrumented) */
};

extern struct ps_config ps_cfg;

/*
 * Global recording state. ps_recording is 1 only between a successful start and the final
 * flush; hooks test it (one predictable load) before touching thread state.
 */
extern int ps_recording;
extern int ps_use_tsc;			/* trace clock is the TSC */

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
 * Per-thread state, in initial-exec TLS. Hot fields first so they share a cache line.
 * Another thread touches it only under ps_threads_lock (registry) and ->flush_lock.
 */
struct ps_thread {
	uint8_t *pos;			/* next free byte of the buffer */
	uint8_t *limit;			/* slow path when pos >= limit (end - TRACE_MAX_RECORD);
					 * NULL while the thread has no chunk open (chunk.c) */
	uint64_t *cursor;		/* ps_commit publishes pos here too: the open chunk's
					 * trailer in the mapped file, else &cursor_sink */
	uint64_t last_ticks;		/* time base: ticks of the last timed record */
	uintptr_t last_ptr;		/* pointer base for zz-encoded pointers */
	int guard;			/* > 0 while inside a hook: nested events pass through */
	int state;			/* enum ps_thread_state */
	uint64_t sig_held;		/* signals.c: signals held back while guard > 0, bit n-1
					 * for signal n; delivered when the guard drops to 0 */
	int64_t sample_left;		/* sample.h: bytes to the next sample point, 0 to
					 * INT64_MAX; 0 sends every allocation to the slow path
					 * (in the hot line: the unsampled malloc touches only this) */

	struct ps_frame *shadow;	/* shadow call stack (mmap'd, shadow_cap frames) */
	uint32_t depth;			/* open frames in shadow[] */
	uint32_t shadow_cap;
	uint64_t overflow;		/* open calls past shadow_cap, not recorded */
	uint32_t unwritten;		/* open frames whose entry is not written yet */

	struct ps_fid_slot *fids;	/* function address -> fid */
	uint32_t fid_mask;		/* table size - 1 */
	uint32_t nfids;			/* fids defined so far (next fid) */
	struct ps_node_slot *nodes;	/* (parent, ip) -> node id */
	uint32_t node_mask;
	uint32_t nnodes;		/* nodes defined so far (last id) */
	uintptr_t *last_stack;		/* last unwound stack and its node: a one-entry cache */
	uint32_t last_stack_len;
	uint32_t last_stack_node;

	uint64_t lost;			/* events dropped, not yet reported in a LOST record */
	int32_t acost_left;		/* cost.c: recorded allocations to the next timed one */
	uint32_t acost_n;		/* timed ones in this window */
	uint64_t acost_sum;		/* their ticks after the timestamp */

	uint8_t *buf;			/* payload of the open chunk (chunk.c), NULL when none */
	uint8_t *end;			/* end of its room for records */
	uint64_t chunk_base_ticks;	/* time base at buf: the chunk being filled starts there */
	uint32_t seq;			/* next chunk's sequence number */
	/* chunk.c: the file region of the open chunk */
	uint64_t region_off;		/* file offset of its chunk header */
	uint32_t region_cap;		/* payload bytes reserved after the header */
	uint32_t region_used;		/* payload bytes of its chunk once closed */
	int region_closed;		/* its chunk's header is the final one */
	int cut;			/* closed by the exit flush of another thread: stop */
	struct trace_chunk_header *map_hdr; /* the header in the mapping (mapped region) */
	void *map;			/* mapping of the region's pages, NULL: write path */
	size_t map_len;
	uint8_t *wbuf;			/* write path: private buffer of ps_cfg.bufsize bytes */
	uint64_t cursor_sink;		/* ->cursor when no mapped trailer takes it */
	pid_t tid;
	int flush_lock;			/* taken by whoever writes this thread's buffer */
	int registered;			/* in tbuf.c's registry */
	int dtor_rounds;		/* pthread key destructor rounds seen */
	uint32_t cyg;			/* calls side: PS_CYG_* mode and repair flags (hooks-cyg.c);
					 * 0 = not set up for calls yet */
	uintptr_t jump_sp;		/* with PS_CYG_JUMPED: stack pointer the program resumed
					 * at (longjmp target, catch); 0 = unknown (longjmp.c) */
	uint32_t jump_depth;		/* with PS_CYG_JUMPED: shadow depth + 1 at the target's
					 * setjmp; 0 = unknown (longjmp.c) */
	uint64_t jump_overflow;		/* t->overflow at that setjmp */
	/* stack.c scratch, one mmap made at the first unwind (stack.c: scratch_size()) */
	void **unw_buf;			/* unw_backtrace output, stack_depth + 8 entries */
	uint32_t *last_nodes;		/* last_nodes[i]: node of last_stack[i..len) */
	struct ps_stack_memo *stack_memo; /* per shadow depth: last (parent, fn) -> node */
	uint32_t nodes_seen;		/* nnodes after stack.c's last call: less = tables reset */
	uintptr_t unw_stack_hi;		/* stack.c: highest stack address libunwind reached */
	uint32_t unw_walks;		/* stack.c: fast walks, every 1024th checked */
	uint32_t chunk_flags;		/* TRACE_CHUNK_* the chunk being filled needs (modules.c) */
	uint32_t code_gen;		/* ids.c: code unloads this thread's ids have forgotten */
	uint64_t sample_rng;		/* sample.c: xorshift64* state of the thread's sampler */
	int sample_ready;		/* sample.c: seeded, first interval drawn */
	/* switches.c: the kernel's context-switch records of this thread */
	void *sw_ring;			/* its perf ring (mapped), NULL when none */
	uint64_t sw_out;		/* ticks of a switch-out not yet paired, 0 = none */
	uint64_t sw_base;		/* the end of the last SWITCH interval written (ticks) */
	uint32_t sw_out_kind;		/* enum trace_switch_kind of sw_out */
	int sw_err;			/* > 0: no ring (errno), to be said in an ABSENT record;
					 * < 0: said */
};

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

/* lifecycle.c: thread, process and image ends, and fork (what is written when) */
void ps_lifecycle_init(void);			/* thread key, fork handlers (constructor) */
void ps_flush_all(int final);			/* every thread's buffer (exit, exec) */
void ps_thread_finish(struct ps_thread *t);	/* last chunk of a thread */

/* switches.c: context switches (off-CPU time), read from a per-thread perf ring */
extern int ps_switch_errno;			/* the kernel refused (0: recorded) */
void ps_switch_init(void);			/* once, before the file header is written */
void ps_switch_open(struct ps_thread *t);	/* the calling thread's ring (set-up) */
void ps_switch_close(struct ps_thread *t);
void ps_switch_fork_child(struct ps_thread *t);
int ps_switch_drain(struct ps_thread *t);	/* into the open chunk: 1 if some are left */
int ps_switch_pending(const struct ps_thread *t);
size_t ps_switch_cut(struct ps_thread *t, uint8_t *buf, size_t len); /* final flush */

/* clock.c */
void ps_clock_init(void);
uint64_t ps_ns_to_ticks(uint64_t ns);
uint64_t ps_mono_ns(void);
uint64_t ps_clock_rate(void);		/* ticks per second, 0 if not measured yet */

/* log.c: stack buffer + write(2); no stdio, no malloc, errno kept */
void ps_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ps_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ps_warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* per message */
#define ps_dbg(lvl, ...)                                                                    \
	do {                                                                                \
		if (unlikely(ps_cfg.debug >= (lvl)))                                        \
			ps_log(__VA_ARGS__);                                                \
	} while (0)

/* Raw ("real") libc entry points, resolved by hooks-malloc.c with a bootstrap. */
extern void *(*ps_real_malloc)(size_t);
extern void (*ps_real_free)(void *);

/* init.c: recording starts at the first event of the process or in the constructor */
extern int ps_started;				/* the start was made (recording or not) */
struct ps_thread *ps_start_lazy(void);		/* noinline: start from a first event */
/* entry.c: libperfshim.so was run as a program (it prints its usage; nothing is recorded) */
int ps_run_as_program(void);

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
 * ps_now - the trace clock. rdtsc is several times cheaper than clock_gettime
 * (docs/measurements.md); its use is decided once at start (invariant TSC only), so the
 * branch always predicts.
 * rdtsc is not ordered against memory accesses: allocation hooks that must order across
 * threads use ps_now_ordered().
 */
static inline uint64_t ps_now(void)
{
	if (likely(ps_use_tsc))
		return __builtin_ia32_rdtsc();
	return ps_mono_ns();
}

/* lfence keeps the TSC read after earlier loads/stores (the real free, the real malloc). */
static inline uint64_t ps_now_ordered(void)
{
	if (likely(ps_use_tsc)) {
		__builtin_ia32_lfence();
		return __builtin_ia32_rdtsc();
	}
	return ps_mono_ns();
}

/*
 * ps_reserve - room for @n bytes (n <= TRACE_MAX_RECORD for the fast check; larger records
 * go through ps_reserve_slow directly). Return: write cursor, or NULL when recording stopped.
 */
static inline uint8_t *ps_reserve(struct ps_thread *t, size_t n)
{
	if (likely(t->pos < t->limit))
		return t->pos;
	return ps_reserve_slow(t, n);
}

/*
 * ps_commit - publish the bytes written up to @p. The release store pairs with the exit
 * flusher's acquire load of ->pos, so a record is either wholly in a chunk or not at all.
 */
static inline void ps_commit(struct ps_thread *t, uint8_t *p)
{
	__atomic_store_n(&t->pos, p, __ATOMIC_RELEASE);
	/* the same in the mapped trailer: what a process that dies without a word keeps */
	__atomic_store_n(t->cursor, (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
}

/* ps_put_dt - the delta from the time base; the base becomes @now. Never negative. */
static inline uint8_t *ps_put_dt(struct ps_thread *t, uint8_t *p, uint64_t now)
{
	uint64_t dt = now > t->last_ticks ? now - t->last_ticks : 0;

	t->last_ticks = now > t->last_ticks ? now : t->last_ticks;
	return trace_put_varint(p, dt);
}

/* ps_put_ptr - a pointer as a zz delta from the pointer base; the base becomes @ptr. */
static inline uint8_t *ps_put_ptr(struct ps_thread *t, uint8_t *p, uintptr_t ptr)
{
	p = trace_put_varint(p, trace_zigzag((int64_t)(ptr - t->last_ptr)));
	t->last_ptr = ptr;
	return p;
}

/* ids.c: function ids; the FUNC record is appended at *pp on first sight */
uint32_t ps_fid_slow(struct ps_thread *t, uintptr_t fn, uint8_t **pp);

/*
 * ids.c: code that dlclose unmapped. Function ids and stack nodes are keyed by address, and
 * another library may be mapped there next: each thread forgets the ones in unloaded
 * ranges, so the new code gets FUNC and NODE records of its own (the thread that dlclosed
 * at once, every other one at its next chunk; readers name addresses by time anyway).
 */
struct ps_code_range {
	uintptr_t lo, hi;
};
extern uint32_t ps_code_gen;			/* ranges unloaded so far */
void ps_code_gone(uintptr_t lo, uintptr_t hi);	/* modules.c, under its lock */
void ps_code_forget(struct ps_thread *t);	/* noinline: the ranges since t->code_gen */

static inline void ps_code_check(struct ps_thread *t)
{
	if (unlikely(t->code_gen != __atomic_load_n(&ps_code_gen, __ATOMIC_ACQUIRE)))
		ps_code_forget(t);
}

/* First probe inline: a hit costs a hash, a load and a compare. */
static inline uint32_t ps_fid(struct ps_thread *t, uintptr_t fn, uint8_t **pp)
{
	struct ps_fid_slot *s = &t->fids[(fn >> 4) * 0x9E3779B1U & t->fid_mask];

	if (likely(s->addr == fn))
		return s->fid;
	return ps_fid_slow(t, fn, pp);
}

/* stack.c: the allocation stack's node id (0 = none); NODE records appended at *pp; @ra is
 * the return address of the malloc-family call (the shadow stack's innermost frame) */
uint32_t ps_stack_node(struct ps_thread *t, uintptr_t ra, uint8_t **pp);
void ps_stack_init(void);	/* once, after the real malloc is known: shim text range */
void ps_stack_thread_free(struct ps_thread *t); /* with the thread's tables (tbuf.c) */
void ps_stack_code_gone(uintptr_t lo, uintptr_t hi);	/* dlclose unmapped [lo, hi) */
/* forget the thread's nodes with frames in @r[0..n) (every node when @r is NULL) */
void ps_stack_forget(struct ps_thread *t, const struct ps_code_range *r, uint32_t n);
void ps_stack_fork_child(void);			/* atfork child: reset the rules' lock */
void ps_stack_drop_memos(struct ps_thread *t);	/* cost.c: the TLS memos were another's */
void ps_stack_unwinder_start(void);		/* libunwind's set-up (its pipe), now */
/* added to ->guard around code of the shim that may allocate (libunwind): nested events
 * seen with a guard this high are the shim's own, not the program's lost ones */
#define PS_GUARD_INTERNAL 0x100

/*
 * Hooks set ->guard and then need a compiler barrier: a signal handler that runs between the
 * guard test and the reservation appends records of its own, so ->pos must be re-read after
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
	if (unlikely(t->sig_held) && !t->guard)
		ps_signals_release(t);
}

/*
 * init.c: dlsym(RTLD_NEXT, @name) under the calling thread's guard. A failed lookup makes
 * glibc allocate its dlerror state and message: those are the shim's, not the program's.
 */
void *ps_dlsym_next(const char *name);

/* hooks-malloc.c: resolve the real allocator (constructor, or lazily on first use) */
void ps_malloc_resolve(void);

/* hooks-cyg.c: t->cyg is PS_CYG_READY when the enter/exit fast path may run; any other
 * bit sends the hooks to their slow path. longjmp.c sets PS_CYG_JUMPED. */
#define PS_CYG_READY (1U << 0)		/* set up for calls (mode bits below read from ps_cfg) */
#define PS_CYG_JUMPED (1U << 1)		/* longjmp or catch left frames: repair at next hook */
#define PS_CYG_OVERFLOW (1U << 2)	/* t->overflow > 0: exits of unrecorded calls pending */
#define PS_CYG_MINDUR (1U << 3)		/* PERFSHIM_MIN_DURATION: entries written lazily */
#define PS_CYG_OFF (1U << 4)		/* PERFSHIM_EVENTS without calls */
#define PS_CYG_NOTSC (1U << 5)		/* no invariant TSC: the clock needs ps_now() */

/* hooks-cyg.c: after fork, in the child, with fresh (empty) tables and buffer: write FUNC
 * and ENTRY records (at the current time) for every frame inherited on the shadow stack,
 * and forget their cached stack nodes. */
void ps_cyg_fork_child(struct ps_thread *t);

/* lifecycle.c: exec is about to replace the image: close the calling thread's chunk (flagged
 * PROCESS_END); other threads go on (their mapped records survive the exec); the calling
 * thread opens a new chunk at its next event if exec fails. */
void ps_exec_prepare(void);

/* childenv.c: the environment of a new image (exec.c) */
void ps_env_init(void);				/* settings and library path, once */
size_t ps_env_size(char *const envp[]);		/* bytes ps_env_build needs */
char **ps_env_build(void *mem, char *const envp[]); /* no malloc: vfork children use it */

/*
 * sample.c: sampled allocations (PERFSHIM_SAMPLE, docs/sampling.md). ps_sample_mean is 0
 * unless sampling is on. The hooks' fast half (the countdown, the free filter) and the rest
 * of the sampler's interface are in preload/sample.h.
 */
extern uint64_t ps_sample_mean;			/* mean bytes between samples, 0 = off */
extern uint32_t ps_sample_seed;
void ps_sample_init(uint64_t mean, int seed_set, uint32_t seed);

/* records.c: rare records with strings; each takes the guard and reserves room itself */
void ps_emit_mark(struct ps_thread *t, const char *label);
void ps_emit_lost(struct ps_thread *t);
void ps_emit_thread_name(struct ps_thread *t);
void ps_emit_process(struct ps_thread *t);
void ps_emit_signal_mark(const char *label);	/* async-signal-safe: a chunk of tid 0 */
#define PS_RSS_PERIOD_NS 10000000ULL		/* RSS sampled at most every 10 ms */
extern uint64_t ps_next_rss_ticks;
void ps_rss_sample(struct ps_thread *t, uint64_t now);	/* when now >= ps_next_rss_ticks */

/* cost.c: what the hooks cost, measured at the first call hook, written as a COST record */
extern uint64_t ps_cost[TRACE_COST_N];		/* ticks << TRACE_COST_SHIFT */
extern int ps_cost_valid;			/* measured (calls recorded, every call kept) */
void ps_cost_first_call(struct ps_thread *t);	/* measure, once, at the first call hook */
void ps_emit_cost(struct ps_thread *t);		/* the COST record, when measured */
void ps_cost_time_alloc(struct ps_thread *t, uint64_t since); /* 1 in ACOST_EVERY allocs */

/*
 * After an allocation's record is committed (@now: its timestamp): every ACOST_EVERY-th one
 * is timed to here, for the thread's COST records (cost.c). Inside the hook's guard.
 */
static inline void ps_cost_count_alloc(struct ps_thread *t, uint64_t now)
{
	if (unlikely(--t->acost_left <= 0))
		ps_cost_time_alloc(t, now);
}

/* signals.c: the mark signal (PERFSHIM_MARK_SIGNAL), hidden from the program */
void ps_signals_init(void);

/* modules.c */
void ps_modules_record(struct ps_thread *t);	/* modules not yet recorded */
void ps_modules_forget(void);			/* after fork, in the child: none recorded */

/* fds.c: the shim's descriptors at the top of the range (top - below), out of the program's
 * way: the trace file's, and libunwind's pipe (caught by the pipe2 interposer there) */
#define PS_FD_TRACE_BELOW_TOP 32
#define PS_FD_PIPE_BELOW_TOP 40
int ps_fd_move_high(int fd, int below);

/* tracefile.c: the trace file (the analyzer's output.c is unrelated: report output) */
int ps_output_open(int child);			/* create the trace file and its header */
int ps_output_check_fd(void);			/* reopen the trace if the program closed it */
void ps_output_stopped(unsigned why, const char *what); /* TRACE_F_CUT_*: stop, say so once */
uint64_t ps_output_fsize_limit(void);		/* RLIMIT_FSIZE in bytes, UINT64_MAX if none */
extern int ps_trace_fd;
extern char ps_trace_path[PATH_MAX];		/* the file being written */
extern pid_t ps_pid;				/* the process that owns ps_trace_fd */
extern uint64_t ps_start_ticks;			/* trace clock at start (header) */
extern int ps_trace_live;			/* a trace file is open and not finished */

/*
 * chunk.c: a thread's chunk lives in a region of the trace file reserved when it is opened:
 * mapped (MAP_SHARED, fallocate'd first) where the file system allows, so committed records
 * are in the page cache whatever becomes of the process; else a private buffer written with
 * pwrite when the chunk closes. The caller holds t->flush_lock except where noted.
 */
void ps_chunk_reset(void);			/* a new file: regions start after its header */
int ps_chunk_open(struct ps_thread *t);		/* reserve a region: 0, or -1 (stopped) */
int ps_chunk_more(struct ps_thread *t);		/* owner: raise the limit within the region */
void ps_chunk_close(struct ps_thread *t, uint8_t *upto, unsigned flags); /* header written */
void ps_chunk_release(struct ps_thread *t);	/* owner: give the region up (unmap) */
void ps_chunk_forget(struct ps_thread *t);	/* fork child: the region is the parent's */
void ps_chunk_free(struct ps_thread *t);	/* thread gone: release + free the buffer */
void ps_chunk_end_file(struct ps_thread *t);	/* final flush: no more regions; trim */
void ps_chunk_ending(pid_t tid, int busy);	/* final flush starts: others open none */
int ps_chunk_write_small(struct trace_chunk_header *h, const void *payload); /* signal-safe */

#endif /* PERFSHIM_PRELOAD_INTERNAL_H */
