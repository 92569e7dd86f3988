#!/usr/bin/env bash
# callgrind: the profile perfshim-analyze writes is read by valgrind's callgrind_annotate, and
# what it prints is exactly perfshim's own numbers: per function the self time (exclusive)
# and the inclusive total of `functions` (recursion counted once), per call edge the calls of
# `callgraph --function`, and the allocations and bytes of `memory` as the second and third
# events, for calls, fib (recursion) and leaky, instrumented (-O0, -O2) and plain; each
# function in its object (ob=, the module's path).
. "$(dirname "$0")/lib.sh"
need_jq
command -v callgrind_annotate >/dev/null ||
	fail "callgrind_annotate is missing (misc/install-deps.sh installs valgrind)"

# table FILE [OPTIONS]: "function ns allocs bytes" per function, from callgrind_annotate's
# function table (percentages, thousands separators and the [object] taken out), by name
table() {
	local file=$1; shift
	(cd "$TMP" && callgrind_annotate --auto=no --threshold=100 "$@" "$file") >"$TMP/ann" ||
		fail "callgrind_annotate $* $file exited $?"
	awk 'f && NF { print } /file:function/ { f = 1 }' "$TMP/ann" | grep -v '^-*$' |
		sed 's/( *[0-9.]*%)//g; s/,//g' |
		awk '{ n = $4; for (i = 5; i <= NF; i++) n = n " " $i; sub(/^[^:]*:/, "", n)
		       sub(/ \[[^]]*\]$/, "", n); print n, $1, $2, $3 }' |
		LC_ALL=C sort
}
# callers FILE: "callee caller calls" per call edge, from --tree=caller
# ("< file:caller (Nx) [object]" lines above "*  file:callee [object]")
callers() {
	(cd "$TMP" && callgrind_annotate --auto=no --threshold=100 --tree=caller "$1") >"$TMP/tree" ||
		fail "callgrind_annotate --tree=caller exited $?"
	sed 's/( *[0-9.]*%)//g; s/,//g' "$TMP/tree" | awk '
		/ < / { sub(/.* < [^:]*:/, ""); c = $0; sub(/ \([0-9]+x\).*/, "", c);
			n = $0; sub(/.*\(/, "", n); sub(/x\).*/, "", n); l[++k] = c " " n; next }
		/ \* / { sub(/.* \*  [^:]*:/, ""); sub(/ \[[^]]*\]$/, ""); for (i = 1; i <= k; i++) print $0, l[i]; k = 0; next }
		{ k = 0 }' | LC_ALL=C sort
}

for v in "" O2/; do
	for p in calls fib; do
		prog="$S/${v}$p"
		[ -x "$prog" ] || fail "$prog is missing (make samples)"
		traced "$TMP/t" "$prog" 12
		assert_eq 0 "$(cat "$TMP/t.rc")" "${v}$p: exit status"
		(cd "$TMP" && "$ANALYZE" callgrind t 2>"$TMP/an.err") || fail "callgrind exited $?"
		grep -q "wrote callgrind.out.perfshim" "$TMP/an.err" || fail "${v}$p: stderr $(cat "$TMP/an.err")"
		json functions "$TMP/t" >"$TMP/f.json"
		table callgrind.out.perfshim >"$TMP/self"
		table callgrind.out.perfshim --inclusive=yes >"$TMP/incl"
		assert_eq "$(jq -r '.functions[] | "\(.name) \(.self_ns)"' "$TMP/f.json" | LC_ALL=C sort)" \
			"$(grep -v '^\[root\]' "$TMP/self" | cut -d' ' -f1,2)" "${v}$p: exclusive ns = functions' self_ns"
		assert_eq "$(jq -r '.functions[] | "\(.name) \(.total_ns)"' "$TMP/f.json" | LC_ALL=C sort)" \
			"$(grep -v '^\[root\]' "$TMP/incl" | cut -d' ' -f1,2)" "${v}$p: inclusive ns = functions' total_ns"
		# calls per edge: callgraph --function's callers of each function (<root> is [root])
		for f in $(jq -r '.functions[].name' "$TMP/f.json"); do
			json callgraph --function="$f" "$TMP/t" |
				jq -r --arg f "$f" '.functions[0].callers[] |
					"\($f) \(if .name == "<root>" then "[root]" else .name end) \(.calls)"'
		done | LC_ALL=C sort >"$TMP/edges"
		assert_eq "$(cat "$TMP/edges")" "$(callers "$TMP/callgrind.out.perfshim")" \
			"${v}$p: calls per edge = callgraph's"
	done
	grep -q "^$TOP/samples/$p.c:main \[$prog\]\$" <(sed 's/([0-9. ]*%)//g; s/,//g' "$TMP/ann" | awk '{ print $4, $5 }') ||
		{ cat "$TMP/ann"; fail "${v}$p: main is not in its object $prog"; }
	# fib(12): 465 calls, main -> fib once, fib -> fib 464 times
	assert_eq "fib fib 464" "$(callers "$TMP/callgrind.out.perfshim" | grep '^fib fib ')" "${v}fib: recursive edge"
done

# leaky: allocations and bytes per function (the second and third events) = memory's sites
for v in "" O2/ plain/; do
	traced "$TMP/k" "$S/${v}leaky"
	"$ANALYZE" callgrind -o "$TMP/k.cg" "$TMP/k" 2>"$TMP/an.err" || fail "callgrind -o exited $?"
	assert_eq "" "$(cat "$TMP/an.err")" "${v}leaky: nothing on stderr with -o"
	json memory "$TMP/k" >"$TMP/m.json"
	table k.cg >"$TMP/self"
	for f in leak_here work temporaries; do
		assert_eq "$(jq -r --arg f $f '.sites[] | select(.stack[0] == $f) | "\(.allocations) \(.bytes)"' "$TMP/m.json")" \
			"$(awk -v f=$f '$1 == f { print $3, $4 }' "$TMP/self")" "${v}leaky: $f allocs bytes"
	done
	assert_eq "$(jq -r '"\(.allocations) \(.bytes_allocated)"' "$TMP/m.json")" \
		"$(sed 's/( *[0-9.]*%)//g; s/,//g' "$TMP/ann" | awk '/PROGRAM TOTALS/ { print $2, $3 }')" \
		"${v}leaky: program totals = memory's allocations and bytes"
	if [ "$v" != plain/ ]; then
		table k.cg --inclusive=yes >"$TMP/incl"
		assert_eq "$(jq -r '"\(.allocations) \(.bytes_allocated)"' "$TMP/m.json")" \
			"$(awk '$1 == "main" { print $3, $4 }' "$TMP/incl")" "${v}leaky: main's inclusive allocs bytes"
	else
		grep -q '^desc: Note: no function calls recorded' "$TMP/k.cg" || fail "plain/leaky: no note on the missing calls"
	fi
done
"$ANALYZE" callgrind --help | grep -q '^usage: perfshim-analyze callgrind ' || fail "callgrind --help"
echo "75-export-callgrind: ok"
