#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/sampling.sh - what sampled recording (PERFSHIM_SAMPLE, docs/sampling.md) costs (issue 12)
#
# On mallocbench (build/samples/plain/mallocbench, not instrumented) and sqlite3 (the same
# in-memory workload as bench/run.sh's row), interleaved run by run, medians of CPU time
# (user+sys, bench/cputime.c, which sets each variant's environment itself: no env(1) exec
# in one variant and not the other):
#   plain           the program alone
#   sampled         LD_PRELOAD=libperfshim.so PERFSHIM_SAMPLE=$BENCH_SAMPLE (512K)
#   floor           build/bench/floor-malloc-jump.so: malloc, free, calloc and realloc
#                   interposed as one tail jump each, the floor the sampled shim cannot go
#                   below (the "floor" column)
#   counting        build/bench/floor-malloc-count.so: a forwarder that counts its events
# and their tiny runs (the startup: loading, the trace file, the first chunk; the cost
# calibration only in a program with call hooks, which neither has), and the rows:
#   ns per malloc/free over plain   (sampled - plain) / events, events from one full trace;
#                                   target <= 5 ns; "startup excluded" subtracts the tiny runs
#   CPU overhead                    sampled / plain - 1, the whole program; target <= 5%;
#                                   "startup excluded" as above; the counting forwarder's
#   sampled events, trace bytes per sampled event   file size / events in the sampled trace
#   instructions per malloc/free over plain (mallocbench, valgrind's callgrind: the load does
#                                   not move it): ((sampled N - sampled tiny) - (plain N -
#                                   plain tiny)) / (events N - events tiny); BENCH_CALLGRIND=0
#                                   skips it
#   instruction overhead            (callgrind) sampled / plain - 1 in instructions, the whole
#                                   program at full size, both workloads; target <= 5%
# and last, one line per workload: "overhead ratio WORKLOAD: sampled/plain R (+P%), floor
# F, counting C".
#
#   bench/sampling.sh [--rows FILE]    FILE: the rows for bench/run.sh's table
#
# Knobs: BENCH_RUNS (7), BENCH_MALLOC (4000000 pairs), BENCH_SQL_ROWS (60000),
#        BENCH_SAMPLE (512K), BENCH_QUICK=1 (3 runs, small sizes).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
B="$top/build"
LIB="$B/libperfshim.so"
ANALYZE="$B/perfshim-analyze"
out="$B/bench"
work="$out/sampling"
FLOOR="$out/floor-malloc-jump.so"
COUNT="$out/floor-malloc-count.so"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_RUNS:=3}" "${BENCH_MALLOC:=200000}" "${BENCH_SQL_ROWS:=5000}"
fi
RUNS=${BENCH_RUNS:-7}
MALLOC_N=${BENCH_MALLOC:-4000000}
SQL_ROWS=${BENCH_SQL_ROWS:-60000}
MEAN=${BENCH_SAMPLE:-512K}

rows_file=
while [ $# -gt 0 ]; do
	case $1 in
	--rows) rows_file=${2:?--rows needs a file}; shift 2 ;;
	-h | --help) sed -n '3,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "sampling.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
rm -rf "$work"
mkdir -p "$work"
[ -n "$rows_file" ] && : >"$rows_file"
have() { command -v "$1" >/dev/null 2>&1; }
note() { echo "  note: $*" >&2; [ -n "$rows_file" ] && printf 'note\t%s\n' "$*" >>"$rows_file"; }
for f in "$LIB" "$ANALYZE" "$B/samples/plain/mallocbench"; do
	[ -e "$f" ] || { echo "sampling.sh: $f is missing (make all samples)" >&2; exit 1; }
done
have jq || { echo "sampling.sh: jq is missing (misc/install-deps.sh)" >&2; exit 1; }
[ -e "$FLOOR" ] || { note "build/bench/floor-malloc-jump.so missing (make bench-tools): floor n/a"; FLOOR=; }
[ -e "$COUNT" ] || { note "build/bench/floor-malloc-count.so missing (make bench-tools): counting n/a"; COUNT=; }
CPUTIME="$out/cputime"
${CC:-cc} -O2 -o "$CPUTIME" "$top/bench/cputime.c" || exit 1

