#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/layering.sh - the analyzer's layering (docs/design.md, "Where things live"): reader
# (trace-*.c) -> model -> views (report-*.c) -> output helpers. No view includes another
# view's header, and nothing below the views (any other analyzer/*.c but main.c) includes a
# view's header at all. A view is one report-NAME[-PART].c family (report-diff*.c is the
# diff view); a view's header is an analyzer/*.h declaring a function that one of its
# report-*.c files defines. report.h, the entry points main.c dispatches to, is exempt.
# Run by `make check` (and `make layering`); prints each violation and fails if any.
set -u
cd "${1:-.}/analyzer" || exit 2
view() { b=${1#report-}; echo "${b%%-*}" | sed 's/\.c$//'; }
tmp=${TMPDIR:-/tmp}/layering.$$
trap 'rm -f "$tmp"' EXIT
# the functions each report-*.c defines (a definition starts a line: type name( ... )
for c in report-*.c; do
	sed -n 's/^[a-z][a-z0-9_ *]*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p' "$c" |
		sed "s|^|$(view "$c") |"
done | sort -u >"$tmp"
bad=0
for c in *.c; do
	case $c in
	report-*.c) v=$(view "$c") ;;
	main.c) continue ;;
	*) v=- ;;		# model, reader or helper: no view's header at all
	esac
	for h in $(sed -n 's|^#include "analyzer/\([a-z0-9-]*\.h\)".*|\1|p' "$c"); do
		[ "$h" = report.h ] && continue
		[ -f "$h" ] || continue
		# the views whose functions $h declares (a prototype names the function before "(")
		owners=$(perl -0777 -pe 's{/\*.*?\*/}{}gs' "$h" | grep -oE '[a-z_][a-z0-9_]*\(' |
			tr -d '(' | sort -u |
			while read -r f; do awk -v f="$f" '$2 == f { print $1 }' "$tmp"; done | sort -u)
		for o in $owners; do
			if [ "$o" != "$v" ]; then
				echo "layering: $c (view $v) includes $h, which declares view $o's functions" |
					sed 's/ (view -)//'
				bad=1
			fi
		done
	done
done
exit $bad
