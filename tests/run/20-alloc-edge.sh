#!/usr/bin/env bash
# samples/alloc-edge.c under the shim: every malloc-family entry point and its edge cases
# behave exactly as without it (stdout, stderr, status), and the trace holds exactly the
# events worked out at the end of the sample, in order: failed calls leave nothing,
# realloc(p, 0) is a realloc to 0 (not a leak), the two leaks come from leak_one().
# At -O0 and -O2 (shadow stacks) and in the plain build (libunwind stacks).
. "$(dirname "$0")/lib.sh"
need_jq

cat >"$TMP/expect" <<'END'
alloc kind=malloc size=0
free
alloc kind=malloc size=24
free
alloc kind=calloc size=100
free
alloc kind=realloc size=100
realloc size=5000
realloc size=0 freed
alloc kind=reallocarray size=200
realloc size=400
free
alloc kind=posix_memalign size=100
free
alloc kind=aligned_alloc size=128
free
alloc kind=aligned_alloc size=100
free
alloc kind=memalign size=10
free
alloc kind=valloc size=10
free
alloc kind=pvalloc size=PAGE
free
alloc kind=malloc size=1000
alloc kind=malloc size=3000
END
sed -i "s/PAGE/$(getconf PAGESIZE)/" "$TMP/expect"

# the memory events of a dump, without addresses, times and stack ids
events() {
	"$ANALYZE" dump "$1" | awk '$3 == "alloc" || $3 == "free" || $3 == "realloc" || $3 == "lost"' |
		cut -d' ' -f3- | sed -e 's/ old=[^ ]* new=0x0 / freed /' -e 's/ \(ptr\|old\|new\|stack\|new_ns\)=[^ ]*//g' -e 's/ $//'
}

for v in "" O2/ plain/; do
	prog="$S/${v}alloc-edge"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/t" "$prog"
	plain "$TMP/p" "$prog"
	same_behaviour "$TMP/t" "$TMP/p"
	assert_eq 0 "$(cat "$TMP/t.rc")" "${v}alloc-edge: every semantic check passed"
	assert_eq 0 "$(grep -c FAILED "$TMP/t.stdout")" "${v}alloc-edge: no FAILED line"

	events "$TMP/t" >"$TMP/events"
	diff "$TMP/expect" "$TMP/events" || fail "${v}alloc-edge: memory events differ (- expected, + trace)"
	echo "ok: ${v}alloc-edge: $(wc -l <"$TMP/events") memory events, exactly as expected"

	# the realloc to 0 and every free name a block of the trace: nothing leaks but leak_one's
	json leaks "$TMP/t" >"$TMP/l.json"
	assert_eq '[[["leak_one","main"],4000,2]]' \
		"$(jq -c '[.leaks[] | [.stack[0:2], .bytes, .blocks]]' "$TMP/l.json")" "${v}alloc-edge: leaks"
	assert_eq 0 "$(jq .unknown_frees "$TMP/l.json")" "${v}alloc-edge: unknown frees"
	json memory "$TMP/t" >"$TMP/m.json"
	assert_eq '[4000,2,0]' "$(jq -c '[.leaked_bytes, .leaked_blocks, .lost_events]' "$TMP/m.json")" \
		"${v}alloc-edge: memory leaked bytes, blocks, lost events"
	assert_eq '["main"]' "$(jq -c '[.sites[].stack[0]] - ["leak_one"] | unique' "$TMP/m.json")" \
		"${v}alloc-edge: every other allocation is main's own"
done

# Stack settings on the same program: no stack, one frame, and libunwind forced on the
# instrumented build (its stacks then go on past main, into libc's start code).
PERFSHIM_STACK_DEPTH=0 traced "$TMP/d0" "$S/alloc-edge"
assert_eq '[[[],4000,2]]' "$(json leaks "$TMP/d0" | jq -c '[.leaks[] | [.stack, .bytes, .blocks]]')" \
	"PERFSHIM_STACK_DEPTH=0: leaks have no stack"
events "$TMP/d0" | diff "$TMP/expect" - || fail "PERFSHIM_STACK_DEPTH=0: memory events differ"
for v in "" plain/; do
	PERFSHIM_STACK_DEPTH=1 traced "$TMP/d1" "$S/${v}alloc-edge"
	assert_eq '[[["leak_one"],4000,2]]' \
		"$(json leaks "$TMP/d1" | jq -c '[.leaks[] | [.stack, .bytes, .blocks]]')" \
		"${v}alloc-edge, PERFSHIM_STACK_DEPTH=1: one frame"
done
PERFSHIM_STACK_SOURCE=unwind traced "$TMP/u" "$S/alloc-edge"
json leaks "$TMP/u" >"$TMP/u.json"
assert_eq '[["leak_one","main"],4000,2]' "$(jq -c '.leaks[0] | [.stack[0:2], .bytes, .blocks]' "$TMP/u.json")" \
	"PERFSHIM_STACK_SOURCE=unwind: leak stack"
[ "$(jq '.leaks[0].stack | length' "$TMP/u.json")" -gt 2 ] || fail "unwound stack stops at main"
PERFSHIM_STACK_SOURCE=shadow traced "$TMP/s" "$S/plain/alloc-edge"
assert_eq '[[[],4000,2]]' "$(json leaks "$TMP/s" | jq -c '[.leaks[] | [.stack, .bytes, .blocks]]')" \
	"PERFSHIM_STACK_SOURCE=shadow, not instrumented: no stacks"

# PERFSHIM_EVENTS without malloc: no memory events at all, same behaviour
PERFSHIM_EVENTS=calls traced "$TMP/c" "$S/alloc-edge"
same_behaviour "$TMP/c" "$TMP/p"
assert_eq 0 "$(events "$TMP/c" | wc -l)" "PERFSHIM_EVENTS=calls: memory events"
