# SPDX-License-Identifier: MIT
# bench/threads.sh - sourced by bench/run.sh: the thread scaling rows (docs/bench.md,
# "Threads"). The same work split over 1, 2, 4, 8 and 16 threads:
#   calls:       build/bench/threads-fib T ROUNDS (ROUNDS x fib(20), 21891 calls each)
#   allocations: samples/plain/mallocbench PAIRS T
# perfshim, its floor (floor-cyg-record.so, floor-malloc-record.so), uftrace and heaptrack,
# all thread counts of a kind in one group (interleaved run by run, so they share the load),
# CPU ns per event with each tool's tiny run of the same thread count subtracted (thread
# creation and the tools' start-up are not per event). The last row of each kind is the
# 16-thread figure over the 1-thread one: "flat" is the goal (issue 11: perfshim stays flat
# where uftrace and heaptrack degrade 9% and 15%), read as <= 1.10x.

TH_LIST=${BENCH_THREADS:-1 2 4 8 16}
TH_ROUNDS=${BENCH_THREADS_ROUNDS:-96}
TH_PAIRS=${BENCH_THREADS_MALLOC:-1000000}
TH_FIB_CALLS=21891	# calls of fib(20): 2 fib(21) - 1

# th_row KIND T PEER: one thread count's row from TH[...] (set by the bench_threads_* below)
th_row() {
	local kind=$1 t=$2 peer=$3 ps fl pe
	ps=${TH[$kind.$t.ps]} fl=${TH[$kind.$t.fl]} pe=${TH[$kind.$t.peer]}
	row "threads: $kind, $t thread$([ "$t" = 1 ] || echo s)" "CPU ns/event, startup excl." \
		"$(fmt "$ps")" "$peer" "$(fmt "$pe")" "$(x_of "$pe" "$ps")" "" "" \
		"$(fmt "$fl")" "$(x_of "$ps" "$fl")"
}

