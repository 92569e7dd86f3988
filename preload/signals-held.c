/* SPDX-License-Identifier: MIT */
/*
 * Signals held back while their thread is inside the shim, and delivered as it leaves.
 * signals.c's trampoline calls ps_sig_hold() for a signal that comes with the thread's
 * guard held: the signal is kept here (its siginfo, and the action it came to) and blocked;
 * when the guard drops to 0, ps_signals_release() runs each kept signal's handler, first
 * come first served, as the kernel would have run it (mask, alternate stack, siginfo,
 * context), and then lets in what came meanwhile. docs/design.md "Signals".
 *
 * Why not queue them to the kernel again: its queue appends, so a real-time signal queued
 * again goes behind the instances of the same signal that came after it (a burst from
 * another thread came out of order), and a standard one merges with the next one.
 */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "preload/signals.h"

#define HELD_MAX 8		/* signals kept per thread: one per signal is ever needed */
#define INFO_BYTES 48		/* the kernel's siginfo: signo, errno, code and the union */

_Static_assert(offsetof(siginfo_t, si_stime) + 8 <= INFO_BYTES &&
		       offsetof(siginfo_t, si_upper) + 8 <= INFO_BYTES,
	       "siginfo fields beyond INFO_BYTES");

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)	/* linux/signal.h: disarmed while a handler runs on it */
#endif

struct held_sig {
	unsigned char info[INFO_BYTES];
	uint64_t word;		/* the table's word when it came: the kernel's choice */
	uint64_t mask;		/* that action's sa_mask (signals 1..64) */
	unsigned gen;		/* the table's generation then (SA_RESETHAND) */
	int flags;		/* that action's flags (SA_NODEFER, SA_ONSTACK) */
	int sig;
};

/*
 * The calling thread's kept signals, first in first out. Appended with every signal
 * blocked; taken by moving head past an entry once it is copied (a handler run meanwhile
 * may take the next ones itself).
 */
struct held_queue {
	unsigned head, tail;
	pid_t pid;		/* whose: a fork child inherits the copy, not the signals */
	struct held_sig e[HELD_MAX];
};

static __thread struct held_queue held PS_TLS;

/* It returns again when a handler setcontext()s to what it saved (glibc does not say so). */
extern int getcontext(ucontext_t *uc) __attribute__((returns_twice));

/* Keep @si (every signal blocked). Return: 1, or 0 when full or the action cannot be read. */
static int keep(int sig, const siginfo_t *si)
{
	struct held_queue *q = &held;
	pid_t pid = getpid();
	struct held_sig *e;
	struct sigaction k;
	unsigned tail;

	if (q->pid != pid) {
		/* a fork child holding a signal before its first release (in the shim's own
		 * atfork handler): the parent's entries go, not this one with them */
		q->head = q->tail;
		q->pid = pid;
	}
	tail = q->tail;
	if (tail - q->head >= HELD_MAX || ps_sig_query(sig, &k) != 0)
		return 0;
	e = &q->e[tail % HELD_MAX];
	memcpy(e->info, si, INFO_BYTES);
	e->sig = sig;
	e->word = ps_sig_word(sig, &e->gen);
	memcpy(&e->mask, &k.sa_mask, sizeof(e->mask));
	e->flags = k.sa_flags;
	ps_signal_fence();
	q->tail = tail + 1;
	return 1;
}

/*
 * ps_sig_hold - hold @sig back: kept (or, when the queue is full, queued again to this
 * thread with the same siginfo), blocked from now on (the trampoline's return restores the
 * interrupted context's mask, which gets it too), its bit in t->sig.held so that
 * ps_guard_drop() calls ps_signals_release(). Return: 1, or 0 when it can be neither kept
 * nor queued: then the handler runs now, as it would without the trampoline.
 */
int ps_sig_hold(struct ps_thread *t, int sig, siginfo_t *si, void *uc)
{
	/* every signal but glibc's own two (a setuid in another thread waits for SIGSETXID) */
	uint64_t bit = ps_sig_bit(sig), all = ~(ps_sig_bit(32) | ps_sig_bit(33)), old;
	int saved = errno, ok;

	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, sizeof(all)) != 0) {
		errno = saved;
		return 0;
	}
	ok = keep(sig, si) ||
	     syscall(SYS_rt_tgsigqueueinfo, (long)getpid(), (long)syscall(SYS_gettid), sig,
		     si) == 0;
	if (ok) {
		__atomic_fetch_or(&t->sig.held, bit, __ATOMIC_RELAXED);
		sigaddset(&((ucontext_t *)uc)->uc_sigmask, sig);
		old |= bit;
	}
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
	errno = saved;
	return ok;
}

static uint64_t thread_mask(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, sizeof(m));
	return m;
}

static void set_mask(uint64_t m)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, sizeof(m));
}

/* What a handler is called with; run by call_on_stack on the alternate stack. */
struct call {
	int sig;
	siginfo_t *si;
	ucontext_t *uc;
	uint64_t word;
	unsigned gen;
};

static void run_call(void *arg)
{
	struct call *c = arg;

	ps_sig_call(c->sig, c->si, c->uc, c->word, c->gen);
}

