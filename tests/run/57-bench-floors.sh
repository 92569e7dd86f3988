#!/usr/bin/env bash
# The benchmark's floors (bench/floor-*.c, bench/decode-floor.c; docs/bench.md) record and
# count exactly what they claim, so the bench's "x floor" ratios compare like with like:
# - floor-cyg-record writes one 16-byte record per call event: fib(20) is 21891 calls of fib
#   plus main, 700544 bytes; threads-fib with 4 threads, 8 rounds of fib(15) (1973 calls
#   each) plus 4 work() and main: 32 x 15789 = 505248 bytes (each thread's buffer written at
#   its exit);
# - the malloc floors count events as the bench counts perfshim's (allocs + frees +
#   2 x reallocs): alloc-edge's 29, mallocbench 1000's 2005 (1000 pairs more than N = 0's 5);
#   the record floor writes 16 bytes per event; the stack floor 16 per event plus each new
#   stack once (mallocbench 2000 - 1000: exactly 2000 events more, no new stack);
# - decode-floor counts the events of perfshim traces as the analyzer does and refuses a
#   cut or foreign file with one line and exit 1;
# - floor-malloc-jump (sampling.sh's floor) is one jump per function and nothing else;
# - every preloaded floor leaves the program's output and exit status alone.
. "$(dirname "$0")/lib.sh"
need_jq
BD="$B/bench"
for f in floor-cyg-noop.so floor-cyg-record.so floor-malloc-count.so floor-malloc-record.so \
	floor-malloc-stack.so floor-malloc-jump.so decode-floor threads-fib; do
	[ -e "$BD/$f" ] || fail "$BD/$f is missing (make bench-tools)"
done

# floored OUT LIB PROG ARGS...: PROG under floor LIB, records or count to OUT
floored() {
	local out=$1 lib=$2
	shift 2
	BENCH_FLOOR_OUTPUT="$out" LD_PRELOAD="$BD/$lib" "$@" >"$out.stdout" 2>"$out.stderr"
	echo $? >"$out.rc"
}
size() { stat -c %s "$1"; }

plain "$TMP/fib" "$S/O2/fib" 20
for lib in floor-cyg-noop.so floor-cyg-record.so; do
	floored "$TMP/fib.$lib" "$lib" "$S/O2/fib" 20
	same_behaviour "$TMP/fib.$lib" "$TMP/fib"
done
assert_eq 700544 "$(size "$TMP/fib.floor-cyg-record.so")" "floor-cyg-record: bytes for fib(20)"
floored "$TMP/tf" floor-cyg-record.so "$BD/threads-fib" 4 8 15
assert_eq "threads-fib: 4 threads, 8 rounds of fib(15) = 4880, calls of fib: 15784" \
	"$(cat "$TMP/tf.stdout")" "threads-fib output"
assert_eq 505248 "$(size "$TMP/tf")" "floor-cyg-record: bytes for threads-fib 4 8 15"

# perfshim's own count of a program's events, as bench/run.sh takes it
ps_events() {
	traced "$TMP/ps" "$@"
	json summary "$TMP/ps" | jq '.events | .allocs + .frees + 2 * .reallocs'
}
plain "$TMP/ae" "$S/plain/alloc-edge"
for lib in floor-malloc-count.so floor-malloc-record.so floor-malloc-stack.so floor-malloc-jump.so; do
	floored "$TMP/ae.$lib" "$lib" "$S/plain/alloc-edge"
	same_behaviour "$TMP/ae.$lib" "$TMP/ae"
done
assert_eq "$(ps_events "$S/plain/alloc-edge")" "$(cat "$TMP/ae.floor-malloc-count.so")" \
	"floor-malloc-count: alloc-edge events, as perfshim's"
assert_eq 29 "$(cat "$TMP/ae.floor-malloc-count.so")" "floor-malloc-count: alloc-edge events"
assert_eq $((29 * 16)) "$(size "$TMP/ae.floor-malloc-record.so")" "floor-malloc-record: alloc-edge bytes"

