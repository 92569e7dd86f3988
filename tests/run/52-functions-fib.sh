#!/usr/bin/env bash
# `functions`, `callgraph` and `summary` on samples/fib, -O0 and -O2, where the answer is
# known: fib is called as often as the program counted, main once; fib's total (recursion
# counted once) is its one outermost call; self times add up to main's total; callers and
# callees of fib; the call tree is main -> fib -> fib ... 16 levels deep for fib(15).
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/; do
	traced "$TMP/f" "$S/${v}fib" 15
	assert_eq 0 "$(cat "$TMP/f.rc")" "${v}fib exit status"
	calls=$(sed -n 's/^calls of fib: //p' "$TMP/f.stdout")
	assert_eq 1973 "$calls" "${v}fib(15) calls counted by the program"
	json functions "$TMP/f" >"$TMP/f.json"
	row() { jq -r --arg n "$1" ".functions[] | select(.name == \$n) | .$2" "$TMP/f.json"; }
	assert_eq "$calls" "$(row fib calls)" "${v}fib calls"
	assert_eq 1 "$(row main calls)" "${v}main calls"
	assert_eq 2 "$(jq '.functions | length' "$TMP/f.json")" "${v}functions listed"
	# main's total is everything below it: self(main) + self(fib) = total(main)
	assert_eq "$(row main total_ns)" "$(jq '[.functions[].self_ns] | add' "$TMP/f.json")" \
		"${v}self times add up to main's total"
	# fib's outermost call is its max; total counts recursion once, so total = max
	assert_eq "$(row fib max_ns)" "$(row fib total_ns)" "${v}fib total = its outermost call"
	[ "$(row fib min_ns)" -le "$(row fib p50_ns)" ] && [ "$(row fib p50_ns)" -le "$(row fib p99_ns)" ] &&
		[ "$(row fib p99_ns)" -le "$(row fib max_ns)" ] || fail "${v}fib: min <= p50 <= p99 <= max"
	[ "$(row fib avg_ns)" -le "$(row fib max_ns)" ] || fail "${v}avg <= max"

	json callgraph --function fib "$TMP/f" >"$TMP/c.json"
	assert_eq "main:1 fib:$((calls - 1))" \
		"$(jq -r '[.functions[0].callers[] | "\(.name):\(.calls)"] | sort | reverse | join(" ")' "$TMP/c.json")" \
		"${v}callers of fib"
	assert_eq "fib:$((calls - 1))" \
		"$(jq -r '[.functions[0].callees[] | "\(.name):\(.calls)"] | join(" ")' "$TMP/c.json")" \
		"${v}callees of fib"
	json callgraph "$TMP/f" >"$TMP/t.json"
	assert_eq "main" "$(jq -r '.nodes[0].name' "$TMP/t.json")" "${v}call tree root"
	# fib(15) nests 15 calls of fib below the first: depths 1..15 under main
	assert_eq 15 "$(jq '[.nodes[].depth] | max' "$TMP/t.json")" "${v}call tree depth"
	assert_eq "$calls" "$(jq '[.nodes[] | select(.name == "fib") | .calls] | add' "$TMP/t.json")" \
		"${v}fib calls over the tree"
	json callgraph --depth 3 "$TMP/f" >"$TMP/t3.json"
	assert_eq 2 "$(jq '[.nodes[].depth] | max' "$TMP/t3.json")" "${v}--depth 3"

	json summary "$TMP/f" >"$TMP/s.json"
	assert_eq "$S/${v}fib" "$(jq -r .program "$TMP/s.json")" "${v}summary program"
	assert_eq "$S/${v}fib 15" "$(jq -r .cmdline "$TMP/s.json")" "${v}summary command line"
	assert_eq $((calls + 1)) "$(jq .events.calls "$TMP/s.json")" "${v}summary calls"
	assert_eq main "$(jq -r '.functions[0].name' "$TMP/s.json")" "${v}summary top function"
	assert_eq 1 "$(jq '.threads | length' "$TMP/s.json")" "${v}summary threads"
	assert_eq true "$(jq .threads[0].complete "$TMP/s.json")" "${v}summary thread complete"
	"$ANALYZE" "$TMP/f" >"$TMP/s.txt" || fail "summary (default command) failed"
	grep -q "^Top functions by total time:" "$TMP/s.txt" || fail "no top functions in summary"
	grep -Eq "^ *[0-9.]+ [mun]?s +[0-9.]+ [mun]?s +1,973  fib$" "$TMP/s.txt" || fail "no fib row in: $(cat "$TMP/s.txt")"

	# text table, --sort, --limit, --filter
	"$ANALYZE" functions --sort=calls --limit=1 "$TMP/f" >"$TMP/f.txt" || fail "functions failed"
	assert_eq 2 "$(wc -l <"$TMP/f.txt")" "${v}--limit=1: header and one row"
	grep -q "1,973  [^ ].*fib$" "$TMP/f.txt" || fail "--sort=calls first row: $(cat "$TMP/f.txt")"
	json functions --filter '^ma' "$TMP/f" >"$TMP/m.json"
	assert_eq main "$(jq -r '[.functions[].name] | join(" ")' "$TMP/m.json")" "${v}--filter"
done
