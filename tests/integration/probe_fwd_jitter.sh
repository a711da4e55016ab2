#!/usr/bin/env bash
# Known jitter through the DPDK forwarder: normal(5 ms, 1 ms) on cli -> srv. The probe's RTT
# spread is within 10% of 1 ms (the path's own spread added in quadrature, measured first with
# a constant 5 ms), and irtt, run at the same time over the same path, agrees within 10%
# (compared only when the host took under 1% of the run from the forwarder; else a loud skip).
#
# The base is a constant 5 ms, not an unimpaired path: a tool's own noise depends on whether
# it is awake when the reply comes. irtt (Go) is, 20 us after its send, and is not, 5 ms
# after: measured against an unimpaired base its 1 ms came out 2-16% too wide (robust sigma
# 1.02-1.16 ms while the probe read 1.00-1.04), and once 11.5%.
#
# The spread is the robust sigma, IQR / 1.349, from each tool's per-packet RTTs (the probe's
# --csv, irtt's round_trips), not the standard deviation: one forwarder stall or one irtt
# pause in the 5 s base run put irtt's base stddev at 0.514 ms once, and taken out in
# quadrature that made irtt's 1 ms look 14% small. The IQR does not see a few outliers; its
# cost is a larger sampling error (1.17 sigma / sqrt(n) against 0.71), paid for with 200
# packets/s per tool: 4000 RTTs each, 2.6% on the ratio of the two, the 10% bound 3.8 of it.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
P=np$$
fwd_up
fwd_irtt_server
fwd_reflector

# both_runs NAME DURATION: probe and irtt side by side, 200 packets/s each.
both_runs() {
  ip netns exec "$CLI" irtt client -Q -i 5ms -d "$2" -o "$T/$1-irtt.json" 10.213.0.2:2112 &
  local ip=$!
  ip netns exec "$CLI" "$NETCHAOS" probe 10.213.0.2:7777 -r 200 -d "$2" -t 1s -j -q \
    --csv "$T/$1-probe.csv" >"$T/$1-probe.jsonl" ||
    fail "probe ($1) exit $?"
  wait "$ip" || fail "irtt ($1) failed"
}
# sigma FILE-PREFIX -> "probe_sigma irtt_sigma probe_median probe_stddev irtt_stddev" (ms):
# robust sigmas (IQR / 1.349) and the probe's median from the per-packet RTTs; the two
# standard deviations only for the log.
sigma() {
  python3 - "$T/$1-probe.csv" "$T/$1-irtt.json" <<'PY'
import csv, json, statistics, sys
def q(v, f):
    v = sorted(v); k = f * (len(v) - 1); i = int(k)
    return v[i] + (v[min(i + 1, len(v) - 1)] - v[i]) * (k - i)
def robust(v): return (q(v, 0.75) - q(v, 0.25)) / 1.349
rows = list(csv.reader(open(sys.argv[1])))[1:]
p = [int(r[2]) / 1e6 for r in rows if r[3] == "ok"]
assert len(p) >= 0.99 * len(rows), (len(p), len(rows))
j = json.load(open(sys.argv[2]))["round_trips"]
i = [t["delay"]["rtt"] / 1e6 for t in j if t.get("lost") in (False, "false") and "rtt" in t.get("delay", {})]
assert len(i) >= 0.99 * len(j), (len(i), len(j))
print(f"{robust(p):.4f} {robust(i):.4f} {statistics.median(p):.4f} {statistics.pstdev(p):.4f} {statistics.pstdev(i):.4f}")
PY
}
cat >"$T/base.toml" <<'TOML'
name = "constant-5ms"
[egress.delay]
mean = "5ms"
TOML
fwd_load "$T/base.toml"
# stalled -> "count total_ms" of the forwarder since the last reset.
stalled() { fwd_stat "s['stalls']['count'], round(s['stalls']['total_ns'] / 1e6)" | tr -d '(),'; }
fwd_ctl '{"cmd":"reset"}' >/dev/null
both_runs base 5s
read -r base_p base_i base_mean base_sd_p base_sd_i <<<"$(sigma base)" || fail "base stats"
read -r base_stalls base_stalled_ms <<<"$(stalled)"
echo "constant 5 ms: robust sigma probe $base_p ms (median $base_mean ms), irtt $base_i ms; stddev probe $base_sd_p ms, irtt $base_sd_i ms; forwarder stalls $base_stalls ($base_stalled_ms ms of 5 s)"
# A base taken while the host held the forwarder (another spinning process on its core: seen
# 55% of the time stalled, robust sigma 3.7 ms) measures the host, not the tools; nothing
# can be taken out of the jitter run with it.
if awk "BEGIN{exit !($base_p > 0.3 || $base_stalled_ms > 100)}"; then
  skip "forwarder path too disturbed for a base: $base_stalls stalls, $base_stalled_ms ms of 5 s, robust sigma at a constant 5 ms $base_p ms (probe) / $base_i ms (irtt)"
