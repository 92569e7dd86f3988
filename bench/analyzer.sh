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

# bench_jobs LABEL COMMAND TRACE EVENTS: the -j scaling row of one analyzer command
bench_jobs() {
	local label=$1 cmd=$2 trace=$3 events=$4 n k r1 rn ratio same
	n=$(nproc 2>/dev/null || echo 2)
	if ! analyzer_has_jobs; then
		row "$label" "events/s (wall) -j 1 -> -j $n" n/a "" "" "" ">= 1.7x, identical" \
			"n/a (perfshim-analyze --help lists no -j option)"
		return
	fi
	if [ ! -s "$trace" ]; then
		row "$label" "events/s (wall) -j 1 -> -j $n" n/a "" "" "" ">= 1.7x, identical" \
			"n/a (no trace: its recording failed)"
		return
	fi
	k="jobs-$cmd"
	echo "== analyzer: $cmd -j 1 and -j $n" >&2
	group "$SLOW_RUNS" "$k.j1|| $ANALYZE $cmd -j 1 $trace" "$k.jn|| $ANALYZE $cmd -j $n $trace"
	r1=$(per "$events" "${WALL[$k.j1]}")
	rn=$(per "$events" "${WALL[$k.jn]}")
	ratio=$(per "$rn" "$r1")
	same=n/a
	if [ -z "${FAILED[$k.j1]:-}" ] && [ -z "${FAILED[$k.jn]:-}" ]; then
		if cmp -s "$work/$k.j1.out" "$work/$k.jn.out"; then same=yes; else same=NO; fi
	fi
	row "$label" "events/s (wall) -j 1 -> -j $n" "$(fmt "$r1") -> $(fmt "$rn")" "" "" \
		"$(xfmt "$ratio")" ">= 1.7x, identical" "$(met "$ratio" ">=" 1.7)/$same"
}
