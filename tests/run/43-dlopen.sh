#!/usr/bin/env bash
# dlopen/dlclose: the plugin found through the program's RUNPATH ($ORIGIN), or named with
# $ORIGIN, loads under the
# shim as without it (and glibc's own loads are recorded too); each load writes a MODULE record and each dlclose an UNLOAD for the same
# base; the plugin's allocations are recorded even when opened with RTLD_DEEPBIND; dlerror()
# and the output are as without the shim.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dump.sh"
cd "$TMP"
plugin=$S/libplugin.so
id=$(build_id "$plugin")
# the loader names the plugin by the RUNPATH entry it was found in ($ORIGIN or $ORIGIN/..)
mod=" module .* build_id=$id /.*/libplugin\.so\$"

for variant in "" O2/; do
	prog="$S/${variant}dlopen"
	w="${variant}dlopen"
	plain ref "$prog"
	grep -q "^first: 303$" ref.stdout || fail "$w does not run: $(cat ref.stdout)"
	traced "$TMP/t.bin" "$prog"
	same_behaviour ref t.bin
	dumpf t.bin
	d=t.bin.dump
	assert_eq 3 "$(nlines "$mod" $d)" "$w: plugin MODULE records"
	assert_eq 3 "$(nlines " unload base=" $d)" "$w: UNLOAD records"
	loads=$(grep -E "$mod" $d | sed 's/.* base=\(0x[0-9a-f]*\) .*/\1/' | tr '\n' ' ')
	unloads=$(grep " unload base=" $d | sed 's/.* base=\(0x[0-9a-f]*\).*/\1/' | tr '\n' ' ')
	assert_eq "$loads" "$unloads" "$w: bases unloaded"
	# its path is the plugin's
	for p in $(grep -E "$mod" $d | sed 's/.* //'); do
		assert_eq "$(realpath "$plugin")" "$(realpath "$p")" "$w: plugin path"
	done
	# events in order: load, 3 blocks (DEEPBIND was dropped), unload, load, 2 blocks, unload,
	# load, 1 block, unload
	order=$(grep -E "($mod| unload base=| alloc kind=malloc size=2222 )" $d |
		sed -E 's/.* (module|unload|alloc) .*/\1/' | tr '\n' ' ')
	assert_eq "module alloc alloc alloc unload module alloc alloc unload module alloc unload " \
		"$order" "$w: event order"
	# every 2222-byte block is freed before its plugin goes
	awk '/ alloc kind=malloc size=2222 / { for (i = 1; i <= NF; i++) if ($i ~ /^ptr=/) live[$i] = 1 }
	     / free ptr=/ { delete live[$4] }
	     / unload base=/ { for (p in live) n++ }
	     END { exit n != 0 }' $d || fail "$w: plugin blocks not freed before dlclose"
	assert_eq 3 "$(calls $d "$plugin" plugin_work)" "$w: plugin_work() calls"
	assert_eq 6 "$(calls $d "$plugin" plugin_leaf)" "$w: plugin_leaf() calls"
done

# modules glibc loads by itself (iconv's gconv modules) are recorded before the trace ends
grep -q "^iconv: 8$" ref.stdout || fail "iconv does not work here: $(cat ref.stdout)"
for m in ISO8859-2 UTF-16; do
	assert_eq 1 "$(nlines " module .*/gconv/$m\.so\$" t.bin.dump)" "gconv module $m"
done

# no shim, no change: LD_PRELOAD set by hand with recording impossible (unwritable path)
plain ref "$S/dlopen"
PERFSHIM_QUIET=1 PERFSHIM_OUTPUT=/nonexistent/t.bin LD_PRELOAD="$LIB" "$S/dlopen" >q.stdout 2>q.stderr
echo $? >q.rc
same_behaviour ref q
