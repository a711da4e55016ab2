#!/usr/bin/env bash
# Backend parity for jitter order (issue 21): normal(40 ms, 10 ms) on the request direction,
# reorder = false and then true, netchaos probe at 200/s for 4 s, through netchaos-fwd on the
# host (netns bench) and through netem in the qemu guest (tests/kernel/81_order.sh, which also
# checks each backend-free prediction). Both backends: 0 reordered for reorder = false, the
# same delivered sigma within 15%; for reorder = true the same reordered share within 20%.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (scripts/setup-deps.sh installs qemu-system-x86)"
fwd_tmp

# ---- netem in the guest (one boot, only 81_order)
rc=0
"$NETCHAOS_SOURCE_DIR/scripts/kernel-test.sh" --netchaos "$NETCHAOS" --only 81_order >"$T/guest.txt" 2>&1 || rc=$?
cat "$T/guest.txt"
((rc == 77)) && skip "qemu cannot run a guest here"
# 81_order skips (and kernel-test, with nothing passed, exits 1) when the guest stalled in
# every sigma run: its order figures still count, its sigmas do not.
guest_stalled=0
grep -q "KTEST 81_order SKIP" "$T/guest.txt" && guest_stalled=1
((rc == 0 || guest_stalled)) || fail "kernel-test --only 81_order exit $rc"
# guest_field LABEL KEY: the number after KEY on the line of LABEL
guest_field() { grep -F "81_order: $1:" "$T/guest.txt" | grep -o "$2 [0-9.]*" | head -n1 | cut -d' ' -f2; }
g_noise=$(guest_field "constant 40 ms" sigma)
g_keep_ro=$(guest_field "netchaos apply, reorder = false" reordered) g_keep_sd=$(guest_field "netchaos apply, reorder = false" sigma)
g_re_ro=$(guest_field "netchaos apply, reorder = true" reordered) g_re_rx=$(guest_field "netchaos apply, reorder = true" received)
g_re_sd=$(guest_field "netchaos apply, reorder = true" sigma)
[[ -n $g_keep_sd && -n $g_re_ro && -n $g_re_rx && -n $g_noise ]] || fail "no figures from the guest"

# ---- the forwarder on the host
P=po$$
fwd_up
fwd_reflector
# fwd_run PROFILE: "received reordered sigma_ms stalled_ms" of one probe run at 200/s for 4 s;
# stalled_ms: the forwarder's time in loop gaps over 500 us during the run, plus 10000 if the
# probe's own sends were over 50 ms late (a loaded host; the same limit as 81_order's).
fwd_run() {
  fwd_load "$1"
  local before; before=$(fwd_stalled_ms)
  ip netns exec "$CLI" "$NETCHAOS" probe 10.213.0.2:7777 -r 200 -d 4s -t 1s -j -q >"$T/probe.jsonl" || fail "probe exit $?"
  python3 -c 'import json,sys; s=[json.loads(l) for l in open(sys.argv[1])][-1]; print(s["received"], s["reordered"], s["rtt_stddev_ms"], int(sys.argv[2]) + 10000 * (s["send_error_max_us"] > 50000))' \
    "$T/probe.jsonl" "$(( $(fwd_stalled_ms) - before ))"
}
printf 'name = "keep"\n[egress.delay]\nmean = "40ms"\njitter = "10ms"\ndistribution = "normal"\n' >"$T/keep.toml"
printf 'name = "reord"\n[egress.delay]\nmean = "40ms"\njitter = "10ms"\ndistribution = "normal"\nreorder = true\n' >"$T/reord.toml"
printf 'name = "fixed"\n[egress.delay]\nmean = "40ms"\n' >"$T/fixed.toml"
# Each path has its own noise (TCG timers in the guest, loop stalls of the forwarder on a busy
# host): the sigma of a constant 40 ms delay, taken out in quadrature before comparing.
read -r _ _ f_noise st_fixed <<<"$(fwd_run "$T/fixed.toml")"
read -r f_keep_rx f_keep_ro f_keep_sd st_keep <<<"$(fwd_run "$T/keep.toml")"
read -r f_re_rx f_re_ro f_re_sd st_re <<<"$(fwd_run "$T/reord.toml")"
stalls="$st_fixed/$st_keep/$st_re"

# net SD NOISE: sigma with the path noise taken out in quadrature
net() { awk -v s="$1" -v n="$2" 'BEGIN{d = s * s - n * n; printf "%.3f", (d > 0 ? sqrt(d) : 0)}'; }
fk=$(net "$f_keep_sd" "$f_noise") gk=$(net "$g_keep_sd" "$g_noise") fr=$(net "$f_re_sd" "$f_noise") gr=$(net "$g_re_sd" "$g_noise")
echo "PARITY noise (sigma of a constant 40 ms): forwarder $f_noise ms (stalled $stalls ms), netem $g_noise ms"
echo "PARITY reorder = false: forwarder reordered $f_keep_ro sigma $f_keep_sd ms (net $fk) | netem reordered $g_keep_ro sigma $g_keep_sd ms (net $gk)"
echo "PARITY reorder = true:  forwarder reordered $f_re_ro of $f_re_rx sigma $f_re_sd ms (net $fr) | netem reordered $g_re_ro of $g_re_rx sigma $g_re_sd ms (net $gr)"
nc_check "reorder = false: the forwarder reorders nothing" "$f_keep_ro == 0"
nc_check "reorder = false: netem reorders nothing" "$g_keep_ro == 0"
# A stall (a loaded host descheduling the forwarder, the guest or the probe) holds queued
# packets for milliseconds and bunches the probe's sends (which then overtake more): a run with
# one measures the host, so say so rather than pass or fail on it. Zero reordered for
# reorder = false holds whatever the load, and is checked above.
((guest_stalled)) && skip "the guest stalled (see 81_order above): sigma and reordered share not compared (reorder = false: 0 and 0 reordered; reorder = true: $f_re_ro and $g_re_ro of 800)"
# Stalled time, not the number of stalls: a 1-3 ms gap delays the few packets due in it by
# at most its length, nothing against a 7 ms sigma; CI hosts show 15-110 such gaps per 4 s
# run (the count skipped every CI run). Over 200 ms of a 4 s run (5% of the packets held up
# to ms), or a late probe send (counted 10000), is a host too busy to measure on.
if ((st_fixed > 200 || st_keep > 200 || st_re > 200)); then
  skip "the forwarder stalled $st_fixed/$st_keep/$st_re ms in the three 4 s runs (host load): sigma and reordered share not compared (reorder = false: 0 and 0 reordered; reorder = true: $f_re_ro and $g_re_ro of 800)"
fi
nc_check "reorder = true: same reordered share within 20%" "($g_re_ro / $g_re_rx) / ($f_re_ro / $f_re_rx) > 0.8 && ($g_re_ro / $g_re_rx) / ($f_re_ro / $f_re_rx) < 1.2"
nc_check "reorder = false: same delivered sigma within 15% (noise out)" "$gk / $fk > 0.85 && $gk / $fk < 1.15"
nc_check "reorder = true: same delivered sigma within 15% (noise out)" "$gr / $fr > 0.85 && $gr / $fr < 1.15"
pass "netem and netchaos-fwd agree on order and sigma for normal(40ms,10ms) at 200/s"
