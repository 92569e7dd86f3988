// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over every report and export of perfshim-analyze (fuzz-reports.h says how
 * an input becomes a trace). Build and run (clang): `make fuzz`, or tests/fuzz/build.sh, then
 *	build/fuzz/fuzz-reports -close_fd_mask=1 -max_total_time=600 build/fuzz/corpus-reports
 * Without clang, `make check` runs the bounded deterministic loop of
 * tests/unit/test-fuzz-reports.c over the same code. docs/testing.md has the figures.
 */
#include "tests/fuzz/fuzz-reports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)		/* a program of 64 KiB covers every path; more is time */
		return 0;
	fuzz_reports_bytes(data, size);
	return 0;
}
