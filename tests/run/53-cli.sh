#!/usr/bin/env bash
# perfshim-analyze's command line: exit 0 on success, 1 on bad input, 2 on bad usage (bad
# option values and formats a command does not write included), each error in one line on
# stderr; --help documents the dump format, COMMAND --help the command's own options;
# --version everywhere; no trace: the newest perfshim.*.bin here; the command may follow the
# options; several traces are analyzed in turn (one JSON document, a key per trace); colour
# only on a terminal that shows it; JSON output is valid, also for bytes that are not UTF-8;
# text output escapes control characters; a FIFO is refused without blocking.
. "$(dirname "$0")/lib.sh"
need_jq

traced "$TMP/f" "$S/fib" 10
assert_eq 0 "$(cat "$TMP/f.rc")" "fib exit status"

# rc_err EXPECTED_RC WHAT ARGS...: exit status and exactly one line on stderr
rc_err() {
	local want=$1 what=$2; shift 2
	"$ANALYZE" "$@" >"$TMP/out" 2>"$TMP/err"
	assert_eq "$want" "$?" "$what: exit status"
	assert_eq 1 "$(wc -l <"$TMP/err")" "$what: stderr lines"
	grep -q '^perfshim-analyze: ' "$TMP/err" || fail "$what: stderr '$(cat "$TMP/err")'"
}
# no trace given: the newest perfshim.*.bin (or .bin.zst) of the working directory is read
# (as uftrace reads uftrace.data); it was "no trace file given", exit 2, which is still the
# answer where there is none
mkdir "$TMP/empty"
cd "$TMP/empty"
rc_err 2 "no argument, no trace here"
rc_err 2 "no trace here" functions
cd "$TOP"
grep -qx 'perfshim-analyze: functions: no trace given, and no perfshim.*.bin in the working directory (see perfshim-analyze --help)' \
	"$TMP/err" || fail "no trace here: $(cat "$TMP/err")"
rc_err 2 "unknown command" frobnicate "$TMP/f"
rc_err 2 "unknown option" functions --frobnicate "$TMP/f"
rc_err 2 "bad --format" functions --format=xml "$TMP/f"
rc_err 2 "bad --limit" functions --limit=many "$TMP/f"
rc_err 2 "missing value" functions "$TMP/f" --sort
rc_err 1 "missing file" functions "$TMP/nonexistent"
rc_err 1 "a directory" functions "$TMP"
# a bad option value is bad usage, exit 2 like --limit=many (it was 1 for --sort and
# --filter, said by the report after it had read the trace): checked before any trace is read
rc_err 2 "unknown --sort column" functions --sort=colour "$TMP/f"
rc_err 2 "unknown memory --sort column" memory --sort=colour "$TMP/f"
rc_err 2 "bad --filter" functions --filter='([' "$TMP/f"
rc_err 2 "unknown --metric" flamegraph --metric=cycles "$TMP/f"
rc_err 2 "diff --from with two traces" diff --from=start "$TMP/f" "$TMP/f"
rc_err 2 "diff of three traces" diff "$TMP/f" "$TMP/f" "$TMP/f"
rc_err 1 "unknown --function" callgraph --function=nosuch "$TMP/f"
rc_err 1 "no such --thread" functions --thread=1 "$TMP/f"
grep -q "error: .*nonexistent: No such file or directory" <("$ANALYZE" "$TMP/nonexistent" 2>&1) ||
	fail "missing file message"

"$ANALYZE" --help >"$TMP/help" || fail "--help exit status"
grep -q "NS TID entry depth=D addr=0xA NAME" "$TMP/help" && grep -q "^  dump " "$TMP/help" ||
	fail "--help does not document dump"

# the command after the options; two traces in turn (text: a header per trace)
"$ANALYZE" --format=json functions "$TMP/f" | jq -e '.functions | length == 2' >/dev/null ||
	fail "command after the options"
traced "$TMP/g" "$S/fib" 12
assert_eq "calls of fib: 465" "$(grep calls "$TMP/g.stdout")" "fib(12)"
"$ANALYZE" functions "$TMP/f" "$TMP/g" >"$TMP/two" || fail "two traces"
assert_eq 2 "$(grep -c '^== ' "$TMP/two")" "one header per trace"
# several traces in JSON: one document {"traces": [{"trace": PATH, ...}]}, each entry the
# single trace's document with its path (it was one document per trace, which said not
# which trace each was; docs/json.md); one trace keeps its shape
"$ANALYZE" functions --format=json "$TMP/f" "$TMP/g" >"$TMP/two.json" || fail "two traces, JSON"
assert_eq 1 "$(jq -s length "$TMP/two.json")" "JSON documents for two traces"
assert_eq "$TMP/f $TMP/g" "$(jq -r '[.traces[].trace] | join(" ")' "$TMP/two.json")" "the traces' keys"
assert_eq "177 465" "$(jq -r '[.traces[].functions[] | select(.name == "fib") | .calls] | join(" ")' "$TMP/two.json")" \
	"fib calls of each trace"
