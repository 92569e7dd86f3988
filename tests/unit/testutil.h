/* SPDX-License-Identifier: MIT */
/*
 * Helpers the unit tests share (testutil.c): temporary files, running a report with its
 * output captured, a MODULE record of this test binary, and the Check runner. Linked into
 * every unit test binary, like tracegen. Failures are Check assertions.
 */
#ifndef PERFSHIM_TESTUTIL_H
#define PERFSHIM_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"
#include "tests/unit/tracegen.h"

typedef int (*tu_report_fn)(struct trace *t, const struct opts *o);

/* tu_tmpfile - create an empty file "/tmp/@name.XXXXXX" and put its path in @buf (64 bytes) */
void tu_tmpfile(char *buf, const char *name);
/* tu_slurp - the whole file @path, NUL-terminated (free it) */
char *tu_slurp(const char *path);
/* tu_opts - options as main.c sets them with no flag: no limit, no depth cap, demangling */
struct opts tu_opts(void);
/*
 * tu_capture - run @fn(@t, @o) with stdout sent to @path (truncated first); *@rc gets its
 * result. Return: what it printed (free it).
 */
char *tu_capture(tu_report_fn fn, struct trace *t, const struct opts *o, const char *path,
		 int *rc);
/*
 * tu_report - tu_capture of @fn over the trace file @trace (opened and closed here).
 * Return: what it printed (free it).
 */
char *tu_report(tu_report_fn fn, const char *trace, const struct opts *o, const char *path,
		int *rc);
/* tu_has / tu_hasnt - @needle is (is not) in the report text @text, else the test fails */
#define tu_has(text, needle)                                                                    \
	ck_assert_msg(strstr((text), (needle)) != NULL, "missing\n  %s\nin\n%s", (needle), (text))
#define tu_hasnt(text, needle)                                                                  \
	ck_assert_msg(strstr((text), (needle)) == NULL, "unexpected\n  %s\nin\n%s", (needle), (text))
struct dl_phdr_info;
/* tu_load_range - the address range [*@lo, *@hi) of @info's PT_LOAD segments */
void tu_load_range(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi);
/* tu_module_of - the MODULE record of the loaded object holding @addr, as the shim writes it */
void tu_module_of(struct tg_thread *th, uint64_t addr, uint64_t ticks);
/* tu_run - run @s in fork mode (a crash is one failure). Return: how many tests failed. */
int tu_run(Suite *s);

#endif /* PERFSHIM_TESTUTIL_H */
