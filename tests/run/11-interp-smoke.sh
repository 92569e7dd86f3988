#!/usr/bin/env bash
# Smoke test of the realistic sample (samples/interp.c, a toy-language interpreter) recorded
# through the runner at -O0 and -O2: its output is unchanged, and the reports agree with what
# the program itself counts (calls of call_value, allocations by its x*alloc wrappers, the
# closure cycles that closures.toy leaks on purpose).
. "$(dirname "$0")/lib.sh"
need_jq
[ -x "$RUNNER" ] || fail "missing $RUNNER"
cd "$TMP" || fail "cannot cd to $TMP"
fibprog='fn f(n) { if n < 2 { return n; } return f(n - 1) + f(n - 2); } print(f(15));'

for v in "" O2/; do
	prog="$S/${v}interp"
	tag="${v:-O0/}interp"

	# 1. scripts: same output through the runner (the runner adds one line on stderr)
	for script in "$TOP"/samples/interp/*.toy; do
		plain ref "$prog" "$script" 12
		"$RUNNER" -q -o "$TMP/s.bin" "$prog" "$script" 12 >run.stdout 2>run.stderr
		echo $? >run.rc
		same_behaviour ref run
		[ -s s.bin ] || fail "$tag $(basename "$script"): no trace"
		"$ANALYZE" summary s.bin >summary.txt || fail "$tag $(basename "$script"): summary failed"
		grep -q "interp" summary.txt || fail "summary does not name the program"
		rm -f s.bin
	done

	# 2. calls: f(15) is 2 * fib(16) - 1 = 1973 calls of f, each one call_value, plus print
	"$RUNNER" -q -o "$TMP/f.bin" "$prog" -e "$fibprog" >out.txt
	assert_eq 610 "$(cat out.txt)" "$tag f(15)"
	json functions f.bin >f.json
	assert_eq 1974 "$(jq '[.functions[] | select(.name == "call_value") | .calls] | add' f.json)" \
		"$tag calls of call_value"
	assert_eq 1974 "$(jq '[.functions[] | select(.name == "eval_call") | .calls] | add' f.json)" \
		"$tag calls of eval_call"
	assert_eq 1 "$(jq '[.functions[] | select(.name == "bi_print") | .calls] | add' f.json)" \
		"$tag calls of bi_print"
	assert_eq 1 "$(jq '[.functions[] | select(.name == "main") | .calls] | add' f.json)" \
		"$tag calls of main"

	# 3. memory: the analyzer's allocations at the wrappers = the interpreter's own count
	TOY_STATS=1 "$RUNNER" -q -o "$TMP/c.bin" "$prog" "$TOP/samples/interp/closures.toy" \
		>/dev/null 2>stats.txt
	own=$(sed -n 's/^interp: \([0-9]*\) allocations.*/\1/p' stats.txt)
	[ -n "$own" ] || fail "no allocation count from the interpreter: $(cat stats.txt)"
	json memory c.bin >m.json
	assert_eq "$own" "$(jq '[.sites[] | select(.stack[0] | test("^x(malloc|calloc|realloc)$"))
		| .allocations] | add' m.json)" "$tag allocations at xmalloc/xcalloc/xrealloc"

	# 4. leaks: 6 counters (1 + 5 in a loop), each a cycle scope <-> closure: 6 scopes of
	# 56 bytes, 6 closures of 24 bytes, 6 variable tables of 8 slots (192 bytes)
	json leaks c.bin >l.json
	# (the scopes hold the globals too: 1 more scope from make_globals, its table is freed)
	sum() {
		jq "[.leaks[] | select(.stack[0:3] == [\"$1\", \"$2\", \"$3\"]) | .$4] | add" l.json
	}
	assert_eq 6 "$(sum xcalloc env_new call_value blocks)" "$tag leaked call scopes"
	assert_eq 336 "$(sum xcalloc env_new call_value bytes)" "$tag bytes of leaked call scopes"
	assert_eq 1 "$(sum xcalloc env_new make_globals blocks)" "$tag leaked global scope"
	assert_eq 6 "$(sum xmalloc make_closure eval blocks)" "$tag leaked closures"
	assert_eq 144 "$(sum xmalloc make_closure eval bytes)" "$tag bytes of leaked closures"
	assert_eq 6 "$(sum xcalloc map_grow map_set blocks)" "$tag leaked variable tables"
	assert_eq 1152 "$(sum xcalloc map_grow map_set bytes)" "$tag bytes of leaked variable tables"
	rm -f c.bin f.bin
done
