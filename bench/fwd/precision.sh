#!/usr/bin/env bash
# Release precision below saturation: the veth bench (scripts/bench-netns.sh, AF_XDP) with
# normal(1ms, 200us) both ways, irtt at RATE packets/s, then the forwarder's own histogram of
# (TSC at the tx call - scheduled TSC) and its stall count. bench/fwd/rate.sh measures the
# same histogram with net_null at saturation, where a due packet waits for the loop's turn.
#   bench/fwd/precision.sh [DURATION=10s] [INTERVAL=200us]
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
export NETCHAOS_FWD=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
nc=${NETCHAOS:-$here/build/src/cli/netchaos}
dur=${1:-10s}; interval=${2:-200us}; P=ncp$$
t=$(mktemp -d)
trap '"$here/scripts/bench-netns.sh" down --prefix $P >/dev/null 2>&1; rm -rf "$t"' EXIT
cat > "$t/p.toml" <<'TOML'
name = "normal-1ms-200us"
[egress.delay]
mean = "1ms"
jitter = "200us"
distribution = "normal"
[ingress.delay]
mean = "1ms"
jitter = "200us"
distribution = "normal"
TOML
"$here/scripts/bench-netns.sh" up --prefix $P >/dev/null || exit 4
pin=$("$here/scripts/bench-netns.sh" cpus --prefix $P)   # irtt off the forwarding cpu (bench-netns.sh cpus: why)
"$nc" apply "$t/p.toml" --backend dpdk --control /run/netchaos/$P-fwd.sock >/dev/null || exit 4
${pin:+taskset -c "$pin"} ip netns exec $P-srv irtt server -i 0 -b 10.213.0.2:2112 >/dev/null 2>&1 &
ipid=$!
sleep 0.3
${pin:+taskset -c "$pin"} ip netns exec $P-cli irtt client -Q -i "$interval" -d "$dur" -o "$t/irtt.json" 10.213.0.2:2112
kill $ipid; wait $ipid 2>/dev/null
"$nc" show --backend dpdk --control /run/netchaos/$P-fwd.sock -j > "$t/stats.json" || exit 4
"$here/scripts/bench-netns.sh" down --prefix $P >/dev/null
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['stats']; print(f\"irtt: {r['rtt']['n']} RTTs at one per $interval, mean {r['rtt']['mean']/1e6:.3f} ms (expected 2 ms + base)\")" "$t/irtt.json"
python3 "$here/bench/fwd/parse.py" precision "$t/stats.json"