for n in 0 1000 2000; do
	for lib in floor-malloc-count.so floor-malloc-record.so floor-malloc-stack.so; do
		floored "$TMP/mb$n.$lib" "$lib" "$S/plain/mallocbench" "$n"
		assert_eq 0 "$(cat "$TMP/mb$n.$lib.rc")" "mallocbench $n under $lib: exit status"
	done
done
assert_eq 5 "$(cat "$TMP/mb0.floor-malloc-count.so")" "floor-malloc-count: mallocbench 0 events"
assert_eq 2005 "$(cat "$TMP/mb1000.floor-malloc-count.so")" "floor-malloc-count: mallocbench 1000 events"
assert_eq 2005 "$(ps_events "$S/plain/mallocbench" 1000)" "perfshim: mallocbench 1000 events"
plain "$TMP/mbp" "$S/plain/mallocbench" 1000 2
floored "$TMP/mbj" floor-malloc-jump.so "$S/plain/mallocbench" 1000 2
same_behaviour "$TMP/mbj" "$TMP/mbp"
# each of the four is a single jump instruction (its disassembly: one line, a jmp)
if command -v objdump >/dev/null; then
	for fn in malloc free calloc realloc; do
		n=$(objdump -d --no-show-raw-insn "$BD/floor-malloc-jump.so" |
			awk -v f="<$fn>:" '$2 == f { on = 1; next } on && NF == 0 { exit } on { print }' |
			grep -v 'nop' | awk '{ print $2 }' | tr '\n' ' ')
		assert_eq "jmp " "$n" "floor-malloc-jump: $fn's instructions"
	done
fi
assert_eq 32080 "$(size "$TMP/mb1000.floor-malloc-record.so")" "floor-malloc-record: mallocbench 1000 bytes"
st1=$(size "$TMP/mb1000.floor-malloc-stack.so")
st2=$(size "$TMP/mb2000.floor-malloc-stack.so")
assert_eq 32000 "$((st2 - st1))" "floor-malloc-stack: bytes of 1000 more pairs"
[ "$st1" -gt 32080 ] || fail "floor-malloc-stack wrote no stack ($st1 bytes for 2005 events)"
echo "ok: floor-malloc-stack: $((st1 - 32080)) bytes of stacks"
# two threads: each thread's buffer reaches the file
floored "$TMP/mt" floor-malloc-record.so "$S/plain/mallocbench" 1000 2
floored "$TMP/mtc" floor-malloc-count.so "$S/plain/mallocbench" 1000 2
assert_eq "$(ps_events "$S/plain/mallocbench" 1000 2)" "$(cat "$TMP/mtc")" \
	"floor-malloc-count: mallocbench 1000 2 events, as perfshim's"
assert_eq "$(( $(cat "$TMP/mtc") * 16 ))" "$(size "$TMP/mt")" "floor-malloc-record: mallocbench 1000 2 bytes"

# decode-floor against the analyzer's counts
PERFSHIM_EVENTS=calls traced "$TMP/f" "$S/O2/fib" 20
assert_eq "events=43784 entries=21892 exits=21892 allocs=0 frees=0 reallocs=0" \
	"$("$BD/decode-floor" "$TMP/f" | cut -d' ' -f1-6)" "decode-floor: fib(20) trace"
traced "$TMP/m" "$S/plain/mallocbench" 1000
assert_eq "events=2005 entries=0 exits=0 allocs=1003 frees=1002 reallocs=0" \
	"$("$BD/decode-floor" "$TMP/m" | cut -d' ' -f1-6)" "decode-floor: mallocbench 1000 trace"
traced "$TMP/a" "$S/plain/alloc-edge"
assert_eq "$(json summary "$TMP/a" | jq '.events | .allocs + .frees + 2 * .reallocs')" \
	"$("$BD/decode-floor" "$TMP/a" | sed 's/^events=\([0-9]*\) .*/\1/')" "decode-floor: alloc-edge events"
for bad in cut garbage random empty; do
	"$BD/decode-floor" "$TOP/tests/data/$bad.bin" >"$TMP/d.out" 2>"$TMP/d.err"
	assert_eq "1 0 1" "$? $(wc -c <"$TMP/d.out") $(wc -l <"$TMP/d.err")" \
		"decode-floor on $bad.bin: exit, stdout bytes, stderr lines"
done