declare -A CPU
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
calc() { [[ $1 == *n/a* ]] && { echo n/a; return; }; awk "BEGIN { printf \"%.4g\n\", $1 }"; }

# group "KEY|CMD"...: RUNS rounds of every variant (interleaved); medians into CPU[KEY]
group() {
	local r spec key cmd
	for spec in "$@"; do rm -f "$work/${spec%%|*}.samples"; done
	for ((r = 0; r < RUNS; r++)); do
		for spec in "$@"; do
			IFS='|' read -r key cmd <<<"$spec"
			rm -f "$work/t.bin"
			eval "'$CPUTIME' '$work/$key.time' $cmd" </dev/null >/dev/null 2>"$work/$key.err" ||
				{ note "$key failed: $(tail -n 1 "$work/$key.err")"; continue; }
			cut -d' ' -f1 "$work/$key.time" >>"$work/$key.samples"
		done
	done
	for spec in "$@"; do
		key=${spec%%|*}
		CPU[$key]=$( [ -s "$work/$key.samples" ] && median <"$work/$key.samples" || echo n/a)
	done
}

# events NAME TRACE: malloc-family events of a trace (a realloc is two)
events() {
	"$ANALYZE" summary --format=json "$1" 2>/dev/null |
		jq '.events.allocs + .events.frees + 2 * .events.reallocs' 2>/dev/null || echo n/a
}

rows=()
ratios=()
sign() { [[ $1 == -* || $1 == n/a ]] && echo "$1" || echo "+$1"; }
row() { # WORKLOAD FIGURE VALUE FLOOR TARGET MET
	rows+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$5" "$6")")
	[ -n "$rows_file" ] && printf 'row\t%s\t%s\t%s\t%s\t\t\t\t\t%s\t%s\t\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$rows_file"
}
met() { [[ $1 == n/a ]] && { echo n/a; return; }; awk -v a="$1" -v b="$2" 'BEGIN { print a <= b ? "yes" : "NO" }'; }

