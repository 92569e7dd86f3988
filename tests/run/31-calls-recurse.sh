#!/usr/bin/env bash
# Recursion 100000 deep (samples/recurse.c): every call recorded, no depth field that wraps
# (uftrace's wraps at 1024): bottom() sits 100002 levels below run(), after() right under it;
# flame graphs fold the recursion and stay small.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}recurse"
	both "$TMP/t" "$S/${v}recurse" 100000
	funcs "$TMP/t"
	clean "$TMP/t"
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
	# folded stacks: recursion past 128 frames folds into the nearest activation, so the
	# output stays small (not 100001 paths of up to 100003 frames: 25 GB) and the totals
	# still equal the functions report's, per function
	"$ANALYZE" flamegraph --folded "$TMP/t" >"$TMP/t.folded" || fail "flamegraph exited $?"
	assert_eq "# recursion folded: on paths deeper than 128 frames, 99874 frames of functions already on the path were merged into their nearest activation" \
		"$(sed -n 1p "$TMP/t.folded")" "${v}recurse: folding said"
	size=$(wc -c <"$TMP/t.folded")
	[ "$size" -lt 65536 ] || fail "${v}recurse: folded output of $size bytes"
	echo "ok: ${v}recurse: folded output of $size bytes"
	assert_eq 129 "$(grep -v '^#' "$TMP/t.folded" | awk -F';' '{ if (NF > m) m = NF } END { print m }')" \
		"${v}recurse: longest folded path"
	grep -v '^#' "$TMP/t.folded" >"$TMP/t.fd"
	# self time as the time metric has it: CPU self where the trace has context switches
	assert_eq "$(jq '[.functions[] | .cpu_self_ns // .self_ns] | add' "$TMP/t.fjson")" \
		"$(awk '{ s += $NF } END { print s }' "$TMP/t.fd")" "${v}recurse: folded total = functions' self time"
	assert_eq "$(jq -r '.functions[] | "\(.name)|\(.cpu_self_ns // .self_ns)"' "$TMP/t.fjson" | LC_ALL=C sort)" \
		"$(awk '{ v = $NF; sub(/ [0-9]+$/, ""); n = split($0, f, ";"); s[f[n]] += v }
		     END { for (k in s) print k "|" s[k] }' "$TMP/t.fd" | LC_ALL=C sort)" \
		"${v}recurse: folded self time per function"
done

# Past the shadow stack's hard cap (4 Mi frames) calls are counted, not recorded, and their
# exits skipped: run() + 4194303 down() recorded; the other 805698 down() and 3 bottom() calls
# lost (entry and exit each). (No callgraph here: 4 Mi nested nodes make a 445 MB report.)
echo "== build/samples/O2/recurse 5000000"
both "$TMP/c" "$S/O2/recurse" 5000000
funcs "$TMP/c"
expect_lines "$TMP/c.f" "recurse past the cap: functions and calls" 'main|1
run|1
down|4194303
after|1'
assert_eq "1611402 0" "$(json summary "$TMP/c" | jq -r '"\(.events.lost) \(.events.unmatched_exits)"')" \
	"recurse past the cap: lost events and unmatched exits"
