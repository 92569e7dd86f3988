#!/usr/bin/env bash
# Signals that come while the program allocates and calls (samples/sigheld.c): under the
# shim most come inside its hooks, where they are held back and delivered when the hook
# ends (preload/signals-held.c). What the handlers see must be what they see without the
# shim, and the sample checks it against what the kernel promises (the runs must agree,
# and the sample exits 1 on any mismatch):
#  rt       3000 SIGRTMIN from another process, with values: in order, siginfo (code, pid,
#           uid), the mask in the handler and in its context, on the alternate stack, the
#           default rounding mode while the program rounds upward;
#  disarm   an alternate stack with SS_AUTODISARM: used, disarmed meanwhile, armed again;
#  chld     40 children: each SIGCHLD's si_status, reaped in the handler;
#  timer    a 30 us POSIX timer: SI_TIMER, si_timerid, si_value, timer_getoverrun;
#  oneshot  SA_RESETHAND: reset before the handler, flags and mask kept, 25 rounds;
#  nodefer  SA_NODEFER: the signal is not blocked in its handler, its sa_mask is;
#  threads  400 signals queued to each of 3 threads: each to its thread, in order (they
#           came out of order when a held signal was queued again behind later ones);
#  fork     1500 signals while the program forks 100 children: all handled in the parent,
#           in order, none in a child;
#  restart  a blocking read interrupted: restarted with SA_RESTART, EINTR without.
# Every part but restart must have had signals held back (counted by the sample from the
# context's pc), or the test did not test anything.
. "$(dirname "$0")/lib.sh"

for part in rt disarm chld timer oneshot nodefer threads fork restart; do
	held=0
	for v in "" O2/ plain/; do
		prog="$S/${v}sigheld"
		[ -x "$prog" ] || fail "$prog is missing (make samples)"
		t="$TMP/$part"
		plain "$t.ref" "$prog" $part "$t.ref.held"
		timeout "${HANG_TIMEOUT:-60}" env PERFSHIM_OUTPUT="$t.bin" LD_PRELOAD="$LIB" \
			"$prog" $part "$t.held" >"$t.stdout" 2>"$t.stderr"
		echo $? >"$t.rc"
		[ "$(cat "$t.rc")" != 124 ] || fail "${v}sigheld $part: hung"
		echo "== ${v}sigheld $part: $(cat "$t.stdout")"
		same_behaviour "$t" "$t.ref"
		assert_eq 0 "$(cat "$t.rc")" "${v}sigheld $part: exit status (1: a handler saw wrong)"
		assert_eq "$part held 0" "$(cat "$t.ref.held")" "${v}sigheld $part: held, no shim"
		n=$(awk '{ print $3 }' "$t.held")
		echo "   held back by the shim: $n"
		held=$((held + n))
		rm -f "$t".bin*
	done
	[ $part = restart ] || [ $held -gt 0 ] || fail "$part: no signal was held back in any run"
done
expect() { assert_eq "$2" "$(cat "$TMP/$1.stdout")" "$1: what the handlers saw"; }
expect rt "rt: 3000 signals in order, 0 with a wrong siginfo, mask or stack"
expect disarm "disarm: 1500 signals, 0 not on the disarmed stack or out of order; after: armed"
expect chld "chld: 40 children reaped in the handler, 0 with a wrong siginfo"
expect timer "timer: 1500 signals or more, 0 with a wrong siginfo or overrun"
expect oneshot "oneshot: 25 handler runs, 0 wrong actions"
expect nodefer "nodefer: 300 signals, 0 blocked in their handler or out of order"
expect threads "threads: 3 x 400 signals to their thread in order, 0 wrong"
expect fork "fork: 1500 signals in order, 100 children, 0 wrong"
expect restart "restart: SA_RESTART: read returned 1 (data), handler ran 1 times
restart: no SA_RESTART: read returned -1 (Interrupted system call), handler ran 1 times"
