#!/usr/bin/env bash
# sigaction() and the other libc calls under the shim (which installs its trampoline in the
# kernel in place of every handler: preload/signals.c) report and behave exactly as without
# it (samples/sigactions.c, at -O0 and -O2, the same stdout, stderr and exit status):
#  views  a handler installed before any constructor (preinit_array) stays and runs;
#         SA_RESETHAND's reset keeps the flags and the mask, as the kernel's does, and the
#         second signal kills (status 138); signal/bsd_signal/ssignal/sysv_signal/sigset/
#         siginterrupt flags and masks; SIG_IGN/SIG_DFL round trips; the handler pointer
#         compared; a handler without SA_SIGINFO reading the context through its third
#         argument (the interrupted mask, a pc in libc, on the alternate stack, libc's signal
#         frame right under it: the trampoline is gone by a tail call); SA_NODEFER; sigaction
#         from a handler; a blocked signal read from a signalfd (no handler runs); SIGUSR2
#         (the mark signal) shown as SIG_DFL.
#  vfork  a vfork child's signal(SIG_DFL) before exec does not take the parent's handler away
#         (it did: the parent died of its next SIGUSR1).
#  fork   fork while another thread is in sigaction: every child installs a handler (it
#         hung: the child inherited the lock taken by the other thread).
#  raw    a handler installed by the rt_sigaction system call is reported and runs.
. "$(dirname "$0")/lib.sh"

for v in "" O2/; do
	prog="$S/${v}sigactions"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	for mode in views vfork fork raw; do
		t="$TMP/$mode"
		plain "$t.ref" "$prog" $mode
		timeout "${HANG_TIMEOUT:-60}" env PERFSHIM_OUTPUT="$t.bin" LD_PRELOAD="$LIB" \
			"$prog" $mode >"$t.stdout" 2>"$t.stderr"
		echo $? >"$t.rc"
		[ "$(cat "$t.rc")" != 124 ] || fail "${v}sigactions $mode: hung"
		echo "== ${v}sigactions $mode"
		same_behaviour "$t" "$t.ref"
		[ -s "$t.bin" ] || fail "${v}sigactions $mode: no trace"
		rm -f "$t".bin*
	done
	# what the kernel itself says, so that the comparison cannot pass on two wrong runs
	assert_eq 138 "$(cat "$TMP/views.rc")" "${v}views: killed by the one-shot signal"
	assert_eq "one-shot after a signal      SIG_DFL  flags=0x94000004 mask=1,12," \
		"$(grep '^one-shot after' "$TMP/views.stdout")" "${v}views: SA_RESETHAND's reset"
	three="sig=28 uc_mask(HUP,TERM,self)=100 mask(HUP,TERM,self)=111 pc_in=libc.so.6"
	assert_eq "$three onstack=1 caller_in=libc.so.6" \
		"$(grep '^sig=28' "$TMP/views.stdout")" "${v}views: three-argument handler"
	assert_eq "before constructors: SIGUSR2 SIG_DFL|its handler ran 1 times" \
		"$(sed -n 1p "$TMP/views.stdout")|$(sed -n 3p "$TMP/views.stdout")" \
		"${v}views: installed before the constructors"
	assert_eq "signalfd: signal 27 code -6 pid_is_mine 1, handler ran 0 times" \
		"$(grep '^signalfd' "$TMP/views.stdout")" "${v}views: signalfd"
	assert_eq "SIGUSR2 at start             SIG_DFL  flags=0 mask=" \
		"$(grep '^SIGUSR2 at start' "$TMP/views.stdout")" "${v}views: the mark signal"
	assert_eq "parent's handler ran 2 times" "$(grep '^parent.s handler' "$TMP/vfork.stdout")" \
		"${v}vfork: parent's handlers"
	assert_eq "children that installed a handler: 200 of 200" "$(cat "$TMP/fork.stdout")" \
		"${v}fork: children"
	assert_eq "raw handler ran 1 times" "$(grep '^raw handler' "$TMP/raw.stdout")" "${v}raw"
done
