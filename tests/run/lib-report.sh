# Helpers that read the analyzer's functions and callgraph reports (the calls tests, 3*.sh, and
# others), sourced after lib.sh. Names are the symbolizer's (demangled for C++).

# both OUT PROG ARGS... : run PROG with and without the shim (trace OUT, runs OUT and OUT.ref)
# and check that both printed and exited the same
both() {
	local out=$1; shift
	plain "$out.ref" "$@"
	traced "$out" "$@"
	same_behaviour "$out" "$out.ref"
	[ -s "$out" ] || fail "no trace written by $*"
}

# funcs TRACE : TRACE.f holds "name|calls" for every function row, sorted
funcs() {
	json functions --limit=0 "$1" >"$1.fjson"
	jq -r '.functions[] | "\(.name)|\(.calls)"' "$1.fjson" | sort >"$1.f"
}

# calls_of TRACE NAME : calls of NAME in the functions report (0 when absent); needs funcs
calls_of() {
	jq --arg n "$2" '[.functions[] | select(.name == $n) | .calls] | add // 0' "$1.fjson"
}

# field_of TRACE NAME KEY : KEY (total_ns, min_ns, ...) of NAME's row; needs funcs
field_of() {
	jq --arg n "$2" --arg k "$3" '[.functions[] | select(.name == $n) | .[$k]] | add // 0' \
		"$1.fjson"
}

# paths TRACE : TRACE.p holds "caller;...;callee|calls" for every call path of the
# callgraph (each thread's paths merged by the report), sorted
paths() {
	json callgraph "$1" >"$1.cjson"
	jq -r '(reduce .nodes[] as $x ({}; .[$x.id | tostring] =
			((if $x.parent == 0 then "" else .[$x.parent | tostring] + ";" end) + $x.name)))
		as $p | .nodes[] | "\($p[.id | tostring])|\(.calls)"' "$1.cjson" | sort >"$1.p"
}

# expect_lines FILE WHAT LINES : FILE holds exactly LINES (sorted before comparing)
expect_lines() {
	assert_eq "$(sort <<<"$3")" "$(cat "$1")" "$2"
}

# clean TRACE : nothing lost, no exit without its entry (summary's event counts)
clean() {
	assert_eq "0 0" "$(json summary "$1" | jq -r '"\(.events.lost) \(.events.unmatched_exits)"')" \
		"lost events and unmatched exits"
}
