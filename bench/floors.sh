# SPDX-License-Identifier: MIT
# bench/floors.sh - sourced by bench/run.sh: the floor recorders' variants and figures beside
# perfshim's on the call-heavy and allocation-heavy rows (docs/bench.md, "Floors").
#
# The floors are LD_PRELOAD libraries of build/bench/ (bench/bench.mk, `make bench-tools`):
#   call rows:       floor-cyg-record.so (rdtsc + 16-byte record per event, the "floor"
#                    column), floor-cyg-noop.so (empty hooks: -finstrument-functions itself)
#   allocation rows: floor-malloc-record.so (forwarder + 16-byte record, the "floor" column),
#                    floor-malloc-count.so (forwarder only), floor-malloc-stack.so (+ libunwind
#                    stacks into a cache), and perfshim itself at PERFSHIM_STACK_DEPTH=0
# Each runs interleaved with perfshim in the same group (same load, same medians), and its
# figure is computed exactly as perfshim's: (CPU - plain CPU) / events, and with each one's
# tiny run subtracted for "startup excluded". A floor that was not built gives n/a and one
# note, never a failure.

FLOOR_DIR="$B/bench"
declare -A FL	# the current workload's floor figures (FL[ns], FL[m], ...), set per workload

# floor_find VAR FILE: VAR = build/bench/FILE when it exists, else empty and a note
floor_find() {
	if [ -e "$FLOOR_DIR/$2" ]; then
		printf -v "$1" '%s' "$FLOOR_DIR/$2"
	else
		printf -v "$1" '%s' ""
		note "build/bench/$2 missing (make bench-tools failed?): its floor figures are n/a"
	fi
}
floor_find FL_CYG_NOOP floor-cyg-noop.so
floor_find FL_CYG_RECORD floor-cyg-record.so
floor_find FL_MALLOC_COUNT floor-malloc-count.so
floor_find FL_MALLOC_RECORD floor-malloc-record.so
floor_find FL_MALLOC_STACK floor-malloc-stack.so

# x_of A B: A / B as a ratio cell ("1.23x"), n/a when either is missing
x_of() { xfmt "$(per "$1" "$2")"; }

# ------------------------------------------------------------------ calls

