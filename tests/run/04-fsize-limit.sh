#!/usr/bin/env bash
# A file-size limit (ulimit -f) smaller than one chunk: the program never gets SIGXFSZ and
# behaves as without the shim; the library says once that the trace reached the limit; the
# trace fits the limit, reads up to what fit (all 1000 fa() calls, part of the fb() calls
# after them) and the analyzer warns that it was cut by the limit (and the reports say it is
# incomplete because of the limit). With the default 1 MiB
# buffers and 64 KiB ones, and on a file system that cannot map the trace (ramfs: the write
# path), when one can be mounted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq
cd "$TMP"
prog="$S/phases"

# limited OUT DIR BUFSIZE : the run under a 64 KiB limit
limited() {
	(ulimit -f 64; PERFSHIM_BUFSIZE=$3 PERFSHIM_OUTPUT="$2/t.bin" LD_PRELOAD="$LIB" "$prog" 1000 1000000) \
		>"$1.stdout" 2>"$1.stderr"
	echo $? >"$1.rc"
}

plain ref "$prog" 1000 1000000
dirs=("$TMP")
mkdir -p "$TMP/ramfs"
if mount -t ramfs ramfs "$TMP/ramfs" 2>/dev/null; then
	trap 'umount "$TMP/ramfs" 2>/dev/null; rm -rf "$TMP"' EXIT
	dirs+=("$TMP/ramfs")
else
	echo "note: cannot mount a ramfs (needs root): the write path is not tried"
fi
for d in "${dirs[@]}"; do
	for bs in 1M 64K; do
		w="$(basename "$d") bufsize $bs"
		rm -f "$d"/t.bin*
		limited run "$d" $bs
		cmp -s ref.stdout run.stdout || fail "$w: stdout differs"
		assert_eq "$(cat ref.rc)" "$(cat run.rc)" "$w: exit status (no SIGXFSZ)"
		assert_eq 1 "$(wc -l <run.stderr)" "$w: lines on stderr"
		grep -q "^perfshim: trace file $d/t.bin reached the file-size limit (RLIMIT_FSIZE, 65536 bytes); recording stopped$" run.stderr ||
			fail "$w: message: $(cat run.stderr)"
		size=$(stat -c %s "$d/t.bin")
		[ "$size" -le 65536 ] || fail "$w: trace of $size bytes passes the limit"
		"$ANALYZE" functions --format=json "$d/t.bin" >f.json 2>an.err
		assert_eq 0 "$?" "$w: analyzer exit status"
		grep -q "warning: .*t.bin: recording stopped early: the trace reached the file-size limit (RLIMIT_FSIZE)" an.err ||
			fail "$w: analyzer warning: $(cat an.err)"
		cp f.json "$d/t.bin.fjson"
		json summary "$d/t.bin" 2>/dev/null >s.json
		assert_eq false "$(jq .complete s.json)" "$w: the reports say the trace is incomplete"
		jq -e '.incomplete | map(select(test("file-size limit"))) | length == 1' s.json >/dev/null ||
			fail "$w: incomplete: $(jq -c .incomplete s.json)"
		assert_eq 1000 "$(calls_of "$d/t.bin" fa)" "$w: fa() calls (all that fit)"
		assert_eq 1 "$(calls_of "$d/t.bin" main)" "$w: main() calls"
		fb=$(calls_of "$d/t.bin" fb)
		[ "$fb" -gt 1000 ] && [ "$fb" -lt 1000000 ] || fail "$w: fb() calls: $fb"
		echo "ok: $w: $fb of the fb() calls fit"
	done
done
