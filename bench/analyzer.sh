# SPDX-License-Identifier: MIT
# bench/analyzer.sh - sourced by bench/run.sh: the analyzer rows' decode floor and the
# parallel analysis (-j N) row (docs/bench.md, "Analyzer").
#
# Decode floor: build/bench/decode-floor walks the same trace with a naive byte-at-a-time
# varint loop (no checksums, no state, no report); it runs in the same group as the
# analyzer and its peer, and its events/s is the "floor" column of each analyzer row
# (x fl = analyzer's rate / the floor's: the share of the naive loop's speed reached).
#
# -j N: when `perfshim-analyze --help` lists a -j option, the same command at -j 1 and at
# -j N (N = the CPUs here) in one group, events per second of wall time (parallelism is
# about elapsed time; CPU time would not show it), the ratio (goal >= 1.7x on 2 cores) and
# whether the two outputs are byte-identical (cmp). Without such an option the row says so.

DECODE_FLOOR="$B/bench/decode-floor"
[ -x "$DECODE_FLOOR" ] ||
	note "build/bench/decode-floor missing (make bench-tools failed?): decode floor figures are n/a"

# decode_floor_spec NAME TRACE: append the decode floor's variant to the caller's specs
decode_floor_spec() {
	[ -x "$DECODE_FLOOR" ] && [ -n "$2" ] && specs+=("$1.dfl|| $DECODE_FLOOR $2")
}

# decode_floor_rate NAME EVENTS: the floor's events/s over its median CPU, or n/a; notes a
# disagreement between its event count and the bench's
decode_floor_rate() {
	local name=$1 events=$2 seen
	seen=$(sed -n 's/^events=\([0-9]*\) .*/\1/p' "$work/$name.dfl.out" 2>/dev/null)
	[ -n "$seen" ] && [ "$seen" != "$events" ] &&
		note "$name: decode-floor counted $seen events, the bench $events"
	per "$events" "${CPU[$name.dfl]:-n/a}"
}

# analyzer_has_jobs: true when perfshim-analyze documents a -j option
analyzer_has_jobs() {
	"$ANALYZE" --help 2>&1 | grep -Eq -- '(^|[[:space:],])(-j|--jobs)([[:space:]=,]|N|$)'
}

# bench_jobs LABEL COMMAND TRACE EVENTS [GOAL]: the -j scaling row of one analyzer command.
# GOAL: the least ratio -j N / -j 1 of events/s (wall), default 1.7; "one" for a trace of one
# thread or a command that does not split (identical output is the goal, the ratio is shown).
# Beside it, the CPU seconds (user+sys) of -j 1 and -j N: the work itself, which the load of
# a shared machine skews far less than wall time, and which splitting should not grow.
bench_jobs() {
	local label=$1 cmd=$2 trace=$3 events=$4 goal=${5:-1.7} n k r1 rn ratio same target
	n=$(nproc 2>/dev/null || echo 2)
	target=">= ${goal}x, identical"
	[ "$goal" = one ] && target="identical (not split)"
	if ! analyzer_has_jobs; then
		row "$label" "events/s (wall) -j 1 -> -j $n" n/a "" "" "" "$target" \
			"n/a (perfshim-analyze --help lists no -j option)"
		return
	fi
	if [ ! -s "$trace" ]; then
		row "$label" "events/s (wall) -j 1 -> -j $n" n/a "" "" "" "$target" \
			"n/a (no trace: its recording failed)"
		return
	fi
	k="jobs-$cmd-$(basename "$trace" .bin)"
	echo "== analyzer: $cmd -j 1 and -j $n ($(basename "$trace"))" >&2
	group "$SLOW_RUNS" "$k.j1|| $ANALYZE $cmd -j 1 $trace" "$k.jn|| $ANALYZE $cmd -j $n $trace"
	r1=$(per "$events" "${WALL[$k.j1]}")
	rn=$(per "$events" "${WALL[$k.jn]}")
	ratio=$(per "$rn" "$r1")
	same=n/a
	if [ -z "${FAILED[$k.j1]:-}" ] && [ -z "${FAILED[$k.jn]:-}" ]; then
		if cmp -s "$work/$k.j1.out" "$work/$k.jn.out"; then same=yes; else same=NO; fi
	fi
	if [ "$goal" = one ]; then
		row "$label" "events/s (wall) -j 1 -> -j $n" "$(fmt "$r1") -> $(fmt "$rn")" \
			"CPU s -j 1 / -j $n" "$(fmt "${CPU[$k.j1]}") / $(fmt "${CPU[$k.jn]}")" \
			"$(xfmt "$ratio")" "$target" "$same"
	else
		row "$label" "events/s (wall) -j 1 -> -j $n" "$(fmt "$r1") -> $(fmt "$rn")" \
			"CPU s -j 1 / -j $n" "$(fmt "${CPU[$k.j1]}") / $(fmt "${CPU[$k.jn]}")" \
			"$(xfmt "$ratio")" "$target" "$(met "$ratio" ">=" "$goal")/$same"
	fi
}

# jobs_trace: the -j rows' trace of several threads, build/bench/threads-fib with 4 threads
# and BENCH_JOBS_ROUNDS (default 4800) rounds of fib(20) each, calls only: about 210 M
# events, 318 MB (docs/measurements.md). Prints its path (empty when it could not be made).
jobs_trace() {
	local tr="$work/jobs-threads-fib.bin" prog="$B/bench/threads-fib"
	[ -x "$prog" ] || return 0
	rm -f "$tr"
	env PERFSHIM_OUTPUT="$tr" PERFSHIM_EVENTS=calls LD_PRELOAD="$LIB" \
		"$prog" 4 "${BENCH_JOBS_ROUNDS:-4800}" >/dev/null 2>>"$work/analyze.err" || return 0
	[ -s "$tr" ] && echo "$tr"
}
