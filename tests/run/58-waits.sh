#!/usr/bin/env bash
# Off-CPU time from context switches (samples/waiter.c): a sleep, a pipe read and a contended
# mutex are waits of the right function and stack, blocked, within 5% of what the program
# measured itself; a forked child records its own; three equal busy loops on 2 cores keep
# their CPU self time within 2% of each thread's own CPU clock while their wall-clock self
# time grows; chrome shows the waits as off-CPU slices; html, diff with several runs a side
# and flamegraph show CPU time (the sleeps left out) to the ns of `functions`, wall-clock
# with --wall, and every export says its clock. Where the kernel refuses
# perf_event_open (samples/noperf.c: a seccomp filter, as in a container) one line says so
# and every report says its times are wall-clock.
# serial: waits within 5%, CPU self within 2% of the program's clocks; three threads spin on 2 cores
. "$(dirname "$0")/lib.sh"
need_jq

# measured FILE NAME: the ns the program printed for NAME
measured() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
# within A B PCT: |A - B| <= PCT% of B
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }'; }
# html_data PAGE: the html page's JSON object
html_data() {
	sed -n 's|^<script type="application/json" id="perfshim-data">\(.*\)</script>$|\1|p' "$1"
}
# html_fn DATA NAME KEY: KEY of function NAME in the all-threads table of the html data
html_fn() {
	jq --arg n "$2" --arg k "$3" '.traces[0] as $t | $t.time.scopes[] | select(.thread == null)
		| .functions as $f | $f.rows[] | select($t.strings[$t.time.functions.rows[.[0]][0]] == $n)
		| .[$f.columns | index($k)]' "$1"
}
# html_tree DATA NAME KEY: KEY summed over the call-tree nodes of NAME in the html data
html_tree() {
	jq --arg n "$2" --arg k "$3" '.traces[0] as $t | $t.time.tree as $tr
		| [$tr.rows[] | select(.[1] != null and $t.strings[$t.time.functions.rows[.[1]][0]] == $n)
		| .[$tr.columns | index($k)]] | add' "$1"
}
# folded_sum FOLDED NAME: the values of the paths ending in NAME
folded_sum() { awk -v n="$2" '!/^#/ { v = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); if (f[k] == n) s += v } END { print s + 0 }' "$1"; }
# wait_of JSON STACK KEY: KEY of the waits row whose stack (innermost first) is STACK
wait_of() {
	jq --arg s "$2" --arg k "$3" '[.waits[] | select((.stack | join(";")) == $s) | .[$k]] | add // 0' "$1"
}

probe="$TMP/probe"
traced "$probe" "$S/waiter" fork
if grep -q "context switches cannot be recorded" "$probe.stderr"; then
	echo "note: this kernel refuses perf_event_open: only the refusal path is tested"
	refused=1
else
	refused=0
fi

