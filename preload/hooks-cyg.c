/* SPDX-License-Identifier: MIT */
/*
 * Function entry/exit hooks of gcc/clang -finstrument-functions, the shadow call stack they
 * keep, its repair after longjmp and exceptions, lazy entries under PERFSHIM_MIN_DURATION,
 * and perfshim_mark(). docs/design.md "Calls" explains the records and the repair.
 *
 * The fast path of each hook is a handful of loads, one rdtsc and a 2-3 byte record; every
 * unusual state (thread not set up, guard held, longjmp pending, min-duration mode, calls
 * past the shadow stack's end, buffer full, exit that does not match the top) is folded into
 * a few predictable branches that lead to one noinline slow path, which handles all cases.
 */
#include <signal.h>
#include <sys/mman.h>

#include "preload/ids.h"
#include "preload/process.h"
#include "preload/records.h"
#include "preload/tracefile.h"

/*
 * Hard cap of the shadow stack: 4 Mi frames (160 MiB of address space, touched only as deep
 * as the program goes). Deeper calls are counted in t->calls.overflow, not recorded.
 */
#define SHADOW_MAX (1U << 22)

/*
 * The stack pointer of the instrumented function that called the hook, as it was at the
 * call: the hook's canonical frame address (its frame pointer + 16; the library is built
 * with -fno-omit-frame-pointer). It needs no frame pointer in the program, and it orders
 * activations: a callee's is always below its caller's, and a copy of a function inlined
 * into its caller has the caller's. Only compared, never dereferenced.
 */
#define HOOK_SP() ((uintptr_t)__builtin_frame_address(0) + 16)

/*
 * The delta from the time base to @now; the base becomes @now. As ps_put_dt(), but with one
 * branch that always predicts (the TSCs of two cores may differ by a few ticks: a thread
 * that migrates must not make the base go back, so such a delta counts as 0).
 */
static inline uint64_t take_dt(struct ps_thread *t, uint64_t now)
{
	uint64_t dt = now - t->rec.last_ticks;

	if (unlikely((int64_t)dt < 0))
		return 0;
	t->rec.last_ticks = now;
	return dt;
}

/* EXIT at @now: varint(dt << 1), dt from the time base, which becomes @now. */
static inline uint8_t *put_exit(struct ps_thread *t, uint8_t *p, uint64_t now)
{
	return trace_put_varint(p, take_dt(t, now) << 1);
}

/* Append an EXITS record closing @n calls at @now. */
static void put_exits(struct ps_thread *t, uint32_t n, uint64_t now)
{
	uint8_t *p;

	if (!n || !(p = ps_reserve(t, TRACE_MAX_RECORD)))
		return;
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_EXITS));
	p = trace_put_varint(p, n);
	p = ps_put_dt(t, p, now);
	ps_commit(t, p);
}

/*
 * Write the entries of frames [from, to) that were left unwritten (PERFSHIM_MIN_DURATION),
 * outermost first. An entry older than the time base is an ENTRY_AT (it does not move the
 * base); a newer one is a plain ENTRY, which moves the base to its own time. Entry times
 * grow from outer to inner frames, so the base never has to go back and both kinds keep
 * the exact entry time. Return: 0, or -1 when the thread stopped recording.
 */
static int put_lazy_entries(struct ps_thread *t, uint32_t from, uint32_t to)
{
	struct ps_frame *f;
	uint8_t *p;

	for (; from < to; from++) {
		f = &t->calls.shadow[from];
		if (!(p = ps_reserve(t, TRACE_MAX_RECORD)))
			return -1;
		if (f->ticks <= t->rec.last_ticks) {
			p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_ENTRY_AT));
			p = trace_put_varint(p, f->fid);
			p = trace_put_varint(p, t->rec.last_ticks - f->ticks);
		} else {
			p = trace_put_varint(p, (uint64_t)f->fid << 2 | 1);
			p = ps_put_dt(t, p, f->ticks);
		}
		f->written = 1;
		ps_commit(t, p);
	}
	return 0;
}

/*
 * Close the open calls above depth @keep at time @now (longjmp, exception through code
 * without cleanups): one EXITS record for those whose entry is in the trace. Under
 * min-duration a closed call that lasted long enough is kept like a normal exit would keep
 * it: the outer closed frames lasted longest, so the kept ones are a run from @keep up.
 */
