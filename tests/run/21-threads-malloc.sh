#!/usr/bin/env bash
# samples/threads-malloc.c under the shim: 16 threads, each block malloc'd on one thread and
# freed on the next (glibc then reuses the address on the freeing thread). Every free must
# pair with its allocation in the merged replay, and the counts per site are exact:
# make_block 16 x 5000 allocations all freed, leak_some i % 3 + 1 blocks of 200 + i bytes
# per thread i (31 blocks, 6435 bytes). At -O0, -O2 (shadow stacks) and plain (libunwind).
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/ plain/; do
	prog="$S/${v}threads-malloc"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog" 16 5000
	plain "$TMP/p" "$prog" 16 5000
	same_behaviour "$TMP/t" "$TMP/p"
	assert_eq 0 "$(cat "$TMP/t.rc")" "${v}threads-malloc: no damaged block"

	assert_eq 17 "$("$ANALYZE" dump "$TMP/t" | sed -n '1s/.* threads=\([0-9]*\) .*/\1/p')" \
		"${v}threads-malloc: threads in the trace"
	json memory "$TMP/t" >"$TMP/m.json"
	m() { jq -c "$1" "$TMP/m.json"; }
	assert_eq '[0,0,0]' "$(m '[.unknown_frees, .lost_frees, .lost_events]')" \
		"${v}threads-malloc: unknown frees, lost frees, lost events"
	assert_eq '[80000,80000,0,0]' \
		"$(m '[.sites[] | select(.stack[0] == "make_block")] | [(map(.allocations) | add), (map(.frees) | add), (map(.leaked_blocks) | add), length - 1]')" \
		"${v}threads-malloc: make_block allocations, frees, leaks, extra sites"
	assert_eq '["make_block","worker"]' \
		"$(m '[.sites[] | select(.stack[0] == "make_block")][0].stack[0:2]')" "${v}threads-malloc: make_block stack"

	json leaks "$TMP/t" >"$TMP/l.json"
	assert_eq '[31,6435]' \
		"$(jq -c '[.leaks[] | select(.stack[0] == "leak_some")] | [(map(.blocks) | add), (map(.bytes) | add)]' "$TMP/l.json")" \
		"${v}threads-malloc: leak_some blocks, bytes"
	assert_eq 0 "$(jq '[.leaks[] | select(.stack[0] == "make_block")] | length' "$TMP/l.json")" \
		"${v}threads-malloc: make_block leaks"
	# the dump agrees: 80031 allocations from the sample's two sites
	"$ANALYZE" dump "$TMP/t" >"$TMP/dump"
	assert_eq 80031 "$(awk '$1 == "stack" && ($3 == "make_block" || $3 == "leak_some") { s[$2] = 1 }
		$3 == "alloc" { split($7, a, "="); n[a[2] ":"]++ }
		END { for (k in s) t += n[k]; print t }' "$TMP/dump")" "${v}threads-malloc: dump allocations of the sample"
done
