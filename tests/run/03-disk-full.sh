#!/usr/bin/env bash
# Disk full while recording: one line on stderr, recording stops, the program finishes with
# its own output and status, and the analyzer reads the intact prefix with a warning.
. "$(dirname "$0")/lib.sh"
mnt="$TMP/small"
mkdir -p "$mnt"
mount -t tmpfs -o size=256k tmpfs "$mnt" 2>/dev/null || skip "cannot mount a small tmpfs (needs root)"
trap 'umount "$mnt" 2>/dev/null; rm -rf "$TMP"' EXIT
prog="$S/fib"
plain "$TMP/ref" "$prog" 24
PERFSHIM_BUFSIZE=64K PERFSHIM_OUTPUT="$mnt/t.bin" LD_PRELOAD="$LIB" "$prog" 24 >"$TMP/run.stdout" 2>"$TMP/run.stderr"
echo $? >"$TMP/run.rc"
cmp -s "$TMP/ref.stdout" "$TMP/run.stdout" || fail "stdout differs"
assert_eq "$(cat "$TMP/ref.rc")" "$(cat "$TMP/run.rc")" "exit status"
assert_eq 1 "$(wc -l <"$TMP/run.stderr")" "lines on stderr"
grep -q "^perfshim: writing trace file $mnt/t.bin failed: .*; recording stopped" "$TMP/run.stderr" ||
	fail "message: $(cat "$TMP/run.stderr")"
"$ANALYZE" functions "$mnt/t.bin" >"$TMP/an.out" 2>"$TMP/an.err"
rc=$?
assert_eq 0 "$rc" "analyzer exit status on the cut trace"
grep -qi "warning" "$TMP/an.err" || fail "no warning about the cut trace: $(cat "$TMP/an.err")"
grep -q fib "$TMP/an.out" || fail "no fib in the intact prefix"
