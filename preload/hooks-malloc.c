/* SPDX-License-Identifier: MIT */
/*
 * The malloc family: interposed, forwarded to the next definitions (glibc's), and recorded
 * as ALLOC/FREE/REALLOC records. docs/design.md ("Allocations") explains the choices;
 * stack.c finds the allocation's stack node.
 *
 * Semantics are glibc's because every call is forwarded unchanged: alignment, errno,
 * malloc(0), free(NULL), realloc(p, 0) freeing p, reallocarray and pvalloc overflow checks,
 * posix_memalign leaving *p alone. The hook only adds a record after the fact, and only for
 * calls that changed the heap.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload/ids.h"
#include "preload/interpose.h"
#include "preload/process.h"
#include "preload/records.h"
#include "preload/sample.h"

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*memalign_fn)(size_t, size_t);
typedef void *(*valloc_fn)(size_t);
typedef size_t (*usable_fn)(void *);

/* The next definitions are interpose.c's slots (BOOT); short names for the ones used here. */
#define real_calloc ps_real_calloc
#define real_realloc ps_real_realloc
#define real_posix_memalign ps_real_posix_memalign
#define real_aligned_alloc ps_real_aligned_alloc
#define real_memalign ps_real_memalign
#define real_valloc ps_real_valloc
#define real_pvalloc ps_real_pvalloc
#define real_usable_size ps_real_malloc_usable_size

/*
 * Bootstrap area. dlsym() calls calloc (for its dlerror state) before the real allocator is
 * known, so the first requests are served from this static bump area. Each block is preceded
 * by its size (16 bytes, keeping 16-byte alignment) so that realloc and malloc_usable_size
 * work on it; blocks are never reused, so free ignores them and calloc needs no memset.
 */
#define BOOT_SIZE (64 * 1024)
#define BOOT_HDR 16

static uint8_t boot_area[BOOT_SIZE] __attribute__((aligned(64)));
static size_t boot_used;	/* bytes handed out, bumped with a CAS */

/* Set while this thread resolves: its own nested calls must not resolve again. */
static __thread int resolving PS_TLS;

/* one unsigned compare: below boot_area wraps around to a large difference */
static PS_NOINSTR int in_boot(const void *p)
{
	return (uintptr_t)p - (uintptr_t)boot_area < BOOT_SIZE;
}

static PS_NOINSTR size_t boot_size(const void *p)
{
	size_t n;

	memcpy(&n, (const uint8_t *)p - BOOT_HDR, sizeof(n));
	return n;
}

