#!/usr/bin/env bash
# fork: the child writes a trace of its own (PATH.<pid> without %p, its own pid with %p) that
# holds only what it did after fork (plus the calls it inherited, marked as such: not its
# calls), the parent's trace only its own events; the program prints and exits as without the
# shim. `functions --tree` over the traces of one process tree counts each call once, also
# with an exec in the child (samples/forkexec.c).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dump.sh"
need_jq
cd "$TMP"

# calls per function, sorted by name: "name:calls ..." from functions JSON
fcalls() { jq -r '[.functions[] | "\(.name):\(.calls)"] | sort | join(" ")'; }

for variant in "" O2/; do
	prog="$S/${variant}fork"
	plain ref "$prog"
	rm -f t.bin*
	traced "$TMP/t.bin" "$prog"
	same_behaviour ref t.bin
	files=$(ls t.bin.* | grep -v -E '\.(stdout|stderr|rc)$')
	assert_eq 1 "$(echo "$files" | wc -l)" "${variant}fork: child files"
	dumpf t.bin
	dumpf "$files"
	ppid=$(header pid t.bin.dump)
	cpid=$(header pid "$files.dump")
	assert_eq "t.bin.$cpid" "$files" "${variant}fork: child file name"
	assert_eq "$ppid" "$(header ppid "$files.dump")" "${variant}fork: child's parent"
	assert_eq 1 "$(flag_set $TRACE_F_CHILD "$files.dump")" "${variant}fork: CHILD flag"
	assert_eq 0 "$(flag_set $TRACE_F_CHILD t.bin.dump)" "${variant}fork: parent has no CHILD flag"

	# the parent: 100 before fork, 2 x 300 after; the child: 3 x 200 only
	assert_eq 1 "$(allocs 100 t.bin.dump)" "${variant}parent: 100-byte block"
	assert_eq 2 "$(allocs 300 t.bin.dump)" "${variant}parent: 300-byte blocks"
	assert_eq 0 "$(allocs 200 t.bin.dump)" "${variant}parent: child's blocks"
	assert_eq 3 "$(allocs 200 "$files.dump")" "${variant}child: 200-byte blocks"
	assert_eq 0 "$(allocs 300 "$files.dump")" "${variant}child: parent's blocks"
	assert_eq 0 "$(allocs 100 "$files.dump")" "${variant}child: block from before fork"
	assert_eq 3 "$(nlines ' free ptr=' "$files.dump")" "${variant}child: frees"
	# every trace describes its modules: the program itself is there in both
	assert_eq 1 "$(nlines " module .* $(realpath "$prog")\$" t.bin.dump)" "${variant}parent: program module"
	assert_eq 1 "$(nlines " module .* $(realpath "$prog")\$" "$files.dump")" "${variant}child: program module"

	# each trace's calls are its process's own; the tree's, each call once: main 1 (not 2),
	# work 2, leaf 4 + 5
	assert_eq "leaf:4 main:1 parent_work:1 work:1" "$(json functions t.bin | fcalls)" \
		"${variant}fork: the parent's calls"
	assert_eq "child_work:1 leaf:5 work:1" "$(json functions "$files" | fcalls)" \
		"${variant}fork: the child's calls (main inherited)"
	assert_eq "child_work:1 leaf:9 main:1 parent_work:1 work:2" \
		"$(json functions --tree t.bin "$files" | fcalls)" "${variant}fork: the tree's calls"
	assert_eq "t.bin:null $files:t.bin" \
		"$(json functions --tree t.bin "$files" | jq -r '[.tree[] | "\(.trace):\(.parent)"] | join(" ")')" \
		"${variant}fork: the tree"

	# calls (at -O0 nothing is inlined): leaf() 4 times in the parent, 5 in the child;
	# the child re-opens main, which it inherited, as an inherited call
	if [ -z "$variant" ]; then
		assert_eq 4 "$(calls t.bin.dump "$prog" leaf)" "parent: leaf() calls"
		assert_eq 1 "$(calls t.bin.dump "$prog" parent_work)" "parent: parent_work() calls"
		assert_eq 0 "$(calls t.bin.dump "$prog" child_work)" "parent: child_work() calls"
		assert_eq 5 "$(calls "$files.dump" "$prog" leaf)" "child: leaf() calls"
		assert_eq 1 "$(calls "$files.dump" "$prog" child_work)" "child: child_work() calls"
		assert_eq 0 "$(calls "$files.dump" "$prog" parent_work)" "child: parent_work() calls"
		assert_eq 0 "$(calls "$files.dump" "$prog" main)" "child: main() is not its call"
		assert_eq 1 "$(nlines "^0 [0-9]+ inherited depth=0 addr=$(fn_addrs "$files.dump" "$prog" main) main\$" "$files.dump")" \
			"child: main() inherited"
		assert_eq 1 "$(nlines " exit depth=0 addr=$(fn_addrs "$files.dump" "$prog" main) " "$files.dump")" \
			"child: the inherited main() closed"
	fi
