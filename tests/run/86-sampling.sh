#!/usr/bin/env bash
# Sampled allocations (PERFSHIM_SAMPLE, docs/sampling.md) over samples/sampled.c, which
# allocates exactly 1 GiB from three sites (536870912 / 322122547 / 214748365 bytes, all
# freed) and leaks 10 MiB (160 blocks of 64 KiB) from leak_site():
#   - 10 runs with seeds 1..10 at 512K: each site's estimated bytes within 10% of the truth
#     in at least 9 of the 10 runs (each run: all three sites), the leak found with its
#     stack in all 10; the header's mean and seed reach the JSON;
#   - one seed gives byte-identical reports twice; another seed gives other samples;
#   - PERFSHIM_SAMPLE=1 samples every block of 32 bytes or more (p = 1 - e^-32): the exact
#     figures of leaky (65-memory-leaky.sh) and threads-malloc (21-threads-malloc.sh, frees
#     on other threads) come out of the sampled path, realloc chains and all;
#   - more live samples than the table holds: one warning line, LOST records, no false leak;
#   - PERFSHIM_SAMPLE=0 is the unsampled recorder; bad values get one line and the default;
#   - the runner's --sample and --sample-seed;
#   - the unsampled fast path of malloc, calloc, realloc and free in libperfshim.so is a
#     few instructions ending in one indirect tail jump, with no call or push before it
#     (docs/sampling.md "The fast path": at most 4, 6, 11 and 6 instructions, as gcc 12 builds
#     them since malloc and calloc count down in place; 6 and 8 were the old load-and-store).
. "$(dirname "$0")/lib.sh"
need_jq

prog="$S/sampled"
[ -x "$prog" ] || fail "$prog is missing (make samples)"
sampled() {	# OUT SEED MEAN ARGS...
	local out=$1 seed=$2 mean=$3; shift 3
	PERFSHIM_SAMPLE=$mean PERFSHIM_SAMPLE_SEED=$seed traced "$out" "$prog" "$@"
	assert_eq 0 "$(cat "$out.rc")" "sampled (seed $seed): exit status"
	[ -s "$out.stderr" ] && { cat "$out.stderr"; fail "seed $seed: the shim printed something"; }
	true
}

# the same behaviour as without the shim
sampled "$TMP/b" 1 512K
plain "$TMP/p" "$prog"
same_behaviour "$TMP/b" "$TMP/p"

# ---- 10 seeds at 512K: sites within 10% in >= 9 runs, the leak in 10 ----
site_ok=0 leak_ok=0
for seed in 1 2 3 4 5 6 7 8 9 10; do
	sampled "$TMP/s$seed" "$seed" 512K
	json memory "$TMP/s$seed" >"$TMP/m$seed.json"
	json leaks "$TMP/s$seed" >"$TMP/l$seed.json"
	assert_eq "[524288,$seed]" "$(jq -c '[.sampled.mean_bytes, .sampled.seed]' "$TMP/m$seed.json")" \
		"seed $seed: sampled mean and seed"
	n=$(jq '.sampled.samples' "$TMP/m$seed.json")
	# about 1 GiB / 512 KiB * p-corrected: some 1200 samples; far fewer than the 2100 blocks
	[ "$n" -gt 900 ] && [ "$n" -lt 1500 ] || fail "seed $seed: $n samples"
	ok=$(jq -r '
		def site(f): [.sites[] | select(.stack[1] == f) | .bytes] | add // 0;
		def within(f; truth): ((site(f) - truth) | fabs) <= truth / 10;
		if within("site_half"; 536870912) and within("site_third"; 322122547) and
		   within("site_fifth"; 214748365) then 1 else 0 end' "$TMP/m$seed.json")
	echo "seed $seed: $(jq -c '[.sites[] | select(.stack[1] | test("^site_")) |
		[.stack[1], .bytes, .bytes_stddev]]' "$TMP/m$seed.json") within 10%: $ok"
	site_ok=$((site_ok + ok))
	# the leak: leak_site < main, with an estimate, and nothing else leaked by the sites
	found=$(jq -r '[.leaks[] | select(.stack[0:2] == ["leak_site", "main"]) |
		select(.bytes > 0 and .bytes_stddev > 0)] | length' "$TMP/l$seed.json")
	others=$(jq -r '[.leaks[] | select(.stack[0] == "fill")] | length' "$TMP/l$seed.json")
	[ "$found" = 1 ] && [ "$others" = 0 ] && leak_ok=$((leak_ok + 1))
done
[ "$site_ok" -ge 9 ] || fail "site estimates within 10% in $site_ok of 10 runs (at least 9 wanted)"
echo "ok: site estimates within 10% in $site_ok of 10 runs"
assert_eq 10 "$leak_ok" "runs of 10 that found the 10 MiB leak with its stack"

# every format says the figures are estimates
grep -q '"sampled trace: memory figures are estimates from [0-9,]* sampled allocations (PERFSHIM_SAMPLE mean 512.0 KiB, seed 1): bytes allocated .* ±' \
	"$TMP/m1.json" || fail "memory JSON: no sampling note"
