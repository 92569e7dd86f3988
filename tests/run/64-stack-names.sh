#!/usr/bin/env bash
# Allocation stacks are printed with demangled names: the 4-byte Widget that ns::Widget::make()
# allocates with new has ns::Widget::make() then main in its stack, in that order.
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/; do
	traced "$TMP/t" "$S/${v}cxxnames"
	json memory --limit=0 "$TMP/t" >"$TMP/m.json"
	sites=$(jq -c '[.sites[] | select(.stack | index("ns::Widget::make()"))]' "$TMP/m.json")
	assert_eq 1 "$(jq length <<<"$sites")" "${v}: sites under make()"
	assert_eq 4 "$(jq '.[0].bytes' <<<"$sites")" "${v}: bytes"
	assert_eq 1 "$(jq '.[0].allocations' <<<"$sites")" "${v}: allocations"
	assert_eq true "$(jq '.[0].stack | index("ns::Widget::make()") < index("main")' <<<"$sites")" \
		"${v}: make() inside main"
	assert_eq 0 "$(jq '[.sites[].stack[] | select(startswith("_Z"))] | length' "$TMP/m.json")" \
		"${v}: mangled frames"
done
