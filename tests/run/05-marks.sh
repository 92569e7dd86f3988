#!/usr/bin/env bash
# Marks from outside the program: SIGUSR2 names them signal-1, signal-2, ...; the runner's
# --mark-every sends them as t200ms, t400ms, ...; a program that looks at or handles SIGUSR2
# itself, raises it or has a timer send it sees exactly what it would without the shim (the
# default action kills it: signals.c's mark_default).
# serial: --mark-every's marks fall at wall-clock times: a run slowed past 800 ms gets a fourth
. "$(dirname "$0")/lib.sh"
cd "$TMP"
for mode in query own self timer; do
	plain "p$mode" "$S/usr2" $mode
	traced "t$mode.bin" "$S/usr2" $mode
	same_behaviour "p$mode" "t$mode.bin"
done
assert_eq "handled: 2" "$(grep handled town.bin.stdout)" "the program's own handler ran each time"
assert_eq "140|140" "$(cat pself.rc)|$(cat tself.bin.rc)" "raise(SIGUSR2): killed by it"
assert_eq "140|140" "$(cat ptimer.rc)|$(cat ttimer.bin.rc)" "a SIGUSR2 timer: killed by it"
for mode in self timer; do
	assert_eq "" "$("$ANALYZE" dump t$mode.bin | awk '$3 == "mark"')" "$mode: no mark"
done
# PERFSHIM_MARK_SIGNAL=none leaves SIGUSR2 alone: a SIGUSR2 from another process kills the
# program as without the shim. With the mark handler it sets marks and the program runs on.
plain pm "$S/usr2" marks
PERFSHIM_MARK_SIGNAL=none PERFSHIM_OUTPUT=n.bin LD_PRELOAD="$LIB" "$S/usr2" marks >n.out 2>&1
rc=$?
assert_eq "$(cat pm.rc)" "$rc" "exit status with PERFSHIM_MARK_SIGNAL=none"
traced m.bin "$S/usr2" marks
assert_eq 0 "$(cat m.bin.rc)" "exit status of the marked run"
assert_eq "signal-1 signal-2" "$("$ANALYZE" dump m.bin | awk '$3 == "mark" {printf "%s%s", sep, $4; sep=" "}')" "signal marks"
# the marks fall between the work they separate: work(12)'s calls (465) lie between them
calls=$("$ANALYZE" dump --merged m.bin | awk '$3 == "mark" {m++} m == 1 && $3 == "entry" && $NF == "work" {n++} END {print n}')
assert_eq 465 "$calls" "calls of work between signal-1 and signal-2"

# --mark-every: the runner sends the mark signal with the elapsed time
cat >slow.c <<'C'
#include <stdlib.h>
#include <time.h>
int main(void)
{
	struct timespec s = { 0, 100000000 };
	for (int i = 0; i < 7; i++) {
		free(malloc(10));
		nanosleep(&s, NULL);
	}
	return 3;
}
C
cc -O1 slow.c -o slow
"$RUNNER" -q -o me.bin --mark-every 200ms ./slow
rc=$?
assert_eq 3 "$rc" "exit status through the runner"
assert_eq "t200ms t400ms t600ms" "$("$ANALYZE" dump me.bin | awk '$3 == "mark" {printf "%s%s", sep, $4; sep=" "}')" "timed marks"
"$RUNNER" --mark-every 5parsecs ./slow 2>err
rc=$?
assert_eq 2 "$rc" "bad --mark-every: exit status"
grep -q "mark-every" err || fail "bad --mark-every: message"