done

# fork, then exec in the child: three traces (parent, child up to its exec, the new image);
# main was called twice (the parent's, the new image's), every other function once per call
for variant in "" O2/; do
	prog="$S/${variant}forkexec"
	plain ref "$prog"
	rm -f t.bin*
	traced "$TMP/t.bin" "$prog"
	same_behaviour ref t.bin
	child=$(ls t.bin.* | grep -E '^t\.bin\.[0-9]+$')
	assert_eq "t.bin $child $child.exec" "$(ls t.bin t.bin.* | grep -v -E '\.(stdout|stderr|rc)$' | tr '\n' ' ' | sed 's/ $//')" \
		"${variant}forkexec: files"
	assert_eq "leaf:2 main:1 parent_work:1" "$(json functions t.bin | fcalls)" \
		"${variant}forkexec: the parent's calls"
	assert_eq "child_pre:1" "$(json functions "$child" | fcalls)" \
		"${variant}forkexec: the child's calls before its exec"
	assert_eq "leaf:3 main:1 stage2:1" "$(json functions "$child.exec" | fcalls)" \
		"${variant}forkexec: the new image's calls"
	assert_eq "child_pre:1 leaf:5 main:2 parent_work:1 stage2:1" \
		"$(json functions --tree t.bin "$child" "$child.exec" | fcalls)" "${variant}forkexec: the tree's calls"
	assert_eq "t.bin:null $child:t.bin $child.exec:$child" \
		"$(json functions --tree t.bin "$child" "$child.exec" | jq -r '[.tree[] | "\(.trace):\(.parent)"] | join(" ")')" \
		"${variant}forkexec: the tree"
	# text: one table, the tree above it
	"$ANALYZE" functions --tree t.bin "$child" "$child.exec" >tree.txt || fail "functions --tree exited $?"
	assert_eq 1 "$(nlines '^Process tree of 3 traces:$' tree.txt)" "${variant}forkexec: text tree header"
	assert_eq 1 "$(nlines '^ +Total ' tree.txt)" "${variant}forkexec: one table"
	assert_eq 1 "$(nlines ' 2 .* main$' tree.txt)" "${variant}forkexec: main 2 in the text table"
done

# with %p each process expands it to its own pid
prog="$S/fork"
mkdir p && cd p
PERFSHIM_OUTPUT="$PWD/t.%p.bin" LD_PRELOAD="$LIB" "$prog" >out & pid=$!
wait $pid
assert_eq 2 "$(ls | grep -c '^t\.[0-9]*\.bin$')" "%p: trace files"
[ -f "t.$pid.bin" ] || fail "%p: no t.$pid.bin"
child=$(ls | grep '^t\.[0-9]*\.bin$' | grep -v "^t\.$pid\.bin$")
dumpf "$child"
assert_eq "$child" "t.$(header pid "$child.dump").bin" "%p: child file name"
assert_eq 3 "$(allocs 200 "$child.dump")" "%p: child's blocks"
