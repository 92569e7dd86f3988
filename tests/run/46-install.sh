#!/usr/bin/env bash
# make install and uninstall with PREFIX=/opt/x LIBDIR=/opt/x/lib64 into a DESTDIR (from a
# copy of the build tree, so that build/ keeps its own paths): exactly the files expected;
# the installed runner finds the installed library under DESTDIR, and after the tree is
# moved, and says where it looked when there is none; the man pages and perfshim.pc name
# the real paths; the bash completion loads (bash-completion's loader, by the command's
# name) and completes commands, each command's options and their values, trace files, and
# the runner's options. uninstall removes every file.
. "$(dirname "$0")/lib.sh"
need_jq

b="$TMP/build" d="$TMP/dest" x="$TMP/dest/opt/x"
mkdir -p "$b"
cp -a "$B/.flags" "$B/preload" "$B/analyzer" "$B/runner" "$LIB" "$ANALYZE" "$RUNNER" "$b/"
[ -e "$B/.paths" ] && cp -a "$B/.paths" "$b/"
paths=(BUILD="$b" PREFIX=/opt/x LIBDIR=/opt/x/lib64 DESTDIR="$d")
make -C "$TOP" -s "${paths[@]}" install >"$TMP/make.out" 2>&1 || { cat "$TMP/make.out"; fail "make install"; }
[ "$(cat "$b/.flags")" == "$(cat "$B/.flags")" ] ||
	echo "note: not the flags build/ was made with: the copy was rebuilt whole"

assert_eq "bin/perfshim
bin/perfshim-analyze
include/perfshim.h
lib64/libperfshim.so
lib64/pkgconfig/perfshim.pc
share/bash-completion/completions/perfshim
share/bash-completion/completions/perfshim-analyze -> perfshim
share/man/man1/libperfshim.1
share/man/man1/perfshim-analyze.1
share/man/man1/perfshim.1" \
	"$(cd "$x" && find . ! -type d -printf '%P%l\n' | sed 's/perfshim-analyzeperfshim$/perfshim-analyze -> perfshim/' | sort)" \
	"installed files"
assert_eq 0 "$(find "$d" ! -path "$x*" ! -type d | wc -l)" "files outside PREFIX"

# the installed runner, still under DESTDIR: the installed library (LIBDIR seen from BINDIR)
cd "$TMP"
preload=$("$x/bin/perfshim" -q -o sh.bin sh -c 'echo $LD_PRELOAD')
assert_eq "$x/lib64/libperfshim.so" "$preload" "the installed runner's library"
"$x/bin/perfshim" -o t.bin "$S/fib" 10 >t.stdout 2>t.stderr || fail "the installed runner: exit $?"
grep -qx "perfshim: trace written to $(pwd -P)/t.bin ([0-9.]* [KMGi]*B\(ytes\)\?)" t.stderr ||
	fail "the installed runner's report: $(cat t.stderr)"
assert_eq 177 "$("$x/bin/perfshim-analyze" functions --format=json t.bin | jq '.functions[] | select(.name == "fib") | .calls')" \
	"the installed analyzer: fib(10) calls"
assert_eq "$("$ANALYZE" --version)" "$("$x/bin/perfshim-analyze" --version)" "the installed analyzer's version"
assert_eq "perfshim $("$ANALYZE" --version | cut -d' ' -f2)" "$("$x/bin/perfshim" --version)" "the runner's version"
# a moved tree still finds its library; a runner alone says where it looked
mv "$d/opt/x" "$TMP/moved"
assert_eq "$TMP/moved/lib64/libperfshim.so" "$("$TMP/moved/bin/perfshim" -q -o sh.bin sh -c 'echo $LD_PRELOAD')" \
	"a moved tree's library"
mkdir "$TMP/lone" && cp "$TMP/moved/bin/perfshim" "$TMP/lone/"
"$TMP/lone/perfshim" true >out 2>err
assert_eq 1 "$?" "a runner without its library: exit status"
assert_eq "perfshim: cannot find libperfshim.so (looked for $TMP/lone/libperfshim.so, $TMP/lone/../lib64/libperfshim.so and /opt/x/lib64/libperfshim.so)" \
	"$(cat err)" "a runner without its library: the message"
mv "$TMP/moved" "$d/opt/x"

# the man pages and perfshim.pc: the real paths, no placeholder left, no /usr/local
m="$x/share/man/man1"
assert_eq 0 "$(cat "$m"/*.1 "$x/lib64/pkgconfig/perfshim.pc" | grep -c -e '@[A-Z]*@' -e /usr/local)" \
	"placeholders and /usr/local left"
