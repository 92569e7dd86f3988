#!/usr/bin/env bash
# The program file changed after recording: one warning naming it (build-id differs), and the
# analysis still runs. A file that is now garbage, or gone: module+0xOFFSET names, no crash.
. "$(dirname "$0")/lib.sh"
need_jq

mkdir -p "$TMP/app"
cp "$S/cxxnames" "$TMP/app/prog"
traced "$TMP/t" "$TMP/app/prog"
assert_eq 0 "$(cat "$TMP/t.rc")" "exit status"

json functions --limit=0 "$TMP/t" >"$TMP/f.json" 2>"$TMP/err"
assert_eq 0 "$(grep -c 'build-id' "$TMP/err")" "warnings with the recorded file"
assert_eq 5 "$(jq '.functions[] | select(.name == "ns::Widget::method(int)") | .calls' "$TMP/f.json")" \
	"method(int) calls"

# another build at the same path: one warning, however many addresses are looked up
cp "$S/O2/cxxnames" "$TMP/app/prog"
for cmd in functions memory; do
	"$ANALYZE" $cmd --format=json "$TMP/t" >"$TMP/$cmd.json" 2>"$TMP/err" ||
		fail "$cmd exited $? after the file changed"
	assert_eq 1 "$(grep -c 'build-id' "$TMP/err")" "$cmd: build-id warnings"
	assert_eq 1 "$(grep -c "$TMP/app/prog" "$TMP/err")" "$cmd: warning names the file"
done
assert_eq 51 "$(jq '[.functions[] | select(.module == "prog") | .calls] | add' "$TMP/functions.json")" \
	"calls still counted"

# now garbage, then missing
head -c 5000 /dev/urandom >"$TMP/app/prog"
for state in garbage missing; do
	[ $state = missing ] && rm "$TMP/app/prog"
	json functions --limit=0 "$TMP/t" >"$TMP/f.json" 2>"$TMP/err"
	assert_eq 13 "$(jq '[.functions[] | select(.module == "prog") | .name |
		select(test("^prog\\+0x[0-9a-f]+$"))] | length' "$TMP/f.json")" "$state: module+offset rows"
done
