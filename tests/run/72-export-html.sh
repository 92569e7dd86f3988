#!/usr/bin/env bash
# html: one self-contained page (no URL but the SVG namespace, no external src/href) that is
# well-formed XML as well as HTML, with its data in one JSON object (docs/html-data.md), C++
# names escaped; the function rows, leaks, threads and marks of that data agree with the
# functions and leaks reports. tests/run/73-html-browser.sh checks what the page shows.
. "$(dirname "$0")/lib.sh"
need_jq
command -v xmllint >/dev/null || fail "xmllint is missing (libxml2-utils)"

# data PAGE: the page's JSON object (one line inside <script id="perfshim-data">)
data() {
	sed -n 's|^<script type="application/json" id="perfshim-data">\(.*\)</script>$|\1|p' "$1"
}
# hot_rows DATA: "name|calls|self_ns" of the all-threads function rows
hot_rows() {
	jq -r '.traces[0] as $t | $t.time.scopes[] | select(.thread == null) | .functions.rows[] |
		"\($t.strings[$t.time.functions.rows[.[0]][0]])|\(.[1])|\(.[3])"' "$1" | LC_ALL=C sort
}

prog="$S/cxxnames"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/x" "$prog"
"$ANALYZE" html -o "$TMP/x.html" "$TMP/x" || fail "html exited $?"
xmllint --noout "$TMP/x.html" || fail "cxxnames: the page is not well-formed"
head -c 15 "$TMP/x.html" | grep -q '<!DOCTYPE html>' || fail "no doctype"
assert_eq "$(grep -o 'http[s]*://[^"]*' "$TMP/x.html" | sort -u)" "http://www.w3.org/2000/svg" "the only URL"
grep -q ' src=\| href=\|@import\|url(' "$TMP/x.html" && fail "the page loads something from outside"
grep -q 'twice<int>' "$TMP/x.html" && fail "an unescaped C++ name"
data "$TMP/x.html" >"$TMP/x.json"
assert_eq "perfshim-html/1" "$(jq -r .schema "$TMP/x.json")" "cxxnames: the data's schema"
assert_eq "$(json functions "$TMP/x" | jq -r '.functions[] | "\(.name)|\(.calls)|\(.self_ns)"' | LC_ALL=C sort)" \
	"$(hot_rows "$TMP/x.json")" "cxxnames: function rows (name, calls, self) = functions report"
[ "$(jq '.traces[0].time.tree.rows | length' "$TMP/x.json")" -gt 1 ] || fail "cxxnames: no call tree"

prog="$S/leaky"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/k" "$prog"
"$ANALYZE" html -o "$TMP/k.html" "$TMP/k" || fail "html exited $?"
xmllint --noout "$TMP/k.html" || fail "leaky: the page is not well-formed"
data "$TMP/k.html" >"$TMP/k.json"
# the leaks: one stack, leak_here < main, 7000 bytes in 7 blocks (as `leaks`)
json leaks "$TMP/k" >"$TMP/k.leaks"
assert_eq '7000 7' "$(jq -r '"\(.leaked_bytes) \(.leaked_blocks)"' "$TMP/k.leaks")" "leaks report"
assert_eq '7000 7' "$(jq -r '.traces[0].memory | "\(.leaked_bytes) \(.leaked_blocks)"' "$TMP/k.json")" \
	"leaky: leaked totals in the data"
assert_eq "leak_here<main|7000|7" "$(jq -r '.traces[0] as $t | $t.memory as $m | $m.scopes[] |
	select(.thread == null) | .sites.rows[] | select(.[6] > 0 and $m.stacks.rows[.[0]][2] == null) |
	"\([$m.stacks.rows[.[0]][1][] | $t.strings[$t.frames.rows[.][0]]] | join("<"))|\(.[6])|\(.[7])"' \
	"$TMP/k.json" | sed 's/\\u003c/</g')" "leaky: the leaking site (stack, bytes, blocks)"

# no calls recorded (not instrumented): no "time" object, the rest is there
traced "$TMP/p" "$S/plain/leaky"
"$ANALYZE" html "$TMP/p" >"$TMP/p.html" || fail "html exited $?"
xmllint --noout "$TMP/p.html" || fail "plain/leaky: the page is not well-formed"
data "$TMP/p.html" >"$TMP/p.json"
assert_eq "false true" "$(jq -r '.traces[0] | "\(has("time")) \(has("memory"))"' "$TMP/p.json")" \
	"plain/leaky: time and memory objects"

# threads and marks of samples/calls (marks when the sample sets them)
traced "$TMP/c" "$S/calls"
"$ANALYZE" html -o "$TMP/c.html" "$TMP/c" || fail "html exited $?"
xmllint --noout "$TMP/c.html" || fail "calls: the page is not well-formed"
data "$TMP/c.html" >"$TMP/c.json"
tid=$("$ANALYZE" dump "$TMP/c" | sed -n '1s/.* pid=\([0-9]*\).*/\1/p')
assert_eq "$tid calls exited" "$(jq -r '.traces[0].threads[0] | "\(.tid) \(.name) \(.end)"' "$TMP/c.json")" \
	"calls: the main thread"
if grep -q 'PERFSHIM_MARK("after-top")' "$TOP/samples/calls.c"; then
	assert_eq "after-top end" "$(jq -r --argjson tid "$tid" '[.traces[0].marks[] | select(.tid == $tid) |
		.label] | join(" ")' "$TMP/c.json")" "calls: marks"
fi
