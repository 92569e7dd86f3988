#!/usr/bin/env bash
# Allocation stacks through code without frame pointers, alloca and a variable-length array
# (samples/unwind-mix.c): the unwinder's learned rules (preload/stack.c) must give exactly the
# stacks libunwind gives, for every one of the 2000 allocations: 1000 leaks of 100 bytes
# through leaf <- vla <- grow <- mid <- top <- main and 1000 of 200 through leaf <- mid <- top
# <- main. Plain build (unwinder), -O0 and -O2 (shadow stack), and -O0 with the unwinder.
. "$(dirname "$0")/lib.sh"
need_jq

check() {	# check NAME TRACE FRAMES: the two leak groups up to main, and the deeper one's length
	json leaks "$2" >"$TMP/l.json"
	assert_eq '[[["leaf","mid","top","main"],200000,1000],[["leaf","vla","grow","mid","top","main"],100000,1000]]' \
		"$(jq -c '[.leaks[] | select(.stack[0] == "leaf") | [(.stack | .[0:(indices("main")[0] + 1)]), .bytes, .blocks]] | sort_by(.[1]) | reverse' "$TMP/l.json")" \
		"$1: leak stacks up to main"
	assert_eq "$3" "$(jq '[.leaks[] | select(.stack[0] == "leaf") | .stack | length] | max' "$TMP/l.json")" \
		"$1: frames of the deeper stack"
}

for v in plain/ "" O2/; do
	prog="$S/${v}unwind-mix"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog" 2000
	plain "$TMP/p" "$prog" 2000
	same_behaviour "$TMP/t" "$TMP/p"
	# the unwinder goes on into libc's start code (3 frames); the shadow stack stops at main
	if [ "$v" = plain/ ]; then frames=9; else frames=6; fi
	check "${v}unwind-mix" "$TMP/t" $frames
done
PERFSHIM_STACK_SOURCE=unwind traced "$TMP/u" "$S/unwind-mix" 2000
check "unwind-mix, PERFSHIM_STACK_SOURCE=unwind" "$TMP/u" 9
