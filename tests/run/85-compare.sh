#!/usr/bin/env bash
# perfshim compare over the two builds of samples/variant.c (as in 82-diff-runs.sh): the new
# build's crunch() does twice the work (its self time ratio is 2 by construction) and its
# buffers() allocates 8 x 2 KiB instead of 8 x 1 KiB (exactly +8192 bytes, no variance).
# Identical variants must show nothing significant. Timing rows are decided at --alpha 0.001
# so that a test of a true null fails at most once in a thousand runs (the 95% property
# itself is checked on synthetic data in tests/unit/test-stats.c).
# Self times are CPU self where the traces have context switches (on-CPU: the load of other
# tests does not move them), else wall clock.
# serial: 15 runs against 15 (wall-clock ones, where the kernel refuses context switches, see
# another test beside them as noise they must beat)
. "$(dirname "$0")/lib.sh"
need_jq

flags="-g -fno-omit-frame-pointer -pthread -iquote $TOP -Wall -Wextra -Wno-unused-parameter -O0 -fno-inline -finstrument-functions"
cc $flags "$TOP/samples/variant.c" -o "$TMP/base" || fail "cannot build the base variant"
cc $flags -DVARIANT "$TOP/samples/variant.c" -o "$TMP/new" || fail "cannot build the new variant"

# --- the two builds: text on stdout, JSON and HTML exported from the same runs -------------
# 15 runs each: a rank test then tolerates a loaded machine's outliers (a base run of
# crunch slowed past a new one) by the dozen and still decides at 0.001. Times are wall
# clock, though: on a machine loaded several times over (wall 5x the CPU time) the noise can
# hide even a 2x change, and the honest answer is then "no significant difference". Such a
# try is made again, up to three times; a change found where there is none fails at once.
# CPU self where the traces have context switches, as `functions` says (a probe run)
PERFSHIM_OUTPUT="$TMP/probe.bin" LD_PRELOAD="$LIB" "$TMP/base" >/dev/null 2>&1 || fail "probe run failed"
if "$ANALYZE" functions --format=json "$TMP/probe.bin" | jq -e '.functions[0].cpu_self_ns' >/dev/null; then
	sm=cpu_self_ns sname="CPU self time" dwall= tries=1
else
	sm=self_ns sname="self time" dwall=--wall tries=3
fi
echo "self times compared: $sm"
c() { jq -c "$1" "$TMP/c.json"; }
for try in $(seq 1 $tries); do
	rm -rf "$TMP/keep" && mkdir "$TMP/keep"
	"$RUNNER" compare --runs 15 --alpha 0.001 --keep "$TMP/keep" --export-json "$TMP/c.json" \
		--export-html "$TMP/c.html" base="$TMP/base" new="$TMP/new" >"$TMP/c.txt" 2>"$TMP/c.err" ||
		{ cat "$TMP/c.err"; fail "compare exited $?"; }
	cat "$TMP/c.txt"
	sig=$(c '[.changes[] | select(.significant) | [.kind, .name, .metric]]')
	case "$sig" in
	"[[\"function\",\"crunch\",\"$sm\"],[\"site\",\"buffers\",\"bytes\"]]") break ;;
	'[["site","buffers","bytes"]]') [ $tries = 1 ] && fail "crunch's CPU self: not significant"; echo "try $try: crunch not significant; load: $(c '[.variants[] | .time_ns.median / .cpu_ns.median]') wall/cpu" ;;
	*) fail "significant changes: $sig" ;;
	esac
done
assert_eq '[["base",15],["new",15]]' "$(c '[.variants[] | [.name, .runs]]')" "variants and runs"
assert_eq '' "$(cat "$TMP/c.err")" "nothing on stderr"

