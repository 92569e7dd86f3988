#!/usr/bin/env bash
# leaks: the built-in suppressions hide what glibc keeps live on purpose (the stdout buffer
# from _IO_file_doallocate, a new thread's DTV from _dl_allocate_tls) and say how much they
# hid; --no-suppress shows it; an LSan-format --suppressions file hides the program's own
# leak (leak_here's 7 x 1000 B) by function, by anchored pattern and by module.
# `leaky sys` prints with printf and runs a thread. Stacks come from libunwind (plain build,
# and the instrumented build with PERFSHIM_STACK_SOURCE=unwind): a shadow stack has only
# instrumented frames, so glibc's allocations would look like the program's caller's.
. "$(dirname "$0")/lib.sh"
need_jq

for v in plain/ ""; do
	prog="$S/${v}leaky"
	[ -x "$prog" ] || fail "$prog is missing (make samples)"
	PERFSHIM_STACK_SOURCE=unwind traced "$TMP/t" "$prog" sys
	plain "$TMP/p" "$prog" sys
	same_behaviour "$TMP/t" "$TMP/p"

	json leaks "$TMP/t" >"$TMP/l.json"
	l() { jq -c "$1" "$TMP/l.json"; }
	assert_eq 7000 "$(l .leaked_bytes)" "${v}: leaked_bytes after built-in suppressions"
	assert_eq 7 "$(l .leaked_blocks)" "${v}: leaked_blocks"
	assert_eq '[["leak_here",7000,7]]' "$(l '[.leaks[] | [.stack[0], .bytes, .blocks]]')" \
		"${v}: the program's leak"
	stdio=$(l '[.suppressed[] | select(.rule | test("stdio buffer")) | .blocks] | add')
	assert_eq 1 "$stdio" "${v}: stdout buffer suppressed (blocks)"
	tls=$(l '[.suppressed[] | select(.rule | test("thread-local storage")) | .blocks] | add')
	assert_eq 1 "$tls" "${v}: thread DTV suppressed (blocks)"
	sup_bytes=$(l .suppressed_bytes)
	assert_eq "$sup_bytes" "$(l '[.suppressed[].bytes] | add')" "${v}: suppressed total = per rule"
	[ "$sup_bytes" -ge 4096 ] || fail "${v}: suppressed_bytes $sup_bytes < the 4 KiB stdout buffer"

	# --no-suppress: the same blocks, all shown
	json leaks --no-suppress "$TMP/t" >"$TMP/n.json"
	assert_eq $((7000 + sup_bytes)) "$(jq .leaked_bytes "$TMP/n.json")" "${v}: --no-suppress total"
	assert_eq 0 "$(jq .suppressed_bytes "$TMP/n.json")" "${v}: --no-suppress hides nothing"
	assert_eq 1 "$(jq '[.leaks[] | select(.stack[0] == "_IO_file_doallocate")] | length' "$TMP/n.json")" \
		"${v}: stdout buffer shown by --no-suppress"
	assert_eq 1 "$(jq '[.leaks[] | select(.stack | index("_dl_allocate_tls"))] | length' "$TMP/n.json")" \
		"${v}: thread DTV shown by --no-suppress"

	# LSan files: comments, blank lines, a function name, an anchored glob, a module
	printf '# the known leak\n\nleak:leak_here\n' >"$TMP/s1"
	printf 'leak:^leak_h*e$\n' >"$TMP/s2"
	printf 'leak:*/%sleaky$\n' "${v}" >"$TMP/s3"
	for s in s1 s2 s3; do
		json leaks --suppressions="$TMP/$s" "$TMP/t" >"$TMP/f.json"
		assert_eq 0 "$(jq .leaked_bytes "$TMP/f.json")" "${v}: $s: leaked_bytes"
		assert_eq '[7000,7]' "$(jq -c --arg r "leak:$(sed -n 's/^leak://p' "$TMP/$s")" \
			'[.suppressed[] | select(.rule == $r) | .bytes, .blocks]' "$TMP/f.json")" \
			"${v}: $s: what the rule hid"
		assert_eq $((7000 + sup_bytes)) "$(jq .suppressed_bytes "$TMP/f.json")" \
			"${v}: $s: suppressed_bytes"
	done
	printf 'leak:no_such_function\n' >"$TMP/s4"
	json leaks --suppressions="$TMP/s4" "$TMP/t" >"$TMP/f.json"
	assert_eq 7000 "$(jq .leaked_bytes "$TMP/f.json")" "${v}: a rule that matches nothing"

	# bad files: one error line, exit 1
	printf 'leak:ok\nrace:bad\n' >"$TMP/bad"
	"$ANALYZE" leaks --suppressions="$TMP/bad" "$TMP/t" >/dev/null 2>"$TMP/err" && fail "bad file accepted"
	assert_eq 1 "$(wc -l <"$TMP/err")" "${v}: one error line for a bad file"
	grep -q "bad:2: not a leak suppression" "$TMP/err" || fail "error line: $(cat "$TMP/err")"
	"$ANALYZE" leaks --suppressions="$TMP/missing" "$TMP/t" >/dev/null 2>&1 && fail "missing file accepted"

	"$ANALYZE" leaks "$TMP/t" >"$TMP/l.txt" || fail "leaks text exited $?"
	grep -q '^Suppressed: .* bytes in .* blocks (--no-suppress shows them)$' "$TMP/l.txt" ||
		{ cat "$TMP/l.txt"; fail "${v}: text says what was suppressed"; }
	grep -q 'builtin: stdio buffer (_IO_file_doallocate)' "$TMP/l.txt" || fail "${v}: text rule"
done
