#!/usr/bin/env bash
# The runner: preloads the library, passes its options on as PERFSHIM_*, keeps the program's
# output, exit status and killing signal, says where the traces went (children and exec'd
# images too), refuses bad options with exit 2, and leaves the program running unchanged
# when the trace cannot be written (a bad path, a symlink at the path).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dump.sh"
cd "$TMP"
TMP=$(pwd -P)	# the runner reports physical paths
[ -x "$RUNNER" ] || fail "no $RUNNER"

# exit status, output, and the report: -o relative to the working directory
plain ref "$S/exec" v
"$RUNNER" -o t.bin "$S/exec" v >r.stdout 2>r.stderr
echo $? >r.rc
cmp -s ref.stdout r.stdout || fail "runner: stdout differs"
assert_eq 5 "$(cat r.rc)" "runner: exit status"
assert_eq 2 "$(wc -l <r.stderr)" "runner: report lines"
grep -q -x "perfshim: trace written to $TMP/t.bin ($(runner_size t.bin))" r.stderr ||
	fail "runner: report of t.bin: $(cat r.stderr)"
grep -q -x "perfshim: trace written to $TMP/t.bin.exec ($(runner_size t.bin.exec), pid [0-9]* after exec)" r.stderr ||
	fail "runner: report of t.bin.exec: $(cat r.stderr)"
dumpf t.bin.exec
assert_eq 4 "$(allocs 444 t.bin.exec.dump)" "runner: exec'd image recorded"

# the default name, and children reported; stdin, args and PATH search work as usual
mkdir d && cd d
"$RUNNER" "$S/fork" >out 2>err
assert_eq 0 "$?" "runner fork: exit status"
# the default template has %p: the child expands it to its own pid
files=$(ls perfshim.*.bin)
assert_eq 2 "$(echo "$files" | wc -l)" "runner fork: files"
assert_eq 2 "$(wc -l <err)" "runner fork: report lines"
for f in $files; do
	grep -q -E "^perfshim: trace written to $f \($(runner_size $f)(, child ${f//[^0-9]/})?\)$" err ||
		fail "runner fork: report of $f: $(cat err)"
done
assert_eq 1 "$(grep -c ', child ' err)" "runner fork: one child"
cd ..
assert_eq "hello" "$(echo hello | "$RUNNER" -q -o cat.bin cat)" "runner: stdin and PATH search"
assert_eq "a b  c" "$("$RUNNER" -q -o echo.bin -- printf '%s %s %s' a b ' c')" "runner: arguments"

# options become PERFSHIM_* (header: flags at 16, stack_depth at 28, min_duration at 40)
"$RUNNER" -q --output o.bin --events malloc --stack-depth 3 --min-duration 2us "$S/fork" >/dev/null
assert_eq 0 "$(( $(od -An -t u4 -j 16 -N 4 o.bin) & 2 ))" "--events malloc: no calls flag"
assert_eq 4 "$(( $(od -An -t u4 -j 16 -N 4 o.bin) & 4 ))" "--events malloc: malloc flag"
assert_eq 3 "$(od -An -t u4 -j 28 -N 4 o.bin | tr -d ' ')" "--stack-depth"
assert_eq 2000 "$(od -An -t u8 -j 40 -N 8 o.bin | tr -d ' ')" "--min-duration"
"$RUNNER" -q --output=o2.bin --events=calls,malloc --stack-depth=0 --min-duration=1ms "$S/fork" >/dev/null
assert_eq 6 "$(( $(od -An -t u4 -j 16 -N 4 o2.bin) & 6 ))" "--events=calls,malloc"
assert_eq 0 "$(od -An -t u4 -j 28 -N 4 o2.bin | tr -d ' ')" "--stack-depth=0"
assert_eq 1000000 "$(od -An -t u8 -j 40 -N 8 o2.bin | tr -d ' ')" "--min-duration=1ms"

