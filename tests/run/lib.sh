# Shared helpers for tests/run/*.sh (sourced). Every helper fails the test loudly.
set -u
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
B="$TOP/build"
LIB="$B/libperfshim.so"
ANALYZE="$B/perfshim-analyze"
RUNNER="$B/perfshim"
S="$B/samples"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/perfshim-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# no debuginfod server unless a test starts its own (Debian's profile.d sets DEBUGINFOD_URLS)
unset DEBUGINFOD_URLS

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected '$1', got '$2'"; echo "ok: $3 = $2"; }

# runner_size FILE: FILE's size as the runner writes it (runner/files.c human): "N bytes"
# under 1 KiB, else one decimal of KiB, MiB, GiB or TiB (a trace of 1,024 bytes is "1.0 KiB")
runner_size() {
	stat -c %s "$1" | awk '{ n = $1; if (n < 1024) { printf "%d bytes\n", n; exit }
		split("KiB MiB GiB TiB", u, " "); i = 0
		while (n >= 1024 && i < 4) { n /= 1024; i++ }
		printf "%.1f %s\n", n, u[i] }'
}

# traced OUT PROG ARGS... : run PROG under the shim with trace OUT, stdout/stderr to OUT.stdout/.stderr,
# exit status to OUT.rc (never fails by itself)
traced() {
	local out=$1; shift
	PERFSHIM_OUTPUT="$out" LD_PRELOAD="$LIB" "$@" >"$out.stdout" 2>"$out.stderr"
	echo $? >"$out.rc"
}

# plain OUT PROG ARGS... : the same run without the shim
plain() {
	local out=$1; shift
	"$@" >"$out.stdout" 2>"$out.stderr"
	echo $? >"$out.rc"
}

# same_behaviour A B : the two runs printed and exited identically
same_behaviour() {
	cmp -s "$1.stdout" "$2.stdout" || { diff "$1.stdout" "$2.stdout" | head; fail "stdout differs"; }
	cmp -s "$1.stderr" "$2.stderr" || { diff "$1.stderr" "$2.stderr" | head; fail "stderr differs"; }
	assert_eq "$(cat "$1.rc")" "$(cat "$2.rc")" "exit status"
}

# json CMD... : run perfshim-analyze with --format=json, fail on a non-zero exit
json() {
	"$ANALYZE" "$@" --format=json || fail "perfshim-analyze $* exited $?"
}

need_jq() { command -v jq >/dev/null || fail "jq is missing (misc/install-deps.sh installs it)"; }
