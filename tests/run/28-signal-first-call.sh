#!/usr/bin/env bash
# The process's first instrumented call runs in a signal handler that may have interrupted a
# malloc holding glibc's arena lock (samples/handler-first.c: an uninstrumented main
# allocating past tcache with a second thread alive, a SIGALRM every 50 us whose handler is
# instrumented). The recorder measures its hooks at the first call hook (preload/cost.c);
# that measurement must not call malloc there: before the fix the run hung in
# __libc_malloc under calibrate(), with every signal blocked (so `timeout` alone could not
# end it). Every run ends and prints what the plain run prints, every handler call is
# recorded, and the start's allocation figures say they were not measured (0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq
for v in "" O2/; do
	prog="$S/${v}handler-first"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	for ev in calls calls,malloc; do
		for i in 1 2 3 4 5; do
			t="$TMP/${v%/}-$ev-$i"
			timeout -k 2 "${HANG_TIMEOUT:-30}" env PERFSHIM_EVENTS=$ev PERFSHIM_OUTPUT="$t" \
				LD_PRELOAD="$LIB" "$prog" 300 "$t.ticks" >"$t.stdout" 2>"$t.stderr"
			echo $? >"$t.rc"
			case $(cat "$t.rc") in 124 | 137) fail "${v}handler-first, $ev, run $i: hung" ;; esac
			assert_eq 0 "$(cat "$t.rc")" "${v}handler-first $ev run $i: exit status"
			[ ! -s "$t.stderr" ] || { cat "$t.stderr"; fail "stderr not empty"; }
			assert_eq "ticks: 300" "$(cat "$t.stdout")" "stdout"
			ticks=$(cat "$t.ticks")
			[ "$ticks" -ge 300 ] || fail "ticks handled: $ticks"
			funcs "$t"
			assert_eq "$ticks|$ticks" "$(calls_of "$t" on_alarm)|$(calls_of "$t" tick_work)" \
				"calls of on_alarm and tick_work (one per tick)"
		done
		json summary "$t" >"$t.json"
		assert_eq '[0,0,0]' "$(jq -c '.compensation | [.alloc_ns, .node_ns, .free_ns]' "$t.json")" \
			"$ev: the start's allocation figures (not measured in a handler)"
		assert_eq true "$(jq '.compensation.call_ns > 0' "$t.json")" "$ev: the call figure"
	done
done
