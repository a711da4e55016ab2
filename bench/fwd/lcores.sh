#!/usr/bin/env bash
# Forwarding rate with 2 lcores vs 1 (issue 14 item 2), same run, same profile: every packet
# delayed by normal(100 us, 20 us) in both directions, net_null pairs (2 queues per port with
# --lcores 2: each lcore polls its own queue of both ports). Rounds alternate the two so a
# noisy neighbour hurts both alike. Bench, run by hand as root:
#   [FWD_ARGS="..."] bench/fwd/lcores.sh [SECONDS=5] [ROUNDS=2]
# 1 lcore runs on -l 1 (as rate.sh), 2 on -l 0-1: on a 2-cpu host the control thread then has
# no cpu of its own, and anything else running takes from the forwarders. So the load average
# is printed around each run, and the figure per CPU-second of the forwarding threads too.
# The peer in the same round: dpdk-testpmd io on the same net_null pair, 1 forwarding core
# against 2 with 2 queues a port (main lcore and the first forwarding lcore share cpu 0, as
# netchaos-fwd's control thread does). net_null's multi-queue scaling is a property of the
# PMD and the host (testpmd io scaled 1.25x on one host, where two testpmd processes on
# separate pairs scaled 1.98x), so the forwarder's ratio is read against testpmd's.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
[[ -x $fwd ]] || { echo "no netchaos-fwd at $fwd (build it or set NETCHAOS_FWD)" >&2; exit 4; }
(( $(nproc) >= 2 )) || { echo "needs 2 cpus (has $(nproc))" >&2; exit 4; }
dur=${1:-5}; rounds=${2:-2}
t=$(mktemp -d); trap 'rm -rf "$t" /var/run/dpdk/ncl$$-*' EXIT
eal=(--no-huge --no-shconf -m 1024 --no-pci --vdev=net_null0 --vdev=net_null1 --log-level=lib.eal:4)
# CPU ticks (1/100 s) so far of the forwarding threads: the main thread (lane 0) and the workers.
fwd_ticks() {
  local pid=$1 sum=0 t
  for t in /proc/$pid/task/*; do
    [[ ${t##*/} == "$pid" || $(cat "$t/comm") == rte-worker-* ]] && sum=$((sum + $(awk '{print $14 + $15}' "$t/stat")))
  done
  echo $sum
}
# run LOG NAME SECONDS READY-REGEX PROGRAM ARGS...: PROGRAM with the EAL's arguments (file prefix
# NAME), waits until LOG matches READY-REGEX, measures for SECONDS, SIGINT, wait. LOG.cpu: the
# forwarding threads' ticks while measured; LOG.load: the 1-minute load average after.
run() {
  local log=$1 n=$2 secs=$3 ready=$4 prog=$5; shift 5
  : >"$log"   # exists before the poll below reads it (the background job opens it later)
  "$prog" "${eal[@]}" --file-prefix "ncl$$-$n" "$@" </dev/null >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do grep -qE "$ready" "$log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  local c0; c0=$(fwd_ticks $pid)
  sleep "$secs"
  echo "$(( $(fwd_ticks $pid) - c0 ))" >"$log.cpu"
  cut -d' ' -f1 /proc/loadavg >"$log.load"
  kill -INT $pid 2>/dev/null; wait $pid || true
  rm -rf "/var/run/dpdk/ncl$$-$n"
}
common=(--profile "$here/bench/fwd/normal-100us-20us.toml" --control "$t/fwd.sock" --stats-interval 1s --on-exit drop --rate-hint 20e6 ${FWD_ARGS:-})
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# testpmd io on 1 core, and on 2 cores with 2 queues a port (the main lcore beside the first).
# 2 s longer: with 2 cores its stats loop shares cpu 0 with a spinning lcore and prints every
# ~2 s, and parse.py skips the first two prints as warm-up.
tp_io=(--forward-mode=io --auto-start --stats-period 1)
for r in $(seq "$rounds"); do
  if command -v dpdk-testpmd >/dev/null; then
    run "$t/tp1-$r.log" "tp1-$r" $((dur + 2)) "Tx-pps" dpdk-testpmd -l 0-1 -- "${tp_io[@]}" --nb-cores=1
    run "$t/tp2-$r.log" "tp2-$r" $((dur + 2)) "Tx-pps" dpdk-testpmd --lcores "0@0,1@0,2@1" -- "${tp_io[@]}" --nb-cores=2 --rxq=2 --txq=2
    tp1=$(python3 "$here/bench/fwd/parse.py" testpmd "$t/tp1-$r.log"); tp2=$(python3 "$here/bench/fwd/parse.py" testpmd "$t/tp2-$r.log")
    awk "BEGIN{exit !($tp1 > 0)}" && echo "round $r: peer: testpmd io 1 core $tp1 Mpps, 2 cores $tp2 Mpps, ratio $(awk "BEGIN{printf \"%.2f\", $tp2/$tp1}")"
  fi
  run "$t/one$r.log" "one$r" "$dur" "^netchaos-fwd: forwarding" "$fwd" -l 1 -- "${common[@]}"
  run "$t/two$r.log" "two$r" "$dur" "^netchaos-fwd: forwarding" "$fwd" -l 0-1 -- --lcores 2 "${common[@]}"
  one=$(python3 "$here/bench/fwd/parse.py" fwd "$t/one$r.log"); two=$(python3 "$here/bench/fwd/parse.py" fwd "$t/two$r.log")
  c1=$(cat "$t/one$r.log.cpu"); c2=$(cat "$t/two$r.log.cpu")
  echo "round $r: wall: 1 lcore $one Mpps, 2 lcores $two Mpps, ratio $(awk "BEGIN{printf \"%.2f\", $two/$one}")" \
       "(load average after: $(cat "$t/one$r.log.load") / $(cat "$t/two$r.log.load"))"
  echo "  forwarding threads' cpu: 1 lcore $c1, 2 lcores $c2 ticks of $((dur * 100)) per lcore;" \
       "per CPU-second: $(awk "BEGIN{printf \"%.2f\", $one*100*$dur/$c1}") vs $(awk "BEGIN{printf \"%.2f\", $two*100*$dur/$c2}") Mpps"
  # The profile's limit (1000) is per lcore: at these rates part of rx is dropped at it.
  echo "  received and dropped at the queue limit: 1 lcore $(python3 "$here/bench/fwd/parse.py" drop-share "$t/one$r.log"), 2 lcores $(python3 "$here/bench/fwd/parse.py" drop-share "$t/two$r.log")"
done
