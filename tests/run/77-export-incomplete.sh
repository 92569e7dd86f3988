#!/usr/bin/env bash
# pprof, callgrind and massif of incomplete traces: a process killed by SIGKILL
# (samples/dies.c) and a file cut inside a chunk (tests/data/cut.bin). Each export says on
# stderr what is missing (one line, the reader's) and in its own file where the format has a
# place for it (pprof's comments, callgrind's desc: and # lines, massif's desc: lines), which
# the real consumers show; the intact part is exported with the numbers of `functions` and
# `memory`. The same program returning normally has no such note anywhere.
. "$(dirname "$0")/lib.sh"
need_jq
command -v go >/dev/null || fail "go is missing (misc/install-deps.sh installs golang-go)"
command -v callgrind_annotate >/dev/null && command -v ms_print >/dev/null ||
	fail "callgrind_annotate or ms_print is missing (misc/install-deps.sh installs valgrind)"
export HOME="$TMP" GOCACHE="$TMP/gocache" GOPATH="$TMP/go" GOFLAGS= GOTOOLCHAIN=local \
	GOPROXY=off PPROF_TMPDIR="$TMP/pprof" PPROF_BINARY_PATH=/nonexistent

PERFSHIM_BUFSIZE=64K traced "$TMP/k" "$S/dies" kill
assert_eq 137 "$(cat "$TMP/k.rc")" "dies kill: killed by SIGKILL"
PERFSHIM_BUFSIZE=64K traced "$TMP/r" "$S/dies" return
assert_eq 0 "$(cat "$TMP/r.rc")" "dies return: exit status"
end="incomplete trace: the process's end was not recorded"

for t in k r; do
	for c in pprof callgrind massif; do
		"$ANALYZE" $c -o "$TMP/$t.$c" "$TMP/$t" 2>"$TMP/err" || fail "$c $t exited $?"
		if [ $t = k ]; then
			assert_eq 1 "$(wc -l <"$TMP/err")" "$c: one warning line on stderr"
			grep -q "warning: .*the process's end was not recorded" "$TMP/err" || fail "$c: stderr $(cat "$TMP/err")"
		else
			assert_eq 0 "$(wc -c <"$TMP/err")" "$c: nothing on stderr for the complete trace"
		fi
	done
	# what the consumers show of the notes
	go tool pprof -comments "$TMP/$t.pprof" >"$TMP/$t.comments" 2>"$TMP/err" || fail "go tool pprof -comments: $(cat "$TMP/err")"
	callgrind_annotate --auto=no "$TMP/$t.callgrind" >"$TMP/$t.ann" || fail "callgrind_annotate exited $?"
	ms_print "$TMP/$t.massif" >"$TMP/$t.ms" || fail "ms_print exited $?"
done
assert_eq 2 "$(grep -c "^incomplete trace: " "$TMP/k.comments")" "pprof: comments on what is missing"
grep -q "^$end" "$TMP/k.comments" || fail "pprof: no comment on the process's end"
grep -qx "the process did not finish: these blocks were live when recording stopped, not necessarily leaked" \
	"$TMP/k.comments" || fail "pprof: inuse_ is not said to be live at the stop"
assert_eq 2 "$(grep -c "^Note: incomplete trace: " "$TMP/k.ann")" "callgrind_annotate: notes in its header"
assert_eq 2 "$(grep -c "^# incomplete trace: " "$TMP/k.callgrind")" "callgrind: comment lines"
assert_eq 2 "$(grep -c "^ *incomplete trace: " "$TMP/k.ms")" "ms_print: notes in its header"
for t in comments ann ms; do
	grep -q "incomplete" "$TMP/r.$t" && fail "a note for the complete trace in r.$t"
done
assert_eq "" "$(cat "$TMP/r.comments")" "pprof: no comments for the complete trace"

# the intact part, with the numbers of functions and memory
calls=$(json functions "$TMP/k" 2>/dev/null | jq '.functions[] | select(.name == "work") | .calls')
[ "$calls" -gt 0 ] || fail "dies kill: no calls of work() in the intact part"
assert_eq "$calls" "$(go tool pprof -top -nodefraction=0 -sample_index=calls "$TMP/k.pprof" 2>/dev/null | awk '$6 == "work" { print $1 }')" \
	"pprof: calls of work in the intact part"
# callers of work: the "< file:main (Nx)" line just above "*  file:work" (run outside the source tree: callgrind_annotate 3.19 strips its working directory from fl= names but not from cfl= ones, and loses the callers of files under it)
assert_eq "$calls" "$(cd "$TMP" && callgrind_annotate --auto=no --threshold=100 --tree=caller "$TMP/k.callgrind" | tr -d , |
	awk '/ < [^ ]*:main \(/ { n = $0; sub(/.*:main \(/, "", n); sub(/x\).*/, "", n) } /\*  [^ ]*:work( |$)/ { print n }')" \
	"callgrind: calls of work from main in the intact part"
peak=$(json memory "$TMP/k" 2>/dev/null | jq .peak_bytes)
assert_eq "$peak" "$(tr -d , <"$TMP/k.ms" | awk 'NF == 6 && $1 ~ /^[0-9]+$/ && $3 > m { m = $3 } END { print m }')" \
	"massif: the intact part's peak"

# a file cut inside a chunk: the same, and the cut said
for c in pprof callgrind massif; do
	"$ANALYZE" $c -o "$TMP/cut.$c" "$TOP/tests/data/cut.bin" 2>"$TMP/err" || fail "$c cut.bin exited $?"
	grep -q "file cut at offset" "$TMP/err" || fail "$c cut.bin: stderr $(cat "$TMP/err")"
done
go tool pprof -comments "$TMP/cut.pprof" 2>/dev/null | grep -qx "incomplete trace: the file is cut short: its last chunk is not whole" ||
	fail "pprof cut.bin: no comment on the cut"
callgrind_annotate --auto=no "$TMP/cut.callgrind" | grep -q "^Note: incomplete trace: the file is cut short" ||
	fail "callgrind cut.bin: no note on the cut"
ms_print "$TMP/cut.massif" | grep -q "incomplete trace: the file is cut short" || fail "massif cut.bin: no note on the cut"
echo "77-export-incomplete: ok"
