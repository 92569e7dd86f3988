#!/usr/bin/env bash
# Incremental unwinding (preload/stack.c rule_walk): a walk reuses the last one when the
# caller's frame and everything the last walk read further out still hold.
# samples/unwind-reuse.c makes each stack twice in a row, next to stacks that differ one frame
# out (a1/a2, same frame size), five frames out (o1/o2 under the same m1 <- m2 <- m3 chain), by
# an alloca that moves every frame inside it, and by one frame more or less (leaf from run
# directly or through b1): every one of the 44,000 leaked blocks must be charged to its own
# stack, and the periodic comparison with libunwind must never disagree. Plain -O2 (frame
# pointers in most functions, none in leaf, a1, a2, m2, b1), and the
# -O0 and -O2 instrumented builds with PERFSHIM_STACK_SOURCE=unwind.
. "$(dirname "$0")/lib.sh"
need_jq

want='[[["leaf","a1","run","main"],800000,8000],[["leaf","b1","run","main"],802000,2000],'
want+='[["leaf","run","main"],804000,2000],[["leaf","a2","run","main"],808000,8000],'
want+='[["leaf","m1","m2","m3","o1","run","main"],1600000,8000],'
want+='[["leaf","m1","m2","m3","o2","run","main"],1608000,8000],'
want+='[["leaf","al","run","main"],2400000,8000]]'

for v in plain/ "" O2/; do
	prog="$S/${v}unwind-reuse"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	PERFSHIM_STACK_SOURCE=unwind traced "$TMP/t" "$prog" 4000
	plain "$TMP/p" "$prog" 4000
	same_behaviour "$TMP/t" "$TMP/p"
	json leaks "$TMP/t" >"$TMP/l.json"
	assert_eq "$want" \
		"$(jq -c '[.leaks[] | select(.stack[0] == "leaf") | [(.stack | .[0:(indices("main")[0] + 1)]), .bytes, .blocks]] | sort_by(.[1])' "$TMP/l.json")" \
		"${v}unwind-reuse: leak stacks up to main"
	PERFSHIM_DEBUG=1 PERFSHIM_STACK_SOURCE=unwind traced "$TMP/d" "$prog" 4000
	assert_eq 0 "$(grep -c 'disagree' "$TMP/d.stderr")" "${v}unwind-reuse: rules checks against libunwind that disagreed"
done
