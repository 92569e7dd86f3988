#!/usr/bin/env bash
# The committed traces of tests/data/ (valid, cut, flipped, zeroed, wrong version, foreign,
# random, empty, repeated chunks, crafted values...): each NAME.bin gets exactly what
# NAME.expect says from `dump` (exit status, number of event lines, the one stderr line or
# none), from its "json CMD FILTER VALUE" lines (jq FILTER of CMD's JSON is VALUE) and its
# "text CMD REGEX" lines (a line of CMD's text report matches REGEX), every
# other command must agree on the exit status and never crash (no status above 2), and an
# incomplete trace starts every text report with the warning block.
. "$(dirname "$0")/lib.sh"
need_jq
D="$TOP/tests/data"
n=0
for exp in "$D"/*.expect; do
	name=$(basename "$exp" .expect)
	bin="$D/$name.bin"
	[ -f "$bin" ] || fail "$name: no $name.bin next to $name.expect"
	want_rc=$(sed -n 's/^exit //p' "$exp")
	want_lines=$(sed -n 's/^dump-lines //p' "$exp")
	want_err=$(sed -n 's/^stderr //p' "$exp")

	"$ANALYZE" dump "$bin" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	assert_eq "$want_rc" "$rc" "$name: dump exit status"
	lines=$(grep -vc -e '^#' -e '^stack ' "$TMP/out")
	assert_eq "$want_lines" "$lines" "$name: dump event lines"
	if [ -z "$want_err" ]; then
		assert_eq 0 "$(wc -l <"$TMP/err")" "$name: stderr lines"
	else
		assert_eq 1 "$(wc -l <"$TMP/err")" "$name: stderr lines"
		grep -Eq -- "$want_err" "$TMP/err" || fail "$name: stderr '$(cat "$TMP/err")' does not match '$want_err'"
	fi
	for cmd in summary functions callgraph memory leaks; do
		"$ANALYZE" $cmd "$bin" --format=json >"$TMP/$cmd.json" 2>"$TMP/err"
		rc=$?
		assert_eq "$want_rc" "$rc" "$name: $cmd exit status"
		if [ "$rc" = 0 ]; then
			jq -e . "$TMP/$cmd.json" >/dev/null || fail "$name: $cmd printed invalid JSON"
		fi
	done
	while read -r cmd filter value; do
		[ -f "$TMP/$cmd.json" ] || "$ANALYZE" $cmd --format=json "$bin" >"$TMP/$cmd.json" 2>/dev/null
		assert_eq "$value" "$(jq -r "$filter" "$TMP/$cmd.json")" "$name: $cmd $filter"
	done < <(sed -n 's/^json //p' "$exp")
	# "text CMD REGEX": a line of CMD's text report matches REGEX (grep -E)
	while read -r cmd re; do
		"$ANALYZE" $cmd "$bin" >"$TMP/text" 2>/dev/null
		grep -Eq -- "$re" "$TMP/text" || fail "$name: no line of $cmd matches '$re'"
		echo "ok: $name: $cmd has /$re/"
	done < <(sed -n 's/^text //p' "$exp")
	# incomplete: every text report says so first, on stdout
	if [ "$want_rc" = 0 ] && [ "$(jq .complete "$TMP/summary.json")" = false ]; then
		for cmd in summary functions callgraph memory leaks timeline marks dump diff; do
			"$ANALYZE" $cmd "$bin" >"$TMP/out" 2>/dev/null || fail "$name: $cmd exited $?"
			[ $cmd = dump ] && sed -i 1d "$TMP/out"	# after dump's own header line
			grep -q '^Warning: incomplete trace\|^# incomplete trace' <(head -1 "$TMP/out") ||
				fail "$name: $cmd does not start with the warning: $(head -1 "$TMP/out")"
		done
		echo "ok: $name: every text report starts with the warning"
	fi
	rm -f "$TMP"/*.json
	n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n data files"
echo "ok: $n data files"
