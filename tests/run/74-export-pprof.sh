#!/usr/bin/env bash
# pprof: the profile perfshim-analyze writes is read by the real consumer, `go tool pprof`
# (Debian's golang-go), and its -top tables give exactly perfshim's own numbers: calls and
# self/inclusive time per function (`functions`), bytes and allocations per allocating
# function and what is still live (`memory`), for the call samples calls and fib (recursion)
# and the malloc sample leaky, instrumented (-O0, -O2) and plain (libunwind stacks); the cpu
# type (on-CPU self time) of samples/waiter, and none without context switches. -raw
# shows the mappings with the build-ids of the binaries and locations with file:line.
. "$(dirname "$0")/lib.sh"
need_jq
command -v go >/dev/null || fail "go is missing (misc/install-deps.sh installs golang-go)"

# go tool pprof offline: its caches and temporary files in $TMP, no network, no toolchain fetch
export HOME="$TMP" GOCACHE="$TMP/gocache" GOPATH="$TMP/go" GOFLAGS= GOTOOLCHAIN=local \
	GOPROXY=off PPROF_TMPDIR="$TMP/pprof" PPROF_BINARY_PATH=/nonexistent
gopprof() { go tool pprof "$@" 2>"$TMP/pprof.err" || { cat "$TMP/pprof.err" >&2; fail "go tool pprof $* exited $?"; }; }

# top FILE INDEX UNIT: "name flat cum" per function, sorted by name, values as plain integers
top() {
	gopprof -top -nodecount=1000 -nodefraction=0 -edgefraction=0 -sample_index="$2" -unit="$3" "$1" |
		awk 'f && NF >= 6 { n = $6; for (i = 7; i <= NF; i++) n = n " " $i; print n, $1, $4 }
		     $1 == "flat" { f = 1 }' | sed 's/\([0-9]\)\(ns\|B\)\b/\1/g' | LC_ALL=C sort
}

for v in "" O2/; do
	for p in calls fib; do
		prog="$S/${v}$p"
		[ -x "$prog" ] || fail "$prog is missing (make samples)"
		traced "$TMP/t" "$prog" 12
		assert_eq 0 "$(cat "$TMP/t.rc")" "${v}$p: exit status"
		(cd "$TMP" && "$ANALYZE" pprof t 2>"$TMP/an.err") || fail "pprof exited $?"
		grep -q "wrote perfshim.pb.gz" "$TMP/an.err" || fail "${v}$p: stderr $(cat "$TMP/an.err")"
		[ -s "$TMP/perfshim.pb.gz" ] || fail "${v}$p: no perfshim.pb.gz"
		gzip -t "$TMP/perfshim.pb.gz" || fail "${v}$p: not gzip"
		json functions "$TMP/t" >"$TMP/f.json"
		# calls: flat = calls of the function (its own samples); wall: flat = self, cum = total
		assert_eq "$(jq -r '.functions[] | "\(.name) \(.calls)"' "$TMP/f.json" | LC_ALL=C sort)" \
			"$(top "$TMP/perfshim.pb.gz" calls count | cut -d' ' -f1,2)" "${v}$p: pprof calls = functions' calls"
		assert_eq "$(jq -r '.functions[] | "\(.name) \(.self_ns) \(.total_ns)"' "$TMP/f.json" | LC_ALL=C sort)" \
			"$(top "$TMP/perfshim.pb.gz" wall ns)" "${v}$p: pprof wall flat/cum = functions' self/total ns"
		# the default sample type is wall (time) for a trace with calls
		gopprof -top "$TMP/perfshim.pb.gz" | grep -qx 'Type: wall' || fail "${v}$p: default type"
	done
	# fib(12): 2 * fib(13) - 1 = 465 calls, recursion counted once in cum
	assert_eq 465 "$(top "$TMP/perfshim.pb.gz" calls count | awk '$1 == "fib" { print $2 }')" "${v}fib: calls of fib"
done

# waiter block (samples/waiter.c): 240 ms of sleeps, a pipe read and a mutex off-CPU. With
# context switches the profile has a cpu type whose flat/cum are functions' cpu_self_ns and
# cpu_total_ns, far from wall; where perf_event_open is refused (samples/noperf.c) there is
# no cpu type and the comments say the times are wall-clock
traced "$TMP/probe" "$S/waiter" block
if grep -q "context switches cannot be recorded" "$TMP/probe.stderr"; then
	echo "note: this kernel refuses perf_event_open: only the wall-clock profile is tested"
	waiters=""
else
	waiters=". O2/"
