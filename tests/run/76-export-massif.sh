#!/usr/bin/env bash
# massif: the out-file perfshim-analyze writes is read by valgrind's ms_print, which prints
# exactly perfshim's own numbers: the peak snapshot's heap is `memory`'s peak_bytes and its
# detailed tree holds `memory`'s peak holders (leaky: 7000 B from leak_here, 678 B from work)
# with their callers, for leaky instrumented (-O0, -O2, shadow stacks) and plain (libunwind);
# --threshold sums the small stacks into one line; --time-unit=B counts bytes.
. "$(dirname "$0")/lib.sh"
need_jq
command -v ms_print >/dev/null || fail "ms_print is missing (misc/install-deps.sh installs valgrind)"

# peak OUT: the number of the peak snapshot in ms_print's output
peak() { sed -n 's/^ *Detailed snapshots: \[.*[^0-9]\([0-9][0-9]*\) (peak).*/\1/p' "$1"; }
# peak_row OUT N: "time total useful extra stacks" of snapshot N, separators taken out
row() { tr -d , <"$1" | awk -v n="$2" '$1 == n && NF == 6 { print $2, $3, $4, $5, $6; exit }'; }
# tree OUT N: the tree printed after snapshot N's row: "BYTES NAME" of its top level, the
# nodes of one function summed (massif has a node per code address), largest first
tree() {
	tr -d , <"$1" | awk -v n="$2" '
		f && /^->/ { b = $2; gsub(/[()B]/, "", b); s = $0; sub(/^[^:]*: /, "", s); sub(/ .*/, "", s); t[s] += b }
		f && /^---/ { exit }
		$1 == n && NF == 6 { f = 1 }
		END { for (s in t) print t[s], s }' | sort -k1,1nr -k2
}

for v in "" O2/ plain/; do
	prog="$S/${v}leaky"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	traced "$TMP/k" "$prog"
	assert_eq 0 "$(cat "$TMP/k.rc")" "${v}leaky: exit status"
	(cd "$TMP" && "$ANALYZE" massif k 2>"$TMP/an.err") || fail "massif exited $?"
	grep -q "wrote massif.out.perfshim" "$TMP/an.err" || fail "${v}leaky: stderr $(cat "$TMP/an.err")"
	ms_print "$TMP/massif.out.perfshim" >"$TMP/ms" || fail "${v}leaky: ms_print exited $?"
	json memory "$TMP/k" >"$TMP/m.json"
	n=$(peak "$TMP/ms")
	[ -n "$n" ] || { head -40 "$TMP/ms"; fail "${v}leaky: no peak snapshot in ms_print's output"; }
	read -r _ total useful extra stacks <<<"$(row "$TMP/ms" "$n")"
	assert_eq "$(jq .peak_bytes "$TMP/m.json") $(jq .peak_bytes "$TMP/m.json") 0 0" \
		"$total $useful $extra $stacks" "${v}leaky: peak snapshot total, useful heap = memory's peak_bytes"
	# every stack in the tree (--threshold=0): the peak holders of memory
	"$ANALYZE" massif --threshold=0 -o "$TMP/t0" "$TMP/k" || fail "massif --threshold=0 exited $?"
	ms_print --threshold=0 "$TMP/t0" >"$TMP/ms0" || fail "${v}leaky: ms_print --threshold=0 exited $?"
	assert_eq "$(jq -r '.peak.holders[] | "\(.bytes) \(.stack[0])"' "$TMP/m.json")" \
		"$(tree "$TMP/ms0" "$(peak "$TMP/ms0")")" "${v}leaky: the peak tree's stacks = memory's peak holders"
	# below each holder its caller, main, with a file:line of leaky.c
	tr -d , <"$TMP/ms" | grep -qE '^\| ->91\.17% \(7000B\) 0x[0-9A-F]+: main \(.*samples/leaky\.c:[0-9]+\)$' ||
		{ cat "$TMP/ms"; fail "${v}leaky: no main below leak_here"; }
	# the last snapshot: what leaked, 7000 B
	last=$(tr -d , <"$TMP/ms" | awk 'NF == 6 && $1 ~ /^[0-9]+$/ { l = $3 } END { print l }')
	assert_eq 7000 "$last" "${v}leaky: last snapshot = leaked bytes"
done

# --threshold=90 (plain/leaky): work's four call sites, 8.83% of the peak, are one line
"$ANALYZE" massif --threshold=90 -o "$TMP/t90" "$TMP/k" 2>/dev/null || fail "massif --threshold exited $?"
ms_print "$TMP/t90" >"$TMP/ms" || fail "ms_print --threshold=90 exited $?"
tr -d , <"$TMP/ms" | grep -qx -- "->08.83% (678B) in 4 places all below massif's threshold (90.00%)" ||
	{ cat "$TMP/ms"; fail "--threshold=90: no line for the small stacks"; }
# --time-unit=B: times in bytes allocated and freed; the last is every byte moved
"$ANALYZE" massif --time-unit=B -o "$TMP/tb" "$TMP/k" || fail "massif --time-unit=B exited $?"
ms_print "$TMP/tb" >"$TMP/ms" || fail "ms_print --time-unit=B exited $?"
grep -q 'time(B)' "$TMP/ms" || fail "--time-unit=B: no time(B) column"
moved=$(tr -d , <"$TMP/ms" | awk 'NF == 6 && $1 ~ /^[0-9]+$/ { l = $2 } END { print l }')
# 7977 B allocated, 977 B freed (all but the 7000 B leaked)
assert_eq 8954 "$moved" "--time-unit=B: last snapshot time"
"$ANALYZE" massif --time-unit=s "$TMP/k" 2>/dev/null
assert_eq 2 "$?" "--time-unit=s: bad usage"
"$ANALYZE" pprof --time-unit=B "$TMP/k" 2>/dev/null
assert_eq 2 "$?" "pprof --time-unit: bad usage"
"$ANALYZE" massif --help | grep -q '^usage: perfshim-analyze massif ' || fail "massif --help"
echo "76-export-massif: ok"
