#!/usr/bin/env bash
# chrome: the trace-event JSON of samples with exactly known calls is valid JSON (jq) with one
# complete event ("X") per call, per function and per thread; thread names as metadata; the
# live-heap counter for a malloc sample; --limit keeps the longest calls and says so.
. "$(dirname "$0")/lib.sh"
need_jq

# count_x JSON NAME: complete events of function NAME
count_x() { jq --arg n "$2" '[.traceEvents[] | select(.ph == "X" and .name == $n)] | length' "$1"; }

for v in "" O2/; do
	prog="$S/${v}calls"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/c" "$prog"
	assert_eq 0 "$(cat "$TMP/c.rc")" "${v}calls: exit status"
	"$ANALYZE" chrome -o "$TMP/c.json" "$TMP/c" || fail "chrome exited $?"
	jq -e '.traceEvents | type == "array"' "$TMP/c.json" >/dev/null || fail "not a traceEvents array"
	for fc in main:1 top:1 middle:3 leaf:30 other:7; do
		assert_eq "${fc#*:}" "$(count_x "$TMP/c.json" "${fc%:*}")" "${v}calls: X events of ${fc%:*}"
	done
	# (off-CPU slices, cat "off-cpu", come where the kernel switched the thread out)
	assert_eq 42 "$(jq '[.traceEvents[] | select(.ph == "X" and .cat != "off-cpu")] | length' "$TMP/c.json")" \
		"${v}calls: X events in all"
	# the same numbers as the functions report
	assert_eq "$(json functions "$TMP/c" | jq '[.functions[].calls] | add')" \
		"$(jq '.otherData.calls_written' "$TMP/c.json")" "${v}calls: calls written = functions' calls"
	# every X event is well formed and nests inside main
	jq -e '[.traceEvents[] | select(.ph == "X" and .cat != "off-cpu")] as $x
		| ($x | map(select(.name == "main"))[0]) as $m
		| all($x[]; (.ts | type) == "number" and .dur >= 0 and (.tid | type) == "number"
			and (.pid | type) == "number" and .ts >= $m.ts and .ts + .dur <= $m.ts + $m.dur + 0.002)' \
		"$TMP/c.json" >/dev/null || fail "${v}calls: X events malformed or outside main"
	# marks (when the sample sets them): instant events at the right place in the timeline
	if grep -q 'PERFSHIM_MARK("after-top")' "$TOP/samples/calls.c"; then
		assert_eq '["after-top","end"]' \
			"$(jq -c '[.traceEvents[] | select(.ph == "i") | .name]' "$TMP/c.json")" "${v}calls: marks"
		jq -e '(.traceEvents | map(select(.ph == "i" and .name == "after-top"))[0].ts) as $m
			| (.traceEvents | map(select(.ph == "X" and .name == "top"))[0]) as $t
			| (.traceEvents | map(select(.ph == "X" and .name == "other") | .ts) | min) as $o
			| $m >= $t.ts + $t.dur and $m <= $o' "$TMP/c.json" >/dev/null ||
			fail "${v}calls: mark after-top is not between top() and the first other()"
	fi
	# stdout without -o is the same document
	"$ANALYZE" chrome "$TMP/c" >"$TMP/c2.json" || fail "chrome to stdout exited $?"
	cmp -s "$TMP/c.json" "$TMP/c2.json" || fail "${v}calls: -o and stdout differ"
done

# 17 threads: one thread_name each, work() 16 x 1000 + 5 times, leaf() 3 per work()
prog="$S/threads-calls"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/t" "$prog"
assert_eq 0 "$(cat "$TMP/t.rc")" "threads-calls: exit status"
"$ANALYZE" chrome -o "$TMP/t.json" "$TMP/t" || fail "chrome exited $?"
assert_eq 17 "$(jq '[.traceEvents[] | select(.ph == "M" and .name == "thread_name")] | length' "$TMP/t.json")" \
	"threads-calls: thread_name events"
assert_eq 17 "$(jq '[.traceEvents[] | select(.ph == "X" and .cat != "off-cpu") | .tid] | unique | length' "$TMP/t.json")" \
	"threads-calls: threads with calls"
assert_eq 16005 "$(count_x "$TMP/t.json" work)" "threads-calls: X events of work"
assert_eq 48015 "$(count_x "$TMP/t.json" leaf)" "threads-calls: X events of leaf"

