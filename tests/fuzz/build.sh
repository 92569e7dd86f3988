#!/bin/sh
# Builds the libFuzzer target build/fuzz/fuzz-trace with clang (ASan + UBSan) and copies the
# seed corpus. Usage: tests/fuzz/build.sh && build/fuzz/fuzz-trace -close_fd_mask=2 -max_total_time=60 build/fuzz/corpus
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build/fuzz"
mkdir -p "$out/corpus"
cp "$top"/tests/data/*.bin "$out/corpus/"
clang -std=gnu11 -D_GNU_SOURCE -g -O1 -iquote "$top" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$out/fuzz-trace" "$top/tests/fuzz/fuzz-trace.c" \
	"$top/analyzer/trace-read.c" "$top/analyzer/trace-walk.c" "$top/analyzer/util.c" \
	"$top/analyzer/output.c"
echo "built $out/fuzz-trace; run: $out/fuzz-trace -close_fd_mask=2 -max_total_time=60 $out/corpus"
