/* SPDX-License-Identifier: MIT */
/*
 * Signals: the program's handlers never run inside the shim, and the mark signal.
 *
 * Handlers. A handler that runs while its thread is inside a hook (writing a chunk, holding
 * the thread registry or the module lock, half-way through a record) and leaves by
 * siglongjmp, or exits, would leave that state half-done for ever. So every handler the
 * program installs through sigaction(), signal() and the other libc calls is called through
 * trampoline(): when the thread's guard is held, it blocks the signal in the interrupted
 * context, queues it again to the thread (same siginfo) and returns; ps_guard_drop()
 * unblocks it when the guard drops to 0 (internal.h), and the kernel delivers it then, to a
 * thread that is out of the shim. Otherwise the trampoline tail-calls the handler with the
 * kernel's arguments. The program sees its own handler and flags in sigaction()'s old
 * action. docs/design.md "Signals" has the details and the limits.
 *
 * The mark signal (PERFSHIM_MARK_SIGNAL, SIGUSR2 by default): `kill -USR2 PID` sets a mark
 * named signal-N (N = 1, 2, ...); the runner's --mark-every sends it with sigqueue and a
 * value in ms, which names the mark t10s, t500ms, ... The program must not notice: the
 * handler is installed only when the signal has its default action, sigaction() and
 * signal() report that default action while ours is in place, and a program that installs
 * a handler of its own simply replaces ours (its handler is then the one that runs).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "preload/internal.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef void (*info_handler_fn)(int, siginfo_t *, void *);

static sigaction_fn real_sigaction;
static unsigned nmarks;

/*
 * What the program installed, per signal, while the kernel holds trampoline() for it: the
 * handler and the two flags the trampoline carries out itself (SA_SIGINFO: how to call it;
 * SA_RESETHAND: the kernel's one-shot reset would also drop a signal being held back).
 * Written under actions_lock with the writer's signals blocked, read lock-free by the
 * trampoline through a sequence count (odd while being written).
 */
struct user_action {
	void *handler;			/* SIG_DFL, SIG_IGN or the program's function */
	int flags;			/* its SA_SIGINFO | SA_RESETHAND */
	int ours;			/* the mark handler: shown to the program as SIG_DFL */
};

#define USER_FLAGS (SA_SIGINFO | SA_RESETHAND)

static struct user_action actions[NSIG];
static unsigned action_seq[NSIG];
static int actions_lock;
static sigset_t intr_set;		/* siginterrupt(sig, 1): signal() without SA_RESTART */

static void resolve(void)
{
	if (!__atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE))
		__atomic_store_n(&real_sigaction, (sigaction_fn)ps_dlsym_next("sigaction"),
				 __ATOMIC_RELEASE);
}

/* Take actions_lock with every signal blocked (a handler on this thread may call sigaction). */
static void lock_actions(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, old);
	while (__atomic_exchange_n(&actions_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void unlock_actions(const sigset_t *old)
{
	__atomic_store_n(&actions_lock, 0, __ATOMIC_RELEASE);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Caller holds actions_lock. */
static void set_action(int sig, void *handler, int flags, int ours)
{
	__atomic_add_fetch(&action_seq[sig], 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&actions[sig].handler, handler, __ATOMIC_RELAXED);
	__atomic_store_n(&actions[sig].flags, flags & USER_FLAGS, __ATOMIC_RELAXED);
	__atomic_store_n(&actions[sig].ours, ours, __ATOMIC_RELAXED);
	__atomic_add_fetch(&action_seq[sig], 1, __ATOMIC_ACQ_REL);
}

/* A consistent copy of actions[sig]; the writer is never interrupted, so this ends. */
static inline struct user_action get_action(int sig)
{
	struct user_action a;
	unsigned s;

	for (;;) {
		s = __atomic_load_n(&action_seq[sig], __ATOMIC_ACQUIRE);
		a.handler = __atomic_load_n(&actions[sig].handler, __ATOMIC_RELAXED);
		a.flags = __atomic_load_n(&actions[sig].flags, __ATOMIC_RELAXED);
		a.ours = __atomic_load_n(&actions[sig].ours, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(s & 1) && __atomic_load_n(&action_seq[sig], __ATOMIC_RELAXED) == s)
			return a;
	}
}

static inline uint64_t sig_bit(int sig)
{
	return 1ULL << (sig - 1);
}

/* Faults the kernel raises at the faulting instruction: they cannot wait (they would recur). */
static int synchronous(int sig, const siginfo_t *si)
{
	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		sig == SIGTRAP || sig == SIGSYS) &&
	       si && si->si_code > 0;
}

/*
 * Hold @sig back: blocked in the context the trampoline returns to (and now, for a handler
 * with SA_NODEFER), and queued again to this thread with the same siginfo; ps_guard_drop()
 * unblocks it. Return: 1, or 0 when it cannot be queued again (queue limit): then the
 * handler runs now, as it would without the trampoline.
 */
static int hold(struct ps_thread *t, int sig, siginfo_t *si, void *uc)
{
	uint64_t bit = sig_bit(sig), old;
	int saved = errno, ok;

	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &bit, &old, sizeof(bit)) != 0) {
		errno = saved;
		return 0;
	}
	ok = syscall(SYS_rt_tgsigqueueinfo, (long)getpid(), (long)syscall(SYS_gettid), sig,
		     si) == 0;
	if (ok) {
		__atomic_fetch_or(&t->sig_held, bit, __ATOMIC_RELAXED);
		sigaddset(&((ucontext_t *)uc)->uc_sigmask, sig);
	} else {
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
	}
	errno = saved;
	return ok;
}

