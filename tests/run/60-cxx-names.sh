#!/usr/bin/env bash
# C++ names in the functions report: demangled (ns::Widget::method(int)), one row per function,
# the module's basename, exact call counts; -O0 and -O2 builds of samples/cxxnames.cc; and a
# static initializer's name (samples/cxxinit.cc).
. "$(dirname "$0")/lib.sh"
need_jq

# name|calls, from the comment at the top of samples/cxxnames.cc
expect='main|1
ns::Widget::Widget(int)|2
ns::Widget::~Widget()|2
ns::Widget::method(int)|5
ns::Widget::method(int) const|2
ns::Widget::make()|1
int ns::twice<int>(int)|3
double ns::twice<double>(double)|4
ns::over(int)|6
ns::over(double)|7
ns::over(char const*)|8
ns::inner::deep()|1
(anonymous namespace)::hidden(int)|9'

for v in "" O2/; do
	echo "== build/samples/${v}cxxnames"
	traced "$TMP/t" "$S/${v}cxxnames"
	plain "$TMP/p" "$S/plain/cxxnames"
	same_behaviour "$TMP/t" "$TMP/p"
	json functions --limit=0 "$TMP/t" >"$TMP/f.json"
	got=$(jq -r '.functions[] | select(.module == "cxxnames") | "\(.name)|\(.calls)"' "$TMP/f.json" | sort)
	assert_eq "$(sort <<<"$expect")" "$got" "${v}cxxnames functions and calls"
	# no mangled or unknown names anywhere in the program's rows
	assert_eq 0 "$(jq '[.functions[] | select(.module == "cxxnames") | .name |
		select(startswith("_Z") or test("\\+0x"))] | length' "$TMP/f.json")" "raw names"
done

# A static initializer (samples/cxxinit.cc): gcc names it _GLOBAL__sub_I__ZN3ABC3fooEv, and its
# mangled part is demangled as c++filt demangles a name inside a word; --no-demangle keeps it.
expect='main|1
_GLOBAL__sub_I_ABC::foo()|1
__static_initialization_and_destruction_0(int, int)|1
ABC::foo()|3'
for v in "" O2/; do
	traced "$TMP/i" "$S/${v}cxxinit"
	assert_eq "cxxinit 7 14" "$(cat "$TMP/i.stdout")" "${v}cxxinit output"
	got=$(json functions --limit=0 "$TMP/i" | jq -r '.functions[] | select(.module == "cxxinit") | "\(.name)|\(.calls)"' | sort)
	assert_eq "$(sort <<<"$expect")" "$got" "${v}cxxinit: static initializer demangled"
	got=$(json functions --no-demangle "$TMP/i" | jq -r '.functions[] | select(.module == "cxxinit") | .name' | grep GLOBAL)
	assert_eq "_GLOBAL__sub_I__ZN3ABC3fooEv" "$got" "${v}cxxinit: --no-demangle keeps it"
done
