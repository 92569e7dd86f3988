#!/usr/bin/env bash
# bench/compare-null.sh [REPS] [RUNS] [ALPHA]: the family-wise error of perfshim compare on
# real runs. Compares samples/variant.c's base build with itself REPS times (default 20),
# RUNS runs a side (default 10), and counts the comparisons that called anything
# significant: at most ALPHA (default 0.05) of them should. Not part of make bench (it takes
# REPS times a comparison, about 4 s each here); docs/compare.md reports its result.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
reps=${1:-20} runs=${2:-10} alpha=${3:-0.05}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/perfshim-null.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cc -g -O0 -fno-inline -finstrument-functions -fno-omit-frame-pointer "$TOP/samples/variant.c" \
	-o "$tmp/base" || exit 1
hits=0
for r in $(seq 1 "$reps"); do
	"$TOP/build/perfshim" compare --format=json --runs "$runs" --alpha "$alpha" \
		a="$tmp/base" b="$tmp/base" >"$tmp/c.json" || exit 1
	sig=$(jq -c '[(.changes[] | select(.significant) | "\(.name) \(.metric)"),
		(.variants[1].versus_base | to_entries[] | select(.value.significant) | .key)]' "$tmp/c.json")
	[ "$sig" != "[]" ] && hits=$((hits + 1))
	echo "comparison $r: significant: $sig"
done
echo "$hits of $reps comparisons of identical variants called something significant (alpha $alpha)"