/* A block of @size bytes aligned to @align (a power of two) from the bump area, or NULL. */
static PS_NOINSTR PS_NOINLINE void *boot_alloc(size_t size, size_t align)
{
	size_t old = __atomic_load_n(&boot_used, __ATOMIC_RELAXED), start, end;

	if (align < BOOT_HDR)
		align = BOOT_HDR;
	do {
		start = (old + BOOT_HDR + align - 1) & ~(align - 1);
		if (start > BOOT_SIZE || size > BOOT_SIZE - start) {
			errno = ENOMEM;
			return NULL;
		}
		end = start + size;
	} while (!__atomic_compare_exchange_n(&boot_used, &old, end, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	memcpy(boot_area + start - BOOT_HDR, &size, sizeof(size));
	/* free and realloc test the filter first: this block's own test sends it to the slow
	 * path, which ignores it (the fast one would hand it to the real free) */
	ps_sample_filter_raise((uintptr_t)(boot_area + start));
	return boot_area + start;
}

/*
 * ps_malloc_resolve - find the next definitions of the malloc family (glibc's). Called by
 * the constructor, and lazily by the first hook that finds its pointer unset. Calls made by
 * dlsym itself meanwhile are served from the bootstrap area. Aborts with one message when
 * the core of the allocator (malloc, free, realloc, calloc, posix_memalign,
 * malloc_usable_size: any libc with a malloc has them all) cannot be found; aligned_alloc,
 * memalign, valloc and pvalloc fall back to posix_memalign forms when missing.
 */
PS_NOINSTR void ps_malloc_resolve(void)
{
	if (__atomic_load_n(&ps_real_malloc, __ATOMIC_ACQUIRE) || resolving)
		return;
	/* under the guard: a handler that jumped out of here would leave resolving set */
	ps_guard_take(&ps_self, PS_GUARD_INTERNAL);
	resolving = 1;
	/* the table's order publishes ps_real_malloc last: a hook that sees it set sees every
	 * pointer of the family */
	if (ps_interpose_group(PS_IP_BOOT))
		abort();		/* said on stderr: no allocator to forward to */
	resolving = 0;
	ps_stack_init();
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
}

/* The hooks' guard for a missing pointer: resolve, or say the bootstrap area must serve. */
static inline PS_NOINSTR int unresolved(void)
{
	if (likely(__atomic_load_n(&ps_real_malloc, __ATOMIC_ACQUIRE) != NULL))
		return 0;
	ps_malloc_resolve();
	return __atomic_load_n(&ps_real_malloc, __ATOMIC_ACQUIRE) == NULL;
}

/*
 * Recording. rec_thread returns the thread state (guard not taken yet), or NULL when the event
 * is not recorded: malloc events off, the thread does not record, or we are nested inside a
 * hook (libunwind's or the shim's own allocations, or a signal handler that interrupted a
 * hook). Nested events of the program are counted in ->lost; the shim's own are not: stack.c
 * raises the guard by PS_GUARD_INTERNAL around the unwinder, which may allocate.
 * The common case (the thread records, no guard held) is one compare: ->guard and ->state
 * are adjacent ints, read as one word; everything else is rec_thread_slow.
 */
_Static_assert(offsetof(struct ps_thread, state) == offsetof(struct ps_thread, guard) + 4,
	       "ps_thread: guard and state adjacent");

static PS_NOINSTR PS_NOINLINE struct ps_thread *rec_thread_slow(void)
{
	struct ps_thread *t = &ps_self;

	if (!(ps_cfg.events & PS_EV_MALLOC))
		return NULL;
	if (unlikely(t->state != PS_T_ACTIVE)) {
		/* the first event of the thread, maybe of the process: that starts recording,
		 * and only then are the settings known (malloc events may be off) */
		t = ps_thread_get();
		if (!t || !(ps_cfg.events & PS_EV_MALLOC))
			return NULL;
	}
	if (unlikely(t->guard)) {
		if (t->guard < PS_GUARD_INTERNAL)
			t->lost++;
		return NULL;
	}
	return t;
}

/*
 * thread_ready - the calling thread records and is not inside a hook: ->guard and ->state,
 * adjacent ints, read as one word. With ps_alloc_all, that is rec_thread's answer (malloc
 * events on) without the settings' tests, and the clock is the TSC.
 */
static inline PS_NOINSTR int thread_ready(const struct ps_thread *t)
{
	uint64_t guard_state;

	memcpy(&guard_state, &t->guard, sizeof(guard_state));
	return guard_state == (uint64_t)PS_T_ACTIVE << 32;
}

static inline PS_NOINSTR struct ps_thread *rec_thread(void)
{
	struct ps_thread *t = &ps_self;

	if (likely(thread_ready(t)) && likely(ps_cfg.events & PS_EV_MALLOC))
		return t;
	return rec_thread_slow();
}

/*
 * alloc_thread_due - rec_thread for a new block @p of @size bytes that reached the thread's
 * countdown (ps_sample_count returned 0, the countdown left as it was): NULL when it is not
 * recorded. With every allocation recorded (ps_sample_mean 0) the countdown stays 0 and this
 * is rec_thread. Under sampling ps_sample_take decides; a block that is sampled is listed in
 * the table (sample.c) so that its free is recorded. An event that is not recorded at all
 * (the shim's own, nested, thread off) leaves the countdown as it was: its bytes are not
 * counted, so that only the program's allocations move the sample points.
 */
static PS_NOINSTR PS_NOINLINE struct ps_thread *alloc_thread_sampled(struct ps_thread *t,
								       size_t size, void *p)
{
	if (!ps_sample_take(t, size))
		return NULL;
	if (unlikely(!ps_sample_remember((uintptr_t)p))) {
		t->lost++;	/* table full: sample.c warned once; LOST says so in the trace */
		return NULL;
	}
	return t;
}

static inline PS_NOINSTR struct ps_thread *alloc_thread_due(size_t size, void *p)
{
	struct ps_thread *t = rec_thread();

	if (unlikely(!t)) {
		/* malloc events off (PERFSHIM_EVENTS, read once) or recording over (it never
		 * starts again once the start is made: failed, secure mode, disk full): every
		 * later allocation of the thread takes the fast path, forwarded */
		if (__atomic_load_n(&ps_started, __ATOMIC_ACQUIRE) &&
		    (!(ps_cfg.events & PS_EV_MALLOC) ||
		     !__atomic_load_n(&ps_recording, __ATOMIC_RELAXED)))
			ps_self.sample.left = INT64_MAX;
		return NULL;
	}
	if (likely(!ps_sample_mean)) {
		t->sample.left = 0;
		return t;
	}
	return alloc_thread_sampled(t, size, p);
}

/*
 * alloc_thread - the same for a block not counted yet (the hooks that count after the call).
 * With every allocation recorded, recorded whatever the count says: a signal handler's call
 * may see it wrapped by an interrupted malloc (ps_sample_count_in_place).
 */
static inline PS_NOINSTR struct ps_thread *alloc_thread(size_t size, void *p)
{
	if (likely(__atomic_load_n(&ps_sample_mean, __ATOMIC_RELAXED)) &&
	    likely(ps_sample_count(size)))
		return NULL;
	return alloc_thread_due(size, p);
}

/*
 * The guard around a record; the fence makes the reservation re-read rec.pos after it
 * (thread.h). Dropping it delivers the signals held back meanwhile.
 *
 * errno: nothing a record's common path does can change it (stores to the buffer, the
 * clock, the stack walk by the learned rules), so it is not saved there: __errno_location
 * is a call through the PLT. Every slow path that may make a system call or call libunwind
 * keeps errno itself: ps_reserve_slow, ps_rss_sample, ps_cost_time_alloc (through them),
 * ps_signals_release, ps_thread_get's set-up, sample.c's slow half, and stack.c's libunwind
 * walks and mappings. tests/run/09-errno.sh checks every entry point.
 */
static inline PS_NOINSTR void rec_enter(struct ps_thread *t)
{
	ps_guard_take(t, 1);
}

static inline PS_NOINSTR void rec_leave(struct ps_thread *t)
{
	ps_guard_drop(t, 1);
}

/*
 * RSS samples for the timeline ride on memory events (records.c picks one thread): one
 * compare with the global, in memory (an __atomic load would not be folded into it).
 */
static inline PS_NOINSTR void rss_check(struct ps_thread *t, uint64_t now)
{
	int due;

	__asm__("cmpq %1, %2" : "=@ccae"(due) : "m"(ps_next_rss_ticks), "r"(now));
	if (unlikely(due))
		ps_rss_sample(t, now);
}

/*
 * The stack node of an allocation at *@pp (stack.c), 0 at PERFSHIM_STACK_DEPTH=0 without
 * even the call. Through a copy of the cursor, so that the caller's stays in a register;
 * the walk starts at this hook's frame (@fp: the function this is inlined into).
 */
static inline __attribute__((always_inline)) PS_NOINSTR uint32_t
rec_node(struct ps_thread *t, uintptr_t ra, uint8_t **pp)
{
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	int src = ps_cfg.stack_source;
	uint8_t *q = *pp;
	uint32_t node;

	if (!ps_cfg.stack_depth)
		return 0;
	/* the unwinder's source: the last walk reused, in a small function of its own */
	if (src == PS_STACK_UNWIND || (src == PS_STACK_AUTO && !t->calls.depth)) {
		node = ps_stack_reuse(t, fp);
		if (likely(node))
			return node;
	}
	node = ps_stack_node(t, ra, fp, &q);
	*pp = q;
	return node;
}

/*
 * ALLOC: op, kind, size, zz ptr, node, dt. The stack node comes first: NODE records it
 * appends must precede the ALLOC that names them. @now was read after the real call; @ra is
 * the exported entry point's return address (into the program or libc, never into the
 * shim: each exported function takes it itself and passes it down, whatever gets inlined).
 * rec_alloc_in is inlined into malloc's and calloc's slow paths (one frame for the whole
 * event); the other hooks call rec_alloc.
 */
static inline __attribute__((always_inline)) PS_NOINSTR void
rec_alloc_in(struct ps_thread *t, unsigned kind, size_t size, void *ptr, uint64_t now,
	     uintptr_t ra)
{
	uint32_t node;
	uint8_t *p;

	rec_enter(t);
	p = t->rec.pos;
	if (unlikely(p >= t->rec.limit) && !(p = ps_reserve_slow(t, TRACE_MAX_RECORD)))
		goto out;
	node = rec_node(t, ra, &p);
	if (unlikely(!p))
		goto out;
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_ALLOC));
	p = trace_put_varint(p, kind);
	p = trace_put_varint(p, size);
	p = ps_put_ptr(t, p, (uintptr_t)ptr);
	p = trace_put_varint(p, node);
	p = ps_put_dt(t, p, now);
	ps_commit(t, p);
	rss_check(t, now);
	ps_cost_count_alloc(t, now);
out:
	rec_leave(t);
}

