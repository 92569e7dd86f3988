#!/usr/bin/env bash
# Exact call counts and nesting of samples/calls.c (leaf 30x in middle 3x in top 1x, other 7x),
# -O0 and -O2: the trace holds every call, the program behaves the same (errno included);
# perfshim_mark() labels points between the calls.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}calls"
	both "$TMP/t" "$S/${v}calls"
	funcs "$TMP/t"
	clean "$TMP/t"
	expect_lines "$TMP/t.f" "${v}calls: functions and calls" 'main|1
top|1
middle|3
leaf|30
other|7'
	paths "$TMP/t"
	expect_lines "$TMP/t.p" "${v}calls: call paths" 'main|1
main;top|1
main;top;middle|3
main;top;middle;leaf|30
main;other|7'
	grep -q "^sum 298 errno 1234 1234\$" "$TMP/t.stdout" || fail "errno changed: $(cat "$TMP/t.stdout")"
	"$ANALYZE" dump "$TMP/t" >"$TMP/t.dump" || fail "dump failed"
	# calls made by main (depth 1) and the marks, in order: top, a mark, 7 x other, a mark
	assert_eq "exit mark:after-top exit exit exit exit exit exit exit mark:end" \
		"$(awk '$3 == "mark" { printf "%smark:%s", sep, $4; sep = " " }
		$3 == "exit" && $4 == "depth=1" { printf "%sexit", sep; sep = " " }' "$TMP/t.dump")" \
		"${v}calls: marks between the calls"
	# inclusive time contains the callees' time
	top=$(field_of "$TMP/t" top total_ns) mid=$(field_of "$TMP/t" middle total_ns)
	[ "$top" -ge "$mid" ] || fail "top total $top < middle total $mid"
done

# PERFSHIM_EVENTS=malloc: no calls recorded at all, still the same behaviour
PERFSHIM_EVENTS=malloc traced "$TMP/m" "$S/calls"
same_behaviour "$TMP/m" "$TMP/t.ref"
funcs "$TMP/m"
assert_eq "" "$(cat "$TMP/m.f")" "functions with PERFSHIM_EVENTS=malloc"
