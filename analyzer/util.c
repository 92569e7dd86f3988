/* SPDX-License-Identifier: MIT */
/*
 * Helpers of perfshim-analyze: logging (pr_warn/pr_err on stderr, prefixed with the program
 * name) and allocation that dies on OOM. Only main.c and pr_err may exit.
 */
#define PR_FMT "util"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/analyze.h"

int debug_level;
const char *progname = "perfshim-analyze";

/* __pr_log - one line "perfshim-analyze: PREFIXmessage" on stderr. */
void __pr_log(const char *prefix, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fflush(stdout);
	fprintf(stderr, "%s: %s", progname, prefix);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
	errno = saved;
}

/* __pr_err - one line "perfshim-analyze: error: message" and exit(1) (bad input). */
void __pr_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: error: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn)) oom(size_t n)
{
	pr_err("out of memory (%zu bytes)", n);
}

/* xmalloc - malloc that dies on failure; xmalloc(0) returns a unique pointer. */
void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		oom(n * m);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		oom(strlen(s));
	return p;
}