static PS_NOINSTR PS_NOINLINE void rec_alloc(struct ps_thread *t, unsigned kind, size_t size,
					     void *ptr, uint64_t now, uintptr_t ra)
{
	rec_alloc_in(t, kind, size, ptr, now, ra);
}

/* FREE: op, zz ptr, dt. @now was read before the real free. Inlined into free_record. */
static inline __attribute__((always_inline)) PS_NOINSTR void rec_free_in(struct ps_thread *t,
									void *ptr, uint64_t now)
{
	uint8_t *p;

	rec_enter(t);
	p = t->rec.pos;
	if (likely(p < t->rec.limit) || (p = ps_reserve_slow(t, TRACE_MAX_RECORD))) {
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_FREE));
		p = ps_put_ptr(t, p, (uintptr_t)ptr);
		p = ps_put_dt(t, p, now);
		ps_commit(t, p);
		rss_check(t, now);
	}
	rec_leave(t);
}

static PS_NOINSTR PS_NOINLINE void rec_free(struct ps_thread *t, void *ptr, uint64_t now)
{
	rec_free_in(t, ptr, now);
}

/*
 * REALLOC: op, zz (old - base), zz (new - old), size, node, dt (old released, @t0 read before
 * the real call), dt (new obtained, @t1 read after it). The pointer base becomes @nptr.
 * @nptr == NULL: realloc(p, 0) freed p; no stack is taken for it (node 0). @ra as rec_alloc.
 */
