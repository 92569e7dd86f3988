#!/usr/bin/env bash
# Functions of a dlopen'ed library, closed and opened again (samples/symreload.c), are named
# from that library, its static function included, with the library's basename as module;
# -O0 and -O2.
. "$(dirname "$0")/lib.sh"
need_jq

rows() { jq -r --arg m "$1" '.functions[] | select(.module == $m) | "\(.name)|\(.calls)"' \
	"$TMP/f.json" | sort | tr '\n' ' ' | sed 's/ $//'; }

for v in "" O2/; do
	traced "$TMP/t" "$S/${v}symreload"
	assert_eq "sums 6 12" "$(cat "$TMP/t.stdout")" "${v}symreload output"
	assert_eq 0 "$(cat "$TMP/t.rc")" "exit status"
	json functions --limit=0 "$TMP/t" >"$TMP/f.json"
	assert_eq "sr_leaf|7 sr_work|2" "$(rows libsymreload.so)" "${v}library functions"
	assert_eq "main|1 run_once|2" "$(rows symreload)" "${v}program functions"
	assert_eq 0 "$(jq '[.functions[] | select(.name | test("\\+0x|^0x"))] | length' "$TMP/f.json")" \
		"${v}functions without a name"
done
