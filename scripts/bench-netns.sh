#!/usr/bin/env bash
# cli <-> fwd <-> srv test bench in three network namespaces with netchaos-fwd in the middle.
#   scripts/bench-netns.sh up   [--prefix P] [--pmd af_xdp|af_packet] [--mtu N] [--lcores L]
#                               [--testpmd] [--reflector] [-- FWD-APP-ARGS...]
#   scripts/bench-netns.sh down [--prefix P]
#   scripts/bench-netns.sh cpus [--prefix P]   the cpus no forwarding lcore spins on (empty: none)
# up builds P-cli (10.213.0.1/24 and fd00:213::1/64 on P-c0) <-> P-fwd (P-f0, P-f1: netchaos-fwd port 0, port 1)
# <-> P-srv (10.213.0.2/24 and fd00:213::2/64 on P-s0), turns veth offloads off (a user-space forwarder passes
# frames with partial checksums otherwise), sets static ARP (so a loss profile cannot eat
# ARP), starts the forwarder ($NETCHAOS_FWD or build/dpdk/netchaos-fwd) with its control
# socket at /run/netchaos/P-fwd.sock, waits until a ping crosses, and prints what it built.
# --testpmd puts dpdk-testpmd --forward-mode=io in the middle instead (the baseline; no socket).
# --reflector also starts `netchaos reflect --listen 10.213.0.2:7777` in P-srv ($NETCHAOS or
# build/src/cli/netchaos), the probe target the shipped experiments name; down stops it.
# down stops the forwarder (SIGINT, then SIGKILL) and deletes everything; idempotent.
# cpus: where the bench's other processes belong (taskset -c "$(bench-netns.sh cpus)" irtt ...;
# the reflector is started there). Left to the scheduler, a task placed beside a spinning lcore
# takes a ~3 ms CFS slice from it, which the forwarder counts as a stall (68 stalls, 200 ms of
# every 5 s on a 2-cpu host with irtt running).
# Frames on port 0 (from cli) are direction 0to1, so a profile's egress impairment delays
# cli -> srv traffic and its ingress impairment srv -> cli.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}; shift || true
case $cmd in -h|--help|help) sed -n '2,21p' "$0"; exit 0 ;; esac
P=nc; pmd=af_xdp; mtu=1500; lcores=${NC_FWD_LCORES:-1}; fwd_args=(); testpmd=0; reflector=0
while (($#)); do
  case $1 in
    --prefix) P=$2; shift 2 ;;
    --pmd) pmd=$2; shift 2 ;;
    --mtu) mtu=$2; shift 2 ;;
    --lcores) lcores=$2; shift 2 ;;
    --testpmd) testpmd=1; shift ;;
    --reflector) reflector=1; shift ;;
    --) shift; fwd_args=("$@"); break ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench-netns: unknown argument $1" >&2; exit 3 ;;
  esac
