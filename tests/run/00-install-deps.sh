#!/usr/bin/env bash
# misc/install-deps.sh's install path, driven with stand-ins for apt-get, dpkg-query, id, sudo
# and pkg-config placed first in PATH. The stand-in apt-get parses its arguments as the real one
# does (options, then one operation, then packages) and records each call, so a command line the
# real apt-get would refuse ("E: Invalid operation apt-get") fails here too, on a machine that
# already has every package. Also: nothing installed twice, no apt at all when nothing is
# missing, the non-root paths, a package apt-get could not install, and the npm step of the
# browser tests (a stand-in npm, in a copy of tests/browser): once when playwright-core is
# missing, never when it is there.
. "$(dirname "$0")/lib.sh"

script="$TOP/misc/install-deps.sh"
fake="$TMP/bin"
state="$TMP/state"
mkdir -p "$fake" "$state/installed"

# dpkg-query -W -f='${Package} ${Status}\n' PKG...: installed packages are files in
# $FAKE_STATE/installed; an unknown one is reported on stderr, exit 1, as dpkg-query does.
cat >"$fake/dpkg-query" <<'EOF'
#!/usr/bin/env bash
echo "dpkg-query $*" >>"$FAKE_STATE/calls"
[ "$1" = "-W" ] || { echo "fake dpkg-query: expected -W first" >&2; exit 2; }
shift
case $1 in -f=*) shift ;; -f) shift 2 ;; esac
echo "dpkg-query packages: $*" >>"$FAKE_STATE/calls"
rc=0
for p in "$@"; do
	if [ -e "$FAKE_STATE/installed/$p" ]; then
		echo "$p install ok installed"
	else
		echo "dpkg-query: no packages found matching $p" >&2
		rc=1
	fi
done
exit $rc
EOF

# apt-get: options (-o X=Y, -y, -q, --no-install-recommends, ...) anywhere, exactly one
# operation (the first non-option word), packages after `install`. Exit 100 like apt-get on a
# command line it does not understand. FAKE_APT_REFUSE names a package it cannot install.
cat >"$fake/apt-get" <<'EOF'
#!/usr/bin/env bash
echo "apt-get $* [DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}]" >>"$FAKE_STATE/calls"
op= pkgs=()
while [ $# -gt 0 ]; do
	case $1 in
	-o | -c | -t) [ $# -ge 2 ] || { echo "E: Option $1 requires an argument" >&2; exit 100; }
		shift ;;
	-o=* | -y | --yes | --assume-yes | -q | -qq | --quiet | --no-install-recommends | \
	-f | --fix-broken) ;;
	-*) echo "E: Command line option '$1' is not understood" >&2; exit 100 ;;
	*) if [ -z "$op" ]; then op=$1; else pkgs+=("$1"); fi ;;
	esac
	shift
done
case $op in
update) [ ${#pkgs[@]} -eq 0 ] || { echo "E: The update command takes no arguments" >&2; exit 100; } ;;
install)
	for p in "${pkgs[@]}"; do
		[ "$p" != "${FAKE_APT_REFUSE:-}" ] || { echo "E: Unable to locate package $p" >&2; exit 100; }
	done
	for p in "${pkgs[@]}"; do touch "$FAKE_STATE/installed/$p"; done ;;
"") echo "E: No operation given" >&2; exit 100 ;;
*) echo "E: Invalid operation $op" >&2; exit 100 ;;
esac
EOF

