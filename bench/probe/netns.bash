# Sourced by bench/probe/*.sh: two namespaces joined by a veth pair, removed on exit.
# $NSA (10.250.1.1, probe side) <-> $NSB (10.250.1.2, reflector/irtt server side).
set -u
[[ $(id -u) == 0 ]] || { echo "needs root (network namespaces)" >&2; exit 4; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NETCHAOS=${NETCHAOS:-$here/build/src/cli/netchaos}
[[ -x $NETCHAOS ]] || { echo "no netchaos at $NETCHAOS (set NETCHAOS)" >&2; exit 4; }
NSA=ncba$$ NSB=ncbb$$ IPA=10.250.1.1 IPB=10.250.1.2
OUT=$(mktemp -d /tmp/ncbench.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for n in "$NSA" "$NSB"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add "ba$$" netns "$NSA" type veth peer name "bb$$" netns "$NSB"
ip -n "$NSA" addr add "$IPA/24" dev "ba$$"; ip -n "$NSA" link set "ba$$" up
ip -n "$NSB" addr add "$IPB/24" dev "bb$$"; ip -n "$NSB" link set "bb$$" up
ip netns exec "$NSA" ethtool -K "ba$$" tx off tso off gso off gro off >/dev/null 2>&1
ip netns exec "$NSB" ethtool -K "bb$$" tx off tso off gso off gro off >/dev/null 2>&1
ip netns exec "$NSB" "$NETCHAOS" reflect --listen "$IPB:7777" -q 2>"$OUT/reflect.log" &
pids+=($!)
sleep 0.3
