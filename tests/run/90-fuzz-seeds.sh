#!/usr/bin/env bash
# make fuzz's libFuzzer targets build with clang and pass every seed of their corpora once
# (-runs=0: tests/data's traces, tests/fuzz/corpus). clang's UBSan checks what the gcc
# sanitizer build of make check does not: NULL + 0 stopped `make fuzz` at its first input
# (the empty one) for as long as no test ran the clang build.
. "$(dirname "$0")/lib.sh"
command -v clang >/dev/null || fail "clang is missing (misc/install-deps.sh installs it)"

"$TOP/tests/fuzz/build.sh" >"$TMP/build.log" 2>&1 ||
	{ tail -20 "$TMP/build.log" >&2; fail "tests/fuzz/build.sh exited $?"; }
for target in fuzz-trace fuzz-reports; do
	corpus="$B/fuzz/corpus-${target#fuzz-}"
	n=$(find "$corpus" -type f | wc -l)
	[ "$n" -gt 20 ] || fail "$target: only $n seeds in $corpus"
	mask=0
	[ "$target" = fuzz-trace ] && mask=2	# the reader's damage warnings (as tests/fuzz/run.sh)
	"$B/fuzz/$target" -runs=0 -close_fd_mask=$mask -max_len=65536 \
		-artifact_prefix="$TMP/$target-" "$corpus" >"$TMP/$target.log" 2>&1 ||
		{ grep -m5 -E 'runtime error|ERROR|SUMMARY' "$TMP/$target.log" >&2
		  fail "$target: a seed of $corpus failed (log above)"; }
	grep -q 'INITED' "$TMP/$target.log" || fail "$target: the seeds were not run"
	echo "ok: $target passed its $n seeds"
done
