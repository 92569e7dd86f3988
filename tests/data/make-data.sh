#!/bin/sh
# Regenerates the committed traces of tests/data/ from gen-data.c (deterministic output).
# Run from anywhere: tests/data/make-data.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=gnu11 -D_GNU_SOURCE -iquote "$top" -o "$tmp/gen-data" "$here/gen-data.c" \
	"$top/tests/unit/tracegen.c"
"$tmp/gen-data" "$here"
