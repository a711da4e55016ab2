#!/usr/bin/env bash
# Replay precision of [egress.delay] trace on netchaos-fwd (issue 15): how late each packet
# leaves against the time its trace delay scheduled (release_error_ns: the TSC at the tx call
# minus the scheduled TSC), next to a constant delay of the same mean in the same run (the
# peer), and how many releases order preservation pushed past rx + the trace's delay. By hand
# (root, ~1 min); the figure goes into docs/performance.md.
#   The trace: a morning-like series at 100/s for 60 s (12 ms drifting to 83 ms with a sigma
#   of 5 ms per probe, 1% lost), looped; irtt probes 0to1 every INTERVAL for SECONDS each.
# usage: bench/replay/trace_precision.sh [BUILD_DIR] [SECONDS] [INTERVAL]
set -uo pipefail
build=$(realpath "${1:-build}")
secs=${2:-20}
interval=${3:-1ms}
src=$(cd "$(dirname "$0")/../.." && pwd)
nc=$build/src/cli/netchaos
export NETCHAOS_FWD=$build/dpdk/netchaos-fwd
P=ntp$$
W=$(mktemp -d /tmp/nc-trace-precision.XXXXXX)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null
  "$src/scripts/bench-netns.sh" down --prefix "$P" >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT
"$src/scripts/bench-netns.sh" up --prefix "$P" >"$W/bench.log" 2>&1 || { cat "$W/bench.log"; exit 1; }
SOCK=/run/netchaos/$P-fwd.sock
ip netns exec "$P-srv" irtt server -i 0 -b 10.213.0.2:2112 >/dev/null 2>&1 &
server=$!
sleep 0.3
python3 - "$W/morning.csv" <<'PY'
import random, sys
random.seed(15)
with open(sys.argv[1], "w") as f:
    f.write("time,rtt_ms\n")
    for i in range(6000):
        t = i / 100
        mean = 12 + (83 - 12) * min(1.0, t / 40)
        rtt = "lost" if random.random() < 0.01 else f"{max(0.5, random.gauss(mean, 5)):.3f}"
        f.write(f"{t:.2f},{rtt}\n")
PY
printf 'name = "morning-trace"\n[egress.delay]\ntrace = "morning.csv"\n' >"$W/trace.toml"
mean=$("$nc" show-profile -j "$W/trace.toml" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["trace_replay"][0]["mean_ms"], 3))')
printf 'name = "constant-peer"\n[egress.delay]\nmean = "%sms"\n' "$mean" >"$W/const.toml"
stat() {
  python3 - "$SOCK" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
s.sendall(b'{"cmd":"stats"}\n'); d = json.loads(s.makefile().readline())["directions"]["0to1"]
e = d["release_error_ns"]
print(f'{d["profile"]:>14}: {e["count"]} releases, release error p50 {e["p50"]/1e3:.2f} us, p99 {e["p99"]/1e3:.2f} us, p99.9 {e["p999"]/1e3:.2f} us; '
      f'drawn p50 {d["drawn_ns"]["p50"]/1e6:.2f} ms')
PY
}
for prof in const trace; do
  "$nc" apply "$W/$prof.toml" --backend dpdk --control "$SOCK" --direction 0to1 >/dev/null || exit 1
  python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); s.sendall(b'{"cmd":"reset"}\n'); s.makefile().readline()
PY
  ip netns exec "$P-cli" irtt client -Q -i "$interval" -d "${secs}s" -o "$W/$prof.json" 10.213.0.2:2112 || exit 1
  stat
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
