#!/usr/bin/env bash
# Forwarding rate and release precision on a net_null pair (bench, run by hand as root):
# netchaos-fwd with every packet delayed by normal(100 us, 20 us) in both directions vs
# dpdk-testpmd --forward-mode=io, same PMD, one forwarding core each (lcore 1; testpmd's
# main lcore 0 only prints stats, as does netchaos-fwd's control thread on cpu 0).
# Rounds alternate the two so a noisy neighbour hurts both alike.
#   bench/fwd/rate.sh [SECONDS=10] [ROUNDS=2]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
[[ -x $fwd ]] || { echo "no netchaos-fwd at $fwd (build it or set NETCHAOS_FWD)" >&2; exit 4; }
dur=${1:-10}; rounds=${2:-2}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
eal=(--no-huge --no-shconf -m 1024 --no-pci --file-prefix ncb$$ --vdev=net_null0 --vdev=net_null1 --log-level=lib.eal:4)
cat > "$t/p.toml" <<'TOML'
name = "normal-100us-20us"
[egress.delay]
mean = "100us"
jitter = "20us"
distribution = "normal"
[ingress.delay]
mean = "100us"
jitter = "20us"
distribution = "normal"
TOML
# run LOG READY-REGEX CMD...: start, wait until the log says it forwards (EAL setup without
# hugepages takes seconds on a loaded VM), measure for $dur s, then SIGINT and wait.
run() {
  local log=$1 ready=$2; shift 2
  "$@" </dev/null >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do grep -qE "$ready" "$log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  sleep "$dur"
  kill -INT $pid 2>/dev/null; wait $pid || true
}
for r in $(seq "$rounds"); do
  run "$t/tp$r.log" "Tx-pps" dpdk-testpmd "${eal[@]}" -l 0-1 -- --forward-mode=io --auto-start \
    --stats-period 1 --nb-cores=1
  run "$t/fwd$r.log" "^netchaos-fwd: forwarding" "$fwd" "${eal[@]}" -l 1 -- --profile "$t/p.toml" \
    --control "$t/fwd.sock" --stats-interval 1s --on-exit drop --rate-hint 20e6
  tp=$(python3 "$here/bench/fwd/parse.py" testpmd "$t/tp$r.log")
  nf=$(python3 "$here/bench/fwd/parse.py" fwd "$t/fwd$r.log")
  echo "round $r: testpmd io $tp Mpps, netchaos-fwd normal(100us,20us) $nf Mpps, ratio $(awk "BEGIN{printf \"%.2f\", $nf/$tp}")"
  python3 "$here/bench/fwd/parse.py" precision "$t/fwd$r.log" | sed 's/^/  /'
done
