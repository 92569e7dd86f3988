#!/usr/bin/env bash
# Runs every tests/run/NN-name.sh (or those named on the command line) and prints one line
# per test, then "N passed, N failed". Each test exits 0 (pass), 77 (skip) or other (fail);
# its output is kept in build/tests/run/NN-name.log and shown when it fails, the test's own
# "FAIL: ..." line first.
#
# Tests run TEST_JOBS at a time (default: the number of CPUs, nproc); TEST_JOBS=1 runs them
# one after another in name order, as before. A test with a line "# serial: WHY" in its
# header (it measures time or CPU, so another test beside it moves its figures, or it needs
# the machine to itself) runs alone, before the others start. Whatever the order they run in,
# the lines come out in name order: each as soon as it and every test before it are done.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
logdir="$top/build/tests/run"
mkdir -p "$logdir"
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "run-all.sh: TEST_JOBS must be a number above 0, not '$jobs'" >&2; exit 2; }
pass=0 fail=0 skip=0 failed=()
if [ $# -gt 0 ]; then tests=("$@"); else tests=("$here"/[0-9][0-9]-*.sh); fi
names=() alone=() together=()
for i in "${!tests[@]}"; do
	names[i]=$(basename "${tests[i]}" .sh)
	rm -f "$logdir/${names[i]}.result"
	if [ "$jobs" -gt 1 ] && grep -q '^# serial:' "${tests[i]}" 2>/dev/null; then
		alone+=("$i")
	else
		together+=("$i")
	fi
done

# run_one I: runs test I (in the background: its own job) and leaves "STATUS SECONDS" in
# build/tests/run/NAME.result once it is done. timeout puts the test in a process group of
# its own, so an interrupted run-all passes its TERM on (see the trap below).
run_one() {
	local name=${names[$1]} start rc pid
	start=$(date +%s)
	(cd "$top" && TOP="$top" exec timeout 600 bash "${tests[$1]}") >"$logdir/$name.log" 2>&1 &
	pid=$!
	trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit 143' TERM
	wait $pid
	rc=$?
	echo "$rc $(( $(date +%s) - start ))" >"$logdir/$name.result.new"
	mv "$logdir/$name.result.new" "$logdir/$name.result"
}

# report: prints the lines of the tests done, in name order, up to the first one not done
next=0
report() {
	local name rc secs log
	while [ $next -lt ${#tests[@]} ] && [ -e "$logdir/${names[next]}.result" ]; do
		name=${names[next]} log="$logdir/${names[next]}.log"
		read -r rc secs <"$logdir/$name.result"
		next=$((next + 1))
		case $rc in
		0) pass=$((pass + 1)); printf 'PASS  %-40s %3ss\n' "$name" "$secs" ;;
		77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n 1 "$log")" ;;
		*) fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %-40s (exit %d)\n' "$name" "$rc"
		   # the reason first (a viewer that shortens long output keeps the head), then the tail
		   grep -m 3 '^FAIL: ' "$log" | sed 's/^/    > /'
		   sed 's/^/    | /' "$log" | tail -n 40 ;;
		esac
	done
}

trap 'kill -TERM $(jobs -p) 2>/dev/null; wait; echo "integration: interrupted"; exit 130' INT TERM
running() { jobs -rp | wc -l; }

if [ "$jobs" -gt 1 ]; then
	echo "integration: ${#tests[@]} test(s), $jobs at a time; ${#alone[@]} marked serial first, alone"
fi
for i in "${alone[@]}" "${together[@]}"; do
	while [ "$(running)" -ge "$jobs" ]; do wait -n; report; done
	run_one "$i" &
	# a serial test runs alone: nothing else starts until it is done
	case " ${alone[*]} " in *" $i "*) wait; report ;; esac
done
wait
report
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
