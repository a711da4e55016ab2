#!/usr/bin/env bash
# Record -> fit -> replay -> check on the netns bench through netchaos-fwd (issue 15), by
# hand (root; ~2 min), with sigma 10 ms and bursty loss: a stall-sensitive version of
# tests/integration/replay_roundtrip.sh (the ctest, which uses sigma 20/40 ms, 4,800 probes a
# piece and judges disturbance from the forwarder's stall counters; docs/replay.md says why).
#   1. run a 2-phase experiment (PHASE s each: normal 40 +- 10 ms, then 100 +- 25 ms with
#      Gilbert-Elliott loss p 1% r 30%, both reorder = true) at RATE/s with --record orig.ncr
#      (the probes of the phases);
#   2. fit orig.ncr into an experiment for the same bench;
#   3. run the fitted experiment with --record replayed.ncr;
#   4. replay-check orig.ncr replayed.ncr (per piece KS D, jitter_1s r, loss).
# usage: [KEEP=1] bench/replay/roundtrip_fwd.sh [BUILD_DIR] [PHASE_SECONDS] [RATE]   (KEEP: leave the traces and TOMLs)
set -uo pipefail
build=$(realpath "${1:-build}")
phase=${2:-30}
rate=${3:-200}
src=$(cd "$(dirname "$0")/../.." && pwd)
P=nrt$$
W=$(mktemp -d /tmp/nc-roundtrip.XXXXXX)
source "$src/bench/replay/bench.bash"
replay_bench_up
cat >"$W/orig.toml" <<EOT
name = "roundtrip-original"
baseline = "2s"
[target]
backend = "dpdk"
control = "$SOCK"
[probe]
target = "10.213.0.2:7777"
netns = "$P-cli"
rate = $rate
[[phase]]
name = "forty"
duration = "${phase}s"
[phase.egress.delay]
mean = "40ms"
jitter = "10ms"
distribution = "normal"
reorder = true
[[phase]]
name = "hundred"
duration = "${phase}s"
[phase.egress.delay]
mean = "100ms"
jitter = "25ms"
distribution = "normal"
reorder = true
[phase.egress.loss]
model = "gilbert-elliott"
p = "1%"
r = "30%"
EOT
echo "== 1. record"
"$nc" run "$W/orig.toml" --quiet --record "$W/orig.ncr" | tail -3
echo "== 2. fit"
# Pieces of at least half a phase (10 s, fit's default, when phases are 20 s or longer).
seg="$(( phase < 20 ? (phase + 1) / 2 : 10 ))s"
"$nc" fit "$W/orig.ncr" -o "$W/fitted.toml" --min-segment "$seg" --control "$SOCK" --probe-netns "$P-cli" --probe-rate "$rate" || exit 1
sed -i 's/^baseline = .*//; s/^name = "fitted"/name = "fitted"\nbaseline = "2s"/' "$W/fitted.toml"
echo "== 3. replay"
"$nc" run "$W/fitted.toml" --quiet --record "$W/replayed.ncr" | tail -3
echo "== 4. check"
"$nc" replay-check "$W/orig.ncr" "$W/replayed.ncr" --min-segment "$seg"
echo "replay-check exit $?"
