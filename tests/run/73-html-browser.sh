#!/usr/bin/env bash
# The html report and the SVG flame graph in a real browser: Debian's chromium, headless,
# driven by playwright-core (tests/browser/check.js). Pages of the interpreter demo, the
# leaking server (heap chart, marks, verdict), 17 threads (per-thread views) and a trace over
# the page's budget (samples/paths); every check compares what the page shows with the
# analyzer's own JSON: search matches with `callgraph`, function rows with `functions`
# (--sort, --filter, --thread), callers with `callgraph --function`, stacks with `leaks`,
# the chart with `timeline`. Zero console errors. Screenshots: build/tests/browser/*.png.
. "$(dirname "$0")/lib.sh"
need_jq
command -v node >/dev/null || fail "node is missing (misc/install-deps.sh installs nodejs)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (misc/install-deps.sh installs chromium)"
[ -e "$TOP/tests/browser/node_modules/playwright-core/package.json" ] ||
	fail "playwright-core is missing in tests/browser/node_modules (misc/install-deps.sh installs it)"
command -v xmllint >/dev/null || fail "xmllint is missing (libxml2-utils)"
for p in interp server threads-calls paths calls; do [ -x "$S/$p" ] || fail "$S/$p is missing (make samples)"; done

# page DIR TRACE [OPTIONS...]: DIR/page.html, well-formed, self-contained
page() {
	local d=$1 tr=$2; shift 2
	mkdir -p "$d"
	"$ANALYZE" html "$@" -o "$d/page.html" "$tr" || fail "html $tr exited $?"
	xmllint --noout "$d/page.html" || fail "$d/page.html is not well-formed"
	! grep -q ' src=\| href=\|@import\|url(' "$d/page.html" || fail "$d/page.html loads something"
}

# the interpreter demo: search, zoom, views, sorting and filtering, callers, a leak's stack
traced "$TMP/i.bin" "$S/interp" "$TOP/samples/interp/demo.toy"
page "$TMP/interp" "$TMP/i.bin"
"$ANALYZE" html --limit=2 -o "$TMP/interp/page-limit.html" "$TMP/i.bin" || fail "html --limit=2"
json functions "$TMP/i.bin" >"$TMP/interp/functions.json"
# the page's self column is CPU self where the trace has context switches (else self_ns,
# wall-clock), as `--sort=self` ranks (the filtered rows too: the page filters its rows
# sorted by that column)
json functions --sort=self "$TMP/i.bin" >"$TMP/interp/functions-self.json"
json functions --sort=self --filter='^eval|lookup$' "$TMP/i.bin" >"$TMP/interp/functions-filter.json"
json callgraph "$TMP/i.bin" >"$TMP/interp/callgraph.json"
json callgraph --function=env_lookup "$TMP/i.bin" >"$TMP/interp/cc.json"
json leaks "$TMP/i.bin" >"$TMP/interp/leaks.json"
json findings "$TMP/i.bin" >"$TMP/interp/findings.json"
[ "$(jq '.functions | length' "$TMP/interp/functions-filter.json")" -ge 2 ] || fail "the filter matches too little"

# the leaking server with a mark every 300 ms: the heap chart, its marks and the verdict
"$RUNNER" -q -o "$TMP/s.bin" --mark-every 300ms "$S/server" leak >/dev/null || fail "server leak"
page "$TMP/server" "$TMP/s.bin"
json timeline "$TMP/s.bin" >"$TMP/server/timeline.json"
json leaks "$TMP/s.bin" >"$TMP/server/leaks.json"
assert_eq '"grows"' "$(jq .verdict "$TMP/server/timeline.json")" "server leak: timeline verdict"

# 16 threads and main: every thread's functions as `functions --thread`
traced "$TMP/t.bin" "$S/threads-calls"
page "$TMP/threads" "$TMP/t.bin"
json functions "$TMP/t.bin" >"$TMP/threads/functions.json"
json summary "$TMP/t.bin" | jq '[.threads | to_entries[] | {tid: .value.tid, index: .key}]' \
	>"$TMP/threads/threads.json"
assert_eq 17 "$(jq length "$TMP/threads/threads.json")" "threads-calls: threads"
for tid in $(jq -r '.[].tid' "$TMP/threads/threads.json"); do
	json functions --thread="$tid" "$TMP/t.bin" >"$TMP/threads/fn-$tid.json"
done

# over the budget: 2^15 paths, 163,838 call paths and 32,769 allocation sites
traced "$TMP/p.bin" "$S/paths"
page "$TMP/large" "$TMP/p.bin"
json callgraph "$TMP/p.bin" >"$TMP/large/callgraph.json"
json memory "$TMP/p.bin" >"$TMP/large/memory.json"
json functions "$TMP/p.bin" >"$TMP/large/functions.json"
[ "$(jq '.nodes | length' "$TMP/large/callgraph.json")" -gt 20000 ] || fail "paths: under the call-tree budget"
[ "$(jq '.sites | length' "$TMP/large/memory.json")" -gt 5000 ] || fail "paths: under the sites budget"

# the SVG flame graph of samples/calls (no frame too narrow to draw, so shares are exact)
traced "$TMP/c.bin" "$S/calls"
mkdir -p "$TMP/svg"
"$ANALYZE" flamegraph -o "$TMP/svg/flame.svg" "$TMP/c.bin" || fail "flamegraph exited $?"
"$ANALYZE" flamegraph --folded "$TMP/c.bin" >"$TMP/svg/flame.folded" || fail "flamegraph --folded"
xmllint --noout "$TMP/svg/flame.svg" || fail "the SVG is not well-formed"
! grep -q 'not drawn' "$TMP/svg/flame.svg" || fail "calls: frames too narrow to draw"

# samples/waiter block: its sleeps are wall-clock time, not CPU time (where the kernel
# records context switches): the page with and without --wall
scen=""
for p in waiter; do [ -x "$S/$p" ] || fail "$S/$p is missing (make samples)"; done
traced "$TMP/w.bin" "$S/waiter" block
if ! grep -q "context switches cannot be recorded" "$TMP/w.bin.stderr"; then
	page "$TMP/waiter" "$TMP/w.bin"
	"$ANALYZE" html --wall -o "$TMP/waiter/page-wall.html" "$TMP/w.bin" || fail "html --wall exited $?"
	json functions --limit=0 "$TMP/w.bin" >"$TMP/waiter/functions.json"
	scen="waiter=$TMP/waiter"
else
	echo "note: this kernel refuses perf_event_open: no CPU-time page to check"
fi

shots="$B/tests/browser"
rm -rf "$shots"
(cd "$TOP/tests/browser" && timeout 300 node check.js "$shots" interp="$TMP/interp" server="$TMP/server" \
	threads="$TMP/threads" large="$TMP/large" $scen svg="$TMP/svg") || fail "browser checks failed"
ls "$shots"/*.png >/dev/null || fail "no screenshots"
echo "ok: screenshots in $shots: $(cd "$shots" && ls | xargs)"
