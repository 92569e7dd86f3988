#!/usr/bin/env bash
# Source lines: every frame of a -g program's stacks has its file and line (JSON "frames",
# text "name at file:line"), functions inlined by the compiler are frames of their own
# (marked inlined, with their own line and their caller's), `functions` gives where each
# function is defined, --no-lines gives nulls, and a stripped program gets its lines back
# from its debug file (by build-id or .gnu_debuglink). Line numbers are those of
# samples/leaky.c and samples/inlined.c (their comments say which lines tests read).
. "$(dirname "$0")/lib.sh"
need_jq

leaky="$TOP/samples/leaky.c"
inl="$TOP/samples/inlined.c"
for p in "$S/leaky" "$S/plain/leaky" "$S/plain/inlined"; do
	[ -x "$p" ] || fail "$p is missing (make samples)"
done
export PERFSHIM_DEBUG_ROOT="$TMP/root"	# only the debug files this test puts there
mkdir -p "$TMP/root"

# frames_of FILE KEY: "name|file|line|inlined" of the first stack's frames of KEY (leaks, sites)
frames_of() {
	jq -r --arg k "$2" '.[$k][0].frames[] | "\(.name)|\(.file)|\(.line)|\(.inlined)"' "$1"
}

# -- leaky, -O0 -finstrument-functions: the shadow stack [leak_here, main]. The malloc call's
# address gives leak_here's line (24); main is known by its entry only: its definition (81).
traced "$TMP/k" "$S/leaky"
assert_eq 0 "$(cat "$TMP/k.rc")" "leaky: exit status"
json leaks "$TMP/k" >"$TMP/k.leaks"
assert_eq "leak_here|$leaky|24|false
main|$leaky|81|false" "$(frames_of "$TMP/k.leaks" leaks)" "leaky: the leak's frames (leaks)"
assert_eq '["leak_here","main"]' "$(jq -c '.leaks[0].stack' "$TMP/k.leaks")" "leaky: stack as before"
json memory --limit=0 "$TMP/k" >"$TMP/k.mem"
assert_eq "leak_here|$leaky|24|false
main|$leaky|81|false" "$(jq -r '.sites[] | select(.leaked_bytes == 7000) | .frames[] |
	"\(.name)|\(.file)|\(.line)|\(.inlined)"' "$TMP/k.mem")" "leaky: the leak's frames (memory)"
# every frame of every site: a file and a line, as many frames as stack names
assert_eq 0 "$(jq '[.sites[].frames[] | select(.file == null or .line == null)] | length' "$TMP/k.mem")" \
	"leaky: memory frames without file:line"
assert_eq true "$(jq '[.sites[] | (.stack | length) == (.frames | length)] | all' "$TMP/k.mem")" \
	"leaky: frames as long as stack"
# a site is one function chain: its frames are those of its first stack (work's calloc, line 44)
assert_eq "work:44 main:81|temporaries:34 main:81" "$(jq -r '[.sites[] | select(.bytes == 878 or
	.bytes == 99) | [.frames[] | "\(.name):\(.line)"] | join(" ")] | join("|")' "$TMP/k.mem")" \
	"leaky: the other sites' frames"
# the definitions, in functions
assert_eq "leak_here|$leaky|22
main|$leaky|81
temporaries|$leaky|29
work|$leaky|40" "$(json functions "$TMP/k" | jq -r '.functions[] | "\(.name)|\(.file)|\(.line)"' |
	LC_ALL=C sort)" "leaky: functions' definitions"
# text: name at file:line; functions --lines adds a "Defined at" column
"$ANALYZE" leaks "$TMP/k" >"$TMP/k.txt" || fail "leaks exited $?"
grep -q '^7,000       7  leak_here at leaky.c:24 < main at leaky.c:81$' "$TMP/k.txt" ||
	fail "leaks text: $(cat "$TMP/k.txt")"
