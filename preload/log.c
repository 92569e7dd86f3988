/* SPDX-License-Identifier: MIT */
/*
 * Messages of the preload library: formatted into a stack buffer and written with one
 * write(2) to stderr. No stdio (the program may hold its lock), no malloc, errno kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "preload/internal.h"

static void vlog(const char *fmt, va_list ap)
{
	char buf[512];
	int saved = errno;
	int n = 10;

	memcpy(buf, "perfshim: ", 10);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

/* ps_log - one line "perfshim: ..." on stderr, regardless of PERFSHIM_QUIET (debug output). */
void ps_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/*
 * ps_warn_once - the one line a program may see from the shim when recording fails. Only
 * the first call of the process prints (a failure stops recording, so one line tells it
 * all), and nothing is printed with PERFSHIM_QUIET=1.
 */
void ps_warn_once(const char *fmt, ...)
{
	static int warned;
	va_list ap;

	if (ps_cfg.quiet || __atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
