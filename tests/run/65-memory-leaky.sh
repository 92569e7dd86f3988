#!/usr/bin/env bash
# memory and leaks over samples/leaky.c, recorded by the shim: 7 blocks of 1000 bytes leaked
# from leak_here(), everything else freed. Totals, peak and its holders, temporaries and the
# leak list are exact (the numbers are worked out in the sample's comment), at -O0 and -O2
# (shadow stacks of instrumented code) and in the plain build (libunwind stacks).
. "$(dirname "$0")/lib.sh"
need_jq

for v in "" O2/ plain/; do
	prog="$S/${v}leaky"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog"
	plain "$TMP/p" "$prog"
	same_behaviour "$TMP/t" "$TMP/p"

	json memory "$TMP/t" >"$TMP/m.json"
	m() { jq -c "$1" "$TMP/m.json"; }
	assert_eq 15 "$(m .allocations)" "${v}leaky: allocations"
	assert_eq 8 "$(m .frees)" "${v}leaky: frees"
	assert_eq 7977 "$(m .bytes_allocated)" "${v}leaky: bytes_allocated"
	assert_eq 7000 "$(m .leaked_bytes)" "${v}leaky: leaked_bytes"
	assert_eq 7 "$(m .leaked_blocks)" "${v}leaky: leaked_blocks"
	assert_eq 4 "$(m .temporary_allocations)" "${v}leaky: temporary_allocations"
	assert_eq 0 "$(m .unknown_frees)" "${v}leaky: unknown_frees"
	assert_eq 7678 "$(m .peak_bytes)" "${v}leaky: peak_bytes"
	# the peak is when work()'s realloc(NULL, 50) returned: after its first allocation
	# (calloc) began and before the run ended
	pt=$(m .peak_time_ns)
	[ "$pt" -gt 0 ] || fail "${v}leaky: peak_time_ns $pt"
	assert_eq '[["leak_here",7000,7],["work",678,4]]' \
		"$(m '[.peak.holders[] | [.stack[0], .bytes, .blocks]]')" "${v}leaky: peak holders"
	assert_eq '["leak_here","main"]' "$(m '.sites[0].stack[0:2]')" "${v}leaky: top site by bytes"
	assert_eq '[7,7000,7000,7000,7,0]' \
		"$(m '.sites[] | select(.stack[0] == "leak_here") | [.allocations, .bytes, .peak_bytes, .leaked_bytes, .leaked_blocks, .temporary_allocations]')" \
		"${v}leaky: leak_here site"
	assert_eq '[5,878,678,0,0,1]' \
		"$(m '.sites[] | select(.stack[0] == "work") | [.allocations, .bytes, .peak_bytes, .leaked_bytes, .leaked_blocks, .temporary_allocations]')" \
		"${v}leaky: work site"
	assert_eq '[3,99,34,0,0,3]' \
		"$(m '.sites[] | select(.stack[0] == "temporaries") | [.allocations, .bytes, .peak_bytes, .leaked_bytes, .leaked_blocks, .temporary_allocations]')" \
		"${v}leaky: temporaries site"
	assert_eq 3 "$(m '.sites | length')" "${v}leaky: sites"
	assert_eq '[[32,63,4,149],[64,127,1,100],[128,255,2,328],[256,511,1,400],[512,1023,7,7000]]' \
		"$(m '[.histogram[] | [.min, .max, .allocations, .bytes]]')" "${v}leaky: size histogram"
	assert_eq 0 "$(m '[.sites[].stack[] | select(test("perfshim|^ps_"))] | length')" \
		"${v}leaky: shim frames in stacks"

	json leaks "$TMP/t" >"$TMP/l.json"
	assert_eq 7000 "$(jq .leaked_bytes "$TMP/l.json")" "${v}leaky: leaks leaked_bytes"
	assert_eq 7 "$(jq .leaked_blocks "$TMP/l.json")" "${v}leaky: leaks leaked_blocks"
	assert_eq '[["leak_here","main",7000,7]]' \
		"$(jq -c '[.leaks[] | [.stack[0], .stack[1], .bytes, .blocks]]' "$TMP/l.json")" \
		"${v}leaky: one leak, from leak_here in main"

	# the text reports agree
	"$ANALYZE" leaks "$TMP/t" >"$TMP/l.txt" || fail "leaks text exited $?"
	grep -q '^Leaks: 7,000 bytes in 7 blocks from 1 stack$' "$TMP/l.txt" ||
		{ cat "$TMP/l.txt"; fail "${v}leaky: leaks text header"; }
	"$ANALYZE" memory "$TMP/t" >"$TMP/m.txt" || fail "memory text exited $?"
	grep -q '^  allocations     15 ' "$TMP/m.txt" || { cat "$TMP/m.txt"; fail "${v}leaky: memory text"; }
done
