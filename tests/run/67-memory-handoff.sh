#!/usr/bin/env bash
# Cross-thread frees with address reuse, recorded: samples/handoff.c mallocs on one thread and
# frees on another 20000 times, and glibc hands the freed addresses back to the producer.
# In the merged time order every free must meet the block live at its address: no unknown
# frees, no block replaced without a free, all 20000 of producer()'s blocks freed.
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/ plain/; do
	prog="$S/${v}handoff"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog" 20000
	plain "$TMP/p" "$prog" 20000
	same_behaviour "$TMP/t" "$TMP/p"
	grep -q "addresses reused" "$TMP/t.stdout" || fail "${v}: no address was reused: nothing tested"

	json memory "$TMP/t" >"$TMP/m.json"
	m() { jq -c "$1" "$TMP/m.json"; }
	assert_eq 0 "$(m .unknown_frees)" "${v}handoff: unknown frees"
	assert_eq 0 "$(m .lost_frees)" "${v}handoff: blocks replaced without a free"
	assert_eq 0 "$(m .lost_events)" "${v}handoff: events lost by the recorder"
	# 64 + (i & 3) * 16 bytes for i < 20000
	assert_eq '[20000,1760000,20000,0,0]' \
		"$(m '[.sites[] | select(.stack[0] == "producer")] | if length == 1 then .[0] else error("sites: \(length)") end | [.allocations, .bytes, .frees, .leaked_bytes, .leaked_blocks]')" \
		"${v}handoff: producer's blocks"
	assert_eq "$(m .live_at_end_blocks)" "$(m '.allocations - .frees')" "${v}handoff: live at end = allocations - frees"
done

# with libunwind stacks, what stays live is only glibc's (thread DTVs): no leaks remain
json leaks "$TMP/t" >"$TMP/l.json"
assert_eq 0 "$(jq .leaked_bytes "$TMP/l.json")" "plain handoff: leaks after suppressions"

# 32 threads swapping blocks through atomic exchanges (handoff swap): a block is malloc'd on
# one thread and freed on another within ns, on another core. The free's clock read comes
# after the program had the pointer (fenced), and the reader merges by clock ticks, so every
# free meets its block, in each of 20 runs (the unfenced read gave 0 to 900 unknown frees
# per run here, in most runs).
for i in $(seq 0 19); do
	v=$(echo " O2/ plain/" | cut -d' ' -f$((i % 3 + 1)))
	traced "$TMP/s" "$S/${v}handoff" swap 5000
	assert_eq 0 "$(cat "$TMP/s.rc")" "${v}handoff swap: exit status"
	json memory "$TMP/s" >"$TMP/s.json"
	m() { jq -c "$1" "$TMP/s.json"; }
	assert_eq '[0,0,0]' "$(m '[.unknown_frees, .lost_frees, .lost_events]')" \
		"run $i ${v}handoff swap: unknown frees, replaced blocks, lost events"
	# 32 threads x 5000 blocks of 48 bytes, every one freed once
	assert_eq '[160000,7680000,160000,0,0]' \
		"$(m '[.sites[] | select(.stack[0] == "swapper")] | if length == 1 then .[0] else error("sites: \(length)") end | [.allocations, .bytes, .frees, .leaked_bytes, .leaked_blocks]')" \
		"run $i ${v}handoff swap: swapper's blocks"
done
