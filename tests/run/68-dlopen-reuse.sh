#!/usr/bin/env bash
# A library loaded where another was dlclosed is that library from its load on, in every
# report: samples/dlswap.c loads libswap_f.so and libswap_g.so in turn 1000 times (the test
# checks that they map at the same address), samples/dlabc.c does what uftrace's s-dlopen
# does (libabc.so's lib_a/lib_b/lib_c, then the C++ libfoo.so's foo/AAA::bar at the same
# address). Calls per function, module names, MODULE/UNLOAD records and allocation stacks
# are exact, with shadow-stack and libunwind stacks, -O0 and -O2.
. "$(dirname "$0")/lib.sh"
need_jq
cd "$TMP"

# "name|module|calls ..." of the functions in the libraries named by regex $1, sorted
lib_rows() { jq -r --arg m "$1" '[.functions[] | select(.module | test($m)) |
	"\(.name)|\(.module)|\(.calls)"] | sort | join(" ")' f.json; }

for run in "O0 " "O2 O2/" "unwind " "plain-unwind plain/"; do
	set -- $run
	w=$1 v=${2:-}
	case $w in *unwind) src=unwind ;; *) src=auto ;; esac
	PERFSHIM_STACK_SOURCE=$src traced "$TMP/t" "$S/${v}dlswap" 1000
	assert_eq "dlswap: 1000 loads" "$(cat t.stdout)" "$w dlswap output"
	assert_eq 0 "$(cat t.rc)" "$w dlswap exit status"
	"$ANALYZE" dump t >t.dump || fail "dump exited $?"

	# the two libraries took turns at one address (else this tests nothing): each load where
	# the one before was unloaded; the loader may move the pair once or twice when the
	# recorder's own mappings (its tables grow) take the space, so up to 3 moves
	moves=$(grep -E ' module .*/libswap_[fg]\.so$' t.dump | sed 's/.* base=\([^ ]*\) .*/\1/' |
		awk 'NR > 1 && $1 != prev { n++ } { prev = $1 } END { print n + 0 }')
	[ "$moves" -le 3 ] || fail "$w: the libraries did not take turns at one address ($moves moves)"
	echo "ok: $w: both libraries at one address in turn ($moves moves of the pair)"
	# MODULE and UNLOAD records, in order: f, g, f, g, ... each naming its own library
	assert_eq "1000 1000 0" "$(awk '/ (module|unload) .*\/libswap_[fg]\.so$/ {
			k = $3; l = $NF; sub(/.*\/libswap_/, "", l); want = n[k]++ % 2 ? "g.so" : "f.so"
			if (l != want) bad++ } END { print n["module"] + 0, n["unload"] + 0, bad + 0 }' t.dump)" \
		"$w: module and unload records (f, g in turn; out of turn)"

	# the recorder forgot the ids and stack nodes of each unloaded library: 3 new function
	# ids per load (+ main when instrumented), and new stack nodes (at least 2) per load
	"$ANALYZE" -v dump t 2>&1 >/dev/null | grep -m1 ' function ids, ' >ids.txt
	assert_eq "$([ "$w" = plain-unwind ] && echo 3000 || echo 3001)" \
		"$(sed 's/.*: \([0-9]*\) function ids.*/\1/' ids.txt)" "$w: function ids defined"
	[ "$(sed 's/.* ids, \([0-9]*\) stack nodes.*/\1/' ids.txt)" -gt 2000 ] ||
		fail "$w: stack nodes not defined anew: $(cat ids.txt)"

	json functions --limit=0 t >f.json
	assert_eq "f_alloc|libswap_f.so|500 f_leaf|libswap_f.so|500 f_work|libswap_f.so|500 g_alloc|libswap_g.so|500 g_leaf|libswap_g.so|500 g_work|libswap_g.so|500" \
		"$(lib_rows '^libswap_')" "$w: calls of each library's functions"

	# allocation stacks: each library's blocks under its own names; the last of each leaks
	json memory --limit=0 t >m.json
	assert_eq '[["f_alloc","f_work",500,50000,1],["g_alloc","g_work",500,100000,1]]' \
		"$(jq -c '[.sites[] | select(.stack[0] | test("^[fg]_alloc$")) | [.stack[0], .stack[1], .allocations, .bytes, .leaked_blocks]] | sort' m.json)" \
		"$w: allocation sites of the two libraries"
	if [ "$w" != plain-unwind ]; then
		assert_eq '[["f_alloc","f_work","main"],["g_alloc","g_work","main"]]' \
			"$(jq -c '[.sites[] | select(.stack[0] | test("^[fg]_alloc$")) | .stack[0:3]] | sort' m.json)" \
			"$w: their stacks"
	fi
	json leaks t >l.json
	assert_eq '[["f_alloc",100,1],["g_alloc",200,1]]' \
		"$(jq -c '[.leaks[] | select(.stack[0] | test("^[fg]_alloc$")) | [.stack[0], .bytes, .blocks]] | sort' l.json)" \
		"$w: leaks of the two libraries"
	# dump's stack lines name them too
	# (each frame with its file:line where DWARF gives it: dump -> --no-lines for the names)
	"$ANALYZE" dump --no-lines t >t.nolines.dump || fail "dump --no-lines exited $?"
	assert_eq 2 "$(grep -c -E '^stack [0-9]+: [fg]_alloc <- [fg]_work' t.nolines.dump)" "$w: dump stacks"
	assert_eq 0 "$(grep -c -E '^stack [0-9]+: f_alloc <- g_work|^stack [0-9]+: g_alloc <- f_work' t.nolines.dump)" \
		"$w: no stack mixes the two"
done

# like uftrace's s-dlopen: a C library, then a C++ one where it was, three times
for v in "" O2/; do
	traced "$TMP/c" "$S/${v}dlabc"
	assert_eq "dlabc: 12 9" "$(cat c.stdout)" "${v}dlabc output"
	"$ANALYZE" dump c >c.dump || fail "dump exited $?"
	assert_eq 1 "$(grep -E ' module .*/lib(abc|foo)\.so$' c.dump | sed 's/.* base=\([^ ]*\) .*/\1/' | sort -u | wc -l)" \
		"${v}dlabc: libfoo.so where libabc.so was"
	assert_eq 6 "$(grep -c -E ' module .*/lib(abc|foo)\.so$' c.dump)" "${v}dlabc: module records"
	json functions --limit=0 c >f.json
	assert_eq "AAA::bar(int)|libfoo.so|6 foo|libfoo.so|3 lib_a|libabc.so|3 lib_b|libabc.so|6 lib_c|libabc.so|12" \
		"$(lib_rows '^lib(abc|foo)[.]so$')" "${v}dlabc: calls"
	"$ANALYZE" callgraph c >cg.txt || fail "callgraph exited $?"
	for f in lib_a lib_b lib_c foo 'AAA::bar(int)'; do
		grep -q -F "$f" cg.txt || fail "${v}dlabc: callgraph lacks $f"
	done
done
