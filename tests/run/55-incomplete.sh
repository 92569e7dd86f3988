#!/usr/bin/env bash
# A process killed by SIGKILL (samples/dies.c, 64 KiB buffers so that some chunks reach the
# file first): every report, in every format, says the trace is incomplete and what is
# missing, and leaks does not call the live blocks of the unfinished process leaks. The
# same program returning normally gets no warning anywhere.
. "$(dirname "$0")/lib.sh"
need_jq

PERFSHIM_BUFSIZE=64K traced "$TMP/k" "$S/dies" kill
assert_eq 137 "$(cat "$TMP/k.rc")" "dies kill: killed by SIGKILL"
PERFSHIM_BUFSIZE=64K traced "$TMP/r" "$S/dies" return
assert_eq 0 "$(cat "$TMP/r.rc")" "dies return: exit status"

end='  - the process'"'"'s end was not recorded (it was killed, crashed, or exited where the recorder could not see it): what it did after [0-9.]* [mu]*s is missing'
nolast='  - thread [0-9]* has no last chunk: its events after [0-9.]* [mu]*s are missing'
for cmd in summary functions callgraph memory leaks timeline marks diff; do
	"$ANALYZE" $cmd "$TMP/k" >"$TMP/out" 2>"$TMP/err" || fail "$cmd exited $?"
	assert_eq "Warning: incomplete trace; the figures below cover only what was recorded:" \
		"$(sed -n 1p "$TMP/out")" "$cmd: first line"
	grep -qx -- "$end" <(sed -n 2p "$TMP/out") || fail "$cmd: line 2: $(sed -n 2p "$TMP/out")"
	grep -qx -- "$nolast" <(sed -n 3p "$TMP/out") || fail "$cmd: line 3: $(sed -n 3p "$TMP/out")"
	assert_eq "" "$(sed -n 4p "$TMP/out")" "$cmd: the block ends with an empty line"
	assert_eq 1 "$(wc -l <"$TMP/err")" "$cmd: one warning line on stderr"
	grep -q "warning: .*the process's end was not recorded" "$TMP/err" || fail "$cmd: stderr $(cat "$TMP/err")"
	"$ANALYZE" $cmd "$TMP/r" >"$TMP/out" 2>"$TMP/err" || fail "$cmd (return) exited $?"
	grep -q 'Warning' "$TMP/out" && fail "$cmd: a warning for the complete trace"
	assert_eq 0 "$(wc -c <"$TMP/err")" "$cmd: nothing on stderr for the complete trace"
done
"$ANALYZE" dump "$TMP/k" 2>/dev/null | sed -n 2p | grep -q "^# incomplete trace .*: the process's end was not recorded" ||
	fail "dump: no comment line"

# JSON: complete/incomplete in every document
for cmd in summary functions callgraph memory leaks timeline marks diff; do
	json $cmd "$TMP/k" 2>/dev/null >"$TMP/j"
	assert_eq "false 2" "$(jq -r '"\(.complete) \(.incomplete | length)"' "$TMP/j")" "$cmd --format=json: complete, incomplete"
	assert_eq "true 0" "$(json $cmd "$TMP/r" | jq -r '"\(.complete) \(.incomplete | length)"')" "$cmd (return): complete"
done
assert_eq false "$(json summary "$TMP/k" 2>/dev/null | jq .process_finished)" "summary: process_finished"
# CSV: comment lines first
for cmd in functions timeline marks; do
	"$ANALYZE" $cmd --format=csv "$TMP/k" 2>/dev/null | head -2 >"$TMP/csv"
	assert_eq 2 "$(grep -c '^# incomplete trace ' "$TMP/csv")" "$cmd --format=csv: comment lines"
done

# leaks of the unfinished process: live when recording stopped, not "leaks"
"$ANALYZE" leaks "$TMP/k" >"$TMP/out" 2>/dev/null
grep -qx "Note: the process did not finish: these blocks were live when recording stopped, not necessarily leaked." "$TMP/out" ||
	fail "leaks: no note"
grep -q '^Leaks:' "$TMP/out" && fail "leaks: the live blocks are called leaks"
live=$(json memory "$TMP/k" 2>/dev/null | jq -r '"\(.live_at_end_bytes) \(.allocations - .frees)"')
assert_eq "$live" "$(sed -n 's/^Live when recording stopped: \([0-9,]*\) bytes in \([0-9,]*\) blocks from 1 stack$/\1 \2/p' "$TMP/out" | tr -d ,)" \
	"leaks: live bytes and blocks (= allocations - frees)"
"$ANALYZE" summary "$TMP/k" 2>/dev/null | grep -q '^  live at stop ' || fail "summary: live at stop"
"$ANALYZE" memory "$TMP/k" 2>/dev/null | grep -q '^  live at stop .*not necessarily leaked' || fail "memory: live at stop"
# the complete run's leak is one: the last block kept
assert_eq "1 32" "$(json leaks "$TMP/r" | jq -r '"\(.leaked_blocks) \(.leaked_bytes)"')" "dies return: one 32-byte leak"

# exports: folded comments, SVG and HTML warnings in sight, Chrome metadata
"$ANALYZE" flamegraph --folded "$TMP/k" 2>/dev/null >"$TMP/f"
assert_eq 2 "$(grep -c '^# incomplete trace: ' "$TMP/f")" "folded: comment lines"
# (a trace with context switches has one comment that says which clock its times are)
"$ANALYZE" flamegraph --folded "$TMP/r" | grep '^#' | grep -qv '^# times are ' &&
	fail "folded: a comment for the complete trace"
"$ANALYZE" flamegraph --metric=leaked --folded "$TMP/k" 2>/dev/null |
	grep -qx '# the process did not finish: these blocks were live when recording stopped, not necessarily leaked' ||
	fail "folded leaked: no note"
"$ANALYZE" flamegraph -o "$TMP/k.svg" "$TMP/k" 2>/dev/null
assert_eq 2 "$(grep -c '<text class="warning".*>incomplete trace: ' "$TMP/k.svg")" "SVG: warning lines"
"$ANALYZE" html -o "$TMP/k.html" "$TMP/k" 2>/dev/null
# the page draws its banners from its data object (the browser test, 73, sees them drawn)
sed -n 's|^<script type="application/json" id="perfshim-data">\(.*\)</script>$|\1|p' \
	"$TMP/k.html" >"$TMP/k.html.json"
assert_eq "false 2 false" "$(jq -r '.traces[0] | "\(.complete) \(.incomplete | length) \(.process_finished)"' \
	"$TMP/k.html.json")" "HTML: complete, what is missing, process finished"
"$ANALYZE" chrome "$TMP/k" 2>/dev/null >"$TMP/k.json"
assert_eq "false 2" "$(jq -r '"\(.otherData.complete) \(.otherData.incomplete | length)"' "$TMP/k.json")" "chrome: otherData"
assert_eq 1 "$(jq '[.traceEvents[] | select(.name == "process_labels" and .args.labels == "incomplete trace")] | length' "$TMP/k.json")" \
	"chrome: process label"
assert_eq true "$("$ANALYZE" chrome "$TMP/r" | jq .otherData.complete)" "chrome (return): complete"