# The variants' settings are cputime's VAR=VALUE arguments, not env(1)'s: through env a
# preloaded variant would pay one exec (about 0.8 ms of CPU) that the plain one does not.
bench_one() { # NAME LABEL CMD TINY
	local name=$1 label=$2 cmd=$3 tiny=$4 v="PERFSHIM_OUTPUT=$work/t.bin PERFSHIM_SAMPLE=$MEAN PERFSHIM_SAMPLE_SEED=1 LD_PRELOAD=$LIB"
	local s="env $v"
	local -a specs=("$name.plain|$cmd" "$name.plain0|$tiny" "$name.s|$v $cmd" "$name.s0|$v $tiny")
	[ -n "$FLOOR" ] && specs+=("$name.fw|LD_PRELOAD=$FLOOR $cmd" "$name.fw0|LD_PRELOAD=$FLOOR $tiny")
	[ -n "$COUNT" ] && specs+=("$name.ct|LD_PRELOAD=$COUNT $cmd")
	echo "== $label: ${#specs[@]} variants x $RUNS runs" >&2
	group "${specs[@]}"
	# the events, from one full trace; the sampled trace's own size and events
	eval "env PERFSHIM_OUTPUT=$work/$name.full.bin LD_PRELOAD=$LIB $cmd" </dev/null >/dev/null 2>&1
	eval "$s $cmd" </dev/null >/dev/null 2>&1
	local ev sev size
	ev=$(events "$work/$name.full.bin")
	sev=$(events "$work/t.bin")
	size=$(du -sb "$work/t.bin" | cut -f1)
	rm -f "$work/$name.full.bin"
	local p=${CPU[$name.plain]} p0=${CPU[$name.plain0]} c=${CPU[$name.s]} c0=${CPU[$name.s0]}
	local fw=${CPU[$name.fw]:-n/a} fw0=${CPU[$name.fw0]:-n/a} ct=${CPU[$name.ct]:-n/a}
	local ns ns_m fns fns_m pct fpct pct_m fpct_m cpct
	ns=$(calc "($c - $p) * 1e9 / $ev")
	ns_m=$(calc "(($c - $c0) - ($p - $p0)) * 1e9 / $ev")
	fns=$(calc "($fw - $p) * 1e9 / $ev")
	fns_m=$(calc "(($fw - $fw0) - ($p - $p0)) * 1e9 / $ev")
	pct=$(calc "($c / $p - 1) * 100")
	fpct=$(calc "($fw / $p - 1) * 100")
	pct_m=$(calc "(($c - $c0) / ($p - $p0) - 1) * 100")
	fpct_m=$(calc "(($fw - $fw0) / ($p - $p0) - 1) * 100")
	cpct=$(calc "($ct / $p - 1) * 100")
	row "$label" "malloc+free events" "$ev" "" "" ""
	row "$label" "CPU plain / sampled (s)" "$p / $c" "$fw" "" ""
	row "$label" "CPU startup plain / sampled (s)" "$p0 / $c0" "$fw0" "" ""
	row "$label" "ns per malloc/free over plain" "$ns" "$fns" "<= 5 ns" "$(met "$ns" 5)"
	row "$label" "  startup excluded" "$ns_m" "$fns_m" "<= 5 ns" "$(met "$ns_m" 5)"
	row "$label" "CPU overhead at $MEAN (%)" "$pct" "$fpct" "<= 5%" "$(met "$pct" 5)"
	row "$label" "  startup excluded" "$pct_m" "$fpct_m" "" ""
	row "$label" "  counting forwarder" "$cpct" "" "" ""
	row "$label" "sampled events" "$sev" "" "" ""
	row "$label" "trace bytes per sampled event" "$(calc "$size / $sev")" "" "" ""
	ratios+=("$(printf 'overhead ratio %s: sampled/plain %s (%s%%), floor %s, counting %s' "$label" \
		"$(calc "$c / $p")" "$(sign "$pct")" "$(calc "$fw / $p")" "$(calc "$ct / $p")")")
}

bench_one mallocbench "mallocbench $MALLOC_N" "$B/samples/plain/mallocbench $MALLOC_N" \
	"$B/samples/plain/mallocbench 1"

# ir KEY CMD: instructions CMD executed under callgrind (children followed), or n/a
ir() {
	valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/cg.$1.%p" \
		"${@:2}" </dev/null >/dev/null 2>"$work/cg.$1.err" || { echo n/a; return; }
	cat "$work/cg.$1".[0-9]* | awk '/^summary:/ { s += $2; n++ } END { print n ? s : "n/a" }'
}
# shim_ir KEY: of ir KEY's instructions, those in the shim's own code (its preload/ sources)
shim_ir() {
	local f sum=0 n
	for f in "$work/cg.$1".[0-9]*; do
		n=$(callgrind_annotate --auto=no --threshold=100 "$f" 2>/dev/null |
			awk '$0 ~ /preload\// { gsub(",", "", $1); s += $1 } END { print s + 0 }')
		sum=$((sum + n))
	done
	echo "$sum"
}
if [ "${BENCH_CALLGRIND:-1}" = 1 ] && have valgrind; then
	echo "== mallocbench under callgrind" >&2
	cgn=50000 cg0=1000 mb="$B/samples/plain/mallocbench"
	senv=(env "PERFSHIM_OUTPUT=$work/cg.bin" PERFSHIM_SAMPLE="$MEAN" PERFSHIM_SAMPLE_SEED=1 "LD_PRELOAD=$LIB")
	pn=$(ir pn "$mb" $cgn) p0=$(ir p0 "$mb" $cg0)
	sn=$(ir sn "${senv[@]}" "$mb" $cgn) sn_shim=$(shim_ir sn)
	s0=$(ir s0 "${senv[@]}" "$mb" $cg0) s0_shim=$(shim_ir s0)
	fn=n/a f0=n/a cn=n/a c0=n/a
	if [ -n "$FLOOR" ]; then
		fn=$(ir fn env "LD_PRELOAD=$FLOOR" "$mb" $cgn)
		f0=$(ir f0 env "LD_PRELOAD=$FLOOR" "$mb" $cg0)
	fi
	if [ -n "$COUNT" ]; then
		cn=$(ir cn env "LD_PRELOAD=$COUNT" "$mb" $cgn)
		c0=$(ir c0 env "LD_PRELOAD=$COUNT" "$mb" $cg0)
	fi
	row "mallocbench $cgn (callgrind)" "instructions per malloc/free over plain" \
		"$(calc "(($sn - $s0) - ($pn - $p0)) / (2 * ($cgn - $cg0))")" \
		"$(calc "(($fn - $f0) - ($pn - $p0)) / (2 * ($cgn - $cg0))")" "" ""
	row "mallocbench $cgn (callgrind)" "  of which in the shim's own code" \
		"$(calc "($sn_shim - $s0_shim) / (2 * ($cgn - $cg0))")" "" "" ""
	row "mallocbench $cgn (callgrind)" "  counting forwarder" \
		"$(calc "(($cn - $c0) - ($pn - $p0)) / (2 * ($cgn - $cg0))")" "" "" ""
	row "mallocbench $cgn (callgrind)" "startup instructions plain / sampled" "$p0 / $s0" "$f0" "" ""
	rm -f "$work"/cg.*