static PS_NOINSTR void rec_realloc(struct ps_thread *t, void *old, void *nptr, size_t size,
				   uint64_t t0, uint64_t t1, uintptr_t ra)
{
	uint32_t node = 0;
	uint8_t *p;

	rec_enter(t);
	p = ps_reserve(t, TRACE_MAX_RECORD);
	if (unlikely(!p))
		goto out;
	if (nptr) {
		node = rec_node(t, ra, &p);
		if (unlikely(!p))
			goto out;
	}
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_REALLOC));
	p = ps_put_ptr(t, p, (uintptr_t)old);
	p = trace_put_varint(p, trace_zigzag((int64_t)((uintptr_t)nptr - (uintptr_t)old)));
	t->rec.last_ptr = (uintptr_t)nptr;
	p = trace_put_varint(p, size);
	p = trace_put_varint(p, node);
	p = ps_put_dt(t, p, t0);
	p = ps_put_dt(t, p, t1);
	ps_commit(t, p);
	rss_check(t, t1);
	if (nptr)
		ps_cost_count_alloc(t, t1);
out:
	rec_leave(t);
}

/* The caller's return address, taken by each exported function (see rec_alloc). */
#define CALLER_RA() ((uintptr_t)__builtin_return_address(0))

/*
 * The exported malloc, calloc, realloc and free are a fast path and a tail jump (sample.h):
 * the countdown (or the filter byte) says the event is not recorded, and the real function
 * is jumped to with the caller's arguments and return address, so the hook needs no frame
 * and returns through the real function's ret. No errno, no init test, no clock there: a
 * thread or process not started yet, an allocator not resolved yet and "every allocation
 * recorded" all read as a countdown of 0, which fails the test. What follows the test is
 * out of line, and takes the caller's return address from the hook (see rec_alloc).
 */
int ps_alloc_all;	/* set once by the start (init.c): every allocation recorded, with the TSC,
			 * the allocator resolved: malloc_due and free_record test the thread only */

static PS_NOINSTR PS_NOINLINE void *malloc_due(size_t size, uintptr_t ra)
{
	struct ps_thread *t;
	void *p;

	/* the settled case: the count back to 0 (every allocation recorded), the allocator
	 * known, the thread tested once */
	if (likely(__atomic_load_n(&ps_alloc_all, __ATOMIC_RELAXED))) {
		t = &ps_self;
		t->sample.left = 0;
		p = ps_real_malloc(size);
		if (likely(p) && likely(thread_ready(t)))
			rec_alloc_in(t, TRACE_ALLOC_MALLOC, size, p, ps_tsc_ordered(), ra);
		else if (likely(p) && (t = alloc_thread_due(size, p)))
			rec_alloc(t, TRACE_ALLOC_MALLOC, size, p, ps_now_ordered(), ra);
		return p;
	}
	ps_sample_uncount(size);	/* first: the hook's subtract given back */
	if (unlikely(unresolved()))
		return boot_alloc(size, 16);
	p = ps_real_malloc(size);
	if (likely(p) && (t = alloc_thread_due(size, p)))
		rec_alloc_in(t, TRACE_ALLOC_MALLOC, size, p, ps_now_ordered(), ra);
	return p;
}