/* call_on_stack(fn, arg, top): fn(arg) with the stack pointer at @top (16-byte aligned). */
void call_on_stack(void (*fn)(void *), void *arg, void *top);
__asm__(".text\n"
	".type call_on_stack, @function\n"
	"call_on_stack:\n"
	"	.cfi_startproc\n"
	"	push %rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset %rbp, -16\n"
	"	mov %rsp, %rbp\n"
	"	.cfi_def_cfa_register %rbp\n"
	"	and $-16, %rdx\n"
	"	mov %rdx, %rsp\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	call *%rax\n"
	"	mov %rbp, %rsp\n"
	"	pop %rbp\n"
	"	.cfi_def_cfa %rsp, 8\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size call_on_stack, .-call_on_stack\n");

/*
 * Call the handler of @c on the alternate stack when its action asks for it (SA_ONSTACK)
 * and one is set up and not in use, disarmed meanwhile if it says SS_AUTODISARM, as the
 * kernel does; on this stack otherwise.
 */
static void call_where(struct call *c, int flags, const stack_t *ss)
{
	stack_t off = { .ss_flags = SS_DISABLE }, back = *ss;

	if (!(flags & SA_ONSTACK) || (ss->ss_flags & (SS_DISABLE | SS_ONSTACK))) {
		run_call(c);
		return;
	}
	if (ss->ss_flags & SS_AUTODISARM)
		sigaltstack(&off, NULL);
	call_on_stack(run_call, c, (char *)ss->ss_sp + ss->ss_size);
	if (ss->ss_flags & SS_AUTODISARM) {
		back.ss_flags = SS_AUTODISARM;
		sigaltstack(&back, NULL);
	}
}

/*
 * Run the handler of kept signal @e as the kernel would have when it came: its siginfo; a
 * context whose mask is the program's (the handler's changes to it are applied when it
 * returns, as sigreturn does) and whose registers are this function's (a handler that
 * changes them changes nothing; setcontext() to it comes back here); the action's mask and
 * the signal itself blocked meanwhile (not the signal with SA_NODEFER, unless more of it
 * wait: they come after this one); the alternate stack; the default floating-point control
 * words.
 */
static void deliver(struct ps_thread *t, const struct held_sig *e)
{
	unsigned short cw, cw_default = 0x037f;
	unsigned mxcsr, mxcsr_default = 0x1f80;
	volatile int resumed = 0;
	uint64_t back;
	ucontext_t uc;

	getcontext(&uc);
	if (!resumed) {
		uint64_t bit = ps_sig_bit(e->sig), cur = thread_mask(), prog, hmask, pend = 0;
		siginfo_t info;
		struct call c;

		resumed = 1;
		memset(&info, 0, sizeof(info));
		memcpy(&info, e->info, INFO_BYTES);
		/* its bit leaves the held set: the handler's mask has it, its return lets later
		 * ones in */
		prog = cur & ~(__atomic_and_fetch(&t->sig.held, ~bit, __ATOMIC_RELAXED) | bit);
		hmask = cur | e->mask | bit;
		if (e->flags & SA_NODEFER) {
			syscall(SYS_rt_sigpending, &pend, sizeof(pend));
			if (!(pend & bit))
				hmask &= ~bit;
		}
		uc.uc_link = NULL;
		sigemptyset(&uc.uc_sigmask);
		memcpy(&uc.uc_sigmask, &prog, sizeof(prog));
		sigaltstack(NULL, &uc.uc_stack);
		c = (struct call){ .sig = e->sig, .si = &info, .uc = &uc, .word = e->word,
				   .gen = e->gen };
		set_mask(hmask);
		__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(cw));
		__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mxcsr_default), "m"(cw_default));
		call_where(&c, e->flags, &uc.uc_stack);
		__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mxcsr), "m"(cw));
	}
	/* as sigreturn: the context's mask (the handler may have changed it), what is still
	 * held blocked too */
	memcpy(&back, &uc.uc_sigmask, sizeof(back));
	set_mask(back | __atomic_load_n(&t->sig.held, __ATOMIC_RELAXED));
}

/* The kept signals, in the order they came; a fork child drops its parent's. */
static void deliver_kept(struct ps_thread *t)
{
	struct held_queue *q = &held;
	struct held_sig e;
	unsigned h;

	if (q->head == q->tail)
		return;
	if (q->pid != getpid()) {
		q->head = q->tail;
		return;
	}
	while ((h = __atomic_load_n(&q->head, __ATOMIC_RELAXED)) != q->tail) {
		e = q->e[h % HELD_MAX];
		ps_signal_fence();
		if (__atomic_compare_exchange_n(&q->head, &h, h + 1, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			deliver(t, &e);
	}
}

/*
 * ps_signals_release - the calling thread's guard dropped to 0 with signals held back:
 * their handlers run now, outside the shim (one may siglongjmp: the shim's state is whole),
 * each to its end before the next; then the signals are unblocked one at a time, lowest
 * first, and what came meanwhile is delivered by the kernel as each system call returns.
 * (Unblocked together they would be delivered on frames stacked one over the other: the
 * last set up runs first, and a jump out of it drops the frames under it with their
 * handlers never run.) What a jump leaves goes at the next guard drop (longjmp.c makes one
 * before it jumps).
 */
PS_NOINLINE void ps_signals_release(struct ps_thread *t)
{
	uint64_t set, bit;
	int saved = errno;

	deliver_kept(t);
	while ((set = __atomic_load_n(&t->sig.held, __ATOMIC_RELAXED)) != 0) {
		bit = set & -set;
		__atomic_fetch_and(&t->sig.held, ~bit, __ATOMIC_RELAXED);
		syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &bit, NULL, sizeof(bit));
	}
	errno = saved;
}
