#!/usr/bin/env bash
# Functions of a dlopen'ed library (loaded, closed, loaded again at the same address) are named
# from that library, static ones included, with its basename as module.
. "$(dirname "$0")/lib.sh"
need_jq

traced "$TMP/t" "$S/dlopen"
assert_eq 0 "$(cat "$TMP/t.rc")" "exit status"
json functions --limit=0 "$TMP/t" >"$TMP/f.json"
got=$(jq -r '.functions[] | select(.module == "libplugin.so") | "\(.name)|\(.calls)"' "$TMP/f.json" | sort)
assert_eq "plugin_leaf|5
plugin_release|2
plugin_work|2" "$got" "plugin functions"
# the program's own (a static function among them), named from the executable
assert_eq "main|1 run|2" "$(jq -r '.functions[] | select(.module == "dlopen") |
	select(.name == "main" or .name == "run") | "\(.name)|\(.calls)"' \
	"$TMP/f.json" | sort | tr '\n' ' ' | sed 's/ $//')" "program functions"
assert_eq 0 "$(jq '[.functions[] | select(.name | test("\\+0x"))] | length' "$TMP/f.json")" \
	"functions without a name"
