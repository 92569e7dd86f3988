#!/usr/bin/env bash
# Stress: 32 threads x 20000 cross-thread malloc/free pairs (samples/threads-malloc.c) under
# the shim with a small buffer (many chunk flushes from many threads at once), in the plain
# build (libunwind on every allocation) and the instrumented one. No crash, no deadlock
# (run-all's timeout), identical output, and exact counts: 640000 allocations, all freed,
# 63 leaked blocks of 13582 bytes from leak_some, every free paired.
. "$(dirname "$0")/lib.sh"
need_jq

for v in plain/ O2/; do
	prog="$S/${v}threads-malloc"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	PERFSHIM_BUFSIZE=65536 traced "$TMP/t" "$prog" 32 20000
	plain "$TMP/p" "$prog" 32 20000
	same_behaviour "$TMP/t" "$TMP/p"
	json memory "$TMP/t" >"$TMP/m.json"
	m() { jq -c "$1" "$TMP/m.json"; }
	assert_eq '[0,0,0]' "$(m '[.unknown_frees, .lost_frees, .lost_events]')" \
		"${v}stress: unknown frees, lost frees, lost events"
	assert_eq '[640000,640000,0]' \
		"$(m '[.sites[] | select(.stack[0] == "make_block")] | [(map(.allocations) | add), (map(.frees) | add), (map(.leaked_blocks) | add)]')" \
		"${v}stress: make_block allocations, frees, leaks"
	assert_eq '[63,13582]' \
		"$(m '[.sites[] | select(.stack[0] == "leak_some")] | [(map(.leaked_blocks) | add), (map(.leaked_bytes) | add)]')" \
		"${v}stress: leak_some leaked blocks, bytes"
done
