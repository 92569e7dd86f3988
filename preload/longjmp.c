/* SPDX-License-Identifier: MIT */
/*
 * longjmp and friends, wrapped to tell the call hooks that frames were left without exits:
 * the next hook repairs the shadow stack by frame address (hooks-cyg.c, jump_keep).
 * docs/design.md "Calls". Each wrapper only sets a flag and jumps through the next
 * definition, so it keeps glibc's checks (__longjmp_chk) and signal-mask handling.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdlib.h>

#include "preload/internal.h"

typedef void (*jump_fn)(struct __jmp_buf_tag *env, int val) __attribute__((noreturn));

/* The real functions, resolved by the constructor (dlsym is not async-signal-safe, and
 * siglongjmp is often called from signal handlers). */
static jump_fn real_longjmp, real_ulongjmp, real_siglongjmp, real_longjmp_chk;

static jump_fn resolve(const char *name)
{
	return (jump_fn)dlsym(RTLD_NEXT, name);
}

__attribute__((constructor)) static void longjmp_init(void)
{
	real_longjmp = resolve("longjmp");
	real_ulongjmp = resolve("_longjmp");
	real_siglongjmp = resolve("siglongjmp");
	real_longjmp_chk = resolve("__longjmp_chk");
}

/*
 * Flag the calling thread: frames between here and the jump's target lose their exits.
 * A jump out of a signal handler that interrupted one of our hooks also leaves that hook
 * for good, with its guard held: drop the guard, or the thread would record nothing more.
 */
static void jump_flag(void)
{
	struct ps_thread *t = &ps_self;

	if (t->state != PS_T_ACTIVE)
		return;
	t->cyg |= PS_CYG_JUMPED;
	if (t->guard) {
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
		f = resolve(name);
		if (!f)
			abort();	/* no longjmp in the process: nothing sane to do */
		__atomic_store_n(real, f, __ATOMIC_RELAXED);
	}
	jump_flag();
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
