#!/usr/bin/env bash
# Real programs that use signals run under the shim as without it (same stdout, stderr, exit
# status): Debian's python3 (signal.signal, getsignal over every signal, os.kill, an
# interval timer ticking while it allocates, sigwait on a blocked signal, siginterrupt, and
# at last os.kill(SIGUSR2), which kills it as without the shim: the mark handler passes a
# signal the program sends itself to the default action), and samples/sigsystem.c: system()
# and popen() with handlers installed (SIGINT and SIGQUIT ignored and SIGCHLD blocked while
# system() waits, the shell signalling its parent, the actions as they were afterwards).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
py=/usr/bin/python3
[ -x $py ] || fail "$py is missing (misc/install-deps.sh installs python3)"
cat >"$TMP/sig.py" <<'PY'
import os, signal
seen = []
def handler(sig, frame):
    seen.append(sig)
names = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)]
print("dispositions:", " ".join("%d=%s" % (s, signal.getsignal(s)) for s in names))
print("old SIGUSR1:", signal.signal(signal.SIGUSR1, handler))
os.kill(os.getpid(), signal.SIGUSR1)
print("SIGUSR1 seen:", seen)
ticks = 0
def tick(sig, frame):
    global ticks
    ticks += 1
signal.signal(signal.SIGALRM, tick)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
junk = []
while ticks < 100:
    junk.append([str(i) * 3 for i in range(200)])
    if len(junk) > 50:
        junk = []
signal.setitimer(signal.ITIMER_REAL, 0)
print("ticks >= 100:", ticks >= 100)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
os.kill(os.getpid(), signal.SIGUSR1)
print("pending:", sorted(signal.sigpending()))
print("sigwait:", signal.sigwait([signal.SIGUSR1]))
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR1])
signal.siginterrupt(signal.SIGUSR1, True)
print("SIGUSR1 now:", signal.getsignal(signal.SIGUSR1) is handler)
signal.signal(signal.SIGUSR1, signal.SIG_DFL)
print("SIGUSR1 after SIG_DFL:", signal.getsignal(signal.SIGUSR1))
print("SIGUSR2:", signal.getsignal(signal.SIGUSR2), flush=True)
os.kill(os.getpid(), signal.SIGUSR2)
print("not reached")
PY
cd "$TMP" || fail "cd $TMP"
both py $py sig.py
assert_eq 140 "$(cat py.rc)" "python3: killed by its own SIGUSR2"
grep -q "^ticks >= 100: True$" py.stdout || fail "python3: the timer did not tick"
grep -q "^sigwait: 10$" py.stdout || fail "python3: sigwait"
for v in "" O2/; do
	both "sys$(basename "$v")" "$S/${v}sigsystem"
done
assert_eq "system: exited=1 code=3, SIGINT handled 0, SIGCHLD handled 1" \
	"$(grep '^system:' sys.stdout)" "system(): SIGINT ignored, SIGCHLD after"