if [ "$refused" = 0 ]; then
	for v in "" O2/; do
		echo "== build/samples/${v}waiter block"
		traced "$TMP/b" "$S/${v}waiter" block
		assert_eq 0 "$(cat "$TMP/b.rc")" "${v}block: exit status"
		assert_eq "" "$(cat "$TMP/b.stderr")" "${v}block: nothing on stderr"
		json waits --limit=0 "$TMP/b" >"$TMP/b.w"
		assert_eq true "$(jq .switches "$TMP/b.w")" "${v}block: the trace has switches"
		for row in "sleeper:pause_ms;sleeper;run_block;main" \
			   "pipe_reader:pipe_reader;run_block;main" \
			   "lock_waiter:lock_waiter;run_block;main"; do
			name=${row%%:*} stack=${row#*:}
			want=$(measured "$TMP/b.stdout" "$name")
			got=$(wait_of "$TMP/b.w" "$stack" wait_ns)
			vol=$(wait_of "$TMP/b.w" "$stack" voluntary_ns)
			within "$got" "$want" 5 || fail "${v}$name: waited $got ns at $stack, measured $want"
			within "$vol" "$got" 5 || fail "${v}$name: $vol of $got ns blocked (voluntary)"
			echo "ok: ${v}$name: $got ns off-CPU at $stack (measured $want), blocked"
		done
		# a worker still blocked at exit: cut by the final flush, its wait lasts to the end
		want=$(measured "$TMP/b.stdout" stuck_reader)
		got=$(wait_of "$TMP/b.w" "stuck_reader;stuck" wait_ns)
		within "$got" "$want" 5 || fail "${v}stuck_reader: waited $got ns, blocked for $want"
		echo "ok: ${v}stuck_reader: $got ns, still blocked at exit (measured $want)"
		# the other threads' waits: 80 ms and 60 ms sleeps, each under its own caller
		for row in 80:"pause_ms;writer_delay;writer" 60:"pause_ms;hold_lock;holder"; do
			ms=${row%%:*} stack=${row#*:}
			got=$(wait_of "$TMP/b.w" "$stack" wait_ns)
			[ "$got" -ge $((ms * 950000)) ] && [ "$got" -le $((ms * 2000000)) ] ||
				fail "${v}$stack: waited $got ns, slept $ms ms"
			echo "ok: ${v}$stack: $got ns"
		done
		# findings: the blocking rule on the trace's own waits, with the numbers of functions
		json findings "$TMP/b" >"$TMP/b.find"
		json functions "$TMP/b" >"$TMP/b.fn"
		for f in pause_ms pipe_reader stuck_reader; do
			assert_eq "$(jq -c --arg f "$f" '.functions[] | select(.name == $f) | .voluntary_ns' "$TMP/b.fn")" \
				"$(jq -c --arg f "$f" '.findings[] | select(.rule == "blocking" and .name == $f) | .evidence.voluntary_ns' "$TMP/b.find")" \
				"${v}findings: $f blocking, as much as functions says"
		done
		# functions: the waits are out of CPU self time, and say so
		json functions --limit=0 "$TMP/b" >"$TMP/b.f"
		assert_eq "$(jq '.functions | length' "$TMP/b.f")" \
			"$(jq '[.functions[] | select(has("cpu_self_ns") and has("wait_ns"))] | length' "$TMP/b.f")" \
			"${v}functions: every row has cpu_self_ns and wait_ns"
		f() { jq --arg n "$1" --arg k "$2" '.functions[] | select(.name == $n) | .[$k]' "$TMP/b.f"; }
		within "$(f pipe_reader wait_ns)" "$(measured "$TMP/b.stdout" pipe_reader)" 5 ||
			fail "${v}functions: pipe_reader wait_ns $(f pipe_reader wait_ns)"
		[ "$(f pause_ms cpu_self_ns)" -lt $(( $(f pause_ms self_ns) / 20 )) ] ||
			fail "${v}functions: pause_ms CPU self $(f pause_ms cpu_self_ns) of $(f pause_ms self_ns)"
		assert_eq "$(f pause_ms self_ns)" "$(( $(f pause_ms cpu_self_ns) + $(f pause_ms wait_ns) ))" \
			"${v}functions: pause_ms self = CPU self + wait"
		"$ANALYZE" functions "$TMP/b" >"$TMP/b.ft" || fail "functions exited $?"
		grep -q "CPU self" "$TMP/b.ft" || fail "${v}functions: no CPU self column"
		"$ANALYZE" functions --wall "$TMP/b" | grep -q "Wall self" ||
			fail "${v}functions --wall: not wall-clock"
		# callgraph: the same CPU self, per edge and per call-tree node, labelled as functions
		json callgraph --function=pause_ms "$TMP/b" >"$TMP/b.cg"
		assert_eq "$(f pause_ms cpu_self_ns)" "$(jq '.functions[0].cpu_self_ns' "$TMP/b.cg")" \
			"${v}callgraph --function: pause_ms CPU self as functions says"
		e() { jq --arg n "$1" --arg k "$2" '.functions[0].callers[] | select(.name == $n) | .[$k]' "$TMP/b.cg"; }
		within "$(e sleeper wait_ns)" "$(measured "$TMP/b.stdout" sleeper)" 5 ||
			fail "${v}callgraph: sleeper -> pause_ms wait_ns $(e sleeper wait_ns)"
		assert_eq "$(e sleeper self_ns)" "$(( $(e sleeper cpu_self_ns) + $(e sleeper wait_ns) ))" \
			"${v}callgraph: sleeper -> pause_ms self = CPU self + wait"
		[ "$(e sleeper cpu_self_ns)" -lt $(( $(e sleeper self_ns) / 20 )) ] ||
			fail "${v}callgraph: sleeper -> pause_ms CPU self $(e sleeper cpu_self_ns)"
		json callgraph "$TMP/b" >"$TMP/b.cgt"
		node=$(jq -c '. as $r | .nodes[] | select(.name == "pause_ms" and
			(.parent as $p | $r.nodes[] | select(.id == $p) | .name) == "sleeper")' "$TMP/b.cgt")
		within "$(jq .wait_ns <<<"$node")" "$(measured "$TMP/b.stdout" sleeper)" 5 ||
			fail "${v}callgraph tree: pause_ms under sleeper waited $(jq .wait_ns <<<"$node")"
		assert_eq "$(e sleeper cpu_self_ns)" "$(jq .cpu_self_ns <<<"$node")" \
			"${v}callgraph tree: the node's CPU self is its edge's (one caller)"
		"$ANALYZE" callgraph "$TMP/b" | head -1 | grep -q "CPU self" ||
			fail "${v}callgraph: no CPU self column"
		"$ANALYZE" callgraph --function=pause_ms "$TMP/b" | grep -q "^pause_ms .*, self [0-9.]* [mun]*s (CPU)" ||
			fail "${v}callgraph --function: not CPU self"
		"$ANALYZE" callgraph --wall "$TMP/b" | head -1 | grep -q "Wall self" ||
			fail "${v}callgraph --wall: not wall-clock"
		echo "ok: ${v}callgraph: CPU self per edge and node, wait of the sleep under sleeper"
		# diff BASE NEW: CPU self compared (both have switches), wall-clock self_ns kept
		json diff "$TMP/b" "$TMP/b" >"$TMP/b.df"
		d() { jq --arg k "$1" '.functions[] | select(.name == "pause_ms") | .[$k]' "$TMP/b.df"; }
		assert_eq "$(f pause_ms cpu_self_ns)" "$(d base_cpu_self_ns)" "${v}diff: pause_ms CPU self"
		assert_eq "$(f pause_ms self_ns)" "$(d base_self_ns)" "${v}diff: pause_ms wall self"
		"$ANALYZE" diff "$TMP/b" "$TMP/b" | grep -q "CPU self base" || fail "${v}diff: not CPU self"
		"$ANALYZE" diff --wall "$TMP/b" "$TMP/b" | grep -q "wall self base" ||
			fail "${v}diff --wall: not wall-clock"
		echo "ok: ${v}diff: CPU self of pause_ms as functions says"
		"$ANALYZE" waits "$TMP/b" >"$TMP/b.wt" || fail "waits exited $?"
		grep -q "pause_ms <- sleeper <- run_block <- main" "$TMP/b.wt" || fail "${v}waits text"
		# chrome: the sleep as an off-CPU slice on the main thread's track, inside sleeper()
		"$ANALYZE" chrome -o "$TMP/b.json" "$TMP/b" || fail "chrome exited $?"
		jq -e --argjson want "$(measured "$TMP/b.stdout" sleeper)" '
			(.traceEvents | map(select(.ph == "X" and .name == "sleeper"))[0]) as $s
			| [.traceEvents[] | select(.ph == "X" and .name == "off-CPU (blocked)"
				and .tid == $s.tid and .ts >= $s.ts and .ts + .dur <= $s.ts + $s.dur + 0.002
				and .dur * 1000 >= $want * 0.95)] | length == 1' "$TMP/b.json" >/dev/null ||
			fail "${v}chrome: no off-CPU slice of the sleep inside sleeper()"
		echo "ok: ${v}chrome: the sleep is an off-CPU slice inside sleeper()"
	done

	echo "== html, diff --base/--new, flamegraph, chrome, callgrind: CPU time, and which clock"
	# $TMP/b is the O2 run above; b2 a second run, for several runs a side
	traced "$TMP/b2" "$S/O2/waiter" block
	json functions --limit=0 "$TMP/b2" >"$TMP/b2.f"
	g() { jq --arg n "$1" --arg k "$2" '.functions[] | select(.name == $n) | .[$k]' "$TMP/b2.f"; }
	"$ANALYZE" html -o "$TMP/b.html" "$TMP/b" || fail "html exited $?"
	"$ANALYZE" html --wall -o "$TMP/bw.html" "$TMP/b" || fail "html --wall exited $?"
	html_data "$TMP/b.html" >"$TMP/b.hj"
	html_data "$TMP/bw.html" >"$TMP/bw.hj"
	assert_eq cpu "$(jq -r '.traces[0].time.clock' "$TMP/b.hj")" "html: the clock"
	assert_eq wall "$(jq -r '.traces[0].time.clock' "$TMP/bw.hj")" "html --wall: the clock"
	for k in self_ns cpu_self_ns wait_ns total_ns cpu_total_ns; do
		assert_eq "$(f pause_ms $k)" "$(html_fn "$TMP/b.hj" pause_ms $k)" "html: pause_ms $k as functions"
	done
	assert_eq "$(f pause_ms cpu_self_ns)" "$(html_tree "$TMP/b.hj" pause_ms cpu_self_ns)" \
		"html: pause_ms CPU self over its call paths (the flame graph's)"
	assert_eq "$(f pause_ms self_ns)" "$(html_tree "$TMP/b.hj" pause_ms self_ns)" \
		"html: pause_ms wall self over its call paths"
	[ "$(f pause_ms cpu_self_ns)" -lt $(( $(f pause_ms self_ns) / 20 )) ] ||
		fail "html: pause_ms CPU self $(f pause_ms cpu_self_ns) holds its sleeps"
	# the tree's CPU total of a path is the CPU self of its subtree: main's is every CPU self
	assert_eq "$(jq '[.functions[] | .cpu_self_ns] | add' "$TMP/b.f")" \
		"$(jq '.traces[0].time.tree as $tr | [$tr.roots[] | $tr.rows[.[1]][$tr.columns | index("cpu_total_ns")]] | add' "$TMP/b.hj")" \
		"html: the thread roots' CPU totals = every function's CPU self"
	# diff with two runs a side: medians of CPU self (self_ns keeps the wall-clock medians)
	# median2 A B: their median as diff writes it (an integer, else 6 significant digits)
	median2() { jq -n "$(awk -v a="$1" -v b="$2" 'BEGIN { m = (a + b) / 2; if (m == int(m)) printf "%d\n", m; else printf "%.6g\n", m }')"; }
	json diff --base="$TMP/b,$TMP/b2" --new="$TMP/b2,$TMP/b" >"$TMP/m.df" 2>/dev/null
	md() { jq -r --arg k "$1" '.functions[] | select(.name == "pause_ms") | .[$k]' "$TMP/m.df"; }
	assert_eq cpu "$(jq -r .clock "$TMP/m.df")" "diff --base/--new: the clock"
	assert_eq "$(median2 "$(f pause_ms cpu_self_ns)" "$(g pause_ms cpu_self_ns)")" \
		"$(jq -r '.functions[] | select(.name == "pause_ms") | .self.base' "$TMP/m.df")" \
		"diff --base/--new: pause_ms compared on the median CPU self"
	assert_eq "$(md base_cpu_self_ns)" "$(md new_cpu_self_ns)" "diff --base/--new: the same runs a side"
	assert_eq "$(median2 "$(f pause_ms self_ns)" "$(g pause_ms self_ns)")" "$(md base_self_ns)" \
		"diff --base/--new: base_self_ns the wall-clock median"
	json diff --wall --base="$TMP/b,$TMP/b2" --new="$TMP/b2,$TMP/b" >"$TMP/mw.df" 2>/dev/null
	assert_eq wall "$(jq -r .clock "$TMP/mw.df")" "diff --base/--new --wall: the clock"
	assert_eq "$(median2 "$(f pause_ms self_ns)" "$(g pause_ms self_ns)")" \
		"$(jq -r '.functions[] | select(.name == "pause_ms") | .self.base' "$TMP/mw.df")" \
		"diff --base/--new --wall: pause_ms compared on the median wall-clock self"
	"$ANALYZE" diff --base="$TMP/b,$TMP/b2" --new="$TMP/b2,$TMP/b" 2>/dev/null >"$TMP/m.dt"
	grep -q "CPU self base" "$TMP/m.dt" && grep -q "^Self times are CPU self" "$TMP/m.dt" ||
		fail "diff --base/--new: the text does not say CPU self"
	"$ANALYZE" diff --wall --base="$TMP/b,$TMP/b2" --new="$TMP/b2,$TMP/b" 2>/dev/null |
		grep -q "wall self base" || fail "diff --base/--new --wall: not wall-clock"
	# flamegraph: CPU self per path, wall-clock with --wall, a note line either way
	"$ANALYZE" flamegraph --folded "$TMP/b" >"$TMP/b.fold" || fail "flamegraph exited $?"
	"$ANALYZE" flamegraph --folded --wall "$TMP/b" >"$TMP/bw.fold" || fail "flamegraph --wall exited $?"
	assert_eq "$(f pause_ms cpu_self_ns)" "$(folded_sum "$TMP/b.fold" pause_ms)" "flamegraph: pause_ms CPU self"
	assert_eq "$(f pause_ms self_ns)" "$(folded_sum "$TMP/bw.fold" pause_ms)" "flamegraph --wall: pause_ms wall self"
	grep -q "^# times are CPU time" "$TMP/b.fold" || fail "flamegraph: no note of the clock"
	grep -q "^# times are wall-clock (--wall)" "$TMP/bw.fold" || fail "flamegraph --wall: no note of the clock"
	"$ANALYZE" flamegraph -o "$TMP/b.svg" "$TMP/b" || fail "flamegraph (svg) exited $?"
	grep -q "Flame graph: CPU time per call path" "$TMP/b.svg" || fail "flamegraph: the SVG's title"
	# the timeline and callgrind exports are wall-clock, and say so
	"$ANALYZE" chrome -o "$TMP/b.ch" "$TMP/b" || fail "chrome exited $?"
	assert_eq wall "$(jq -r .otherData.clock "$TMP/b.ch")" "chrome: the clock"
	"$ANALYZE" callgrind -o "$TMP/b.cg" "$TMP/b" || fail "callgrind exited $?"
	grep -q "^event: ns : Wall-clock time" "$TMP/b.cg" && grep -q "^desc: Note: times are wall-clock" "$TMP/b.cg" ||
		fail "callgrind: does not say wall-clock"
	echo "ok: html, diff, flamegraph show CPU time by default; chrome and callgrind say wall-clock"

	echo "== fork: the child opens its own"
	json waits "$probe" >"$probe.w"
	kid=$(ls "$probe".* | grep -E '\.[0-9]+$' | head -1)
	[ -n "$kid" ] || fail "fork: no child trace"
	json waits "$kid" >"$kid.w"
	within "$(wait_of "$kid.w" "pause_ms;child_sleep;run_fork;main" wait_ns)" \
		"$(measured "$probe.stdout" child_sleep)" 5 || fail "fork: child's wait"
	echo "ok: fork: child's sleep, with the calls it inherited"
	[ "$(wait_of "$probe.w" "parent_wait;run_fork;main" wait_ns)" -ge 47500000 ] ||
		fail "fork: parent's wait"
	echo "ok: fork: parent's wait for the child"

	echo "== three busy loops on 2 cores"
	taskset -c 0,1 true 2>/dev/null && pin="taskset -c 0,1" || pin=""
	$pin env PERFSHIM_OUTPUT="$TMP/s" LD_PRELOAD="$LIB" "$S/waiter" spin 100000000 >"$TMP/s.stdout" ||
		fail "spin exited $?"
	json functions --per-thread --limit=0 "$TMP/s" >"$TMP/s.f"
	sum_cpu=0 sum_wall=0 max_ratio=0
	while read -r _ tid cpu; do
		row=$(jq -c --argjson t "$tid" '.threads[] | select(.tid == $t) | .functions[]
			| select(.name == "spin")' "$TMP/s.f")
		c=$(jq .cpu_self_ns <<<"$row") w=$(jq .self_ns <<<"$row")
		within "$c" "$cpu" 2 || fail "spin thread $tid: CPU self $c ns, its CPU clock $cpu ns"
		echo "ok: thread $tid: CPU self $c ns, its own CPU clock $cpu ns, wall self $w ns"
		sum_cpu=$((sum_cpu + c)) sum_wall=$((sum_wall + w))
		[ $((w * 100 / c)) -le "$max_ratio" ] || max_ratio=$((w * 100 / c))
	done < <(grep '^spin ' "$TMP/s.stdout")
	[ "$sum_cpu" -gt 0 ] || fail "spin: no rows"
	# 3 runnable threads, 2 cores: some are preempted, so wall-clock self grows while CPU
	# self does not (a fair share gives 1.5x; one thread left alone still gives 1.33x)
	[ $((sum_wall * 100)) -ge $((sum_cpu * 115)) ] && [ "$max_ratio" -ge 125 ] ||
		fail "spin: wall self $sum_wall ns against CPU self $sum_cpu ns (most $max_ratio%): no preemption seen?"
	echo "ok: spin: wall-clock self $sum_wall ns, CPU self $sum_cpu ns; the most preempted thread $max_ratio%"
	inv=$(jq '[.threads[].functions[] | select(.name == "spin") | .involuntary_ns] | add' "$TMP/s.f")
	assert_eq "$((sum_wall - sum_cpu))" "$inv" "spin: the difference is preemption"
fi

echo "== refused: perf_event_open fails (seccomp, as in a container)"
"$B/samples/plain/noperf" env PERFSHIM_OUTPUT="$TMP/n" LD_PRELOAD="$LIB" "$S/waiter" block \
	>"$TMP/n.stdout" 2>"$TMP/n.stderr" || fail "noperf waiter exited $?"
assert_eq "perfshim: context switches cannot be recorded (perf_event_open: Permission denied); times are wall-clock" \
	"$(cat "$TMP/n.stderr")" "refused: one line on stderr"
assert_eq 4 "$(wc -l <"$TMP/n.stdout")" "refused: the program ran as usual"
json waits "$TMP/n" >"$TMP/n.w"
assert_eq "false 0" "$(jq -r '"\(.switches) \(.waits | length)"' "$TMP/n.w")" "refused: no waits"
json functions "$TMP/n" >"$TMP/n.f"
assert_eq 0 "$(jq '[.functions[] | select(has("cpu_self_ns"))] | length' "$TMP/n.f")" \
	"refused: no cpu_self_ns"
for cmd in summary functions waits callgraph memory; do
	"$ANALYZE" $cmd "$TMP/n" | grep -q "times are wall-clock: the kernel refused" ||
		fail "refused: $cmd does not say times are wall-clock"
done
jq -e '.warnings | any(test("times are wall-clock"))' "$TMP/n.f" >/dev/null ||
	fail "refused: JSON warnings do not say times are wall-clock"
"$ANALYZE" html -o "$TMP/n.html" "$TMP/n" || fail "refused: html exited $?"
html_data "$TMP/n.html" >"$TMP/n.hj"
assert_eq wall "$(jq -r '.traces[0].time.clock' "$TMP/n.hj")" "refused: html's clock"
jq -e '.traces[0].warnings | any(test("times are wall-clock: the kernel refused"))' "$TMP/n.hj" >/dev/null ||
	fail "refused: html does not say times are wall-clock"
assert_eq "$(jq '.functions[] | select(.name == "pause_ms") | .self_ns' "$TMP/n.f")" \
	"$(html_fn "$TMP/n.hj" pause_ms self_ns)" "refused: html's pause_ms self (wall-clock) as functions"
"$ANALYZE" flamegraph --folded "$TMP/n" | grep -q "^# warning: times are wall-clock: the kernel refused" ||
	fail "refused: flamegraph does not say times are wall-clock"
json diff --base="$TMP/n,$TMP/n" --new="$TMP/n,$TMP/n" >"$TMP/n.df" 2>/dev/null
assert_eq wall "$(jq -r .clock "$TMP/n.df")" "refused: diff --base/--new's clock"
"$ANALYZE" diff --base="$TMP/n,$TMP/n" --new="$TMP/n,$TMP/n" 2>/dev/null |
	grep -q "times are wall-clock: the kernel refused" || fail "refused: diff --base/--new does not say wall-clock"
"$ANALYZE" chrome -o "$TMP/n.ch" "$TMP/n" || fail "refused: chrome exited $?"
jq -e '.otherData.warnings | any(test("times are wall-clock"))' "$TMP/n.ch" >/dev/null ||
	fail "refused: chrome does not say times are wall-clock"
echo "ok: refused: every report says times are wall-clock"
"$B/samples/plain/noperf" env PERFSHIM_QUIET=1 PERFSHIM_OUTPUT="$TMP/q" LD_PRELOAD="$LIB" \
	"$S/waiter" block >/dev/null 2>"$TMP/q.stderr" || fail "quiet noperf exited $?"
assert_eq "" "$(cat "$TMP/q.stderr")" "refused, PERFSHIM_QUIET=1: nothing on stderr"
