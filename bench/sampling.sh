#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/sampling.sh - what sampled recording (PERFSHIM_SAMPLE, docs/sampling.md) costs (issue 12)
#
# On mallocbench (build/samples/plain/mallocbench, not instrumented) and sqlite3 (the same
# in-memory workload as bench/run.sh's row), CPU time (user+sys, bench/cputime.c, which sets
# each variant's environment itself: no env(1) exec in one variant and not the other) of
#   plain           the program alone
#   sampled         LD_PRELOAD=libperfshim.so PERFSHIM_SAMPLE=$BENCH_SAMPLE (512K)
#   floor           build/bench/floor-malloc-jump.so: malloc, free, calloc and realloc
#                   interposed as one tail jump each, the floor the sampled shim cannot go
#                   below (the "floor" column)
#   counting        build/bench/floor-malloc-count.so: a forwarder that counts its events
# and the tiny runs of the first three (the startup: loading, the trace file, the first
# chunk; the cost calibration only in a program with call hooks, which neither has), in
# BENCH_SAMPLING_ROUNDS rounds: each round runs every variant once, in an order shuffled
# per round (a fixed seed). Each CPU figure is the median over the rounds of that round's
# figure (its variants ran within seconds of each other), never a figure of separate
# medians; on this shared VM one run's CPU time moves by 10-30% (docs/sampling.md
# "Measuring CPU time on a shared machine"). The rows:
#   ns per malloc/free over plain   (sampled - plain) / events, events from one full trace;
#                                   target <= 5 ns; "startup excluded" subtracts each
#                                   round's tiny runs: ((s - s0) - (p - p0)) / events
#   CPU overhead                    sampled / plain - 1, the whole program; target <= 5%;
#                                   its interquartile range over the rounds (the noise; the
#                                   median's standard error is 1.25 x IQR / 1.35 / sqrt(rounds),
#                                   a tenth of it at 101 rounds);
#                                   "startup excluded" (s - s0) / (p - p0) - 1; the counting
#                                   forwarder's
#   sampled events, trace bytes per sampled event   file size / events in the sampled trace
#   instructions per malloc/free over plain (mallocbench, valgrind's callgrind: the load does
#                                   not move it): ((sampled N - sampled tiny) - (plain N -
#                                   plain tiny)) / (events N - events tiny); BENCH_CALLGRIND=0
#                                   skips it
#   instruction overhead            (callgrind) sampled / plain - 1 in instructions, the whole
#                                   program at full size, both workloads; target <= 5%
# and last, one line per workload: "overhead ratio WORKLOAD: sampled/plain R (+P%), floor
# F, counting C" (the medians of the rounds' ratios).
#
#   bench/sampling.sh [--rows FILE]    FILE: the rows for bench/run.sh's table
#
# Knobs: BENCH_SAMPLING_ROUNDS (101; bench/run.sh's BENCH_RUNS does not set it),
#        BENCH_MALLOC (4000000 pairs), BENCH_SQL_ROWS (60000), BENCH_SAMPLE (512K),
#        BENCH_CALLGRIND=0, BENCH_QUICK=1 (5 rounds, small sizes).
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
	: "${BENCH_SAMPLING_ROUNDS:=5}" "${BENCH_MALLOC:=200000}" "${BENCH_SQL_ROWS:=5000}"
fi
ROUNDS=${BENCH_SAMPLING_ROUNDS:-101}
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

load0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A CPU
calc() { [[ $1 == *n/a* ]] && { echo n/a; return; }; awk "BEGIN { printf \"%.4g\n\", $1 }"; }