# id -u: $FAKE_UID; sudo: -n true succeeds when FAKE_SUDO=1, then runs the command;
# pkg-config --exists: always (the .pc files are not what this test is about).
cat >"$fake/id" <<'EOF'
#!/usr/bin/env bash
[ "$1" = "-u" ] && { echo "${FAKE_UID:-0}"; exit 0; }
exec /usr/bin/id "$@"
EOF
cat >"$fake/sudo" <<'EOF'
#!/usr/bin/env bash
[ "${FAKE_SUDO:-0}" = 1 ] || { echo "sudo: a password is required" >&2; exit 1; }
[ "$1" = "-n" ] && shift
echo "sudo $*" >>"$FAKE_STATE/calls"
exec "$@"
EOF
printf '#!/bin/sh\nexit 0\n' >"$fake/pkg-config"
chmod +x "$fake"/*

# npm install in the browser folder: records the call and its folder, and "installs" the
# version package.json pins, as the real one would (no registry is asked here).
cat >"$fake/npm" <<'EOF'
#!/usr/bin/env bash
echo "npm $* [in $PWD]" >>"$FAKE_STATE/calls"
[ "$1" = install ] || { echo "fake npm: expected install" >&2; exit 1; }
v=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' package.json)
mkdir -p node_modules/playwright-core
printf '{\n  "name": "playwright-core",\n  "version": "%s"\n}\n' "$v" >node_modules/playwright-core/package.json
EOF
chmod +x "$fake/npm"

# A copy of tests/browser with playwright-core already there: the apt cases below see no npm
# step. The npm cases at the end remove it.
browser="$TMP/browser"
mkdir -p "$browser"
cp "$TOP/tests/browser/package.json" "$browser/"
pw=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' "$browser/package.json")
[ -n "$pw" ] || fail "tests/browser/package.json pins no playwright-core version"
(cd "$browser" && FAKE_STATE=$state "$fake/npm" install) || fail "the stand-in npm"
export PERFSHIM_BROWSER_DIR=$browser

# The package list of the script itself (dpkg-query's arguments when nothing is installed).
all_pkgs() {
	FAKE_STATE=$state PATH="$fake:$PATH" bash "$script" ${1:-} --print >/dev/null 2>&1
	sed -n 's/^dpkg-query packages: //p' "$state/calls" | head -n 1
	rm -f "$state/calls"
}
pkgs=$(all_pkgs)
[ -n "$pkgs" ] || fail "no package list from dpkg-query's arguments"
echo "ok: packages the script checks: $pkgs"

# run NAME ARGS...: the script with the stand-ins; rc in $TMP/NAME.rc, output in $TMP/NAME.out
run() {
	local name=$1; shift
	rm -f "$state/calls"
	FAKE_STATE=$state PATH="$fake:$PATH" timeout 60 bash "$script" "$@" >"$TMP/$name.out" 2>&1
	echo $? >"$TMP/$name.rc"
	touch "$state/calls"
	sed 's/^/    /' "$TMP/$name.out"
}

# 1. Two packages missing, as root: apt-get update, then one install of exactly those two, with
#    a command line the real apt-get accepts (the stand-in exits 100 otherwise).
for p in $pkgs; do touch "$state/installed/$p"; done
rm -f "$state/installed/check" "$state/installed/libunwind-dev"
run missing
assert_eq 0 "$(cat "$TMP/missing.rc")" "missing packages as root: exit status"
grep -q '^E:' "$TMP/missing.out" && fail "apt-get refused the script's command line"
assert_eq 2 "$(grep -c '^apt-get ' "$state/calls")" "apt-get calls (update, install)"
grep '^apt-get ' "$state/calls" | head -n 1 | grep -Eq '^apt-get (-[^ ]+ )*update( |$)' ||
	fail "first apt-get call is not update: $(head -n 1 "$state/calls")"
inst=$(grep '^apt-get ' "$state/calls" | sed -n 2p)
[[ $inst == *"[DEBIAN_FRONTEND=noninteractive]" ]] || fail "install not noninteractive: $inst"
words=$(sed 's/ \[DEBIAN_FRONTEND=.*//; s/ -o [^ ]*//g; s/ -[^ ]*//g' <<<"$inst")
assert_eq "apt-get install libunwind-dev check" "$words" "the install call's operation and packages"
[ -e "$state/installed/check" ] && [ -e "$state/installed/libunwind-dev" ] || fail "not installed"
grep -q "installed libunwind-dev check" "$TMP/missing.out" || fail "no 'installed' line"

# 2. Everything present: exit 0 at once, no apt-get, no sudo, and only dpkg-query asked.
run present
assert_eq 0 "$(cat "$TMP/present.rc")" "nothing missing: exit status"
assert_eq 0 "$(grep -c -v '^dpkg-query ' "$state/calls")" "calls other than dpkg-query when nothing is missing"
assert_eq 0 "$(wc -c <"$TMP/present.out")" "output when nothing is missing"

