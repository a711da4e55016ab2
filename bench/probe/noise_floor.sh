#!/usr/bin/env bash
# Noise floor on an unimpaired veth: netchaos probe vs irtt vs ping, at the same time, same
# namespaces, 100 packets/s each for $1 seconds (default 20). Prints one table.
#   sudo NETCHAOS=build/src/cli/netchaos bench/probe/noise_floor.sh [SECONDS]
source "$(dirname "$0")/netns.bash"
secs=${1:-20}
command -v irtt >/dev/null || { echo "needs irtt" >&2; exit 4; }
ip netns exec "$NSB" irtt server -b "$IPB:2112" >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
ip netns exec "$NSA" irtt client -Q -i 10ms -d "${secs}s" -o "$OUT/irtt.json" "$IPB:2112" &
irtt_pid=$!
ip netns exec "$NSA" ping -q -i 0.01 -c $((secs * 100)) "$IPB" >"$OUT/ping.txt" 2>&1 &
ping_pid=$!
ip netns exec "$NSA" "$NETCHAOS" probe "$IPB:7777" -r 100 -d "${secs}s" -j -q >"$OUT/probe.jsonl"
wait "$irtt_pid" "$ping_pid"
python3 - "$OUT" "$(uptime)" <<'PY'
import json, re, sys
out = sys.argv[1]
p = [json.loads(l) for l in open(f"{out}/probe.jsonl")][-1]
i = json.load(open(f"{out}/irtt.json"))["stats"]
ping = open(f"{out}/ping.txt").read()
m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", ping)
rows = [("netchaos probe", p["received"], p["rtt_mean_ms"], p["rtt_stddev_ms"], p["p99_ms"]),
        ("irtt", i["rtt"]["n"], i["rtt"]["mean"] / 1e6, i["rtt"]["stddev"] / 1e6, float("nan")),
        ("ping (mdev)", int(re.search(r"(\d+) received", ping).group(1)), float(m.group(2)), float(m.group(4)), float("nan"))]
print(f"{'tool':16} {'n':>6} {'mean ms':>9} {'sigma ms':>9} {'p99 ms':>8}")
for r in rows: print(f"{r[0]:16} {r[1]:6d} {r[2]:9.4f} {r[3]:9.4f} {r[4]:8.4f}")
print(f"sigma ratio netchaos/irtt = {rows[0][3] / rows[1][3]:.3f}   netchaos/ping = {rows[0][3] / rows[2][3]:.3f}")
print(f"probe kernel stamps tx {p['kernel_tx_stamps']} rx {p['kernel_rx_stamps']}; host: {sys.argv[2].strip()}")
PY
