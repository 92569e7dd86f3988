#!/usr/bin/env bash
# A timer signal whose handler calls instrumented code, at random points of 3000000 calls
# (samples/signals-async.c): a signal that comes while a hook runs is held back until the
# hook is done (signals.c), so every handler call is recorded, none dropped, and each nests
# where it ran: in main or in work. Every tick is accounted for, every exit has its entry.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}signals-async"
	plain "$TMP/ref" "$S/${v}signals-async" "$TMP/ticks.ref"
	traced "$TMP/t" "$S/${v}signals-async" "$TMP/ticks"
	same_behaviour "$TMP/t" "$TMP/ref"
	ticks=$(cat "$TMP/ticks")
	[ "$ticks" -gt 0 ] || fail "the timer never fired"
	funcs "$TMP/t"
	assert_eq 3000000 "$(calls_of "$TMP/t" work)" "${v}signals-async: work() calls"
	rec=$(calls_of "$TMP/t" tick)
	assert_eq "$rec" "$(calls_of "$TMP/t" on_timer)" "${v}signals-async: on_timer() calls"
	json summary "$TMP/t" >"$TMP/s.json"
	assert_eq "$ticks" "$rec" "${v}signals-async: ticks recorded"
	assert_eq 0 "$(jq .events.lost "$TMP/s.json")" "${v}signals-async: events dropped"
	assert_eq 0 "$(jq .events.unmatched_exits "$TMP/s.json")" "${v}signals-async: unmatched exits"
	paths "$TMP/t"
	# the handler nests in main or in work, nowhere else, and tick always in the handler
	bad=$(grep -v -E '^(main|main;work|main;(work;)?on_timer|main;(work;)?on_timer;tick)\|' \
		"$TMP/t.p" || true)
	assert_eq "" "$bad" "${v}signals-async: call paths outside main, work and the handler"
done
