#!/usr/bin/env bash
# diff --from/--to and marks over samples/grow.c: between "before" and "after" the heap grows
# by exactly 100 x 48 B at grow_one while churn() and churn_realloc() net zero (the numbers
# are in the sample's comment), at -O0, -O2 and in the plain build (libunwind stacks).
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/ plain/; do
	prog="$S/${v}grow"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog"
	assert_eq 0 "$(cat "$TMP/t.rc")" "${v}grow: exit status"

	# marks: start, the two recorded ones, end, in time order
	json marks "$TMP/t" >"$TMP/k.json"
	assert_eq '["start","before","after","end"]' "$(jq -c '[.marks[].label]' "$TMP/k.json")" \
		"${v}grow: marks"
	assert_eq true "$(jq '[.marks[].time_ns] | . == sort and .[0] == 0' "$TMP/k.json")" \
		"${v}grow: mark times ascend from 0"
	"$ANALYZE" marks "$TMP/t" | grep -q '^before ' || fail "${v}grow: text marks lack 'before'"

	json diff --from before --to after "$TMP/t" >"$TMP/d.json"
	d() { jq -c "$1" "$TMP/d.json"; }
	assert_eq '["before","after",4800,100]' "$(d '[.from, .to, .net_bytes, .net_blocks]')" \
		"${v}grow: from, to, net"
	assert_eq '[1000,1,5800,101]' \
		"$(d '[.live_at_from_bytes, .live_at_from_blocks, .live_at_to_bytes, .live_at_to_blocks]')" \
		"${v}grow: live heap at the marks"
	assert_eq '[17850,400,13050,300]' "$(d '[.allocated_bytes, .allocations, .freed_bytes, .frees]')" \
		"${v}grow: totals"
	# the growth suspect comes first: everything it allocated is still live
	assert_eq '["grow_one",4800,0,4800,100,4800,100]' \
		"$(d '.sites[0] | [.stack[0], .allocated_bytes, .freed_bytes, .net_bytes, .net_blocks, .new_live_bytes, .new_live_blocks]')" \
		"${v}grow: grow_one site"
	assert_eq '[["churn",5050,5050,0,0],["churn_realloc",8000,8000,0,0]]' \
		"$(d '[.sites[1:][] | [.stack[0], .allocated_bytes, .freed_bytes, .net_bytes, .net_blocks]] | sort')" \
		"${v}grow: every other site nets zero"
	assert_eq 3 "$(d '.sites | length')" "${v}grow: sites"

	# the whole run (start..end by default): the sample's own sites net zero
	json diff "$TMP/t" >"$TMP/all.json"
	assert_eq '[["churn",0],["churn_realloc",0],["grow_one",0],["setup",0]]' \
		"$(jq -c '[.sites[] | select(.stack[0] | IN("grow_one","churn","churn_realloc","setup")) | [.stack[0], .net_bytes]] | sort' "$TMP/all.json")" \
		"${v}grow: start..end nets zero at the sample's sites"

	# text: aligned table, the suspect listed first
	"$ANALYZE" diff --from before --to after "$TMP/t" >"$TMP/d.txt" || fail "text diff failed"
	grep -A1 '^still live' "$TMP/d.txt" | tail -1 | grep -q 'grow_one' ||
		fail "${v}grow: text growth suspect is not grow_one: $(cat "$TMP/d.txt")"
done

# errors: an unknown mark is one line and exit 1; marks out of order likewise
"$ANALYZE" diff --from before --to nosuch "$TMP/t" >"$TMP/o" 2>"$TMP/e"
assert_eq 1 $? "unknown mark: exit status"
assert_eq 1 "$(wc -l <"$TMP/e")" "unknown mark: one error line"
grep -q "no mark 'nosuch'" "$TMP/e" || fail "unknown mark message: $(cat "$TMP/e")"
"$ANALYZE" diff --from after --to before "$TMP/t" >"$TMP/o" 2>"$TMP/e"
assert_eq 1 $? "marks out of order: exit status"
assert_eq 1 "$(wc -l <"$TMP/e")" "marks out of order: one error line"
echo "80-diff-marks: ok"
