#!/usr/bin/env bash
# 16 threads calling work() 1000 times each, leaf() 3 times per work() (samples/threads-calls.c):
# exact counts summed over threads, and per thread.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}threads-calls"
	both "$TMP/t" "$S/${v}threads-calls"
	funcs "$TMP/t"
	clean "$TMP/t"
	expect_lines "$TMP/t.f" "${v}threads-calls: functions and calls" 'main|1
thread_main|16
work|16005
leaf|48015'
	paths "$TMP/t"
	expect_lines "$TMP/t.p" "${v}threads-calls: call paths" 'main|1
main;work|5
main;work;leaf|15
thread_main|16
thread_main;work|16000
thread_main;work;leaf|48000'
	# each thread on its own: one thread_main, 1000 work()
	tids=$("$ANALYZE" dump "$TMP/t" | awk '$3 == "entry" { print $2 }' | sort -u)
	assert_eq 17 "$(wc -w <<<"$tids")" "${v}threads-calls: threads with calls"
	for tid in $tids; do
		json functions --limit=0 --thread="$tid" "$TMP/t" >"$TMP/one.json"
		got=$(jq -r '[.functions[] | "\(.name)=\(.calls)"] | sort | join(" ")' "$TMP/one.json")
		case "$got" in
		"leaf=3000 thread_main=1 work=1000" | "leaf=15 main=1 work=5") ;;
		*) fail "thread $tid: $got" ;;
		esac
	done
	echo "ok: per-thread counts"
done
