#!/usr/bin/env bash
# The functions pass is fast: on a fib(30) trace (5.4 M call events) `functions` must decode
# and aggregate at least 20 M events per second of CPU time (about 150 M/s measured on an
# idle core here; the bound leaves room for a loaded CI machine). Prints the rate.
. "$(dirname "$0")/lib.sh"
need_jq
[ -x /usr/bin/time ] || skip "/usr/bin/time is missing"

traced "$TMP/f" "$S/fib" 30
assert_eq 0 "$(cat "$TMP/f.rc")" "fib exit status"
events=$(json summary "$TMP/f" | jq '.events.total')
[ "$events" -gt 5000000 ] || fail "only $events events"
best=""
for i in 1 2 3; do
	/usr/bin/time -f %U -o "$TMP/time" "$ANALYZE" functions "$TMP/f" >/dev/null || fail "functions failed"
	u=$(cat "$TMP/time")
	if [ -z "$best" ] || awk -v a="$u" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$u; fi
done
rate=$(awk -v e="$events" -v u="$best" 'BEGIN { if (u < 0.01) u = 0.01; printf "%d", e / u / 1e6 }')
echo "functions: $events events in ${best}s of CPU: ${rate} M events/s"
[ "$rate" -ge 20 ] || fail "functions pass at $rate M events/s, expected >= 20"