/*
 * The fast paths' targets: the real functions under sampling (and when malloc events are off
 * or recording is over), the *_record functions below otherwise and until the first of them
 * finds out. With every allocation recorded the countdown is 0 and every call takes its
 * slow path, but for a signal handler's call that finds it wrapped by the malloc it
 * interrupted (ps_sample_count_in_place): its fast path then lands in a recording function.
 */
static PS_NOINSTR PS_NOINLINE void *malloc_record(size_t size);
static PS_NOINSTR PS_NOINLINE void *calloc_record(size_t n, size_t size);
static PS_NOINSTR PS_NOINLINE void *realloc_record(void *old, size_t size);
static PS_NOINSTR PS_NOINLINE void *reallocarray_record(void *old, size_t size);
static malloc_fn malloc_next = malloc_record;
static calloc_fn calloc_next = calloc_record;
static realloc_fn realloc_next = realloc_record;
static realloc_fn reallocarray_next = reallocarray_record;

/*
 * next_settled - a *_record function found the mode: 1 when its call is only forwarded
 * (sampling, whose fast path counted it already; or, once started, malloc events off or
 * recording over), and from then on every fast path jumps to the real functions.
 */
static PS_NOINSTR int next_settled(void)
{
	if (!__atomic_load_n(&ps_sample_mean, __ATOMIC_ACQUIRE) &&
	    (!__atomic_load_n(&ps_started, __ATOMIC_ACQUIRE) ||
	     ((ps_cfg.events & PS_EV_MALLOC) && __atomic_load_n(&ps_recording, __ATOMIC_RELAXED))))
		return 0;
	__atomic_store_n(&malloc_next, ps_real_malloc, __ATOMIC_RELAXED);
	__atomic_store_n(&calloc_next, real_calloc, __ATOMIC_RELAXED);
	__atomic_store_n(&realloc_next, real_realloc, __ATOMIC_RELAXED);
	__atomic_store_n(&reallocarray_next, real_realloc, __ATOMIC_RELAXED);
	return 1;
}

static PS_NOINSTR PS_NOINLINE void *malloc_record(size_t size)
{
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);
	struct ps_thread *t;
	void *p;

	if (unlikely(unresolved()))
		return boot_alloc(size, 16);
	if (next_settled())
		return ps_real_malloc(size);
	p = ps_real_malloc(size);
	if (likely(p) && (t = alloc_thread_due(size, p)))
		rec_alloc(t, TRACE_ALLOC_MALLOC, size, p, ps_now_ordered(), ra);
	return p;
}

PS_EXPORT PS_NOINSTR void *malloc(size_t size)
{
	if (likely(ps_sample_count_in_place(size)))
		return __atomic_load_n(&malloc_next, __ATOMIC_RELAXED)(size);
	return malloc_due(size, CALLER_RA());
}

/*
 * free_next - where a free goes when the filter says its block was not sampled: the real
 * free under sampling (and when malloc events are off), free_record when every allocation
 * is recorded, and free_early until the settings are known (it sets this from them).
 * Chosen once, so that free itself tests no mode.
 */
static PS_NOINSTR PS_NOINLINE void free_early(void *ptr);
static PS_NOINSTR PS_NOINLINE void free_record(void *ptr);
static free_fn free_next = free_early;

/* free of a listed (sampled) block, unlisted already: record it as any free */
static PS_NOINSTR PS_NOINLINE void free_sampled(void *ptr)
{
	struct ps_thread *t = rec_thread();
	uint64_t now = ps_now_ordered();

	ps_real_free(ptr);
	if (t)
		rec_free(t, ptr, now);
}

/*
 * free of a block whose filter byte is raised: a bootstrap block (ignored), a sampled one
 * (unlisted before the real free, which may hand the address to another thread's sampled
 * malloc), or one that shares a bucket with those (forwarded as by the fast path).
 */
static PS_NOINSTR PS_NOINLINE void free_slow(void *ptr)
{
	if (unlikely(in_boot(ptr)))
		return;
	if (ps_sample_mean && ps_sample_forget_slow((uintptr_t)ptr)) {
		free_sampled(ptr);
		return;
	}
	__atomic_load_n(&free_next, __ATOMIC_RELAXED)(ptr);
}

PS_EXPORT PS_NOINSTR void free(void *ptr)
{
	if (likely(!ps_sample_maybe_listed(ptr))) {
		__atomic_load_n(&free_next, __ATOMIC_RELAXED)(ptr);
		return;
	}
	free_slow(ptr);
}

/*
 * The first frees, before the settings are known, and the choice of free_next once they
 * are: sampling (its mean is set before any block is sampled) forwards; otherwise, from the
 * start on, every free is recorded, or none when malloc events are off. Until then a free is
 * what it always was with every allocation recorded (it may start the recording itself).
 */