# group "KEY|CMD"...: ROUNDS rounds; each runs every variant once, in an order shuffled per
# round (from a fixed seed: the same orders every invocation), so that no variant always
# follows another (a sampled run's file work, a neighbour's burst) and every variant meets
# the same moments of the load. $work/KEY.samples: one CPU time per round, "n/a" for a
# failed run; CPU[KEY]: the median CPU time.
group() {
	local r i j t spec key cmd
	local -a order=("$@")
	for spec in "$@"; do : >"$work/${spec%%|*}.samples"; done
	RANDOM=12
	for ((r = 0; r < ROUNDS; r++)); do
		for ((i = ${#order[@]} - 1; i > 0; i--)); do
			j=$((RANDOM % (i + 1)))
			t=${order[i]} order[i]=${order[j]} order[j]=$t
		done
		for spec in "${order[@]}"; do
			IFS='|' read -r key cmd <<<"$spec"
			rm -f "$work/t.bin"
			if eval "'$CPUTIME' '$work/$key.time' $cmd" </dev/null >/dev/null 2>"$work/$key.err"; then
				printf '%d %s\n' "$r" "$(cut -d' ' -f1 "$work/$key.time")" >>"$work/$key.samples"
			else
				note "$key failed in round $r: $(tail -n 1 "$work/$key.err")"
			fi
		done
	done
	for spec in "$@"; do
		key=${spec%%|*}
		CPU[$key]=$(stat_of "$key" 'v["'"$key"'"]')
	done
}

# stat_of KEY... EXPR [q]: EXPR (awk, over v["KEY"], each key's CPU time of one round) in
# every round where all KEYs ran; its median, or with q its quartiles "Q1 Q3"
stat_of() {
	local -a keys=() files=()
	local want=median expr
	while [ $# -gt 1 ] && [[ $1 != *'['* ]]; do keys+=("$1"); files+=("$work/$1.samples"); shift; done
	expr=$1
	[ "${2:-}" = q ] && want=q
	awk -v nk="${#keys[@]}" -v keys="${keys[*]}" -v want="$want" '
		BEGIN { split(keys, kn, " ") }
		FNR == 1 { for (f = 1; f <= nk; f++) if (FILENAME == ARGV[f]) break }
		{ t[kn[f], $1] = $2; seen[$1]++ }
		END {
			n = 0
			for (r in seen) {
				if (seen[r] != nk) continue
				for (i = 1; i <= nk; i++) v[kn[i]] = t[kn[i], r]
				x[++n] = ('"$expr"')
			}
			if (!n) { print "n/a"; exit }
			# insertion sort: a few hundred values at most
			for (i = 2; i <= n; i++) { y = x[i]; for (j = i - 1; j >= 1 && x[j] > y; j--) x[j + 1] = x[j]; x[j + 1] = y }
			if (want == "q") printf "%.6g %.6g\n", quant(x, n, 0.25), quant(x, n, 0.75)
			else printf "%.6g\n", quant(x, n, 0.5)
		}
		# the p-quantile of sorted x[1..n], interpolated between order statistics (R type 7)
		function quant(x, n, p,   h, lo) { h = (n - 1) * p + 1; lo = int(h); return lo >= n ? x[n] : x[lo] + (h - lo) * (x[lo + 1] - x[lo]) }
	' "${files[@]}"
}

# pct KEY... EXPR: the median of EXPR (a ratio) over the rounds, as a percentage over 1;
# iqr KEY... EXPR: its interquartile range, "Q1 .. Q3" in the same units
pct() { local m; m=$(stat_of "$@"); [[ $m == n/a ]] && echo n/a || calc "($m - 1) * 100"; }
iqr() {
	local q
	q=$(stat_of "$@" q)
	[[ $q == n/a ]] && { echo n/a; return; }
	set -- $q
	echo "$(sign "$(calc "($1 - 1) * 100")") .. $(sign "$(calc "($2 - 1) * 100")")"
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
# Every figure is a median over the rounds of a figure of one round (its variants ran
# within seconds of each other), not a figure of medians: docs/sampling.md "Measuring CPU
# time on a shared machine" says why.
bench_one() { # NAME LABEL CMD TINY
	local name=$1 label=$2 cmd=$3 tiny=$4 v="PERFSHIM_OUTPUT=$work/t.bin PERFSHIM_SAMPLE=$MEAN PERFSHIM_SAMPLE_SEED=1 LD_PRELOAD=$LIB"
	local s="env $v"
	local -a specs=("$name.plain|$cmd" "$name.plain0|$tiny" "$name.s|$v $cmd" "$name.s0|$v $tiny")
	[ -n "$FLOOR" ] && specs+=("$name.fw|LD_PRELOAD=$FLOOR $cmd" "$name.fw0|LD_PRELOAD=$FLOOR $tiny")
	[ -n "$COUNT" ] && specs+=("$name.ct|LD_PRELOAD=$COUNT $cmd")
	echo "== $label: ${#specs[@]} variants x $ROUNDS rounds" >&2
	group "${specs[@]}"
	# the events, from one full trace; the sampled trace's own size and events
	eval "env PERFSHIM_OUTPUT=$work/$name.full.bin LD_PRELOAD=$LIB $cmd" </dev/null >/dev/null 2>&1
	eval "$s $cmd" </dev/null >/dev/null 2>&1
	local ev sev size
	ev=$(events "$work/$name.full.bin")
	sev=$(events "$work/t.bin")
	size=$(du -sb "$work/t.bin" | cut -f1)
	rm -f "$work/$name.full.bin"
	local P=$name.plain P0=$name.plain0 S=$name.s S0=$name.s0 F=$name.fw F0=$name.fw0 C=$name.ct
	local p=${CPU[$P]} p0=${CPU[$P0]} c=${CPU[$S]} c0=${CPU[$S0]}
	local fw=${CPU[$F]:-n/a} fw0=${CPU[$F0]:-n/a}
	local ns=n/a ns_m=n/a fns=n/a fns_m=n/a pct=n/a fpct=n/a pct_m=n/a fpct_m=n/a cpct=n/a
	local q=n/a fq=n/a r=n/a fr=n/a cr=n/a
	if [[ $ev != n/a ]]; then
		ns=$(calc "$(stat_of "$P" "$S" "(v[\"$S\"] - v[\"$P\"]) * 1e9 / $ev")")
		ns_m=$(calc "$(stat_of "$P" "$P0" "$S" "$S0" \
			"((v[\"$S\"] - v[\"$S0\"]) - (v[\"$P\"] - v[\"$P0\"])) * 1e9 / $ev")")
	fi
	pct=$(pct "$P" "$S" "v[\"$S\"] / v[\"$P\"]")
	q=$(iqr "$P" "$S" "v[\"$S\"] / v[\"$P\"]")
	pct_m=$(pct "$P" "$P0" "$S" "$S0" "(v[\"$S\"] - v[\"$S0\"]) / (v[\"$P\"] - v[\"$P0\"])")
	r=$(calc "1 + $pct / 100")
	if [ -n "$FLOOR" ]; then
		if [[ $ev != n/a ]]; then
			fns=$(calc "$(stat_of "$P" "$F" "(v[\"$F\"] - v[\"$P\"]) * 1e9 / $ev")")
			fns_m=$(calc "$(stat_of "$P" "$P0" "$F" "$F0" \
				"((v[\"$F\"] - v[\"$F0\"]) - (v[\"$P\"] - v[\"$P0\"])) * 1e9 / $ev")")
		fi
		fpct=$(pct "$P" "$F" "v[\"$F\"] / v[\"$P\"]")
		fq=$(iqr "$P" "$F" "v[\"$F\"] / v[\"$P\"]")
		fpct_m=$(pct "$P" "$P0" "$F" "$F0" "(v[\"$F\"] - v[\"$F0\"]) / (v[\"$P\"] - v[\"$P0\"])")
		fr=$(calc "1 + $fpct / 100")
	fi
	if [ -n "$COUNT" ]; then
		cpct=$(pct "$P" "$C" "v[\"$C\"] / v[\"$P\"]")
		cr=$(calc "1 + $cpct / 100")
	fi
	row "$label" "malloc+free events" "$ev" "" "" ""
	row "$label" "CPU plain / sampled (s)" "$p / $c" "$fw" "" ""
	row "$label" "CPU startup plain / sampled (s)" "$p0 / $c0" "$fw0" "" ""
	row "$label" "ns per malloc/free over plain" "$ns" "$fns" "<= 5 ns" "$(met "$ns" 5)"
	row "$label" "  startup excluded" "$ns_m" "$fns_m" "<= 5 ns" "$(met "$ns_m" 5)"
	row "$label" "CPU overhead at $MEAN (%)" "$(sign "$pct")" "$(sign "$fpct")" "<= 5%" "$(met "$pct" 5)"
	row "$label" "  interquartile range of the rounds (%)" "$q" "$fq" "" ""
	row "$label" "  startup excluded" "$(sign "$pct_m")" "$(sign "$fpct_m")" "" ""
	row "$label" "  counting forwarder" "$(sign "$cpct")" "" "" ""
	row "$label" "sampled events" "$sev" "" "" ""
	row "$label" "trace bytes per sampled event" "$(calc "$size / $sev")" "" "" ""
	ratios+=("$(printf 'overhead ratio %s: sampled/plain %s (%s%%), floor %s, counting %s' "$label" \
		"$r" "$(sign "$pct")" "$fr" "$cr")")
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
	echo "sampled recording at PERFSHIM_SAMPLE=$MEAN; CPU rows: medians over $ROUNDS rounds of each round's figure (every variant once a round, shuffled); load $load0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	{
		printf 'workload\tfigure\tperfshim\tfloor\ttarget\tmet\n'
		printf '%s\n' "${rows[@]}"
	} | column -t -s $'\t'
	printf '%s\n' "${ratios[@]}"
} | tee "$out/sampling.txt"
echo "(floor: malloc/free/calloc/realloc interposed as one tail jump each, the cost of interposing alone; counting: a forwarder that counts; written to ${out#"$top"/}/sampling.txt)"
rm -f "$work/t.bin"
exit 0
