#!/usr/bin/env bash
# exec: every exec function hands the new image PERFSHIM_PARENT, so it writes PATH.exec (same
# pid, EXEC flag) with only its own events, while PATH keeps the first image's; a failed exec
# changes nothing; the program's own environment is untouched (the sample prints it); a
# taken PATH.exec is not replaced; the next exec of a chain writes PATH.exec2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dump.sh"
cd "$TMP"

for variant in "" O2/; do
	prog="$S/${variant}exec"
	for how in v ve vp vpe l lp le f; do
		w="${variant}exec $how"
		plain ref "$prog" "$how"
		rm -f t.bin t.bin.*
		traced "$TMP/t.bin" "$prog" "$how"
		same_behaviour ref t.bin
		assert_eq "t.bin t.bin.exec" "$(ls t.bin t.bin.* | grep -v -E '\.(stdout|stderr|rc)$' | tr '\n' ' ' | sed 's/ $//')" "$w: files"
		dumpf t.bin
		dumpf t.bin.exec
		assert_eq "$(header pid t.bin.dump)" "$(header pid t.bin.exec.dump)" "$w: same pid"
		assert_eq 1 "$(flag_set $TRACE_F_EXEC t.bin.exec.dump)" "$w: EXEC flag"
		assert_eq 0 "$(flag_set $TRACE_F_EXEC t.bin.dump)" "$w: first image has no EXEC flag"
		assert_eq 2 "$(allocs 111 t.bin.dump)" "$w: first image's blocks"
		assert_eq 0 "$(allocs 444 t.bin.dump)" "$w: first image has none of the second's"
		assert_eq 4 "$(allocs 444 t.bin.exec.dump)" "$w: second image's blocks"
		assert_eq 0 "$(allocs 111 t.bin.exec.dump)" "$w: second image has none of the first's"
		assert_eq 4 "$(nlines ' free ptr=' t.bin.exec.dump)" "$w: second image's frees"
		# the first image's buffer was written before exec, and nothing after it
		assert_eq 1 "$(nlines ' free ptr=' t.bin.dump)" "$w: first image's frees"
		if [ -z "$variant" ]; then
			assert_eq 1 "$(calls t.bin.dump "$prog" stage1)" "$w: stage1() in the first"
			assert_eq 0 "$(calls t.bin.dump "$prog" stage2)" "$w: stage2() not in the first"
			assert_eq 1 "$(calls t.bin.exec.dump "$prog" stage2)" "$w: stage2() in the second"
		fi
		assert_eq 1 "$(nlines " process pid=[0-9]+ $(realpath "$prog")\$" t.bin.exec.dump)" "$w: PROCESS record"
		assert_eq 1 "$(nlines " module .* $(realpath "$prog")\$" t.bin.exec.dump)" "$w: program module"
	done
done

# vfork + exec: the child is a new process (PATH.<pid>, CHILD flag); the parent's trace is
# whole (a vfork child shares its memory and must write nothing of it): the 500 calls of
# inchild() the child makes before its exec are in no trace (not recorded, never the parent's)
for variant in "" O2/; do
	prog="$S/${variant}exec"
	w="${variant}exec vfork"
	plain ref "$prog" vfork
	rm -f t.bin t.bin.*
	traced "$TMP/t.bin" "$prog" vfork
	same_behaviour ref t.bin
	assert_eq 6 "$(cat t.bin.rc)" "$w: status"
	child=$(ls t.bin.* | grep -E '^t\.bin\.[0-9]+$')
	assert_eq 1 "$(echo "$child" | wc -l)" "$w: child files"
	dumpf t.bin
	dumpf "$child"
	assert_eq "$child" "t.bin.$(header pid "$child.dump")" "$w: child file name"
	assert_eq "$(header pid t.bin.dump)" "$(header ppid "$child.dump")" "$w: child's parent"
	assert_eq 1 "$(flag_set $TRACE_F_CHILD "$child.dump")" "$w: CHILD flag"
	assert_eq 4 "$(allocs 444 "$child.dump")" "$w: child's blocks"
	assert_eq 0 "$(allocs 111 "$child.dump")" "$w: child has none of the parent's"
	assert_eq 2 "$(allocs 111 t.bin.dump)" "$w: parent's blocks"
	assert_eq 0 "$(allocs 444 t.bin.dump)" "$w: parent has none of the child's"
	assert_eq 1 "$(nlines ' free ptr=' t.bin.dump)" "$w: parent's frees"
	assert_eq 1 "$(nlines ' thread-name ' t.bin.dump)" "$w: parent's trace ends once"
	if [ -z "$variant" ]; then
		assert_eq 0 "$(calls t.bin.dump "$prog" inchild)" "$w: the child's calls in the parent's trace"
		assert_eq 0 "$(calls "$child.dump" "$prog" inchild)" "$w: the child's calls before exec"
		assert_eq 1 "$(calls "$child.dump" "$prog" stage2)" "$w: stage2() in the child's trace"
		assert_eq 1 "$(calls t.bin.dump "$prog" stage1)" "$w: stage1() in the parent's trace"
	fi
done

# a taken PATH.exec is kept: the next free name is used
prog="$S/exec"
rm -f t.bin t.bin.*
echo keep >t.bin.exec
traced "$TMP/t.bin" "$prog" v
assert_eq keep "$(cat t.bin.exec)" "existing PATH.exec"
dumpf t.bin.exec.1
assert_eq 4 "$(allocs 444 t.bin.exec.1.dump)" "PATH.exec.1: second image's blocks"

# an exec'd image that execs again: PATH.exec2 (numbered, not PATH.exec.exec)
rm -f t.bin t.bin.*
printf '#!/bin/sh\nexec "$@"\n' >again.sh
chmod +x again.sh
PERFSHIM_OUTPUT="$TMP/t.bin" LD_PRELOAD="$LIB" "$TMP/again.sh" "$prog" v >out
grep -q "^stage2 (v): 2$" out || fail "exec chain: $(cat out)"
dumpf t.bin.exec
dumpf t.bin.exec2
assert_eq 4 "$(allocs 444 t.bin.exec2.dump)" "exec chain: blocks of the third image"
assert_eq 2 "$(allocs 111 t.bin.exec.dump)" "exec chain: blocks of the second image"
