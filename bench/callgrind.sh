# SPDX-License-Identifier: MIT
# bench/callgrind.sh - sourced by bench/run.sh: instructions per event from valgrind's
# callgrind for perfshim and the floors on fib and mallocbench (docs/bench.md,
# "Instructions"). The machine is shared: CPU time moves with the load, instruction counts
# do not. Each variant runs twice under callgrind, at a small size and a tiny one; per event
# = ((variant N - variant tiny) - (plain N - plain tiny)) / (events N - events tiny), so
# start-up, symbol loading and first-sight costs (which both sizes pay) cancel out.
# On by default (about 20 s); BENCH_CALLGRIND=0 skips it, and its rows say so.

CG_FIB=${BENCH_CG_FIB:-22}
CG_FIB0=10
CG_MALLOC=${BENCH_CG_MALLOC:-50000}
CG_MALLOC0=1000

# cg_why: empty when callgrind can run, else the reason its rows are n/a
cg_why() {
	if [ "${BENCH_CALLGRIND:-1}" = 0 ]; then
		echo "BENCH_CALLGRIND=0"
	elif ! have valgrind; then
		echo "valgrind not installed"
	fi
}

# cg_ir KEY CMD: CG_IR = the instructions (Ir) CMD executed under callgrind, children
# included (a command run through env(1) is followed into the program), or n/a. Not called
# in a subshell, so that its notes reach the table.
cg_ir() {
	local key=$1 cmd=$2 d="$work/cg"
	mkdir -p "$d"
	rm -f "$d/$key".*
	CG_IR=n/a
	if ! eval "valgrind --tool=callgrind --trace-children=yes --callgrind-out-file='$d/$key.%p' $cmd" \
		</dev/null >"$d/$key.stdout" 2>"$d/$key.stderr"; then
		note "callgrind $key failed: $(tail -n 1 "$d/$key.stderr")"
		return
	fi
	CG_IR=$(cat "$d/$key".[0-9]* 2>/dev/null |
		awk '/^summary:/ { s += $2; n++ } END { if (n) print s; else print "n/a" }')
}

# cg_delta NAME VARIANT CMD_N CMD_TINY: CG[NAME.VARIANT] = Ir of the small run - Ir of the tiny
cg_delta() {
	local a
	cg_ir "$1.$2.n" "$3"
	a=$CG_IR
	cg_ir "$1.$2.0" "$4"
	CG[$1.$2]=n/a
	# integers, in the shell: calc's 6 significant digits would blur differences of totals
	[[ $a =~ ^[0-9]+$ && $CG_IR =~ ^[0-9]+$ ]] && CG[$1.$2]=$(( a - CG_IR ))
}

# cg_per NAME VARIANT DEVENTS: CG[NAME.VARIANT] becomes its instructions per event over plain's
cg_per() {
	local d=n/a
	[[ ${CG[$1.$2]} =~ ^-?[0-9]+$ && ${CG[$1.plain]} =~ ^-?[0-9]+$ ]] &&
		d=$(( CG[$1.$2] - CG[$1.plain] ))
	CG[$1.$2]=$(per "$d" "$3")
}

declare -A CG

