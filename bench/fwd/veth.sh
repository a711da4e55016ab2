#!/usr/bin/env bash
# veth path: RTT across cli <-> fwd <-> srv (scripts/bench-netns.sh, AF_XDP on both ports)
# with netchaos-fwd on a zero-delay (pass-through) profile vs dpdk-testpmd io-fwd in the
# same place, measured by irtt. Rounds alternate the two. Goal: ours <= 1.2x testpmd.
#   bench/fwd/veth.sh [DURATION=10s] [ROUNDS=2]
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
export NETCHAOS_FWD=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
dur=${1:-10s}; rounds=${2:-2}; P=ncv$$
t=$(mktemp -d); trap '"$here/scripts/bench-netns.sh" down --prefix $P; rm -rf "$t"' EXIT
measure() {  # measure NAME [bench-netns args]
  local name=$1; shift
  "$here/scripts/bench-netns.sh" up --prefix $P "$@" >/dev/null || exit 4
  pin=$("$here/scripts/bench-netns.sh" cpus --prefix $P)   # irtt off the forwarding cpus (bench-netns.sh cpus: why)
  ${pin:+taskset -c "$pin"} ip netns exec $P-srv irtt server -i 0 -b 10.213.0.2:2112 >/dev/null 2>&1 &
  local ipid=$!
  sleep 0.3
  ${pin:+taskset -c "$pin"} ip netns exec $P-cli irtt client -Q -i 10ms -d "$dur" -o "$t/$name.json" 10.213.0.2:2112
  kill $ipid; wait $ipid 2>/dev/null
  "$here/scripts/bench-netns.sh" down --prefix $P
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['stats']['rtt']; print(f\"{r['mean']/1e3:.1f} {r['median']/1e3:.1f} {r['stddev']/1e3:.1f} {r['n']}\")" "$t/$name.json"
}
for r in $(seq "$rounds"); do
  read -r tm tmed tsd tn <<<"$(measure testpmd$r --testpmd)"
  read -r fm fmed fsd fn <<<"$(measure fwd$r)"
  echo "round $r: testpmd io RTT mean $tm us median $tmed us sd $tsd us (n=$tn); netchaos-fwd zero-delay mean $fm us median $fmed us sd $fsd us (n=$fn); ratio mean $(awk "BEGIN{printf \"%.2f\", $fm/$tm}") median $(awk "BEGIN{printf \"%.2f\", $fmed/$tmed}")"
done