done
((${#P} <= 11)) || { echo "bench-netns: prefix '$P' too long (interface names max 15 chars)" >&2; exit 3; }
[[ $P =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || { echo "bench-netns: prefix '$P': letters, digits, '-' and '_' only" >&2; exit 3; }
state=/run/netchaos/$P.bench
sock=/run/netchaos/$P-fwd.sock

# Running = exists and is not a zombie (an orphaned forwarder waits for init to reap it).
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]; }

down() {
  if [[ -f $state/reflect.pid ]]; then
    local rpid; rpid=$(cat "$state/reflect.pid")
    alive "$rpid" && grep -qa "reflect" "/proc/$rpid/cmdline" 2>/dev/null && kill "$rpid" 2>/dev/null
  fi
  if [[ -f $state/fwd.pid ]]; then
    local pid; pid=$(cat "$state/fwd.pid")
    if alive "$pid" && grep -qaE "netchaos-fwd|dpdk-testpmd" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -INT "$pid" 2>/dev/null
      for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
  fi
  for n in "$P-cli" "$P-fwd" "$P-srv"; do ip netns del "$n" 2>/dev/null; done
  rm -f "$sock"; rm -rf "$state"
  rm -rf "/var/run/dpdk/$P"   # EAL's runtime directory (--file-prefix P), left even by a clean exit
  return 0
}

mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

up() {
  local fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
  ((testpmd)) && fwd=$(command -v dpdk-testpmd)
  [[ -x $fwd ]] || { echo "bench-netns: no forwarder binary at $fwd (build it or set NETCHAOS_FWD)" >&2; return 4; }
  [[ $(id -u) == 0 ]] || { echo "bench-netns: needs root" >&2; return 4; }
  down
  mkdir -p "$state" /run/netchaos
  set -e
  for n in cli fwd srv; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
  ip link add "$P-c0" netns "$P-cli" type veth peer name "$P-f0" netns "$P-fwd"
  ip link add "$P-f1" netns "$P-fwd" type veth peer name "$P-s0" netns "$P-srv"
  ip -n "$P-cli" addr add 10.213.0.1/24 dev "$P-c0"
  ip -n "$P-srv" addr add 10.213.0.2/24 dev "$P-s0"
  for p in "cli c0" "fwd f0" "fwd f1" "srv s0"; do
    set -- $p
    ip -n "$P-$1" link set "$P-$2" mtu "$mtu" up
    ip netns exec "$P-$1" ethtool -K "$P-$2" tx off tso off gso off gro off rx off >/dev/null 2>&1 || true
  done
  ip -n "$P-cli" neigh replace 10.213.0.2 lladdr "$(mac "$P-srv" "$P-s0")" dev "$P-c0" nud permanent
  ip -n "$P-srv" neigh replace 10.213.0.1 lladdr "$(mac "$P-cli" "$P-c0")" dev "$P-s0" nud permanent
  # IPv6 too (per-flow class tests): fd00:213::1 <-> fd00:213::2, no DAD, static neighbours.
  ip -n "$P-cli" addr add fd00:213::1/64 dev "$P-c0" nodad
  ip -n "$P-srv" addr add fd00:213::2/64 dev "$P-s0" nodad
  ip -n "$P-cli" neigh replace fd00:213::2 lladdr "$(mac "$P-srv" "$P-s0")" dev "$P-c0" nud permanent
  ip -n "$P-srv" neigh replace fd00:213::1 lladdr "$(mac "$P-cli" "$P-c0")" dev "$P-s0" nud permanent
  set +e
  local vdev
  case $pmd in
    af_xdp) vdev=(--vdev="net_af_xdp0,iface=$P-f0" --vdev="net_af_xdp1,iface=$P-f1") ;;
    af_packet)
      # frames up to the MTU must fit one tpacket frame and one mbuf
      local fs=2048; ((mtu > 1500)) && fs=16384
      vdev=(--vdev="net_af_packet0,iface=$P-f0,qdisc_bypass=1,framecnt=8192,framesz=$fs,blocksz=$fs"
            --vdev="net_af_packet1,iface=$P-f1,qdisc_bypass=1,framecnt=8192,framesz=$fs,blocksz=$fs")
      ((mtu > 1500)) && fwd_args=(--mbuf-size $((fs + 64)) "${fwd_args[@]}") ;;
    *) echo "bench-netns: --pmd af_xdp|af_packet" >&2; down; return 3 ;;
  esac
  local eal=(--no-huge --no-shconf -m 1024 --no-pci --file-prefix "$P" --log-level=lib.eal:4 "${vdev[@]}")
  # testpmd needs a main lcore besides the forwarding one
  local fwd_cpus=$lcores; ((testpmd)) && fwd_cpus=0-1
  if ((testpmd)); then
    # without --stats-period testpmd reads stdin and quits
    ip netns exec "$P-fwd" bash -c 'echo $$ > "$0"; exec "$@"' "$state/fwd.pid" dpdk-testpmd "${eal[@]}" -l "$fwd_cpus" \
      -- --forward-mode=io --auto-start --stats-period 5 --nb-cores=1 </dev/null >"$state/fwd.log" 2>&1 &
  else
    ip netns exec "$P-fwd" bash -c 'echo $$ > "$0"; exec "$@"' "$state/fwd.pid" "$fwd" "${eal[@]}" -l "$fwd_cpus" \
      -- --control "$sock" "${fwd_args[@]}" </dev/null >"$state/fwd.log" 2>&1 &
  fi
  local ok=0
  for _ in $(seq 100); do
    sleep 0.2
    [[ -f $state/fwd.pid ]] && ! alive "$(cat "$state/fwd.pid")" && break
    if { ((testpmd)) || [[ -S $sock ]]; } && ip netns exec "$P-cli" ping -c1 -W1 -q 10.213.0.2 >/dev/null 2>&1; then ok=1; break; fi
  done
  if ((!ok)); then
    echo "bench-netns: forwarder did not forward; its log:" >&2; tail -n 20 "$state/fwd.log" >&2
    down; return 4
  fi
  # The cpus the forwarding lcores leave free.
  local -A busy=()
  local part c free=""
  for part in ${fwd_cpus//,/ }; do
    for c in $(seq "${part%-*}" "${part#*-}"); do busy[$c]=1; done
  done
  for c in $(seq 0 $(($(nproc --all) - 1))); do [[ -n ${busy[$c]:-} ]] || free+="${free:+,}$c"; done
  echo "$free" >"$state/free_cpus"
  if ((reflector)); then
    local nc=${NETCHAOS:-$here/build/src/cli/netchaos}
    [[ -x $nc ]] || { echo "bench-netns: no netchaos binary at $nc (build it or set NETCHAOS)" >&2; down; return 4; }
    ${free:+taskset -c "$free"} ip netns exec "$P-srv" "$nc" reflect --listen 10.213.0.2:7777 </dev/null >"$state/reflect.log" 2>&1 &
    echo $! >"$state/reflect.pid"
    local i; for i in $(seq 50); do grep -q . "$state/reflect.log" 2>/dev/null && break; sleep 0.1; done
    alive "$(cat "$state/reflect.pid")" || { echo "bench-netns: reflector did not start:" >&2; cat "$state/reflect.log" >&2; down; return 4; }
  fi
  cat <<EOT
bench-netns: up ($( ((testpmd)) && echo "dpdk-testpmd io" || echo netchaos-fwd), $pmd, mtu $mtu)
  cli  netns $P-cli  dev $P-c0  10.213.0.1/24
  fwd  netns $P-fwd  dev $P-f0 (port 0, 0to1 = cli->srv)  dev $P-f1 (port 1, 1to0 = srv->cli)
  srv  netns $P-srv  dev $P-s0  10.213.0.2/24
  forwarder pid $(cat "$state/fwd.pid")  log $state/fwd.log  lcores on cpu ${fwd_cpus}, free cpus: ${free:-none}
  control $sock$( ((reflector)) && printf '\n  reflector 10.213.0.2:7777 in %s-srv  pid %s  log %s' "$P" "$(cat "$state/reflect.pid")" "$state/reflect.log")
EOT
}

case $cmd in
  up) up ;;
  down) down ;;
  cpus) cat "$state/free_cpus" 2>/dev/null || { echo "bench-netns: no bench $P up" >&2; exit 4; } ;;
  *) echo "usage: $0 up|down|cpus [--prefix P] [--pmd af_xdp|af_packet] [--mtu N] [--reflector] [-- FWD-ARGS]  (--help: more)" >&2; exit 3 ;;
esac