"$ANALYZE" memory "$TMP/s1" >"$TMP/m1.txt" || fail "memory text exited $?"
grep -q '^Warning: sampled trace: memory figures are estimates' "$TMP/m1.txt" ||
	fail "memory text: no sampling note"
grep -q '^  estimate error  ±' "$TMP/m1.txt" || fail "memory text: no estimate error line"
"$ANALYZE" leaks "$TMP/s1" | grep -q '^(estimated from [0-9,]* samples, mean 512.0 KiB: ±' ||
	fail "leaks text: no estimate line"
"$ANALYZE" flamegraph --folded --metric=alloc-bytes "$TMP/s1" >"$TMP/f1.txt" ||
	fail "flamegraph exited $?"
grep -q '^# warning: .*sampled trace: memory figures are estimates' "$TMP/f1.txt" ||
	fail "folded stacks: no sampling note"
# the flame graph's bytes are the weighted estimates too (its site_half total = memory's)
assert_eq "$(jq '[.sites[] | select(.stack[1] == "site_half") | .bytes] | add' "$TMP/m1.json")" \
	"$(awk '/site_half/ { s += $NF } END { print s }' "$TMP/f1.txt")" \
	"flamegraph alloc-bytes of site_half = memory's estimate"

# ---- determinism: one seed, one report; another seed, other samples ----
sampled "$TMP/again" 1 512K
json leaks "$TMP/again" >"$TMP/l1b.json"
cmp "$TMP/l1.json" "$TMP/l1b.json" || fail "seed 1 twice: leaks JSON differs"
nt='del(.peak_time_ns, .peak.time_ns)'	# the run's own times differ, nothing else
cmp <(json memory "$TMP/again" | jq -S "$nt") <(jq -S "$nt" "$TMP/m1.json") ||
	fail "seed 1 twice: memory JSON differs"
echo "ok: seed 1 twice gives the same reports"
[ "$(jq -c '[.sites[].bytes]' "$TMP/m1.json")" != "$(jq -c '[.sites[].bytes]' "$TMP/m2.json")" ] ||
	fail "seeds 1 and 2 gave the same estimates"

# ---- PERFSHIM_SAMPLE=1: every block of 32+ bytes sampled with weight 1: exact figures ----
PERFSHIM_SAMPLE=1 PERFSHIM_SAMPLE_SEED=3 traced "$TMP/k" "$S/leaky"
plain "$TMP/kp" "$S/leaky"
same_behaviour "$TMP/k" "$TMP/kp"
json memory "$TMP/k" >"$TMP/k.json"
assert_eq '[15,8,7977,7000,7,0,7678,1]' \
	"$(jq -c '[.allocations, .frees, .bytes_allocated, .leaked_bytes, .leaked_blocks,
		.unknown_frees, .peak_bytes, .sampled.mean_bytes]' "$TMP/k.json")" \
	"leaky at PERFSHIM_SAMPLE=1: allocations, frees, bytes, leaked, peak, mean"
assert_eq '[["leak_here","main",7000,7]]' \
	"$(json leaks "$TMP/k" | jq -c '[.leaks[] | [.stack[0], .stack[1], .bytes, .blocks]]')" \
	"leaky at PERFSHIM_SAMPLE=1: the leak"

PERFSHIM_SAMPLE=1 PERFSHIM_SAMPLE_SEED=3 traced "$TMP/th" "$S/threads-malloc" 16 5000
assert_eq 0 "$(cat "$TMP/th.rc")" "threads-malloc at PERFSHIM_SAMPLE=1: exit status"
json memory "$TMP/th" >"$TMP/th.json"
assert_eq '[0,0,0]' "$(jq -c '[.unknown_frees, .lost_frees, .lost_events]' "$TMP/th.json")" \
	"threads-malloc at PERFSHIM_SAMPLE=1: unknown frees, lost frees, lost events"
assert_eq '[80000,80000,0]' \
	"$(jq -c '[.sites[] | select(.stack[0] == "make_block")] | [(map(.allocations) | add), (map(.frees) | add), (map(.leaked_blocks) | add)]' "$TMP/th.json")" \
	"threads-malloc at PERFSHIM_SAMPLE=1: make_block allocations, frees, leaks"
assert_eq '[31,6435]' \
	"$(json leaks "$TMP/th" | jq -c '[.leaks[] | select(.stack[0] == "leak_some")] | [(map(.blocks) | add), (map(.bytes) | add)]')" \
	"threads-malloc at PERFSHIM_SAMPLE=1: leak_some blocks, bytes"

# ---- a full table: one warning line, the dropped samples are LOST, nothing leaks ----
PERFSHIM_SAMPLE=1 PERFSHIM_SAMPLE_SEED=1 traced "$TMP/full" "$prog" many 300000
assert_eq 0 "$(cat "$TMP/full.rc")" "300000 live samples: exit status"
assert_eq 1 "$(grep -c 'perfshim: the table of sampled blocks is full (it holds 262144 live samples)' "$TMP/full.stderr")" \
	"300000 live samples: one warning line"
