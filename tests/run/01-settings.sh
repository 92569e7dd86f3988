#!/usr/bin/env bash
# Bad PERFSHIM_* values: one line on stderr naming the variable, defaults used, the program's
# own output and status untouched; one line per problem. PERFSHIM_QUIET=1 silences them.
. "$(dirname "$0")/lib.sh"
prog="$S/calls"
[ -x "$prog" ] || prog="$S/fib"
cd "$TMP"
plain ref "$prog" 12
for setting in PERFSHIM_STACK_DEPTH=abc PERFSHIM_STACK_DEPTH=5000 PERFSHIM_EVENTS=cpu \
	PERFSHIM_MIN_DURATION=5parsecs PERFSHIM_BUFSIZE=1 PERFSHIM_MARK_SIGNAL=SIGFOO \
	PERFSHIM_STACK_SOURCE=magic; do
	var=${setting%%=*}
	env "$setting" PERFSHIM_OUTPUT="$TMP/t.bin" LD_PRELOAD="$LIB" "$prog" 12 >run.stdout 2>run.stderr
	echo $? >run.rc
	cmp -s ref.stdout run.stdout || fail "$setting: stdout differs"
	assert_eq "$(cat ref.rc)" "$(cat run.rc)" "$setting: exit status"
	assert_eq 1 "$(wc -l <run.stderr)" "$setting: lines on stderr"
	grep -q "^perfshim: $var=.* is not valid; using " run.stderr || fail "$setting: message: $(cat run.stderr)"
	[ -s "$TMP/t.bin" ] || fail "$setting: no trace recorded with the default"
	rm -f "$TMP/t.bin"
	env "$setting" PERFSHIM_QUIET=1 PERFSHIM_OUTPUT="$TMP/t.bin" LD_PRELOAD="$LIB" "$prog" 12 >run.stdout 2>run.stderr
	assert_eq 0 "$(wc -c <run.stderr)" "$setting with PERFSHIM_QUIET=1: bytes on stderr"
	rm -f "$TMP/t.bin"
done
# Each problem gets its own line: two bad settings give two, and an output that cannot be
# created a third (the first problem used to hide the others, "not recording" included).
PERFSHIM_EVENTS=x PERFSHIM_STACK_DEPTH=y PERFSHIM_OUTPUT="$TMP/t.bin" LD_PRELOAD="$LIB" "$prog" 12 >/dev/null 2>run.stderr
assert_eq 2 "$(wc -l <run.stderr)" "two bad settings: lines on stderr"
rm -f "$TMP/t.bin"
PERFSHIM_EVENTS=x PERFSHIM_STACK_DEPTH=y PERFSHIM_OUTPUT="$TMP/no/such/dir/t.bin" LD_PRELOAD="$LIB" \
	"$prog" 12 >run.stdout 2>run.stderr
echo $? >run.rc
cmp -s ref.stdout run.stdout || fail "three problems: stdout differs"
assert_eq "$(cat ref.rc)" "$(cat run.rc)" "three problems: exit status"
assert_eq "perfshim: PERFSHIM_EVENTS=x is not valid; using calls,malloc|perfshim: PERFSHIM_STACK_DEPTH=y is not valid; using 64 (at most 1024)|perfshim: cannot create trace file $TMP/no/such/dir/t.bin: No such file or directory; not recording|" \
	"$(tr '\n' '|' <run.stderr)" "two bad settings and an unwritable output: one line each"
PERFSHIM_QUIET=1 PERFSHIM_EVENTS=x PERFSHIM_STACK_DEPTH=y PERFSHIM_OUTPUT="$TMP/no/such/dir/t.bin" \
	LD_PRELOAD="$LIB" "$prog" 12 >/dev/null 2>run.stderr
assert_eq 0 "$(wc -c <run.stderr)" "three problems with PERFSHIM_QUIET=1: bytes on stderr"
# Good values are silent.
PERFSHIM_EVENTS=calls PERFSHIM_STACK_DEPTH=8 PERFSHIM_MIN_DURATION=2us PERFSHIM_BUFSIZE=64K \
	PERFSHIM_OUTPUT="$TMP/t.bin" LD_PRELOAD="$LIB" "$prog" 12 >/dev/null 2>run.stderr
assert_eq 0 "$(wc -c <run.stderr)" "good settings: bytes on stderr"