else
	note "callgrind rows skipped (BENCH_CALLGRIND=0 or valgrind missing)"
fi
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
	bench_one sqlite "sqlite3 ($SQL_ROWS rows)" "sqlite3 :memory: '.read $work/workload.sql'" \
		"sqlite3 :memory: '.read $work/tiny.sql'"
else
	note "sqlite3: not installed (misc/install-deps.sh --bench): no sqlite rows"
fi

# whole LABEL CMD...: the whole-program overhead in instructions (both through env(1)) (callgrind: the load, which
# moves the CPU times above by more than 5% between runs, does not move it); user space only
# (the kernel's part of the start, the trace file and page faults, is in the CPU rows alone)
whole() {
	local label=$1 p s
	shift
	p=$(ir wp env "$@") s=$(ir ws env "PERFSHIM_OUTPUT=$work/cg.bin" PERFSHIM_SAMPLE="$MEAN" \
		PERFSHIM_SAMPLE_SEED=1 "LD_PRELOAD=$LIB" "$@")
	row "$label (callgrind)" "instructions plain / sampled" "$p / $s" "" "" ""
	row "$label (callgrind)" "instruction overhead at $MEAN (%)" "$(calc "($s / $p - 1) * 100")" \
		"" "<= 5%" "$(met "$(calc "($s / $p - 1) * 100")" 5)"
	rm -f "$work"/cg.*
}
if [ "${BENCH_CALLGRIND:-1}" = 1 ] && have valgrind; then
	echo "== whole programs under callgrind" >&2
	whole "mallocbench $MALLOC_N" "$B/samples/plain/mallocbench" "$MALLOC_N"
	have sqlite3 && whole "sqlite3 ($SQL_ROWS rows)" sqlite3 :memory: ".read $work/workload.sql"
fi

{
	echo "sampled recording at PERFSHIM_SAMPLE=$MEAN; medians of $RUNS interleaved runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
	{
		printf 'workload\tfigure\tperfshim\tfloor\ttarget\tmet\n'
		printf '%s\n' "${rows[@]}"
	} | column -t -s $'\t'
	printf '%s\n' "${ratios[@]}"
} | tee "$out/sampling.txt"
echo "(floor: malloc/free/calloc/realloc interposed as one tail jump each, the cost of interposing alone; counting: a forwarder that counts; written to ${out#"$top"/}/sampling.txt)"
rm -f "$work/t.bin"
exit 0