# callgrind_rows_calls LABEL: fib(CG_FIB) under perfshim (calls) and the call floor
callgrind_rows_calls() {
	local label=$1 why prog="$B/samples/O2/fib" n0 n1 de v lib
	why=$(cg_why)
	if [ -n "$why" ]; then
		row "$label" "instructions/event" n/a "" "" "" "" "n/a ($why)"
		return
	fi
	echo "== callgrind: fib($CG_FIB)" >&2
	cg_delta fib plain "$prog $CG_FIB" "$prog $CG_FIB0"
	n1=$(sed -n 's/^calls of fib: //p' "$work/cg/fib.plain.n.stdout")
	n0=$(sed -n 's/^calls of fib: //p' "$work/cg/fib.plain.0.stdout")
	de=n/a
	isnum "$n1" && isnum "$n0" && de=$(( 2 * (n1 - n0) ))
	cg_delta fib ps "env PERFSHIM_OUTPUT=$work/cg/fib.bin PERFSHIM_EVENTS=calls LD_PRELOAD=$LIB $prog $CG_FIB" \
		"env PERFSHIM_OUTPUT=$work/cg/fib.bin PERFSHIM_EVENTS=calls LD_PRELOAD=$LIB $prog $CG_FIB0"
	CG[fib.fl]=n/a
	[ -n "$FL_CYG_RECORD" ] &&
		cg_delta fib fl "env BENCH_FLOOR_OUTPUT=$work/cg/fib.floor LD_PRELOAD=$FL_CYG_RECORD $prog $CG_FIB" \
			"env BENCH_FLOOR_OUTPUT=$work/cg/fib.floor LD_PRELOAD=$FL_CYG_RECORD $prog $CG_FIB0"
	for v in ps fl; do
		cg_per fib "$v" "$de"
	done
	row "$label" "instructions/event, fib($CG_FIB)" "$(fmt "${CG[fib.ps]}")" "" "" "" "" "" \
		"$(fmt "${CG[fib.fl]}")" "$(x_of "${CG[fib.ps]}" "${CG[fib.fl]}")"
}

# callgrind_rows_alloc LABEL: mallocbench CG_MALLOC under perfshim (full stacks and depth 0)
# and the allocation floors (record, stack, forwarding only)
callgrind_rows_alloc() {
	local label=$1 why prog="$B/samples/plain/mallocbench" de v lib env
	why=$(cg_why)
	if [ -n "$why" ]; then
		row "$label" "instructions/event" n/a "" "" "" "" "n/a ($why)"
		return
	fi
	echo "== callgrind: mallocbench $CG_MALLOC" >&2
	de=$(( 2 * (CG_MALLOC - CG_MALLOC0) ))
	cg_delta mb plain "$prog $CG_MALLOC" "$prog $CG_MALLOC0"
	for v in ps d0 fl st cnt; do
		case $v in
		ps) env="PERFSHIM_OUTPUT=$work/cg/mb.bin LD_PRELOAD=$LIB" ;;
		d0) env="PERFSHIM_OUTPUT=$work/cg/mb.bin PERFSHIM_STACK_DEPTH=0 LD_PRELOAD=$LIB" ;;
		fl) lib=$FL_MALLOC_RECORD ;;
		st) lib=$FL_MALLOC_STACK ;;
		cnt) lib=$FL_MALLOC_COUNT ;;
		esac
		case $v in
		fl | st | cnt)
			CG[mb.$v]=n/a
			[ -n "$lib" ] || continue
			env="BENCH_FLOOR_OUTPUT=$work/cg/mb.floor LD_PRELOAD=$lib" ;;
		esac
		cg_delta mb "$v" "env $env $prog $CG_MALLOC" "env $env $prog $CG_MALLOC0"
		cg_per mb "$v" "$de"
	done
	row "$label" "instructions/event, N=$CG_MALLOC" "$(fmt "${CG[mb.ps]}")" "" "" "" "" "" \
		"$(fmt "${CG[mb.fl]}")" "$(x_of "${CG[mb.ps]}" "${CG[mb.fl]}")"
	row "$label" "  at stack depth 0" "$(fmt "${CG[mb.d0]}")" "" "" "" "" "" \
		"$(fmt "${CG[mb.fl]}")" "$(x_of "${CG[mb.d0]}" "${CG[mb.fl]}")"
	row "$label" "  vs stack floor" "$(fmt "${CG[mb.ps]}")" "" "" "" "" "" \
		"$(fmt "${CG[mb.st]}")" "$(x_of "${CG[mb.ps]}" "${CG[mb.st]}")"
	row "$label" "  vs forwarding only" "$(fmt "${CG[mb.ps]}")" "" "" "" "" "" \
		"$(fmt "${CG[mb.cnt]}")" "$(x_of "${CG[mb.ps]}" "${CG[mb.cnt]}")"
}
