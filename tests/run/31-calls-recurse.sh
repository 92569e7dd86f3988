#!/usr/bin/env bash
# Recursion 100000 deep (samples/recurse.c): every call recorded, no depth field that wraps
# (uftrace's wraps at 1024): bottom() sits 100002 levels below run(), after() right under it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/3lib.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}recurse"
	both "$TMP/t" "$S/${v}recurse" 100000
	funcs "$TMP/t"
	expect_lines "$TMP/t.f" "${v}recurse: functions and calls" 'main|1
run|1
down|100001
bottom|3
after|1'
	json callgraph "$TMP/t" >"$TMP/t.cjson"
	assert_eq "100002 3" "$(jq -r '[.nodes[] | select(.name == "bottom")] |
		"\(.[0].depth) \(.[0].calls)"' "$TMP/t.cjson")" "${v}recurse: depth and calls of bottom"
	assert_eq "1 1" "$(jq -r '[.nodes[] | select(.name == "after")] |
		"\(.[0].depth) \(.[0].calls)"' "$TMP/t.cjson")" "${v}recurse: depth and calls of after"
	assert_eq 100001 "$(jq '[.nodes[] | select(.name == "down")] | length' "$TMP/t.cjson")" \
		"${v}recurse: levels of down in the call tree"
done
