#!/usr/bin/env bash
# Recording starts at the first malloc of the process, not at the shim's constructor: ld.so
# runs the constructors of libraries preloaded after the shim (samples/libearly.c) and of the
# program's own dependencies before the shim's. Either preload order gives the same, whole
# trace: libearly's constructor makes malloc 100, realloc to 200 (never freed) and calloc 30
# (freed), on top of alloc-edge's own 15 allocations, 14,268 bytes, 13 frees and 2 leaked
# blocks of 4,000 bytes (samples/alloc-edge.c's table). The program behaves as without the shim.
# Then a C++ program: libstdc++'s constructor allocates its 72,704-byte exception pool
# (64 objects of 1 KiB + 64 dependent exceptions of 112 bytes) before anything else.
. "$(dirname "$0")/lib.sh"
need_jq
early="$S/libearly.so"
[ -f "$early" ] || fail "$early is missing (make samples)"
prog="$S/plain/alloc-edge"

plain "$TMP/p" "$prog"
for order in shim-first early-first; do
	case $order in
	shim-first) pre="$LIB:$early" ;;	# libearly's constructor runs before the shim's
	early-first) pre="$early:$LIB" ;;	# and after it
	esac
	PERFSHIM_OUTPUT="$TMP/$order" LD_PRELOAD="$pre" "$prog" >"$TMP/$order.stdout" \
		2>"$TMP/$order.stderr"
	echo $? >"$TMP/$order.rc"
	same_behaviour "$TMP/$order" "$TMP/p"
	"$ANALYZE" dump "$TMP/$order" >"$TMP/$order.dump" || fail "dump exited $?"
	assert_eq 'alloc kind=malloc size=100|realloc size=200|alloc kind=calloc size=30|free|' \
		"$(awk '$3 == "alloc" || $3 == "free" || $3 == "realloc"' "$TMP/$order.dump" | head -4 |
		   cut -d' ' -f3- | sed -e 's/ \(ptr\|old\|new\|stack\|new_ns\)=[^ ]*//g' | tr '\n' '|')" \
		"$order: libearly's constructor's events come first"
	json memory "$TMP/$order" >"$TMP/$order.json"
	assert_eq '[18,14598,15,0]' \
		"$(jq -c '[.allocations, .bytes_allocated, .frees, .unknown_frees]' "$TMP/$order.json")" \
		"$order: allocations, bytes, frees, unknown frees (15 + 3, 14268 + 330, 13 + 2, 0)"
	json leaks "$TMP/$order" >"$TMP/$order.leaks"
	assert_eq '[4200,3]' "$(jq -c '[.leaked_bytes, .leaked_blocks]' "$TMP/$order.leaks")" \
		"$order: the program's leaks and early_block"
	assert_eq 0 "$("$ANALYZE" dump "$TMP/$order" | grep -c ' lost count=')" "$order: LOST records"
done

# C++: the pool comes first, from libstdc++ under the loader's _dl_init; then cxxnames makes
# one 4-byte Widget (freed) and printf its stdout buffer (st_blksize of the file it writes).
cxx="$S/plain/cxxnames"
plain "$TMP/cp" "$cxx"
traced "$TMP/c" "$cxx"
same_behaviour "$TMP/c" "$TMP/cp"
buf=$(stat -c %o "$TMP/c.stdout")
"$ANALYZE" dump "$TMP/c" >"$TMP/c.dump" || fail "dump exited $?"
assert_eq "alloc kind=malloc size=72704|alloc kind=malloc size=4|free|alloc kind=malloc size=$buf|" \
	"$(awk '$3 == "alloc" || $3 == "free" || $3 == "realloc"' "$TMP/c.dump" |
	   cut -d' ' -f3-5 | sed -e 's/ \(ptr\|stack\)=[^ ]*//g' | tr '\n' '|')" \
	"C++: every memory event, the 72,704-byte pool first"
json memory "$TMP/c" >"$TMP/c.json"
assert_eq "[3,$((72704 + 4 + buf)),1,0]" \
	"$(jq -c '[.allocations, .bytes_allocated, .frees, .unknown_frees]' "$TMP/c.json")" \
	"C++: allocations, bytes, frees, unknown frees"
assert_eq '[72704,1]' \
	"$(jq -c '[.sites[] | select(.stack[0] | startswith("libstdc++.so.6")) | .bytes, .allocations]' "$TMP/c.json")" \
	"C++: libstdc++'s site (bytes, allocations)"
