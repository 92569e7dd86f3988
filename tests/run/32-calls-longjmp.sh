#!/usr/bin/env bash
# longjmp, _longjmp and siglongjmp out of nested calls (samples/longjmp.c): the skipped calls
# are closed at the jump, and the calls made after it nest where the program resumed, never
# under a skipped frame; after() (2 ms each) is charged to main and runner only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}longjmp"
	both "$TMP/t" "$S/${v}longjmp"
	funcs "$TMP/t"
	clean "$TMP/t"
	expect_lines "$TMP/t.f" "${v}longjmp: functions and calls" 'main|1
a|8
b|8
c|8
after|12
runner|4
rec|40'
	paths "$TMP/t"
	expect_lines "$TMP/t.p" "${v}longjmp: call paths" 'main|1
main;a|8
main;a;b|8
main;a;b;c|8
main;after|8
main;runner|4
main;runner;after|4
main;runner;rec|4
main;runner;rec;rec|4
main;runner;rec;rec;rec|4
main;runner;rec;rec;rec;rec|4
main;runner;rec;rec;rec;rec;rec|4
main;runner;rec;rec;rec;rec;rec;rec|4
main;runner;rec;rec;rec;rec;rec;rec;rec|4
main;runner;rec;rec;rec;rec;rec;rec;rec;rec|4
main;runner;rec;rec;rec;rec;rec;rec;rec;rec;rec|4
main;runner;rec;rec;rec;rec;rec;rec;rec;rec;rec;rec|4'
	# the skipped frames were closed at the jump: none holds a 2 ms after()
	c=$(field_of "$TMP/t" c total_ns)
	[ "$c" -lt 2000000 ] || fail "c() total ${c} ns: it holds time spent after the jump"
done