assert_eq "$(json functions "$TMP/g" | jq -cS .)" "$(jq -cS '.traces[1] | del(.trace)' "$TMP/two.json")" \
	"an entry is the single trace's document"
assert_eq '["functions"]' "$(json functions "$TMP/f" | jq -c 'keys - ["complete", "incomplete", "warnings"]')" \
	"one trace: today's shape"
# summary has a "trace" key of its own: once per entry
"$ANALYZE" summary --format=json "$TMP/f" "$TMP/g" >"$TMP/two.json" || fail "two summaries"
assert_eq "$TMP/f $TMP/g" "$(jq -r '[.traces[].trace] | join(" ")' "$TMP/two.json")" "summary: the traces' keys"
assert_eq 2 "$(grep -o '"trace":' "$TMP/two.json" | wc -l)" "summary: \"trace\" keys in two entries"
# one bad trace among good ones: the good ones are analyzed, exit 1; in JSON its entry
# says why
"$ANALYZE" functions "$TMP/f" "$TMP/nonexistent" >"$TMP/out" 2>/dev/null
assert_eq 1 "$?" "a bad trace among good ones"
grep -q " fib$" "$TMP/out" || fail "the good trace was not analyzed"
"$ANALYZE" functions --format=json "$TMP/f" "$TMP/nonexistent" >"$TMP/out" 2>/dev/null
assert_eq 1 "$?" "a bad trace among good ones, JSON"
assert_eq "null|$TMP/nonexistent: No such file or directory" \
	"$(jq -r '"\(.traces[0].error)|\(.traces[1].error)"' "$TMP/out")" "the bad trace's error in JSON"

# the newest perfshim.*.bin or perfshim.*.bin.zst here when no trace is given, said on
# stderr; other names are not traces the library writes by default
mkdir "$TMP/cwd"
cp "$TMP/f" "$TMP/cwd/perfshim.100.bin"
cp "$TMP/g" "$TMP/cwd/perfshim.200.bin"
cp "$TMP/f" "$TMP/cwd/other.bin"
touch -d '2020-01-01 00:00:01' "$TMP/cwd/perfshim.100.bin"
touch -d '2020-01-01 00:00:02' "$TMP/cwd/perfshim.200.bin"
newest() { (cd "$TMP/cwd" && "$ANALYZE" "$@" 2>"$TMP/err"); }
assert_eq 465 "$(newest functions --format=json | jq '.functions[] | select(.name == "fib") | .calls')" \
	"no trace: the newest is read"
assert_eq "perfshim-analyze: no trace given: reading perfshim.200.bin, the newest perfshim.*.bin here" \
	"$(cat "$TMP/err")" "no trace: stderr says which"
touch -d '2020-01-01 00:00:03' "$TMP/cwd/perfshim.100.bin"
assert_eq 177 "$(newest --format=json functions | jq '.functions[] | select(.name == "fib") | .calls')" \
	"no trace: the newest by time, not by name"
newest >"$TMP/out" || fail "no argument at all: exit $?"
grep -q '^Trace: *perfshim.100.bin$' "$TMP/out" || fail "no argument: not the summary of the newest"
if command -v zstd >/dev/null; then
	zstd -q "$TMP/g" -o "$TMP/cwd/perfshim.300.bin.zst"
	assert_eq 465 "$(newest functions --format=json | jq '.functions[] | select(.name == "fib") | .calls')" \
		"no trace: a newer perfshim.*.bin.zst"
fi