echo "ok: leaks text names leak_here at leaky.c:24 < main at leaky.c:81"
"$ANALYZE" functions --lines "$TMP/k" >"$TMP/k.ftxt" || fail "functions exited $?"
assert_eq "Defined at" "$(head -1 "$TMP/k.ftxt" | sed 's/.*Function *//')" "functions --lines header"
assert_eq "leak_here leaky.c:22" "$(awk '$(NF-1) == "leak_here" { print $(NF-1), $NF }' "$TMP/k.ftxt")" \
	"functions --lines row"
"$ANALYZE" functions "$TMP/k" | head -1 | grep -q 'Function$' || fail "functions without --lines: new column"
# the summary's top leaks carry frames too
assert_eq "leak_here:24 main:81" "$(json summary "$TMP/k" |
	jq -r '[.leaks[0].frames[] | "\(.name):\(.line)"] | join(" ")')" "summary: the top leak's frames"

# functions CSV: file and line, the last two columns (full path, as JSON)
"$ANALYZE" functions --format=csv "$TMP/k" >"$TMP/k.csv" || fail "functions --format=csv exited $?"
assert_eq "name,module,addr,calls,total_ns,self_ns,avg_ns,min_ns,max_ns,p50_ns,p99_ns,file,line" \
	"$(grep -v '^#' "$TMP/k.csv" | head -1 | sed 's/,cpu_self_ns,wait_ns//')" "functions CSV header"
assert_eq "leak_here,7,$leaky,22" "$(awk -F, '$1 == "leak_here" { print $1 "," $4 "," $(NF-1) "," $NF }' "$TMP/k.csv")" \
	"functions CSV: leak_here's row ends with its definition"
assert_eq "leak_here,7,," "$("$ANALYZE" functions --format=csv --no-lines "$TMP/k" |
	awk -F, '$1 == "leak_here" { print $1 "," $4 "," $(NF-1) "," $NF }')" "functions CSV --no-lines: empty file, line"

# dump: every frame of its stack lines with file:line (the leak's stack: 24, 81)
"$ANALYZE" dump "$TMP/k" >"$TMP/k.dump" || fail "dump exited $?"
assert_eq 7 "$(grep -c ' alloc kind=malloc size=1000 ' "$TMP/k.dump")" "dump: the leak's 7 mallocs"
leak_stack=$(awk '$3 == "alloc" && $5 == "size=1000" { print substr($7, 7) }' "$TMP/k.dump" | sort -u)
assert_eq "stack $leak_stack: leak_here at leaky.c:24 <- main at leaky.c:81" \
	"$(grep "^stack $leak_stack: " "$TMP/k.dump")" "dump: the leak's stack line"
assert_eq "work:44 work:45 work:47 work:48 work:50" "$(sed -n 's/^stack [0-9]*: \(work\) at leaky.c:\([0-9]*\) <- main at leaky.c:81$/\1:\2/p' "$TMP/k.dump" | tr '\n' ' ' | sed 's/ $//')" \
	"dump: work's five allocation lines"
assert_eq 0 "$(grep '^stack ' "$TMP/k.dump" | sed 's/^stack [0-9]*: //; s/ <- /\n/g' | grep -vc ' at leaky.c:[0-9]*$')" \
	"dump: frames without file:line"
assert_eq "stack $leak_stack: leak_here <- main" "$("$ANALYZE" dump --no-lines "$TMP/k" | grep "^stack $leak_stack: ")" \
	"dump --no-lines: names alone, as before"

# callgraph: each function's definition, a last column of the tree and of --function's tables
"$ANALYZE" callgraph "$TMP/k" >"$TMP/k.cg" || fail "callgraph exited $?"
assert_eq "Defined at" "$(head -1 "$TMP/k.cg" | sed 's/.*Function *//')" "callgraph: header"
# main's children come in order of their time, which varies run to run: compared as a set
assert_eq "main leaky.c:81|leak_here leaky.c:22|temporaries leaky.c:29|work leaky.c:40" \
	"$(tail -n +2 "$TMP/k.cg" | awk '{ print $(NF-1), $NF }' | { read -r top; echo "$top"; sort; } |
		paste -sd'|')" "callgraph: the tree's definitions"
assert_eq "leak_here|$leaky|22" "$(json callgraph "$TMP/k" | jq -r '.nodes[] | select(.name == "leak_here") | "\(.name)|\(.file)|\(.line)"')" \
	"callgraph JSON: a node's definition"
