#!/usr/bin/env bash
# Each command decodes each trace once (issue 9): the calls walk keeps the heap's events for
# the replay (analyzer/replay-log.c), so html, summary and findings walk a trace as often as
# functions does, split (-j) or not. `-v` prints trace_walks() when the trace is closed
# ("PATH: N walks"). A trace with context switches has one walk more, the off-CPU intervals'
# (analyzer/offcpu.c), which every report of times reads before its calls walk.
# pprof walks the calls a thread at a time (each its own walk here), after one info walk.
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
		# chrome: a pass for the durations (--limit's threshold), one for the calls kept
		assert_eq "$((one + 1))" "$(walks chrome $j "$TMP/$t")" "$t chrome $j: walks"
	done
done
# pprof: the info walk (which keeps the heap's events), then each thread's calls
n=$("$ANALYZE" summary --format=json "$TMP/tc" | jq '.threads | length')
sw=$("$ANALYZE" waits --format=json "$TMP/tc" | jq -r 'if .switches then 1 else 0 end')
assert_eq "$((1 + sw + n))" "$(walks pprof "$TMP/tc")" "tc pprof ($n threads): walks"
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
