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
 * unblocks it when the guard drops to 0 (thread.h), and the kernel delivers it then, to a
 * thread that is out of the shim. Otherwise the trampoline tail-calls the handler with the
 * kernel's arguments. The program sees its own handler, flags and mask in sigaction()'s old
 * action, SA_RESETHAND's reset included. docs/design.md "Signals" says what this keeps
 * exactly and what it cannot.
 *
 * The mark signal (PERFSHIM_MARK_SIGNAL, SIGUSR2 by default): `kill -USR2 PID` sets a mark
 * named signal-N (N = 1, 2, ...); the runner's --mark-every sends it with sigqueue and a
 * value in ms, which names the mark t10s, t500ms, ... The program must not notice: the
 * handler is installed only when the signal has its default action, sigaction() and
 * signal() report that default action while ours is in place, a program that installs a
 * handler of its own simply replaces ours, and the signal the program sends itself (or a
 * timer sends it) gets the default action.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "preload/interpose.h"
#include "preload/process.h"
#include "preload/records.h"
#include "preload/signals.h"

typedef void (*info_handler_fn)(int, siginfo_t *, void *);

/* the next sigaction (interpose.c, LAZY): resolved at the first call, from any thread */
#define real_sigaction ps_real_sigaction
static unsigned nmarks;

/*
 * The program's actions while the kernel holds trampoline() for them (signals.h has the
 * word). SIG_DFL and SIG_IGN go to the kernel only: the word keeps the last handler, which
 * a delivery already under way when they came still runs (as the kernel would have run it).
 * Written under actions_owner with the writer's signals blocked, so a handler can call
 * sigaction too.
 */
static uint64_t actions[NSIG];
/* +2 per change the wrappers make to a signal's action (odd while being made): a one-shot
 * reset checks that nothing was installed since its delivery began */
static unsigned action_gen[NSIG];
/* the writer: pid << 32 | tid, 0 = nobody (a lock, taken with every signal blocked) */
static uint64_t actions_owner;
/* the process that owns actions[]: another pid is a vfork child, which shares this memory
 * but has kernel actions of its own (or a child made without fork()'s handlers) */
static pid_t actions_pid;
static sigset_t intr_set;		/* siginterrupt(sig, 1): signal() without SA_RESTART */

static void trampoline(int sig, siginfo_t *si, void *uc);

static void resolve(void)
{
	(void)ps_real(sigaction);	/* errno kept */
}

/*
 * Whether this process owns actions[] (the first caller's process does; a fork child takes
 * them over in atfork_child). Not a vfork child: what it installs is its own, in its kernel
 * actions only, and written into the parent's table it would run the child's choice in the
 * parent (a child's signal(SIGINT, SIG_DFL) before exec killed the parent at its next
 * SIGINT). Nor a child of _Fork() or the raw system call. Those install as given, as libc
 * would, and read the table only.
 */
static pid_t own_table(void)
{
	pid_t pid = getpid(), owner = __atomic_load_n(&actions_pid, __ATOMIC_ACQUIRE);

	if (!owner && __atomic_compare_exchange_n(&actions_pid, &owner, pid, 0, __ATOMIC_ACQ_REL,
						  __ATOMIC_ACQUIRE))
		return pid;
	return owner == pid ? pid : 0;
}

/* The calling thread's id, kept (atfork_child forgets it: the child's thread is new). */
static __thread pid_t self_tid PS_TLS;

static uint64_t self_id(pid_t pid)
{
	if (!self_tid)
		self_tid = syscall(SYS_gettid);
	return (uint64_t)pid << 32 | (uint32_t)self_tid;
}

/* A writer that stopped half-way exists only in a parent (fork): its entries are whole. */
static void settle_gens(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (action_gen[sig] & 1)
			action_gen[sig]++;
}

/*
 * Take the writer's lock with every signal blocked (a handler on this thread may call
 * sigaction); @pid is own_table()'s. Held by a thread of another process, it was taken in
 * the parent before a fork and nobody here will let it go: take it over.
 */
