#!/usr/bin/env bash
# Signal handlers calling instrumented functions (samples/signals.c): they nest in the call
# they interrupted, on the thread's stack and on an alternate stack mapped above it; a
# longjmp inside the handler closes only the handler's frames, a siglongjmp out of it closes
# the handler and the interrupted call.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

for v in "" O2/; do
	echo "== build/samples/${v}signals"
	both "$TMP/t" "$S/${v}signals"
	paths "$TMP/t"
	clean "$TMP/t"
	expect_lines "$TMP/t.p" "${v}signals: call paths" 'main|1
thread_main|1
thread_main;work|9
thread_main;work;handler|5
thread_main;work;handler;in_handler|10
thread_main;work;alt_handler|4
thread_main;work;alt_handler;inner_jump|4
thread_main;work;alt_handler;in_handler|4
thread_main;deep|3
thread_main;deep;alt_handler|3
thread_main;deep;alt_handler;inner_jump|3
thread_main;deep;alt_handler;in_handler|3
thread_main;after_jump|3'
done
