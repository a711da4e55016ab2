#!/usr/bin/env bash
# Noise floor on an unimpaired veth: netchaos probe and irtt side by side, same namespaces,
# same 10 s, both at 100 packets/s. The probe's RTT sigma must not exceed irtt's by more
# than 1.5x (tolerant: this is a test, bench/probe/noise_floor.sh reports the real ratio).
source "$NETCHAOS_SOURCE_DIR/tests/integration/probe_env.bash"
need_cmd irtt
start_reflector
ip netns exec "$NSB" irtt server -b "$IPB:2112" >"$TMP/irtt-server.log" 2>&1 &
irtt_pid=$!
nc_defer "kill $irtt_pid; wait $irtt_pid"
sleep 0.5
ip netns exec "$NSA" irtt client -q -i 10ms -d 10s -o "$TMP/irtt.json" "$IPB:2112" >"$TMP/irtt.log" 2>&1 &
irtt_client=$!
nc_defer "kill $irtt_client"
probe_a "$IPB:7777" -r 100 -d 10s -t 1s -j -q >"$TMP/p.jsonl" || fail "probe exit $?"
wait "$irtt_client" || fail "irtt client exit $?: $(cat "$TMP/irtt.log")"
python3 - "$TMP/p.jsonl" "$TMP/irtt.json" <<'PY' || fail "noise floor"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])][-1]
i = json.load(open(sys.argv[2]))["stats"]
ps, pm = p["rtt_stddev_ms"], p["rtt_mean_ms"]
iss, im = i["rtt"]["stddev"] / 1e6, i["rtt"]["mean"] / 1e6
print(f"netchaos: n={p['received']} mean {pm:.4f} ms sigma {ps:.4f} ms p99 {p['p99_ms']:.4f} ms "
      f"(kernel stamps tx {p['kernel_tx_stamps']} rx {p['kernel_rx_stamps']})")
print(f"irtt:     n={i['packets_received']} mean {im:.4f} ms sigma {iss:.4f} ms")
print(f"sigma ratio netchaos/irtt = {ps / iss:.3f}")
assert p["loss"] == 0 and i["packets_received"] >= 0.95 * i["packets_sent"], i["packets_sent"]
assert ps <= iss * 1.5, f"probe sigma {ps} > 1.5 x irtt sigma {iss}"
PY
pass "noise floor within 1.5x of irtt"
