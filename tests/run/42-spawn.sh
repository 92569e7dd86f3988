#!/usr/bin/env bash
# posix_spawn, posix_spawnp, system() and popen(): each spawned program writes its own file by the fork
# rule (PATH.<pid>, CHILD flag, its parent's pid), with exactly its own allocations; the
# shells that system() runs do as well; the parent prints and exits as without the shim.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dump.sh"
cd "$TMP"

for variant in "" O2/; do
	prog="$S/${variant}spawn"
	w="${variant}spawn"
	plain ref "$prog"
	rm -f t.bin t.bin.*
	traced "$TMP/t.bin" "$prog"
	same_behaviour ref t.bin
	dumpf t.bin
	ppid=$(header pid t.bin.dump)
	assert_eq 1 "$(allocs 999 t.bin.dump)" "$w: parent's block"
	children=$(ls t.bin.* | grep -E '^t\.bin\.[0-9]+$')
	# kid 1 (posix_spawn), kid 2 (posix_spawnp), the shells of system(cmd), system(NULL),
	# system("exit 4") and popen(cmd), kid 3 run by the first of them, kid 4 by the last
	assert_eq 8 "$(echo "$children" | wc -l)" "$w: child files"
	for f in $children; do
		dumpf "$f"
		assert_eq "$f" "t.bin.$(header pid "$f.dump")" "$w: name of $f"
		assert_eq 1 "$(flag_set $TRACE_F_CHILD "$f.dump")" "$w: CHILD flag of $f"
	done
	for n in 1 2 3 4; do
		size=$((1000 + n))
		holder=$(grep -l -E " alloc kind=malloc size=$size " t.bin.*.dump)
		assert_eq 1 "$(echo "$holder" | wc -l)" "$w: files with kid $n's blocks"
		assert_eq "$n" "$(allocs $size "$holder")" "$w: kid $n's blocks"
		assert_eq "$n" "$(nlines ' free ptr=' "$holder")" "$w: kid $n's frees"
		assert_eq 0 "$(allocs 999 "$holder")" "$w: kid $n has none of the parent's"
		kidppid=$(header ppid "$holder")
		if [ $n -lt 3 ]; then
			assert_eq "$ppid" "$kidppid" "$w: kid $n's parent"
		else
			# run by the shell of system() or popen(): a child of the program
			assert_eq "$ppid" "$(header ppid "t.bin.$kidppid.dump")" "$w: kid $n's shell's parent"
		fi
	done
done
