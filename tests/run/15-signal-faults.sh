#!/usr/bin/env bash
# Synchronous faults go to the program's handler at once, with the kernel's own siginfo and
# context (preload/signals.c: they cannot wait, and the trampoline tail-calls the handler on
# the kernel's frame): samples/sigfaults.c skips a ud2 (SIGILL), a load from address 8
# (SIGSEGV), a division by 0 (SIGFPE), a load past a file's end (SIGBUS) and an int3
# (SIGTRAP) by moving the pc in the context, leaves a SIGSEGV by siglongjmp three times, and
# dies of a fault whose one-shot handler returns (status 139). At -O0, -O2 and uninstrumented,
# the same output and status as without the shim, and what the kernel says exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"

for v in "" O2/ plain/; do
	echo "== ${v}sigfaults"
	both "$TMP/f" "$S/${v}sigfaults"
	assert_eq 139 "$(cat "$TMP/f.rc")" "${v}sigfaults: killed by the last fault"
	assert_eq "ill    sig=4 code=2 addr+0 pc+0 below=libc.so.6
segv   sig=11 code=1 addr+0 pc+0 below=libc.so.6
fpe    sig=8 code=1 addr+0 pc+0 below=libc.so.6
bus    sig=7 code=2 addr+0 pc+0 below=libc.so.6
trap   sig=5 code=128 addr+0 pc+0 below=libc.so.6
jumps: 3
crash handler ran" "$(cat "$TMP/f.stdout")" "${v}sigfaults: what the handlers saw"
	rm -f "$TMP"/f*
done
