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

#include "analyzer/analyze.h"
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
struct dl_phdr_info;
/* tu_load_range - the address range [*@lo, *@hi) of @info's PT_LOAD segments */
void tu_load_range(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi);
/* tu_module_of - the MODULE record of the loaded object holding @addr, as the shim writes it */
void tu_module_of(struct tg_thread *th, uint64_t addr, uint64_t ticks);
/* tu_run - run @s in fork mode (a crash is one failure). Return: how many tests failed. */
int tu_run(Suite *s);

#endif /* PERFSHIM_TESTUTIL_H */