/*
 * ps_signals_release - the calling thread's guard dropped to 0 with signals held back: let
 * them in. They are delivered as this system call returns, to their handlers, outside the
 * shim (a handler may siglongjmp from here: the shim's state is whole).
 */
PS_NOINLINE void ps_signals_release(struct ps_thread *t)
{
	uint64_t set = __atomic_exchange_n(&t->sig_held, 0, __ATOMIC_RELAXED);
	int saved = errno;

	if (set)
		syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, sizeof(set));
	errno = saved;
}

/* SA_RESETHAND, or a disposition that became SIG_DFL: the kernel's default from now on. */
static void to_default(int sig)
{
	struct sigaction dfl;
	sigset_t old;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	lock_actions(&old);
	real_sigaction(sig, &dfl, NULL);
	set_action(sig, SIG_DFL, 0, 0);
	unlock_actions(&old);
}

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	struct ps_thread *t = &ps_self;
	struct user_action a;

	if (unlikely(t->guard) && !synchronous(sig, si) && hold(t, sig, si, uc))
		return;
	a = get_action(sig);
	if (unlikely(a.handler == SIG_DFL || a.handler == SIG_IGN)) {
		/* changed while this one was on its way: do what the new disposition says */
		if (a.handler == SIG_DFL) {
			int saved = errno;

			to_default(sig);
			syscall(SYS_rt_tgsigqueueinfo, (long)getpid(), (long)syscall(SYS_gettid),
				sig, si);
			errno = saved;
		}
		return;
	}
	if (a.flags & SA_RESETHAND) {
		int saved = errno;

		to_default(sig);
		errno = saved;
	}
	/* tail calls: the handler's frame replaces this one, as if the kernel had called it */
	if (a.flags & SA_SIGINFO)
		((info_handler_fn)a.handler)(sig, si, uc);
	else
		((sighandler_t)a.handler)(sig);
}

static int is_function(const void *h)
{
	return h != (void *)SIG_DFL && h != (void *)SIG_IGN && h != (void *)SIG_ERR;
}

/* The action the program sees for the mark handler: the default one. */
static void default_view(struct sigaction *old)
{
	memset(old, 0, sizeof(*old));
	old->sa_handler = SIG_DFL;
	sigemptyset(&old->sa_mask);
}

/*
 * sigaction as the program asked, with trampoline() in the kernel in place of a handler.
 * @ours: the mark handler. The old action is the program's view: its handler and flags.
 */
