#!/usr/bin/env bash
# Allocation stacks are printed with demangled names: the 4-byte Widget that ns::Widget::make()
# allocates with new has ns::Widget::make() then main in its stack. Shadow stacks (function
# entries) at -O0 and -O2; libunwind stacks (return addresses, looked up at ra - 1) of the
# uninstrumented build, with libstdc++'s operator new and libc's frames named too.
. "$(dirname "$0")/lib.sh"
need_jq

# Frames left mangled or unnamed. One is expected: libstdc++'s emergency exception pool
# (72,704 bytes, allocated by its constructor before the shim's runs) comes from a static
# initializer of the stripped libstdc++.so.6, which has no name to give.
unnamed='[.sites[].stack[] | select(startswith("_Z") or
	(test("\\+0x") and (startswith("libstdc++.so.6+") | not)))] | length'

make_site() {
	json memory "$TMP/t" >"$TMP/m.json"
	jq -c '[.sites[] | select(.stack | index("ns::Widget::make()"))]' "$TMP/m.json"
}

for v in O0 O2; do
	prog="$S/cxxnames"
	[ $v = O2 ] && prog="$S/O2/cxxnames"
	traced "$TMP/t" "$prog"
	sites=$(make_site)
	assert_eq 1 "$(jq length <<<"$sites")" "$v: sites under make()"
	assert_eq 4 "$(jq '.[0].bytes' <<<"$sites")" "$v: bytes"
	assert_eq 1 "$(jq '.[0].allocations' <<<"$sites")" "$v: allocations"
	assert_eq true "$(jq '.[0].stack | index("ns::Widget::make()") < index("main")' <<<"$sites")" \
		"$v: make() inside main"
	assert_eq 0 "$(jq "$unnamed" "$TMP/m.json")" "$v: mangled or unnamed frames"
done

PERFSHIM_STACK_SOURCE=unwind traced "$TMP/t" "$S/plain/cxxnames"
sites=$(make_site)
assert_eq 1 "$(jq length <<<"$sites")" "unwind: sites under make()"
assert_eq '["operator new(unsigned long)","ns::Widget::make()","main"]' \
	"$(jq -c '.[0].stack[0:3]' <<<"$sites")" "unwind: innermost frames"
assert_eq '"_start"' "$(jq -c '.[0].stack[-1]' <<<"$sites")" "unwind: outermost frame"
assert_eq 0 "$(jq "$unnamed" "$TMP/m.json")" "unwind: mangled or unnamed frames"
