#!/usr/bin/env bash
# A stripped program: its functions print as module+0xOFFSET. Its separate debug file brings the
# names back, found by .gnu_debuglink (CRC checked) or by build-id under the debug root.
. "$(dirname "$0")/lib.sh"
need_jq

mkdir -p "$TMP/app" "$TMP/root"
cp "$S/cxxnames" "$TMP/app/cxxnames"
objcopy --only-keep-debug "$TMP/app/cxxnames" "$TMP/cxxnames.debug"
strip --strip-all "$TMP/app/cxxnames"
export PERFSHIM_DEBUG_ROOT="$TMP/root"	# not /usr/lib/debug: only what this test puts there

traced "$TMP/t" "$TMP/app/cxxnames"
assert_eq 0 "$(cat "$TMP/t.rc")" "exit status"

# module+0xOFFSET for each of the 13 functions, offsets as nm gives them (no load bias)
"$ANALYZE" functions --limit=0 --format=json "$TMP/t" >"$TMP/f.json" 2>"$TMP/err" ||
	fail "functions exited $?: $(cat "$TMP/err")"
want=$(nm "$S/cxxnames" | while read -r a k _; do
	case $k in [TtWw]) printf 'cxxnames+0x%x\n' $((16#$a)) ;; esac
done | sort -u)
got=$(jq -r '.functions[] | select(.module == "cxxnames") | .name' "$TMP/f.json" | sort)
assert_eq 13 "$(wc -l <<<"$got")" "rows of the stripped program"
assert_eq "" "$(comm -13 <(echo "$want") <(echo "$got"))" "names not at a function's offset"
assert_eq 51 "$(jq '[.functions[] | select(.module == "cxxnames") | .calls] | add' "$TMP/f.json")" \
	"calls of the stripped program"

names() {
	json functions --limit=0 "$TMP/t" 2>"$TMP/err" |
		jq -r '.functions[] | select(.module == "cxxnames") | "\(.name)|\(.calls)"' | sort
}
full='(anonymous namespace)::hidden(int)|9
double ns::twice<double>(double)|4
int ns::twice<int>(int)|3
main|1
ns::Widget::Widget(int)|2
ns::Widget::make()|1
ns::Widget::method(int) const|2
ns::Widget::method(int)|5
ns::Widget::~Widget()|2
ns::inner::deep()|1
ns::over(char const*)|8
ns::over(double)|7
ns::over(int)|6'
full=$(sort <<<"$full")

# by build-id: ROOT/.build-id/xx/rest.debug
id=$(readelf -n "$TMP/app/cxxnames" | sed -n 's/.*Build ID: //p')
mkdir -p "$TMP/root/.build-id/${id:0:2}"
cp "$TMP/cxxnames.debug" "$TMP/root/.build-id/${id:0:2}/${id:2}.debug"
assert_eq "$full" "$(names)" "names from the build-id directory"
rm -rf "$TMP/root/.build-id"

# by .gnu_debuglink next to the program (added after recording: the build-id is unchanged)
(cd "$TMP" && objcopy --add-gnu-debuglink=cxxnames.debug app/cxxnames)
mv "$TMP/cxxnames.debug" "$TMP/app/"
assert_eq "$full" "$(names)" "names from the debuglink file"
assert_eq "" "$(cat "$TMP/err")" "stderr"
# ... in .debug/ beside it
mkdir "$TMP/app/.debug" && mv "$TMP/app/cxxnames.debug" "$TMP/app/.debug/"
assert_eq "$full" "$(names)" "names from .debug/"
# a debug file whose CRC does not match is not used
printf x >>"$TMP/app/.debug/cxxnames.debug"
assert_eq 13 "$(names | grep -c '^cxxnames+0x')" "rows without names after the CRC changed"
