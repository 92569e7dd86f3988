#!/usr/bin/env bash
# Traces compressed with zstd: every report of a trace and of its .zst is byte for byte the
# same (found by the magic, whatever the name); a .zst cut short or damaged keeps the intact
# part with a warning in every report, or is one error line when nothing is intact; the
# size guard (--decompress-limit); `perfshim --compress` leaves only .zst files (the
# process tree's too) whose contents are the traces, compressed over 3x.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dump.sh"
need_jq
command -v zstd >/dev/null || fail "zstd is missing (misc/install-deps.sh installs it)"
cd "$TMP"
TMP=$(pwd -P)	# the runner reports physical paths

# the realistic sample, in chunks of 64 KiB (so that damage leaves some of them whole)
PERFSHIM_BUFSIZE=64K traced "$TMP/i.bin" "$S/interp" "$TOP/samples/interp/demo.toy"
assert_eq 0 "$(cat i.bin.rc)" "interp exit status"
mkdir raw z
cp i.bin raw/t.bin
zstd -q i.bin -o i.bin.zst
cp i.bin.zst z/t.bin	# zstd data under a trace's name: found by its magic
ratio=$(($(stat -c %s i.bin) * 10 / $(stat -c %s i.bin.zst)))
[ "$ratio" -gt 30 ] || fail "zstd -3 of the interp trace: ratio $ratio/10, expected over 3x"
echo "ok: the interp trace compresses $ratio/10 x"

# every report, every format: the same bytes from t.bin, whichever t.bin it is
reports=(summary "summary --format=json" functions "functions --format=json"
	"functions --format=csv --per-thread" callgraph "callgraph --format=json --function=eval"
	memory "memory --format=json" leaks "leaks --format=json" timeline
	"timeline --format=csv" "timeline --format=json" marks "marks --format=json"
	"diff --from=start --to=end" "diff --format=json t.bin" dump "dump --merged"
	"flamegraph --folded" "flamegraph --metric=alloc-bytes" chrome html)
for args in "${reports[@]}"; do
	(cd raw && "$ANALYZE" $args t.bin >out 2>err) || fail "$args of the trace: exit $?"
	(cd z && "$ANALYZE" $args t.bin >out 2>err) || fail "$args of the .zst: exit $?"
	cmp -s raw/out z/out || { diff raw/out z/out | head -5; fail "$args: the .zst's output differs"; }
	cmp -s raw/err z/err || fail "$args: stderr differs: $(cat z/err)"
	[ -s raw/out ] || fail "$args: no output"
done
echo "ok: ${#reports[@]} reports the same from the trace and from its .zst"
# a .zst name reads the same, the path aside
"$ANALYZE" functions i.bin.zst | sed 's/i\.bin\.zst/i.bin/g' | cmp -s - <("$ANALYZE" functions i.bin) ||
	fail "functions of i.bin.zst differs"
# no temporary directory: a memfd instead
(cd raw && "$ANALYZE" functions t.bin) >functions.raw
TMPDIR=$TMP/nonexistent "$ANALYZE" functions i.bin.zst >functions.z || fail "TMPDIR missing: exit $?"
cmp -s functions.raw functions.z || fail "TMPDIR missing: output differs"
echo "ok: without a temporary directory (memfd)"

# cut short: the trace decompressed so far, with a warning on stderr and in the reports
size=$(stat -c %s i.bin.zst)
head -c $((size / 2)) i.bin.zst >cut.zst
"$ANALYZE" summary --format=json cut.zst >cut.json 2>cut.err
assert_eq 0 "$?" "a .zst cut in half: exit status"
grep -q '^perfshim-analyze: warning: cut.zst: the compressed file is cut short after [0-9.]* [KM]iB of the trace: the rest of the file could not be decompressed$' cut.err ||
	fail "cut .zst: $(cat cut.err)"
assert_eq false "$(jq .complete cut.json)" "cut .zst: complete"
assert_eq 1 "$(jq '[.incomplete[] | select(test("^the compressed file is cut short after"))] | length' cut.json)" \
	"cut .zst: said in the JSON"
