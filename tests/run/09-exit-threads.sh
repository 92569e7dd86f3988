#!/usr/bin/env bash
# Process exit while threads still allocate: main returning, and exit() from a worker while
# the others run (the recorder cuts them). Each run (10 of each, instrumented and plain
# builds) must print and exit as without the shim, within the timeout (no hang), and leave a
# whole trace (no damage told by dump); after main returns, all five threads are in it.
. "$(dirname "$0")/lib.sh"
[ -f "$LIB" ] || fail "missing $LIB"
cd "$TMP" || fail "cannot cd to $TMP"

# run under the shim with the timeout outside the preload (timeout itself is not traced)
shim() {
	local out=$1; shift
	timeout -s KILL 30 sh -c 'PERFSHIM_OUTPUT="$0" LD_PRELOAD="$1" exec "$2" "$3"' \
		"$out" "$LIB" "$@" >"$out.stdout" 2>"$out.stderr"
	echo $? >"$out.rc"
}

for v in "" plain/; do
	prog="$S/${v}robust-exit"
	[ -x "$prog" ] || fail "missing $prog (make samples)"
	for mode in return exit; do
		plain p timeout -s KILL 30 "$prog" "$mode"
		want=7; [ $mode = exit ] && want=3
		assert_eq $want "$(cat p.rc)" "plain ${v}robust-exit $mode status"
		for i in $(seq 1 10); do
			shim t.bin "$prog" "$mode"
			(same_behaviour p t.bin >/dev/null) ||
				fail "${v}robust-exit $mode run $i: status $(cat t.bin.rc), stderr: $(head -c 300 t.bin.stderr)"
			"$ANALYZE" dump t.bin >dump 2>dump.err || fail "dump exited $?"
			[ -s dump.err ] && { cat dump.err; fail "${v}robust-exit $mode run $i: damaged trace"; }
			n=$(awk '$3 == "alloc" { print $2 }' dump | sort -u | wc -l)
			# main allocates (thread creation) and every worker made >= 1000 (return)
			# or worker 0 made 20000 (exit): all five threads are in the trace
			[ $mode = return ] && assert_eq 5 "$n" "threads with allocations" >/dev/null
			[ "$n" -ge 2 ] || fail "${v}robust-exit $mode run $i: only $n threads in the trace"
			rm -f t.bin*
		done
		echo "ok: ${v}robust-exit $mode: 10 runs behave and leave whole traces"
	done
done
