#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/accuracy.sh - do the self times perfshim reports agree with sampling? (issue 8)
#
# For samples/interp (bench.toy) and samples/minidb (bench.sql), both built -O2 -g
# -finstrument-functions (build/samples/O2/), the reference is `perf record -e cpu-clock` of
# the same binary run without any tracer (glibc's own empty __cyg_profile_func_* hooks run),
# with DWARF call chains so that a sample in libc or the kernel is charged to the program
# function that called it, as a tracer's self time charges it; samples in the hooks are left
# out. perfshim's self times (perfshim-analyze functions; cpu_self_ns when the trace has it,
# else self_ns) and uftrace's (uftrace record --no-libcall + uftrace report) are compared with
# it as shares of the time spent in the program's own functions: the overlap of the top-10
# sets, and the mean and max absolute share error (percentage points) over perf's top 10.
# Once on the machine as it is ("quiet") and once with BENCH_ACC_LOAD busy loops competing.
# docs/accuracy.md explains the method and its error sources.
#
#   bench/accuracy.sh [--rows FILE]    FILE: the rows for bench/run.sh's table
#   bench/accuracy.sh --rescore        score the traces a BENCH_ACC_KEEP=1 run kept again, with
#                                      the analyzer as built now, against the same perf runs
#
# Prints one "accuracy:" line per program and load; details (per-function shares, where perf's
# samples went, the commands) go to build/bench/accuracy.txt. perf, uftrace or jq missing or
# refused gives n/a and the reason, never a failure.
#
# Knobs: BENCH_ACC_PERF_RUNS (8), BENCH_ACC_RUNS (5: perfshim), BENCH_ACC_UFT_RUNS (3),
#        BENCH_ACC_FREQ (20000 Hz), BENCH_ACC_STACK (4096: bytes of user stack per sample),
#        BENCH_ACC_LOAD (2 busy loops), BENCH_ACC_PIN=1 (pin loop i to CPU i mod nproc),
#        BENCH_ACC_INTERP (22: bench.toy argument), BENCH_ACC_MINIDB (3: bench.sql SIZE),
#        BENCH_ACC_EVENTS (perfshim's PERFSHIM_EVENTS; default: unset, calls and malloc),
#        BENCH_ACC_LOADS ("quiet loaded"), BENCH_ACC_PERF / BENCH_ACC_UFTRACE (the commands),
#        BENCH_QUICK=1 (2 runs, smaller sizes),
#        BENCH_NO_INSTALL=1 (do not run misc/install-deps.sh --bench),
#        BENCH_ACC_KEEP=1 (keep perfshim's traces in build/bench/accuracy/ for --rescore: an
#        analyzer change judged on the same recordings, so that run-to-run noise cannot decide).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
B="$top/build"
LIB="$B/libperfshim.so"
ANALYZE="$B/perfshim-analyze"
out="$B/bench"
work="$out/accuracy"
details="$out/accuracy.txt"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_ACC_PERF_RUNS:=2}" "${BENCH_ACC_RUNS:=2}" "${BENCH_ACC_UFT_RUNS:=1}"
	: "${BENCH_ACC_INTERP:=20}"
	: "${BENCH_ACC_MINIDB:=1}"
fi
PERF_RUNS=${BENCH_ACC_PERF_RUNS:-8}
RUNS=${BENCH_ACC_RUNS:-5}
UFT_RUNS=${BENCH_ACC_UFT_RUNS:-3}
FREQ=${BENCH_ACC_FREQ:-20000}
STACK=${BENCH_ACC_STACK:-4096}
NLOAD=${BENCH_ACC_LOAD:-2}
INTERP_N=${BENCH_ACC_INTERP:-22}
MINIDB_N=${BENCH_ACC_MINIDB:-3}
LOADS=${BENCH_ACC_LOADS:-quiet loaded}
PERF=${BENCH_ACC_PERF:-perf}
UFTRACE=${BENCH_ACC_UFTRACE:-uftrace}
# issue 8's targets
T_OVERLAP=9 T_MEAN=1 T_MAX=3