fi
# Reordering jitter: the probe and irtt share the path, and with order kept a packet sent
# just after the other flow's is held behind it, which raises its delay and shrinks its
# sigma (seen: probe 0.84 ms, mean +0.31 ms, irtt 1.00 ms). So the profile lets packets pass
# each other (reorder = true); the tools' sigmas do not depend on their order.
cat >"$T/normal.toml" <<'TOML'
name = "normal-5ms-1ms"
[egress.delay]
mean = "5ms"
jitter = "1ms"
distribution = "normal"
reorder = true
TOML
fwd_load "$T/normal.toml"
# 20 s: 4000 RTTs per tool. The two sigmas come from different packets, so their ratio has a
# sampling error (2.6% for robust sigmas at this n, see the top); at 2000 stddevs and 10 s the
# 10% bound was ~3 standard errors away, and one CI run in a few missed it.
fwd_ctl '{"cmd":"reset"}' >/dev/null
both_runs delay 20s
read -r sd_p sd_i mean_p dsd_p dsd_i <<<"$(sigma delay)" || fail "delay stats"
read -r stalls stalled_ms <<<"$(stalled)"
echo "normal(5ms,1ms): robust sigma probe $sd_p ms (median $mean_p ms), irtt $sd_i ms; stddev probe $dsd_p ms, irtt $dsd_i ms; forwarder stalls $stalls ($stalled_ms ms of 20 s)"
# The 1 ms check needs a path that delivered 1 ms. A forwarder stall holds every packet due
# during it: with the host taking over 2% of the 20 s run (a loaded VM: 400+ ms), the path
# itself added jitter (seen: both tools 1.36 ms, median +0.35 ms, at 846 stalls), and the
# probe cannot be judged against the profile.
if awk "BEGIN{exit !($stalled_ms > 400)}"; then
  skip "forwarder path too disturbed to deliver a clean 1 ms sigma: $stalls stalls, $stalled_ms ms of 20 s (probe $sd_p ms, irtt $sd_i ms)"
fi
nc_check "base median ~ 5 ms" "$base_mean > 4.99 && $base_mean < 5.3"
nc_check "probe median ~ the base's" "$mean_p - $base_mean > -0.2 && $mean_p - $base_mean < 0.2"
nc_check "probe sigma within 10% of 1 ms (base in quadrature)" "$sd_p / sqrt(1 + $base_p * $base_p) > 0.9 && $sd_p / sqrt(1 + $base_p * $base_p) < 1.1"
# irtt's own noise is its client's wake-up after each reply, and it grows with what else the
# host runs far faster than the probe's (a busy loop beside the tools here: robust sigma at a
# constant 5 ms 0.39 ms for irtt, 0.08 for the probe). A CI run whose host took 366 ms of the
# 20 s from the forwarder (quiet runs: 8-83 ms) read irtt 1.29 ms against the probe's 1.04,
# and the probe's 1.04 was right (checked above). The host's noise then changed within the
# run, so the 5 s base could not take it out. Past 1% of the run stalled (200 ms) the peer
# comparison measures the host, and the test says so and skips, after the probe's own checks.
if awk "BEGIN{exit !($stalled_ms > 200)}"; then
  skip "probe measured 1 ms within 10% ($sd_p ms), but the host took $stalled_ms ms of 20 s from the forwarder ($stalls stalls), too much to compare with irtt's $sd_i ms"
fi
# Each tool's own spread at the constant 5 ms is taken out in quadrature: what is compared
# is the jitter each one saw added.
nc_check "irtt agrees within 10% (own base noise out in quadrature)" \
  "sqrt($sd_i^2 - $base_i^2) / sqrt($sd_p^2 - $base_p^2) > 0.9 && sqrt($sd_i^2 - $base_i^2) / sqrt($sd_p^2 - $base_p^2) < 1.1"
pass "probe measures normal(5ms,1ms) through netchaos-fwd; irtt agrees"
