#!/usr/bin/env bash
# netchaos-fwd: a profile's `limit` is a queue length, checked before the engine decides (as
# netem checks its limit before it draws a delay). On a net_null pair offered far more than
# the limit lets through (net_null sends as fast as the lcore polls), with limit 200 and a
# constant 2 ms both ways:
# - each direction sends limit / delay = 100,000 frames/s (Little's law: the queue stays full,
#   each packet stays 2 ms), within 3%;
# - the frames the engine scheduled (`held`) are the ones that went into the queue: over the
#   interval, held - tx is the change in the queue (at most the limit), and rx = held +
#   dropped_queue_full. A frame dropped at the limit after the engine had decided it was
#   counted as held (and, with reorder = false, its draw pushed the frames behind it): held
#   was then rx, ~50x tx here.
# A host that stalls the lcore for more than 2% of the interval skips: the rate is then the
# host's. Also: a --stall under 5us, or not a duration, exits 3.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_lcores.bash" || exit 1
lc_requirements

# --stall (what counts as the host's gap) is checked before EAL starts: exit 3 and why.
for bad in 1us abc; do
  nc_expect 3 "netchaos-fwd: --stall needs a duration of at least 5us (e.g. 20us)" -- "$NETCHAOS_FWD" --no-huge -- --stall "$bad"
done

cat >"$tmp/limit.toml" <<'T'
name = "limit-200"
[egress]
limit = 200
[egress.delay]
mean = "2ms"
[ingress]
limit = 200
[ingress.delay]
mean = "2ms"
T
LC_LCORES=1 lc_start "$tmp/fwd.log" "net_null0,size=100" "net_null1,size=100" -- --profile "$tmp/limit.toml" --on-exit drop
sleep 1   # the queues fill to the limit within 2 ms
lc_stats >"$tmp/s1.json"
sleep 5
lc_stats >"$tmp/s2.json"
python3 - "$tmp/s1.json" "$tmp/s2.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
dt = b["uptime_s"] - a["uptime_s"]
stalled = (b["stalls"]["total_ns"] - a["stalls"]["total_ns"]) / 1e9
print(f"interval {dt:.3f} s, stalled {stalled * 1e3:.1f} ms")
if stalled > 0.02 * dt:
    print(f"SKIP: the host stalled the lcore {stalled * 1e3:.0f} ms of {dt:.1f} s")
    sys.exit(77)
ok = True
for d in ("0to1", "1to0"):
    x, y = a["directions"][d], b["directions"][d]
    rx, tx, held, qf = (y[k] - x[k] for k in ("rx", "tx", "held", "dropped_queue_full"))
    rate = tx / dt
    print(f"{d}: rx {rx}, held {held}, dropped at the limit {qf}, tx {tx} = {rate:.0f} frames/s "
          f"(limit / delay = 100000, {100 * (rate / 1e5 - 1):+.2f}%), in flight {y['in_flight']}")
    if abs(rate / 1e5 - 1) > 0.03: print(f"FAIL {d}: not limit / delay within 3%"); ok = False
    if abs(held - tx) > 200: print(f"FAIL {d}: held - tx = {held - tx}, more than the queue can hold"); ok = False
    if abs(rx - held - qf) > 64: print(f"FAIL {d}: rx {rx} != held + dropped at the limit {held + qf} (beyond a burst read between counters)"); ok = False
    if rx < 5 * tx: print(f"FAIL {d}: not saturated (rx {rx}, tx {tx})"); ok = False
sys.exit(0 if ok else 1)
PY
rc=$?
((rc == 77)) && { lc_stop || true; skip "the host stalled the forwarding lcore over 2% of the interval"; }
((rc == 0)) || fail "limit check"
lc_stop || true
pass "the limit admits limit / delay frames/s, and frames dropped at it are not decided"