# an existing LD_PRELOAD is kept, after the library
# (verify_asan_link_order: a SAN=1 runner would object to a preload of its own)
out=$(ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=libm.so.6 "$RUNNER" -q -o env.bin sh -c 'echo "$LD_PRELOAD"')
assert_eq "$(realpath "$LIB"):libm.so.6" "$out" "LD_PRELOAD prepended"

# a program killed by a signal: reported, and the runner dies of the same signal
"$RUNNER" -o k.bin sh -c 'kill -TERM $$' 2>k.stderr
assert_eq 143 "$?" "SIGTERM: status"
grep -q "^perfshim: sh killed by signal 15 (Terminated)$" k.stderr || fail "SIGTERM: $(cat k.stderr)"
"$RUNNER" -q -o k.bin sh -c 'kill -ABRT $$' 2>k.stderr
assert_eq 134 "$?" "SIGABRT: status"
assert_eq 0 "$(wc -c <k.stderr)" "SIGABRT, quiet: bytes on stderr"
ls core* 2>/dev/null && fail "the runner dumped core"
"$RUNNER" -q -o k.bin sh -c 'exit 3'
assert_eq 3 "$?" "exit 3"

# a program that does not exist: 127, one line
"$RUNNER" -o n.bin no-such-program-here 2>n.stderr
assert_eq 127 "$?" "missing program: status"
grep -q "^perfshim: cannot run no-such-program-here: No such file or directory$" n.stderr ||
	fail "missing program: $(cat n.stderr)"

# bad usage: exit 2, the problem and the usage line
for args in "--bogus ls" "-x ls" "" "--events" "--events=foo ls" "--events calls,mem ls" \
	"--stack-depth 2000 ls" "--stack-depth -1 ls" "--stack-depth x ls" "--min-duration 5xs ls" \
	"--min-duration ms ls" "-o"; do
	# shellcheck disable=SC2086
	"$RUNNER" $args >u.stdout 2>u.stderr
	assert_eq 2 "$?" "bad usage '$args': status"
	assert_eq 2 "$(wc -l <u.stderr)" "bad usage '$args': lines"
	grep -q "^usage: perfshim " u.stderr || fail "bad usage '$args': no usage line"
	assert_eq 0 "$(wc -c <u.stdout)" "bad usage '$args': stdout"
done
"$RUNNER" --events=foo ls 2>u.stderr
grep -q "^perfshim: --events 'foo': expected a comma list of calls, malloc (or none)$" u.stderr ||
	fail "--events message: $(cat u.stderr)"
"$RUNNER" --help >h.stdout
assert_eq 0 "$?" "--help: status"
grep -q "^usage: perfshim " h.stdout || fail "--help: no usage"
"$RUNNER" --version | grep -q -E "^perfshim [0-9]+\.[0-9]+" || fail "--version"

# an unwritable output path: the library's one line, the runner's, the same output and status
plain ref "$S/fork"
"$RUNNER" -o /nonexistent/dir/t.bin "$S/fork" >w.stdout 2>w.stderr
echo $? >w.rc
cmp -s ref.stdout w.stdout || fail "unwritable: stdout differs"
assert_eq 0 "$(cat w.rc)" "unwritable: status"
assert_eq 2 "$(wc -l <w.stderr)" "unwritable: lines"
grep -q "^perfshim: cannot create trace file /nonexistent/dir/t.bin: No such file or directory; not recording$" w.stderr ||
	fail "unwritable: library's line: $(cat w.stderr)"