"$ANALYZE" callgraph --function=work "$TMP/k" >"$TMP/k.cgf" || fail "callgraph --function exited $?"
grep -q '^work (0x[0-9a-f]*): 1 calls, total .*, self .*, defined at leaky.c:40$' "$TMP/k.cgf" ||
	fail "callgraph --function: $(head -1 "$TMP/k.cgf")"
assert_eq "main leaky.c:81" "$(sed -n '/^Called by:/,/^$/p' "$TMP/k.cgf" | awk 'NR == 3 { print $(NF-1), $NF }')" \
	"callgraph --function: the caller's definition"
"$ANALYZE" callgraph --no-lines "$TMP/k" | head -1 | grep -q 'Function$' || fail "callgraph --no-lines: a definition column"
"$ANALYZE" callgraph --no-lines --function=work "$TMP/k" | grep -q 'Function$' || fail "callgraph --no-lines --function: a definition column"
"$ANALYZE" callgraph --no-lines --function=work "$TMP/k" | grep -q 'defined at' && fail "callgraph --no-lines --function: defined at"
echo "ok: callgraph --no-lines: no definitions"

# functions --tree (a forked child's trace with its parent's): the same definitions
traced "$TMP/fk" "$S/fork"
main_line=$(grep -n '^int main' "$TOP/samples/fork.c" | cut -d: -f1)
assert_eq "$TOP/samples/fork.c:$main_line" "$(json functions --tree "$TMP/fk" "$TMP"/fk.[0-9]* |
	jq -r '.functions[] | select(.name == "main") | "\(.file):\(.line)"')" "functions --tree: main's definition"

# chrome: each call's event carries its function's definition in args
"$ANALYZE" chrome -o "$TMP/k.chrome" "$TMP/k" || fail "chrome exited $?"
assert_eq "$leaky:22" "$(jq -r '[.traceEvents[] | select(.ph == "X" and .name == "leak_here")] |
	map("\(.args.file):\(.args.line)") | unique | join(" ")' "$TMP/k.chrome")" "chrome: leak_here's args"

# --no-lines: no DWARF read, nulls (and names as before)
json leaks --no-lines "$TMP/k" >"$TMP/k.nol"
assert_eq "leak_here|null|null|false
main|null|null|false" "$(frames_of "$TMP/k.nol" leaks)" "--no-lines: leaks frames"
assert_eq "null null" "$(json functions --no-lines "$TMP/k" |
	jq -r '.functions[] | select(.name == "main") | "\(.file) \(.line)"')" "--no-lines: functions"
"$ANALYZE" leaks --no-lines "$TMP/k" | grep -q '  leak_here < main$' || fail "--no-lines text"

# -- plain/leaky, -O2 and not instrumented: return addresses, so every frame has its call's line
traced "$TMP/p" "$S/plain/leaky"
json leaks "$TMP/p" >"$TMP/p.leaks"
assert_eq "leak_here|$leaky|24|false
main|$leaky|87|false" "$(frames_of "$TMP/p.leaks" leaks | head -2)" "plain/leaky: call sites"

# -- plain/inlined: malloc inside grab(), always_inline into fill(): three frames for one address
traced "$TMP/i" "$S/plain/inlined"
json leaks "$TMP/i" >"$TMP/i.leaks"
assert_eq "300 3" "$(jq -r '"\(.leaked_bytes) \(.leaked_blocks)"' "$TMP/i.leaks")" "inlined: leaks"
assert_eq "grab|$inl|15|true
fill|$inl|24|false
main|$inl|32|false" "$(frames_of "$TMP/i.leaks" leaks | head -3)" "inlined: grab inlined into fill"
assert_eq '["grab","fill","main"]' "$(jq -c '.leaks[0].stack[0:3]' "$TMP/i.leaks")" \
	"inlined: the stack names the inlined function"
"$ANALYZE" leaks "$TMP/i" | grep -q '  grab (inlined) at inlined.c:15 < fill at inlined.c:24 < main at inlined.c:32 <' ||
	fail "inlined: leaks text"
