#!/usr/bin/env bash
# flamegraph: folded stacks of samples with known calls and allocations agree with the other
# reports exactly (time: the sum per function of folded self time = the functions report's
# self time, CPU self where the trace has context switches; alloc-bytes/alloc-count = memory's totals; leaked = leaks' total), the call paths
# are the known ones, the SVG is well-formed XML with C++ names escaped, and stacks cut at
# PERFSHIM_STACK_DEPTH hang below a "[truncated]" frame.
. "$(dirname "$0")/lib.sh"
need_jq
command -v xmllint >/dev/null || fail "xmllint is missing (libxml2-utils)"

# self_by_func FOLDED: "name|sum of self" per innermost frame, sorted (notes: # lines)
self_by_func() {
	awk '/^#/ { next } { v = $NF; sub(/ [0-9]+$/, ""); n = split($0, f, ";"); s[f[n]] += v }
	     END { for (k in s) print k "|" s[k] }' "$1" | LC_ALL=C sort
}
folded_total() { awk '/^#/ { next } { s += $NF } END { print s + 0 }' "$1"; }
folded_paths() { grep -v '^#' "$1" | sed 's/ [0-9]*$//'; }
# the functions report's self and total as the time metric has them: CPU time where the
# trace has context switches (flamegraph without --wall), else wall-clock
SELF='(.cpu_self_ns // .self_ns)' TOTAL='(.cpu_total_ns // .total_ns)'

for v in "" O2/; do
	prog="$S/${v}calls"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/c" "$prog"
	"$ANALYZE" flamegraph --folded -o "$TMP/c.folded" "$TMP/c" || fail "flamegraph exited $?"
	assert_eq 'main
main;other
main;top
main;top;middle
main;top;middle;leaf' "$(folded_paths "$TMP/c.folded")" "${v}calls: folded call paths"
	json functions "$TMP/c" >"$TMP/c.json"
	assert_eq "$(jq "[.functions[] | $SELF] | add" "$TMP/c.json")" "$(folded_total "$TMP/c.folded")" \
		"${v}calls: folded total = functions' self time"
	assert_eq "$(jq -r ".functions[] | \"\\(.name)|\\($SELF)\"" "$TMP/c.json" | LC_ALL=C sort)" \
		"$(self_by_func "$TMP/c.folded")" "${v}calls: self time per function"
	# main's total time is everything (one thread, main is the root)
	assert_eq "$(jq ".functions[] | select(.name == \"main\") | $TOTAL" "$TMP/c.json")" \
		"$(folded_total "$TMP/c.folded")" "${v}calls: folded total = main's total"
done

# C++ names: demangled in folded output, escaped in the SVG, totals as the functions report
prog="$S/cxxnames"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/x" "$prog"
"$ANALYZE" flamegraph --folded "$TMP/x" >"$TMP/x.folded" || fail "flamegraph exited $?"
# the call tree has the demangled paths (calls are exact) ...
json callgraph "$TMP/x" >"$TMP/x.cg.json"
cg_paths=$(jq -r -f "$(dirname "$0")/cg-folded.jq" "$TMP/x.cg.json")
grep -q '^main;int ns::twice<int>(int) ' <<<"$cg_paths" || fail "no twice<int> path in the call tree"
grep -q '^main;ns::Widget::make();ns::Widget::Widget(int) ' <<<"$cg_paths" || fail "no make -> Widget path in the call tree"
# ... and the folded output is that tree exactly, demangled: one line per path with self time.
# A path of no time is left out, as flamegraph.pl expects: the TSC here moves in 10 ns steps, and
# a one-call leaf (make's Widget(int)) sometimes begins and ends in the same step.
assert_eq "$(grep -v '^#' "$TMP/x.folded" | LC_ALL=C sort)" \
	"$(jq -r -f "$(dirname "$0")/cg-folded.jq" --argjson min 1 "$TMP/x.cg.json" | LC_ALL=C sort)" \
	"cxxnames: folded lines = the call tree's paths with self time"
assert_eq "$(json functions "$TMP/x" | jq "[.functions[] | $SELF] | add")" "$(folded_total "$TMP/x.folded")" \
	"cxxnames: folded total = functions' self time"
"$ANALYZE" flamegraph -o "$TMP/x.svg" "$TMP/x" || fail "flamegraph (svg) exited $?"
xmllint --noout "$TMP/x.svg" || fail "cxxnames: the SVG is not well-formed XML"
grep -q '<title>int ns::twice&lt;int&gt;(int)' "$TMP/x.svg" || fail "cxxnames: escaped name missing in the SVG"
grep -q 'twice<int>' "$TMP/x.svg" && fail "cxxnames: unescaped name in the SVG"
# one frame per call path (every prefix of a folded path) plus the root, less those under 0.1 px
nodes=$(folded_paths "$TMP/x.folded" | awk -F';' '{ p = ""; for (i = 1; i <= NF; i++) { p = p ";" $i; print p } }' | sort -u | wc -l)
frames=$(grep -c '<g class="f"' "$TMP/x.svg")
omitted=$(sed -n 's/.*>\([0-9]*\) frames narrower than.*/\1/p' "$TMP/x.svg")
assert_eq "$((nodes + 1))" "$((frames + ${omitted:-0}))" "cxxnames: SVG frames (drawn + omitted) = call paths + root"
grep -q 'src=\|href=' "$TMP/x.svg" && fail "the SVG refers to something outside it"

