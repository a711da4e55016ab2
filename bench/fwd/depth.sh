#!/usr/bin/env bash
# Depth: packets in flight at a constant 100 ms delay (both directions) on a net_null pair,
# with the pool and release queues sized for 1M+, and every drop counter read at the end
# (release queue full, tx, PMD rx_nombuf). In flight = forwarded rate x 100 ms, so the
# peak depends on the rate this machine reaches; DELAY lets you stretch it.
#   bench/fwd/depth.sh [SECONDS=8] [DELAY=100ms]
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
[[ -x $fwd ]] || { echo "no netchaos-fwd at $fwd (build it or set NETCHAOS_FWD)" >&2; exit 4; }
dur=${1:-8}; delay=${2:-100ms}
t=$(mktemp -d); trap 'rm -rf "$t" /var/run/dpdk/ncd$$' EXIT   # EAL leaves its runtime dir (--file-prefix) even on a clean exit
printf 'name = "const-%s"\n[egress]\nlimit = 2000000\n[egress.delay]\nmean = "%s"\n[ingress]\nlimit = 2000000\n[ingress.delay]\nmean = "%s"\n' \
  "$delay" "$delay" "$delay" > "$t/p.toml"
"$fwd" --no-huge --no-shconf -m 2048 --no-pci --file-prefix ncd$$ --vdev=net_null0 --vdev=net_null1 \
  --log-level=lib.eal:4 -l 1 -- --profile "$t/p.toml" --control "$t/fwd.sock" --stats-interval 500ms \
  --on-exit drop --mbuf-size 256 --pool 2400000 --queue-capacity 1300000 </dev/null >"$t/fwd.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "^netchaos-fwd: forwarding" "$t/fwd.log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
grep "^netchaos-fwd: mbuf pool" "$t/fwd.log"
sleep "$dur"
kill -INT $pid; wait $pid
python3 "$here/bench/fwd/parse.py" depth "$t/fwd.log"
echo "forwarded rate: $(python3 "$here/bench/fwd/parse.py" fwd "$t/fwd.log") Mpps (in flight = rate x delay)"
