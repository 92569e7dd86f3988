#!/usr/bin/env bash
# The cost of a recorded allocation event (docs/stacks.md "The allocation path, one frame
# per event"): instructions per event under valgrind's callgrind on mallocbench (plain -O2,
# the same 10-deep stack at every malloc), as bench/callgrind.sh computes them: ((traced N -
# traced N0) - (plain N - plain N0)) / events, so start-up and first sight cancel out.
# Instruction counts do not move with the load. The bounds are about 15% over what gcc 12
# builds (docs/measurements.md): at stack depth 0, 119 instructions (181 before the
# recording path was made one frame without errno saves); with full stacks, 211 (386 before
# the reused walk was checked by a list, in a function of its own). And the structure those
# figures rest on: malloc's and free's recording paths make no call to __errno_location.
. "$(dirname "$0")/lib.sh"
[ -f "$LIB" ] || fail "missing $LIB"
prog="$S/plain/mallocbench"
[ -x "$prog" ] || fail "missing $prog (make samples)"
command -v valgrind >/dev/null || fail "valgrind is missing (misc/install-deps.sh installs it)"
N=20000 N0=2000

# ir KEY ENV... : the instructions callgrind counted for mallocbench under env ENV...
ir() {
	local key=$1; shift
	valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$TMP/$key.%p" \
		env "$@" >"$TMP/$key.out" 2>"$TMP/$key.err" </dev/null ||
		fail "callgrind $key: $(tail -n 1 "$TMP/$key.err")"
	cat "$TMP/$key".[0-9]* | awk '/^summary:/ { s += $2 } END { print s + 0 }'
	rm -f "$TMP/$key".[0-9]*
}

# delta VARIANT ENV... : instructions of the N run minus the N0 run
delta() {
	local v=$1 a b; shift
	a=$(ir "$v.n" "$@" "$prog" $N)
	b=$(ir "$v.0" "$@" "$prog" $N0)
	echo $((a - b))
}

plain_d=$(delta plain X=1)
for spec in "d0:137:PERFSHIM_STACK_DEPTH=0" "full:246:PERFSHIM_STACK_DEPTH=64"; do
	name=${spec%%:*} rest=${spec#*:}
	max=${rest%%:*} env=${rest#*:}
	d=$(delta "$name" PERFSHIM_OUTPUT="$TMP/t.bin" "$env" LD_PRELOAD="$LIB")
	per=$(( (d - plain_d) * 10 / (2 * (N - N0)) ))
	echo "$name: $((per / 10)).$((per % 10)) instructions per event (at most $max)"
	[ $((per / 10)) -lt "$max" ] ||
		fail "$name: $((per / 10)).$((per % 10)) instructions per allocation event (at most $max)"
	"$ANALYZE" summary "$TMP/t.bin" >/dev/null 2>"$TMP/s.err" || fail "$name: summary exited $?"
done

if command -v objdump >/dev/null; then
	objdump -d --no-show-raw-insn "$LIB" >"$TMP/lib.dis"
	for fn in malloc_due free_record; do
		awk -v f="<$fn>:" '$2 == f { on = 1; next } on && NF == 0 { exit } on { print }' \
			"$TMP/lib.dis" >"$TMP/$fn.dis"
		[ -s "$TMP/$fn.dis" ] || fail "$fn not found in $LIB"
		grep -q 'call.*__errno_location' "$TMP/$fn.dis" && fail "$fn saves errno on every event"
		echo "ok: $fn: no errno save"
	done
fi
echo "all allocation cost checks passed"
