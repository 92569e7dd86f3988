#!/usr/bin/env bash
# libperfshim.so run as a program (as glibc's libc.so.6 can be): it says what it is and how
# to use it on stdout, exits 0 and records nothing; preloaded, it records as always.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq
cd "$TMP"
usage="libperfshim.so: the perfshim recorder, a library to preload into a program (it is not run by itself).
It records the calls of code built with -finstrument-functions and every malloc-family call, with
its stack, into a trace file for perfshim-analyze.

Usage: LD_PRELOAD=$LIB PROGRAM [ARGS...]
   or: perfshim [OPTIONS] [--] PROGRAM [ARGS...]

The trace goes to perfshim.PID.bin in the working directory unless PERFSHIM_OUTPUT names another
file. Other settings: PERFSHIM_EVENTS, PERFSHIM_STACK_DEPTH, PERFSHIM_STACK_SOURCE,
PERFSHIM_MIN_DURATION, PERFSHIM_BUFSIZE, PERFSHIM_MARK_SIGNAL, PERFSHIM_QUIET, PERFSHIM_DEBUG.
See libperfshim(1), perfshim(1) and perfshim-analyze(1)."

"$LIB" >out 2>err
assert_eq 0 $? "run as a program: exit status"
assert_eq "$usage" "$(cat out)" "run as a program: what it prints"
assert_eq 0 "$(wc -c <err)" "run as a program: bytes on stderr"
"$LIB" --help extra args >out 2>err
assert_eq 0 $? "with arguments: exit status"
assert_eq "$usage" "$(cat out)" "with arguments: what it prints"
# through the loader by hand: the same
/lib64/ld-linux-x86-64.so.2 "$LIB" >out 2>err
assert_eq 0 $? "through ld.so: exit status"
assert_eq "$usage" "$(cat out)" "through ld.so: what it prints"
assert_eq "" "$(ls perfshim.* 2>/dev/null)" "no trace file made"

# still a library to preload
plain p "$S/fib" 10
traced t.bin "$S/fib" 10
same_behaviour t.bin p
funcs t.bin
assert_eq 177 "$(calls_of t.bin fib)" "preloaded: fib(10) calls"