"$ANALYZE" functions cut.zst 2>/dev/null | grep -q '^  - the compressed file is cut short after' ||
	fail "cut .zst: not said in the text"
"$ANALYZE" functions --format=csv cut.zst 2>/dev/null | grep -q '^# incomplete trace cut.zst: the compressed file is cut short' ||
	fail "cut .zst: not said in the CSV"
# cut before any of the trace: one error line, exit 1
head -c 10 i.bin.zst >tiny.zst
"$ANALYZE" summary tiny.zst >out 2>err
assert_eq 1 "$?" "a .zst of 10 bytes: exit status"
assert_eq "perfshim-analyze: error: tiny.zst: the compressed file is cut short, before any of the trace" \
	"$(cat err)" "a .zst of 10 bytes: the error"

# damaged in the middle: what came before the damage, with a warning. zstd finds the
# damage in the data, or (when it decoded bytes that are wrong) by the frame's checksum;
# then the chunks' own checksums find the wrong bytes
cp i.bin.zst dam.zst
printf '\xff\x00\xff\x00\xff\x00\xff\x00' | dd of=dam.zst bs=1 seek=$((size * 6 / 10)) conv=notrunc status=none
"$ANALYZE" functions --format=json dam.zst >dam.json 2>dam.err
assert_eq 0 "$?" "a damaged .zst: exit status"
dam_re='(damaged zstd data \(.*\) at compressed byte [0-9]*|the compressed data does not match its checksum \(.*\)) after [0-9.]* [KM]iB of the trace'
grep -E -q "^perfshim-analyze: warning: dam.zst: $dam_re" dam.err || fail "damaged .zst: $(cat dam.err)"
assert_eq 1 "$(jq --arg re "^$dam_re" '[.incomplete[] | select(test($re))] | length' dam.json)" \
	"damaged .zst: said in the JSON"
[ "$(jq '.functions | length' dam.json)" -gt 10 ] || fail "damaged .zst: no functions from the intact part"
# only the frame's checksum wrong: zstd keeps back the frame's last block, the rest is read
cp i.bin.zst sum.zst
printf '\x00\x00\x00\x00' | dd of=sum.zst bs=1 seek=$((size - 4)) conv=notrunc status=none
"$ANALYZE" functions --format=json sum.zst >sum.json 2>sum.err
assert_eq 0 "$?" "a .zst with a wrong checksum: exit status"
grep -q "^perfshim-analyze: warning: sum.zst: the compressed data does not match its checksum (the frame's last block is lost) after [0-9.]* MiB of the trace" sum.err ||
	fail "wrong checksum: $(cat sum.err)"
assert_eq false "$(jq .complete sum.json)" "wrong checksum: complete"
[ "$(jq '.functions | length' sum.json)" -gt 10 ] || fail "wrong checksum: no functions"

# the size guard: the frame's own size is checked before anything is written, a stream of
# unknown size as it is decompressed; a bad limit is bad usage
rc_line() { "$ANALYZE" "$@" >out 2>err; echo "$? $(wc -l <err)"; }
assert_eq "1 1" "$(rc_line summary --decompress-limit=1M i.bin.zst)" "over the limit: exit status, lines"
grep -qx 'perfshim-analyze: error: i.bin.zst: the trace in it is [0-9.]* MiB, over the limit of 1.0 MiB (--decompress-limit)' err ||
	fail "over the limit: $(cat err)"
zstd -q -c <i.bin >nosize.zst
assert_eq "1 1" "$(rc_line summary --decompress-limit=512K nosize.zst)" "over the limit, size unknown"
grep -qx 'perfshim-analyze: error: nosize.zst: the trace in it is over the limit of 512.0 KiB (--decompress-limit)' err ||
	fail "over the limit, size unknown: $(cat err)"
assert_eq "0 0" "$(rc_line summary --decompress-limit=0 nosize.zst)" "no limit"
assert_eq "2 1" "$(rc_line summary --decompress-limit=lots i.bin.zst)" "a bad limit"

