#!/usr/bin/env bash
# `dump` of a real trace (samples/fib and samples/mallocbench with 2 threads): every line has
# the documented shape, entries and exits pair up per thread, fib's entries equal the calls
# the program counted, the merged dump holds the same lines in time order, and --thread
# keeps one thread.
. "$(dirname "$0")/lib.sh"

traced "$TMP/f" "$S/fib" 18
assert_eq 0 "$(cat "$TMP/f.rc")" "fib exit status"
calls=$(sed -n 's/^calls of fib: //p' "$TMP/f.stdout")
"$ANALYZE" dump "$TMP/f" >"$TMP/f.dump" 2>"$TMP/f.err" || fail "dump failed: $(cat "$TMP/f.err")"
[ -s "$TMP/f.err" ] && fail "dump wrote to stderr: $(cat "$TMP/f.err")"

# the documented line shapes (report-dump.c, perfshim-analyze --help)
H='^[0-9]+ [0-9]+ '
bad=$(grep -Ev -e '^# perfshim dump: .* pid=[0-9]+ ppid=[0-9]+ threads=[0-9]+ flags=0x[0-9a-f]+$' \
	-e "${H}entry depth=[0-9]+ addr=0x[0-9a-f]+ .+\$" \
	-e "${H}exit depth=[0-9]+ addr=0x[0-9a-f]+ dur=[0-9]+ .+\$" \
	-e "${H}alloc kind=(malloc|calloc|realloc|reallocarray|memalign|posix_memalign|aligned_alloc|valloc|pvalloc) size=[0-9]+ ptr=0x[0-9a-f]+ stack=[0-9]+\$" \
	-e "${H}free ptr=0x[0-9a-f]+\$" \
	-e "${H}realloc size=[0-9]+ old=0x[0-9a-f]+ new=0x[0-9a-f]+ stack=[0-9]+ new_ns=[0-9]+\$" \
	-e "${H}(mark|thread-name) .+\$" \
	-e "${H}module base=0x[0-9a-f]+ lo=0x[0-9a-f]+ hi=0x[0-9a-f]+ build_id=([0-9a-f]+|-) .*\$" \
	-e "${H}unload base=0x[0-9a-f]+ .*\$" -e "${H}lost count=[0-9]+\$" \
	-e "${H}process pid=[0-9]+ .+\$" -e "${H}rss bytes=[0-9]+\$" \
	-e "${H}switch kind=(blocked|preempted) end=[0-9]+\$" -e "${H}cputime ns=[0-9]+\$" \
	-e '^stack [0-9]+: .+' "$TMP/f.dump" | head -5)
[ -z "$bad" ] && echo "ok: every line has a documented shape" || fail "lines of no documented shape: $bad"

assert_eq "$calls" "$(grep -c ' entry .* fib$' "$TMP/f.dump")" "fib entries"
assert_eq "$calls" "$(grep -c ' exit .* fib$' "$TMP/f.dump")" "fib exits"
assert_eq 1 "$(grep -c ' entry depth=0 .* main$' "$TMP/f.dump")" "main entries at depth 0"
# fib's deepest call: fib(18) recursion reaches depth 18 under main (depth 0)
assert_eq 18 "$(awk '$3 == "entry" && $NF == "fib" { d = substr($4, 7) + 0; if (d > m) m = d } END { print m }' "$TMP/f.dump")" "deepest fib"
# every exit's dur is its time minus the matching entry's (a stack per thread)
awk '$3 == "entry" { s[$2, ++n[$2]] = $1 }
     $3 == "exit" { d = $1 - s[$2, n[$2]--]; if ("dur=" d != $6) { print "bad: " $0; exit 1 } }' \
	"$TMP/f.dump" || fail "an exit's dur does not match its entry"
grep -q "^[0-9]* [0-9]* process pid=[0-9]* .*/fib$" "$TMP/f.dump" || fail "no process line"
grep -q " module .* .*/fib$" "$TMP/f.dump" || fail "no module line for fib"

# two threads of mallocbench: merged = same lines, in time order; --thread = one thread
traced "$TMP/m" "$S/mallocbench" 2000 2
assert_eq 0 "$(cat "$TMP/m.rc")" "mallocbench exit status"
"$ANALYZE" dump "$TMP/m" >"$TMP/m.dump" || fail "dump failed"
"$ANALYZE" dump --merged "$TMP/m" >"$TMP/m.merged" || fail "dump --merged failed"
assert_eq "$(sort "$TMP/m.dump" | md5sum)" "$(sort "$TMP/m.merged" | md5sum)" "merged dump has the same lines"
# in time order: realloc lines sort by new_ns (when the new block appeared)
# (switch and cputime lines come where the recorder wrote them, after the events of their time)
awk '$1 ~ /^[0-9]+$/ && $3 != "switch" && $3 != "cputime" { k = $1; if ($3 == "realloc") { k = substr($8, 8) + 0 }
	if (k < last) { print "out of order: " $0; exit 1 } last = k }' "$TMP/m.merged" ||
	fail "merged dump not in time order"
# switch records: per thread, intervals in order, each ending after it starts, apart from
# each other; CPU clock readings that never go back, at least one per thread (unless the
# kernel refused context switches, which the recorder says)
need=1; grep -q "context switches cannot be recorded" "$TMP/m.stderr" && need=0
awk -v need=$need '$3 == "switch" { e = substr($5, 5) + 0; if (e < $1 || $1 < sw[$2]) { print "bad interval: " $0; exit 1 } sw[$2] = e }
     $3 == "cputime" { c = substr($4, 4) + 0; if (c < cpu[$2]) { print "clock went back: " $0; exit 1 } cpu[$2] = c; n[$2]++ }
     $3 == "entry" || $3 == "alloc" { th[$2] = 1 }
     END { for (x in th) if (need && !n[x]) { print "thread " x " has no cputime line"; exit 1 } }' "$TMP/m.dump" ||
	fail "switch records of the dump"
echo "ok: switch intervals in order per thread, CPU clock readings never go back"
tids=$(awk '$1 ~ /^[0-9]+$/ { print $2 }' "$TMP/m.dump" | sort -u | wc -l)
[ "$tids" -ge 2 ] || fail "expected 2 threads, got $tids"
tid=$(awk '$3 == "alloc" { print $2 }' "$TMP/m.dump" | sort | uniq -c | sort -n | tail -1 | awk '{ print $2 }')
"$ANALYZE" dump --thread "$tid" "$TMP/m" >"$TMP/m.one" || fail "dump --thread failed"
assert_eq 1 "$(awk '$1 ~ /^[0-9]+$/ { print $2 }' "$TMP/m.one" | sort -u | wc -l)" "threads in dump --thread"
assert_eq "$(grep -c "^[0-9]* $tid " "$TMP/m.dump")" "$(grep -c "^[0-9]* $tid " "$TMP/m.one")" "lines of thread $tid"
"$ANALYZE" dump --thread 1 "$TMP/m" >/dev/null 2>"$TMP/err"
assert_eq 1 "$?" "dump --thread of no such thread"