static void close_frames(struct ps_thread *t, uint32_t keep, uint64_t now)
{
	uint32_t d = t->calls.depth, written, k;

	if (keep >= d)
		return;
	written = d - t->calls.unwritten; /* entries written: always frames [0, written) */
	if (t->calls.cyg & PS_CYG_MINDUR) {
		for (k = d;
		     k > keep && now - t->calls.shadow[k - 1].ticks < ps_cfg.min_duration_ticks;
		     k--)
			;
		if (k > written && put_lazy_entries(t, written, k) == 0)
			written = k;
	}
	t->calls.depth = keep;
	t->calls.unwritten = keep - (written < keep ? written : keep);
	/* Calls past the cap were inside the closed frames. */
	t->calls.overflow = 0;
	t->calls.cyg &= ~PS_CYG_OVERFLOW;
	if (written > keep)
		put_exits(t, written - keep, now);
}

/*
 * The depth to keep after a jump that resumed the program with stack pointer @to (longjmp
 * target, or the catching frame: longjmp.c). Frames opened below it are gone, as the stack
 * grows down; the frame that called setjmp (or catches) and its inlined copies were opened
 * at or above it. A signal handler on an alternate stack must not close the frames it
 * interrupted, whose addresses are unrelated to its own: when @to is on the alternate
 * stack only frames on it are candidates; when it is off it, frames left on it are gone
 * too (the handler jumped out). sigaltstack(2) gives the range with one async-signal-safe
 * system call, paid only here, on the slow path.
 */
static uint32_t jump_keep(struct ps_thread *t, uintptr_t to)
{
	uintptr_t lo = 0, size = 0, sp;
	uint32_t d = t->calls.depth;
	int on, alt;
	stack_t ss;

	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE)) {
		lo = (uintptr_t)ss.ss_sp;
		size = ss.ss_size;
	}
	on = to - lo < size;
	for (; d > 0; d--) {
		sp = t->calls.shadow[d - 1].sp;
		alt = sp - lo < size;
		if (on ? !(alt && sp < to) : !(alt || sp < to))
			break;
	}
	return d;
}

/*
 * Repair after a jump (PS_CYG_JUMPED), from a hook of the function at stack pointer @sp.
 * A longjmp whose setjmp was noted (longjmp.c) returns to exactly the depth of that setjmp:
 * this also closes copies of functions inlined into the setjmp's caller, which share its
 * stack pointer. The note is trusted only if the frames it keeps lie at or above the target
 * (a stale note is then ignored); otherwise the stack pointer decides. When the target is
 * unknown as well, the hook's own position stands in: at an entry, frames at or below the
 * new call's are gone; at an exit, those below.
 */
static void jump_repair(struct ps_thread *t, uintptr_t sp, int entry)
{
	uintptr_t to = t->jump.sp ? t->jump.sp : sp + (entry ? 1 : 0);
	uint32_t keep = jump_keep(t, to), noted = t->jump.depth - 1;

	if (t->jump.depth && noted <= t->calls.depth &&
	    (noted == 0 || !t->jump.sp || t->calls.shadow[noted - 1].sp >= t->jump.sp)) {
		keep = noted;
		if (t->calls.overflow > t->jump.overflow && keep == t->calls.depth) {
			/* the jump left calls that were past the cap (counted when entered) */
			t->calls.overflow = t->jump.overflow;
			if (!t->calls.overflow)
				t->calls.cyg &= ~PS_CYG_OVERFLOW;
		}
	}
	t->calls.cyg &= ~PS_CYG_JUMPED;
	t->jump.sp = 0;
	t->jump.depth = 0;
	close_frames(t, keep, ps_now());
}

/*
 * Double the shadow stack (mremap may move it: nothing keeps pointers into it across
 * hooks). Return: 0, or -1 at the hard cap or without memory.
 */
