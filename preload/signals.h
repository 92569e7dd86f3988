/* SPDX-License-Identifier: MIT */
/*
 * Between signals.c (the program's actions, the trampoline, the sigaction family) and
 * signals-held.c (signals held back inside the shim and delivered when it is left). Private
 * to those two files; docs/design.md "Signals".
 */
#ifndef PERFSHIM_PRELOAD_SIGNALS_H
#define PERFSHIM_PRELOAD_SIGNALS_H

#include <signal.h>
#include <stdint.h>

#include "preload/thread.h"

/*
 * What the program installed for a signal while the kernel holds the trampoline for it:
 * one word, so that whoever reads it (the trampoline, at any moment, on any thread, in a
 * child forked while another thread was writing) never gets half of one. The handler's
 * address (user space, below 2^57) and three flags in the top bits.
 */
#define PS_ACT_SIGINFO (1ULL << 63)	/* installed with SA_SIGINFO (for the old action) */
#define PS_ACT_RESETHAND (1ULL << 62)	/* SA_RESETHAND: done when the handler is called */
#define PS_ACT_OURS (1ULL << 61)	/* the mark handler: shown to the program as SIG_DFL */
#define PS_ACT_FLAGS (PS_ACT_SIGINFO | PS_ACT_RESETHAND | PS_ACT_OURS)

/* One signal of the calling thread's: its bit in a kernel sigset (signals 1..64). */
static inline uint64_t ps_sig_bit(int sig)
{
	return 1ULL << (sig - 1);
}

/* signals.c */
uint64_t ps_sig_word(int sig, unsigned *gen);	/* the table's word, and its generation */
int ps_sig_query(int sig, struct sigaction *k);	/* the kernel's action, as glibc gives it */
void ps_sig_call(int sig, siginfo_t *si, void *uc, uint64_t w, unsigned gen);

/* signals-held.c: 1 when the signal is held back (the trampoline returns), 0 to run it now */
int ps_sig_hold(struct ps_thread *t, int sig, siginfo_t *si, void *uc);

#endif /* PERFSHIM_PRELOAD_SIGNALS_H */
