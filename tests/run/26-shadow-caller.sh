#!/usr/bin/env bash
# Shadow-stack allocation stacks name the real caller of malloc (samples/shadowcaller.c, built
# with -finstrument-functions, at -O0 and -O2): the return address of the malloc-family call
# sits under the instrumented frames, and the reader drops it when it lies inside the top
# function (docs/stacks.md). So stdio's buffer, allocated by libc for main's printf, is
# _IO_file_doallocate's and the built-in suppression hides it (it used to be reported as a
# 4 KiB leak of main); f's strdup copy is ["__strdup", "f", "main"] (libc's own name for
# strdup); g's direct malloc stays ["g", "main"]. The libunwind stacks of the same run agree
# on those innermost frames.
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/; do
	prog="$S/${v}shadowcaller"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog"
	plain "$TMP/p" "$prog"
	same_behaviour "$TMP/t" "$TMP/p"
	assert_eq 0 "$(cat "$TMP/t.rc")" "${v}shadowcaller: exit status"

	json leaks "$TMP/t" >"$TMP/l.json"
	l() { jq -c "$1" "$TMP/l.json"; }
	assert_eq 114 "$(l .leaked_bytes)" "${v}shadowcaller: leaked bytes after suppressions"
	assert_eq '[[["__strdup","f","main"],14,1],[["g","main"],100,1]]' \
		"$(l '[.leaks[] | [.stack, .bytes, .blocks]] | sort_by(.[1])')" \
		"${v}shadowcaller: leaks (stacks, bytes, blocks)"
	assert_eq 0 "$(l '[.leaks[] | select(.stack | index("_IO_file_doallocate")) | .bytes]
		| add // 0')" \
		"${v}shadowcaller: bytes of the stdout buffer reported as leaked"
	assert_eq 1 "$(l '[.suppressed[] | select(.rule | test("stdio buffer")) | .blocks] | add')" \
		"${v}shadowcaller: stdout buffer suppressed (blocks)"

	json leaks --no-suppress "$TMP/t" >"$TMP/n.json"
	assert_eq '[["_IO_file_doallocate","main"],1]' \
		"$(jq -c '[.leaks[] | select(.stack[0] == "_IO_file_doallocate") | [.stack, .blocks]]
			| .[0]' "$TMP/n.json")" \
		"${v}shadowcaller: --no-suppress shows the stdout buffer under libc's frame"
	assert_eq 3 "$(jq '.leaks | length' "$TMP/n.json")" "${v}shadowcaller: --no-suppress sites"

	# the same run through libunwind: the innermost frames are the same
	PERFSHIM_STACK_SOURCE=unwind traced "$TMP/u" "$prog"
	json leaks --no-suppress "$TMP/u" >"$TMP/u.json"
	assert_eq "$(jq -c '[.leaks[].stack[0]] | sort' "$TMP/n.json")" \
		"$(jq -c '[.leaks[].stack[0]] | sort' "$TMP/u.json")" \
		"${v}shadowcaller: innermost frames, shadow = libunwind"
	assert_eq '["__strdup","f","main"]' \
		"$(jq -c '[.leaks[] | select(.bytes == 14)][0].stack[0:3]' "$TMP/u.json")" \
		"${v}shadowcaller: libunwind's strdup stack"
done