# every command answers --help with its own usage (its options, formats and examples) and
# --version; --help after the command or before it (it printed the global help, and
# --version was an unknown option)
version=$("$ANALYZE" --version)
[[ $version =~ ^perfshim-analyze\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version: '$version'"
for cmd in $("$ANALYZE" --help | sed -n '/^Commands/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
	assert_eq "$version" "$("$ANALYZE" $cmd --version)" "$cmd --version"
	"$ANALYZE" $cmd --help >"$TMP/h" || fail "$cmd --help: exit $?"
	assert_eq "usage: perfshim-analyze $cmd [OPTIONS]" "$(head -1 "$TMP/h" | cut -d' ' -f1-4)" "$cmd --help: usage line"
	grep -q "^Examples:" "$TMP/h" && grep -q "^  perfshim-analyze $cmd " "$TMP/h" || fail "$cmd --help: no example"
	cmp -s "$TMP/h" <("$ANALYZE" --help $cmd) || fail "--help $cmd differs from $cmd --help"
	grep -q "NS TID entry depth" "$TMP/h" && [ $cmd != dump ] && fail "$cmd --help is the global help"
done
"$ANALYZE" functions --help >"$TMP/h"
grep -qx '  --sort=calls|total|self|wait|avg|min|max|p50|p99|name' "$TMP/h" || fail "functions --help: --sort"
grep -q '^  --filter=REGEX ' "$TMP/h" && grep -q '^  --per-thread ' "$TMP/h" || fail "functions --help: options"
grep -q -- '--function=' "$TMP/h" && fail "functions --help shows callgraph's --function"
"$ANALYZE" memory --help | grep -qx '  --sort=bytes|count|peak|leaked|temporary' || fail "memory --help: --sort"
"$ANALYZE" diff --help | grep -q '^usage: perfshim-analyze diff \[OPTIONS\] --from=MARK --to=MARK \[TRACE\]  |  BASE NEW  |  --base=LIST --new=LIST$' ||
	fail "diff --help: usage"
"$ANALYZE" dump --help | grep -q "NS TID entry depth=D addr=0xA NAME" || fail "dump --help: the line format"

# every command's JSON parses; -o writes the file, not stdout
for cmd in summary functions callgraph; do
	json $cmd "$TMP/f" | jq -e . >/dev/null || fail "$cmd: invalid JSON"
done
"$ANALYZE" functions -o "$TMP/o.txt" "$TMP/f" >"$TMP/stdout" || fail "-o"
assert_eq 0 "$(wc -c <"$TMP/stdout")" "nothing on stdout with -o"
grep -q " fib$" "$TMP/o.txt" || fail "-o file lacks the table"
# colour only when asked (stdout is not a terminal here)
"$ANALYZE" functions "$TMP/f" | grep -q $'\033' && fail "colour codes on a pipe"
echo "ok: no colour on a pipe"
"$ANALYZE" functions --color=always "$TMP/f" | head -1 | grep -q $'^\033\[1m' || fail "--color=always: no bold header"
echo "ok: --color=always makes the header bold"
# on a terminal (script(1) gives one): bold headers, but not with NO_COLOR (any non-empty
# value, no-color.org) or TERM=dumb (both got bold before); --color=always still wins
onterm() { env "$@" script -qec "'$ANALYZE' functions '$TMP/f'" /dev/null | grep -c $'\033'; }
assert_eq 1 "$(onterm TERM=xterm)" "escape sequences on a terminal"
assert_eq 0 "$(onterm TERM=xterm NO_COLOR=1)" "escape sequences with NO_COLOR=1"
assert_eq 0 "$(onterm TERM=xterm NO_COLOR=no)" "escape sequences with NO_COLOR=no"
assert_eq 1 "$(onterm TERM=xterm NO_COLOR=)" "escape sequences with an empty NO_COLOR"
assert_eq 0 "$(onterm TERM=dumb)" "escape sequences with TERM=dumb"
assert_eq 0 "$(onterm -u TERM)" "escape sequences without TERM"
assert_eq 1 "$(env TERM=dumb NO_COLOR=1 script -qec "'$ANALYZE' functions --color=always '$TMP/f'" /dev/null | grep -c $'\033')" \
	"--color=always over NO_COLOR and TERM=dumb"
# the progress line is redrawn with carriage returns and erased with spaces: the analyzer
# holds no erase-line sequence (it wrote ESC [ K, which a dumb terminal shows as is)
assert_eq 0 "$(grep -c $'\033\\[K' "$ANALYZE")" "erase-line sequences in the analyzer"

# --format: which command writes which (README.md and the man page have the table); every
# other pair is bad usage, one line, exit 2, before the trace is read
formats='summary text json
functions text json csv
callgraph text json
memory text json
leaks text json
diff text json
timeline text json csv
marks text json csv
dump text
flamegraph
chrome
html
pprof
callgrind
massif'
while read -r cmd supported; do
	for f in text json csv; do
		case " $supported " in
		*" $f "*)
			"$ANALYZE" $cmd --format=$f "$TMP/f" >"$TMP/out" 2>"$TMP/err"
			assert_eq 0 "$?" "$cmd --format=$f: exit status"
			assert_eq 0 "$(wc -c <"$TMP/err")" "$cmd --format=$f: stderr" ;;
		*) rc_err 2 "$cmd --format=$f" $cmd --format=$f "$TMP/f" ;;
		esac
	done
done <<<"$formats"
# ... and each command's --help names exactly those formats
while read -r cmd supported; do
	want=${supported// /|}
	got=$("$ANALYZE" $cmd --help | sed -n 's/^  --format=\([a-z|]*\) .*/\1/p')
	assert_eq "$want" "$got" "$cmd --help: --format values"
done <<<"$formats"
grep -qx 'perfshim-analyze: summary: --format=csv is not supported (it writes text or json) (see perfshim-analyze --help)' \
	<("$ANALYZE" summary --format=csv "$TMP/f" 2>&1) || fail "the --format message"

# a FIFO (or any file that is not a regular one) is refused before any open that can block
mkfifo "$TMP/fifo"
for args in "summary $TMP/fifo" "diff $TMP/f $TMP/fifo" "leaks --suppressions=$TMP/fifo $TMP/f"; do
	timeout 10 "$ANALYZE" $args >"$TMP/out" 2>"$TMP/err"
	assert_eq 1 "$?" "$args: exit status (124: it blocked)"
	assert_eq 1 "$(wc -l <"$TMP/err")" "$args: stderr lines"
	grep -q 'not a regular file$' "$TMP/err" || fail "$args: $(cat "$TMP/err")"
done

# labels, names and paths with escape sequences, BEL, CR, C1 controls and bytes that are not
# UTF-8 (tests/data/escapes.bin): no text output passes one on raw, every JSON parses
E="$TOP/tests/data/escapes.bin"
raw() { LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$1"; }
for args in summary functions callgraph memory leaks timeline marks diff dump \
	"functions --format=csv" "timeline --format=csv" "marks --format=csv" "flamegraph --folded --metric=alloc-count"; do
	"$ANALYZE" $args "$E" >"$TMP/out" 2>"$TMP/err" || fail "$args exited $?"
	assert_eq 0 "$(raw "$TMP/out")" "$args: lines with raw control characters"
	iconv -f UTF-8 -t UTF-8 "$TMP/out" >/dev/null || fail "$args: output is not UTF-8"
done
grep -qx 'Program:    /usr/bin/\\x1b\]0;pwned\\x07prog\\xff' <("$ANALYZE" summary "$E") ||
	fail "summary: the program is not shown escaped"
for cmd in marks dump timeline; do
	"$ANALYZE" $cmd "$E" | grep -q 'phase\\x1b\[2J\\x1b\]0;title\\x07\\xff\\xfe\\xc2\\x9b' ||
		fail "$cmd: the label is not shown escaped"
done
for cmd in summary functions callgraph memory leaks timeline marks diff; do
	json $cmd "$E" >"$TMP/out"
	jq -e . "$TMP/out" >/dev/null || fail "$cmd --format=json: does not parse"
	# jq takes bad UTF-8 silently; JSON must be UTF-8 (RFC 8259)
	iconv -f UTF-8 -t UTF-8 "$TMP/out" >/dev/null || fail "$cmd --format=json: not UTF-8"
done
# argv: a trace path that is not UTF-8, and one with an escape sequence in an error
bad=$(printf '%s/v\377\033[2J.bin' "$TMP")
cp "$TMP/f" "$bad"
"$ANALYZE" summary --format=json "$bad" >"$TMP/out" || fail "summary of $bad exited $?"
iconv -f UTF-8 -t UTF-8 "$TMP/out" >/dev/null || fail "a non-UTF-8 path: JSON not UTF-8"
assert_eq "true" "$(jq '.trace | endswith("/v\ufffd\u001b[2J.bin")' "$TMP/out")" "a non-UTF-8 path in JSON"
"$ANALYZE" summary "$bad.missing" >/dev/null 2>"$TMP/err"
assert_eq 1 "$?" "missing file with escapes: exit status"
assert_eq 0 "$(raw "$TMP/err")" "missing file with escapes: raw control characters on stderr"
grep -q 'v\\xff\\x1b\[2J\.bin\.missing: No such file or directory$' "$TMP/err" || fail "stderr: $(cat -v "$TMP/err")"