# perfshim --compress: a program, its exec'd image, and a forked child: only .zst files are
# left, each the trace it replaced (what the process allocated), and the runner says so
"$RUNNER" --compress -o t.bin "$S/exec" v >r.stdout 2>r.stderr
assert_eq 5 "$(echo $?)" "--compress: the program's exit status"
assert_eq "t.bin.exec.zst t.bin.zst" "$(ls t.bin* | tr '\n' ' ' | sed 's/ $//')" "--compress: files left"
for f in t.bin t.bin.exec; do
	grep -qx "perfshim: trace written to $TMP/$f.zst ($(runner_size $f.zst), compressed from .*" r.stderr ||
		fail "--compress: the report of $f.zst: $(cat r.stderr)"
	zstd -q -d $f.zst -o $f.raw
	dumpf $f.raw
done
assert_eq 2 "$(wc -l <r.stderr)" "--compress: report lines"
assert_eq 4 "$(allocs 444 t.bin.exec.raw.dump)" "--compress: the exec'd image's trace"
assert_eq 0 "$(allocs 444 t.bin.raw.dump)" "--compress: the first image's trace"
assert_eq "$(header pid t.bin.raw.dump)" "$(header pid t.bin.exec.raw.dump)" "--compress: exec keeps the pid"
mkdir fork && cd fork
"$RUNNER" -z -q "$S/fork" >out 2>err
assert_eq 0 "$?" "--compress fork: exit status"
assert_eq 0 "$(wc -c <err)" "--compress -q: nothing on stderr"
assert_eq 2 "$(ls perfshim.*.bin.zst | wc -l)" "--compress fork: .zst files"
assert_eq 0 "$(ls | grep -c -v -e '\.zst$' -e '^out$' -e '^err$')" "--compress fork: other files"
for f in perfshim.*.bin.zst; do dumpf "$f"; done
child=$(for d in perfshim.*.zst.dump; do [ $((0x$(header flags $d | sed 's/0x//') & TRACE_F_CHILD)) -ne 0 ] && echo $d; done)
[ -n "$child" ] || fail "--compress fork: no child trace"
assert_eq 3 "$(allocs 200 "$child")" "--compress fork: the child's blocks"
assert_eq 0 "$(allocs 300 "$child")" "--compress fork: the parent's blocks not in the child's"
cd ..
# the runner's compression ratio on the interp sample, read back by the analyzer
"$RUNNER" -z -q -o c.bin "$S/interp" "$TOP/samples/interp/demo.toy" >/dev/null
[ -e c.bin ] && fail "--compress left c.bin"
zstd -q -d c.bin.zst -o c.raw
ratio=$(($(stat -c %s c.raw) * 10 / $(stat -c %s c.bin.zst)))
[ "$ratio" -gt 30 ] || fail "--compress of the interp trace: ratio $ratio/10, expected over 3x"
echo "ok: --compress: ratio $ratio/10 x"
"$ANALYZE" functions c.bin.zst | sed 's/c\.bin\.zst/c.raw/g' | cmp -s - <("$ANALYZE" functions c.raw) ||
	fail "--compress: the analyzer reads the .zst as the trace"
# a FILE.zst already there is not replaced: the trace stays, said in one line
echo keep >k.bin.zst
"$RUNNER" -z -o k.bin "$S/fib" 5 >/dev/null 2>err
assert_eq keep "$(cat k.bin.zst)" "--compress: an existing .zst"
[ -s k.bin ] || fail "--compress: the trace was removed although not compressed"
grep -qx 'perfshim: k.bin: not compressed (k.bin.zst): a file of that name is already there; the trace is left as it was' err ||
	fail "--compress over an existing .zst: $(cat err)"
ls k.bin.zst.part 2>/dev/null && fail "--compress: a part file was left"
# a process of the run still running when the runner ends: its trace is left as it is
# (sh waits for the child's trace to be there, so that the runner finds it)
"$RUNNER" -z -o bg.bin sh -c 'sleep 60 & while [ ! -e bg.bin.$! ]; do :; done; echo $!' >bg.out 2>bg.err
bgpid=$(cat bg.out)
kill "$bgpid" 2>/dev/null
grep -q "^perfshim: bg.bin.* left uncompressed: process [0-9]* is still running$" bg.err ||
	fail "--compress, a process still running: $(cat bg.err)"
echo "ok: a process still running: $(grep uncompressed bg.err)"
