#!/usr/bin/env bash
# samples/signal-alloc.c under the shim: a SIGALRM handler mallocs and frees 777 bytes exactly
# 2000 times, only while the main loop is outside malloc. The trace holds exactly those 2000
# allocations and frees, from on_alarm, and no malloc event was dropped. In the plain build
# (libunwind through the signal frame) and at -O0 (shadow stack: the handler nests on main).
. "$(dirname "$0")/lib.sh"
need_jq

for v in plain/ ""; do
	prog="$S/${v}signal-alloc"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog" 2000
	plain "$TMP/p" "$prog" 2000
	same_behaviour "$TMP/t" "$TMP/p"

	"$ANALYZE" dump "$TMP/t" >"$TMP/dump" || fail "dump exited $?"
	assert_eq 2000 "$(grep -c ' alloc kind=malloc size=777 ' "$TMP/dump")" "${v}signal-alloc: 777-byte allocations"
	# each is freed right away: the next memory event of the thread frees it
	assert_eq 2000 "$(awk '$3 == "alloc" || $3 == "free" || $3 == "realloc" {
			if (want && $3 == "free" && $4 == "ptr=" want) ok++; want = "" }
		$3 == "alloc" && $5 == "size=777" { want = substr($6, 5) }
		END { print ok + 0 }' "$TMP/dump")" "${v}signal-alloc: 777-byte blocks freed at once"
	json memory "$TMP/t" >"$TMP/m.json"
	assert_eq '[2000,0,0]' \
		"$(jq -c '[.sites[] | select(.stack[0] == "on_alarm")] | [(map(.allocations) | add), (map(.leaked_blocks) | add), length - 1]' "$TMP/m.json")" \
		"${v}signal-alloc: on_alarm allocations, leaks, extra sites"
	assert_eq 0 "$(jq .unknown_frees "$TMP/m.json")" "${v}signal-alloc: unknown frees"
	# the main loop's blocks (32..95 bytes) are all freed too
	assert_eq 0 "$(jq '[.sites[] | select(.stack[0] == "main") | .leaked_blocks] | add // 0' "$TMP/m.json")" \
		"${v}signal-alloc: main's leaks"
done
# plain build: nothing was dropped at all (no calls hooks, and the handler never runs inside
# a malloc hook)
traced "$TMP/t" "$S/plain/signal-alloc" 2000
assert_eq 0 "$("$ANALYZE" dump "$TMP/t" | grep -c ' lost count=')" "plain signal-alloc: LOST records"