grep -q "^perfshim: no trace was written$" w.stderr || fail "unwritable: runner's line"
"$RUNNER" --quiet -o /nonexistent/dir/t.bin "$S/fork" >w.stdout 2>w.stderr
assert_eq 0 "$(wc -c <w.stderr)" "unwritable, --quiet: bytes on stderr"
cmp -s ref.stdout w.stdout || fail "unwritable, --quiet: stdout differs"
PERFSHIM_QUIET=1 "$RUNNER" -o /nonexistent/dir/t.bin "$S/fork" >w.stdout 2>w.stderr
assert_eq 0 "$(wc -c <w.stderr)" "unwritable, PERFSHIM_QUIET=1: bytes on stderr"
cmp -s ref.stdout w.stdout || fail "unwritable, PERFSHIM_QUIET=1: stdout differs"

# a symlink at the output path is not followed
echo keep >precious
ln -s precious link.bin
"$RUNNER" -o link.bin "$S/fork" >s.stdout 2>s.stderr
assert_eq 0 "$?" "symlink: status"
assert_eq keep "$(cat precious)" "symlink: target untouched"
cmp -s ref.stdout s.stdout || fail "symlink: stdout differs"
grep -q "^perfshim: cannot create trace file $TMP/link.bin: " s.stderr || fail "symlink: $(cat s.stderr)"

# a set-user-ID program cannot be preloaded: refused up front, not run
cp "$S/fork" suid
chmod u+s suid
"$RUNNER" -o su.bin ./suid >su.stdout 2>su.stderr
assert_eq 1 "$?" "set-user-ID: status"
assert_eq 0 "$(wc -c <su.stdout)" "set-user-ID: not run"
assert_eq 1 "$(wc -l <su.stderr)" "set-user-ID: lines"
grep -q "^perfshim: ./suid is set-user-ID or set-group-ID: the loader ignores LD_PRELOAD" su.stderr ||
	fail "set-user-ID message: $(cat su.stderr)"
[ -e su.bin ] && fail "set-user-ID: a trace was written"
# a script is judged by its interpreter
printf '#!%s\n' "$TMP/suid" >script
chmod +x script
"$RUNNER" -o su.bin ./script >/dev/null 2>su.stderr
assert_eq 1 "$?" "set-user-ID interpreter: status"
grep -q "^perfshim: $TMP/suid, the interpreter of ./script, is set-user-ID" su.stderr ||
	fail "set-user-ID interpreter message: $(cat su.stderr)"
printf '#!/bin/sh\necho script ran "$@"\n' >ok.sh
chmod +x ok.sh
assert_eq "script ran x" "$("$RUNNER" -q -o sh.bin ./ok.sh x)" "a #!/bin/sh script runs"
[ -s sh.bin ] || fail "the script's shell wrote no trace"

# a library path that LD_PRELOAD cannot carry is refused with one line
mkdir "a b"
cp "$RUNNER" "$LIB" "a b/"
"./a b/perfshim" -o sp.bin true >sp.stdout 2>sp.stderr
assert_eq 1 "$?" "library path with a space: status"
assert_eq 1 "$(wc -l <sp.stderr)" "library path with a space: lines"
grep -q "^perfshim: $(pwd -P)/a b/libperfshim.so: LD_PRELOAD cannot name a path with a space or colon$" sp.stderr ||
	fail "library path with a space: $(cat sp.stderr)"
# found next to the runner otherwise: a copy elsewhere uses its own library
mkdir other
cp "$RUNNER" "$LIB" other/
out=$(./other/perfshim -q -o o3.bin sh -c 'echo "$LD_PRELOAD"')
assert_eq "$(pwd -P)/other/libperfshim.so" "$out" "library next to the runner"

# signals sent to the runner reach the program: SIGUSR2 sets a mark (the library's handler is
# in place once the trace file exists)
"$RUNNER" -q -o m.bin sleep 3 & rpid=$!
for _ in $(seq 100); do [ -s m.bin ] && break; sleep 0.05; done
sleep 0.2
kill -USR2 $rpid
wait $rpid
assert_eq 0 "$?" "SIGUSR2 forwarded: status"
dumpf m.bin
assert_eq 1 "$(nlines ' mark signal-' m.bin.dump)" "SIGUSR2 forwarded: mark"
