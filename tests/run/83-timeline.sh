#!/usr/bin/env bash
# timeline over samples/server.c: `server steady` is "steady"; `server leak` keeps 1000 B per
# 10 ms request (spinning on clock_gettime, so the ticks are exact): "grows", the suspect is
# remember_session, and the fitted rate is within 10% of the rate the program measured itself.
# serial: the fitted rate is within 10% of the wall-clock rate the program measured
. "$(dirname "$0")/lib.sh"
need_jq

prog="$S/server"
[ -x "$prog" ] || fail "$prog is missing (make samples)"

traced "$TMP/s" "$prog" steady
assert_eq 0 "$(cat "$TMP/s.rc")" "server steady: exit status"
json timeline "$TMP/s" >"$TMP/s.json"
assert_eq '"steady"' "$(jq '.verdict' "$TMP/s.json")" "server steady: verdict"
assert_eq 0 "$(jq '.suspects | length' "$TMP/s.json")" "server steady: no suspects"
assert_eq 201 "$(jq '.samples | length' "$TMP/s.json")" "server steady: samples"
"$ANALYZE" timeline "$TMP/s" | grep -q '^Verdict: steady$' || fail "server steady: text verdict"

# -O0 (shadow stacks) and the plain build (libunwind stacks)
for v in "" plain/; do
	traced "$TMP/l" "$S/${v}server" leak
	assert_eq 0 "$(cat "$TMP/l.rc")" "${v}server leak: exit status"
	want=$(sed -n 's/.* rate \([0-9]*\) B\/s$/\1/p' "$TMP/l.stdout")
	[ -n "$want" ] && [ "$want" -gt 0 ] || fail "${v}server leak printed no rate: $(cat "$TMP/l.stdout")"
	json timeline "$TMP/l" >"$TMP/l.json"
	l() { jq -c "$1" "$TMP/l.json"; }
	assert_eq '"grows"' "$(l .verdict)" "${v}server leak: verdict"
	# (at -O2 handle_request tail-calls remember_session: its frame is gone)
	assert_eq '["remember_session",true]' "$(l '.suspects[0].stack | [.[0], index("main") != null]')" \
		"${v}server leak: first suspect"
	for what in .growth.bytes_per_s .suspects[0].bytes_per_s; do
		got=$(l "$what")
		awk -v g="$got" -v w="$want" 'BEGIN { exit !(g > 0.9 * w && g < 1.1 * w) }' ||
			fail "${v}server leak: $what $got B/s, not within 10% of the program's $want B/s"
		echo "ok: ${v}server leak: $what = $got B/s (program: $want B/s)"
	done
	# the series: live heap ends at the leaked total (150 requests x 1000 B, plus stdio's buffer
	# at most), and csv has the same samples
	n=$(sed -n 's/^requests \([0-9]*\) .*/\1/p' "$TMP/l.stdout")
	last=$(l '.samples[-1].live_bytes')
	[ "$last" -ge $((n * 1000)) ] && [ "$last" -le $((n * 1000 + 4096)) ] ||
		fail "${v}server leak: live heap at the end $last, expected $((n * 1000)) (+ stdio buffer)"
	"$ANALYZE" timeline --format=csv "$TMP/l" >"$TMP/l.csv" || fail "csv failed"
	assert_eq "time_ns,live_bytes,live_blocks,rss_bytes,mark" "$(head -1 "$TMP/l.csv")" "csv header"
	assert_eq 202 "$(wc -l <"$TMP/l.csv")" "csv rows"
	assert_eq "$last" "$(tail -1 "$TMP/l.csv" | cut -d, -f2)" "csv last live_bytes"
	"$ANALYZE" timeline "$TMP/l" | grep -q '^Verdict: grows .*/s; suspects:$' || fail "text verdict"
done
echo "83-timeline: ok"