# threads: one root per thread with --per-thread; the same total either way
prog="$S/threads-calls"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
traced "$TMP/t" "$prog"
"$ANALYZE" flamegraph --folded "$TMP/t" >"$TMP/t.folded" || fail "flamegraph exited $?"
"$ANALYZE" flamegraph --folded --per-thread "$TMP/t" >"$TMP/tp.folded" || fail "flamegraph --per-thread exited $?"
assert_eq 17 "$(cut -d';' -f1 "$TMP/tp.folded" | sort -u | grep -c '^\[thread ')" "threads-calls: thread roots"
assert_eq "$(folded_total "$TMP/t.folded")" "$(folded_total "$TMP/tp.folded")" "threads-calls: per-thread total"
assert_eq "$(json functions "$TMP/t" | jq "[.functions[] | $SELF] | add")" "$(folded_total "$TMP/t.folded")" \
	"threads-calls: folded total = functions' self time"

# allocations and leaks of samples/leaky.c (7 x 1000 bytes leaked from leak_here)
for v in "" plain/; do
	prog="$S/${v}leaky"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/k" "$prog"
	json memory "$TMP/k" >"$TMP/k.mem"
	"$ANALYZE" flamegraph --folded --metric=alloc-bytes "$TMP/k" >"$TMP/k.ab" || fail "alloc-bytes exited $?"
	"$ANALYZE" flamegraph --folded --metric=alloc-count "$TMP/k" >"$TMP/k.ac" || fail "alloc-count exited $?"
	"$ANALYZE" flamegraph --folded --metric=leaked "$TMP/k" >"$TMP/k.lk" || fail "leaked exited $?"
	assert_eq "$(jq .bytes_allocated "$TMP/k.mem")" "$(folded_total "$TMP/k.ab")" "${v}leaky: alloc-bytes total"
	assert_eq "$(jq .allocations "$TMP/k.mem")" "$(folded_total "$TMP/k.ac")" "${v}leaky: alloc-count total"
	assert_eq "$(json leaks "$TMP/k" | jq .leaked_bytes)" "$(folded_total "$TMP/k.lk")" "${v}leaky: leaked total"
	assert_eq "leak_here|7000" "$(self_by_func "$TMP/k.lk")" "${v}leaky: leaked by function"
	grep -q '^\(.*;\)\?main;leak_here 7000$' "$TMP/k.lk" || fail "${v}leaky: leak path is not main;leak_here"
	"$ANALYZE" flamegraph --metric=leaked -o "$TMP/k.svg" "$TMP/k" || fail "leaked svg exited $?"
	xmllint --noout "$TMP/k.svg" || fail "${v}leaky: the SVG is not well-formed XML"
done

# bad metric: one line, non-zero exit
"$ANALYZE" flamegraph --metric=cycles "$TMP/k" >/dev/null 2>"$TMP/bad.err" && fail "--metric=cycles succeeded"
assert_eq 1 "$(wc -l <"$TMP/bad.err")" "bad metric: one line on stderr"

# stacks cut at PERFSHIM_STACK_DEPTH=4 (the interpreter allocates deep in its recursion):
# they hang below a "[truncated]" root instead of standing beside main as roots of their
# own, and every report that shows stacks marks them
for v in "" plain/; do
	PERFSHIM_STACK_DEPTH=4 traced "$TMP/d" "$S/${v}interp" "$TOP/samples/interp/demo.toy"
	assert_eq 0 "$(cat "$TMP/d.rc")" "${v}interp exit status"
	"$ANALYZE" flamegraph --folded --metric=alloc-bytes "$TMP/d" >"$TMP/d.ab" || fail "alloc-bytes exited $?"
	roots=$(cut -d';' -f1 "$TMP/d.ab" | sort -u | tr '\n' ' ')
	case $v in
	"") assert_eq "[truncated] main " "$roots" "interp, depth 4: flame graph roots" ;;
	*) assert_eq "[truncated] " "$roots" "plain/interp, depth 4: flame graph roots" ;;
	esac
	json memory --limit=0 "$TMP/d" >"$TMP/d.mem"
	assert_eq "$(jq .bytes_allocated "$TMP/d.mem")" "$(folded_total "$TMP/d.ab")" "${v}interp, depth 4: alloc-bytes total"
	# every site whose stack is cut says so; the others have fewer than 4 frames
	assert_eq 0 "$(jq '[.sites[] | select(.truncated == false and (.stack | length) >= 4)] | length' "$TMP/d.mem")" \
		"${v}interp, depth 4: 4-frame sites not marked"
	[ "$(jq '[.sites[] | select(.truncated)] | length' "$TMP/d.mem")" -gt 0 ] || fail "${v}interp: no truncated site"
	"$ANALYZE" leaks "$TMP/d" >"$TMP/d.leaks"
	grep -q ' < \[truncated\]$' "$TMP/d.leaks" || fail "${v}interp, depth 4: leaks rows not marked"
	grep -qx '\[truncated\]: the stack reached PERFSHIM_STACK_DEPTH; its outer frames were not recorded.' "$TMP/d.leaks" ||
		fail "${v}interp, depth 4: no legend"
	"$ANALYZE" flamegraph --metric=alloc-bytes -o "$TMP/d.svg" "$TMP/d" || fail "svg exited $?"
	grep -q '<title>\[truncated\]' "$TMP/d.svg" || fail "${v}interp, depth 4: no [truncated] frame in the SVG"
done