assert_eq 1 "$(wc -l <"$TMP/full.stderr")" "300000 live samples: nothing else on stderr"
json memory "$TMP/full" >"$TMP/full.json"
assert_eq '[300000,0,0]' \
	"$(jq -c '[([.sites[] | select(.stack[0] == "many_site") | .allocations] | add) + .lost_events,
		.leaked_bytes, .unknown_frees]' "$TMP/full.json")" \
	"300000 live samples: recorded + lost, leaked, unknown frees"
jq -e '.warnings | map(test("dropped by the recorder")) | any' "$TMP/full.json" >/dev/null ||
	fail "300000 live samples: the report does not say samples were dropped"

# ---- PERFSHIM_SAMPLE=0 and unset: the unsampled recorder, no "sampled" key ----
for v in 0 unset; do
	if [ "$v" = unset ]; then traced "$TMP/z" "$S/leaky"
	else PERFSHIM_SAMPLE=0 PERFSHIM_SAMPLE_SEED=5 traced "$TMP/z" "$S/leaky"; fi
	[ -s "$TMP/z.stderr" ] && fail "PERFSHIM_SAMPLE=$v: the shim printed something"
	json memory "$TMP/z" >"$TMP/z.json"
	assert_eq '[15,7977,7000,4,false]' \
		"$(jq -c '[.allocations, .bytes_allocated, .leaked_bytes, .temporary_allocations, has("sampled")]' "$TMP/z.json")" \
		"PERFSHIM_SAMPLE=$v: exact figures, not sampled"
	assert_eq 0 "$(jq '[.warnings[] | select(test("sampled"))] | length' "$TMP/z.json")" \
		"PERFSHIM_SAMPLE=$v: no sampling note"
done

# ---- bad values: one line each, and the default ----
for bad in abc 5G -1 12X; do
	PERFSHIM_SAMPLE=$bad traced "$TMP/bad" "$S/leaky"
	assert_eq "perfshim: PERFSHIM_SAMPLE=$bad is not valid; using 0 (every allocation recorded; at most 4G - 1)" \
		"$(cat "$TMP/bad.stderr")" "PERFSHIM_SAMPLE=$bad: one warning line"
	assert_eq '[15,false]' "$(json memory "$TMP/bad" | jq -c '[.allocations, has("sampled")]')" \
		"PERFSHIM_SAMPLE=$bad: every allocation recorded"
done
PERFSHIM_SAMPLE=512K PERFSHIM_SAMPLE_SEED=x traced "$TMP/bads" "$prog"
assert_eq "perfshim: PERFSHIM_SAMPLE_SEED=x is not valid; using a seed from the clock (0 to 4294967295)" \
	"$(cat "$TMP/bads.stderr")" "PERFSHIM_SAMPLE_SEED=x: one warning line"
assert_eq 524288 "$(json leaks "$TMP/bads" | jq .sampled.mean_bytes)" "bad seed: still sampled"

# ---- the runner ----
"$RUNNER" -q -o "$TMP/run.bin" --sample 1M --sample-seed 4 "$prog" || fail "runner exited $?"
assert_eq '[1048576,4]' "$(json leaks "$TMP/run.bin" | jq -c '[.sampled.mean_bytes, .sampled.seed]')" \
	"perfshim --sample 1M --sample-seed 4"
"$RUNNER" --sample 5G true 2>"$TMP/r.err"
assert_eq 2 "$?" "perfshim --sample 5G: exit status"
grep -q "^perfshim: --sample '5G': expected bytes" "$TMP/r.err" || fail "--sample 5G: message"
# ---- the fast path: instructions from the entry to the first indirect jump ----
if command -v objdump >/dev/null; then
	objdump -d --no-show-raw-insn "$LIB" >"$TMP/lib.dis"
	for f in malloc:4 calloc:6 realloc:11 free:6; do
		fn=${f%%:*} max=${f#*:}
		awk -v f="<$fn>:" '$2 == f { on = 1; next } on && NF == 0 { exit } on { print }' \
			"$TMP/lib.dis" | awk '{ print $2, $3 } $2 == "jmp" && $3 ~ /^\*/ { exit }' \
			>"$TMP/fast.$fn"
		n=$(grep -c . "$TMP/fast.$fn")
		tail -n 1 "$TMP/fast.$fn" | grep -q '^jmp \*' ||
			fail "$fn: no indirect tail jump on its fast path: $(tr '\n' ';' <"$TMP/fast.$fn")"
		grep -Eq '^(call|push|pushq) ' "$TMP/fast.$fn" &&
			fail "$fn: a call or push before its tail jump: $(tr '\n' ';' <"$TMP/fast.$fn")"
		[ "$n" -le "$max" ] || fail "$fn: $n instructions to its tail jump (at most $max)"
		echo "ok: $fn's fast path: $n instructions, the last an indirect tail jump"
	done
fi
echo "all sampling checks passed"
