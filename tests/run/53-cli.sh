#!/usr/bin/env bash
# perfshim-analyze's command line: exit 0 on success, 1 on bad input, 2 on bad usage, each
# error in one line on stderr; --help documents the dump format; the command may follow the
# options; several traces are analyzed in turn; JSON output is valid.
. "$(dirname "$0")/lib.sh"
need_jq

traced "$TMP/f" "$S/fib" 10
assert_eq 0 "$(cat "$TMP/f.rc")" "fib exit status"

# rc_err EXPECTED_RC WHAT ARGS...: exit status and exactly one line on stderr
rc_err() {
	local want=$1 what=$2; shift 2
	"$ANALYZE" "$@" >"$TMP/out" 2>"$TMP/err"
	assert_eq "$want" "$?" "$what: exit status"
	assert_eq 1 "$(wc -l <"$TMP/err")" "$what: stderr lines"
	grep -q '^perfshim-analyze: ' "$TMP/err" || fail "$what: stderr '$(cat "$TMP/err")'"
}
rc_err 2 "no argument"
rc_err 2 "no trace" functions
rc_err 2 "unknown command" frobnicate "$TMP/f"
rc_err 2 "unknown option" functions --frobnicate "$TMP/f"
rc_err 2 "bad --format" functions --format=xml "$TMP/f"
rc_err 2 "bad --limit" functions --limit=many "$TMP/f"
rc_err 2 "missing value" functions "$TMP/f" --sort
rc_err 1 "missing file" functions "$TMP/nonexistent"
rc_err 1 "a directory" functions "$TMP"
rc_err 1 "unknown --sort column" functions --sort=colour "$TMP/f"
rc_err 1 "bad --filter" functions --filter='([' "$TMP/f"
rc_err 1 "unknown --function" callgraph --function=nosuch "$TMP/f"
rc_err 1 "no such --thread" functions --thread=1 "$TMP/f"
grep -q "error: .*nonexistent: No such file or directory" <("$ANALYZE" "$TMP/nonexistent" 2>&1) ||
	fail "missing file message"

"$ANALYZE" --help >"$TMP/help" || fail "--help exit status"
grep -q "NS TID entry depth=D addr=0xA NAME" "$TMP/help" && grep -q "^  dump " "$TMP/help" ||
	fail "--help does not document dump"

# the command after the options; two traces in turn (text: a header per trace)
"$ANALYZE" --format=json functions "$TMP/f" | jq -e '.functions | length == 2' >/dev/null ||
	fail "command after the options"
cp "$TMP/f" "$TMP/g"
"$ANALYZE" functions "$TMP/f" "$TMP/g" >"$TMP/two" || fail "two traces"
assert_eq 2 "$(grep -c '^== ' "$TMP/two")" "one header per trace"
assert_eq 2 "$(jq -s length <("$ANALYZE" functions --format=json "$TMP/f" "$TMP/g"))" \
	"one JSON document per trace"
# one bad trace among good ones: the good ones are analyzed, exit 1
"$ANALYZE" functions "$TMP/f" "$TMP/nonexistent" >"$TMP/out" 2>/dev/null
assert_eq 1 "$?" "a bad trace among good ones"
grep -q " fib$" "$TMP/out" || fail "the good trace was not analyzed"

# every command's JSON parses; -o writes the file, not stdout
for cmd in summary functions callgraph; do
	json $cmd "$TMP/f" | jq -e . >/dev/null || fail "$cmd: invalid JSON"
done
"$ANALYZE" functions -o "$TMP/o.txt" "$TMP/f" >"$TMP/stdout" || fail "-o"
assert_eq 0 "$(wc -c <"$TMP/stdout")" "nothing on stdout with -o"
grep -q " fib$" "$TMP/o.txt" || fail "-o file lacks the table"
# colour only when asked (stdout is not a terminal here)
"$ANALYZE" functions "$TMP/f" | grep -q $'\033' && fail "colour codes on a pipe"
echo "ok: no colour on a pipe"
"$ANALYZE" functions --color=always "$TMP/f" | head -1 | grep -q $'^\033\[1m' || fail "--color=always: no bold header"
echo "ok: --color=always makes the header bold"
