#!/usr/bin/env bash
# Overhead compensation (docs/compensation.md) on samples/overhead.c, built -O2, which
# measures itself: spin loops of known iteration counts must come out within 2% of what the
# program's own timing of an iteration says, and its parent of ten tiny calls within 15% of
# what the same binary's uninstrumented copies cost, while the raw times (--no-compensation)
# miss that parent by far; and an allocating function's self time with malloc recorded comes
# back to what it is with calls only. Times are wall clock, so a try counts only when the sample says
# its sections ran without losing the CPU; a loaded machine gets up to 40 tries, and a try
# that ran quietly but misses is made again too (the hooks' cost moves with the load of the
# other core): the test fails when no try passes.
# serial: wall-clock times within 2% and 15% of the program's own: another test beside it costs tries
. "$(dirname "$0")/lib.sh"
need_jq
prog="$S/O2/overhead"
[ -x "$prog" ] || fail "missing $prog (make samples)"

# field FILE KEY : KEY=VALUE from the sample's output
field() { sed -n "s/.*[ ]$2=\([-0-9.]*\).*/\1/p" "$1" | head -1; }
# per_call TRACE.json NAME KEY : KEY / calls of NAME's row
per_call() { jq --arg n "$2" --arg k "$3" '.functions[] | select(.name == $n) | .[$k] / .calls' "$1"; }
# within A B PCT : |A - B| <= PCT% of B
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }'; }

# --- the figures in the trace, and the switch ------------------------------------------
traced "$TMP/x" "$prog"
assert_eq 0 "$(cat "$TMP/x.rc")" "exit status"
json summary "$TMP/x" >"$TMP/x.sum"
assert_eq true "$(jq '.compensation.call_ns > 0 and .compensation.alloc_ns > 0 and
	.compensation.call_caller_ns >= 0 and .compensation.call_callee_ns >= 0 and
	(.compensation.call_caller_ns + .compensation.call_callee_ns - .compensation.call_ns |
	 fabs) < 0.01 and .compensation.removed_ns > 0' "$TMP/x.sum")" "summary: the figures used"
json summary --no-compensation "$TMP/x" >"$TMP/x.raw"
assert_eq 'null "--no-compensation"' "$(jq -r '"\(.compensation) \"\(.compensation_off)\""' "$TMP/x.raw")" \
	"summary --no-compensation: raw times, and why"
"$ANALYZE" summary "$TMP/x" | grep -q '^Overhead:   taken out of call times: a call' ||
	fail "summary text: no Overhead line"
json functions "$TMP/x" >"$TMP/x.f"
json functions --no-compensation "$TMP/x" >"$TMP/x.fr"
assert_eq true "$(jq -n --slurpfile c "$TMP/x.f" --slurpfile r "$TMP/x.fr" '
	[$c[0].functions[] | {(.name): .self_ns}] | add as $cs |
	[$r[0].functions[] | {(.name): .self_ns}] | add as $rs |
	$rs.parent > $cs.parent and $rs.tiny > $cs.tiny and $rs.outer > $cs.outer')" \
	"compensated self below raw self"
# a trace without the record (calls only under min-duration: no figures) reads raw
PERFSHIM_MIN_DURATION=1ns traced "$TMP/m" "$prog"
assert_eq 'null "PERFSHIM_MIN_DURATION drops calls whose hooks ran"' \
	"$(json summary "$TMP/m" | jq -r '"\(.compensation) \"\(.compensation_off)\""')" \
	"min-duration trace: raw times"

# --- spin loops: within 2% -------------------------------------------------------------
spin_ok= parent_ok=
for try in $(seq 1 40); do
	t="$TMP/t$try"
	traced "$t" "$prog"
	[ "$(cat "$t.rc")" = 0 ] || fail "try $try: exit status $(cat "$t.rc")"
	json functions "$t" >"$t.f"
	json functions --no-compensation "$t" >"$t.fr"
	out="$t.stdout"
	ips=$(field "$out" iter_ps)
	if [ -z "$spin_ok" ] && [ "$(field "$out" spin)" = 1 ]; then
		inner=$(per_call "$t.f" inner total_ns) inner_self=$(per_call "$t.f" inner self_ns)
		outer=$(per_call "$t.f" outer total_ns) outer_self=$(per_call "$t.f" outer self_ns)
		want_inner=$(awk -v i="$ips" 'BEGIN { print 4000 * i / 1000 }')
		want_outer=$(awk -v i="$ips" 'BEGIN { print 24000 * i / 1000 }')
		want_self=$(awk -v i="$ips" 'BEGIN { print 16000 * i / 1000 }')
		echo "try $try spin: inner $(pct "$inner" "$want_inner") (self $(pct "$inner_self" "$want_inner")), outer $(pct "$outer" "$want_outer") (self $(pct "$outer_self" "$want_self"))"
		within "$inner" "$want_inner" 2 && within "$inner_self" "$want_inner" 2 &&
			within "$outer" "$want_outer" 2 && within "$outer_self" "$want_self" 2 &&
			spin_ok=$try
	fi
	if [ -z "$parent_ok" ] && [ "$(field "$out" parent)" = 1 ]; then
		tt=$(field "$out" parent_total_ns) ts=$(field "$out" parent_self_ns)
		ct=$(per_call "$t.f" parent total_ns) cs=$(per_call "$t.f" parent self_ns)
		rt=$(per_call "$t.fr" parent total_ns) rs=$(per_call "$t.fr" parent self_ns)
		echo "try $try parent: truth total $tt self $ts; compensated $(pct "$ct" "$tt") / $(pct "$cs" "$ts"); raw $(pct "$rt" "$tt") / $(pct "$rs" "$ts")"
		# a try counts when, in the same run, the raw times miss by far (the hooks' cost is
		# in them) and the compensated ones are within 15%; a loaded machine also slows the
		# truth, which the program measures in the same run, and such a try is made again
		awk -v r="$rs" -v t="$ts" 'BEGIN { exit !(r > 1.6 * t) }' &&
			awk -v r="$rt" -v t="$tt" 'BEGIN { exit !(r > 1.4 * t) }' &&
			within "$ct" "$tt" 15 && within "$cs" "$ts" 15 && parent_ok=$try
	fi
	[ -n "$spin_ok" ] && [ -n "$parent_ok" ] && break