static PS_NOINSTR PS_NOINLINE void free_early(void *ptr)
{
	if (!ptr || in_boot(ptr) || unlikely(unresolved()))
		return;		/* only bootstrap blocks can exist before malloc is known */
	if (__atomic_load_n(&ps_sample_mean, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&free_next, ps_real_free, __ATOMIC_RELAXED);
		ps_real_free(ptr);
		return;
	}
	if (__atomic_load_n(&ps_started, __ATOMIC_ACQUIRE))
		__atomic_store_n(&free_next,
				 (ps_cfg.events & PS_EV_MALLOC) && ps_recording ? free_record
										 : ps_real_free,
				 __ATOMIC_RELAXED);
	free_record(ptr);
}

/* free with every allocation recorded (the real free known) */
static PS_NOINSTR PS_NOINLINE void free_record(void *ptr)
{
	struct ps_thread *t = &ps_self;
	uint64_t now;

	if (unlikely(!ptr))
		return;
	/*
	 * The clock is read before the real free, so a block reused by another thread is freed
	 * "earlier": the free's stores that hand the block on become visible only after they
	 * retire, in order, after the clock read. And fenced, so that the read is not made
	 * before the program had the pointer: a block handed over by another thread (an atomic
	 * exchange on a contended line) arrives long (docs/measurements.md) after an unfenced
	 * rdtsc behind it has already run, which stamped such frees before the malloc that made
	 * the block. docs/design.md "Clock" has the whole argument and the error bound.
	 * The settled case tests the thread once (as malloc_due).
	 */
	if (likely(__atomic_load_n(&ps_alloc_all, __ATOMIC_RELAXED)) && likely(thread_ready(t))) {
		now = ps_tsc_ordered();
		ps_real_free(ptr);
		rec_free_in(t, ptr, now);
		return;
	}
	t = rec_thread();
	if (!t) {
		ps_real_free(ptr);
		return;
	}
	now = ps_now_ordered();
	ps_real_free(ptr);
	rec_free(t, ptr, now);
}

static PS_NOINSTR PS_NOINLINE void *calloc_due(size_t n, size_t size, uintptr_t ra)
{
	struct ps_thread *t;
	size_t total;
	void *p;

	ps_sample_uncount(n * size);	/* first: the hook's subtract given back */
	if (unlikely(unresolved())) {
		if (__builtin_mul_overflow(n, size, &total)) {
			errno = ENOMEM;
			return NULL;
		}
		return boot_alloc(total, 16);	/* static, never reused: already zero */
	}
	p = real_calloc(n, size);
	if (likely(p) && (t = alloc_thread_due(n * size, p)))
		rec_alloc_in(t, TRACE_ALLOC_CALLOC, n * size, p, ps_now_ordered(), ra);
	return p;
}

static PS_NOINSTR PS_NOINLINE void *calloc_record(size_t n, size_t size)
{
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);
	struct ps_thread *t;
	size_t total;
	void *p;

	if (unlikely(unresolved())) {
		if (__builtin_mul_overflow(n, size, &total)) {
			errno = ENOMEM;
			return NULL;
		}
		return boot_alloc(total, 16);
	}
	if (next_settled())
		return real_calloc(n, size);
	p = real_calloc(n, size);
	if (likely(p) && (t = alloc_thread_due(n * size, p)))
		rec_alloc(t, TRACE_ALLOC_CALLOC, n * size, p, ps_now_ordered(), ra);
	return p;
}

/* n * size may wrap: then the real calloc fails (ENOMEM), and only the countdown moved */
PS_EXPORT PS_NOINSTR void *calloc(size_t n, size_t size)
{
	if (likely(ps_sample_count_in_place(n * size)))
		return __atomic_load_n(&calloc_next, __ATOMIC_RELAXED)(n, size);
	return calloc_due(n, size, CALLER_RA());
}

/*
 * realloc: realloc(NULL, n) is an allocation (ALLOC kind REALLOC), realloc(p, 0) frees p
 * and returns NULL (REALLOC to 0), a failed realloc leaves p alone and records nothing.
 */
static inline PS_NOINSTR void *do_realloc(void *old, size_t size, void *nptr, uint64_t t0,
					  unsigned kind, uintptr_t ra)
{
	struct ps_thread *t;

	if (!old) {
		if (likely(nptr) && (t = alloc_thread(size, nptr)))
			rec_alloc(t, kind, size, nptr, ps_now_ordered(), ra);
		return nptr;
	}
	/* failed: nothing changed (size 0 frees in glibc and returns NULL: that changed) */
	if (unlikely(!nptr) && size != 0)
		return nptr;
	if ((t = rec_thread()))
		rec_realloc(t, old, nptr, nptr ? size : 0, t0, ps_now_ordered(), ra);
	return nptr;
}

