#!/usr/bin/env bash
# Issue 18 items 2 and 9 on the DPDK bench: `bench-netns.sh up --reflector` starts the
# reflector the experiments name; `apply` says which directions it impairs (an egress-only
# profile said "direction both"); `run` refuses, naming it, a profile already in effect on
# the forwarder (it was measured as the "steady state" and reset to pass-through after).
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd ip
[[ -x ${NETCHAOS_FWD:-} ]] || skip "no netchaos-fwd binary at '${NETCHAOS_FWD:-}' (libdpdk-dev missing?)"
P=ns$$
tmp=$(mktemp -d /tmp/nc-state-test.XXXXXX)
nc_defer "rm -rf $tmp"
nc_defer "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh down --prefix $P"
NETCHAOS=$NETCHAOS NETCHAOS_FWD=$NETCHAOS_FWD "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh" up --prefix "$P" --reflector >"$tmp/bench.log" 2>&1 ||
  { cat "$tmp/bench.log"; skip "netns bench did not come up (AF_XDP/DPDK unavailable?)"; }
grep -q "reflector 10.213.0.2:7777" "$tmp/bench.log" || { cat "$tmp/bench.log"; fail "bench did not report its reflector"; }
SOCK=/run/netchaos/$P-fwd.sock

# item 9: the reflector answers (no `netchaos reflect` started by hand).
nc_expect 0 ip netns exec "$P-cli" "$NETCHAOS" probe 10.213.0.2:7777 --duration 1s --rate 50 --quiet
nc_has "received 50"
pass "item 9: bench-netns.sh up --reflector: the probe gets replies at once"

# item 2: apply reports the directions actually impaired.
printf 'name = "by-hand"\n[egress.delay]\nmean = "40ms"\n' >"$tmp/hand.toml"
nc_expect 0 "$NETCHAOS" apply "$tmp/hand.toml" --backend dpdk --control "$SOCK"
nc_has "0to1 impaired by [egress], 1to0 passes through (no [ingress])"
nc_lacks "direction both"
pass "item 2: apply names the directions it impairs"

# item 2: run refuses a profile left on the forwarder, naming it, before anything.
cat >"$tmp/e.toml" <<EOT
baseline = "1s"
[target]
backend = "dpdk"
[probe]
target = "10.213.0.2:7777"
rate = 50
[[phase]]
duration = "2s"
[phase.egress.delay]
mean = "10ms"
EOT
nc_expect 4 "$NETCHAOS" run "$tmp/e.toml" --control "$SOCK" --probe-netns "$P-cli" --quiet
nc_has "the forwarder already has a profile in effect (0to1: \"by-hand (egress)\")"
nc_has "netchaos clear --backend dpdk --control $SOCK"
"$NETCHAOS" show --backend dpdk --control "$SOCK" -j | grep -q '"by-hand (egress)"' || fail "run touched the profile it refused to take over"
pass "item 2: run refuses (exit 4) a profile already in effect, and leaves it alone"

# Cleared, the same run goes ahead and ends in pass-through.
nc_expect 0 "$NETCHAOS" clear --backend dpdk --control "$SOCK"
"$NETCHAOS" run "$tmp/e.toml" --control "$SOCK" --probe-netns "$P-cli" --quiet >"$tmp/out" 2>&1
rc=$?
(( rc <= 2 )) || { cat "$tmp/out"; fail "run after clear exited $rc"; }
nc_lacks "already has a profile"
pass "item 2: after clear the run goes ahead (exit $rc)"
