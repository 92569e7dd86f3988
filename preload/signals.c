/* SPDX-License-Identifier: MIT */
/*
 * The mark signal (PERFSHIM_MARK_SIGNAL, SIGUSR2 by default): `kill -USR2 PID` sets a mark
 * named signal-N (N = 1, 2, ...); the runner's --mark-every sends it with sigqueue and a
 * value in ms, which names the mark t10s, t500ms, ... The program must not notice: the
 * handler is installed only when the signal has its default action, sigaction() and
 * signal() report that default action while ours is in place, and a program that installs
 * a handler of its own simply replaces ours (its handler is then the one that runs).
 */
#include <dlfcn.h>
#include <signal.h>
#include <string.h>

#include "preload/internal.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*signal_fn)(int, sighandler_t);

static sigaction_fn real_sigaction;
static signal_fn real_signal;
static int installed;			/* our handler is the signal's disposition */
static unsigned nmarks;

static void resolve(void)
{
	if (!real_sigaction)
		real_sigaction = (sigaction_fn)ps_dlsym_next("sigaction");
	if (!real_signal)
		real_signal = (signal_fn)ps_dlsym_next("signal");
}

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
	if (ps_recording)
		ps_emit_signal_mark(label);
	errno = saved;
}

/* ps_signals_init - install the mark handler if the signal has its default action. */
void ps_signals_init(void)
{
	struct sigaction sa, old;

	resolve();
	if (!ps_cfg.mark_signal || !real_sigaction)
		return;
	if (real_sigaction(ps_cfg.mark_signal, NULL, &old) || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mark_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (real_sigaction(ps_cfg.mark_signal, &sa, NULL) == 0)
		installed = 1;
}

static void default_action(struct sigaction *old)
{
	memset(old, 0, sizeof(*old));
	old->sa_handler = SIG_DFL;
	sigemptyset(&old->sa_mask);
}

/* sigaction - as glibc's, except that our mark handler looks like the default action. */
PS_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int r;

	resolve();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (sig != ps_cfg.mark_signal || !__atomic_load_n(&installed, __ATOMIC_RELAXED))
		return real_sigaction(sig, act, old);
	r = act ? real_sigaction(sig, act, NULL) : 0;
	if (r == 0) {
		if (act)
			__atomic_store_n(&installed, 0, __ATOMIC_RELAXED);
		if (old)
			default_action(old);
	}
	return r;
}

/* signal - as glibc's, with the same disguise. */
PS_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	sighandler_t r;

	resolve();
	if (!real_signal) {
		errno = ENOSYS;
		return SIG_ERR;
	}
	if (sig != ps_cfg.mark_signal || !__atomic_load_n(&installed, __ATOMIC_RELAXED))
		return real_signal(sig, handler);
	r = real_signal(sig, handler);
	if (r == SIG_ERR)
		return r;
	__atomic_store_n(&installed, 0, __ATOMIC_RELAXED);
	return SIG_DFL;
}
