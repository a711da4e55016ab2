#!/usr/bin/env bash
# netchaos-fwd --preflight on net_null and on veths (net_af_xdp), and the same report at a
# normal start: the checks that apply run and pass, the ones that cannot apply say why
# (a virtual port has no link speed, no NUMA node, no rx timestamps: TSC fallback), each
# warning carries a fix, and the verdict is the exit code (0, or 4 when something blocks).
# Each expectation is cross-checked against a second source where there is one: the
# kernel's CPUID flags (/proc/cpuinfo nonstop_tsc), /sys NUMA nodes and isolated cpus, a
# spinning thread pinned to the forwarding cpu, and the stats' "clock" fields.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
tmp=$(mktemp -d /tmp/nc-preflight.XXXXXX) || fail "mktemp"
nc_defer "rm -rf '$tmp'"
pre=pf$$
nc_defer "rm -rf /var/run/dpdk/$pre-*"
cpu=$(($(nproc) - 1))
eal() { echo --no-shconf -m 256 --no-pci --file-prefix "$pre-$1" --log-level=lib.eal:4 -l "$cpu"; }

# What the machine says, from other sources than the forwarder.
if grep -qw nonstop_tsc /proc/cpuinfo; then tsc_level=ok want_rc=0
elif grep -qw hypervisor /proc/cpuinfo; then tsc_level=WARN want_rc=0   # a guest: the measured stability decides
else tsc_level=BLOCK want_rc=4; fi
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
isolated=$(cat /sys/devices/system/cpu/isolated 2>/dev/null)

# ---- net_null: every check, with a spinner pinned to the forwarding cpu
taskset -c "$cpu" bash -c 'while :; do :; done' & spin=$!
nc_defer "kill $spin"
ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
sleep 0.1
spin0=$(ticks $spin) t0=$(date +%s%N)
nc_expect $want_rc "netchaos-fwd: preflight (what each check means: docs/forwarder.md)" -- \
  "$NETCHAOS_FWD" --no-huge $(eal null) --vdev=net_null0 --vdev=net_null1 -- --preflight --control "$tmp/ctl.sock"
