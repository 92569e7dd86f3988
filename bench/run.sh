#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh - `make bench`: perfshim beside its peers on the same binaries, in one run.
#
#   call-heavy:       fib and the toy interpreter (instrumented, -O2): plain, perfshim, uftrace
#   allocation-heavy: mallocbench (1 and 2 threads) and sqlite3 (not instrumented): plain,
#                     perfshim, heaptrack
#   analyzer:         perfshim-analyze functions/callgraph/memory/leaks vs uftrace report/graph
#                     and heaptrack_print, beside a naive varint decode of the same trace;
#                     the -j N scaling row (bench/analyzer.sh)
#   floors:           on every call and allocation row, the floor recorders of build/bench/
#                     measured in the same groups, and "x fl" = perfshim / floor (bench/floors.sh)
#   threads:          calls and allocations with 1..16 threads (bench/threads.sh)
#   instructions:     instructions per event from callgrind on fib and mallocbench
#                     (bench/callgrind.sh), beside the CPU figures
#   accuracy:         bench/accuracy.sh: self time shares against perf sampling (docs/accuracy.md)
#   sampling:         bench/sampling.sh: PERFSHIM_SAMPLE=512K on mallocbench and sqlite3
#                     (docs/sampling.md)
#
# CPU time is user+sys of the command and all its waited-for children (bench/cputime.c, a
# getrusage wrapper: /usr/bin/time rounds to 10 ms), so a shared, busy machine skews it far
# less than wall time. Each figure is the median of BENCH_RUNS runs (default 5,
# 3 for the slow peers), the variants of one workload interleaved run by run. Overhead per
# event = (median CPU - median plain CPU) / events, events counted exactly from the trace;
# "startup excluded" subtracts each tool's own cost on a tiny run of the same program too
# (uftrace and heaptrack start helper processes and load symbols: a fixed cost, not per event).
# Traces and peers' data go to build/bench/work (on disk); the table goes to stdout and to
# build/bench/results.txt. A missing peer gives "n/a" and the reason, never a failure.
#
# Knobs: BENCH_NO_INSTALL=1 (do not install missing peers), BENCH_RUNS=N, BENCH_FIB=N (fib argument), BENCH_INTERP=N (bench.toy argument),
#        BENCH_MALLOC=N (mallocbench pairs), BENCH_QUICK=1 (small sizes, 3 runs: a smoke run),
#        BENCH_THREADS="1 2 4 8 16", BENCH_THREADS_ROUNDS=N (fib(20) rounds), BENCH_THREADS_MALLOC=N
#        (pairs), BENCH_CALLGRIND=0 (skip the instruction counts), BENCH_CG_FIB=N, BENCH_CG_MALLOC=N.
#        BENCH_ACCURACY=0 (no accuracy rows; bench/accuracy.sh lists its own BENCH_ACC_* knobs).
#        BENCH_SAMPLING=0 (no sampling rows; bench/sampling.sh, BENCH_SAMPLE=512K).
# docs/bench.md says what every row measures.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
B="$top/build"
LIB="$B/libperfshim.so"
ANALYZE="$B/perfshim-analyze"
out="$B/bench"
work="$out/work"
results="$out/results.txt"
TIME=/usr/bin/time

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_RUNS:=3}" "${BENCH_FIB:=25}" "${BENCH_INTERP:=8}" "${BENCH_MALLOC:=200000}"
	: "${BENCH_THREADS_ROUNDS:=16}" "${BENCH_THREADS_MALLOC:=100000}" "${BENCH_CG_FIB:=18}"
	: "${BENCH_CG_MALLOC:=10000}"
fi
RUNS=${BENCH_RUNS:-5}
SLOW_RUNS=$(( RUNS < 3 ? RUNS : 3 ))
FIB_N=${BENCH_FIB:-31}
INTERP_N=${BENCH_INTERP:-18}
MALLOC_N=${BENCH_MALLOC:-2000000}
SQL_ROWS=${BENCH_SQL_ROWS:-60000}