static int shadow_grow(struct ps_thread *t)
{
	uint32_t cap = t->calls.shadow_cap ? t->calls.shadow_cap * 2 : 4096;
	void *p;

	if (cap > SHADOW_MAX)
		return -1;
	if (t->calls.shadow)
		p = mremap(t->calls.shadow, (size_t)t->calls.shadow_cap * sizeof(*t->calls.shadow),
			   (size_t)cap * sizeof(*t->calls.shadow), MREMAP_MAYMOVE);
	else
		p = mmap(NULL, (size_t)cap * sizeof(*t->calls.shadow), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	t->calls.shadow = p;
	t->calls.shadow_cap = cap;
	return 0;
}

/* Set up a thread for calls: the mode bits, from the settings read at start. */
static void cyg_setup(struct ps_thread *t)
{
	unsigned m = PS_CYG_READY | (t->calls.cyg & (PS_CYG_JUMPED | PS_CYG_OVERFLOW));

	if (!(ps_cfg.events & PS_EV_CALLS))
		m |= PS_CYG_OFF;
	if (ps_cfg.min_duration_ticks)
		m |= PS_CYG_MINDUR;
	if (!ps_use_tsc)
		m |= PS_CYG_NOTSC;
	t->calls.cyg = m;
	if (!(m & PS_CYG_OFF))
		ps_cost_first_call(t);	/* once per process: what the hooks cost (cost.c) */
}

/*
 * Open a call of @fn whose stack pointer is @sp, in any mode. Runs under the guard.
 * Past the hard cap the call is counted (t->calls.overflow, t->lost) and its exit skipped later.
 */
static void enter_frame(struct ps_thread *t, uintptr_t fn, uintptr_t sp)
{
	uint32_t d = t->calls.depth, fid;
	struct ps_frame *f;
	uint8_t *p;
	uint64_t now;

	if (t->calls.overflow || (d >= t->calls.shadow_cap && shadow_grow(t) < 0)) {
		t->calls.overflow++;
		t->lost++;
		t->calls.cyg |= PS_CYG_OVERFLOW;
		return;
	}
	if (!(p = ps_reserve(t, TRACE_MAX_RECORD)))
		return;
	fid = ps_fid(t, fn, &p);
	now = ps_now();
	f = &t->calls.shadow[d];
	f->fn = fn;
	f->sp = sp;
	f->ticks = now;
	f->fid = fid;
	f->node = 0;
	if (t->calls.cyg & PS_CYG_MINDUR) {
		f->written = 0;			/* written at exit if the call is kept */
		t->calls.unwritten++;
	} else {
		f->written = 1;
		p = trace_put_varint(p, (uint64_t)fid << 2 | 1);
		p = ps_put_dt(t, p, now);
	}
	t->calls.depth = d + 1;
	ps_commit(t, p);			/* a FUNC record may be there even when lazy */
}

/*
 * The frame an exit of @fn (stack pointer @sp) closes, when it is not simply the top: an
 * exception or longjmp left frames above it. The frame with both the function and the stack
 * pointer is exact; where the function's stack pointer moved between its entry and exit
 * hooks (alloca, pushed arguments) only the function can match, the innermost such frame.
 * Return: its index + 1, or 0 when the call was never opened here.
 */
static uint32_t find_frame(struct ps_thread *t, uintptr_t fn, uintptr_t sp)
{
	uint32_t d, by_fn = 0;

	for (d = t->calls.depth; d > 0; d--) {
		if (t->calls.shadow[d - 1].fn != fn)
			continue;
		if (t->calls.shadow[d - 1].sp == sp)
			return d;
		if (!by_fn)
			by_fn = d;
	}
	return by_fn;
}

/* Close the call of @fn (stack pointer @sp), in any mode. Runs under the guard. */
static void exit_frame(struct ps_thread *t, uintptr_t fn, uintptr_t sp)
{
	struct ps_frame *f;
	uint32_t d = t->calls.depth;
	uint64_t now;
	uint8_t *p;

	if (t->calls.overflow) {			/* the exit of a call past the cap */
		if (!--t->calls.overflow)
			t->calls.cyg &= ~PS_CYG_OVERFLOW;
		t->lost++;
		return;
	}
	if (d == 0 || t->calls.shadow[d - 1].fn != fn) {
		d = find_frame(t, fn, sp);
		if (!d) {			/* entered before recording began */
			t->lost++;
			return;
		}
		close_frames(t, d, ps_now());
	}
	f = &t->calls.shadow[d - 1];
	now = ps_now();
	if (!f->written) {
		/* Under min-duration: a short call with no kept callee leaves no bytes. */
		if (now - f->ticks < ps_cfg.min_duration_ticks) {
			t->calls.depth = d - 1;
			t->calls.unwritten--;
			return;
		}
		if (put_lazy_entries(t, d - t->calls.unwritten, d) < 0)
			return;
		t->calls.unwritten = 0;
	}
	t->calls.depth = d - 1;
	if (!(p = ps_reserve(t, TRACE_MAX_RECORD)))
		return;
	ps_commit(t, put_exit(t, p, now));
}

/*
 * Take the guard and the thread for a hook's slow path. Return: the thread with its guard
 * held, or NULL (not recording, calls not recorded, or nested in a hook: then counted).
 */
static struct ps_thread *slow_begin(void)
{
	struct ps_thread *t = ps_thread_get();

	if (!t)
		return NULL;
	if (t->guard) {
		/*
		 * A signal handler interrupted a hook of this thread. The guard stays held for
		 * the whole handler, so the entry and the exit of each call it makes are both
		 * dropped here, and the shadow stack stays balanced.
		 */
		t->lost++;
		return NULL;
	}
	ps_guard_take(t, 1);
	if (unlikely(!(t->calls.cyg & PS_CYG_READY)))
		cyg_setup(t);
	if (t->calls.cyg & PS_CYG_OFF) {
		ps_guard_drop(t, 1);
		return NULL;
	}
	return t;
}

static void slow_end(struct ps_thread *t)
{
	ps_guard_drop(t, 1);
}

/* Every enter that is not the plain case. errno is kept here, not in the fast path. */
static PS_NOINLINE PS_NOINSTR void enter_slow(uintptr_t fn, uintptr_t sp)
{
	int saved = errno;
	struct ps_thread *t = slow_begin();

	if (t) {
		if (t->calls.cyg & PS_CYG_JUMPED)
			jump_repair(t, sp, 1);
		enter_frame(t, fn, sp);
		slow_end(t);
	}
	errno = saved;
}

/* Every exit that is not the plain case. */
static PS_NOINLINE PS_NOINSTR void exit_slow(uintptr_t fn, uintptr_t sp)
{
	int saved = errno;
	struct ps_thread *t = slow_begin();

	if (t) {
		if (t->calls.cyg & PS_CYG_JUMPED)
			jump_repair(t, sp, 0);
		exit_frame(t, fn, sp);
		slow_end(t);
	}
	errno = saved;
}

/*
 * __cyg_profile_func_enter - called by instrumented code at every function entry.
 * Fast path: thread set up, not nested, nothing pending, TSC clock, room in the buffer and
 * the shadow stack, function found at its first probe. It calls nothing: no register
 * saves, and errno cannot change, so it is saved only on the slow paths (__errno_location
 * is a call through the PLT that would cost about as much as the record itself). Everything
 * else is one tail call to enter_slow, which handles every case.
 */
PS_EXPORT PS_NOINSTR void __cyg_profile_func_enter(void *fn, void *call_site)
{
	struct ps_thread *t = &ps_self;
	uintptr_t sp = HOOK_SP();
	struct ps_fid_slot *s;
	struct ps_frame *f;
	uint32_t d, fid;
	uint64_t now;
	uint8_t *p;

	if (unlikely(t->state != PS_T_ACTIVE || t->guard || t->calls.cyg != PS_CYG_READY))
		goto slow;
	t->guard = 1;
	/* A handler that ran before the guard was set may have appended: read pos after it. */
	ps_signal_fence();
	p = t->rec.pos;
	d = t->calls.depth;
	s = &t->ids.fids[((uintptr_t)fn >> 4) * 0x9E3779B1U & t->ids.fid_mask];	/* as ps_fid() */
	if (unlikely(p >= t->rec.limit || d >= t->calls.shadow_cap || s->addr != (uintptr_t)fn)) {
		ps_signal_fence();
		t->guard = 0;	/* a signal held meanwhile: the slow path delivers it */
		goto slow;
	}
	fid = s->fid;
	now = __builtin_ia32_rdtsc();		/* PS_CYG_NOTSC sends TSC-less runs to the slow path */
	f = &t->calls.shadow[d];
	f->fn = (uintptr_t)fn;
	f->sp = sp;
	f->ticks = now;
	f->fid = fid;
	f->node = 0;
	f->written = 1;
	t->calls.depth = d + 1;
	p = trace_put_varint(p, (uint64_t)fid << 2 | 1);
	p = trace_put_varint(p, take_dt(t, now));
	ps_commit(t, p);
	ps_signal_fence();
	t->guard = 0;
	ps_signal_fence();
	/* a signal that came while the guard was held waits for this (thread.h) */
	if (unlikely(t->sig.held))
		ps_signals_release(t);
	return;
slow:
	enter_slow((uintptr_t)fn, sp);
}

/*
 * __cyg_profile_func_exit - called by instrumented code at every function exit (and by
 * gcc's cleanup pads while an exception unwinds). The fast path pops the top frame when it
 * is @fn and writes EXIT, one varint of dt << 1.
 */
PS_EXPORT PS_NOINSTR void __cyg_profile_func_exit(void *fn, void *call_site)
{
	struct ps_thread *t = &ps_self;
	uintptr_t sp = HOOK_SP();
	uint32_t d;
	uint8_t *p;

	if (unlikely(t->state != PS_T_ACTIVE || t->guard || t->calls.cyg != PS_CYG_READY))
		goto slow;
	t->guard = 1;
	ps_signal_fence();
	p = t->rec.pos;
	d = t->calls.depth;
	if (unlikely(p >= t->rec.limit || d == 0 || t->calls.shadow[d - 1].fn != (uintptr_t)fn)) {
		ps_signal_fence();
		t->guard = 0;	/* a signal held meanwhile: the slow path delivers it */
		goto slow;
	}
	t->calls.depth = d - 1;
	ps_commit(t, put_exit(t, p, __builtin_ia32_rdtsc()));
	ps_signal_fence();
	t->guard = 0;
	ps_signal_fence();
	if (unlikely(t->sig.held))
		ps_signals_release(t);
	return;
slow:
	exit_slow((uintptr_t)fn, sp);
}

/*
 * ps_cyg_fork_child - in a forked child, with empty tables and buffer: re-open every call
 * inherited on the shadow stack (FUNC records as needed, all written even under
 * min-duration) so that their exits pair up in the child's trace, and drop the stack nodes
 * cached in the frames (the node table is new). Calls past the cap stay counted in
 * t->calls.overflow. Runs under the guard taken by the fork handler, after the child's trace was
 * opened (ps_start_ticks is its start).
 *
 * Each is an ENTRY_AT at its entry time in the parent, which is before the child's trace
 * started: that is what tells a reader the call was inherited, not made by the child
 * (docs/trace-format.md "Inherited calls"), so that a parent's and its children's traces
 * summed count each call once. A frame whose time would not be before the start (clocks of
 * two cores) is put just before it.
 */
void ps_cyg_fork_child(struct ps_thread *t)
{
	struct ps_frame *f;
	uint64_t at;
	uint32_t i;
	uint8_t *p;

	for (i = 0; i < t->calls.depth; i++) {
		f = &t->calls.shadow[i];
		f->node = 0;
		if (!(p = ps_reserve(t, TRACE_MAX_RECORD)))
			continue;
		f->fid = ps_fid(t, f->fn, &p);
		f->written = 1;
		at = f->ticks < ps_start_ticks ? f->ticks : ps_start_ticks - 1;
		if (at > t->rec.last_ticks)
			at = t->rec.last_ticks;
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_ENTRY_AT));
		p = trace_put_varint(p, f->fid);
		p = trace_put_varint(p, t->rec.last_ticks - at);
		ps_commit(t, p);
	}
	t->calls.unwritten = 0;
}

/* Exported for include/perfshim.h, whose declaration is weak on purpose (not included). */
PS_EXPORT void perfshim_mark(const char *label);

/*
 * perfshim_mark - label this point in time in the trace (include/perfshim.h). Nothing
 * happens when the thread does not record; a mark from a signal handler that interrupted a
 * hook is dropped and counted. errno is preserved.
 */
PS_EXPORT PS_NOINSTR void perfshim_mark(const char *label)
{
	int saved = errno;
	struct ps_thread *t = ps_thread_get();

	if (t && label) {
		if (t->guard)
			t->lost++;
		else
			ps_emit_mark(t, label);
	}
	errno = saved;
}