rows_file="" rescore=0
KEEP=${BENCH_ACC_KEEP:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--rows) rows_file=${2:?--rows needs a file}; shift 2 ;;
	--rescore) rescore=1; shift ;;
	-h | --help) sed -n '3,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "accuracy.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done

if [ $rescore = 1 ]; then
	if ! ls "$work"/*.trace.[0-9]* >/dev/null 2>&1; then
		echo "accuracy.sh: --rescore: no traces kept in ${work#"$top"/} (run with BENCH_ACC_KEEP=1 first)" >&2
		exit 2
	fi
else
	rm -rf "$work"
	mkdir -p "$work"
fi
[ -n "$rows_file" ] && : >"$rows_file"
have() { command -v "$1" >/dev/null 2>&1; }
notes=()
note() { notes+=("$*"); echo "  note: $*" >&2; }
detail() { printf '%s\n' "$*" >>"$work/details"; }

if [ "${BENCH_NO_INSTALL:-0}" != 1 ] && [ $rescore = 0 ]; then
	"$top/misc/install-deps.sh" --bench >&2 ||
		note "misc/install-deps.sh --bench failed: missing tools are reported as n/a"
fi

# ------------------------------------------------------------------ the tools

# perf: installed, and allowed to sample a child with call chains (perf_event_paranoid, a
# container's seccomp profile or a missing kernel feature can each refuse it).
perf_ok=1 perf_why=
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo '?')
if ! have "$PERF"; then
	perf_ok=0 perf_why="perf not installed (Debian: linux-perf; misc/install-deps.sh --bench)"
elif ! "$PERF" record -q -e cpu-clock -F 1000 --call-graph "dwarf,$STACK" -o "$work/probe.data" \
	-- true >/dev/null 2>"$work/probe.err"; then
	perf_ok=0
	perf_why="perf record refused: $(grep -v '^ *$' "$work/probe.err" | head -n 1)"
	perf_why+=" (kernel.perf_event_paranoid=$paranoid)"
fi
uft_ok=1 uft_why=
have "$UFTRACE" || { uft_ok=0 uft_why="uftrace not installed (misc/install-deps.sh --bench)"; }
[ "$UFT_RUNS" -gt 0 ] || { uft_ok=0 uft_why="no uftrace runs (BENCH_ACC_UFT_RUNS=0)"; }
ps_ok=1 ps_why=
[ "$RUNS" -gt 0 ] || { ps_ok=0 ps_why="no perfshim runs (BENCH_ACC_RUNS=0)"; }
have jq || { ps_ok=0 ps_why="jq missing (misc/install-deps.sh)"; }
for f in "$LIB" "$ANALYZE"; do
	[ -e "$f" ] || { ps_ok=0 ps_why="missing $f (make all)"; }
done
have objdump || { perf_ok=0 perf_why="objdump missing (binutils): no list of instrumented functions"; }

# ------------------------------------------------------------------ reading each tool

# base NAME: a symbol as the source names it: no "@plt", no ".constprop.0"/".isra.0"/".part.0"/
# ".cold" clone suffix (perf names the clone's code, the hooks name the original function).
base_awk='function base(s) { sub(/@plt$/, "", s); sub(/\..*$/, "", s); return s }'

# instrumented BIN: the functions of BIN that call __cyg_profile_func_enter, one per line:
# the functions a tracer can see, and the only ones a sample is charged to.
instrumented() {
	objdump -d --no-show-raw-insn "$1" 2>/dev/null | awk "$base_awk"'
		/^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn); next }
		/call.*<__cyg_profile_func_enter(@plt)?>/ { if (fn != "") print base(fn) }' | sort -u
}

# perf_self DATA BIN INSTR: "name<TAB>samples" for the program's functions from one perf.data,
# and a last line "#<TAB>total hook outside libc kernel direct". A sample goes to the innermost
# instrumented function of BIN on its call chain (perf lists inlined functions before the
# function they were inlined into, with "(inlined)" as their object); a sample whose leaf is
# a hook is left out, as is one with no program function on its chain (start-up, exit).
perf_self() {
	local data=$1 prog instr=$3
	prog=$(basename "$2")
	"$PERF" script -i "$data" -F ip,sym,dso --no-demangle 2>>"$work/perf-script.err" |
		awk -v prog="$prog" -v instr="$instr" "$base_awk"'
		BEGIN { while ((getline f < instr) > 0) ok[f] = 1; RS = ""; FS = "\n" }
		function dso_of(line,   p) {
			p = match(line, / \([^()]*\)$/)
			if (!p) return ""
			d = substr(line, p + 2, RLENGTH - 3); sub(/.*\//, "", d); return d
		}
		function sym_of(line,   p) {
			sub(/^[ \t]*[0-9a-f]+ /, "", line)
			p = match(line, / \([^()]*\)$/)
			return p ? substr(line, 1, p - 1) : line
		}
		{
			total++
			leafsym = base(sym_of($1)); leafdso = ""
			for (i = 1; i <= NF && leafdso == ""; i++)	# the object of the leaf, past inlining
				if ((d = dso_of($i)) != "inlined") leafdso = d
			if (leafsym == "__cyg_profile_func_enter" || leafsym == "__cyg_profile_func_exit") {
				hook++; next
			}
			np = 0; got = ""
			for (i = 1; i <= NF && got == ""; i++) {
				if ($i ~ /^[ \t]*$/) continue
				d = dso_of($i); s = base(sym_of($i))
				if (d == "inlined") { pend[++np] = s; continue }
				if (d == prog) {
					for (k = 1; k <= np && got == ""; k++) if (pend[k] in ok) got = pend[k]
					if (got == "" && (s in ok)) got = s
				}
				np = 0
			}
			if (got == "") { outside++; next }
			n[got]++
			if (leafdso == prog) direct++
			else if (leafdso ~ /kernel/) kernel++
			else lib++
		}
		END {
			for (f in n) printf "%s\t%d\n", f, n[f]
			printf "#\t%d %d %d %d %d %d\n", total, hook, outside, lib, kernel, direct
		}'
}

# ps_self TRACE PROG: "name<TAB>ns<TAB>field" for each function of PROG's own module, as
# perfshim-analyze reports its self time: cpu_self_ns (on-CPU, issue 8) when the trace has it,
# else self_ns (wall clock). The one place that reads perfshim's output.
ps_self() {
	"$ANALYZE" functions --format=json --limit=0 "$1" 2>>"$work/analyze.err" |
		jq -r --arg m "$2" '.functions[] | select(.module == $m) |
			[.name, (.cpu_self_ns // .self_ns),
			 (if .cpu_self_ns == null then "self_ns" else "cpu_self_ns" end)] | @tsv'
}

# uft_self DIR: "name<TAB>ns" from uftrace report's self column; its "linux:..." rows
# (schedule events it records itself) are not program functions and are left out.
uft_self() {
	"$UFTRACE" report -d "$1" --no-pager -s self 2>>"$work/uftrace.err" | awk "$base_awk"'
		function ns(v, u) {
			if (u == "ns") return v; if (u == "us") return v * 1e3
			if (u == "ms") return v * 1e6; if (u == "s") return v * 1e9
			if (u == "m") return v * 60e9; if (u == "h") return v * 3600e9
			return -1
		}
		$1 ~ /^[0-9.]+$/ && NF >= 6 {
			name = $6; for (i = 7; i <= NF; i++) name = name " " $i
			if (name ~ /^linux:/) next
			t = ns($3, $4); if (t >= 0) printf "%s\t%.0f\n", base(name), t
		}'
}

# ------------------------------------------------------------------ shares and errors

# pool FILE...: "name<TAB>sum" over runs (perf's samples: more samples, less sampling noise)
pool() { cat "$@" 2>/dev/null | grep -v '^#' | awk -F'\t' '{ s[$1] += $2 } END { for (f in s) printf "%s\t%s\n", f, s[f] }'; }

# shares FILE: "name<TAB>percent of the file's total"
shares() { awk -F'\t' '{ v[$1] = $2; t += $2 } END { for (f in v) printf "%s\t%.6f\n", f, (t > 0 ? 100 * v[f] / t : 0) }' "$1"; }

# median_shares FILE...: per function, the median over the runs of its share (0 in a run
# where it does not appear; the mean of the middle two for an even number of runs), then
# scaled so that the medians add up to 100% again: one disturbed run moves no figure.
median_shares() {
	local f i=0
	for f in "$@"; do
		i=$((i + 1))
		shares "$f" | sed "s/^/$i\t/"
	done | awk -F'\t' -v runs=$# '{ v[$2, $1] = $3; name[$2] = 1 }
		END { for (f in name) for (r = 1; r <= runs; r++) printf "%s\t%.6f\n", f, ((f, r) in v) ? v[f, r] : 0 }' |
		sort -t"$(printf '\t')" -k1,1 -k2,2g |
		awk -F'\t' -v runs=$# '{ v[$1, ++n[$1]] = $2 }
		END { for (f in n) { m[f] = (v[f, int((runs + 1) / 2)] + v[f, int(runs / 2) + 1]) / 2; t += m[f] }
			for (f in m) printf "%s\t%.6f\n", f, (t > 0 ? 100 * m[f] / t : 0) }'
}

top10() { sort -t"$(printf '\t')" -k2,2gr -k1,1 "$1" | head -n 10; }

# errors REF TOOL: "overlap mean max" of TOOL's shares against REF's (both "name<TAB>%")
errors() {
	top10 "$1" >"$work/ref.top"
	top10 "$2" >"$work/tool.top"
	awk -F'\t' 'FILENAME == ARGV[1] { rt[$1] = $2; order[++n] = $1; next }
		FILENAME == ARGV[2] { tt[$1] = 1; next }
		{ ts[$1] = $2 }
		END {
			for (f in tt) if (f in rt) ov++
			for (i = 1; i <= n; i++) {
				e = ts[order[i]] - rt[order[i]]; if (e < 0) e = -e
				sum += e; if (e > max) max = e
			}
			printf "%d %.1f %.1f\n", ov, n ? sum / n : 0, max
		}' "$work/ref.top" "$work/tool.top" "$2"
}

# ------------------------------------------------------------------ competing load

load_pids=()
stop_load() {
	local p
	for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	load_pids=()
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT TERM
start_load() {
	local i ncpu
	ncpu=$(nproc 2>/dev/null || echo 1)
	for ((i = 0; i < NLOAD; i++)); do
		if [ "${BENCH_ACC_PIN:-0}" = 1 ] && have taskset; then
			taskset -c $((i % ncpu)) bash -c 'while :; do :; done' &
		else
			bash -c 'while :; do :; done' &
		fi
		load_pids+=($!)
	done
	sleep 0.5	# let the scheduler spread them
}

# ------------------------------------------------------------------ one program, one load

declare -A NA LOADAVG
field_used=

# measure NAME LOAD BIN ARGS...: interleaved rounds of perf, perfshim and uftrace runs (each
# round runs every tool that has runs left), so that all see the same machine
measure() {
	local name=$1 load=$2 bin=$3
	shift 3
	local tag="$name.$load" r instr="$work/$name.instr" rounds=$PERF_RUNS
	local pd="$work/$tag.perf.data" tr="$work/$tag.bin" ud="$work/$tag.uftrace"
	[ "$RUNS" -gt "$rounds" ] && rounds=$RUNS
	[ "$UFT_RUNS" -gt "$rounds" ] && rounds=$UFT_RUNS
	echo "== accuracy: $name, $load: perf $PERF_RUNS, perfshim $RUNS, uftrace $UFT_RUNS runs" >&2
	[ -s "$instr" ] || instrumented "$bin" >"$instr"
	for ((r = 1; r <= rounds; r++)); do
		if [ $perf_ok = 1 ] && [ "$r" -le "$PERF_RUNS" ]; then
			rm -f "$pd"
			if "$PERF" record -q -e cpu-clock -F "$FREQ" --call-graph "dwarf,$STACK" -o "$pd" \
				-- "$bin" "$@" >/dev/null 2>>"$work/$tag.perf.err"; then
				perf_self "$pd" "$bin" "$instr" >"$work/$tag.perf.$r"
			fi
			rm -f "$pd"
		fi
		if [ $ps_ok = 1 ] && [ "$r" -le "$RUNS" ]; then
			rm -f "$tr"
			if env PERFSHIM_OUTPUT="$tr" ${BENCH_ACC_EVENTS:+PERFSHIM_EVENTS=$BENCH_ACC_EVENTS} \
				LD_PRELOAD="$LIB" "$bin" "$@" >/dev/null 2>>"$work/$tag.ps.err"; then
				ps_score "$tr" "$name" "$tag" "$r"
				[ "$KEEP" = 1 ] && mv -f "$tr" "$work/$tag.trace.$r"
			fi
			rm -f "$tr"
		fi
		if [ $uft_ok = 1 ] && [ "$r" -le "$UFT_RUNS" ]; then
			rm -rf "$ud"
			if "$UFTRACE" record --no-libcall -d "$ud" "$bin" "$@" >/dev/null \
				2>>"$work/$tag.uft.err"; then
				uft_self "$ud" >"$work/$tag.uft.$r"
			fi
			rm -rf "$ud"
		fi
	done
}

# ps_score TRACE NAME TAG RUN: perfshim's self times of one run ($work/TAG.ps.RUN)
ps_score() {
	ps_self "$1" "$2" >"$work/$3.ps.raw.$4"
	cut -f1,2 "$work/$3.ps.raw.$4" >"$work/$3.ps.$4"
	field_used=$(cut -f3 "$work/$3.ps.raw.$4" | sort -u | paste -sd/)
}

# rescore NAME LOAD: perfshim's self times again from the traces a BENCH_ACC_KEEP=1 run kept;
# perf's and uftrace's runs stay as they were
rescore() {
	local tag="$1.$2" f
	rm -f "$work/$tag".ps.[0-9]* "$work/$tag".ps.raw.[0-9]*
	for f in "$work/$tag".trace.[0-9]*; do
		[ -e "$f" ] && ps_score "$f" "$1" "$tag" "${f##*.}"
	done
}

# verdict VALUE OP LIMIT: yes, NO or n/a
verdict() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { r = "n/a"
		if (v != "n/a") r = ((op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)) ? "yes" : "NO"
		print r }'
}

# report NAME LOAD: the figures of one program under one load (rows, details, one line)
report() {
	local name=$1 load=$2 tag="$1.$2" label="accuracy $1, $2"
	local -a pf=() psf=() uf=()
	local f
	for f in "$work/$tag".perf.[0-9]*; do [ -s "$f" ] && pf+=("$f"); done
	for f in "$work/$tag".ps.[0-9]*; do [ -s "$f" ] && psf+=("$f"); done
	for f in "$work/$tag".uft.[0-9]*; do [ -s "$f" ] && uf+=("$f"); done

	local ref="$work/$tag.ref" psm="$work/$tag.ps.median" ufm="$work/$tag.uft.median"
	local ps_e="n/a n/a n/a" uf_e="n/a n/a n/a" why_ps=${ps_why:-} why_uf=${uft_why:-}
	local stats="n/a"
	[ ${#pf[@]} -gt 0 ] && pool "${pf[@]}" >"$work/$tag.pooled"
	if [ -s "$work/$tag.pooled" ]; then
		shares "$work/$tag.pooled" >"$ref"
		stats=$(cat "${pf[@]}" | awk -F'\t' '$1 == "#" { split($2, a, " "); for (i = 1; i <= 6; i++) s[i] += a[i] }
			END { printf "%d %d %d %d %d %d", s[1], s[2], s[3], s[4], s[5], s[6] }')
		if [ ${#psf[@]} -gt 0 ]; then
			median_shares "${psf[@]}" >"$psm"
			ps_e=$(errors "$ref" "$psm")
		else
			why_ps=${why_ps:-"no perfshim run succeeded (see $work/$tag.ps.err)"}
		fi
		if [ ${#uf[@]} -gt 0 ]; then
			median_shares "${uf[@]}" >"$ufm"
			uf_e=$(errors "$ref" "$ufm")
		else
			why_uf=${why_uf:-"no uftrace run succeeded (see $work/$tag.uft.err)"}
		fi
	fi
	local why_ref=${perf_why:-}
	[ ${#pf[@]} -gt 0 ] || why_ref=${why_ref:-"no perf run succeeded (see $work/$tag.perf.err)"}
	[ -s "$work/$tag.pooled" ] || why_ref=${why_ref:-"no perf sample fell in a program function"}

	local ov me mx uov ume umx met
	read -r ov me mx <<<"$ps_e"
	read -r uov ume umx <<<"$uf_e"
	met=$(awk -v o="$ov" -v m="$me" -v x="$mx" -v to=$T_OVERLAP -v tm=$T_MEAN -v tx=$T_MAX \
		'BEGIN { r = "NO"; if (o == "n/a") r = "n/a"; else if (o >= to && m <= tm && x <= tx) r = "met"; print r }')
	local ovs="n/a" uovs="n/a"
	[ "$ov" != n/a ] && ovs="$ov/10"
	[ "$uov" != n/a ] && uovs="$uov/10"
	local ps_txt uf_txt
	ps_txt=$(printf 'overlap %-5s mean %4s pp  max %4s pp' "$ovs" "$me" "$mx")
	uf_txt=$(printf '%-5s %4s pp %4s pp' "$uovs" "$ume" "$umx")
	[ "$ov" = n/a ] && ps_txt="n/a ($why_ps)"
	[ "$uov" = n/a ] && uf_txt="n/a ($why_uf)"
	if [ -n "$why_ref" ]; then
		printf 'accuracy: %-7s %-7s n/a: %s\n' "$name" "$load" "$why_ref"
	else
		printf 'accuracy: %-7s %-7s perfshim  %s   uftrace %s   target %d/10, %s pp, %s pp: %s\n' \
			"$name" "$load" "$ps_txt" "$uf_txt" $T_OVERLAP $T_MEAN $T_MAX "$met"
	fi
	if [ -n "$rows_file" ]; then
		local mo mm mxx
		mo=$(verdict "$ov" ">=" $T_OVERLAP)
		mm=$(verdict "$me" "<=" $T_MEAN)
		mxx=$(verdict "$mx" "<=" $T_MAX)
		printf 'row\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n' \
			"$label" "top-10 overlap vs perf" "$ovs" uftrace "$uovs" "" ">= $T_OVERLAP/10" "$mo" \
			"$label" "mean share error (pp)" "$me" uftrace "$ume" "" "<= $T_MEAN pp" "$mm" \
			"$label" "max share error (pp)" "$mx" uftrace "$umx" "" "<= $T_MAX pp" "$mxx" >>"$rows_file"
		[ -n "$why_ref" ] && [ "$why_ref" != "${perf_why:-}" ] &&
			printf 'note\t%s: %s\n' "$label" "$why_ref" >>"$rows_file"
	fi

	# details: where perf's samples went, the noise floor, and the shares side by side
	detail ""
	detail "== $name, $load (load average ${LOADAVG[$load]:-n/a} at the start$( [ $rescore = 1 ] &&
		echo "; perfshim rescored from the kept traces, $(date -u '+%Y-%m-%d %H:%M UTC')"))"
	[ -n "$why_ref" ] && { detail "perf: n/a: $why_ref"; return; }
	local tot hook outs lib kern dir
	read -r tot hook outs lib kern dir <<<"$stats"
	detail "perf: ${#pf[@]} runs, $tot samples: $hook in the hooks (left out), $outs outside program functions (left out),"
	detail "      $dir in program functions, $lib in libraries and $kern in the kernel (charged to their program caller)"
	detail "perf's own noise: $(noise_floor "$work/$tag.pooled" "${pf[@]}")"
	detail "perfshim: ${#psf[@]} runs (field ${field_used:-n/a})${why_ps:+; $why_ps}; uftrace: ${#uf[@]} runs${why_uf:+; $why_uf}"
	detail "$(printf '%-28s %9s %9s %9s' function 'perf %' 'perfshim %' 'uftrace %')"
	[ -e "$psm" ] || : >"$psm"	# a tool without runs: an empty column ("-")
	[ -e "$ufm" ] || : >"$ufm"
	{ top10 "$ref"; [ -s "$psm" ] && top10 "$psm"; [ -s "$ufm" ] && top10 "$ufm"; } 2>/dev/null |
		cut -f1 | sort -u >"$work/union"
	awk -F'\t' 'FILENAME == ARGV[1] { u[$1] = 1; next } FILENAME == ARGV[2] { r[$1] = $2; next }
		FILENAME == ARGV[3] { p[$1] = $2; next } { t[$1] = $2 }
		END { for (f in u) printf "%-28s %9.2f %9s %9s\n", f, r[f] + 0,
			(f in p) ? sprintf("%.2f", p[f]) : "-", (f in t) ? sprintf("%.2f", t[f]) : "-" }' \
		"$work/union" "$ref" "$psm" "$ufm" 2>/dev/null | sort -k2,2gr >>"$work/details"
}

# noise_floor POOLED PERF_RUN...: how much of an error is the reference's own sampling noise.
# Binomial over the pooled samples: E|error| = sqrt(2/pi) sigma, sigma = sqrt(p (1 - p) / N),
# averaged over perf's top 10, and the largest 2 sigma; then, measured, one perf run against
# the other runs pooled (the median over runs: the noise of a reference of one run).
noise_floor() {
	local pooled=$1
	shift
	local binom i j means=() maxes=() e mm mx
	binom=$(sort -t"$(printf '\t')" -k2,2gr "$pooled" | awk -F'\t' '{ v[NR] = $2; n += $2 }
		END { for (i = 1; i <= 10 && i <= NR; i++) { p = v[i] / n; s = 100 * sqrt(p * (1 - p) / n)
			sum += 0.7979 * s; if (2 * s > mx) mx = 2 * s; k++ }
			printf "mean %.2f pp, max (2 sigma) %.2f pp", k ? sum / k : 0, mx }')
	if [ $# -lt 2 ]; then
		echo "binomial over the pooled samples: $binom"
		return
	fi
	for ((i = 1; i <= $#; i++)); do
		local others=()
		for ((j = 1; j <= $#; j++)); do [ $j = $i ] || others+=("${!j}"); done
		pool "${others[@]}" >"$work/nf.pool"
		shares "$work/nf.pool" >"$work/nf.ref"
		grep -v '^#' "${!i}" >"$work/nf.one"
		shares "$work/nf.one" >"$work/nf.tool"
		e=$(errors "$work/nf.ref" "$work/nf.tool")
		means+=("$(cut -d' ' -f2 <<<"$e")")
		maxes+=("$(cut -d' ' -f3 <<<"$e")")
	done
	mm=$(printf '%s\n' "${means[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	mx=$(printf '%s\n' "${maxes[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "binomial over the pooled samples: $binom; one run against the others: mean $mm pp, max $mx pp"
}

# ------------------------------------------------------------------ run

declare -A PROG_BIN PROG_ARGS
PROG_BIN[interp]="$B/samples/O2/interp"
PROG_ARGS[interp]="$top/samples/interp/bench.toy $INTERP_N"
PROG_BIN[minidb]="$B/samples/O2/minidb"
PROG_ARGS[minidb]="$top/samples/minidb/bench.sql $MINIDB_N"

: >"$work/details"
for load in $LOADS; do
	case $load in
	quiet | loaded) ;;
	*) echo "accuracy.sh: unknown load '$load' (quiet, loaded)" >&2; exit 2 ;;
	esac
	if [ $rescore = 1 ]; then	# the machine as it was when the traces were recorded
		LOADAVG[$load]=$(cat "$work/$load.loadavg" 2>/dev/null)
		for name in interp minidb; do rescore "$name" "$load"; done
		continue
	fi
	[ "$load" = loaded ] && start_load
	LOADAVG[$load]=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
	printf '%s\n' "${LOADAVG[$load]}" >"$work/$load.loadavg"
	for name in interp minidb; do
		bin=${PROG_BIN[$name]}
		if [ ! -x "$bin" ]; then
			NA[$name]="missing $bin (make samples)"
			continue
		fi
		[ $perf_ok = 1 ] || continue	# no reference: nothing to compare with
		# shellcheck disable=SC2086 # the arguments are words
		measure "$name" "$load" "$bin" ${PROG_ARGS[$name]}
	done
	stop_load
done

summary=$(for load in $LOADS; do
	for name in interp minidb; do
		if [ -n "${NA[$name]:-}" ]; then
			printf 'accuracy: %-7s %-7s n/a: %s\n' "$name" "$load" "${NA[$name]}"
			[ -n "$rows_file" ] && printf 'note\taccuracy %s: n/a: %s\n' "$name" "${NA[$name]}" >>"$rows_file"
			continue
		fi
		report "$name" "$load"
	done
done)

{
	echo "perfshim accuracy, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)"
	echo "$summary"
	echo
	echo "reference: $("$PERF" --version 2>/dev/null || echo 'perf: n/a'), perf record -e cpu-clock -F $FREQ" \
		"--call-graph dwarf,$STACK (no tracer: glibc's empty hooks), $PERF_RUNS runs pooled"
	echo "perfshim:  LD_PRELOAD=build/libperfshim.so${BENCH_ACC_EVENTS:+ PERFSHIM_EVENTS=$BENCH_ACC_EVENTS}," \
		"perfshim-analyze functions --format=json: ${field_used:-n/a}" \
		"$( [ "${field_used:-}" = self_ns ] && echo '(wall clock)' ), median of $RUNS runs"
	echo "uftrace:   $("$UFTRACE" --version 2>/dev/null | head -n 1 || echo n/a), uftrace record --no-libcall + report -s self," \
		"median of $UFT_RUNS runs"
	echo "programs:  build/samples/O2/interp samples/interp/bench.toy $INTERP_N;" \
		"build/samples/O2/minidb samples/minidb/bench.sql $MINIDB_N (gcc -O2 -g -finstrument-functions)"
	echo "shares:    percent of the samples (perf) or self time (tracers) in the program's instrumented functions;"
	echo "           errors over perf's top 10, in percentage points; loaded = $NLOAD busy loops$( [ "${BENCH_ACC_PIN:-0}" = 1 ] && echo ', pinned')"
	cat "$work/details"
	for n in "${notes[@]}"; do echo "note: $n"; done
} >"$details"
echo "$summary"
echo "(details in ${details#"$top"/})"
if [ -n "$rows_file" ]; then
	[ -n "$field_used" ] &&
		printf 'note\taccuracy: perfshim (%s) self time from %s%s; perf %s Hz, %s runs pooled; details in %s\n' \
			"${BENCH_ACC_EVENTS:-default events: calls and malloc}" "$field_used" \
			"$( [ "$field_used" = self_ns ] && echo ' (wall clock)')" "$FREQ" \
			"$PERF_RUNS" "${details#"$top"/}" >>"$rows_file"
	for why in "$perf_why" "$ps_why" "$uft_why"; do
		[ -n "$why" ] && printf 'note\taccuracy: n/a: %s\n' "$why" >>"$rows_file"
	done
	for n in "${notes[@]}"; do printf 'note\t%s\n' "$n" >>"$rows_file"; done
fi
exit 0
