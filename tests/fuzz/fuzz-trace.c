// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over the trace reader: trace_open + every kind of trace_walk.
 * Build and run (clang): `make fuzz`, or tests/fuzz/build.sh, then
 *	build/fuzz/fuzz-trace -close_fd_mask=2 -max_total_time=60 build/fuzz/corpus-trace
 * (-close_fd_mask=2 hides the reader's damage warnings; crash reports still show).
 * fuzz-reports.c fuzzes the reports, on traces whose checksums are right (docs/testing.md).
 * The seed corpus is the traces of tests/data. Without clang, `make check` runs the deterministic
 * mutation loop in tests/unit/test-trace-read.c (test_mutations) over the same code.
 */
#include "tests/fuzz/fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_bytes(data, size);
	return 0;
}