done
# --- allocations: recording them is charged to the caller, and taken out again ----------
# allocer's self time (its spin and four malloc/free pairs) with calls only (nothing of
# malloc recorded) against the default (both): raw, recording shows (over 1.8x); compensated,
# it is gone within the allocation figures' error (docs/compensation.md: 0.5x to 1.5x)
alloc_ok=
for try in 1 2 3 4 5 6; do
	a="$TMP/a$try"
	PERFSHIM_EVENTS=calls traced "$a.calls" "$prog"
	traced "$a.both" "$prog"
	c1=$(json functions "$a.calls" | jq '.functions[] | select(.name == "allocer") | .self_ns')
	c2=$(json functions "$a.both" | jq '.functions[] | select(.name == "allocer") | .self_ns')
	r2=$(json functions --no-compensation "$a.both" | jq '.functions[] | select(.name == "allocer") | .self_ns')
	echo "try $try allocer self: calls only $c1 ns, with malloc $(pct "$c2" "$c1") compensated, $(pct "$r2" "$c1") raw"
	awk -v c1="$c1" -v c2="$c2" -v r2="$r2" 'BEGIN { exit !(r2 > 1.8 * c1 && c2 > 0.5 * c1 && c2 < 1.5 * c1) }' &&
		{ alloc_ok=$try; break; }
done
[ -n "$alloc_ok" ] || fail "allocations: no try with the recording's cost taken out (see above)"
echo "ok: allocation recording taken out of the caller's self (try $alloc_ok)"

# --- allocations under deep stacks: samples/interp's xcalloc allocates 40-60 frames down,
# where each stack walk costs several times the start's figure (measured on two frames).
# The recorder times them in the run (TRACE_COST_RUN records) and those figures come out.
# Seen here: raw 14-18x its calls-only CPU self, compensated 1.8-2.8x; with the start's
# figure alone it kept about 11x. Up to 12 tries (0.2 s each): under heavy load the
# calls-only reference itself moves by 3x from run to run.
interp="$S/O2/interp"
[ -x "$interp" ] || fail "missing $interp (make samples)"
deep_ok=
for try in $(seq 1 12); do
	a="$TMP/i$try"
	PERFSHIM_EVENTS=calls traced "$a.calls" "$interp" "$TOP/samples/interp/bench.toy" 18
	traced "$a.both" "$interp" "$TOP/samples/interp/bench.toy" 18
	sel='.functions[] | select(.name == "xcalloc") | .cpu_self_ns // .self_ns'
	c1=$(json functions "$a.calls" | jq "$sel")
	c2=$(json functions "$a.both" | jq "$sel")
	r2=$(json functions --no-compensation "$a.both" | jq "$sel")
	run=$(json summary "$a.both" | jq '.compensation.alloc_run_ns > 2 * .compensation.alloc_ns')
	echo "try $try xcalloc CPU self: calls only $c1 ns, with malloc $(pct "$c2" "$c1") compensated, $(pct "$r2" "$c1") raw; the run's figure over twice the start's: $run"
	awk -v c1="$c1" -v c2="$c2" -v r2="$r2" 'BEGIN { exit !(r2 > 8 * c1 && c2 < 4 * c1 && c2 > 0.5 * c1) }' &&
		[ "$run" = true ] && { deep_ok=$try; break; }
done
[ -n "$deep_ok" ] || fail "deep stacks: no try with the stack walks' cost taken out (see above)"
echo "ok: allocation recording under deep stacks taken out of the caller's self (try $deep_ok)"

[ -n "$spin_ok" ] || fail "spin loops: no quiet try within 2% (see above)"
echo "ok: spin loops within 2% (try $spin_ok)"
[ -n "$parent_ok" ] || fail "parent of tiny calls: no quiet try within 15% (see above)"
echo "ok: parent of tiny calls within 15%, raw times far off (try $parent_ok)"
