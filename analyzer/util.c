/* SPDX-License-Identifier: MIT */
/*
 * Helpers of perfshim-analyze: logging (pr_warn/pr_fatal on stderr, prefixed with the program
 * name) and allocation that dies on OOM. Only main.c and pr_fatal may exit.
 */
#define PR_FMT "util"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/text.h"
#include "analyzer/util.h"

int debug_level;
const char *progname = "perfshim-analyze";

static char *last_error;		/* the last "error: " line, for pr_last_error */

/*
 * The message to stderr as one line: paths, labels and names in it may hold escape
 * sequences or bytes that are not UTF-8, written escaped (fput_text).
 */
static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL;
	size_t n;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	fprintf(stderr, "%s: %s", progname, prefix);
	if (msg) {
		n = strlen(msg);
		if (n && msg[n - 1] == '\n')
			msg[n - 1] = '\0';
		fput_text(msg, stderr);
		if (!strcmp(prefix, "error: ")) {
			free(last_error);
			last_error = strdup(msg);
		}
	}
	fputc('\n', stderr);
	free(msg);
}

/* __pr_log - one line "perfshim-analyze: PREFIXmessage" on stderr. */
void __pr_log(const char *prefix, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fflush(NULL);	/* the report so far first (stdout may be a filter onto stdout) */
	va_start(ap, fmt);
	log_line(prefix, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* pr_last_error - the message of the last error line since pr_last_error_clear, or NULL */
const char *pr_last_error(void)
{
	return last_error;
}

void pr_last_error_clear(void)
{
	free(last_error);
	last_error = NULL;
}

/* __pr_fatal - one line "perfshim-analyze: error: message" and exit(1) (bad input). */
void __pr_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(NULL);
	va_start(ap, fmt);
	log_line("error: ", fmt, ap);
	va_end(ap);
	exit(1);
}

static void __attribute__((noreturn)) oom(size_t n)
{
	pr_fatal("out of memory (%zu bytes)", n);
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

/* array_resize - see util.h: realloc of @n elements of @size, dying on overflow or OOM */
void *array_resize(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, n * size);
}

/* array_next_cap - see util.h */
size_t array_next_cap(size_t cap, size_t need, size_t max)
{
	size_t c = cap < 8 ? 16 : cap <= SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;

	if (need > max)
		pr_fatal("out of memory (%zu elements do not fit in an array)", need);
	if (c < need)
		c = need;
	return c > max ? max : c;
}
