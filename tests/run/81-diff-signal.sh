#!/usr/bin/env bash
# Marks set from outside: the harness sends SIGUSR2 when samples/sigmark.c announces
# "ready 1" and "ready 2" and waits, so signal-1 and signal-2 fall at known states; the diff
# between them is exactly hold()'s 10 x 100 B, temp()'s 10 x 256 B netting zero.
. "$(dirname "$0")/lib.sh"
need_jq

prog="$S/sigmark"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
mkfifo "$TMP/in"
PERFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$LIB" "$prog" <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/in"

# wait_line N: the sample printed "ready N" (10 s at most)
wait_line() {
	local i
	for i in $(seq 1 1000); do
		grep -q "^ready $1\$" "$TMP/out" && return 0
		kill -0 $pid 2>/dev/null || break
		sleep 0.01
	done
	fail "sigmark did not print 'ready $1': $(cat "$TMP/out" "$TMP/err")"
}

wait_line 1
kill -USR2 $pid
echo go >&3
wait_line 2
kill -USR2 $pid
echo go >&3
exec 3>&-
wait $pid
assert_eq 0 $? "sigmark: exit status"

json marks "$TMP/t" >"$TMP/k.json"
assert_eq '["start","signal-1","signal-2","end"]' "$(jq -c '[.marks[].label]' "$TMP/k.json")" \
	"signal marks listed"
assert_eq '[0,0]' "$(jq -c '[.marks[1:3][].tid]' "$TMP/k.json")" "signal marks come from tid 0"

json diff --from signal-1 --to signal-2 "$TMP/t" >"$TMP/d.json"
d() { jq -c "$1" "$TMP/d.json"; }
assert_eq '[1000,10,0,1000]' "$(d '[.net_bytes, .net_blocks, .live_at_from_bytes, .live_at_to_bytes]')" \
	"signal-1..signal-2: net and live heap"
assert_eq '["hold",1000,0,1000,10]' \
	"$(d '.sites[0] | [.stack[0], .allocated_bytes, .freed_bytes, .net_bytes, .new_live_blocks]')" \
	"signal-1..signal-2: hold site"
assert_eq '[["temp",2560,2560,0]]' \
	"$(d '[.sites[1:][] | [.stack[0], .allocated_bytes, .freed_bytes, .net_bytes]]')" \
	"signal-1..signal-2: temp nets zero, nothing else"

# the pseudo thread (tid 0) that carries signal marks is not a thread of the program
assert_eq "[$pid]" "$("$ANALYZE" summary --format=json "$TMP/t" | jq -c '[.threads[].tid]')" \
	"summary: the program's one thread only"
echo "81-diff-signal: ok"
