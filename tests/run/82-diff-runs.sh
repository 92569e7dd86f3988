#!/usr/bin/env bash
# diff BASE NEW over two builds of samples/variant.c (cc with the flags of samples/samples.mk,
# with and without -DVARIANT): crunch() does twice the work and buffers() allocates 8 x 2 KiB
# instead of 8 x 1 KiB (all 8 live at once: the peak doubles too). With --threshold the diff names exactly those: functions matched by
# name, sites by function chain (the builds' addresses differ).
. "$(dirname "$0")/lib.sh"
need_jq

flags="-g -fno-omit-frame-pointer -pthread -iquote $TOP -Wall -Wextra -Wno-unused-parameter -O0 -fno-inline -finstrument-functions"
cc $flags "$TOP/samples/variant.c" -o "$TMP/base" || fail "cannot build the base variant"
# the new build is also moved: another file name, every line 7 lines lower (heaptrack would
# see every site as removed and added; sites here are matched by function chain)
{ printf '// moved\n%.0s' 1 2 3 4 5 6 7; cat "$TOP/samples/variant.c"; } >"$TMP/variant-moved.c"
cc $flags -DVARIANT "$TMP/variant-moved.c" -o "$TMP/new" || fail "cannot build the new variant"
# Times are wall-clock on a shared machine: a preemption can make any function look slower.
# The timing checks (which functions changed, crunch about 2x) get three tries of the pair of
# runs; everything else is exact and checked on the last pair.
for try in 1 2 3; do
	traced "$TMP/b" "$TMP/base"
	traced "$TMP/n" "$TMP/new"
	assert_eq 0 "$(cat "$TMP/b.rc")" "base ran"
	assert_eq 0 "$(cat "$TMP/n.rc")" "new ran"
	json diff --threshold 25 "$TMP/b" "$TMP/n" >"$TMP/d.json"
	names=$(jq -c '[.functions[].name] | sort' "$TMP/d.json")
	r=$(jq '.functions[] | select(.name == "crunch") | .new_self_ns / .base_self_ns' "$TMP/d.json")
	[ "$names" == '["buffers","crunch"]' ] && awk -v r="$r" 'BEGIN { exit !(r > 1.3 && r < 3.5) }' &&
		break
	echo "try $try: functions $names, crunch new/base $r (noise?)"
done
d() { jq -c "$1" "$TMP/d.json"; }

# functions: crunch (time) and buffers (allocations) and nothing else
assert_eq '["buffers","crunch"]' "$(d '[.functions[].name] | sort')" "functions shown"
assert_eq '"crunch"' "$(d '.functions[0].name')" "largest change first"
awk -v r="$r" 'BEGIN { exit !(r > 1.3 && r < 3.5) }' || fail "crunch new/base self time $r, not about 2"
assert_eq '[1,1]' "$(d '.functions[] | select(.name == "crunch") | [.base_calls, .new_calls]')" \
	"crunch calls"
d '.functions[] | select(.name == "crunch") | .verdict' | grep -Eq '^"[0-9.]+x slower"$' ||
	fail "crunch verdict: $(d '.functions[] | select(.name == "crunch") | .verdict')"
assert_eq '[8192,16384,"allocates 8.0 KiB more"]' \
	"$(d '.functions[] | select(.name == "buffers") | [.base_alloc_bytes, .new_alloc_bytes, .verdict]')" \
	"buffers: allocations and verdict"

# sites: only buffers' site, matched across the builds
assert_eq '[[["buffers","main"],8192,16384,8,8,8192,16384,0,0]]' \
	"$(d '[.sites[] | [.stack, .base_bytes, .new_bytes, .base_allocations, .new_allocations, .base_peak_bytes, .new_peak_bytes, .base_leaked_bytes, .new_leaked_bytes]]')" \
	"sites shown"

# without a threshold the unchanged site is there, matched, with no change
json diff "$TMP/b" "$TMP/n" >"$TMP/all.json"
assert_eq '[2048,2048,"same"]' \
	"$(jq -c '.sites[] | select(.stack[0] == "tables_alloc") | [.base_bytes, .new_bytes, .verdict]' "$TMP/all.json")" \
	"tables_alloc: same site in both builds"

# text: the verdicts appear
"$ANALYZE" diff --threshold 25 "$TMP/b" "$TMP/n" >"$TMP/d.txt" || fail "text diff failed"
grep -q 'x slower' "$TMP/d.txt" || fail "text: no 'x slower' verdict"
grep -q 'allocates 8.0 KiB more' "$TMP/d.txt" || fail "text: no allocation verdict"

# the same site in both builds although its file and lines moved: one row, not +N and -N
assert_eq 3 "$(jq '.sites | length' "$TMP/all.json")" "sites of both builds, matched"
assert_eq 0 "$(jq '[.sites[] | select(.verdict == "new" or .verdict == "gone")] | length' "$TMP/all.json")" \
	"no site new or gone"

# usage: three traces, or --from with two, is one error line and exit 1
"$ANALYZE" diff --from start "$TMP/b" "$TMP/n" >/dev/null 2>"$TMP/e"
assert_eq 1 $? "--from with two traces: exit status"
assert_eq 1 "$(wc -l <"$TMP/e")" "--from with two traces: one error line"
echo "82-diff-runs: ok"
