/* SPDX-License-Identifier: MIT */
/*
 * Non-local exits that skip exit hooks: longjmp and friends, and C++ catches (an exception
 * that crossed frames without cleanup pads, such as C code, skipped their exits). Each
 * wrapper records where the program resumes (the stack pointer of the longjmp target, or
 * of the catching frame) and flags the thread; its next hook closes the shadow frames
 * opened below that point (hooks-cyg.c, jump_keep). docs/design.md "Calls". The wrappers
 * then go on to the next definition, so glibc's checks (__longjmp_chk) and signal-mask
 * handling are kept.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdlib.h>

#include "preload/internal.h"

typedef void (*jump_fn)(struct __jmp_buf_tag *env, int val) __attribute__((noreturn));
typedef void *(*catch_fn)(void *exc);

/* The real functions, resolved by the constructor (dlsym is not async-signal-safe, and
 * siglongjmp is often called from signal handlers). */
static jump_fn real_longjmp, real_ulongjmp, real_siglongjmp, real_longjmp_chk;
static catch_fn real_begin_catch;

static void *resolve(const char *name)
{
	return ps_dlsym_next(name);
}

__attribute__((constructor)) static void longjmp_init(void)
{
	real_longjmp = (jump_fn)resolve("longjmp");
	real_ulongjmp = (jump_fn)resolve("_longjmp");
	real_siglongjmp = (jump_fn)resolve("siglongjmp");
	real_longjmp_chk = (jump_fn)resolve("__longjmp_chk");
	real_begin_catch = (catch_fn)resolve("__cxa_begin_catch");	/* C++ programs only */
}

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
 * Flag the calling thread: frames opened below stack pointer @to lose their exits (0 =
 * unknown: the next hook uses its own position). A jump out of a signal handler that
 * interrupted one of our hooks also leaves that hook for good, with its guard held: drop
 * the guard, or the thread would record nothing more.
 */
static void jump_flag(uintptr_t to, int from_jump)
{
	struct ps_thread *t = &ps_self;

	if (t->state != PS_T_ACTIVE)
		return;
	t->jump_sp = to;
	t->cyg |= PS_CYG_JUMPED;
	if (from_jump && t->guard) {
		ps_signal_fence();
		t->guard = 0;
	}
}

/* Jump through @real, resolving it now if a jump came before the constructor. */
static __attribute__((noreturn)) void jump(jump_fn *real, const char *name,
					   struct __jmp_buf_tag *env, int val)
{
	jump_fn f = __atomic_load_n(real, __ATOMIC_RELAXED);

	if (!f) {
		f = (jump_fn)resolve(name);
		if (!f)
			abort();	/* no longjmp in the process: nothing sane to do */
		__atomic_store_n(real, f, __ATOMIC_RELAXED);
	}
	jump_flag(jump_target_sp(env), 1);
	f(env, val);
}

void __longjmp_chk(struct __jmp_buf_tag env[1], int val) __attribute__((noreturn));

/* longjmp - flag the thread for a shadow stack repair, then the real longjmp. */
PS_EXPORT PS_NOINSTR void longjmp(struct __jmp_buf_tag env[1], int val)
{
	jump(&real_longjmp, "longjmp", env, val);
}

/* _longjmp - as longjmp (BSD name: the signal mask is left alone). */
PS_EXPORT PS_NOINSTR void _longjmp(struct __jmp_buf_tag env[1], int val)
{
	jump(&real_ulongjmp, "_longjmp", env, val);
}

/* siglongjmp - as longjmp; often called from a signal handler. */
PS_EXPORT PS_NOINSTR void siglongjmp(struct __jmp_buf_tag env[1], int val)
{
	jump(&real_siglongjmp, "siglongjmp", env, val);
}

/* __longjmp_chk - what longjmp becomes under _FORTIFY_SOURCE. */
PS_EXPORT PS_NOINSTR void __longjmp_chk(struct __jmp_buf_tag env[1], int val)
{
	jump(&real_longjmp_chk, "__longjmp_chk", env, val);
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
	catch_fn f = __atomic_load_n(&real_begin_catch, __ATOMIC_RELAXED);

	if (!f) {
		f = (catch_fn)resolve("__cxa_begin_catch");
		if (!f)
			abort();	/* called, so libstdc++ (or libc++abi) is loaded */
		__atomic_store_n(&real_begin_catch, f, __ATOMIC_RELAXED);
	}
	jump_flag((uintptr_t)__builtin_frame_address(0) + 16, 0);
	return f(exc);
}
