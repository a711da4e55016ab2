#!/usr/bin/env bash
# netchaos-fwd --lcores 2 (issue 14 item 2) on a net_null pair with 2 queues per port: a
# profile's rate is one link for both lcores. 50 mbit on 0to1 and 20 mbit on 1to0, offered far
# more (net_null sends as fast as the lcores poll), so each link is saturated; tx bits over
# a 5 s interval must be the profile's rate within 2% (unshared, each lcore would send the
# full rate: 2x). Both lcores must have forwarded, and the tail drop at the limit must have
# worked (drops counted). The limit (5000 packets = 80 ms of the 50 mbit link) keeps the
# link busy through scheduling gaps of both cores on a loaded host.
# The same profile on 1 lcore must give the same rates.
# Also: --lcores 2 with one EAL lcore is refused with exit 3 and the -l to give.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_lcores.bash" || exit 1
lc_requirements

nc_expect 3 "netchaos-fwd: --lcores 2 needs 2 EAL lcores, EAL has 1 (give it e.g. -l 0-1)" -- \
  "$NETCHAOS_FWD" --no-huge --no-shconf -m 256 --no-pci --file-prefix "$LC_PREFIX-one" --log-level=lib.eal:4 -l 0 \
  --vdev=net_null0 --vdev=net_null1 -- --lcores 2 --control "$tmp/one.sock"
rm -rf "/var/run/dpdk/$LC_PREFIX-one"

size=100   # net_null frame length: 800 bits on the link
cat >"$tmp/rate.toml" <<'T'
name = "lcores-rate"
[egress]
limit = 5000
[egress.rate]
rate = "50mbit"
[ingress]
limit = 5000
[ingress.rate]
rate = "20mbit"
T
# measure N: the profile on N lcores; the summary in $tmp/summaryN
measure() {
  LC_LCORES=$1 lc_start "$tmp/fwd$1.log" "net_null0,size=$size" "net_null1,size=$size" -- --profile "$tmp/rate.toml" --on-exit drop --pool 32768
  if (($1 > 1)); then
    grep -q "^netchaos-fwd: $1 lcores, queue i on lcore i of both ports" "$tmp/fwd$1.log" || { cat "$tmp/fwd$1.log"; fail "no $1-lcore line"; }
  fi
  lc_wait_lanes
  sleep 1   # the links fill their backlog (limit) within ms; past any start-up transient
  lc_stats >"$tmp/s1.json"
  sleep 5
  lc_stats >"$tmp/s2.json"
  python3 - "$tmp/s1.json" "$tmp/s2.json" "$size" "$1" <<'PY' >"$tmp/summary$1"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
size, n = int(sys.argv[3]), int(sys.argv[4])
dt = b["uptime_s"] - a["uptime_s"]
ok, idle = True, False
print(f"lcores {b['lcores']}, interval {dt:.3f} s, stalls {b['stalls']['count'] - a['stalls']['count']}")
for d, want in (("0to1", 50e6), ("1to0", 20e6)):
    x, y = a["directions"][d], b["directions"][d]
    tx = y["tx"] - x["tx"]
    rate = tx * size * 8 / dt
    drops = y["dropped_fault"] - x["dropped_fault"] + y["dropped_queue_full"] - x["dropped_queue_full"]
    rx = y["rx"] - x["rx"]
    err = rate / want - 1
    print(f"{d}: tx {tx} frames = {rate / 1e6:.3f} mbit/s against {want / 1e6:.0f} ({err * 100:+.2f}%), rx {rx}, tail drops {drops}")
    if abs(err) > 0.02: print(f"FAIL {d}: aggregate rate off by more than 2%"); ok = False
    if drops <= 0 or rx < 2 * tx: print(f"FAIL {d}: the link was not saturated (offered {rx}, sent {tx}, dropped {drops})"); ok = False
for i, (la, lb) in enumerate(zip(a["lanes"], b["lanes"])):
    t = lb["tx"] - la["tx"]
    print(f"lane {i}: tx {t}")
    if t <= 0: print(f"FAIL lane {i} sent nothing"); ok = False; idle = True
if b["lcores"] != n or len(b["lanes"]) != n: print(f"FAIL: stats do not show {n} lcores"); ok = False
# The PMD's share, sampled on one burst call in 64 per direction: present, plausible, and
# about 1/64 of what was received and sent (the rx side is saturated: every call brings packets).
pmd = b["pmd"]
rx_all = sum(b["directions"][d]["rx"] for d in ("0to1", "1to0"))
tx_all = sum(b["directions"][d]["tx"] for d in ("0to1", "1to0"))
rs, ts = pmd["sampled_rx_pkts"] / max(rx_all, 1), pmd["sampled_tx_pkts"] / max(tx_all, 1)
print(f"pmd: rx {pmd['rx_ns_per_pkt']:.1f} ns, tx {pmd['tx_ns_per_pkt']:.1f} ns a packet; sampled {rs * 64:.2f}/64 of rx, {ts * 64:.2f}/64 of tx")
if not (0 < pmd["rx_ns_per_pkt"] < 1e4 and 0 < pmd["tx_ns_per_pkt"] < 1e4): print("FAIL: PMD ns a packet out of range"); ok = False
if not (0.5 / 64 <= rs <= 2 / 64 and 0.5 / 64 <= ts <= 2 / 64): print("FAIL: the PMD sample is not ~1 call in 64"); ok = False
# --no-huge with net_null ports: the pool is on transparent huge pages (--pool-memory auto),
# unless the kernel has no THP at all (then the EAL's memory, with a warning at start)
import os
want_mem = "thp" if os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled") else "eal"
print(f"pool memory {b['pool'].get('memory')} (want {want_mem})")
if b["pool"].get("memory") != want_mem: print(f"FAIL: the pool is not on {want_mem} memory"); ok = False
sys.exit(0 if ok else 3 if idle else 1)
PY
  local rc=$?
  cat "$tmp/summary$1"
  if ((rc == 3)); then   # a lane sent nothing: starved by another spinner on its cpu, or broken
    local hogs; hogs=$(lc_hogs)
    [[ -n $hogs ]] && { lc_stop || true; skip "a worker lcore was not scheduled during the measurement: another process spins on the cpus --lcores 2 needs: $hogs"; }
  fi
  ((rc == 0)) || fail "rate check, $1 lcores"
  lc_stop || true
}
measure 2
# The same on one lcore: the rate is the link's, whatever the number of lcores (and the limit's
# tail drop takes no link time there either: a frame the queue dropped after the engine had
# booked its link time made a saturated 50 mbit link send 0.05 mbit).
measure 1
pass "--lcores 2: each direction's rate is one link for both lcores, within 2%, as on one lcore"
