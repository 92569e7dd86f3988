/* SPDX-License-Identifier: MIT */
/*
 * Non-local exits that skip exit hooks: longjmp and friends, and C++ catches (an exception
 * that crossed frames without cleanup pads, such as C code, skipped their exits). The setjmp
 * family is wrapped to note the shadow stack's depth per jmp_buf, so a longjmp knows exactly
 * which calls it leaves; each longjmp or catch also records where the program resumes (the
 * stack pointer of the target or of the catching frame). The thread is flagged, and its next
 * hook closes the frames left (hooks-cyg.c, jump_repair). docs/design.md "Calls". Every
 * wrapper goes on to the next definition, so glibc's checks (__longjmp_chk) and signal-mask
 * handling are kept.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdlib.h>

#include "preload/interpose.h"
#include "preload/thread.h"

/* The real functions are interpose.c's slots, resolved by its constructor (CTOR: dlsym is
 * not async-signal-safe, and siglongjmp is often called from signal handlers). The setjmp
 * slots are jumped through by the assembly wrappers below (hidden: no GOT). */

/*
 * Depth of the shadow stack at the last setjmp on each jmp_buf of the thread: a small
 * direct-mapped table (a program rarely has more than a few live jmp_bufs; an evicted one
 * falls back to the stack-pointer repair). Initial-exec TLS, like ps_self.
 */
#define SETJMP_SLOTS 16
struct setjmp_note {
	uintptr_t env;			/* jmp_buf address, 0 = free */
	uint32_t depth;			/* t->calls.depth at the setjmp */
	uint64_t overflow;		/* t->calls.overflow at the setjmp */
};
static __thread struct setjmp_note setjmp_notes[SETJMP_SLOTS] PS_TLS;

static inline struct setjmp_note *note_slot(const void *env)
{
	return &setjmp_notes[((uintptr_t)env >> 4) * 0x9E3779B1U % SETJMP_SLOTS];
}

void ps_setjmp_note(void *env);

/*
 * ps_setjmp_note - called by the setjmp wrappers before the real setjmp: remember the
 * thread's shadow depth for @env (the calls open now are those a longjmp to it returns to).
 * A thread that does not record forgets @env instead. Also resolves the real functions when
 * a setjmp comes before the constructor.
 */
PS_NOINSTR void ps_setjmp_note(void *env)
{
	struct ps_thread *t = &ps_self;
	struct setjmp_note *n = note_slot(env);

	if (unlikely(!ps_real_setjmp || !ps_real__setjmp || !ps_real___sigsetjmp)) {
		/* no setjmp in the process: nothing sane to do */
		if (!ps_real(setjmp))
			ps_interpose_abort("setjmp");
		if (!ps_real(_setjmp))
			ps_interpose_abort("_setjmp");
		if (!ps_real(__sigsetjmp))
			ps_interpose_abort("__sigsetjmp");
	}
	/* under the guard: a handler that would set or use a note of its own waits */
	ps_guard_take(t, 1);
	if (t->state != PS_T_ACTIVE) {
		if (n->env == (uintptr_t)env)
			n->env = 0;
	} else {
		n->env = 0;	/* a raw handler between these finds no half-written note */
		ps_signal_fence();
		n->depth = t->calls.depth;
		n->overflow = t->calls.overflow;
		ps_signal_fence();
		n->env = (uintptr_t)env;
	}
	ps_guard_drop(t, 1);
}

/*
 * setjmp, _setjmp (what the setjmp macro calls) and __sigsetjmp (sigsetjmp): they return
 * twice, so the wrapper may not keep a frame of its own under the real one: it calls the
 * note with the arguments saved and the stack realigned, restores them, and tail-jumps to
 * the real function with the caller's stack and return address as they were.
 */
__asm__(".text\n"
	".globl setjmp\n"
	".type setjmp, @function\n"
	"setjmp:\n"
	"	push %rdi\n"
	"	call ps_setjmp_note\n"
	"	pop %rdi\n"
	"	jmp *ps_real_setjmp(%rip)\n"
	".size setjmp, .-setjmp\n"
	".globl _setjmp\n"
	".type _setjmp, @function\n"
	"_setjmp:\n"
	"	push %rdi\n"
	"	call ps_setjmp_note\n"
	"	pop %rdi\n"
	"	jmp *ps_real__setjmp(%rip)\n"
	".size _setjmp, .-_setjmp\n"
	".globl __sigsetjmp\n"
	".type __sigsetjmp, @function\n"
	"__sigsetjmp:\n"
	"	push %rdi\n"
	"	push %rsi\n"
	"	sub $8, %rsp\n"
	"	call ps_setjmp_note\n"
	"	add $8, %rsp\n"
	"	pop %rsi\n"
	"	pop %rdi\n"
	"	jmp *ps_real___sigsetjmp(%rip)\n"
	".size __sigsetjmp, .-__sigsetjmp\n");