/*
 * realloc under sampling: the old block's part is recorded when it was sampled (it is
 * unlisted before the real call, which may give its address away, and listed again if the
 * call fails), the new block's when it is sampled itself (a fresh draw for its size, as for
 * any allocation). Both: one REALLOC; only the new one: an ALLOC of @kind; only the old one:
 * a FREE at the time the old block left; neither: nothing.
 */
static PS_NOINSTR PS_NOINLINE void *sampled_realloc(void *old, size_t size, unsigned kind,
						     uintptr_t ra)
{
	struct ps_thread *t;
	uint64_t t0 = 0;
	int listed = 0;
	void *p;

	if (old && (listed = ps_sample_forget((uintptr_t)old)))
		t0 = ps_now_ordered();	/* before the release, as in free */
	p = real_realloc(old, size);
	if (unlikely(!p) && (size != 0 || !old)) {
		/* failed: nothing changed (glibc's realloc(p, 0) frees p: that changed) */
		if (listed && !ps_sample_remember((uintptr_t)old) && (t = rec_thread()))
			rec_free(t, old, t0);	/* cannot stay listed: its free would be missed */
		return p;
	}
	t = p ? alloc_thread(size, p) : NULL;
	if (t) {
		if (listed)
			rec_realloc(t, old, p, size, t0, ps_now_ordered(), ra);
		else
			rec_alloc(t, kind, size, p, ps_now_ordered(), ra);
	} else if (listed && (t = rec_thread())) {
		rec_free(t, old, t0);
	}
	return p;
}

/*
 * realloc of a bootstrap block: a new block with the old contents; the bootstrap block stays
 * where it is. It was never recorded, so the new block is recorded as a fresh allocation.
 */
static PS_NOINSTR PS_NOINLINE void *boot_realloc(void *old, size_t size, unsigned kind,
						  uintptr_t ra)
{
	size_t n = boot_size(old);
	void *p;

	if (size == 0)
		return NULL;	/* glibc: realloc(p, 0) frees p and returns NULL */
	p = unresolved() ? boot_alloc(size, 16) : ps_real_malloc(size);
	if (!p)
		return NULL;
	memcpy(p, old, n < size ? n : size);
	return unresolved() ? p : do_realloc(NULL, size, p, 0, kind, ra);
}

/*
 * realloc's and reallocarray's slow path: the old block may be listed (its filter byte is
 * raised), or the new size reaches the countdown, which is then not counted yet.
 */
static PS_NOINSTR PS_NOINLINE void *realloc_slow(void *old, size_t size, unsigned kind,
						  uintptr_t ra)
{
	uint64_t t0 = 0;
	void *p;

	if (unlikely(old && in_boot(old)))
		return boot_realloc(old, size, kind, ra);
	if (unlikely(unresolved()))
		return boot_alloc(size, 16);
	if (ps_sample_mean)
		return sampled_realloc(old, size, kind, ra);
	if (old && (ps_cfg.events & PS_EV_MALLOC))
		t0 = ps_now_ordered();	/* before the release, after @old arrived: as in free */
	p = real_realloc(old, size);	/* for reallocarray: glibc's, without its PLT call */
	return do_realloc(old, size, p, t0, kind, ra);
}

/*
 * The fast path of both: the old block not sampled (its filter byte 0; realloc(NULL, n)
 * tests bucket 0, as free(NULL) does) and the new size counted; the filter first, so that a
 * listed block's size is counted once, by sampled_realloc.
 */
PS_EXPORT PS_NOINSTR void *realloc(void *old, size_t size)
{
	if (likely(!ps_sample_maybe_listed(old) && ps_sample_count(size)))
		return __atomic_load_n(&realloc_next, __ATOMIC_RELAXED)(old, size);
	return realloc_slow(old, size, TRACE_ALLOC_REALLOC, CALLER_RA());
}

/* the fast path's target with every allocation recorded (see malloc_next) */
static PS_NOINSTR PS_NOINLINE void *realloc_record(void *old, size_t size)
{
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);

	if (!unresolved() && next_settled())
		return real_realloc(old, size);
	return realloc_slow(old, size, TRACE_ALLOC_REALLOC, ra);
}

/* the same for reallocarray, @size the product, checked */
static PS_NOINSTR PS_NOINLINE void *reallocarray_record(void *old, size_t size)
{
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);

	if (!unresolved() && next_settled())
		return real_realloc(old, size);
	return realloc_slow(old, size, TRACE_ALLOC_REALLOCARRAY, ra);
}

