#!/usr/bin/env bash
# The trace file: default name perfshim.<pid>.bin in the working directory, mode 0600, never
# through a symlink, a default name never clobbers an existing file (NAME.1 is taken), an
# explicit path replaces a regular file, an unwritable path gives one line and the program
# runs on unchanged.
. "$(dirname "$0")/lib.sh"
prog="$S/fib"
cd "$TMP"
plain ref "$prog" 15

# default name and mode
LD_PRELOAD="$LIB" "$prog" 15 >/dev/null 2>err & pid=$!
wait $pid
[ -f "perfshim.$pid.bin" ] || fail "no perfshim.$pid.bin"
assert_eq 600 "$(stat -c %a "perfshim.$pid.bin")" "mode of the trace"
assert_eq 0 "$(wc -c <err)" "bytes on stderr"
head -c 8 "perfshim.$pid.bin" | grep -q PERFSHIM || fail "no magic"

# an existing file at the default name is kept, NAME.1 is written (exec keeps the pid)
mkdir d && cd d
pid=$(bash -c 'echo $$; echo keep >perfshim.$$.bin; LD_PRELOAD="$1" exec "$2" 15 >/dev/null' _ "$LIB" "$prog")
assert_eq keep "$(cat "perfshim.$pid.bin")" "existing file at the default name"
head -c 8 "perfshim.$pid.bin.1" | grep -q PERFSHIM || fail "perfshim.$pid.bin.1 not written"
# an explicit path replaces a regular file
echo old >explicit.bin
PERFSHIM_OUTPUT="explicit.bin" LD_PRELOAD="$LIB" "$prog" 15 >/dev/null
head -c 8 explicit.bin | grep -q PERFSHIM || fail "explicit path not replaced"
echo keep >precious
ln -s precious link.bin
PERFSHIM_OUTPUT="link.bin" LD_PRELOAD="$LIB" "$prog" 15 >out 2>err
echo $? >rc
assert_eq keep "$(cat precious)" "symlink target untouched"
assert_eq 1 "$(wc -l <err)" "symlink: one line on stderr"
grep -q "cannot create trace file .*/d/link.bin" err || fail "symlink message: $(cat err)"
cmp -s out ../ref.stdout || fail "symlink: stdout differs"
assert_eq "$(cat ../ref.rc)" "$(cat rc)" "symlink: exit status"
cd ..

# default-style names (with %p) never clobber: the second run with the same pid pattern
mkdir e && cd e
echo old >t.bin
PERFSHIM_OUTPUT="t%%.bin" LD_PRELOAD="$LIB" "$prog" 15 >/dev/null
[ -s 't%.bin' ] || fail "%% not expanded to %"
cd ..

# unwritable directory
plain unw "$prog" 15
PERFSHIM_OUTPUT="/nonexistent/dir/t.bin" LD_PRELOAD="$LIB" "$prog" 15 >unw2.stdout 2>unw2.stderr
echo $? >unw2.rc
cmp -s unw.stdout unw2.stdout || fail "unwritable: stdout differs"
assert_eq "$(cat unw.rc)" "$(cat unw2.rc)" "unwritable: exit status"
assert_eq 1 "$(wc -l <unw2.stderr)" "unwritable: lines on stderr"
grep -q "^perfshim: cannot create trace file /nonexistent/dir/t.bin: No such file or directory; not recording" unw2.stderr ||
	fail "unwritable message: $(cat unw2.stderr)"
PERFSHIM_QUIET=1 PERFSHIM_OUTPUT="/nonexistent/dir/t.bin" LD_PRELOAD="$LIB" "$prog" 15 >/dev/null 2>q.stderr
assert_eq 0 "$(wc -c <q.stderr)" "unwritable, quiet: bytes on stderr"
