#!/usr/bin/env bash
# Each command decodes each trace once (issue 9): the calls walk keeps the heap's events for
# the replay (analyzer/replay-log.c), so html, summary and findings walk a trace as often as
# functions does, split (-j) or not. `-v` prints trace_walks() when the trace is closed
# ("PATH: N walks"). A trace with context switches has one walk more, the off-CPU intervals'
# (analyzer/offcpu.c), which every report of times reads before its calls walk.
# chrome's one walk histograms the durations and holds the calls --limit may keep, and pprof's
# builds every thread's call tree: both as functions. chrome walks a second time only with more
# than CHROME_SORT_MAX (4,000,000) calls and a --limit above that, or 0 (analyzer/report-chrome.c
# header): not with these traces, whose calls are counted below so that this stays true.
. "$(dirname "$0")/lib.sh"
need_jq

# walks ARGS...: the walks `perfshim-analyze ARGS -v` reports
walks() {
	"$ANALYZE" "$@" -v -o "$TMP/out" 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) walks*$/\1/p'
}

traced "$TMP/interp" "$S/interp" "$TOP/samples/interp/closures.toy"
assert_eq 0 "$(cat "$TMP/interp.rc")" "interp under the shim: exit status"
traced "$TMP/tc" "$S/threads-calls"
assert_eq 0 "$(cat "$TMP/tc.rc")" "threads-calls under the shim: exit status"

for t in interp tc; do
	sw=$("$ANALYZE" waits --format=json "$TMP/$t" | jq -r 'if .switches then 1 else 0 end')
	one=$((1 + sw))
	for j in "-j 1" "-j 2"; do
		for c in functions callgraph summary findings html; do
			assert_eq "$one" "$(walks $c $j "$TMP/$t")" "$t $c $j: walks"
		done
		for c in memory leaks callgrind massif timeline "diff --from=start --to=end"; do
			assert_eq 1 "$(walks $c $j "$TMP/$t")" "$t $c $j: walks"
		done
		for c in chrome "chrome --limit 100" "chrome --limit 0" pprof; do
			assert_eq "$one" "$(walks $c $j "$TMP/$t")" "$t $c $j: walks"
		done
	done
done
# the calls the traces hold: under CHROME_SORT_MAX (else chrome --limit 0 walks twice); and
# threads-calls has 17 threads whose call trees pprof takes from the one walk
assert_eq 64037 "$(json functions "$TMP/tc" | jq '[.functions[].calls] | add')" "tc: calls"
[ "$(json functions "$TMP/interp" | jq '[.functions[].calls] | add')" -lt 4000000 ] ||
	fail "interp: 4,000,000 calls or more"
assert_eq 17 "$(json summary "$TMP/tc" | jq '.threads | length')" "tc: threads"
# a calls-only trace: its replay (chrome's RSS and heap tracks, pprof's allocations) takes the
# memory log too, so both walk it as functions does
PERFSHIM_EVENTS=calls traced "$TMP/co" "$S/threads-calls"
assert_eq 0 "$(cat "$TMP/co.rc")" "threads-calls, calls only: exit status"
one=$((1 + $("$ANALYZE" waits --format=json "$TMP/co" | jq -r 'if .switches then 1 else 0 end')))
assert_eq "$one" "$(walks functions "$TMP/co")" "calls-only functions: walks"
for c in chrome pprof; do
	assert_eq "$one" "$(walks $c "$TMP/co")" "calls-only $c: walks"
done
# a process and its forked child in one timeline: each trace walked as functions walks it
PERFSHIM_OUTPUT="$TMP/f.%p.bin" LD_PRELOAD="$LIB" "$S/fork" >/dev/null 2>&1 || fail "fork failed"
set -- "$TMP"/f.*.bin
assert_eq 2 "$#" "fork: traces"
assert_eq "$(for f in "$@"; do walks functions "$f"; done | sort | tr '\n' ' ')" \
	"$(walks chrome "$@" | sort | tr '\n' ' ')" "fork: chrome's walks of each trace"
# memory where stacks merge into one site (their symbolized frames are the same: the shim's
# own frames are left out): the exact per-site peaks come from its one replay, keyed by site
# as it goes, not from a second one
traced "$TMP/mb" "$S/plain/mallocbench" 20000
assert_eq 0 "$(cat "$TMP/mb.rc")" "mallocbench under the shim: exit status"
stacks=$("$ANALYZE" dump "$TMP/mb" | grep -o ' stack=[1-9][0-9]*' | sort -u | wc -l)
sites=$("$ANALYZE" memory --format=json "$TMP/mb" | jq '.sites | length')
[ "$stacks" -gt "$sites" ] || fail "mallocbench: no two stacks in one site ($stacks stacks, $sites sites)"
for j in "-j 1" "-j 2"; do
	assert_eq 1 "$(walks memory $j "$TMP/mb")" "mallocbench memory $j ($stacks stacks in $sites sites): walks"
done
