#!/usr/bin/env bash
# The shim never crashes or hangs its host (regressions found in review): detached threads
# whose first event comes as they exit, exit() from a signal handler that interrupted the
# shim, a FIFO or a directory as the output path, a program that changes directory before
# forking, and a program that puts its own files under the trace's descriptor number.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
run() { timeout -s KILL 30 env PERFSHIM_OUTPUT="$1" LD_PRELOAD="$LIB" "${@:2}"; }

for i in $(seq 1 8); do
	rm -f d.bin
	run "$TMP/d.bin" "$S/plain/robust-detached" 1000 >d.out 2>d.err
	rc=$?
	assert_eq 0 "$rc" "detached threads, run $i: exit status"
	"$ANALYZE" dump d.bin >/dev/null 2>d.an || fail "detached: dump failed"
	[ ! -s d.an ] || fail "detached: analyzer warned: $(cat d.an)"
done

for i in $(seq 1 30); do
	rm -f s.bin
	run "$TMP/s.bin" "$S/plain/robust-sigexit" 20000 >/dev/null 2>s.err
	rc=$?
	[ "$rc" = 5 ] || fail "exit() from a handler, run $i: status $rc (137: hung)"
done
echo "ok: 30 runs of exit() from a signal handler exited 5"

mkfifo fifo
run "$TMP/fifo" /bin/true 2>fifo.err
rc=$?
assert_eq 0 "$rc" "FIFO as output: exit status (no hang)"
grep -q "cannot create trace file $TMP/fifo" fifo.err || fail "FIFO message: $(cat fifo.err)"
mkdir dir
run "$TMP/dir" /bin/true 2>dir.err
assert_eq 0 "$?" "directory as output: exit status"

# chdir then fork: the child's trace is named from the start directory, silently
cat >cd.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	if (chdir("/proc"))
		return 1;
	pid_t p = fork();
	if (p == 0) {
		void *volatile q = malloc(10);
		free(q);
		_exit(4);
	}
	int st;
	waitpid(p, &st, 0);
	printf("child %d\n", WEXITSTATUS(st));
	return 0;
}
C
cc -O1 cd.c -o cd
PERFSHIM_OUTPUT=c.bin LD_PRELOAD="$LIB" ./cd >cd.out 2>cd.err
assert_eq "child 4" "$(cat cd.out)" "chdir+fork: output"
assert_eq 0 "$(wc -c <cd.err)" "chdir+fork: bytes on stderr"
assert_eq 2 "$(ls c.bin* | wc -l)" "chdir+fork: traces in the start directory"

# the program closes everything and dup2s its own file over every descriptor up to 64
cat >fd.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	int fd = open("mine.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (int i = 3; i < 4096; i++)
		if (i != fd)
			dup2(fd, i);
	for (int i = 0; i < 200000; i++) {
		void *volatile p = malloc(16 + i % 64);
		free(p);
	}
	if (write(fd, "ok\n", 3) != 3)
		return 1;
	for (int i = 3; i < 4096; i++)
		close(i);
	for (int i = 0; i < 200000; i++) {
		void *volatile p = malloc(16 + i % 64);
		free(p);
	}
	return 0;
}
C
cc -O1 fd.c -o fdprog
PERFSHIM_STACK_DEPTH=0 PERFSHIM_OUTPUT="$TMP/f.bin" LD_PRELOAD="$LIB" ./fdprog 2>fd.err
assert_eq 0 "$?" "descriptors taken over: exit status"
assert_eq ok "$(cat mine.txt)" "the program's file holds only what it wrote"
"$ANALYZE" dump f.bin >f.dump 2>f.an || true
if [ -s fd.err ]; then
	grep -q "closed by the program" fd.err || fail "descriptors: message: $(cat fd.err)"
else
	assert_eq 800000 "$(grep -c ' \(alloc\|free\) ' f.dump)" "descriptors: every event recorded"
fi

# the program's descriptors are its own: its first open() returns 3 under the shim too
# (libunwind's pipe and the trace sit at the top of the range)
cat >fdnum.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	void *volatile p = malloc(100);
	free(p);
	printf("first fd %d\n", open("/dev/null", O_RDONLY));
	return 0;
}
C
cc -O1 fdnum.c -o fdnum
plain fdp ./fdnum
traced fdt.bin ./fdnum
same_behaviour fdp fdt.bin
assert_eq "first fd 3" "$(cat fdt.bin.stdout)" "first descriptor under the shim"