PS_EXPORT PS_NOINSTR void *reallocarray(void *old, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;		/* glibc: ENOMEM, old block untouched */
		return NULL;
	}
	if (likely(!ps_sample_maybe_listed(old) && ps_sample_count(total)))
		return __atomic_load_n(&reallocarray_next, __ATOMIC_RELAXED)(old, total);
	return realloc_slow(old, total, TRACE_ALLOC_REALLOCARRAY, CALLER_RA());
}

PS_EXPORT PS_NOINSTR int posix_memalign(void **memptr, size_t align, size_t size)
{
	struct ps_thread *t;
	int ret;

	if (unlikely(unresolved())) {
		void *p;

		if (align % sizeof(void *) || (align & (align - 1)) || !align)
			return EINVAL;
		p = boot_alloc(size, align);
		if (!p)
			return ENOMEM;
		*memptr = p;
		return 0;
	}
	ret = real_posix_memalign(memptr, align, size);
	if (likely(ret == 0) && (t = alloc_thread(size, *memptr)))
		rec_alloc(t, TRACE_ALLOC_POSIX_MEMALIGN, size, *memptr, ps_now_ordered(),
			  CALLER_RA());
	return ret;
}

/* The memalign-like ones: (alignment, size) -> pointer, errno on failure. */
static inline PS_NOINSTR void *aligned_common(memalign_fn fn, size_t align, size_t size,
					      unsigned kind, uintptr_t ra)
{
	struct ps_thread *t;
	void *p;

	if (likely(fn)) {
		p = fn(align, size);
	} else {
		/* no such symbol below us: the glibc semantics through posix_memalign */
		int err;

		if (align < sizeof(void *))
			align = sizeof(void *);
		err = real_posix_memalign(&p, align, size);
		if (err) {
			errno = err;
			p = NULL;
		}
	}
	if (likely(p) && (t = alloc_thread(size, p)))
		rec_alloc(t, kind, size, p, ps_now_ordered(), ra);
	return p;
}

PS_EXPORT PS_NOINSTR void *aligned_alloc(size_t align, size_t size)
{
	if (unlikely(unresolved()))
		return (align & (align - 1)) ? (errno = EINVAL, NULL) : boot_alloc(size, align);
	return aligned_common(real_aligned_alloc, align, size, TRACE_ALLOC_ALIGNED_ALLOC,
			      CALLER_RA());
}

PS_EXPORT PS_NOINSTR void *memalign(size_t align, size_t size)
{
	if (unlikely(unresolved()))
		return (align & (align - 1)) ? (errno = EINVAL, NULL) : boot_alloc(size, align);
	return aligned_common(real_memalign, align, size, TRACE_ALLOC_MEMALIGN, CALLER_RA());
}

PS_EXPORT PS_NOINSTR void *valloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct ps_thread *t;
	void *p;

	if (unlikely(unresolved()))
		return boot_alloc(size, page);
	if (unlikely(!real_valloc))
		return aligned_common(NULL, page, size, TRACE_ALLOC_VALLOC, CALLER_RA());
	p = real_valloc(size);
	if (likely(p) && (t = alloc_thread(size, p)))
		rec_alloc(t, TRACE_ALLOC_VALLOC, size, p, ps_now_ordered(), CALLER_RA());
	return p;
}

PS_EXPORT PS_NOINSTR void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
	struct ps_thread *t;
	void *p;

	/* glibc rounds up to whole pages (at least one) and fails on overflow */
	if (__builtin_add_overflow(size, page - 1, &rounded)) {
		errno = ENOMEM;
		return NULL;
	}
	rounded &= ~(page - 1);
	if (!rounded)
		rounded = page;
	if (unlikely(unresolved()))
		return boot_alloc(rounded, page);
	if (unlikely(!real_pvalloc))
		return aligned_common(NULL, page, rounded, TRACE_ALLOC_PVALLOC, CALLER_RA());
	p = real_pvalloc(size);
	if (likely(p) && (t = alloc_thread(rounded, p)))
		rec_alloc(t, TRACE_ALLOC_PVALLOC, rounded, p, ps_now_ordered(),
			  CALLER_RA());
	return p;
}

PS_EXPORT PS_NOINSTR size_t malloc_usable_size(void *ptr)
{
	if (!ptr)
		return 0;
	if (in_boot(ptr))
		return boot_size(ptr);
	if (unlikely(unresolved()))
		return 0;
	return real_usable_size(ptr);
}