static int do_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int ours)
{
	struct sigaction want, k, kold;
	struct user_action prev;
	sigset_t mask;
	int r;

	resolve();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (sig < 1 || sig >= NSIG)
		return real_sigaction(sig, act, old);
	if (act)
		want = *act;		/* @act and @old may be the same */
	lock_actions(&mask);
	prev = actions[sig];
	if (act && is_function((void *)want.sa_handler)) {
		set_action(sig, (void *)want.sa_handler, want.sa_flags, ours);
		k = want;
		k.sa_sigaction = trampoline;
		k.sa_flags = (want.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
		r = real_sigaction(sig, &k, &kold);
		if (r != 0)
			set_action(sig, prev.handler, prev.flags, prev.ours);
	} else {
		r = real_sigaction(sig, act ? &want : NULL, &kold);
		if (r == 0 && act)
			set_action(sig, (void *)want.sa_handler, 0, 0);
	}
	unlock_actions(&mask);
	if (r == 0 && old) {
		*old = kold;
		if (kold.sa_sigaction == trampoline) {
			if (prev.ours) {
				default_view(old);
			} else {
				old->sa_sigaction = (info_handler_fn)prev.handler;
				old->sa_flags = (kold.sa_flags & ~USER_FLAGS) | prev.flags;
			}
		}
	}
	return r;
}

static void mark_handler(int sig, siginfo_t *si, void *uc);

/* Decimal digits of @v at @p (async-signal-safe). Return: the end. */
static char *put_uint(char *p, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void mark_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	char label[48], *p = label;

	if (si && si->si_code == SI_QUEUE && si->si_value.sival_int > 0) {
		unsigned long ms = (unsigned)si->si_value.sival_int;

		*p++ = 't';
		if (ms % 1000 == 0) {
			p = put_uint(p, ms / 1000);
			*p++ = 's';
		} else {
			p = put_uint(p, ms);
			*p++ = 'm';
			*p++ = 's';
		}
	} else {
		memcpy(p, "signal-", 7);
		p = put_uint(p + 7, __atomic_add_fetch(&nmarks, 1, __ATOMIC_RELAXED));
	}
	*p = '\0';
	/* the trampoline runs this outside the shim; the guard keeps another handler out of
	 * the write (output.c's reopen lock) */
	ps_guard_take(&ps_self, PS_GUARD_INTERNAL);
	if (ps_recording)
		ps_emit_signal_mark(label);
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
	errno = saved;
}

/* ps_signals_init - install the mark handler if the signal has its default action. */
void ps_signals_init(void)
{
	struct sigaction sa, old;

	resolve();
	if (!ps_cfg.mark_signal || !real_sigaction)
		return;
	if (do_sigaction(ps_cfg.mark_signal, NULL, &old, 0) || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mark_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	do_sigaction(ps_cfg.mark_signal, &sa, NULL, 1);
}

/* sigaction - as glibc's, through the trampoline; the mark handler looks like SIG_DFL. */
PS_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return do_sigaction(sig, act, old, 0);
}

int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* __sigaction - glibc's other name for it. */
PS_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return do_sigaction(sig, act, old, 0);
}

/*
 * signal(), bsd_signal() and ssignal() are glibc's BSD signal(), and sysv_signal() its
 * one-shot form, done here with their exact flags so that the handler is installed through
 * the trampoline in one step (calling glibc's would install it bare first). siginterrupt()
 * is followed to know which signals signal() installs without SA_RESTART.
 */
static sighandler_t install(int sig, sighandler_t handler, int flags, int self_mask)
{
	struct sigaction sa, old;

	if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (self_mask)
		sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = flags;
	if (do_sigaction(sig, &sa, &old, 0) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

static sighandler_t bsd_signal_common(int sig, sighandler_t handler)
{
	int restart = sig >= 1 && sig < NSIG && !sigismember(&intr_set, sig);

	return install(sig, handler, restart ? SA_RESTART : 0, 1);
}

PS_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	return bsd_signal_common(sig, handler);
}

sighandler_t bsd_signal(int sig, sighandler_t handler);
sighandler_t ssignal(int sig, sighandler_t handler);
sighandler_t sysv_signal(int sig, sighandler_t handler);
sighandler_t __sysv_signal(int sig, sighandler_t handler);

PS_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return bsd_signal_common(sig, handler);
}

PS_EXPORT sighandler_t ssignal(int sig, sighandler_t handler)
{
	return bsd_signal_common(sig, handler);
}

PS_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	return install(sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

PS_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	return install(sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

/* sigset - System V: SIG_HOLD blocks the signal; anything else installs it and unblocks it. */
PS_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
	struct sigaction sa, old;
	sigset_t set, oset;

	if (disp == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (disp == SIG_HOLD) {
		if (sigprocmask(SIG_BLOCK, &set, &oset) < 0)
			return SIG_ERR;
		if (sigismember(&oset, sig))
			return SIG_HOLD;
		if (do_sigaction(sig, NULL, &old, 0) < 0)
			return SIG_ERR;
		return old.sa_handler;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = disp;
	sigemptyset(&sa.sa_mask);
	if (do_sigaction(sig, &sa, &old, 0) < 0)
		return SIG_ERR;
	if (sigprocmask(SIG_UNBLOCK, &set, &oset) < 0)
		return SIG_ERR;
	return sigismember(&oset, sig) ? SIG_HOLD : old.sa_handler;
}

/* siginterrupt - as glibc's (on the kernel's action), noting the choice for signal(). */
PS_EXPORT int siginterrupt(int sig, int flag)
{
	struct sigaction sa;
	sigset_t mask;

	if (sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	resolve();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	lock_actions(&mask);
	if (flag)
		sigaddset(&intr_set, sig);
	else
		sigdelset(&intr_set, sig);
	unlock_actions(&mask);
	if (real_sigaction(sig, NULL, &sa) < 0)
		return -1;
	if (flag)
		sa.sa_flags &= ~SA_RESTART;
	else
		sa.sa_flags |= SA_RESTART;
	return real_sigaction(sig, &sa, NULL);
}
