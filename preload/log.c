/* SPDX-License-Identifier: MIT */
/*
 * Messages of the preload library: formatted into a stack buffer and written with one
 * write(2) to stderr. No stdio (the program may hold its lock), no malloc, errno kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "preload/common.h"

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

/* ps_warn - one line a program may see from the shim; nothing with PERFSHIM_QUIET=1. */
void ps_warn(const char *fmt, ...)
{
	va_list ap;

	if (ps_cfg.quiet)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/*
 * ps_warn_once - ps_warn, once per problem in the process: a problem is a message (its format
 * string), so a failure that repeats (every chunk of a full disk) is told once, and one
 * problem never hides another. Lock-free (a handler or another thread may warn meanwhile):
 * a format is claimed in a small table with a compare-and-swap; past the table's end every
 * message is printed, more lines rather than a hidden one.
 */
#define WARN_SLOTS 32

void ps_warn_once(const char *fmt, ...)
{
	static const char *warned[WARN_SLOTS];
	va_list ap;
	int i;

	if (ps_cfg.quiet)
		return;
	for (i = 0; i < WARN_SLOTS; i++) {
		const char *seen = __atomic_load_n(&warned[i], __ATOMIC_ACQUIRE);

		if (seen == fmt)
			return;
		if (!seen && __atomic_compare_exchange_n(&warned[i], &seen, fmt, 0,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
		if (seen == fmt)
			return;		/* another thread claimed it first */
	}
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
