# Helpers that match records of `perfshim-analyze dump` (the process tests, 4*.sh, and others),
# sourced after lib.sh. Function calls are matched by address (module base from the trace + the
# symbol's offset from nm), so the counts do not depend on the symbolizer.

# dumpf TRACE : TRACE.dump holds `perfshim-analyze dump TRACE`
dumpf() {
	"$ANALYZE" dump "$1" >"$1.dump" || fail "perfshim-analyze dump $1 exited $?"
}

# nlines REGEX FILE : how many lines of FILE match the extended REGEX
nlines() { grep -c -E -- "$1" "$2" || true; }

# allocs SIZE DUMP : malloc records of SIZE bytes
allocs() { nlines " alloc kind=malloc size=$1 " "$2"; }

# header FIELD DUMP : pid, ppid or flags from the dump's first line
header() { sed -n "1s/.* $1=\([0-9a-fx]*\).*/\1/p" "$2"; }

# build_id FILE : the GNU build-id of an ELF file, in hex (modules are matched by it: the
# loader's path of a module may hold "..")
build_id() { readelf -n "$1" | sed -n 's/.*Build ID: //p'; }

# fn_addrs DUMP BINARY FUNC : the run-time addresses of FUNC in the loads of BINARY (each once)
fn_addrs() {
	local off
	off=$(nm "$2" | awk -v f="$3" '$3 == f && ($2 == "t" || $2 == "T") { print $1; exit }')
	[ -n "$off" ] || fail "no symbol $3 in $2"
	grep -E " module base=0x[0-9a-f]+ .* build_id=$(build_id "$2") " "$1" |
		sed 's/.* module base=\(0x[0-9a-f]*\) .*/\1/' |
		while read -r base; do printf '0x%x\n' $((base + 0x$off)); done | sort -u
}

# calls DUMP BINARY FUNC : entries of FUNC
calls() {
	local n=0 a
	for a in $(fn_addrs "$1" "$2" "$3"); do
		n=$((n + $(nlines " entry depth=[0-9]+ addr=$a( |\$)" "$1")))
	done
	echo $n
}

# flag_set BIT DUMP : 1 when the header's flags have BIT (a number)
flag_set() { echo $(( ($(header flags "$2") & $1) != 0 )); }
TRACE_F_CHILD=16
TRACE_F_EXEC=32

# chunks TRACE : one line per chunk header, in file order: "tid seq flags size" (the file is
# walked by each header's size and pad, as the format says; an unfinished chunk's size is its
# whole payload area)
chunks() {
	local off=88 end h
	end=$(stat -c %s "$1")
	while [ $((off + 56)) -le "$end" ]; do
		read -r -a h <<<"$(od -An -tu4 -w56 -j "$off" -N 56 "$1")"
		[ "${h[0]}" = 1263421507 ] || break		# "CHNK"
		local tid=${h[1]} seq=${h[2]} size=${h[3]} flags=${h[4]} pad=${h[12]}
		echo "$tid $seq $flags $size"
		off=$((off + 56 + size + pad))
	done
}
TRACE_CHUNK_LAST=1
TRACE_CHUNK_CUT=2
TRACE_CHUNK_PROCESS_END=4
TRACE_CHUNK_OPEN=8

# nchunks_with BIT TRACE : chunks whose flags have BIT
nchunks_with() { chunks "$2" | awk -v b="$1" 'int($3 / b) % 2 == 1' | wc -l; }
