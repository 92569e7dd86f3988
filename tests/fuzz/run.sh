#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the libFuzzer targets tests/fuzz/build.sh built, SECONDS each (default 60; `make fuzz
# FUZZ_TIME=600`), one after the other on one core. New inputs go into their corpus folders
# under build/fuzz/; a crash leaves its input in build/fuzz/artifacts/ and fails the run.
# FUZZ_TARGETS="fuzz-reports" runs only those; FUZZ_FLAGS adds libFuzzer options.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build/fuzz"
secs=${1:-60}
rc=0
for target in ${FUZZ_TARGETS:-fuzz-trace fuzz-reports}; do
	corpus="$out/corpus-${target#fuzz-}"
	echo "== $target, $secs s, corpus $corpus"
	# fuzz-trace: the reader's damage warnings hidden (crash reports still show);
	# fuzz-reports throws the analyzer's output and messages away itself
	mask=0
	[ "$target" = fuzz-trace ] && mask=2
	# shellcheck disable=SC2086
	"$out/$target" -close_fd_mask=$mask -max_total_time="$secs" -max_len=65536 \
		-artifact_prefix="$out/artifacts/$target-" -print_final_stats=1 $FUZZ_FLAGS \
		"$corpus" || rc=1
done
exit $rc
