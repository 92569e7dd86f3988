#!/usr/bin/env bash
# Runs every tests/run/NN-name.sh (or those named on the command line) and prints one line
# per test, then "N passed, N failed". Each test exits 0 (pass), 77 (skip) or other (fail);
# its output is kept in build/tests/run/NN-name.log and shown when it fails, the test's own
# "FAIL: ..." line first.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
logdir="$top/build/tests/run"
mkdir -p "$logdir"
pass=0 fail=0 skip=0 failed=()
if [ $# -gt 0 ]; then tests=("$@"); else tests=("$here"/[0-9][0-9]-*.sh); fi
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	log="$logdir/$name.log"
	start=$(date +%s)
	(cd "$top" && TOP="$top" timeout 600 bash "$t") >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS  %-40s %3ss\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n 1 "$log")" ;;
	*) fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %-40s (exit %d)\n' "$name" "$rc"
	   # the reason first (a viewer that shortens long output keeps the head), then the tail
	   grep -m 3 '^FAIL: ' "$log" | sed 's/^/    > /'
	   sed 's/^/    | /' "$log" | tail -n 40 ;;
	esac
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