/*
 * The stack pointer a longjmp to @env resumes at. glibc (x86-64) keeps it in __jmpbuf[6]
 * (JB_RSP), mangled like every code and stack pointer there: xor with the thread's pointer
 * guard (%fs:0x30 in the TCB), then rotated left by 17 bits. Return: the pointer, or 0 when
 * the result cannot be a stack pointer at a call (the ABI keeps it 16-byte aligned there).
 */
static uintptr_t jump_target_sp(struct __jmp_buf_tag *env)
{
	uintptr_t v = (uintptr_t)env->__jmpbuf[6], guard;

	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	v = (v >> 17 | v << 47) ^ guard;
	return v & 15 ? 0 : v;
}

/*
 * Flag the calling thread: the calls opened since the setjmp on @env (when noted) or below
 * stack pointer @to (0 = unknown: the next hook uses its own position) lose their exits.
 * Handlers installed through libc never run inside a hook (signals.c holds them back), so
 * a jump finds the guard down; the guard's drop here also delivers what is still held back
 * (a jump out of one held handler leaves the others: signals-held.c), before the jump. A handler installed behind libc's back (the raw system call)
 * may still interrupt a hook and jump out of it: the hook is then left for good with its
 * guard held; drop it, or the thread would record nothing more (such a jump out of a chunk
 * write or a lock is not repaired: docs/design.md "Signals").
 */
static void jump_flag(const void *env, uintptr_t to)
{
	struct ps_thread *t = &ps_self;
	struct setjmp_note *n;

	if (env && t->guard) {
		ps_signal_fence();
		t->guard = 0;
	}
	/* the fields below go together: a handler waits until they are all set */
	ps_guard_take(t, 1);
	if (t->state == PS_T_ACTIVE) {
		t->jump.sp = to;
		t->jump.depth = 0;
		if (env) {
			n = note_slot(env);
			if (n->env == (uintptr_t)env) {
				t->jump.depth = n->depth + 1;
				t->jump.overflow = n->overflow;
			}
		}
		t->calls.cyg |= PS_CYG_JUMPED;
	}
	ps_guard_drop(t, 1);
}

/* Jump through @f (resolved now if a jump came before the constructor). */
static __attribute__((noreturn)) void jump(ps_jump_fn f, const char *name,
					   struct __jmp_buf_tag *env, int val)
{
	if (!f)
		ps_interpose_abort(name);	/* no longjmp in the process */
	jump_flag(env, jump_target_sp(env));
	f(env, val);
}

void __longjmp_chk(struct __jmp_buf_tag env[1], int val) __attribute__((noreturn));

/* longjmp - flag the thread for a shadow stack repair, then the real longjmp. */
PS_EXPORT PS_NOINSTR void longjmp(struct __jmp_buf_tag env[1], int val)
{
	jump(ps_real(longjmp), "longjmp", env, val);
}

/* _longjmp - as longjmp (BSD name: the signal mask is left alone). */
PS_EXPORT PS_NOINSTR void _longjmp(struct __jmp_buf_tag env[1], int val)
{
	jump(ps_real(_longjmp), "_longjmp", env, val);
}

/* siglongjmp - as longjmp; often called from a signal handler. */
PS_EXPORT PS_NOINSTR void siglongjmp(struct __jmp_buf_tag env[1], int val)
{
	jump(ps_real(siglongjmp), "siglongjmp", env, val);
}

/* __longjmp_chk - what longjmp becomes under _FORTIFY_SOURCE. */
PS_EXPORT PS_NOINSTR void __longjmp_chk(struct __jmp_buf_tag env[1], int val)
{
	jump(ps_real(__longjmp_chk), "__longjmp_chk", env, val);
}

void *__cxa_begin_catch(void *exc);

/*
 * __cxa_begin_catch - called by a C++ handler as it catches. gcc's cleanup pads already
 * called the exit hooks of the C++ frames the exception crossed; frames without cleanups
 * (C code) are still open and are closed by the next hook: everything opened below the
 * catching frame's stack pointer, which is this wrapper's caller's.
 */
PS_EXPORT PS_NOINSTR void *__cxa_begin_catch(void *exc)
{
	void *(*f)(void *) = ps_real(__cxa_begin_catch);

	if (!f)
		ps_interpose_abort("__cxa_begin_catch");	/* called, so libstdc++ is loaded */
	jump_flag(NULL, (uintptr_t)__builtin_frame_address(0) + 16);
	return f(exc);
}
