/* SPDX-License-Identifier: MIT */
/*
 * perfshim.h - marks for programs recorded by perfshim.
 *
 * perfshim_mark() labels a point in time in the trace; `perfshim-analyze diff --from A --to B`
 * then shows what the heap did between two marks. The declaration is weak: a program that
 * is not run under libperfshim.so links and runs unchanged, and the macro does nothing.
 *
 *	#include <perfshim.h>
 *
 *	PERFSHIM_MARK("before-load");
 *	load_everything();
 *	PERFSHIM_MARK("after-load");
 *
 *	$ perfshim -o run.bin ./app && perfshim-analyze diff --from before-load --to after-load run.bin
 */
#ifndef PERFSHIM_H
#define PERFSHIM_H

#ifdef __cplusplus
extern "C" {
#endif

/* Label the current point in time with @label (copied; at most 4096 bytes are kept). */
void perfshim_mark(const char *label) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#define PERFSHIM_MARK(label)                                                                \
	do {                                                                                \
		if (perfshim_mark)                                                          \
			perfshim_mark(label);                                               \
	} while (0)

#endif /* PERFSHIM_H */
