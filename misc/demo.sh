#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# demo.sh - `make demo`: build, record the realistic sample (the toy-language interpreter
# running samples/interp/demo.toy) with perfshim, and print its reports.
# The trace stays in build/demo/interp.bin for more: perfshim-analyze --help.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s all samples

out=build/demo
trace=$out/interp.bin
prog=(build/samples/interp samples/interp/demo.toy)
mkdir -p "$out"
rm -f "$trace"

echo "\$ build/perfshim -o $trace ${prog[*]}"
if [ -x build/perfshim ]; then
	build/perfshim -o "$trace" "${prog[@]}"
else
	# The runner is only a convenience: the library alone records the same trace.
	echo "(build/perfshim is missing: recording with LD_PRELOAD=build/libperfshim.so)"
	PERFSHIM_OUTPUT="$trace" LD_PRELOAD=build/libperfshim.so "${prog[@]}"
fi

for report in summary "functions --limit=15" "memory --limit=8" "leaks --limit=8" findings; do
	echo
	echo "\$ build/perfshim-analyze $report $trace"
	# shellcheck disable=SC2086 # the report's options are meant to split
	build/perfshim-analyze $report "$trace"
done
echo
echo "More: build/perfshim-analyze callgraph|flamegraph|chrome|html $trace (see --help)"
