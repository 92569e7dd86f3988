#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang (ASan + UBSan) into build/fuzz/ and fills their
# corpora (`make fuzz` runs this, then tests/fuzz/run.sh; docs/testing.md):
#   fuzz-trace    the trace reader: trace_open and every kind of walk (corpus: tests/data)
#   fuzz-reports  every command and format of perfshim-analyze on a trace made from the input
#                 (tests/fuzz/fuzz-reports.h; corpus: tests/fuzz/corpus and tests/data)
# CC=clang-15 or the like picks another clang. Needs build/analyzer/html-assets.c (make).
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build/fuzz"
cc=${FUZZ_CC:-clang}
flags="-std=gnu11 -D_GNU_SOURCE -g -O1 -iquote $top -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer"
pc=$(pkg-config --cflags libdw libzstd 2>/dev/null || true)
# the analyzer's libraries, as the Makefile links it (zlib: pprof; libdebuginfod: symbols)
libs="$(pkg-config --libs libdw libzstd zlib 2>/dev/null || echo -ldw -lelf -lzstd -lz)
	$(pkg-config --libs libdebuginfod 2>/dev/null || echo -ldebuginfod) -lstdc++ -lm -pthread"

if [ ! -f "$top/build/analyzer/html-assets.c" ]; then
	echo "build.sh: build/analyzer/html-assets.c is missing: run make first" >&2
	exit 1
fi
mkdir -p "$out/corpus-trace" "$out/corpus-reports" "$out/obj" "$out/artifacts"
cp "$top"/tests/data/*.bin "$out/corpus-trace/"
cp "$top"/tests/fuzz/corpus/* "$out/corpus-reports/"
for f in "$top"/tests/data/*.bin; do
	cp "$f" "$out/corpus-reports/data-$(basename "$f")"
done

# the analyzer without main.c (fuzz-reports.h includes it, main() renamed), and tracegen
objs=
for src in "$top"/analyzer/*.c "$top"/common/*.c "$top/build/analyzer/html-assets.c" \
	"$top/tests/unit/tracegen.c" "$top/tests/unit/tracegen-random.c"; do
	case $src in */analyzer/main.c) continue ;; esac
	o="$out/obj/$(basename "$(dirname "$src")")-$(basename "$src" .c).o"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find "$top/analyzer" -name "*.h" -newer "$o")" ]; then
		# shellcheck disable=SC2086
		$cc $flags -fsanitize=fuzzer-no-link $pc -c "$src" -o "$o"
	fi
	objs="$objs $o"
done
# fuzz-trace drives the reader only, but the reader calls into the rest (off-CPU intervals,
# sample weights and what they use): it links the same objects; code it never reaches adds
# no coverage
# shellcheck disable=SC2086
$cc $flags $pc -o "$out/fuzz-trace" "$top/tests/fuzz/fuzz-trace.c" $objs $libs
# shellcheck disable=SC2086
$cc $flags $pc -o "$out/fuzz-reports" "$top/tests/fuzz/fuzz-reports.c" $objs $libs
echo "built $out/fuzz-trace and $out/fuzz-reports; run: tests/fuzz/run.sh SECONDS"