echo "ok: inlined text"
"$ANALYZE" dump "$TMP/i" | grep -q '^stack [0-9]*: grab (inlined) at inlined.c:15 <- fill at inlined.c:24 <- main at inlined.c:32 <- ' ||
	fail "inlined: dump: $("$ANALYZE" dump "$TMP/i" | grep '^stack ' | head -3)"
echo "ok: inlined dump: grab (inlined) at inlined.c:15 <- fill at inlined.c:24 <- main at inlined.c:32"
assert_eq '["fill","main"]' "$(json leaks --no-lines "$TMP/i" | jq -c '.leaks[0].stack[0:2]')" \
	"inlined --no-lines: no inlined frame"
# a suppression names the inlined function, as LeakSanitizer's do (not with --no-lines: not expanded)
printf 'leak:grab\n' >"$TMP/grab.supp"
assert_eq "0 300" "$(json leaks --suppressions="$TMP/grab.supp" "$TMP/i" |
	jq -r '"\(.leaked_bytes) \(.suppressed_bytes)"')" "inlined: leak:grab suppresses"
assert_eq "300 0" "$(json leaks --no-lines --suppressions="$TMP/grab.supp" "$TMP/i" |
	jq -r '"\(.leaked_bytes) \(.suppressed_bytes)"')" "inlined --no-lines: leak:grab does not"
# the flame graph and the html page show the inlined frame as well
"$ANALYZE" flamegraph --folded --metric=leaked "$TMP/i" >"$TMP/i.folded" || fail "flamegraph exited $?"
grep -q ';main;fill;grab 300$' "$TMP/i.folded" || fail "folded: $(cat "$TMP/i.folded")"
echo "ok: folded stack ...;main;fill;grab 300"
"$ANALYZE" html -o "$TMP/i.html" "$TMP/i" || fail "html exited $?"
sed -n 's|^<script type="application/json" id="perfshim-data">\(.*\)</script>$|\1|p' "$TMP/i.html" \
	>"$TMP/i.json"
assert_eq "grab|15|true fill|24|false main|32|false" "$(jq -r '.traces[0] as $t |
	[$t.frames.rows[] | select($t.strings[.[0]] == "grab" or $t.strings[.[0]] == "fill" or
	$t.strings[.[0]] == "main") | "\($t.strings[.[0]])|\(.[3])|\(.[4])"] | join(" ")' "$TMP/i.json")" \
	"html: frames table with lines and inlined"

# -- stripped: names, lines and the inline chain come back from the debug file
mkdir -p "$TMP/app"
cp "$S/plain/inlined" "$TMP/app/inlined"
objcopy --only-keep-debug "$TMP/app/inlined" "$TMP/inlined.debug"
strip --strip-all "$TMP/app/inlined"
traced "$TMP/s" "$TMP/app/inlined"
assert_eq "null|null" "$(json leaks "$TMP/s" | jq -r '.leaks[0].frames[0] | "\(.file)|\(.line)"')" \
	"stripped, no debug file: no line"
id=$(readelf -n "$TMP/app/inlined" | sed -n 's/.*Build ID: //p')
mkdir -p "$TMP/root/.build-id/${id:0:2}"
cp "$TMP/inlined.debug" "$TMP/root/.build-id/${id:0:2}/${id:2}.debug"
assert_eq "grab|$inl|15|true
fill|$inl|24|false
main|$inl|32|false" "$(json leaks "$TMP/s" >"$TMP/s.b"; frames_of "$TMP/s.b" leaks | head -3)" \
	"stripped: lines from the build-id directory"
rm -rf "$TMP/root/.build-id"
(cd "$TMP" && objcopy --add-gnu-debuglink=inlined.debug app/inlined)
mv "$TMP/inlined.debug" "$TMP/app/"
assert_eq "grab|$inl|15|true
fill|$inl|24|false
main|$inl|32|false" "$(json leaks "$TMP/s" >"$TMP/s.l"; frames_of "$TMP/s.l" leaks | head -3)" \
	"stripped: lines from the .gnu_debuglink file"
