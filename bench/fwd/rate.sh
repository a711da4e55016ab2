#!/usr/bin/env bash
# Forwarding rate and release precision on a net_null pair (bench, run by hand as root):
# netchaos-fwd with every packet delayed by normal(100 us, 20 us) in both directions vs
# dpdk-testpmd --forward-mode=io, same PMD, one forwarding core each (lcore 1; testpmd's
# main lcore 0 only prints stats, as does netchaos-fwd's control thread on cpu 0).
# Rounds alternate the two so a noisy neighbour hurts both alike.
#   [FWD_ARGS="--malformed unchecked"] [FWD_PROFILE=P] bench/fwd/rate.sh [SECONDS=10] [ROUNDS=2]
# FWD_ARGS: more netchaos-fwd options (unquoted, split on spaces); FWD_PROFILE: another profile.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
[[ -x $fwd ]] || { echo "no netchaos-fwd at $fwd (build it or set NETCHAOS_FWD)" >&2; exit 4; }
dur=${1:-10}; rounds=${2:-2}
t=$(mktemp -d); trap 'rm -rf "$t" /var/run/dpdk/ncb$$' EXIT   # EAL leaves its runtime dir (--file-prefix) even on a clean exit
eal=(--no-huge --no-shconf -m 1024 --no-pci --file-prefix ncb$$ --vdev=net_null0 --vdev=net_null1 --log-level=lib.eal:4)
# CPU ticks (1/100 s) used so far by the forwarding thread: netchaos-fwd's main thread
# (lcore 1), testpmd's rte-worker-1.
fwd_ticks() {
  local pid=$1 tid=$1 t
  for t in /proc/$pid/task/*; do [[ $(cat "$t/comm") == rte-worker-1 ]] && tid=${t##*/}; done
  awk '{print $14 + $15}' "/proc/$pid/task/$tid/stat"
}
# run LOG READY-REGEX CMD...: start, wait until the log says it forwards (EAL setup without
# hugepages takes seconds on a loaded VM), measure for $dur s, then SIGINT and wait.
# Leaves the forwarding thread's CPU seconds while forwarding in LOG.cpu: on a shared VM the
# thread gets a fraction of a core, so packets per CPU-second is the comparable figure.
run() {
  local log=$1 ready=$2; shift 2
  "$@" </dev/null >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do grep -qE "$ready" "$log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  local c0; c0=$(fwd_ticks $pid)
  sleep "$dur"
  echo "$(( $(fwd_ticks $pid) - c0 ))" > "$log.cpu"
  kill -INT $pid 2>/dev/null; wait $pid || true
}
# Per CPU-second of the forwarding thread: each tool's steady rate (its stats lines, warm-up
# skipped) over its thread's CPU share in the measured window, the same arithmetic for both.
# Not the final totals over the window's CPU: testpmd forwards on for ~1 s after SIGINT (its
# stats loop sleeps a period before it looks), so its total spans the window and a second
# more, which understated the ratio by dur/(dur+1) (0.83 at 5 s) before 2026-12-04.
per_cpu() { awk -v r="$1" -v c="$2" -v d="$dur" 'BEGIN{printf "%.2f", r / (c / (d * 100))}'; }
for r in $(seq "$rounds"); do
  run "$t/tp$r.log" "Tx-pps" dpdk-testpmd "${eal[@]}" -l 0-1 -- --forward-mode=io --auto-start \
    --stats-period 1 --nb-cores=1
  run "$t/fwd$r.log" "^netchaos-fwd: forwarding" "$fwd" "${eal[@]}" -l 1 -- --profile "${FWD_PROFILE:-$here/bench/fwd/normal-100us-20us.toml}" \
    --control "$t/fwd.sock" --stats-interval 1s --on-exit drop --rate-hint 20e6 ${FWD_ARGS:-}
  tp=$(python3 "$here/bench/fwd/parse.py" testpmd "$t/tp$r.log")
  nf=$(python3 "$here/bench/fwd/parse.py" fwd "$t/fwd$r.log")
  tpt=$(cat "$t/tp$r.log.cpu"); nft=$(cat "$t/fwd$r.log.cpu")
  # testpmd 22.11 prints Tx-pps 0 for net_null ports on some builds: then there is no ratio
  if awk "BEGIN{exit !($tp > 0)}"; then
    tps=$(per_cpu "$tp" "$tpt") nfs=$(per_cpu "$nf" "$nft")
    echo "round $r: wall: testpmd io $tp Mpps, netchaos-fwd $nf Mpps, ratio $(awk "BEGIN{printf \"%.2f\", $nf/$tp}")"
    echo "  per forwarding-thread CPU-second: testpmd $tps Mpps, netchaos-fwd $nfs Mpps, ratio $(awk "BEGIN{printf \"%.2f\", $nfs/$tps}") (cpu: testpmd $tpt, fwd $nft ticks of $((dur*100)))"
  else
    echo "round $r: wall: netchaos-fwd $nf Mpps, $(per_cpu "$nf" "$nft") per CPU-second (testpmd printed no Tx-pps)"
  fi
  python3 "$here/bench/fwd/parse.py" precision "$t/fwd$r.log" | sed 's/^/  /'
done