# --limit: the 100 longest calls (whole duration buckets, so at most 100), with a note
"$ANALYZE" chrome --limit 100 -o "$TMP/l.json" "$TMP/t" 2>"$TMP/l.err" || fail "chrome --limit exited $?"
n=$(jq '[.traceEvents[] | select(.ph == "X" and .cat != "off-cpu")] | length' "$TMP/l.json")
[ "$n" -le 100 ] && [ "$n" -gt 0 ] || fail "--limit 100 wrote $n calls"
assert_eq "$n" "$(jq .otherData.calls_written "$TMP/l.json")" "--limit: calls_written"
# main + 16 thread_main + 16005 work + 48015 leaf
grep -q "the $n longest of 64,037 calls" "$TMP/l.err" || { cat "$TMP/l.err"; fail "--limit: no note on stderr"; }
# the kept calls are exactly those of the full export at least min_duration_ns long
"$ANALYZE" chrome -o "$TMP/all.json" "$TMP/t" || fail "chrome exited $?"
assert_eq 64037 "$(jq '[.traceEvents[] | select(.ph == "X" and .cat != "off-cpu")] | length' "$TMP/all.json")" "all calls"
md=$(jq .otherData.min_duration_ns "$TMP/l.json")
assert_eq "$n" "$(jq --argjson md "$md" '[.traceEvents[] | select(.ph == "X" and .cat != "off-cpu" and (.dur * 1000 | round) >= $md)] | length' "$TMP/all.json")" \
	"--limit: kept = calls of at least $md ns"

# the heap counter of a malloc sample: a few points, ending at what leaked (7 x 1000 bytes)
prog="$S/leaky"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/k" "$prog"
"$ANALYZE" chrome -o "$TMP/k.json" "$TMP/k" || fail "chrome exited $?"
pts=$(jq '[.traceEvents[] | select(.ph == "C" and .name == "live heap")] | length' "$TMP/k.json")
[ "$pts" -ge 2 ] && [ "$pts" -le 4000 ] || fail "leaky: $pts counter points"
assert_eq "$(json memory "$TMP/k" | jq ".bytes_allocated - .bytes_freed")" \
	"$(jq '[.traceEvents[] | select(.ph == "C" and .name == "live heap")] | last | .args.bytes' "$TMP/k.json")" \
	"leaky: last live-heap point = bytes live at exit"
assert_eq "$(json memory "$TMP/k" | jq .peak_bytes)" \
	"$(jq '[.traceEvents[] | select(.ph == "C" and .name == "live heap") | .args.bytes] | max' "$TMP/k.json")" \
	"leaky: highest live-heap point = peak"

# a process and its forked child in one timeline: two pids, leaf() 4 times in the parent and
# 5 in the child (samples/fork.c), the child's events after the parent's start
prog="$S/fork"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
rm -f "$TMP"/f.*
PERFSHIM_OUTPUT="$TMP/f.%p.bin" LD_PRELOAD="$LIB" "$prog" >/dev/null 2>&1 || fail "fork failed"
set -- "$TMP"/f.*.bin
assert_eq 2 "$#" "fork: traces"
"$ANALYZE" chrome -o "$TMP/f.json" "$@" || fail "chrome of two traces exited $?"
assert_eq 2 "$(jq '[.traceEvents[] | select(.ph == "M" and .name == "process_name")] | length' "$TMP/f.json")" \
	"fork: process_name events"
hdr() { "$ANALYZE" dump "$1" | sed -n "1s/.* $2=\([0-9]*\).*/\1/p"; }
# the child is the trace whose ppid is the other's pid
if [ "$(hdr "$2" ppid)" = "$(hdr "$1" pid)" ]; then pf=$1 cf=$2; else pf=$2 cf=$1; fi
ppid=$(hdr "$pf" pid) cpid=$(hdr "$cf" pid)
assert_eq "$ppid" "$(hdr "$cf" ppid)" "fork: child's ppid"
leaf_of() { jq --argjson p "$1" '[.traceEvents[] | select(.ph == "X" and .name == "leaf" and .pid == $p)] | length' "$TMP/f.json"; }
assert_eq 4 "$(leaf_of "$ppid")" "fork: parent's leaf events"
assert_eq 5 "$(leaf_of "$cpid")" "fork: child's leaf events"
jq -e --argjson p "$ppid" --argjson c "$cpid" '
	([.traceEvents[] | select(.ph == "X" and .pid == $p) | .ts] | min) as $p0
	| ([.traceEvents[] | select(.ph == "X" and .pid == $c and .name != "main") | .ts] | min) > $p0' \
	"$TMP/f.json" >/dev/null || fail "fork: child events not after the parent's start"

# the RSS track: one point per sample the recorder wrote (few: one per chunk)
nrss=$("$ANALYZE" dump "$TMP/k" | grep -c ' rss bytes=')
assert_eq "$nrss" "$(jq '[.traceEvents[] | select(.ph == "C" and .name == "rss")] | length' "$TMP/k.json")" \
	"leaky: rss points = rss samples"