# floor_specs_calls NAME PROG "ARGS" "TINY": append the call floors' variants to the caller's
# specs: the record floor (full and tiny run), the no-op hooks, the program built without
# -finstrument-functions (samples/plain/), which the no-op row needs, and for interp the
# call and allocation record floors together (its calls+malloc row).
floor_specs_calls() {
	local name=$1 prog=$2 args=$3 tiny=$4 out="$work/$name.floor"
	local uninst=${prog/\/O2\//\/plain\/}
	if [ -n "$FL_CYG_RECORD" ]; then
		specs+=("$name.fl|rm -f $out|env BENCH_FLOOR_OUTPUT=$out LD_PRELOAD=$FL_CYG_RECORD $prog $args")
		specs+=("$name.fl0|rm -f $out.0|env BENCH_FLOOR_OUTPUT=$out.0 LD_PRELOAD=$FL_CYG_RECORD $prog $tiny")
	fi
	[ -n "$FL_CYG_NOOP" ] && specs+=("$name.noop||env LD_PRELOAD=$FL_CYG_NOOP $prog $args")
	# interp's calls+malloc row: both record floors preloaded together
	[ "$name" = interp ] && [ -n "$FL_CYG_RECORD" ] && [ -n "$FL_MALLOC_RECORD" ] &&
		specs+=("$name.flall|rm -f $out.all|env BENCH_FLOOR_OUTPUT=$out.all LD_PRELOAD=$FL_CYG_RECORD:$FL_MALLOC_RECORD $prog $args")
	[ -x "$uninst" ] && [ "$uninst" != "$prog" ] && specs+=("$name.uninst||$uninst $args")
}

# floor_calls NAME CALLS: the call floors' figures into FL after the group ran
floor_calls() {
	local name=$1 calls=$2 out="$work/$name.floor"
	FL=()
	FL[cpu]=${CPU[$name.fl]:-n/a}
	FL[ns]=$(overhead_ns "${FL[cpu]}" "${CPU[$name.plain]}" "$calls")
	FL[m]=$(marginal_ns "${FL[cpu]}" "${CPU[$name.fl0]:-n/a}" "${CPU[$name.plain]}" \
		"${CPU[$name.plain0]}" "$calls")
	FL[calls]=n/a FL[b]=n/a
	if [ -s "$out" ]; then
		FL[calls]=$(( $(fsize "$out") / 32 ))	# two 16-byte records per call
		FL[b]=$(per "$(fsize "$out")" "$calls")
		[ "${FL[calls]}" = "$calls" ] ||
			note "$name: the floor recorded ${FL[calls]} calls, perfshim $calls"
	fi
	# -finstrument-functions itself: the no-op hooks over the program built without them
	FL[noop]=$(overhead_ns "${CPU[$name.noop]:-n/a}" "${CPU[$name.uninst]:-n/a}" "$calls")
	FL[ps_uninst]=$(overhead_ns "${CPU[$name.ps]}" "${CPU[$name.uninst]:-n/a}" "$calls")
}

# floor_rows_calls LABEL: the row only the floors have, after perfshim's CPU rows. "plain"
# there is the instrumented program (glibc's empty hooks); this row sets perfshim's cost
# over the program built without -finstrument-functions beside the no-op hooks' (the cost
# of the instrumentation itself, which every such tracer pays).
floor_rows_calls() {
	row "$1" "  vs uninstrumented" "$(fmt "${FL[ps_uninst]}")" "" "" "" "" "" \
		"$(isnum "${FL[noop]}" && echo "$(fmt "${FL[noop]}") no-op" || echo n/a)" \
		"$(x_of "${FL[ps_uninst]}" "${FL[noop]}")"
}

# ------------------------------------------------------------------ allocations

# floor_specs_alloc NAME "CMD" "TINY": append the allocation floors' variants and perfshim at
# stack depth 0 to the caller's specs
floor_specs_alloc() {
	local name=$1 cmd=$2 tiny=$3 out="$work/$name.floor" d0="$work/$name.d0.bin"
	local v lib
	for v in fl st; do
		lib=$FL_MALLOC_RECORD
		[ $v = st ] && lib=$FL_MALLOC_STACK
		[ -n "$lib" ] || continue
		specs+=("$name.$v|rm -f $out.$v|env BENCH_FLOOR_OUTPUT=$out.$v LD_PRELOAD=$lib $cmd")
		specs+=("$name.${v}0|rm -f $out.${v}0|env BENCH_FLOOR_OUTPUT=$out.${v}0 LD_PRELOAD=$lib $tiny")
	done
	[ -n "$FL_MALLOC_COUNT" ] &&
		specs+=("$name.cnt|rm -f $out.cnt|env BENCH_FLOOR_OUTPUT=$out.cnt LD_PRELOAD=$FL_MALLOC_COUNT $cmd")
	specs+=("$name.d0|rm -f $d0|env PERFSHIM_OUTPUT=$d0 PERFSHIM_STACK_DEPTH=0 LD_PRELOAD=$LIB $cmd")
	specs+=("$name.d00|rm -f $d0|env PERFSHIM_OUTPUT=$d0 PERFSHIM_STACK_DEPTH=0 LD_PRELOAD=$LIB $tiny")
}

# floor_alloc NAME EVENTS: the allocation floors' figures into FL after the group ran
floor_alloc() {
	local name=$1 events=$2 out="$work/$name.floor" v
	FL=()
	for v in fl st cnt d0; do
		FL[$v.cpu]=${CPU[$name.$v]:-n/a}
		FL[$v]=$(overhead_ns "${FL[$v.cpu]}" "${CPU[$name.plain]}" "$events")
	done
	for v in fl st; do
		FL[$v.m]=$(marginal_ns "${FL[$v.cpu]}" "${CPU[$name.${v}0]:-n/a}" "${CPU[$name.plain]}" \
			"${CPU[$name.plain0]}" "$events")
	done
	FL[d0.m]=$(marginal_ns "${FL[d0.cpu]}" "${CPU[$name.d00]:-n/a}" "${CPU[$name.plain]}" \
		"${CPU[$name.plain0]}" "$events")
	FL[events]=n/a FL[b]=n/a
	if [ -s "$out.fl" ]; then
		FL[events]=$(( $(fsize "$out.fl") / 16 ))
		FL[b]=$(per "$(fsize "$out.fl")" "$events")
		[ "${FL[events]}" = "$events" ] ||
			note "$name: the floor recorded ${FL[events]} events, perfshim $events"
	fi
	if [ -s "$out.cnt" ] && [ "$(cat "$out.cnt")" != "$events" ]; then
		note "$name: the counting floor saw $(cat "$out.cnt") events, perfshim $events"
	fi
}

# floor_rows_alloc LABEL PS_NS PS_M: the rows only the floors have, after perfshim's CPU rows
floor_rows_alloc() {
	local label=$1 ps_ns=$2 ps_m=$3
	row "$label" "  vs stack floor" "$(fmt "$ps_ns")" "" "" "" "" "" \
		"$(fmt "${FL[st]}")" "$(x_of "$ps_ns" "${FL[st]}")"
	row "$label" "    startup excluded" "$(fmt "$ps_m")" "" "" "" "" "" \
		"$(fmt "${FL[st.m]}")" "$(x_of "$ps_m" "${FL[st.m]}")"
	row "$label" "  vs forwarding only" "$(fmt "$ps_ns")" "" "" "" "" "" \
		"$(fmt "${FL[cnt]}")" "$(x_of "$ps_ns" "${FL[cnt]}")"
	row "$label" "  at stack depth 0" "$(fmt "${FL[d0]}")" "" "" "" "" "" \
		"$(fmt "${FL[fl]}")" "$(x_of "${FL[d0]}" "${FL[fl]}")"
	row "$label" "    startup excluded" "$(fmt "${FL[d0.m]}")" "" "" "" "" "" \
		"$(fmt "${FL[fl.m]}")" "$(x_of "${FL[d0.m]}" "${FL[fl.m]}")"
}

# alloc_targets NAME: the goals of an allocation workload's CPU rows, as "TARGET|MET-EXPR"
# pieces used by bench_alloc: mallocbench <= 40 ns and <= 4x the floor (issue 11) and
# >= 5x less than heaptrack; sqlite3 >= 8x less than heaptrack with start-up excluded.
alloc_target() { # NAME KIND(ns|m) PS FLOOR_RATIO PEER_RATIO -> "TARGET<TAB>MET"
	local name=$1 kind=$2 ps=$3 xfl=$4 xpeer=$5
	case $name in
	mallocbench*)
		printf '%s\t%s' "<= 40 ns, <= 4x fl, peer >= 5x" \
			"$(met "$ps" "<=" 40)/$(met "$xfl" "<=" 4)/$(met "$xpeer" ">=" 5)" ;;
	*)
		if [ "$kind" = m ]; then
			printf '%s\t%s' "peer >= 8x" "$(met "$xpeer" ">=" 8)"
		else
			printf '%s\t%s' "peer >= 5x" "$(met "$xpeer" ">=" 5)"
		fi ;;
	esac
}
