#!/usr/bin/env bash
# Behaviour identity: every sample, at -O0 and -O2 (instrumented), prints the same stdout and
# stderr and exits with the same status with and without LD_PRELOAD=libperfshim.so.
# Samples whose own output varies between two plain runs (pids, timing) are listed, not compared;
# the samples named in ARGS below are deterministic and always compared.
. "$(dirname "$0")/lib.sh"
[ -f "$LIB" ] || fail "missing $LIB"

# Arguments per sample (a run of a few hundred ms at most under the shim); others get none.
declare -A ARGS=(
	[fib]="22"
	[mallocbench]="200000 2"
	[interp]="$TOP/samples/interp/fib.toy 15"
)
must=(fib mallocbench interp)

cd "$TMP" || fail "cannot cd to $TMP"
compared=0 varying=() differ=()
for dir in "$S" "$S/O2"; do
	for prog in "$dir"/*; do
		name=$(basename "$prog")
		[ -f "$prog" ] && [ -x "$prog" ] && [[ $name != *.so ]] || continue
		# shellcheck disable=SC2206 # ARGS entries are word lists
		args=(${ARGS[$name]:-})
		tag="${dir#"$B"/}/$name"
		run() { timeout 60 "$@" </dev/null; }
		plain p1 run "$prog" "${args[@]}"
		plain p2 run "$prog" "${args[@]}"
		if ! cmp -s p1.stdout p2.stdout || ! cmp -s p1.stderr p2.stderr ||
			! cmp -s p1.rc p2.rc; then
			[[ " ${must[*]} " == *" $name "* ]] && fail "$tag: plain runs differ"
			varying+=("$tag")
			continue
		fi
		PERFSHIM_OUTPUT="$TMP/t.%p.bin" LD_PRELOAD="$LIB" timeout 60 "$prog" "${args[@]}" \
			</dev/null >t.stdout 2>t.stderr
		echo $? >t.rc
		echo "== $tag ${args[*]}"
		# every sample is compared, then all that differ are named
		(same_behaviour p1 t) || differ+=("$tag")
		rm -f "$TMP"/t.*.bin*
		compared=$((compared + 1))
	done
done
# The traced run of the instrumented samples did record something: fib's trace is not empty.
PERFSHIM_OUTPUT="$TMP/fib.bin" LD_PRELOAD="$LIB" "$S/fib" 10 >/dev/null
[ -s "$TMP/fib.bin" ] || fail "no trace written for fib"
[ ${#varying[@]} -eq 0 ] || echo "not compared (output varies between plain runs): ${varying[*]}"
[ ${#differ[@]} -eq 0 ] || fail "behaviour differs under the shim: ${differ[*]}"
[ $compared -ge $(( ${#must[@]} * 2 )) ] || fail "only $compared samples compared"
echo "ok: $compared sample builds behave identically with and without the shim"
