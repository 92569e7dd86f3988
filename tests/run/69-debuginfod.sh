#!/usr/bin/env bash
# debuginfod: a stripped program with no debug file on disk gets its names, lines and inlined
# frames from a debuginfod server by build-id when DEBUGINFOD_URLS names one, and the analyzer
# asks no server when the variable is unset. The server is python3's http.server on loopback,
# serving a directory laid out as debuginfod's API: buildid/<id>/debuginfo.
. "$(dirname "$0")/lib.sh"
need_jq
command -v python3 >/dev/null || fail "python3 is missing (misc/install-deps.sh installs it)"

inl="$TOP/samples/inlined.c"
[ -x "$S/plain/inlined" ] || fail "$S/plain/inlined is missing (make samples)"
mkdir -p "$TMP/app" "$TMP/root" "$TMP/srv"
cp "$S/plain/inlined" "$TMP/app/inlined"
id=$(readelf -n "$TMP/app/inlined" | sed -n 's/.*Build ID: //p')
[ -n "$id" ] || fail "the sample has no build-id"
mkdir -p "$TMP/srv/buildid/$id"
objcopy --only-keep-debug "$TMP/app/inlined" "$TMP/srv/buildid/$id/debuginfo"
strip --strip-all "$TMP/app/inlined"
export PERFSHIM_DEBUG_ROOT="$TMP/root"	# empty: no local debug file
export DEBUGINFOD_CACHE_PATH="$TMP/cache"
unset DEBUGINFOD_URLS DEBUGINFOD_PROGRESS

traced "$TMP/t" "$TMP/app/inlined"
assert_eq 0 "$(cat "$TMP/t.rc")" "exit status"

# without DEBUGINFOD_URLS: no server asked, no lines, the name is module+offset
json leaks "$TMP/t" >"$TMP/none.json"
assert_eq "null|null" "$(jq -r '.leaks[0].frames[0] | "\(.file)|\(.line)"' "$TMP/none.json")" \
	"no DEBUGINFOD_URLS: no line"
jq -r '.leaks[0].frames[0].name' "$TMP/none.json" | grep -q '^inlined+0x' ||
	fail "no DEBUGINFOD_URLS: named $(jq -r '.leaks[0].frames[0].name' "$TMP/none.json")"
[ -e "$TMP/cache" ] && fail "the client ran without DEBUGINFOD_URLS"

# the server: port chosen by the kernel, read from its first line
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$TMP/srv" >"$TMP/srv.out" 2>"$TMP/srv.log" &
srv=$!
trap 'kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; rm -rf "$TMP"' EXIT
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$TMP/srv.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "the http server did not start: $(cat "$TMP/srv.log")"

DEBUGINFOD_URLS="http://127.0.0.1:$port" json leaks "$TMP/t" >"$TMP/net.json"
assert_eq "grab|$inl|15|true
fill|$inl|24|false
main|$inl|32|false" "$(jq -r '.leaks[0].frames[] | "\(.name)|\(.file)|\(.line)|\(.inlined)"' \
	"$TMP/net.json" | head -3)" "frames from the debuginfod server"
grep -q "\"GET /buildid/$id/debuginfo HTTP/1.[01]\" 200" "$TMP/srv.log" ||
	fail "the server was not asked for $id: $(cat "$TMP/srv.log")"
echo "ok: the server served buildid/$id/debuginfo"
[ -s "$TMP/cache/$id/debuginfo" ] || fail "not in the client's cache: $(ls -R "$TMP/cache" 2>&1 | head)"
echo "ok: cached under DEBUGINFOD_CACHE_PATH"