# th_flat KIND PEER: the 16-thread (largest) figure over the 1-thread (smallest) one
th_flat() {
	local kind=$1 peer=$2 lo hi r
	lo=${TH_LIST%% *} hi=${TH_LIST##* }
	r=$(per "${TH[$kind.$hi.ps]}" "${TH[$kind.$lo.ps]}")
	row "threads: $kind, $hi vs $lo" "ns/event, $hi/$lo threads" "$(xfmt "$r")" "$peer" \
		"$(x_of "${TH[$kind.$hi.peer]}" "${TH[$kind.$lo.peer]}")" "" "flat: <= 1.10x" \
		"$(met "$r" "<=" 1.10)" "$(x_of "${TH[$kind.$hi.fl]}" "${TH[$kind.$lo.fl]}")" ""
}

declare -A TH

# bench_threads_calls: threads-fib under perfshim (calls only), the call floor and uftrace
bench_threads_calls() {
	local prog="$B/bench/threads-fib" t k ud tr fo calls own
	local -a specs=()
	if [ ! -x "$prog" ]; then
		row "threads: calls" "CPU ns/event, startup excl." n/a "" "" "" "" \
			"n/a (build/bench/threads-fib missing: make bench-tools)"
		return
	fi
	for t in $TH_LIST; do
		k=thc$t tr="$work/$k.bin" fo="$work/$k.floor" ud="$work/$k.uftrace"
		specs+=("$k.plain||$prog $t $TH_ROUNDS" "$k.plain0||$prog $t 0")
		specs+=("$k.ps|rm -f $tr|env PERFSHIM_OUTPUT=$tr PERFSHIM_EVENTS=calls LD_PRELOAD=$LIB $prog $t $TH_ROUNDS")
		specs+=("$k.ps0|rm -f $tr.0|env PERFSHIM_OUTPUT=$tr.0 PERFSHIM_EVENTS=calls LD_PRELOAD=$LIB $prog $t 0")
		if [ -n "$FL_CYG_RECORD" ]; then
			specs+=("$k.fl|rm -f $fo|env BENCH_FLOOR_OUTPUT=$fo LD_PRELOAD=$FL_CYG_RECORD $prog $t $TH_ROUNDS")
			specs+=("$k.fl0|rm -f $fo.0|env BENCH_FLOOR_OUTPUT=$fo.0 LD_PRELOAD=$FL_CYG_RECORD $prog $t 0")
		fi
		if [ $uftrace_ok = 1 ]; then
			specs+=("$k.uft|rm -rf $ud|uftrace record --no-libcall -d $ud $prog $t $TH_ROUNDS")
			specs+=("$k.uft0|rm -rf $ud|uftrace record --no-libcall -d $ud $prog $t 0")
		fi
	done
	echo "== threads, calls: ${#specs[@]} variants x $SLOW_RUNS runs" >&2
	group "$SLOW_RUNS" "${specs[@]}"
	for t in $TH_LIST; do
		k=thc$t
		# calls: fib's (the program counts them) + work() per thread + main
		own=$(sed -n 's/.*calls of fib: //p' "$work/$k.plain.out")
		calls=n/a
		isnum "$own" && calls=$(( own + t + 1 ))
		[ "$calls" = $(( TH_ROUNDS * TH_FIB_CALLS + t + 1 )) ] ||
			note "threads-fib $t: $calls calls, expected $(( TH_ROUNDS * TH_FIB_CALLS + t + 1 ))"
		TH[calls.$t.ps]=$(th_marginal "$k" ps "$(calc "2 * $calls")")
		TH[calls.$t.fl]=$(th_marginal "$k" fl "$(calc "2 * $calls")")
		TH[calls.$t.peer]=$(th_marginal "$k" uft "$(calc "2 * $calls")")
		th_row calls "$t" uftrace
	done
	th_flat calls uftrace
}

# th_marginal KEY VARIANT EVENTS: (VARIANT - its tiny run) - (plain - plain's tiny run), per event
th_marginal() {
	marginal_ns "${CPU[$1.$2]:-n/a}" "${CPU[$1.${2}0]:-n/a}" "${CPU[$1.plain]}" \
		"${CPU[$1.plain0]}" "$3"
}

# bench_threads_alloc: mallocbench PAIRS T under perfshim (defaults), the allocation floor
# and heaptrack; events counted from perfshim's trace
bench_threads_alloc() {
	local prog="$B/samples/plain/mallocbench" t k tr fo ht events tj
	local -a specs=()
	for t in $TH_LIST; do
		k=thm$t tr="$work/$k.bin" fo="$work/$k.floor" ht="$work/$k.heaptrack"
		specs+=("$k.plain||$prog $TH_PAIRS $t" "$k.plain0||$prog $t $t")
		specs+=("$k.ps|rm -f $tr|env PERFSHIM_OUTPUT=$tr LD_PRELOAD=$LIB $prog $TH_PAIRS $t")
		specs+=("$k.ps0|rm -f $tr.0|env PERFSHIM_OUTPUT=$tr.0 LD_PRELOAD=$LIB $prog $t $t")
		if [ -n "$FL_MALLOC_RECORD" ]; then
			specs+=("$k.fl|rm -f $fo|env BENCH_FLOOR_OUTPUT=$fo LD_PRELOAD=$FL_MALLOC_RECORD $prog $TH_PAIRS $t")
			specs+=("$k.fl0|rm -f $fo.0|env BENCH_FLOOR_OUTPUT=$fo.0 LD_PRELOAD=$FL_MALLOC_RECORD $prog $t $t")
		fi
		if [ $heaptrack_ok = 1 ]; then
			specs+=("$k.ht|rm -f $ht.*|heaptrack -o $ht $prog $TH_PAIRS $t")
			specs+=("$k.ht0|rm -f $ht.*|heaptrack -o $ht $prog $t $t")
		fi
	done
	echo "== threads, allocations: ${#specs[@]} variants x $SLOW_RUNS runs" >&2
	group "$SLOW_RUNS" "${specs[@]}"
	for t in $TH_LIST; do
		k=thm$t
		tj=$(trace_json "$work/$k.bin")
		events=$(calc "$(json_get '.events.allocs' <<<"$tj") + $(json_get '.events.frees' <<<"$tj") + 2 * $(json_get '.events.reallocs' <<<"$tj")")
		isnum "$events" || note "mallocbench $TH_PAIRS $t: no event count from perfshim-analyze"
		TH[allocations.$t.ps]=$(th_marginal "$k" ps "$events")
		TH[allocations.$t.fl]=$(th_marginal "$k" fl "$events")
		TH[allocations.$t.peer]=$(th_marginal "$k" ht "$events")
		th_row allocations "$t" heaptrack
	done
	th_flat allocations heaptrack
}