fi
for v in $waiters; do
	v=${v#.}
	traced "$TMP/w" "$S/${v}waiter" block
	assert_eq 0 "$(cat "$TMP/w.rc")" "${v}waiter: exit status"
	"$ANALYZE" pprof -o "$TMP/w.pb.gz" "$TMP/w" || fail "pprof exited $?"
	json functions --limit=0 "$TMP/w" >"$TMP/f.json"
	assert_eq "$(jq -r '.functions[] | "\(.name) \(.cpu_self_ns) \(.cpu_total_ns)"' "$TMP/f.json" | LC_ALL=C sort)" \
		"$(top "$TMP/w.pb.gz" cpu ns)" "${v}waiter: pprof cpu flat/cum = functions' cpu_self_ns/cpu_total_ns"
	assert_eq "$(jq -r '.functions[] | "\(.name) \(.self_ns) \(.total_ns)"' "$TMP/f.json" | LC_ALL=C sort)" \
		"$(top "$TMP/w.pb.gz" wall ns)" "${v}waiter: pprof wall flat/cum = functions' self/total ns"
	# the three sleeps of pause_ms: 240 ms wall, almost none of it on a CPU
	cpu=$(top "$TMP/w.pb.gz" cpu ns | awk '$1 == "pause_ms" { print $2 }')
	wall=$(top "$TMP/w.pb.gz" wall ns | awk '$1 == "pause_ms" { print $2 }')
	[ "$wall" -ge 228000000 ] && [ "$cpu" -lt $((wall / 20)) ] ||
		fail "${v}waiter: pause_ms cpu $cpu ns, wall $wall ns"
	echo "ok: ${v}waiter: pause_ms cpu $cpu ns of $wall ns wall"
	gopprof -top "$TMP/w.pb.gz" | grep -qx 'Type: wall' || fail "${v}waiter: default type"
	assert_eq "" "$(gopprof -comments "$TMP/w.pb.gz")" "${v}waiter: no comments (a complete trace)"
done
"$B/samples/plain/noperf" env PERFSHIM_OUTPUT="$TMP/n" LD_PRELOAD="$LIB" "$S/waiter" block \
	>"$TMP/n.stdout" 2>"$TMP/n.stderr" || fail "noperf waiter exited $?"
"$ANALYZE" pprof -o "$TMP/n.pb.gz" "$TMP/n" 2>/dev/null || fail "pprof exited $?"
go tool pprof -sample_index=cpu -top "$TMP/n.pb.gz" >/dev/null 2>&1 && fail "refused: the profile has a cpu type"
go tool pprof -sample_index=cpu -top "$TMP/n.pb.gz" 2>&1 | grep -q 'sample_index "cpu" must be one of: \[calls wall alloc_objects alloc_space inuse_objects inuse_space\]' ||
	fail "refused: sample types: $(go tool pprof -sample_index=cpu -top "$TMP/n.pb.gz" 2>&1)"
echo "ok: refused: no cpu sample type"
gopprof -comments "$TMP/n.pb.gz" | grep -q "^warning: times are wall-clock: the kernel refused context-switch records" ||
	fail "refused: the comments do not say times are wall-clock: $(gopprof -comments "$TMP/n.pb.gz")"
echo "ok: refused: the comments say times are wall-clock"
# a trace written before context switches were recorded (tests/data): the same, said once
"$ANALYZE" pprof -o "$TMP/e.pb.gz" "$TOP/tests/data/escapes.bin" 2>/dev/null || fail "pprof of escapes.bin exited $?"
assert_eq 1 "$(gopprof -comments "$TMP/e.pb.gz" | grep -c '^times are wall-clock: the trace holds no context switches, so there is no cpu sample type$')" \
	"no switches: the comment on wall-clock times"

# 17 threads: each thread's call samples carry its tid label; the sums stay functions'
prog="$S/threads-calls"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/h" "$prog"
assert_eq 0 "$(cat "$TMP/h.rc")" "threads-calls: exit status"
"$ANALYZE" pprof -o "$TMP/h.pb.gz" "$TMP/h" || fail "pprof exited $?"
json functions "$TMP/h" >"$TMP/f.json"
assert_eq "$(jq -r '.functions[] | "\(.name) \(.calls)"' "$TMP/f.json" | LC_ALL=C sort)" \
	"$(top "$TMP/h.pb.gz" calls count | cut -d' ' -f1,2)" "threads-calls: pprof calls = functions' calls"
gopprof -tags -sample_index=calls "$TMP/h.pb.gz" >"$TMP/tags"
assert_eq 17 "$(sed -n '/^ tid: /,/^$/p' "$TMP/tags" | grep -c '): [0-9][0-9]*$')" "threads-calls: tid labels"
# each worker thread: thread_main, 1000 work, 3000 leaf: 4001 calls (the main thread 21)
assert_eq 16 "$(sed -n '/^ tid: /,/^$/p' "$TMP/tags" | grep -c '^ *4001.0 ')" "threads-calls: calls per worker tid"

# leaky: 7 x 1000 B leaked from leak_here, 15 allocations of 7977 B in all (samples/leaky.c)
for v in "" O2/ plain/; do
	prog="$S/${v}leaky"
	traced "$TMP/k" "$prog"
	assert_eq 0 "$(cat "$TMP/k.rc")" "${v}leaky: exit status"
	"$ANALYZE" pprof -o "$TMP/k.pb.gz" "$TMP/k" 2>"$TMP/an.err" || fail "pprof -o exited $?"
	assert_eq "" "$(cat "$TMP/an.err")" "${v}leaky: nothing on stderr with -o"
	json memory "$TMP/k" >"$TMP/m.json"
	top "$TMP/k.pb.gz" alloc_space B >"$TMP/as"
	top "$TMP/k.pb.gz" alloc_objects count >"$TMP/ao"
	top "$TMP/k.pb.gz" inuse_space B >"$TMP/is"
	top "$TMP/k.pb.gz" inuse_objects count >"$TMP/io"
	# per allocating function (a site's innermost frame): flat = memory's site figures
	for f in leak_here work temporaries; do
		assert_eq "$(jq -r --arg f $f '.sites[] | select(.stack[0] == $f) | "\(.bytes) \(.allocations)"' "$TMP/m.json")" \
			"$(awk -v f=$f '$1 == f { print $2 }' "$TMP/as") $(awk -v f=$f '$1 == f { print $2 }' "$TMP/ao")" \
			"${v}leaky: $f alloc_space alloc_objects"
	done
	assert_eq "7000 7" "$(awk '$1 == "leak_here" { print $2 }' "$TMP/is") $(awk '$1 == "leak_here" { print $2 }' "$TMP/io")" \
		"${v}leaky: leak_here inuse_space inuse_objects"
	assert_eq "$(jq -r '"\(.bytes_allocated) \(.allocations) \(.leaked_bytes) \(.leaked_blocks)"' "$TMP/m.json")" \
		"$(awk '$1 == "main" { print $3 }' "$TMP/as") $(awk '$1 == "main" { print $3 }' "$TMP/ao") $(awk '$1 == "main" { print $3 }' "$TMP/is") $(awk '$1 == "main" { print $3 }' "$TMP/io")" \
		"${v}leaky: main's cum = memory's totals (7977 B in 15, 7000 B in 7 live)"
	# -raw: the program's mapping first, with its build-id; leak_here at a line of leaky.c
	gopprof -raw "$TMP/k.pb.gz" >"$TMP/raw"
	id=$(readelf -n "$prog" | awk '/Build ID/ { print $3 }')
	[ -n "$id" ] || fail "${v}leaky: no build-id in $prog"
	grep -qE "^1: 0x[0-9a-f]+/0x[0-9a-f]+/0x0 $prog $id \[FN\]\[FL\]\[LN\]" "$TMP/raw" ||
		{ sed -n '/^Mappings/,$p' "$TMP/raw"; fail "${v}leaky: mapping 1 is not $prog with build-id $id"; }
	grep -qE "^ +[0-9]+: 0x[0-9a-f]+ M=1 leak_here .*samples/leaky.c:[0-9]+ s=" "$TMP/raw" ||
		{ sed -n '/^Locations/,/^Mappings/p' "$TMP/raw"; fail "${v}leaky: no leak_here location with file:line"; }
done
# a trace without calls (plain build) shows the bytes allocated by default
gopprof -top "$TMP/k.pb.gz" | grep -qx 'Type: alloc_space' || fail "plain/leaky: default type"
gopprof -comments "$TMP/k.pb.gz" >"$TMP/c"
grep -q "no function calls recorded" "$TMP/c" || fail "plain/leaky: no comment on the missing calls: $(cat "$TMP/c")"

# -o - is stdout; usage: one trace at a time
"$ANALYZE" pprof -o - "$TMP/k" | gzip -t || fail "pprof -o - is not gzip"
"$ANALYZE" pprof "$TMP/k" "$TMP/k" 2>"$TMP/err" && fail "pprof of two traces exited 0"
assert_eq 2 "$("$ANALYZE" pprof "$TMP/k" "$TMP/k" 2>/dev/null; echo $?)" "pprof of two traces: exit status"
"$ANALYZE" pprof --help | grep -q '^usage: perfshim-analyze pprof ' || fail "pprof --help"
echo "74-export-pprof: ok"
