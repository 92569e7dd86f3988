#!/usr/bin/env bash
# 600 distinct functions (samples/manyfuncs.c), fN called (N - 100) % 7 + 1 times: every
# function gets its own id and exact count while the per-thread function table grows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}manyfuncs"
	both "$TMP/t" "$S/${v}manyfuncs"
	funcs "$TMP/t"
	clean "$TMP/t"
	jq '[.functions[] | select(.name | test("^f[0-9]+$"))]' "$TMP/t.fjson" >"$TMP/f.json"
	assert_eq 600 "$(jq length "$TMP/f.json")" "${v}manyfuncs: functions f100..f699"
	assert_eq 2395 "$(jq 'map(.calls) | add' "$TMP/f.json")" "${v}manyfuncs: their calls"
	assert_eq "" "$(jq -r '.[] | (.name[1:] | tonumber) as $n |
		select(.calls != (($n - 100) % 7 + 1)) | "\(.name)=\(.calls)"' "$TMP/f.json")" \
		"${v}manyfuncs: functions with a wrong count"
	assert_eq 1 "$(calls_of "$TMP/t" main)" "${v}manyfuncs: main"
done
