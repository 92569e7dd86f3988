#!/usr/bin/env bash
# Smoke test of the second realistic sample (samples/minidb, a small in-memory SQL database)
# at -O0 and -O2: its output is the committed one, with and without the shim; the calls that
# smoke.sql makes are counted exactly; the allocations at its x*alloc wrappers are the ones it
# counted itself; and nothing leaks (it frees everything: only stdout's stdio buffer is left,
# which the built-in rule suppresses).
. "$(dirname "$0")/lib.sh"
need_jq
[ -x "$RUNNER" ] || fail "missing $RUNNER"
cd "$TMP" || fail "cannot cd to $TMP"
script="$TOP/samples/minidb/smoke.sql"
expect="$TOP/samples/minidb/smoke.expect"

# What smoke.sql makes, counted from the script (see its header):
#   db_exec_sql      17 statements + 3 generator batches of INSERT (250 rows by 100)
#   parse_statement  2 per db_exec_sql: its one statement, then the end of the text
#   run_stmt         every statement that parsed: all 20
#   table_insert     5 + 3 written rows, 250 generated, 1 refused (duplicate key 3)
#   bt_insert        3 indexes made over 250 + 250 + 5 rows, then 6 rows' day moved by UPDATE
#   bt_remove        those 6, and 22 deleted orders from 2 indexes each (44)
#   result_print     5 SELECTs (the one with an unknown column fails before executing)
#   hj_probe         the hash join probes once per outer customer: ids 2 and 3
#   gen_value        250 generated rows of 5 columns
#   like_match       '%a%' over 5 names: 1 call plus one per start position tried
#                    (Ana 1, Bruno 6, Chloe 6, David 2, Emma O'Brien 4): 5 + 19
calls="main=1 db_exec_sql=20 parse_statement=40 run_stmt=20 table_insert=259 bt_insert=511
bt_remove=50 result_print=5 hj_probe=2 gen_value=1250 like_match=24"

plain ref "$S/plain/minidb" "$script"
cmp -s ref.stdout "$expect" || { diff "$expect" ref.stdout | head; fail "plain output differs from smoke.expect"; }
assert_eq 0 "$(cat ref.rc)" "plain exit status"

for v in "" O2/; do
	prog="$S/${v}minidb"
	tag="${v:-O0/}minidb"

	# 1. output: the committed one, and the same through the runner and under LD_PRELOAD
	plain ref "$prog" "$script"
	cmp -s ref.stdout "$expect" || { diff "$expect" ref.stdout | head; fail "$tag output differs"; }
	MINIDB_STATS=1 "$RUNNER" -q -o "$TMP/s.bin" "$prog" "$script" >run.stdout 2>run.stderr
	echo $? >run.rc
	MINIDB_STATS=1 plain ref "$prog" "$script"
	same_behaviour ref run
	traced pre.bin "$prog" "$TOP/samples/minidb/bench.sql" 1
	plain pre.ref "$prog" "$TOP/samples/minidb/bench.sql" 1
	same_behaviour pre.ref pre.bin

	# 2. calls, exactly
	json functions --limit=0 s.bin >f.json
	for kv in $calls; do
		assert_eq "${kv#*=}" "$(jq --arg n "${kv%%=*}" \
			'[.functions[] | select(.name == $n) | .calls] | add // 0' f.json)" \
			"$tag calls of ${kv%%=*}"
	done
	own=$(sed -n 's/.*; \([0-9]*\) statements.*/\1/p' run.stderr)
	assert_eq "$own" "$(jq '[.functions[] | select(.name == "run_stmt") | .calls] | add' f.json)" \
		"$tag run_stmt calls = statements minidb counted"

	# 3. memory: the analyzer's allocations at the wrappers = minidb's own count
	own=$(sed -n 's/^minidb: \([0-9]*\) allocations.*/\1/p' run.stderr)
	[ -n "$own" ] || fail "no allocation count from minidb: $(cat run.stderr)"
	json memory s.bin >m.json
	assert_eq "$own" "$(jq '[.sites[] | select(.stack[0] | test("^x(malloc|calloc|realloc)$"))
		| .allocations] | add' m.json)" "$tag allocations at xmalloc/xcalloc/xrealloc"

	# 4. leaks: none; the stdio buffer is the one suppressed block
	json leaks s.bin >l.json
	assert_eq "0 0" "$(jq -r '"\(.leaked_bytes) \(.leaked_blocks)"' l.json)" "$tag leaked bytes and blocks"
	assert_eq 1 "$(jq '.suppressed_blocks' l.json)" "$tag suppressed blocks (stdout's buffer)"
	rm -f s.bin pre.bin
done
