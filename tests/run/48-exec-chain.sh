#!/usr/bin/env bash
# An image that execs itself 60 times leaves 61 readable traces with short names: PATH,
# PATH.exec, PATH.exec2, ... PATH.exec60 (not PATH.exec.exec... past NAME_MAX), each with the
# EXEC flag but the first, the same pid and exactly one step() call (and its own argv).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dump.sh"
need_jq
cd "$TMP"
prog="$S/execself"
plain ref "$prog" 60
rm -f t.bin t.bin.*
traced "$TMP/t.bin" "$prog" 60
same_behaviour ref t.bin
names="t.bin t.bin.exec"
for k in $(seq 2 60); do names="$names t.bin.exec$k"; done
assert_eq "$(tr ' ' '\n' <<<"$names" | sort)" \
	"$(ls t.bin t.bin.* | grep -v -E '\.(stdout|stderr|rc)$' | sort)" "trace files"
off=$(nm "$prog" | awk '$3 == "step" { print $1 }')
bid=$(build_id "$prog")
pid=
k=0
for f in $names; do
	dumpf "$f"
	[ -z "$pid" ] && pid=$(header pid "$f.dump")
	[ "$(header pid "$f.dump")" = "$pid" ] || fail "$f: pid $(header pid "$f.dump"), not $pid"
	[ "$(flag_set $TRACE_F_EXEC "$f.dump")" = "$((k > 0))" ] || fail "$f: EXEC flag"
	base=$(sed -n "s/.* module base=\(0x[0-9a-f]*\) .* build_id=$bid .*/\1/p" "$f.dump")
	n=$(nlines " entry depth=[0-9]+ addr=$(printf '0x%x' $((base + 0x$off)))( |\$)" "$f.dump")
	[ "$n" = 1 ] || fail "$f: step() calls: $n"
	k=$((k + 1))
done
assert_eq "$prog 60" "$(json summary t.bin | jq -r .cmdline)" "the first image's command line"
assert_eq "$prog 0" "$(json summary t.bin.exec60 | jq -r .cmdline)" "the last image's command line"
echo "ok: 61 traces of one pid, each with its image's one step() call"