static void lock_actions(sigset_t *old, pid_t pid)
{
	uint64_t me, cur;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, old);
	me = self_id(pid);
	for (;;) {
		cur = 0;
		if (__atomic_compare_exchange_n(&actions_owner, &cur, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (cur >> 32 != me >> 32 &&
		    __atomic_compare_exchange_n(&actions_owner, &cur, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			settle_gens();
			return;
		}
		sched_yield();
	}
}

static void unlock_actions(const sigset_t *old)
{
	__atomic_store_n(&actions_owner, 0, __ATOMIC_RELEASE);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* fork's child: its memory is its own now, and the parent's writer is not in it. */
static void atfork_child(void)
{
	self_tid = 0;
	__atomic_store_n(&actions_pid, getpid(), __ATOMIC_RELEASE);
	__atomic_store_n(&actions_owner, 0, __ATOMIC_RELEASE);
	settle_gens();
}

__attribute__((constructor)) static void signals_ctor(void)
{
	int saved = errno;

	own_table();		/* before any vfork: this process owns the table */
	pthread_atfork(NULL, NULL, atfork_child);
	errno = saved;
}

/* Caller holds the lock. */
static void set_action(int sig, uint64_t w)
{
	__atomic_add_fetch(&action_gen[sig], 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&actions[sig], w, __ATOMIC_RELEASE);
	__atomic_add_fetch(&action_gen[sig], 1, __ATOMIC_ACQ_REL);
}

/* Caller holds the lock: the kernel's action changed without the table. */
static void bump_action(int sig)
{
	__atomic_add_fetch(&action_gen[sig], 2, __ATOMIC_ACQ_REL);
}

static int is_function(const void *h)
{
	return h != (void *)SIG_DFL && h != (void *)SIG_IGN && h != (void *)SIG_ERR;
}

/*
 * The table word for @act, or 0 when it is installed as given: SIG_DFL, SIG_IGN, the
 * trampoline itself (copied from a raw query), an address the word cannot hold.
 */
static uint64_t pack(const struct sigaction *act, int ours)
{
	uintptr_t h = (uintptr_t)act->sa_handler;

	if (!is_function((void *)h) || h == (uintptr_t)trampoline || (h & PS_ACT_FLAGS))
		return 0;
	return h | (act->sa_flags & SA_SIGINFO ? PS_ACT_SIGINFO : 0) |
	       (act->sa_flags & SA_RESETHAND ? PS_ACT_RESETHAND : 0) | (ours ? PS_ACT_OURS : 0);
}

/* The flags the program gave, from the trampoline's in the kernel and the table word. */
static int user_flags(int kflags, uint64_t w)
{
	return (kflags & ~(SA_SIGINFO | SA_RESETHAND)) | (w & PS_ACT_SIGINFO ? SA_SIGINFO : 0) |
	       (w & PS_ACT_RESETHAND ? SA_RESETHAND : 0);
}

/*
 * SA_RESETHAND, done when the handler is called rather than by the kernel (whose reset, at
 * a delivery that is held back, would give the held signal to SIG_DFL): the action becomes
 * SIG_DFL with the program's flags and mask kept, as the kernel leaves them, unless the
 * program installed another action since the signal came (@gen, read before @w) or this is
 * a vfork child (its own kernel action only).
 */
static void one_shot(int sig, unsigned gen, uint64_t w)
{
	struct sigaction k;
	sigset_t mask;
	int saved = errno;
	pid_t own = own_table();

	if (own)
		lock_actions(&mask, own);
	if ((!own || (!(gen & 1) && __atomic_load_n(&action_gen[sig], __ATOMIC_ACQUIRE) == gen)) &&
	    real_sigaction(sig, NULL, &k) == 0 && k.sa_sigaction == trampoline) {
		k.sa_handler = SIG_DFL;
		k.sa_flags = user_flags(k.sa_flags, w);
		if (real_sigaction(sig, &k, NULL) == 0 && own)
			bump_action(sig);
	}
	if (own)
		unlock_actions(&mask);
	errno = saved;
}

/* ps_sig_word - the table's word for @sig; *@gen gets its generation, read before it. */
uint64_t ps_sig_word(int sig, unsigned *gen)
{
	*gen = __atomic_load_n(&action_gen[sig], __ATOMIC_ACQUIRE);
	return __atomic_load_n(&actions[sig], __ATOMIC_ACQUIRE);
}

/* ps_sig_query - the kernel's action for @sig (trampoline and all). Return: sigaction's. */
int ps_sig_query(int sig, struct sigaction *k)
{
	return real_sigaction(sig, NULL, k);
}

/*
 * Run the handler of table word @w (generation @gen) for @sig, SA_RESETHAND's reset first.
 * All three arguments whatever the flags: a handler installed without SA_SIGINFO gets them
 * from the kernel too, and old code reads the context through the third.
 */
static inline void call_handler(int sig, siginfo_t *si, void *uc, uint64_t w, unsigned gen)
{
	if (unlikely(!(w & ~PS_ACT_FLAGS)))
		return;		/* no handler known (the trampoline copied by a raw query) */
	if (unlikely(w & PS_ACT_RESETHAND))
		one_shot(sig, gen, w);
	((info_handler_fn)(uintptr_t)(w & ~PS_ACT_FLAGS))(sig, si, uc);
}

/* ps_sig_call - call_handler() for signals-held.c. */
int ps_handler_ran;

/* A handler of the program is about to run: ps_handler_ran, stored once. */
static inline void handler_runs(void)
{
	if (unlikely(!__atomic_load_n(&ps_handler_ran, __ATOMIC_RELAXED)))
		__atomic_store_n(&ps_handler_ran, 1, __ATOMIC_RELAXED);
}

void ps_sig_call(int sig, siginfo_t *si, void *uc, uint64_t w, unsigned gen)
{
	handler_runs();
	call_handler(sig, si, uc, w, gen);
}

/* Faults the kernel raises at the faulting instruction: they cannot wait (they would recur). */
static int synchronous(int sig, const siginfo_t *si)
{
	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		sig == SIGTRAP || sig == SIGSYS) &&
	       si && si->si_code > 0;
}

/*
 * What the kernel calls for every handler installed through libc. Inside the shim (guard
 * held) the signal is held back (signals-held.c), unless it is a fault of the instruction
 * being run; otherwise the program's handler is tail-called with the kernel's three
 * arguments, so that its frame sits on the signal frame as without the shim (backtrace()
 * from it sees the same frames), and the context it reads or changes is the interrupted
 * code's.
 */
static void trampoline(int sig, siginfo_t *si, void *uc)
{
	struct ps_thread *t = &ps_self;
	unsigned gen;
	uint64_t w;

	if (unlikely(t->guard) && !synchronous(sig, si) && ps_sig_hold(t, sig, si, uc))
		return;
	w = ps_sig_word(sig, &gen);
	handler_runs();
	call_handler(sig, si, uc, w, gen);	/* a tail call */
}

/* The action the program sees for the mark handler: the default one. */
static void default_view(struct sigaction *old)
{
	memset(old, 0, sizeof(*old));
	old->sa_handler = SIG_DFL;
	sigemptyset(&old->sa_mask);
}

/* The kernel's old action @old as the program sees it: its handler and flags (table @w). */
static void program_view(struct sigaction *old, uint64_t w)
{
	if (old->sa_sigaction != trampoline || !(w & ~PS_ACT_FLAGS))
		return;
	if (w & PS_ACT_OURS) {
		default_view(old);
		return;
	}
	old->sa_sigaction = (info_handler_fn)(uintptr_t)(w & ~PS_ACT_FLAGS);
	old->sa_flags = user_flags(old->sa_flags, w);
}

/*
 * sigaction as the program asked, with trampoline() in the kernel in place of a handler.
 * @ours: the mark handler. The old action is the program's view: its handler and flags.
 */
static int do_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int ours)
{
	struct sigaction want, k, kold;
	uint64_t prev, w = 0;
	sigset_t mask;
	pid_t own;
	int r;

	resolve();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (sig < 1 || sig >= NSIG)
		return real_sigaction(sig, act, old);
	if (act) {
		want = *act;		/* @act and @old may be the same */
		w = pack(&want, ours);
	}
	if (!(own = own_table())) {
		r = real_sigaction(sig, act ? &want : NULL, &kold);
		prev = __atomic_load_n(&actions[sig], __ATOMIC_ACQUIRE);
	} else {
		lock_actions(&mask, own);
		prev = actions[sig];
		if (w) {
			set_action(sig, w);
			k = want;
			k.sa_sigaction = trampoline;
			k.sa_flags = (want.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
			r = real_sigaction(sig, &k, &kold);
			if (r != 0)
				set_action(sig, prev);
		} else {
			r = real_sigaction(sig, act ? &want : NULL, &kold);
			if (r == 0 && act)
				bump_action(sig);
		}
		unlock_actions(&mask);
	}
	if (r == 0 && old) {
		*old = kold;
		program_view(old, prev);
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

/*
 * The mark signal that was not sent from outside: the program's own kill(), raise(),
 * sigqueue() or pthread_kill(), a timer, SIGIO. Without the shim the signal has its default
 * action, so it gets that: SIG_DFL in the kernel, the same siginfo queued again and let in
 * now, which ends the process (or is ignored, or stops it until SIGCONT, as the signal's
 * default says); then the mark handler comes back if the program installed nothing since.
 */
static void mark_default(int sig, siginfo_t *si)
{
	struct sigaction dfl;
	sigset_t set, old;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (do_sigaction(sig, &dfl, NULL, 0) != 0)
		return;
	if (syscall(SYS_rt_tgsigqueueinfo, (long)getpid(), (long)syscall(SYS_gettid), sig,
		    si) == 0) {
		sigemptyset(&set);
		sigaddset(&set, sig);
		pthread_sigmask(SIG_UNBLOCK, &set, &old);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	ps_signals_init();
}

/* A mark is asked for from outside: kill or sigqueue by another process (the runner). */
static int from_outside(const siginfo_t *si)
{
	return si && (si->si_code == SI_USER || si->si_code == SI_QUEUE ||
		      si->si_code == SI_TKILL) && si->si_pid != getpid();
}

static void mark_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	char label[48], *p = label;

	if (!from_outside(si)) {
		mark_default(sig, si);
		errno = saved;
		return;
	}
	if (si->si_code == SI_QUEUE && si->si_value.sival_int > 0) {
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
	 * the write (tracefile.c's reopen lock) */
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

/*
 * siginterrupt - as glibc's: SA_RESTART taken from or given to the kernel's action (the
 * trampoline's flags are the program's), the choice noted for signal(). Under the lock, so
 * that it cannot undo half of a concurrent sigaction.
 */
PS_EXPORT int siginterrupt(int sig, int flag)
{
	struct sigaction sa;
	sigset_t mask;
	pid_t own;
	int r;

	if (sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	resolve();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	own = own_table();
	if (own)
		lock_actions(&mask, own);
	r = real_sigaction(sig, NULL, &sa);
	if (r == 0) {
		/* glibc's set is in memory a vfork child shares too: so is this one */
		if (flag) {
			sigaddset(&intr_set, sig);
			sa.sa_flags &= ~SA_RESTART;
		} else {
			sigdelset(&intr_set, sig);
			sa.sa_flags |= SA_RESTART;
		}
		r = real_sigaction(sig, &sa, NULL);
		if (r == 0 && own)
			bump_action(sig);
	}
	if (own)
		unlock_actions(&mask);
	return r;
}
