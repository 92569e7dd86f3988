#!/usr/bin/env bash
# perfshim-analyze -j N (issue 11): the threads of a trace decoded on N cores give the bytes
# one core gives, for the commands that split (functions, callgraph, summary, findings), in
# text and JSON, stdout and stderr (a damaged trace's warnings too); the others take -j and
# run as before; a bad -j is bad usage (one line, exit 2). Traces: samples/threads-calls (17
# threads with calls: main and 16 workers), samples/mallocbench with 2 threads (allocation
# stacks met by both), samples/fib (one thread).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq

traced "$TMP/tc" "$S/threads-calls"
assert_eq 0 "$(cat "$TMP/tc.rc")" "threads-calls under the shim: exit status"
traced "$TMP/mb" "$S/mallocbench" 20000 2
assert_eq 0 "$(cat "$TMP/mb.rc")" "mallocbench 2 threads under the shim: exit status"

# same_jobs WHAT ARGS...: -j 1, -j 2, -j 4 and --jobs=3 print the same bytes, stdout and stderr
same_jobs() {
	local what=$1 j; shift
	"$ANALYZE" "$@" -j 1 >"$TMP/j1.out" 2>"$TMP/j1.err" || fail "$what -j 1: exit $?"
	for j in "-j 2" "-j 4" "--jobs=3"; do
		# shellcheck disable=SC2086
		"$ANALYZE" "$@" $j >"$TMP/jn.out" 2>"$TMP/jn.err" || fail "$what $j: exit $?"
		cmp -s "$TMP/j1.out" "$TMP/jn.out" ||
			{ diff "$TMP/j1.out" "$TMP/jn.out" | head; fail "$what: $j output differs"; }
		cmp -s "$TMP/j1.err" "$TMP/jn.err" ||
			{ diff "$TMP/j1.err" "$TMP/jn.err" | head; fail "$what: $j stderr differs"; }
	done
	[ -s "$TMP/j1.out" ] || fail "$what: no output"
	echo "ok: $what: -j 1 = -j 2 = -j 4 = --jobs=3 ($(wc -c <"$TMP/j1.out") bytes)"
}

for t in tc mb; do
	for f in text json; do
		same_jobs "$t functions $f" functions --limit=0 --format=$f "$TMP/$t"
		same_jobs "$t callgraph $f" callgraph --format=$f "$TMP/$t"
		same_jobs "$t summary $f" summary --format=$f "$TMP/$t"
		same_jobs "$t findings $f" findings --format=$f "$TMP/$t"
	done
done
same_jobs "tc callgraph --function" callgraph --function=work --format=json "$TMP/tc"
same_jobs "tc functions --sort=p99" functions --sort=p99 --format=json "$TMP/tc"
same_jobs "tc functions csv" functions --format=csv "$TMP/tc"
# commands that do not split take -j and print what they always did
same_jobs "mb memory" memory --format=json "$TMP/mb"
same_jobs "mb leaks" leaks "$TMP/mb"
same_jobs "tc dump" dump "$TMP/tc"

# the split walk was taken (-v says what each worker did), and its numbers are the known ones
"$ANALYZE" functions -v -j 2 --format=json --limit=0 "$TMP/tc" >"$TMP/f.json" 2>"$TMP/v.err" ||
	fail "functions -v -j 2: exit $?"
grep -q "split walk: worker 1: [0-9]* streams" "$TMP/v.err" ||
	fail "-j 2 did not split the walk: $(grep split "$TMP/v.err")"
got=$(jq -r '[.functions[] | "\(.name)=\(.calls)"] | sort | join(" ")' "$TMP/f.json")
assert_eq "leaf=48015 main=1 thread_main=16 work=16005" "$got" "-j 2: calls summed over 17 threads"
"$ANALYZE" functions -v -j 1 "$TMP/tc" >/dev/null 2>"$TMP/v1.err" || fail "functions -j 1"
! grep -q "split walk" "$TMP/v1.err" || fail "-j 1 split the walk"

# damaged streams: the warnings held by the workers are said in stream order at the merge,
# so stderr is one core's too (2000 bytes changed at fixed places: several threads' chunks)
py=/usr/bin/python3
[ -x $py ] || fail "$py is missing (misc/install-deps.sh installs python3)"
cp "$TMP/tc" "$TMP/dmg"
$py - "$TMP/dmg" <<'PY' || fail "damaging the trace"
import os, random, sys
n = os.path.getsize(sys.argv[1])
random.seed(1)
with open(sys.argv[1], "r+b") as f:
    for _ in range(2000):
        off = random.randrange(4096, n)
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x5a]))
PY
"$ANALYZE" functions -j 1 "$TMP/dmg" >/dev/null 2>"$TMP/dmg.err" || fail "functions of the damaged trace"
nw=$(grep -c "warning: .*in the chunk at offset" "$TMP/dmg.err")
[ "$nw" -ge 2 ] || fail "the damaged trace has $nw damaged streams, not several"
echo "ok: $nw damaged streams"
same_jobs "damaged functions" functions --format=json "$TMP/dmg"
same_jobs "damaged summary" summary "$TMP/dmg"

# one thread: nothing to split (the same output, one core)
traced "$TMP/fib" "$S/fib" 15
same_jobs "fib functions (one thread)" functions --format=json "$TMP/fib"
"$ANALYZE" functions -v -j 2 "$TMP/fib" >/dev/null 2>"$TMP/v2.err" || fail "fib functions -j 2"
! grep -q "split walk" "$TMP/v2.err" || fail "a one-thread trace was split"
echo "ok: a one-thread trace is walked on one core"

# bad -j values: bad usage, one line, exit 2, before the trace is read
for v in 0 -1 x 1025 2.5 ""; do
	"$ANALYZE" functions -j "$v" "$TMP/tc" >"$TMP/out" 2>"$TMP/err"
	assert_eq 2 "$?" "-j '$v': exit status"
	assert_eq 1 "$(wc -l <"$TMP/err")" "-j '$v': stderr lines"
	grep -q "^perfshim-analyze: --jobs: bad value '$v' (a number from 1 to 1024)" "$TMP/err" ||
		fail "-j '$v': $(cat "$TMP/err")"
	[ ! -s "$TMP/out" ] || fail "-j '$v': printed a report"
done
"$ANALYZE" functions "$TMP/tc" -j >"$TMP/out" 2>"$TMP/err"
assert_eq 2 "$?" "-j without a value: exit status"
assert_eq 1 "$(wc -l <"$TMP/err")" "-j without a value: stderr lines"
"$ANALYZE" --help | grep -q -- "-j, --jobs=N" || fail "--help lists no -j"
"$ANALYZE" memory --help | grep -q -- "-j, --jobs=N" || fail "memory --help lists no -j"
echo "ok: bad -j values"