grep -q '^\.B LD_PRELOAD=/opt/x/lib64/libperfshim.so$' "$m/libperfshim.1" || fail "libperfshim.1: the synopsis"
grep -qx '\.I /opt/x/lib64/libperfshim.so' "$m/perfshim.1" || fail "perfshim.1: the library's path"
grep -qx '\.I /opt/x/share/bash-completion/completions/perfshim' "$m/perfshim.1" || fail "perfshim.1: the completion's path"
for p in "$m"/*.1; do
	groff -man -Tutf8 -ww -z "$p" 2>"$TMP/groff.err" || fail "$p: groff exit $?"
	assert_eq "" "$(cat "$TMP/groff.err")" "$(basename "$p"): groff warnings"
done
man -l "$m/libperfshim.1" 2>/dev/null | grep -q 'LD_PRELOAD=/opt/x/lib64/libperfshim.so' ||
	fail "libperfshim.1 as man shows it"
pc() { PKG_CONFIG_PATH="$x/lib64/pkgconfig" pkg-config "$@" perfshim; }
assert_eq "/opt/x/lib64/libperfshim.so" "$(pc --variable=preload)" "perfshim.pc: preload"
assert_eq "/opt/x/bin/perfshim" "$(pc --variable=runner)" "perfshim.pc: runner"
assert_eq "-I/opt/x/include" "$(pc --cflags | sed "s/ *$//")" "perfshim.pc: cflags"
assert_eq "$("$ANALYZE" --version | cut -d' ' -f2)" "$(pc --modversion)" "perfshim.pc: version"

# the completion, loaded as bash-completion loads it (by the command's name, from
# XDG_DATA_DIRS) when it is there, else sourced; then driven as bash drives it
mkdir -p "$TMP/c/sub" && touch "$TMP/c/a.bin" "$TMP/c/b.bin.zst" "$TMP/c/perfshim.1.bin" "$TMP/c/c.txt"
cat >"$TMP/comp.sh" <<EOF
PATH="$x/bin:\$PATH"
if [ -r /usr/share/bash-completion/bash_completion ]; then
	XDG_DATA_DIRS="$x/share" BASH_COMPLETION_USER_DIR="$TMP/none"
	. /usr/share/bash-completion/bash_completion
	__load_completion perfshim-analyze
	__load_completion perfshim
	echo "loader: bash-completion"
else
	. "$x/share/bash-completion/completions/perfshim"
	echo "loader: source"
fi
complete -p perfshim-analyze perfshim
# t WORD... : what the completion offers for the last word (words split as bash splits
# them: --sort=p is three words, --sort = p)
t() {
	COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); COMP_LINE="\$*"; COMP_POINT=\${#COMP_LINE}
	COMPREPLY=()
	\$(complete -p "\$1" | sed 's/.*-F \([^ ]*\) .*/\1/') "\$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "\${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ \$//'
	echo
}
cd "$TMP/c"
EOF
comp() { bash --norc --noprofile -c ". '$TMP/comp.sh' >/dev/null; $1" 2>&1; }
bash --norc --noprofile -c ". '$TMP/comp.sh'" >"$TMP/loaded" 2>&1
cat "$TMP/loaded"
grep -qx 'complete -F _perfshim_analyze perfshim-analyze' "$TMP/loaded" || fail "complete -p perfshim-analyze"
grep -qx 'complete -F _perfshim perfshim' "$TMP/loaded" || fail "complete -p perfshim"
assert_eq "callgraph callgrind chrome" "$(comp 't perfshim-analyze c')" "commands"
assert_eq "a.bin b.bin.zst callgraph callgrind chrome diff dump findings flamegraph functions html leaks marks massif memory perfshim.1.bin pprof sub/ summary timeline waits" \
	"$(comp 't perfshim-analyze ""')" "commands and trace files"
assert_eq "a.bin b.bin.zst perfshim.1.bin sub/" "$(comp 't perfshim-analyze leaks ""')" "trace files after a command"
assert_eq "--sort=" "$(comp 't perfshim-analyze functions --so')" "functions --so"
assert_eq "p50 p99" "$(comp 't perfshim-analyze functions --sort = p')" "functions --sort=p"
assert_eq "bytes count leaked peak temporary" "$(comp 't perfshim-analyze memory --sort = ""')" "memory --sort="
assert_eq "alloc-bytes alloc-count leaked time" "$(comp 't perfshim-analyze flamegraph --metric = ""')" "flamegraph --metric="
assert_eq "B ms" "$(comp 't perfshim-analyze massif --time-unit = ""')" "massif --time-unit="
assert_eq "--filter=" "$(comp 't perfshim-analyze functions --fi')" "functions --fi"
assert_eq "" "$(comp 't perfshim-analyze memory --fi')" "memory has no --filter"
assert_eq "a.bin b.bin.zst c.txt perfshim.1.bin sub/" "$(comp 't perfshim-analyze functions -o ""')" "-o: any file"
# each command's --format values, as its --help says (53-cli.sh checks --help against the
# table of formats)
for cmd in $("$ANALYZE" --help | sed -n '/^Commands/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
	want=$("$ANALYZE" $cmd --help | sed -n 's/^  --format=\([a-z|]*\) .*/\1/p' | tr '|' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
	assert_eq "$want" "$(comp "t perfshim-analyze $cmd --format = ''")" "$cmd --format="
done
assert_eq "--compress" "$(comp 't perfshim --com')" "perfshim --com"
assert_eq "calls calls,malloc malloc none" "$(comp 't perfshim --events ""')" "perfshim --events"
assert_eq "" "$(comp 't perfshim --stack-depth ""')" "perfshim --stack-depth: a number"
assert_eq "./a.bin" "$(comp 't perfshim -o x.bin ./a')" "perfshim: the program"

make -C "$TOP" -s "${paths[@]}" uninstall || fail "make uninstall"
assert_eq "" "$(find "$d" ! -type d)" "files left after uninstall"
