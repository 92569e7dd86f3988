#!/usr/bin/env bash
# errno is the program's: every wrapped entry point (malloc family, sigaction/signal, dlopen,
# dlclose, failing exec, setjmp, an instrumented function) leaves errno exactly as without the
# shim, in the main thread and in a thread whose first event sets it up; at -O0 and -O2
# instrumented and in the plain build. The trace of the run is whole and holds each thread's
# aligned allocations (one of each kind per thread).
. "$(dirname "$0")/lib.sh"
[ -f "$LIB" ] || fail "missing $LIB"
cd "$TMP" || fail "cannot cd to $TMP"

for v in "" O2/ plain/; do
	prog="$S/${v}robust-errno"
	[ -x "$prog" ] || fail "missing $prog (make samples)"
	plain p "$prog"
	traced t.bin "$prog"
	echo "== ${v}robust-errno"
	same_behaviour p t.bin
	assert_eq 80 "$(wc -l <p.stdout)" "lines printed"
	# the marker survives success, the real errno comes through failure
	for tag in main thread; do
		grep -qx "$tag malloc: ok=1 errno=4242" t.bin.stdout || fail "$tag malloc changed errno"
		grep -qx "$tag free: ok=1 errno=4242" t.bin.stdout || fail "$tag free changed errno"
		grep -qx "$tag malloc(huge): ok=0 errno=12" t.bin.stdout || fail "$tag malloc(huge)"
		grep -qx "$tag calloc(overflow): ok=0 errno=12" t.bin.stdout || fail "$tag calloc"
	done
	"$ANALYZE" dump t.bin >dump 2>dump.err || fail "dump exited $?"
	[ -s dump.err ] && { cat dump.err; fail "dump of a clean run warned"; }
	threads=$(awk '$3 == "alloc" { print $2 }' dump | sort -u | wc -l)
	assert_eq 2 "$threads" "threads with allocations"
	for kind in aligned_alloc valloc pvalloc; do
		assert_eq 2 "$(grep -c " alloc kind=$kind " dump)" "$kind records"
	done
	rm -f t.bin*
done