rm -rf "$work"
mkdir -p "$work"
load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
notes=()
note() { notes+=("$*"); echo "  note: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# The peers: installed when missing and possible (root or sudo); otherwise their rows say n/a.
if [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
	"$top/misc/install-deps.sh" --bench >&2 ||
		note "misc/install-deps.sh --bench failed: missing peers are reported as n/a"
fi

CPUTIME="$out/cputime"
if ! ${CC:-cc} -O2 -o "$CPUTIME" "$top/bench/cputime.c" 2>"$work/cputime.err"; then
	CPUTIME=
	note "bench/cputime.c did not build ($(head -n 1 "$work/cputime.err")): /usr/bin/time, 10 ms resolution"
	if [ ! -x "$TIME" ]; then
		echo "bench: $TIME is missing too (Debian package 'time'; misc/install-deps.sh --bench)" >&2
		exit 1
	fi
fi
for f in "$LIB" "$ANALYZE" "$B/samples/O2/fib" "$B/samples/O2/interp" "$B/samples/plain/mallocbench"; do
	[ -e "$f" ] || note "missing $f (run make all samples)"
done

# ------------------------------------------------------------------ measuring

declare -A CPU RSS WALL FAILED

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "" }'; }

# run_once KEY CMD: run CMD (a shell string) under /usr/bin/time, append user+sys seconds and
# peak RSS (KiB) to KEY's samples. Output goes to $work/KEY.out/.err.
run_once() {
	local key=$1 cmd=$2 rc
	if [ -n "$CPUTIME" ]; then
		eval "'$CPUTIME' '$work/$key.time' $cmd" </dev/null >"$work/$key.out" 2>"$work/$key.err"
	else
		eval "$TIME -f '%U %S %M %e' -o '$work/$key.time' $cmd" \
			</dev/null >"$work/$key.out" 2>"$work/$key.err"
	fi
	rc=$?
	if [ $rc -ne 0 ]; then
		FAILED[$key]="exit $rc: $(grep -v '^Command exited' "$work/$key.err" | tail -n 1)"
		return 1
	fi
	if [ -n "$CPUTIME" ]; then
		tail -n 1 "$work/$key.time" >>"$work/$key.samples"
	else
		tail -n 1 "$work/$key.time" | awk '{ printf "%.3f %d %s\n", $1 + $2, $3, $4 }' >>"$work/$key.samples"
	fi
}

# group RUNS "KEY|PREP|CMD"...: RUNS rounds, each running every variant once (PREP first,
# untimed: it removes the previous run's trace). Medians go to CPU[KEY] and RSS[KEY].
group() {
	local runs=$1 r spec key prep cmd
	shift
	for spec in "$@"; do
		key=${spec%%|*}
		rm -f "$work/$key.samples"
		unset "FAILED[$key]"
	done
	for ((r = 0; r < runs; r++)); do
		for spec in "$@"; do
			IFS='|' read -r key prep cmd <<<"$spec"
			[ -n "${FAILED[$key]:-}" ] && continue
			eval "$prep"
			run_once "$key" "$cmd" || true
		done
	done
	for spec in "$@"; do
		key=${spec%%|*}
		if [ -n "${FAILED[$key]:-}" ] || [ ! -s "$work/$key.samples" ]; then
			CPU[$key]=n/a
			RSS[$key]=n/a
			WALL[$key]=n/a
			note "$key failed (${FAILED[$key]:-no samples})"
			continue
		fi
		CPU[$key]=$(cut -d' ' -f1 "$work/$key.samples" | median)
		RSS[$key]=$(cut -d' ' -f2 "$work/$key.samples" | median)
		WALL[$key]=$(cut -d' ' -f3 "$work/$key.samples" | median)
	done
}

isnum() { [[ ${1:-} =~ ^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
# calc EXPR with numbers: prints n/a when any operand is n/a or the result is undefined;
# 10 significant digits, so event counts stay exact
calc() {
	local expr=$1
	[[ $expr == *n/a* ]] && { echo n/a; return; }
	awk "BEGIN { d = $expr; if (d != d) print \"n/a\"; else printf \"%.10g\n\", d }" 2>/dev/null ||
		echo n/a
}
overhead_ns() { # CPU_S PLAIN_S EVENTS
	isnum "$1" && isnum "$2" && isnum "$3" && [ "$3" != 0 ] || { echo n/a; return; }
	calc "($1 - $2) * 1e9 / $3"
}
marginal_ns() { # CPU CPU0 PLAIN PLAIN0 EVENTS: per event, each side's tiny run subtracted
	local v
	for v in "$@"; do isnum "$v" || { echo n/a; return; }; done
	[ "$5" != 0 ] || { echo n/a; return; }
	calc "(($1 - $2) - ($3 - $4)) * 1e9 / $5"
}
per() { # A B -> A / B
	isnum "$1" && isnum "$2" && [ "$2" != 0 ] && [ "$2" != 0.000 ] || { echo n/a; return; }
	calc "$1 / $2"
}
fsize() { [ -e "$1" ] && du -sb "$1" | cut -f1 || echo n/a; }

# A trace's event counts, from the analyzer's summary (n/a when it cannot read it).
trace_json() { "$ANALYZE" summary --format=json "$1" 2>>"$work/analyze.err"; }
json_get() { jq -r "$1 // \"n/a\"" 2>/dev/null || echo n/a; }

# ------------------------------------------------------------------ table

rows=()
# row WORKLOAD FIGURE PERFSHIM PEER PEER_VALUE RATIO TARGET MET [FLOOR X_FLOOR]: the floor's
# figure and perfshim / floor are printed beside perfshim's (bench/floors.sh)
row() { rows+=("$(printf '%s\t' "$1" "$2" "$3" "${9:-}" "${10:-}" "$4" "$5" "$6" "$7" "$8")"); }
xfmt() { isnum "$1" && echo "$(fmt "$1")x" || echo n/a; } # a ratio
fmt() { # number formatting: 3 significant digits, thousands kept readable (negatives too)
	isnum "${1#-}" || { echo "${1:-n/a}"; return; }
	awk -v v="$1" 'BEGIN {
		a = v < 0 ? -v : v
		if (a >= 1e9) printf "%.2fG", v / 1e9
		else if (a >= 1e6) printf "%.2fM", v / 1e6
		else if (a >= 1e4) printf "%.0f", v
		else if (a >= 100) printf "%.0f", v
		else if (a >= 10) printf "%.1f", v
		else printf "%.2f", v }'
}
met() { # VALUE OP LIMIT -> yes/no/n/a
	isnum "$1" && isnum "$3" || { echo n/a; return; }
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (a <= b) : (a >= b); print ok ? "yes" : "NO" }'
}

# The floors, thread scaling, instruction counts and analyzer extras: functions only here.
for f in floors threads callgrind analyzer; do
	. "$top/bench/$f.sh"
done

# ------------------------------------------------------------------ call-heavy

uftrace_ok=1
have uftrace || { uftrace_ok=0; note "uftrace: not installed (misc/install-deps.sh --bench)"; }
have jq || note "jq missing: event counts from traces are n/a"

bench_calls() { # NAME LABEL TINY_ARGS PROG ARGS...
	local name=$1 label=$2 tiny=$3 prog=$4
	shift 4
	local args="$*" calls tj trace="$work/$name.bin" ud="$work/$name.uftrace"
	local ps="env PERFSHIM_OUTPUT=$trace PERFSHIM_EVENTS=calls LD_PRELOAD=$LIB $prog"
	local uft="uftrace record --no-libcall -d $ud $prog"
	local -a specs=("$name.plain||$prog $args" "$name.plain0||$prog $tiny")
	specs+=("$name.ps|rm -f $trace|$ps $args" "$name.ps0|rm -f $trace|$ps $tiny")
	[ $uftrace_ok = 1 ] &&
		specs+=("$name.uft|rm -rf $ud|$uft $args" "$name.uft0|rm -rf $ud|$uft $tiny")
	# the realistic program also with the default events: calls and allocations with stacks
	[ "$name" = interp ] &&
		specs+=("$name.all|rm -f $trace.all|env PERFSHIM_OUTPUT=$trace.all LD_PRELOAD=$LIB $prog $args")
	floor_specs_calls "$name" "$prog" "$args" "$tiny"
	echo "== $label: ${#specs[@]} variants x $RUNS runs" >&2
	group "$RUNS" "${specs[@]}"
	# the last run of each variant was the tiny one: record the full-size trace once more
	rm -rf "$trace" "$ud"
	eval "$ps $args" </dev/null >/dev/null 2>&1
	[ $uftrace_ok = 1 ] && eval "$uft $args" </dev/null >/dev/null 2>&1

	# Calls, exactly: the analyzer's per-function totals over the last perfshim trace.
	calls=$("$ANALYZE" functions --format=json "$trace" 2>>"$work/analyze.err" |
		jq '[.functions[].calls] | add' 2>/dev/null)
	isnum "$calls" || { note "$label: no call count from perfshim-analyze"; calls=n/a; }
	if [ "$name" = fib ]; then
		# fib counts its own calls: the trace must agree (+1 for main)
		local own
		own=$(sed -n 's/^calls of fib: //p' "$work/fib.plain.out")
		own=$(( own + 1 ))
		[ "$calls" = "$own" ] || note "fib: trace has $calls calls, fib counted $own"
		isnum "$calls" || calls=$own
	fi
	local ps_ns uft_ns ps_b uft_b ps_m uft_m=n/a
	ps_ns=$(overhead_ns "${CPU[$name.ps]}" "${CPU[$name.plain]}" "$calls")
	ps_m=$(marginal_ns "${CPU[$name.ps]}" "${CPU[$name.ps0]}" "${CPU[$name.plain]}" \
		"${CPU[$name.plain0]}" "$calls")
	ps_b=$(per "$(fsize "$trace")" "$calls")
	uft_ns=n/a uft_b=n/a
	if [ $uftrace_ok = 1 ]; then
		uft_ns=$(overhead_ns "${CPU[$name.uft]:-n/a}" "${CPU[$name.plain]}" "$calls")
		uft_m=$(marginal_ns "${CPU[$name.uft]:-n/a}" "${CPU[$name.uft0]:-n/a}" \
			"${CPU[$name.plain]}" "${CPU[$name.plain0]}" "$calls")
		# uftrace's per-call data: its *.dat files (the .sym/.map copies are per run, not per call)
		local datb=n/a
		[ -d "$ud" ] && datb=$(cat "$ud"/*.dat 2>/dev/null | wc -c)
		uft_b=$(per "$datb" "$calls")
	fi
	floor_calls "$name" "$calls"
	local xfl xfm
	xfl=$(per "$ps_ns" "${FL[ns]}")
	xfm=$(per "$ps_m" "${FL[m]}")
	row "$label" "calls traced" "$(fmt "$calls")" "" "" "" "" "" "$(fmt "${FL[calls]}")"
	row "$label" "CPU plain run (s)" "${CPU[$name.plain]}" "" "" "" "" ""
	row "$label" "CPU traced run (s)" "${CPU[$name.ps]}" uftrace "${CPU[$name.uft]:-n/a}" "" "" "" \
		"${FL[cpu]}" "$(x_of "${CPU[$name.ps]}" "${FL[cpu]}")"
	row "$label" "CPU ns per call" "$(fmt "$ps_ns")" uftrace "$(fmt "$uft_ns")" \
		"$(xfmt "$(per "$uft_ns" "$ps_ns")")" "<= 25 ns, <= 1.25x fl" \
		"$(met "$ps_ns" "<=" 25)/$(met "$xfl" "<=" 1.25)" "$(fmt "${FL[ns]}")" "$(xfmt "$xfl")"
	row "$label" "  startup excluded" "$(fmt "$ps_m")" uftrace "$(fmt "$uft_m")" \
		"$(xfmt "$(per "$uft_m" "$ps_m")")" "<= 25 ns, <= 1.25x fl" \
		"$(met "$ps_m" "<=" 25)/$(met "$xfm" "<=" 1.25)" "$(fmt "${FL[m]}")" "$(xfmt "$xfm")"
	floor_rows_calls "$label"
	[ "$name" = fib ] && callgrind_rows_calls "$label"
	[ "$name" = interp ] &&
		row "$label" "CPU, calls+malloc (s)" "${CPU[$name.all]}" "" "" \
			"$(xfmt "$(per "${CPU[$name.all]}" "${CPU[$name.plain]}")") plain" "" "" \
			"${CPU[$name.flall]:-n/a}" "$(x_of "${CPU[$name.all]}" "${CPU[$name.flall]:-n/a}")"
	row "$label" "trace bytes per call" "$(fmt "$ps_b")" uftrace "$(fmt "$uft_b")" \
		"$(xfmt "$(per "$uft_b" "$ps_b")")" "<= 6 B" "$(met "$ps_b" "<=" 6)" \
		"$(fmt "${FL[b]}")" "$(x_of "$ps_b" "${FL[b]}")"
	EVENTS[$name]=$(calc "2 * $calls")	# entry + exit records, for both tools
}
declare -A EVENTS

bench_calls fib "fib($FIB_N)" 1 "$B/samples/O2/fib" "$FIB_N"
bench_calls interp "interp bench.toy $INTERP_N" "$top/samples/interp/bench.toy 0" \
	"$B/samples/O2/interp" "$top/samples/interp/bench.toy" "$INTERP_N"

# ------------------------------------------------------------------ allocation-heavy

heaptrack_ok=1
have heaptrack || { heaptrack_ok=0; note "heaptrack: not installed (misc/install-deps.sh --bench)"; }

bench_alloc() { # NAME LABEL CMD TINY_CMD
	local name=$1 label=$2 cmd=$3 tiny=$4
	local trace="$work/$name.bin" ht="$work/$name.heaptrack"
	local ps="env PERFSHIM_OUTPUT=$trace LD_PRELOAD=$LIB"
	local -a specs=("$name.plain||$cmd" "$name.plain0||$tiny")
	specs+=("$name.ps|rm -f $trace|$ps $cmd" "$name.ps0|rm -f $trace|$ps $tiny")
	[ $heaptrack_ok = 1 ] &&
		specs+=("$name.ht|rm -f $ht.*|heaptrack -o $ht $cmd" "$name.ht0|rm -f $ht.*|heaptrack -o $ht $tiny")
	floor_specs_alloc "$name" "$cmd" "$tiny"
	echo "== $label: ${#specs[@]} variants x $SLOW_RUNS runs" >&2
	group "$SLOW_RUNS" "${specs[@]}"
	rm -f "$trace" "$ht".*
	eval "$ps $cmd" </dev/null >/dev/null 2>&1
	[ $heaptrack_ok = 1 ] && eval "heaptrack -o $ht $cmd" </dev/null >/dev/null 2>&1

	local tj events allocs frees ps_ns ht_ns ps_b ht_b htfile ps_m ht_m=n/a
	tj=$(trace_json "$trace")
	allocs=$(json_get '.events.allocs' <<<"$tj")
	frees=$(json_get '.events.frees' <<<"$tj")
	local reallocs
	reallocs=$(json_get '.events.reallocs' <<<"$tj")
	# a realloc is two events (the old block freed, the new one allocated)
	events=$(calc "$allocs + $frees + 2 * $reallocs")
	isnum "$events" || note "$label: no event count from perfshim-analyze"
	ps_ns=$(overhead_ns "${CPU[$name.ps]}" "${CPU[$name.plain]}" "$events")
	ps_m=$(marginal_ns "${CPU[$name.ps]}" "${CPU[$name.ps0]}" "${CPU[$name.plain]}" \
		"${CPU[$name.plain0]}" "$events")
	ps_b=$(per "$(fsize "$trace")" "$events")
	ht_ns=n/a ht_b=n/a htfile=
	if [ $heaptrack_ok = 1 ]; then
		htfile=$(ls "$ht".* 2>/dev/null | head -n 1)
		ht_ns=$(overhead_ns "${CPU[$name.ht]:-n/a}" "${CPU[$name.plain]}" "$events")
		ht_m=$(marginal_ns "${CPU[$name.ht]:-n/a}" "${CPU[$name.ht0]:-n/a}" \
			"${CPU[$name.plain]}" "${CPU[$name.plain0]}" "$events")
		ht_b=$(per "$(fsize "$htfile")" "$events")
	fi
	HTFILE[$name]=$htfile
	EVENTS[$name]=$events
	floor_alloc "$name" "$events"
	local xfl xfm xht xhm tgt mt
	xfl=$(per "$ps_ns" "${FL[fl]}")
	xfm=$(per "$ps_m" "${FL[fl.m]}")
	xht=$(per "$ht_ns" "$ps_ns")
	xhm=$(per "$ht_m" "$ps_m")
	row "$label" "malloc+free events" "$(fmt "$events")" "" "" "" "" "" "$(fmt "${FL[events]}")"
	row "$label" "CPU plain run (s)" "${CPU[$name.plain]}" "" "" "" "" ""
	row "$label" "CPU traced run (s)" "${CPU[$name.ps]}" heaptrack "${CPU[$name.ht]:-n/a}" "" "" "" \
		"${FL[fl.cpu]}" "$(x_of "${CPU[$name.ps]}" "${FL[fl.cpu]}")"
	IFS=$'\t' read -r tgt mt <<<"$(alloc_target "$name" ns "$ps_ns" "$xfl" "$xht")"
	row "$label" "CPU ns per event" "$(fmt "$ps_ns")" heaptrack "$(fmt "$ht_ns")" \
		"$(xfmt "$xht")" "$tgt" "$mt" "$(fmt "${FL[fl]}")" "$(xfmt "$xfl")"
	IFS=$'\t' read -r tgt mt <<<"$(alloc_target "$name" m "$ps_m" "$xfm" "$xhm")"
	row "$label" "  startup excluded" "$(fmt "$ps_m")" heaptrack "$(fmt "$ht_m")" \
		"$(xfmt "$xhm")" "$tgt" "$mt" "$(fmt "${FL[fl.m]}")" "$(xfmt "$xfm")"
	floor_rows_alloc "$label" "$ps_ns" "$ps_m"
	[ "$name" = mallocbench ] && callgrind_rows_alloc "$label"
	row "$label" "trace bytes per event" "$(fmt "$ps_b")" heaptrack "$(fmt "$ht_b")" \
		"$(xfmt "$(per "$ht_b" "$ps_b")")" "<= 4 B" "$(met "$ps_b" "<=" 4)" \
		"$(fmt "${FL[b]}")" "$(x_of "$ps_b" "${FL[b]}")"
}
declare -A HTFILE

bench_alloc mallocbench "mallocbench $MALLOC_N" "$B/samples/plain/mallocbench $MALLOC_N" \
	"$B/samples/plain/mallocbench 1"
# two threads: perfshim's threads never share a lock; heaptrack's take one global mutex
bench_alloc mallocbench2 "mallocbench $MALLOC_N, 2 threads" \
	"$B/samples/plain/mallocbench $MALLOC_N 2" "$B/samples/plain/mallocbench 2 2"

# A real, uninstrumented program from Debian with a fixed workload: sqlite3 building, indexing
# and grouping a table in memory (python3 when sqlite3 is missing).
sql="CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $SQL_ROWS)
INSERT INTO t SELECT x, printf('name-%08d-%s', (x * 7919) % 100003, substr('abcdefghij', 1 + x % 10)),
	x % 97, x * 0.5 FROM c;
CREATE INDEX t_name ON t(name);
SELECT grp, count(*), sum(length(name)), group_concat(substr(name, 6, 3), '') IS NOT NULL
	FROM t GROUP BY grp ORDER BY grp LIMIT 3;
SELECT count(DISTINCT substr(name, 1, 9)) FROM t;"
printf '%s\n' "$sql" >"$work/workload.sql"
printf '%s\n' "${sql//x < $SQL_ROWS/x < 1}" >"$work/tiny.sql"
if have sqlite3; then
	bench_alloc sqlite "sqlite3 ($SQL_ROWS rows)" "sqlite3 :memory: '.read $work/workload.sql'" \
		"sqlite3 :memory: '.read $work/tiny.sql'"
elif have python3; then
	note "sqlite3: not installed; python3 runs the real-program workload instead"
	py="d={};[d.__setitem__(str(i)*3,[i]*5) for i in range(N)];print(len(d))"
	bench_alloc sqlite "python3 dict/str workload" "python3 -c '${py/N/200000}'" \
		"python3 -c '${py/N/1}'"
else
	note "sqlite3 and python3 missing: no real-program allocation benchmark"
fi

# ------------------------------------------------------------------ sampling (bench/sampling.sh)

# PERFSHIM_SAMPLE=512K on mallocbench and sqlite3: ns per unsampled malloc/free, whole-program
# overhead, bytes per sampled event (docs/sampling.md)
if [ "${BENCH_SAMPLING:-1}" = 1 ]; then
	echo "== sampling: bench/sampling.sh" >&2
	BENCH_RUNS=$RUNS "$top/bench/sampling.sh" --rows "$work/sampling.rows" >&2 ||
		note "bench/sampling.sh exited $?"
	while IFS= read -r line; do
		case $line in
		row$'\t'*) rows+=("${line#row$'\t'}") ;;
		note$'\t'*) note "${line#note$'\t'}" ;;
		esac
	done <"$work/sampling.rows"
fi

# ------------------------------------------------------------------ threads (bench/threads.sh)

bench_threads_calls
bench_threads_alloc

# ------------------------------------------------------------------ analyzers

# bench_analyzer NAME LABEL OURS_CMD PEER PEER_CMD EVENTS MIN_X [MIN_RATE] TRACE: the goals are
# >= MIN_X times the peer's events/s and, when given, >= MIN_RATE events/s; the decode floor
# (bench/analyzer.sh) reads TRACE in the same group
bench_analyzer() {
	local name=$1 label=$2 ours=$3 peer=$4 theirs=$5 events=$6 min_x=$7 min_rate=$8 trace=$9
	local -a specs=("$name.ana|| $ours")
	[ -n "$theirs" ] && specs+=("$name.peer|| $theirs")
	decode_floor_spec "$name" "$trace"
	echo "== analyzer: $label" >&2
	group "$SLOW_RUNS" "${specs[@]}"
	local ours_rate theirs_rate=n/a floor_rate
	ours_rate=$(per "$events" "${CPU[$name.ana]}")
	[ -n "$theirs" ] && theirs_rate=$(per "$events" "${CPU[$name.peer]}")
	floor_rate=$(decode_floor_rate "$name" "$events")
	local ratio tgt=">= ${min_x}x" mt
	ratio=$(per "$ours_rate" "$theirs_rate")
	mt=$(met "$ratio" ">=" "$min_x")
	if [ -n "$min_rate" ]; then
		tgt+=", >= $(fmt "$min_rate")"
		mt+="/$(met "$ours_rate" ">=" "$min_rate")"
	fi
	row "$label" "events/s (CPU)" "$(fmt "$ours_rate")" "$peer" "$(fmt "$theirs_rate")" \
		"$(xfmt "$ratio")" "$tgt" "$mt" "$(fmt "$floor_rate")" "$(x_of "$ours_rate" "$floor_rate")"
	row "$label" "peak RSS (MiB)" "$(fmt "$(calc "${RSS[$name.ana]} / 1024")")" "$peer" \
		"$(fmt "$(calc "${RSS[$name.peer]:-n/a} / 1024")")" "" "" "" \
		"$(fmt "$(calc "${RSS[$name.dfl]:-n/a} / 1024")")" ""
}

# goals (issue 11): functions >= 100 M events/s (and 10x uftrace report); callgraph >= 20x
# uftrace graph; memory and leaks >= 10x heaptrack_print and >= 50 M events/s
for w in fib interp; do
	[ -s "$work/$w.bin" ] || continue
	peer_cmd= graph_cmd=
	if [ $uftrace_ok = 1 ] && [ -d "$work/$w.uftrace" ]; then
		peer_cmd="uftrace report -d $work/$w.uftrace"
		graph_cmd="uftrace graph -d $work/$w.uftrace"
	fi
	bench_analyzer "ana-$w" "analyze functions: $w" "$ANALYZE functions $work/$w.bin" \
		"uftrace report" "$peer_cmd" "${EVENTS[$w]:-n/a}" 10 100e6 "$work/$w.bin"
	bench_analyzer "anacg-$w" "analyze callgraph: $w" "$ANALYZE callgraph $work/$w.bin" \
		"uftrace graph" "$graph_cmd" "${EVENTS[$w]:-n/a}" 20 "" "$work/$w.bin"
done
for w in mallocbench sqlite; do
	[ -s "$work/$w.bin" ] || continue
	peer_cmd= leaks_cmd=
	if [ -n "${HTFILE[$w]:-}" ]; then
		peer_cmd="heaptrack_print -f ${HTFILE[$w]}"
		leaks_cmd="heaptrack_print -p 0 -a 0 -T 0 -l 1 -f ${HTFILE[$w]}"
	fi
	bench_analyzer "ana-$w" "analyze memory: $w" "$ANALYZE memory $work/$w.bin" \
		"heaptrack_print" "$peer_cmd" "${EVENTS[$w]:-n/a}" 10 50e6 "$work/$w.bin"
	bench_analyzer "analk-$w" "analyze leaks: $w" "$ANALYZE leaks $work/$w.bin" \
		"heaptrack_print -l" "$leaks_cmd" "${EVENTS[$w]:-n/a}" 10 50e6 "$work/$w.bin"
done
# -j: functions and callgraph split a trace's threads over the cores (4 threads here); a
# one-thread trace (fib) and memory (one time order) are not split: identical, about 1x
jtr=$(jobs_trace)
jev=n/a
[ -n "$jtr" ] && jev=$(trace_json "$jtr" | json_get '.events.total')
bench_jobs "analyze functions -j: threads-fib, 4 threads" functions "${jtr:-$work/none.bin}" "$jev"
bench_jobs "analyze callgraph -j: threads-fib, 4 threads" callgraph "${jtr:-$work/none.bin}" "$jev"
bench_jobs "analyze memory -j: mallocbench" memory "$work/mallocbench.bin" "${EVENTS[mallocbench]:-n/a}" one
bench_jobs "analyze functions -j: fib (one thread)" functions "$work/fib.bin" "${EVENTS[fib]:-n/a}" one
[ -n "$jtr" ] && rm -f "$jtr"

# ------------------------------------------------------------------ accuracy

# Self times against perf sampling of the same binaries (bench/accuracy.sh, issue 8): its rows
# join the table, its notes the notes. BENCH_ACCURACY=0 leaves it out.
if [ "${BENCH_ACCURACY:-1}" = 1 ]; then
	echo "== accuracy: bench/accuracy.sh" >&2
	: >"$work/accuracy.rows"
	BENCH_NO_INSTALL=1 "$top/bench/accuracy.sh" --rows "$work/accuracy.rows" >&2 ||
		note "bench/accuracy.sh exited $?"
	while IFS= read -r line; do
		case $line in
		row$'\t'*) rows+=("${line#row$'\t'}") ;;
		note$'\t'*) note "${line#note$'\t'}" ;;
		esac
	done <"$work/accuracy.rows"
fi

# ------------------------------------------------------------------ report

# The legend of the floor, thread, instruction and analyzer columns (docs/bench.md).
bench_legend() {
	cat <<'EOF'
floor: the same figure for the floor of the row (built from bench/*.c, measured in the same
  group): call rows: rdtsc + 16-byte {tsc, address} record per event into a thread-local
  buffer written in 1 MiB chunks; allocation rows: malloc forwarder + 16-byte {tsc, ptr|size}
  record; "vs stack floor": + unw_backtrace into a per-thread stack cache; "vs forwarding
  only": the forwarder counting; "at stack depth 0": perfshim with PERFSHIM_STACK_DEPTH=0;
  "vs uninstrumented": cost over the program built without -finstrument-functions, beside
  empty hooks' (no-op); analyzer rows: a naive byte-at-a-time varint walk of the same trace.
x fl = perfshim / floor: for costs (ns, bytes, instructions) how many times the floor's
  cost; for events/s the share of the naive loop's rate reached (1x = as fast).
met: one yes/NO per target, in the target's order; "fl" = the floor, "peer >= 5x" = the
  peer's cost at least 5 times perfshim's (the ratio column).
threads: the same total work on 1..16 threads, all counts interleaved in one group, per
  event with each tool's tiny run at the same thread count subtracted; "N vs 1": the ratio
  of the two (flat = 1.00x).
instructions/event: valgrind callgrind, ((N run - tiny run) - the same for plain) / events.
-j rows: events per second of wall time at -j 1 and -j N, their ratio, and cmp of the outputs.
EOF
}

{
	echo "perfshim bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)," \
		"load average $load0 at start, $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) at end"
	echo "medians of $RUNS runs ($SLOW_RUNS for allocation, thread and analyzer runs), side by side;" \
		"CPU = user+sys; ratio = peer / perfshim (higher is better for perfshim, except" \
		"events/s: perfshim / peer)"
	echo
	{
		printf 'workload\tfigure\tperfshim\tfloor\tx fl\tpeer\tpeer value\tratio\ttarget\tmet\t\n'
		printf '%s\n' "${rows[@]}"
	} | awk -F'\t' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
		if (NF > nf) nf = NF } END { for (r = 1; r <= NR; r++) { line = ""
		for (i = 1; i <= nf; i++) line = line sprintf("%-*s  ", w[i], c[r, i]); sub(/ +$/, "", line)
		print line } }'
	echo
	echo "uftrace: record --no-libcall (the same calls perfshim sees); bytes = its *.dat files."
	echo "perfshim on call-heavy runs: PERFSHIM_EVENTS=calls; on allocation-heavy: defaults (stacks by libunwind)."
	echo "events of call traces = 2 x calls (entry and exit records) for both analyzers."
	bench_legend
	for n in "${notes[@]}"; do echo "note: $n"; done
} | tee "$results"
echo "(written to ${results#"$top"/})"
