#!/usr/bin/env bash
# C++ exceptions (samples/exceptions.cc) thrown 3 frames deep and caught: gcc's cleanups
# close the C++ frames; cframe(), built like C code (no cleanups), is closed at the catch,
# so the calls after the catch nest in the catching function.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}exceptions"
	both "$TMP/t" "$S/${v}exceptions"
	funcs "$TMP/t"
	clean "$TMP/t"
	expect_lines "$TMP/t.f" "${v}exceptions: functions and calls" 'main|1
level1(int)|8
level2(int)|8
thrower(int)|8
caught(int)|7
after()|4
cframe|3
through_c(int)|3'
	paths "$TMP/t"
	expect_lines "$TMP/t.p" "${v}exceptions: call paths" 'main|1
main;level1(int)|5
main;level1(int);level2(int)|5
main;level1(int);level2(int);thrower(int)|5
main;caught(int)|4
main;through_c(int)|3
main;through_c(int);cframe|3
main;through_c(int);cframe;level1(int)|3
main;through_c(int);cframe;level1(int);level2(int)|3
main;through_c(int);cframe;level1(int);level2(int);thrower(int)|3
main;through_c(int);caught(int)|3
main;through_c(int);after()|3
main;after()|1'
done
