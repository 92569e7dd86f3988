#!/usr/bin/env bash
# An explicit PERFSHIM_OUTPUT in a sticky world-writable directory (a /tmp of our own) that
# names a file another user created is never written: one line says why, the file keeps its
# owner, mode and bytes, the program runs as without the shim. Nor is a file with another
# name (hard link). The writer's own file is replaced and ends 0600, like a new one.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (a file owned by another user)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
cd "$TMP"
prog="$S/fib"
plain ref "$prog" 15
mkdir sticky
chmod 1777 sticky

echo "nobody's" >sticky/t.bin
chown nobody sticky/t.bin
chmod 644 sticky/t.bin
traced "$TMP/sticky/t.bin" "$prog" 15
cmp -s ref.stdout sticky/t.bin.stdout || fail "another user's file: stdout differs"
assert_eq "$(cat ref.rc)" "$(cat sticky/t.bin.rc)" "another user's file: exit status"
assert_eq "perfshim: cannot create trace file $TMP/sticky/t.bin: it exists and belongs to another user; not recording" \
	"$(cat sticky/t.bin.stderr)" "another user's file: the line on stderr"
assert_eq "nobody 644 nobody's" "$(stat -c '%U %a' sticky/t.bin) $(cat sticky/t.bin)" "another user's file"

echo mine >sticky/own.bin
chmod 644 sticky/own.bin
ln sticky/own.bin sticky/link.bin
traced "$TMP/sticky/own.bin" "$prog" 15
cmp -s ref.stdout sticky/own.bin.stdout || fail "hard link: stdout differs"
assert_eq "perfshim: cannot create trace file $TMP/sticky/own.bin: it exists and has other names (hard links); not recording" \
	"$(cat sticky/own.bin.stderr)" "hard link: the line on stderr"
assert_eq "mine mine" "$(cat sticky/own.bin) $(cat sticky/link.bin)" "hard link: both names"

rm sticky/link.bin
traced "$TMP/sticky/own.bin" "$prog" 15
cmp -s ref.stdout sticky/own.bin.stdout || fail "own file: stdout differs"
assert_eq 0 "$(wc -c <sticky/own.bin.stderr)" "own file: bytes on stderr"
assert_eq "root 600" "$(stat -c '%U %a' sticky/own.bin)" "own file replaced: owner and mode"
head -c 8 sticky/own.bin | grep -q PERFSHIM || fail "own file: not a trace"
"$ANALYZE" functions sticky/own.bin >/dev/null || fail "own file: analyzer exited $?"
