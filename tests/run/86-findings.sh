#!/usr/bin/env bash
# findings over samples/findings.c: each mode makes exactly one rule fire (its rule, name,
# stack, frames and evidence numbers checked), `findings clean`, fib and calls make none; the
# summary lists the same findings, --high-memory and --recursion-depth move their thresholds.
# The blocking rule needs off-CPU data: tests/unit/test-findings.c tests it.
. "$(dirname "$0")/lib.sh"
need_jq

prog="$S/findings"
for p in findings fib calls; do [ -x "$S/$p" ] || fail "$S/$p is missing (make samples)"; done

# one MODE [ENV=VALUE...]: record `findings MODE` into $TMP/MODE; findings JSON in $TMP/MODE.json
one() {
	local m=$1; shift
	env "$@" PERFSHIM_OUTPUT="$TMP/$m" LD_PRELOAD="$LIB" "$prog" "$m" >"$TMP/$m.stdout" \
		2>"$TMP/$m.stderr"
	echo $? >"$TMP/$m.rc"
	"$ANALYZE" findings --format=json "$TMP/$m" >"$TMP/$m.json" 2>"$TMP/$m.err" ||
		fail "findings $m exited $?"
}
# f MODE JQ: a value of the only finding of MODE
f() { jq -c ".findings[0] | $2" "$TMP/$1.json"; }
# exactly MODE RULE NAME STACK EVIDENCE: one finding, and its rule, name, stack and evidence
exactly() {
	assert_eq 1 "$(jq '.findings | length' "$TMP/$1.json")" "$1: findings"
	assert_eq "\"$2\"" "$(f "$1" .rule)" "$1: rule"
	assert_eq "\"$3\"" "$(f "$1" .name)" "$1: name"
	assert_eq "$4" "$(f "$1" .stack)" "$1: stack"
	assert_eq "$(f "$1" .stack)" "$(f "$1" '[.frames[].name]')" "$1: frames are the stack"
	assert_eq '"findings"' "$(f "$1" '.frames[0].module')" "$1: the frame's module"
	[ -n "$5" ] && assert_eq "$5" "$(f "$1" ".evidence | {$(jq -rn --argjson e "$5" \
		'$e | keys_unsorted | join(",")')}")" "$1: evidence"
	[ -n "$(f "$1" .message)" ] && [ "$(f "$1" .advice)" != null ] || fail "$1: message or advice"
}

one churn
exactly churn churn churn_loop '["churn_loop","main"]' \
	'{"allocations":5000,"temporary":5000,"bytes":320000}'

one realloc
exactly realloc realloc-growth grow_linear '["grow_linear","main"]' \
	'{"reallocs":200,"step_bytes":16,"final_bytes":3216,"copied_bytes":321600}'

one n1-calls
exactly n1-calls n-plus-one fetch_row '["fetch_row","report","main"]' \
	'{"calls":100,"parent_calls":4,"per_call":25}'
[ "$(f n1-calls .evidence.avg_ns)" -ge 10000 ] || fail "n1-calls: avg_ns under the threshold"

one n1-alloc
exactly n1-alloc n-plus-one load_list '["load_list","main"]' \
	'{"allocations":120,"size_bytes":24,"calls":3,"per_call":40}'

one leak
exactly leak leak leak_some '["leak_some","main"]' '{"bytes":1000,"blocks":10}'

# growth: a program killed while its heap grows (64 KiB buffers: most chunks reach the file)
one growth PERFSHIM_BUFSIZE=64K
assert_eq 137 "$(cat "$TMP/growth.rc")" "growth: killed by SIGKILL"
exactly growth growth fill_cache '["fill_cache","main"]' ''
[ "$(f growth .evidence.site_live_blocks)" -ge 16 ] || fail "growth: live blocks"
[ "$(f growth .evidence.bytes_per_s)" -gt 0 ] || fail "growth: rate"
assert_eq false "$(jq .complete "$TMP/growth.json")" "growth: the trace says it is incomplete"

one high-memory
exactly high-memory high-memory big_block '["big_block","main"]' \
	'{"peak_bytes":629145600,"limit_bytes":536870912,"site_bytes_at_peak":629145600}'
# the limit is inclusive: exactly at the peak fires, one byte over does not
assert_eq 1 "$(json findings --high-memory=600M "$TMP/high-memory" | jq '.findings | length')" \
	"--high-memory=600M (the peak)"
assert_eq 0 "$(json findings --high-memory=629145601 "$TMP/high-memory" | jq '.findings | length')" \
	"--high-memory one byte over the peak"

one tiny
exactly tiny tiny-hot add1 '["add1","tiny_loop","main"]' \
	'{"calls":50000,"all_calls":50002,"percent":99}'
[ "$(f tiny .evidence.avg_ns)" -le 1000 ] || fail "tiny: avg_ns over the threshold"

one recursion
exactly recursion deep-recursion descend '["descend","main"]' \
	'{"depth":1501,"limit":1000,"calls":1501}'
assert_eq 0 "$(json findings --recursion-depth=1502 "$TMP/recursion" | jq '.findings | length')" \
	"--recursion-depth=1502"
assert_eq 1501 "$(json findings --recursion-depth=1501 "$TMP/recursion" | jq '.findings[0].evidence.depth')" \
	"--recursion-depth=1501"

# clean programs: no finding
one clean
assert_eq 0 "$(cat "$TMP/clean.rc")" "clean: exit status"
assert_eq '[]' "$(jq -c .findings "$TMP/clean.json")" "findings clean"
traced "$TMP/fib" "$S/fib" 20
assert_eq '[]' "$(json findings "$TMP/fib" | jq -c .findings)" "fib 20"
traced "$TMP/calls" "$S/calls"
assert_eq '[]' "$(json findings "$TMP/calls" | jq -c .findings)" "calls"
"$ANALYZE" findings "$TMP/clean" | grep -q '^  none: no rule' || fail "clean: text says none"

# text, and the summary's section (text and JSON: the same objects)
"$ANALYZE" findings "$TMP/churn" >"$TMP/churn.txt" || fail "findings text"
grep -q '^churn          churn_loop$' "$TMP/churn.txt" || fail "churn: text line"
grep -q '^  evidence: allocations=5000 temporary=5000 bytes=320000$' "$TMP/churn.txt" ||
	fail "churn: text evidence"
grep -q '^  at churn_loop (findings.c:[0-9]*) < main (findings.c:[0-9]*)$' "$TMP/churn.txt" ||
	fail "churn: text stack with file:line"
json summary "$TMP/churn" >"$TMP/sum.json"
assert_eq "$(jq -c .findings "$TMP/churn.json")" "$(jq -c .findings "$TMP/sum.json")" \
	"summary --format=json: findings as findings lists them"
"$ANALYZE" summary "$TMP/churn" | grep -q '^Findings: 1$' || fail "summary text: findings section"

# bad usage
"$ANALYZE" findings --high-memory=lots "$TMP/churn" 2>/dev/null; assert_eq 2 $? "--high-memory=lots"
"$ANALYZE" findings --recursion-depth=0 "$TMP/churn" 2>/dev/null; assert_eq 2 $? "--recursion-depth=0"
echo "all findings checks passed"