# 3. --print: says what is missing and the command, installs nothing, exit 1. The printed
#    command is itself a valid apt-get command line.
rm -f "$state/installed/jq"
run print --print
assert_eq 1 "$(cat "$TMP/print.rc")" "--print with a package missing: exit status"
assert_eq 0 "$(grep -c '^apt-get ' "$state/calls")" "apt-get calls with --print"
printed=$(sed -n 's/^  install with: //p' "$TMP/print.out")
[ -n "$printed" ] || fail "--print shows no command"
(export FAKE_STATE=$state PATH="$fake:$PATH"; eval "$printed") >"$TMP/printed.out" 2>&1 ||
	fail "the printed command is not a valid apt-get command: $printed ($(cat "$TMP/printed.out"))"
echo "ok: the printed command runs: $printed"
[ -e "$state/installed/jq" ] || fail "the printed command did not install jq"

# 4. Not root, with a password-less sudo: the same two calls, through sudo.
rm -f "$state/installed/check"
FAKE_UID=1000 FAKE_SUDO=1 run sudo
assert_eq 0 "$(cat "$TMP/sudo.rc")" "non-root with sudo: exit status"
assert_eq 2 "$(grep -c '^sudo env DEBIAN_FRONTEND=noninteractive apt-get ' "$state/calls")" \
	"apt-get calls through sudo"
[ -e "$state/installed/check" ] || fail "sudo path did not install check"

# 5. Not root, no sudo: exit 1, no apt-get, and the advice printed is a valid command line.
rm -f "$state/installed/check"
FAKE_UID=1000 FAKE_SUDO=0 run nosudo
assert_eq 1 "$(cat "$TMP/nosudo.rc")" "non-root without sudo: exit status"
assert_eq 0 "$(grep -c '^apt-get ' "$state/calls")" "apt-get calls without root or sudo"
advice=$(sed -n 's/^  apt-get update && //p' "$TMP/nosudo.out")
[ -n "$advice" ] || fail "no advice printed without root"
(export FAKE_STATE=$state PATH="$fake:$PATH"; eval "$advice") >"$TMP/advice.out" 2>&1 ||
	fail "the advised command is not valid: $advice ($(cat "$TMP/advice.out"))"
echo "ok: the advised command runs: $advice"

# 6. apt-get cannot install one of them: exit non-zero, and the script says which.
rm -f "$state/installed/check"
FAKE_APT_REFUSE=check run refused
[ "$(cat "$TMP/refused.rc")" != 0 ] || fail "a package apt-get could not install: exit 0"
grep -q "check" "$TMP/refused.out" || fail "the failure does not name the package"
echo "ok: a refused package fails the script"

# 7. playwright-core missing, every Debian package there: one npm install in the browser folder,
#    no apt-get; then a second run does nothing at all (returns at once, prints nothing).
for p in $pkgs; do touch "$state/installed/$p"; done
rm -rf "$browser/node_modules"
run npm
assert_eq 0 "$(cat "$TMP/npm.rc")" "playwright-core missing: exit status"
assert_eq 0 "$(grep -c '^apt-get ' "$state/calls")" "apt-get calls when only playwright-core is missing"
assert_eq 1 "$(grep -c '^npm ' "$state/calls")" "npm calls when playwright-core is missing"
grep -q "^npm install .*\[in $browser\]\$" "$state/calls" || fail "npm install not in the browser folder: $(grep '^npm' "$state/calls")"
assert_eq "$pw" "$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$browser/node_modules/playwright-core/package.json")" \
	"playwright-core version installed"
run npm-again
assert_eq 0 "$(cat "$TMP/npm-again.rc")" "playwright-core there: exit status"
assert_eq 0 "$(grep -c -v '^dpkg-query ' "$state/calls")" "calls other than dpkg-query once playwright-core is there"
assert_eq 0 "$(wc -c <"$TMP/npm-again.out")" "output once playwright-core is there"

# 8. --print with only playwright-core missing: says so and how, runs no npm, exit 1.
rm -rf "$browser/node_modules"
run npm-print --print
assert_eq 1 "$(cat "$TMP/npm-print.rc")" "--print with playwright-core missing: exit status"
assert_eq 0 "$(grep -c '^npm ' "$state/calls")" "npm calls with --print"
grep -q "playwright-core@$pw" "$TMP/npm-print.out" || fail "--print does not name playwright-core"
