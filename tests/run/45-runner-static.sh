#!/usr/bin/env bash
# The runner refuses a statically linked program (no dynamic loader reads LD_PRELOAD), and a
# script whose interpreter is one, with one line naming why and exit 1, without running it.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
printf '#include <stdio.h>\nint main(void) { puts("ran"); return 0; }\n' >st.c
cc -static -o st st.c 2>/dev/null || skip "no static libc (libc6-dev provides it)"
assert_eq ran "$(./st)" "the static program runs by itself"

"$RUNNER" -o st.bin ./st >out 2>err
assert_eq 1 "$?" "static: status"
assert_eq 0 "$(wc -c <out)" "static: not run"
assert_eq 1 "$(wc -l <err)" "static: lines"
grep -q "^perfshim: ./st is statically linked: no dynamic loader reads LD_PRELOAD, so it cannot be recorded$" err ||
	fail "static message: $(cat err)"
[ -e st.bin ] && fail "static: a trace was written"

# found through PATH as well
PATH="$TMP:$PATH" "$RUNNER" -o st.bin st >out 2>err
assert_eq 1 "$?" "static in PATH: status"
grep -q "^perfshim: $TMP/st is statically linked" err || fail "static in PATH: $(cat err)"

# a script run by a static interpreter
printf '#!%s -x\n' "$TMP/st" >script
chmod +x script
assert_eq ran "$(./script)" "the script runs by itself"
"$RUNNER" -o st.bin ./script >out 2>err
assert_eq 1 "$?" "static interpreter: status"
assert_eq 0 "$(wc -c <out)" "static interpreter: not run"
grep -q "^perfshim: $TMP/st, the interpreter of ./script, is statically linked" err ||
	fail "static interpreter message: $(cat err)"
