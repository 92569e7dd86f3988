#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fnlen.sh - no function in analyzer/, preload/ or runner/ is longer than FNLEN_MAX
# lines (default 120, its signature to its closing brace): issue 9's "no function over about
# 120 lines". A function body opens with "{" and closes with "}" at the start of a line
# (docs/STYLE); its name is the last line before the "{" that starts at column 0.
# Run by `make layering` (and so `make check`); prints each long function and fails if any.
set -u
cd "${1:-.}" || exit 2
max=${FNLEN_MAX:-120}
awk -v max="$max" '
FNR == 1 { infn = 0; sig = ""; sigline = 0 }
/^\{/ { infn = 1; start = sigline ? sigline : FNR; name = sig; next }
infn && /^\}/ {
	n = FNR - start + 1
	if (n > max) { printf "fnlen: %s:%d: %s: %d lines (most: %d)\n", FILENAME, start, name, n, max; bad = 1 }
	infn = 0; sig = ""; sigline = 0; next
}
!infn && /^[A-Za-z_]/ { sig = $0; sigline = FNR }
!infn && /^$/ { sigline = 0 }
END { exit bad }
' analyzer/*.c preload/*.c runner/*.c
