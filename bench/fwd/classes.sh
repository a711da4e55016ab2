#!/usr/bin/env bash
# The cost of [[class]] on the forwarder (bench, run by hand as root): netchaos-fwd alone on a
# net_null pair at saturation, normal-100us-20us.toml against classes-normal-100us-20us.toml
# (the same impairment for unmatched traffic plus two UDP classes), rounds alternating.
# net_null's frames are all zero bytes (not IP), so every frame is read, classified and lands
# in "unmatched": this measures what classes cost a packet, not a mix of matched classes.
# Rates are per CPU-second of the forwarding thread (a shared VM gives it a fraction of a core).
#   bench/fwd/classes.sh [SECONDS=6] [ROUNDS=2]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
[[ -x $fwd ]] || { echo "no netchaos-fwd at $fwd (build it or set NETCHAOS_FWD)" >&2; exit 4; }
dur=${1:-6}; rounds=${2:-2}
t=$(mktemp -d); pid=
trap '[[ -n $pid ]] && kill -INT $pid 2>/dev/null; rm -rf "$t" /var/run/dpdk/ncc$$' EXIT   # EAL leaves its runtime dir even on a clean exit
eal=(--no-huge --no-shconf -m 1024 --no-pci --file-prefix ncc$$ --vdev=net_null0 --vdev=net_null1 --log-level=lib.eal:4)
# rate PROFILE: sets R to Mpps per CPU-second of the forwarding thread (the main thread, -l 1)
# over $dur s (not run in $( ): the EXIT trap must stay this shell's)
rate() {
  "$fwd" "${eal[@]}" -l 1 -- --profile "$1" --control "$t/fwd.sock" --stats-interval 1s --on-exit drop \
    --rate-hint 20e6 </dev/null >"$t/fwd.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q "^netchaos-fwd: forwarding" "$t/fwd.log" && break; kill -0 $pid || exit 4; sleep 0.1; done
  sleep 2
  local c0 c1 s0 s1
  txs() { python3 "$here/bench/fwd/parse.py" fwd-now "$t/fwd.log" | cut -d' ' -f1; }
  c0=$(awk '{print $14 + $15}' /proc/$pid/stat); s0=$(txs)
  sleep "$dur"
  sleep 1.1
  c1=$(awk '{print $14 + $15}' /proc/$pid/stat); s1=$(txs)
  kill -INT $pid; wait $pid || true; pid=
  R=$(awk -v p=$((s1 - s0)) -v c=$((c1 - c0)) 'BEGIN{printf "%.2f", p / (c / 100) / 1e6}')
}
for r in $(seq "$rounds"); do
  rate "$here/bench/fwd/normal-100us-20us.toml"; one=$R
  rate "$here/bench/fwd/classes-normal-100us-20us.toml"; cls=$R
  echo "round $r: per CPU-s: single profile $one Mpps, two classes + unmatched $cls Mpps, ratio $(awk "BEGIN{printf \"%.2f\", $cls/$one}")"
done
