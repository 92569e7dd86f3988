#!/usr/bin/env bash
# samples/small-stack.c under the shim: 8 threads on PTHREAD_STACK_MIN (16 KiB) stacks, by
# pthread_attr_setstacksize and pthread_attr_setstack. glibc refuses such a thread (EINVAL)
# when the static TLS of the loaded libraries leaves it less than 2 KiB, so the shim's own
# TLS must stay small (preload/stack.c, tls_scratch). The threads must run as without the
# shim and their allocations be recorded: small_alloc 8 x 100 blocks, all freed; small_leak
# one block of 1000 + i bytes per thread i (8 blocks, 8028 bytes). At -O0 and -O2 (shadow
# stacks); the plain build's libunwind walk needs more stack than such a thread has left.
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/; do
	prog="$S/${v}small-stack"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	plain "$TMP/p" "$prog" 8
	assert_eq 0 "$(cat "$TMP/p.rc")" "${v}small-stack: threads created without the shim"
	traced "$TMP/t" "$prog" 8
	[ -s "$TMP/t.stderr" ] && cat "$TMP/t.stderr" >&2
	assert_eq 0 "$(cat "$TMP/t.rc")" "${v}small-stack: threads created under the shim"
	same_behaviour "$TMP/t" "$TMP/p"

	assert_eq 9 "$("$ANALYZE" dump "$TMP/t" | sed -n '1s/.* threads=\([0-9]*\) .*/\1/p')" \
		"${v}small-stack: threads in the trace"
	json memory "$TMP/t" >"$TMP/m.json"
	m() { jq -c "$1" "$TMP/m.json"; }
	assert_eq '[0,0,0]' "$(m '[.unknown_frees, .lost_frees, .lost_events]')" \
		"${v}small-stack: unknown frees, lost frees, lost events"
	assert_eq '[800,800,0]' \
		"$(m '[.sites[] | select(.stack[0] == "small_alloc")] | [(map(.allocations) | add), (map(.frees) | add), (map(.leaked_blocks) | add)]')" \
		"${v}small-stack: small_alloc allocations, frees, leaks"
	assert_eq '["small_alloc","worker"]' \
		"$(m '[.sites[] | select(.stack[0] == "small_alloc")][0].stack[0:2]')" "${v}small-stack: small_alloc stack"
	json leaks "$TMP/t" >"$TMP/l.json"
	assert_eq '[8,8028]' \
		"$(jq -c '[.leaks[] | select(.stack[0] == "small_leak")] | [(map(.blocks) | add), (map(.bytes) | add)]' "$TMP/l.json")" \
		"${v}small-stack: small_leak blocks, bytes"
done