# exactly two significant changes: crunch's time and buffers' bytes
assert_eq "[[\"function\",\"crunch\",\"$sm\"],[\"site\",\"buffers\",\"bytes\"]]" "$sig" "significant changes"
# crunch: significantly slower, and the interval of the ratio holds the true 2
crunch=$(c ".changes[] | select(.kind == \"function\" and .name == \"crunch\" and .metric == \"$sm\")")
echo "crunch: $crunch"
jq -e '.ci_low <= 2 and 2 <= .ci_high and .ci_low > 1 and .p_adjusted <= 0.001' <<<"$crunch" >/dev/null ||
	fail "crunch: the ratio's interval does not hold 2 or is not significant"
jq -r .verdict <<<"$crunch" | grep -Eq '^[0-9]+\.[0-9]{2}x slower ± [0-9.]+%$' ||
	fail "crunch verdict: $(jq -r .verdict <<<"$crunch")"
# buffers: +8192 bytes, exact (no variance on either side), p = 0
assert_eq '[["buffers","main"],8192,16384,8192,2,true,0,true,"allocates +8.0 KiB (exact)"]' \
	"$(c '.changes[] | select(.kind == "site" and .name == "buffers" and .metric == "bytes") | [.stack, .base, .new, .difference, .ratio, .exact, .p_value, .significant, .verdict]')" \
	"buffers site"
assert_eq '[8,8,true,false]' \
	"$(c '.changes[] | select(.kind == "site" and .name == "buffers" and .metric == "allocations") | [.base, .new, .exact, .significant]')" \
	"buffers allocations: unchanged"
