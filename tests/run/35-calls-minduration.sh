#!/usr/bin/env bash
# PERFSHIM_MIN_DURATION=500us (samples/minduration.c): the 2 ms calls and their callers are
# kept with their true times, the 5 us calls and a parent of only short calls leave nothing.
# A loaded machine can stretch a 5 us call past 500 us, so a mismatch is retried twice.
# serial: a 5 us call stretched past 500 us by another test beside it changes what is kept
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

check() {
	local t=$1
	funcs "$t"
	[ "$(cat "$t.f")" == "$(sort <<<'main|1
mixed|1
slow|4')" ] || { echo "functions: $(tr '\n' ' ' <"$t.f")"; return 1; }
	paths "$t"
	[ "$(cat "$t.p")" == "$(sort <<<'main|1
main;slow|3
main;mixed|1
main;mixed;slow|1')" ] || { echo "paths: $(tr '\n' ' ' <"$t.p")"; return 1; }
	# entries written late keep their own times: each slow() lasted at least its 2 ms spin
	min=$(field_of "$t" slow min_ns)
	[ "$min" -ge 2000000 ] || { echo "slow() min ${min} ns < 2 ms"; return 1; }
	min=$(field_of "$t" mixed min_ns)
	[ "$min" -ge 2000000 ] || { echo "mixed() ${min} ns < 2 ms"; return 1; }
}

for v in "" O2/; do
	echo "== build/samples/${v}minduration"
	ok=
	for try in 1 2 3; do
		plain "$TMP/ref" "$S/${v}minduration"
		PERFSHIM_MIN_DURATION=500us traced "$TMP/t" "$S/${v}minduration"
		same_behaviour "$TMP/t" "$TMP/ref"
		if check "$TMP/t"; then ok=1; break; fi
		echo "try $try did not match"
	done
	[ -n "$ok" ] || fail "${v}minduration: the trace never matched"
	echo "ok: ${v}minduration with PERFSHIM_MIN_DURATION=500us"
	# without the threshold every call is there
	traced "$TMP/all" "$S/${v}minduration"
	funcs "$TMP/all"
	clean "$TMP/all"
	expect_lines "$TMP/all.f" "${v}minduration without a threshold" 'main|1
mixed|1
quick|23
shortparent|2
slow|4'
done
