#!/usr/bin/env bash
# A failed exec ends nothing: while a worker thread is between two runs of 1000 tick() calls,
# main tries to exec a program that does not exist; afterwards the worker makes its second
# 1000 calls and main 10 after() calls, and every one of them is in the trace (both threads
# whole), run 5 times; the program behaves as without the shim.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq
cd "$TMP"

for v in "" O2/; do
	prog="$S/${v}execfail"
	plain ref "$prog"
	for i in 1 2 3 4 5; do
		w="${v}execfail run $i"
		rm -f t.bin t.bin.*
		traced "$TMP/t.bin" "$prog"
		same_behaviour ref t.bin >/dev/null
		funcs t.bin
		assert_eq 2000 "$(calls_of t.bin tick)" "$w: tick() calls"
		assert_eq 10 "$(calls_of t.bin after)" "$w: after() calls"
		assert_eq 1 "$(calls_of t.bin main)" "$w: main() calls"
		assert_eq "true true" "$(json summary t.bin | jq -r '[.threads[].complete] | map(tostring) | join(" ")')" \
			"$w: both threads complete"
		assert_eq "false false" "$(json summary t.bin | jq -r '[.threads[].cut] | map(tostring) | join(" ")')" \
			"$w: no thread cut"
	done
done
