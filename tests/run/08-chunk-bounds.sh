#!/usr/bin/env bash
# Records stay whole across the boundaries of a thread's chunks and of the parts of a mapped
# chunk made ready at a time (128 KiB windows): samples/mallocbench's 100,000 malloc/free
# pairs from level0 read back exactly (every free pairs with its block: no unknown free, the
# same bytes allocated) with 64 KiB, 1 MiB and 4 MiB buffers, and nothing is lost or
# unmatched. A record cut or overwritten at a boundary changes a pointer or a size here.
. "$(dirname "$0")/lib.sh"
need_jq
cd "$TMP"
prog="$S/mallocbench"
plain ref "$prog" 100000 1
bytes=
for bs in 64K 1M 4M; do
	w="bufsize $bs"
	rm -f t.bin
	PERFSHIM_BUFSIZE=$bs traced "$TMP/t.bin" "$prog" 100000 1
	same_behaviour ref t.bin
	json memory t.bin >m.json
	assert_eq '[100000,100000,0]' \
		"$(jq -c '[([.sites[] | select(.stack[0] == "level0") | .allocations] | add),
			   ([.sites[] | select(.stack[0] == "level0") | .frees] | add), .unknown_frees]' m.json)" \
		"$w: level0 allocations, frees; unknown frees"
	b=$(jq .bytes_allocated m.json)
	[ -z "$bytes" ] && bytes=$b
	assert_eq "$bytes" "$b" "$w: bytes allocated (as with the first buffer size)"
	assert_eq "0 0" "$(json summary t.bin | jq -r '"\(.events.lost) \(.events.unmatched_exits)"')" \
		"$w: lost events, unmatched exits"
done
