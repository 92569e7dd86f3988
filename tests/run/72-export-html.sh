#!/usr/bin/env bash
# html: one self-contained page (no URL but the SVG namespace, no external src/href) that is
# well-formed XML as well as HTML; C++ names escaped; the hot-function table's call counts,
# self times and the leak table agree with the functions and leaks reports.
. "$(dirname "$0")/lib.sh"
need_jq
command -v xmllint >/dev/null || fail "xmllint is missing (libxml2-utils)"

# row VALUE... of the hot-function table: "name|calls|self_ns" per row
hot_rows() {
	sed -n 's|^<tr><td class="l">\([^<]*\)</td><td class="l">[^<]*</td><td data-v="\([0-9]*\)">[^<]*</td><td data-v="[0-9]*">[^<]*</td><td data-v="\([0-9]*\)">.*|\1\|\2\|\3|p' "$1" |
		sed 's/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' | LC_ALL=C sort
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
assert_eq "$(json functions "$TMP/x" | jq -r '.functions[] | "\(.name)|\(.calls)|\(.self_ns)"' | LC_ALL=C sort)" \
	"$(hot_rows "$TMP/x.html")" "cxxnames: hot functions (name, calls, self) = functions report"
assert_eq 1 "$(grep -c '<svg .*id="flame-time"' "$TMP/x.html")" "cxxnames: time flame graph"

prog="$S/leaky"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/k" "$prog"
"$ANALYZE" html -o "$TMP/k.html" "$TMP/k" || fail "html exited $?"
xmllint --noout "$TMP/k.html" || fail "leaky: the page is not well-formed"
assert_eq 1 "$(grep -c '<svg .*id="flame-alloc"' "$TMP/k.html")" "leaky: allocation flame graph"
# the leaks section: one stack, leak_here < main, 7000 bytes in 7 blocks (as `leaks`)
json leaks "$TMP/k" >"$TMP/k.leaks"
assert_eq '7000 7' "$(jq -r '"\(.leaked_bytes) \(.leaked_blocks)"' "$TMP/k.leaks")" "leaks report"
sed -n '/<h2>Leaks<\/h2>/,$p' "$TMP/k.html" >"$TMP/k.leaksec"
grep -q '<td class="l" title="leak_here&#10;main">leak_here<br/>&#8592; main</td><td data-v="7000">6.84 KiB</td><td data-v="7">7</td>' \
	"$TMP/k.leaksec" || fail "leaky: leak row missing"
grep -q '6.84 KiB in 7 blocks from 1 stacks' "$TMP/k.leaksec" || fail "leaky: leak total missing"

# an empty trace section: a program without -finstrument-functions still gets a page
traced "$TMP/p" "$S/plain/leaky"
"$ANALYZE" html "$TMP/p" >"$TMP/p.html" || fail "html exited $?"
xmllint --noout "$TMP/p.html" || fail "plain/leaky: the page is not well-formed"
grep -q 'No function calls were recorded' "$TMP/p.html" || fail "plain/leaky: no note about calls"

# threads and marks of samples/calls (marks when the sample sets them)
traced "$TMP/c" "$S/calls"
"$ANALYZE" html -o "$TMP/c.html" "$TMP/c" || fail "html exited $?"
xmllint --noout "$TMP/c.html" || fail "calls: the page is not well-formed"
tid=$("$ANALYZE" dump "$TMP/c" | sed -n '1s/.* pid=\([0-9]*\).*/\1/p')
grep -q "^<tr><td data-v=\"$tid\">$tid</td><td class=\"l\">calls</td>.*<td class=\"l\">exited</td></tr>\$" "$TMP/c.html" ||
	fail "calls: the main thread's row is missing"
if grep -q 'PERFSHIM_MARK("after-top")' "$TOP/samples/calls.c"; then
	assert_eq "after-top end" "$(sed -n 's|^<tr><td class="l">\([a-z-]*\)</td><td data-v="[0-9]*">[^<]*</td><td data-v="'"$tid"'">'"$tid"'</td></tr>$|\1|p' "$TMP/c.html" | xargs)" \
		"calls: marks"
fi
