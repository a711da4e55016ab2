#!/bin/bash
# Encoder vs tc, same run: our encode time per message, and tc's wall time to parse the same
# options and send them (in a private netns; without sch_netem the kernel rejects, which is
# after the send). usage: bench/netem_encode/run.sh BUILD_DIR [N]
set -euo pipefail
build=${1:?build dir}; n=${2:-200}
"$build/bench/netem_encode/bench_netem_encode" 20000
ns=nc-bench-$$; ip netns add "$ns"; trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link add ncb0 type veth peer name ncb1
for args in "delay 10ms" "delay 50ms 10ms 25% distribution normal loss 0.5% 25% rate 10mbit"; do
    t0=$(date +%s%N)
    for ((i = 0; i < n; i++)); do tc -n "$ns" qdisc add dev ncb0 root netem $args 2>/dev/null || true; done
    t1=$(date +%s%N)
    printf 'tc qdisc add netem %-60s %9.0f ns/run (tc -n NS, whole process)\n' "'$args'" "$(( (t1 - t0) / n ))"
done
