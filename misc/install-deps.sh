#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-deps.sh - install the Debian packages perfshim needs to build and test.
#
#   misc/install-deps.sh           build and test dependencies (make, make check, make demo)
#   misc/install-deps.sh --bench   also the benchmark's peers (uftrace, heaptrack, ...)
#   misc/install-deps.sh --fuzz    the same (clang and libFuzzer are in the default set)
#   misc/install-deps.sh --print   only print what is missing, install nothing
#
# The browser tests also need playwright-core from npm, installed into tests/browser/node_modules
# (PERFSHIM_BROWSER_DIR overrides the folder) at the version tests/browser/package.json pins.
# When everything is present it returns at once (dpkg-query only, no apt-get update, no npm).
# As root it uses apt-get; otherwise sudo when available; else it prints the command and
# exits 1. Debian's libunwind-dev conflicts with llvm's libunwind-14-dev: apt-get -y removes
# the latter without asking (it is not an essential package), so no prompt can block CI.
set -euo pipefail

# dpkg-query is the test for every package: one call for all of them, no network.
build_pkgs=(
	gcc g++ make pkg-config	# compiler, C++ samples, the Makefile, flags of the libraries
	libc6-dev		# headers
	libunwind-dev		# allocation stacks (preload)
	uthash-dev		# hash tables (header-only, no .pc)
	libdw-dev libelf-dev	# symbols and DWARF lines (analyzer)
	libdebuginfod-dev	# debug files by build-id from DEBUGINFOD_URLS servers (analyzer)
	libzstd-dev		# .zst traces: the analyzer reads them, perfshim --compress writes them
	zlib1g-dev		# the pprof export is gzipped (analyzer/pbuf.c)
	zstd			# tests compress and check .zst traces with the zstd tool
	bash-completion		# the completion test loads misc/perfshim.bash-completion as it does
	groff-base		# the install test renders the man pages (groff -ww)
	check			# unit tests (Check framework)
	jq			# integration tests read the analyzer's JSON
	binutils		# nm/objdump/readelf used by tests
	time			# /usr/bin/time for the benchmark's CPU times
	libxml2-utils		# xmllint: the html and SVG reports are well-formed XML
	python3			# a real program with signal handlers under the shim (tests/run/16)
	golang-go		# go tool pprof reads the pprof export (tests/run/74, 77)
	valgrind		# callgrind_annotate and ms_print read the callgrind and massif
				# exports (tests/run/75-77); callgrind's counts for the benchmark
	chromium		# the browser tests drive Debian's chromium, headless
	nodejs			# ... through playwright-core (tests/browser)
	clang			# the libFuzzer targets: make fuzz, and their seeds in make check
	libclang-rt-14-dev	# ... libFuzzer and the sanitizer runtimes clang 14 links (tests/run/90)
)
bench_pkgs=(
	uftrace			# function-tracing peer
	heaptrack		# heap-profiling peer
	hyperfine		# wall-clock cross-check
	sqlite3			# an uninstrumented real program for the allocation benchmark
	linux-perf		# perf record: the sampling reference of bench/accuracy.sh
)

want=("${build_pkgs[@]}")
print_only=0
for arg in "$@"; do
	case $arg in
	--bench) want+=("${bench_pkgs[@]}") ;;
	--fuzz) ;;		# clang and libFuzzer are in the default set since tests/run/90
	--print) print_only=1 ;;
	-h | --help)
		sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "install-deps.sh: unknown option '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

# One dpkg-query for all packages: those not "install ok installed" are missing.
missing=()
status=$(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null || true)
for p in "${want[@]}"; do
	if ! grep -q "^$p install ok installed$" <<<"$status"; then
		missing+=("$p")
	fi
done

# npm comes with nodesource's nodejs but is a package of its own in Debian
if ! command -v npm >/dev/null; then
	missing+=(npm)
fi

# playwright-core for tests/browser: missing unless node_modules has the pinned version
browser_dir=${PERFSHIM_BROWSER_DIR:-$(cd "$(dirname "$0")/.." && pwd)/tests/browser}
pw_version() { { sed -n 's/.*"'"$2"'": *"\([^"]*\)".*/\1/p' "$1" 2>/dev/null || true; } | head -n 1; }
pw_want=$(pw_version "$browser_dir/package.json" playwright-core)
pw_missing=0
if [ -n "$pw_want" ] &&
	[ "$(pw_version "$browser_dir/node_modules/playwright-core/package.json" version)" != "$pw_want" ]; then
	pw_missing=1
fi

# npm install in the browser tests' folder: only the pinned playwright-core, no lock file
npm_step() {
	[ $pw_missing -eq 1 ] || return 0
	echo "install-deps.sh: installing playwright-core@$pw_want into $browser_dir/node_modules"
	(cd "$browser_dir" && npm install --no-audit --no-fund --no-package-lock) || {
		echo "install-deps.sh: npm install of playwright-core@$pw_want failed" >&2
		exit 1
	}
	if [ "$(pw_version "$browser_dir/node_modules/playwright-core/package.json" version)" != "$pw_want" ]; then
		echo "install-deps.sh: playwright-core@$pw_want is still missing after npm install" >&2
		exit 1
	fi
}

# uthash has no .pc file; the others must also be visible to pkg-config, or the Makefile's
# flags come out empty. A package can be installed while its .pc is not (foreign arch).
if [ ${#missing[@]} -eq 0 ] && command -v pkg-config >/dev/null; then
	for pc in libunwind check libdw libzstd; do
		if ! pkg-config --exists "$pc"; then
			echo "install-deps.sh: packages are installed but pkg-config cannot find '$pc'" >&2
			exit 1
		fi
	done
fi

if [ ${#missing[@]} -eq 0 ]; then
	if [ $pw_missing -eq 1 ] && [ $print_only -eq 1 ]; then
		echo "install-deps.sh: missing: playwright-core@$pw_want (npm)"
		echo "  install with: (cd $browser_dir && npm install --no-audit --no-fund --no-package-lock)"
		exit 1
	fi
	npm_step
	exit 0
fi

# apt-get's own arguments, without the command name: the operation comes after the options,
# so the same list serves the message and the real call (apt-get -o ... install -y ...).
install_args=(install -y --no-install-recommends "${missing[@]}")
echo "install-deps.sh: missing: ${missing[*]}"
if [ $print_only -eq 1 ]; then
	echo "  install with: apt-get ${install_args[*]}"
	[ $pw_missing -eq 0 ] || echo "  then: (cd $browser_dir && npm install --no-audit --no-fund --no-package-lock)"
	exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	sudo=(sudo)
else
	echo "install-deps.sh: not root and no usable sudo; as root run:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get ${install_args[*]}" >&2
	exit 1
fi

# -y also answers yes to removing conflicting packages (libunwind-14-dev gives way to
# libunwind-dev); only removing an essential package would still need a human.
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Options::=--force-confdef \
	-o Dpkg::Options::=--force-confold "${install_args[@]}"

# Verify: a package that apt-get could not install is an error here, not later in make.
still=()
status=$(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null || true)
for p in "${missing[@]}"; do
	grep -q "^$p install ok installed$" <<<"$status" || still+=("$p")
done
if [ ${#still[@]} -gt 0 ]; then
	echo "install-deps.sh: still missing after apt-get: ${still[*]}" >&2
	exit 1
fi
echo "install-deps.sh: installed ${missing[*]}"
npm_step