# every other function: no significant difference; calls exactly 1 and 1
# (main's self time can move by a few microseconds between the two builds, sure enough for the
# test but under the floor: "no significant difference (a shift under the floor)")
assert_eq '[[false,true],[false,true]]' \
	"$(c "[.changes[] | select(.kind == \"function\" and .metric == \"$sm\" and (.name == \"main\" or .name == \"tables_alloc\")) | [.significant, (.verdict | startswith(\"no significant difference\"))]]")" \
	"main and tables_alloc"
assert_eq '[[1,1,true],[1,1,true],[1,1,true],[1,1,true]]' \
	"$(c '[.changes[] | select(.metric == "calls") | [.base, .new, .exact]]')" "calls"
assert_eq '[2048,2048,false]' \
	"$(c '.changes[] | select(.kind == "site" and .name == "tables_alloc" and .metric == "bytes") | [.base, .new, .significant]')" \
	"tables_alloc site"
# the whole runs: memory exact (+8 KiB allocated, peak 8 KiB -> 16 KiB), time slower
assert_eq '[0,0,8192,16384]' "$(c '[.variants[0].allocated_bytes.stddev, .variants[1].allocated_bytes.stddev, .variants[0].peak_bytes.median, .variants[1].peak_bytes.median]')" \
	"allocated and peak of the variants"
assert_eq '[8192,true,true,8192,true]' \
	"$(c '.variants[1].versus_base | [.allocated_bytes.difference, .allocated_bytes.exact, .allocated_bytes.significant, .peak_bytes.difference, .peak_bytes.exact]')" \
	"new against base: memory"
assert_eq '[true,true]' "$(c '.variants[1].versus_base | [.cpu_ns.significant, .cpu_ns.ratio > 1]')" \
	"new against base: CPU time"
assert_eq 'null' "$(c '.variants[0].versus_base')" "the base has no comparison"
c '.variants[0].time_ns | [.mean, .stddev, .median, .p99]' | jq -e 'all(. > 0)' >/dev/null ||
	fail "time summary: $(c '.variants[0].time_ns')"

# text: the same verdicts, in the table layout
grep -Eq "^  function  crunch +$sname +[0-9.]+x slower ± [0-9.]+%  \\(p = " "$TMP/c.txt" ||
	fail "text: no crunch line"
grep -Eq '^  site +buffers <- main +bytes +allocates \+8\.0 KiB \(exact\)$' "$TMP/c.txt" ||
	fail "text: no buffers line"
grep -Eq '^  allocated +\+8\.0 KiB \(exact\)$' "$TMP/c.txt" || fail "text: no allocated line"
grep -Eq '^  base +15 ' "$TMP/c.txt" || fail "text: no base row in the table"
grep -q 'no significant difference (--all shows them)' "$TMP/c.txt" || fail "text: no hidden-rows line"

# HTML: one page, nothing fetched, the charts inline
head -c 15 "$TMP/c.html" | grep -q '<!DOCTYPE html>' || fail "html: no doctype"
assert_eq 2 "$(grep -c '<svg' "$TMP/c.html")" "html: the box plot and the ratio chart"
grep -q 'allocates +8.0 KiB (exact)' "$TMP/c.html" || fail "html: no buffers verdict"
assert_eq 0 "$(grep -Ec '(src|href)=|https?:' "$TMP/c.html")" "html: nothing fetched from outside"

# --- identical variants: nothing significant ---------------------------------------------
# A true null, decided at 0.001 by compare (Holm over its rows) and by diff: each family is
# wrong at most once in a thousand comparisons. One such false alarm is shown and the whole
# comparison made once more; two in a row (at most once in a million) fail.
same_once() {
	rm -rf "$TMP/same" && mkdir "$TMP/same"
	"$RUNNER" compare --format=json --runs 10 --warmup 0 --alpha 0.001 --keep "$TMP/same" \
		a="$TMP/base" b="$TMP/base" >"$TMP/same.json" || fail "identical compare failed"
	la=$(ls "$TMP"/same/a-*.bin | paste -sd,) lb=$(ls "$TMP"/same/b-*.bin | paste -sd,)
	json diff --alpha 0.001 --base "$la" --new "$lb" >"$TMP/dsame.json"
	same_rows=$(jq -c '[.changes[] | select(.significant) | .name]' "$TMP/same.json")
	same_whole=$(jq -c '[.variants[1].versus_base[] | .significant]' "$TMP/same.json")
	same_diff=$(jq -c '[[.functions[] | select(.significant)], [.sites[] | select(.significant)], .totals.duration_ns.significant]' "$TMP/dsame.json")
	[ "$same_rows $same_whole $same_diff" = '[] [false,false,false,false] [[],[],false]' ]
}
if ! same_once; then
	echo "identical variants, a false alarm at 0.001: $same_rows $same_whole $same_diff"
	jq -c '[.changes[] | select(.significant)], .variants[1].versus_base' "$TMP/same.json"
	same_once
fi
assert_eq '[]' "$same_rows" "identical variants: no significant change"
assert_eq '[false,false,false,false]' "$same_whole" "identical variants: no whole-run change"
assert_eq 14 "$(jq '.changes | length' "$TMP/same.json")" "identical variants: every row there"
assert_eq '[[],[],false]' "$same_diff" "identical variants: diff finds nothing either"

# --- diff --base/--new over the kept traces: the same statistics give the same rows -------
ls "$TMP/keep" | sort >"$TMP/kept"
assert_eq 30 "$(wc -l <"$TMP/kept")" "--keep: every measured run's trace"
list() { local k l=; for k in $(seq 1 15); do l+="${l:+,}$TMP/keep/$1-$k.bin"; done; echo "$l"; }
# diff compares CPU self by default where the traces have context switches, as compare does
# (--wall for both: wall clock)
json diff $dwall --alpha 0.001 --base "$(list base)" --new "$(list new)" >"$TMP/d.json"
d() { jq -c "$1" "$TMP/d.json"; }
assert_eq '[15,15]' "$(d '[(.base | length), (.new | length)]')" "diff: traces a side"
# crunch: the numbers compare computed from the same runs (the analyzer prints 6 digits)
for k in ratio ci_low ci_high p_value; do
	a=$(jq ".$k" <<<"$crunch") b=$(d ".functions[] | select(.name == \"crunch\") | .self.$k")
	awk -v a="$a" -v b="$b" 'BEGIN { exit !(a != "" && b != "" && (a - b) ^ 2 <= (1e-5 * a) ^ 2) }' ||
		fail "diff and compare differ on crunch's $k: $b and $a"
done
assert_eq '[true,true,"1 -> 1"]' \
	"$(d '.functions[] | select(.name == "crunch") | [.significant, .self.significant, "\(.base_calls) -> \(.new_calls)"]')" \
	"diff: crunch significant, calls unchanged"
assert_eq '[["crunch"]]' "$(d '[[.functions[] | select(.significant) | .name]]')" \
	"diff: the only function changed"
assert_eq '[[["buffers","main"],8192,16384,"allocates +8.0 KiB (exact)"]]' \
	"$(d '[.sites[] | select(.significant) | [.stack, .base_bytes, .new_bytes, .verdict]]')" \
	"diff: the only site changed"
assert_eq '[8192,true,true]' "$(d '.totals.bytes | [.difference, .exact, .significant]')" \
	"diff: bytes allocated in total"
"$ANALYZE" diff --base "$(list base)" --new "$(list new)" >"$TMP/d.txt" || fail "diff text failed"
grep -Eq '^crunch +1 -> 1 .* [0-9.]+x slower ± [0-9.]+%$' "$TMP/d.txt" || { cat "$TMP/d.txt"; fail "diff text: crunch"; }
# one trace a side is diff BASE NEW, as before
"$ANALYZE" diff --format=json --base "$TMP/keep/base-1.bin" --new "$TMP/keep/new-1.bin" >"$TMP/one.json"
"$ANALYZE" diff --format=json "$TMP/keep/base-1.bin" "$TMP/keep/new-1.bin" >"$TMP/two.json"
cmp -s "$TMP/one.json" "$TMP/two.json" || fail "--base A --new B is not diff A B"
# usage
ana() { "$ANALYZE" "$@" >/dev/null 2>"$TMP/e"; echo "$? $(head -n 1 "$TMP/e")"; }
assert_eq "2 perfshim-analyze: diff: --base and --new go together (see perfshim-analyze --help)" \
	"$(ana diff --base "$TMP/keep/base-1.bin")" "--base alone"
assert_eq "2 perfshim-analyze: diff: give the traces as BASE NEW or with --base and --new, not both (see perfshim-analyze --help)" \
	"$(ana diff --base "$TMP/keep/base-1.bin" --new "$TMP/keep/new-1.bin" "$TMP/keep/new-2.bin")" \
	"--base with positional traces"
assert_eq "2 perfshim-analyze: --base/--new: only diff compares traces (see perfshim-analyze --help)" \
	"$(ana functions --base "$TMP/keep/base-1.bin" --new "$TMP/keep/new-1.bin")" "--base elsewhere"

# --- a command split into words; too few runs -------------------------------------------
mkdir -p "$TMP/w"
TMPDIR="$TMP/w" "$RUNNER" compare --format=json --runs 2 --warmup 0 q="$TMP/new 'x y' \"z\\\"\"" \
	2>"$TMP/q.err" >"$TMP/q.json" || fail "compare of one variant failed"
assert_eq "[\"$TMP/new\",\"x y\",\"z\\\"\"]" "$(jq -c '.variants[0].command' "$TMP/q.json")" \
	"command split into words"
assert_eq '[]' "$(jq -c '.changes' "$TMP/q.json")" "one variant: no changes"
"$RUNNER" compare --runs 2 --warmup 0 a="$TMP/base" b="$TMP/base" 2>"$TMP/q.err" >/dev/null
grep -q 'smallest p-value is 0.33: among 6 tests at alpha 0.05 no measured change can be significant (--runs 5 or more would do)' \
	"$TMP/q.err" || { cat "$TMP/q.err"; fail "2 runs: no warning that nothing can be significant"; }
# --wall: the functions' wall-clock self times, whatever the traces hold
"$RUNNER" compare --wall --format=json --runs 2 --warmup 0 a="$TMP/base" b="$TMP/base" \
	>"$TMP/wall.json" 2>/dev/null || fail "compare --wall failed"
assert_eq '["calls","self_ns"]' "$(jq -c '[.changes[] | select(.kind == "function") | .metric] | unique' "$TMP/wall.json")" \
	"--wall: self_ns rows"

# --- errors ------------------------------------------------------------------------------
usage() { "$RUNNER" compare "$@" >/dev/null 2>"$TMP/e"; echo "$? $(head -n 1 "$TMP/e")"; }
assert_eq "2 perfshim compare: no variant to run" "$(usage)" "no variant"
assert_eq "2 perfshim compare: 'x': expected NAME=COMMAND" "$(usage x)" "no NAME="
assert_eq "2 perfshim compare: two variants named 'a'" "$(usage a=true a=true)" "same name twice"
assert_eq "2 perfshim compare: --runs '1': expected a number from 2 to 1000" "$(usage --runs 1 a=true)" \
	"--runs 1"
assert_eq "2 perfshim compare: a: the command has an unclosed quote" "$(usage "a=true 'x")" "open quote"
assert_eq "2 perfshim compare: 'a/b': a variant name is letters, digits, '.', '_' or '-'" \
	"$(usage a/b=true)" "bad name"
assert_eq "1 perfshim compare: /nonexistent/x: No such file or directory" \
	"$(usage -o /nonexistent/x a=true)" "an output that cannot be written: before any run"
assert_eq "2 perfshim compare: --keep /nonexistent: not a directory" "$(usage --keep /nonexistent a=true)" \
	"--keep: not a directory"
TMPDIR="$TMP/w" "$RUNNER" compare --runs 2 --warmup 0 f="sh -c 'echo oops >&2; exit 3'" >/dev/null 2>"$TMP/e"
assert_eq 1 $? "a failing variant: exit status"
grep -q "^perfshim compare: f: sh exited with status 3$" "$TMP/e" || { cat "$TMP/e"; fail "failing variant: no line"; }
grep -q "oops" "$TMP/e" || fail "failing variant: its stderr is not shown"
assert_eq '' "$(ls "$TMP/w")" "the work directories are removed, after a failure too"

# --- runs whose traces are cut (a full disk): compare says so, the analyzer's warning once
mnt="$TMP/small"
mkdir -p "$mnt"
if mount -t tmpfs -o size=256k tmpfs "$mnt" 2>/dev/null; then
	PERFSHIM_BUFSIZE=64K TMPDIR="$mnt" "$RUNNER" compare --format=json --runs 3 --warmup 0 \
		a="$S/fib 24" >"$TMP/cut.json" 2>"$TMP/cut.err"
	rc=$?
	umount "$mnt"
	assert_eq 0 $rc "cut traces: compare exit status"
	assert_eq 3 "$(jq '.variants[0].incomplete_runs' "$TMP/cut.json")" "cut traces: every run said incomplete"
	sort "$TMP/cut.err" | uniq -d >"$TMP/dups"
	assert_eq '' "$(cat "$TMP/dups")" "cut traces: each warning once"
	grep -q "warning" "$TMP/cut.err" || fail "cut traces: no warning passed on"
else
	echo "skipped the cut traces (cannot mount a small tmpfs)"
fi

# --- a program called compare is run with --
mkdir -p "$TMP/bin"
printf '#!/bin/sh\necho "I am compare $*"\n' >"$TMP/bin/compare"
chmod +x "$TMP/bin/compare"
assert_eq "I am compare x" "$(PATH="$TMP/bin:$PATH" "$RUNNER" -q -o "$TMP/p.bin" -- compare x)" \
	"perfshim -- compare runs the program"
echo "85-compare: ok"
