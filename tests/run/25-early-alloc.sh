#!/usr/bin/env bash
# Allocations that reach the hooks before the shim's constructor has run (a library preloaded
# after the shim allocates in its own constructor, samples/libearly.c): the hooks resolve the
# real allocator on first use and the program behaves exactly as without the shim. With the
# other order the library's constructor runs after the shim's and its allocations are
# recorded: malloc 100, realloc to 200 (never freed), calloc 30 freed.
. "$(dirname "$0")/lib.sh"
need_jq
early="$S/libearly.so"
[ -f "$early" ] || fail "$early is missing (make samples)"
prog="$S/plain/alloc-edge"

plain "$TMP/p" "$prog"
# the shim first: the library's constructor runs before the shim's
PERFSHIM_OUTPUT="$TMP/a" LD_PRELOAD="$LIB:$early" "$prog" >"$TMP/a.stdout" 2>"$TMP/a.stderr"
echo $? >"$TMP/a.rc"
same_behaviour "$TMP/a" "$TMP/p"
json leaks "$TMP/a" >"$TMP/a.json"
assert_eq '[4000,2]' "$(jq -c '[.leaked_bytes, .leaked_blocks]' "$TMP/a.json")" \
	"shim first: only the program's leaks (the early ones were made before recording)"

# the library first: its constructor runs after the shim's, and is recorded
PERFSHIM_OUTPUT="$TMP/b" LD_PRELOAD="$early:$LIB" "$prog" >"$TMP/b.stdout" 2>"$TMP/b.stderr"
echo $? >"$TMP/b.rc"
same_behaviour "$TMP/b" "$TMP/p"
"$ANALYZE" dump "$TMP/b" >"$TMP/b.dump" || fail "dump exited $?"
assert_eq 'alloc kind=malloc size=100|realloc size=200|alloc kind=calloc size=30|free|' \
	"$(awk '$3 == "alloc" || $3 == "free" || $3 == "realloc"' "$TMP/b.dump" | head -4 |
	   cut -d' ' -f3- | sed -e 's/ \(ptr\|old\|new\|stack\|new_ns\)=[^ ]*//g' | tr '\n' '|')" \
	"library first: its constructor's events come first"
json leaks "$TMP/b" >"$TMP/b.json"
assert_eq '[4200,3]' "$(jq -c '[.leaked_bytes, .leaked_blocks]' "$TMP/b.json")" \
	"library first: the program's leaks and early_block"
