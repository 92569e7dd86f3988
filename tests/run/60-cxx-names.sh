#!/usr/bin/env bash
# C++ names in the functions report: demangled (ns::Widget::method(int)), one row per function,
# the module's basename, exact call counts; -O0 and -O2 builds of samples/cxxnames.cc.
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
