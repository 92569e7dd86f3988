#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-deps.sh - install the Debian packages perfshim needs to build and test.
#
#   misc/install-deps.sh           build and test dependencies (make, make check, make demo)
#   misc/install-deps.sh --bench   also the benchmark's peers (uftrace, heaptrack, ...)
#   misc/install-deps.sh --print   only print what is missing, install nothing
#
# When everything is present it returns at once (dpkg-query only, no apt-get update).
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
	check			# unit tests (Check framework)
	jq			# integration tests read the analyzer's JSON
	binutils		# nm/objdump/readelf used by tests
	time			# /usr/bin/time for the benchmark's CPU times
)
bench_pkgs=(
	uftrace			# function-tracing peer
	heaptrack		# heap-profiling peer
	hyperfine		# wall-clock cross-check
	sqlite3			# an uninstrumented real program for the allocation benchmark
	python3			# the harness's arithmetic and a second real program
	valgrind		# callgrind instruction counts where wall time is noisy
	linux-perf		# perf record: the sampling reference of bench/accuracy.sh
)

want=("${build_pkgs[@]}")
print_only=0
for arg in "$@"; do
	case $arg in
	--bench) want+=("${bench_pkgs[@]}") ;;
	--print) print_only=1 ;;
	-h | --help)
		sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'
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

# uthash has no .pc file; the others must also be visible to pkg-config, or the Makefile's
# flags come out empty. A package can be installed while its .pc is not (foreign arch).
if [ ${#missing[@]} -eq 0 ] && command -v pkg-config >/dev/null; then
	for pc in libunwind check libdw; do
		if ! pkg-config --exists "$pc"; then
			echo "install-deps.sh: packages are installed but pkg-config cannot find '$pc'" >&2
			exit 1
		fi
	done
fi

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

# apt-get's own arguments, without the command name: the operation comes after the options,
# so the same list serves the message and the real call (apt-get -o ... install -y ...).
install_args=(install -y --no-install-recommends "${missing[@]}")
echo "install-deps.sh: missing: ${missing[*]}"
if [ $print_only -eq 1 ]; then
	echo "  install with: apt-get ${install_args[*]}"
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