spin_share=$(awk -v d=$(( $(ticks $spin) - spin0 )) -v ns=$(( $(date +%s%N) - t0 )) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", d / hz / (ns / 1e9)}')
kill $spin
nc_has "  $(printf '%-5s' $tsc_level) tsc.invariant "
nc_has "tsc.stable           two 100 ms calibrations against CLOCK_MONOTONIC"
nc_has "  ok    hugepages            --no-huge chosen, and every port is virtual"
for p in 0 1; do
  nc_has "  ok    port$p.driver         port $p (net_null$p, net_null), virtual device"
  nc_has "  n/a   port$p.link           net_null has no physical link: speed and duplex do not apply"
  nc_has "  ok    port$p.mtu            MTU 1500 = --max-frame 1518 - 18"
  nc_has "  ok    port$p.promiscuous    promiscuous"
  nc_has "  n/a   port$p.rx_clock       net_null offers no rx timestamp offload: rx times are the TSC at the rx burst (fallback)"
done
if ((nodes <= 1)); then nc_has "  n/a   numa                 one NUMA node"
else nc_has "  n/a   port0.numa           net_null is a virtual device: no NUMA node of its own"; fi
if [[ ",$isolated," == *",$cpu,"* ]]; then nc_lacks "which is not isolated"
else nc_has "  WARN  lcore.isolated       lcore $cpu runs on cpu $cpu, which is not isolated"; nc_has "fix: boot with isolcpus=$cpu nohz_full=$cpu"; fi
nc_has "  WARN  lcore.busy           other threads ran on cpu $cpu during the calibration"
# Named when it got its share of the core; on a host where other spinners (another
# forwarder) took the core from it, the run says so instead of checking the name.
if awk "BEGIN{exit !($spin_share >= 0.15)}"; then nc_has "bash (pid $spin tid $spin)"
else echo "note: the pinned spinner got only $spin_share of cpu $cpu over the run; its name is not checked"; fi
nc_has "  ok    pool                 32768 mbufs"
nc_has "netchaos-fwd: mempool driver stack"
nc_has "  n/a   pool.line_rate       net_null has no link speed: the pool is sized for --rate-hint alone"
# --no-huge and net_null ports only: the pool goes on transparent huge pages, and the MiB the
# kernel granted as huge are what /sys allows (none when THP is off).
# A kernel built without THP refuses MADV_HUGEPAGE: the pool stays on the EAL's memory, said.
if [[ ! -e /sys/kernel/mm/transparent_hugepage/enabled ]]; then
  nc_has "netchaos-fwd: WARNING: mbuf pool memory eal: no huge-page heap (madvise(MADV_HUGEPAGE): "
else
  nc_has "netchaos-fwd: mbuf pool memory thp (no hugepages, software ports only): "
  huge_mib=$(grep -oE "MiB mapped, [0-9]+ MiB of it on huge pages" "$NC_OUT" | awk '{print $3}')
  if grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled; then
    [[ $huge_mib == 0 ]] || fail "THP is off, yet $huge_mib MiB huge"; nc_has "(the kernel granted none"
  else
    (( huge_mib > 0 )) || fail "THP is $(cat /sys/kernel/mm/transparent_hugepage/enabled), yet no MiB of the pool on huge pages"
  fi
fi
[[ -e $tmp/ctl.sock ]] && fail "--preflight opened a control socket"
awk '/^  (WARN|BLOCK) /{w=1; next} w && !/^        fix: /{bad=1} {w=0} END{exit bad}' "$NC_OUT" || fail "a warning without a fix line"
grep -q "netchaos-fwd: preflight: .* ok, .* n/a, .* warnings, $(( want_rc == 4 ? 1 : 0 )) blocking" "$NC_OUT" || fail "summary: $(tail -1 "$NC_OUT")"
pass "net_null --preflight: exit $want_rc; TSC from CPUID, n/a for link/NUMA/rx clock/line rate, the pinned spinner named"

# A mempool driver EAL has not loaded: said, and DPDK's default ring used instead.
nc_expect $want_rc "netchaos-fwd: mempool driver nosuch not loaded; using ring_mp_mc" -- \
  "$NETCHAOS_FWD" --no-huge $(eal ops) --vdev=net_null0 --vdev=net_null1 -- --preflight --pool-ops nosuch
nc_has "netchaos-fwd: mempool driver ring_mp_mc"
pass "--pool-ops nosuch: fell back to ring_mp_mc and said so"

# --pool-memory takes three words; anything else is bad input before the EAL starts.
nc_expect 3 "netchaos-fwd: --pool-memory auto|eal|thp, got huge (see --help)" -- \
  "$NETCHAOS_FWD" --no-huge $(eal mem) --vdev=net_null0 --vdev=net_null1 -- --preflight --pool-memory huge
pass "--pool-memory huge: exit 3 with the allowed values"

# --max-frame against the MTU: a warning naming the flag that fixes it, still exit 0.
nc_expect $want_rc "  WARN  port0.mtu            MTU 1500 takes frames up to 1518 B, below --max-frame 9018" -- \
  "$NETCHAOS_FWD" --no-huge $(eal mtu) --vdev=net_null0 --vdev=net_null1 -- --preflight --max-frame 9018
nc_has "fix: --max-frame 1518, or raise the port's MTU to 9000"
pass "--max-frame 9018 over MTU 1500: warned with its fix"

# Blocking: one port; and no hugepages without --no-huge (when this machine has none).
nc_expect 4 "  BLOCK eal                  EAL found 1 ports, the forwarder needs 2" -- \
  "$NETCHAOS_FWD" --no-huge $(eal one) --vdev=net_null0 -- --preflight
nc_has "1 blocking"
if [[ $(cat /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages | awk '{s+=$1} END{print s+0}') == 0 ]]; then
  nc_expect 4 "  BLOCK hugepages            no hugepages reserved and no --no-huge" -- \
    "$NETCHAOS_FWD" $(eal huge) --vdev=net_null0 --vdev=net_null1 -- --preflight
  nc_has "  BLOCK eal                  EAL init failed"
  nc_has "fix: echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
  pass "no hugepages and no --no-huge: blocked (exit 4) with the fix"
else
  echo "note: hugepages are reserved here; the no-hugepage block is covered by the unit tests only"
fi

# ---- veths (net_af_xdp): --preflight on a spare pair, then the report at a normal start
fwd_up
ip -n "$FWDNS" link add "$P-x0" type veth peer name "$P-x1" || fail "spare veth pair"
ip -n "$FWDNS" link set "$P-x0" up && ip -n "$FWDNS" link set "$P-x1" mtu 3000 up
nc_expect $want_rc "  n/a   port0.link           net_af_xdp has no physical link: speed and duplex do not apply; its interface $P-x0 is up" -- \
  ip netns exec "$FWDNS" \
  "$NETCHAOS_FWD" --no-huge $(eal xdp) --vdev="net_af_xdp0,iface=$P-x0" --vdev="net_af_xdp1,iface=$P-x1" -- --preflight
nc_has "  ok    port1.driver         port 1 (net_af_xdp1, net_af_xdp), virtual device"
nc_has "  ok    port0.mtu            $P-x0 MTU 1500 = --max-frame 1518 - 18"
nc_has "  WARN  port1.mtu            $P-x1 MTU 3000 takes frames up to 3018 B, above --max-frame 1518"
nc_has "        fix: --max-frame 3018"
nc_has "  ok    port0.promiscuous    promiscuous"
nc_has "  n/a   port1.rx_clock       net_af_xdp offers no rx timestamp offload: rx times are the TSC at the rx burst (fallback)"
nc_has "  n/a   pool.line_rate       net_af_xdp has no link speed"
nc_has "netchaos-fwd: mempool driver ring_mp_mc"
nc_lacks "WARNING: mempool driver"
nc_has "netchaos-fwd: mbuf pool memory eal (port driver net_af_xdp needs the EAL's memory)"
# The stack driver asked for by name with AF_XDP ports: taken, with a warning.
nc_expect $want_rc "netchaos-fwd: WARNING: mempool driver stack with an AF_XDP port" -- \
  ip netns exec "$FWDNS" \
  "$NETCHAOS_FWD" --no-huge $(eal xdp) --vdev="net_af_xdp0,iface=$P-x0" --vdev="net_af_xdp1,iface=$P-x1" -- --preflight --pool-ops stack
nc_has "netchaos-fwd: mempool driver stack"
ip -n "$FWDNS" link del "$P-x0"
pass "net_af_xdp --preflight on veths: exit $want_rc, the veths' state and MTU checked, link speed/rx clock/line rate n/a with the reason"

# The running bench's forwarder printed the same report before forwarding.
NC_OUT=$FWD_LOG
nc_has "netchaos-fwd: preflight (what each check means: docs/forwarder.md)"
nc_has "  n/a   port0.rx_clock       net_af_xdp offers no rx timestamp offload"
grep -q "netchaos-fwd: preflight: .* 0 blocking" "$FWD_LOG" || fail "start report: $(grep 'preflight:' "$FWD_LOG")"
(( $(grep -n 'preflight: ' "$FWD_LOG" | cut -d: -f1) < $(grep -n 'forwarding port 0' "$FWD_LOG" | cut -d: -f1) )) ||
  fail "the report comes after forwarding started"
read -r clock rx_clock err_clock <<<"$(fwd_stat "s['clock'], s['rx_clock'], s['directions']['0to1']['release_error_ns']['clock']" | tr -d "(),'")"
[[ $clock == tsc && $rx_clock == tsc && $err_clock == tsc ]] || fail "stats clocks: clock=$clock rx_clock=$rx_clock release_error_ns.clock=$err_clock"
mem=$(fwd_stat "s['pool']['memory']")
[[ $mem == eal ]] || fail "AF_XDP bench: pool memory '$mem', want eal"
pass "start report before forwarding; stats say clock tsc, rx_clock tsc (the fallback), release errors in tsc"
nc_expect 0 ", rx times from tsc" -- "$NETCHAOS" show --backend dpdk --control "$SOCK"
nc_has " us (tsc)"
pass "netchaos show --backend dpdk names the rx clock and the release error's clock"
