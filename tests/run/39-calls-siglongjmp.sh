#!/usr/bin/env bash
# A SIGALRM every 200 us whose handler siglongjmps back into a loop of calls
# (samples/sigjump.c): the jump may leave from anywhere, inside the shim's hooks too (a chunk
# being written, a lock held). No handler runs inside the shim (signals.c holds the signal
# back until the hook is done), so every run ends, prints what the plain run prints, and its
# trace is whole: nothing lost, every handler call recorded, and step() counted between the
# calls that began their body and those plus one per jump (a jump may land between a call's
# entry record and its first statement). With 64 KiB buffers (a chunk every ~0.5 ms) and with
# the default 1 MiB; a hang is caught by the timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq
prog="$S/sigjump"
[ -x "$prog" ] || fail "$prog is missing (make samples)"

run() {	# run NAME BUFSIZE JUMPS
	local t="$TMP/$1" bufsize=$2 jumps=$3
	[ -f "$TMP/p$jumps.rc" ] || plain "$TMP/p$jumps" "$prog" "$jumps"
	timeout "${HANG_TIMEOUT:-60}" env PERFSHIM_BUFSIZE=$bufsize PERFSHIM_OUTPUT="$t" LD_PRELOAD="$LIB" \
		"$prog" "$jumps" "$t.counts" >"$t.stdout" 2>"$t.stderr"
	echo $? >"$t.rc"
	[ "$(cat "$t.rc")" != 124 ] || fail "$1: hung (killed after ${HANG_TIMEOUT:-60} s)"
	same_behaviour "$t" "$TMP/p$jumps"
	read -r entered completed handled runs <"$t.counts"
	assert_eq "$jumps" "$handled" "$1: jumps the program made"
	json summary "$t" >"$t.json"
	assert_eq '[0,0]' "$(jq -c '[.events.lost, .events.unmatched_exits]' "$t.json")" \
		"$1: lost events, unmatched exits"
	funcs "$t"
	# the handler may run once more after the last jump, before the loop blocks the signal
	assert_eq "1|$runs|$jumps" \
		"$(calls_of "$t" main)|$(calls_of "$t" on_alarm)|$(calls_of "$t" note_alarm)" \
		"$1: calls of main, on_alarm ($runs runs), note_alarm"
	local step leaf
	step=$(calls_of "$t" step)
	leaf=$(calls_of "$t" leaf)
	[ "$step" -ge "$entered" ] && [ "$step" -le $((entered + jumps)) ] ||
		fail "$1: step() calls $step not in [$entered, $entered + $jumps]"
	[ "$leaf" -ge $((2 * completed)) ] && [ "$leaf" -le $((2 * entered)) ] ||
		fail "$1: leaf() calls $leaf not in [2 * $completed, 2 * $entered]"
	echo "ok: $1: step() $step calls for $entered begun, leaf() $leaf"
}

for i in 1 2 3; do
	run "64k-$i" 64K 1000
done
for i in 1 2; do
	run "default-$i" 1M 2000
done
