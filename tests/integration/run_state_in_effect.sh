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
bench_pin_off_fwd "$P"
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

# item 2, --takeover: the run clears the profile before its steady state (which then measures
# the plain path, not 40 ms) and restores exactly it at the end (name and parameters).
dirs() { "$NETCHAOS" show --backend dpdk --control "$SOCK" -j | python3 -c '
import json, sys
d = json.load(sys.stdin)["directions"]
print(json.dumps({k: [v["profile"], v["params"], v["profile_toml"]] for k, v in sorted(d.items())}))'; }
before=$(dirs)
grep -q '"by-hand (egress)"' <<<"$before" || fail "no by-hand profile before the takeover: $before"
"$NETCHAOS" run "$tmp/e.toml" --control "$SOCK" --probe-netns "$P-cli" --takeover --json "$tmp/t.json" >"$tmp/out" 2>&1
rc=$?
(( rc <= 2 )) || { cat "$tmp/out"; fail "run --takeover exited $rc"; }
NC_OUT=$tmp/out
nc_has "netchaos run: --takeover: the forwarder already has a profile in effect (0to1: \"by-hand (egress)\"): cleared now, restored at the end"
nc_has "netchaos run: restored what was in effect before: the forwarder already has a profile in effect"
after=$(dirs)
[[ $after == "$before" ]] || fail "run --takeover did not restore what was in effect:
  before: $before
  after:  $after"
python3 - "$tmp/t.json" <<'PY' || fail "run --takeover: report"
import json, sys
r = json.load(open(sys.argv[1]))
ss = r["phases"][0]
assert "steady" in ss["name"], [p["name"] for p in r["phases"]]
# The by-hand profile adds a constant 40 ms one way (RTT >= 40 ms); the plain bench path is
# well under 5 ms (3.7 ms at most seen on a loaded 2-core host).
p50 = ss["stats"]["p50_ms"]
assert p50 < 30, ss["stats"]
assert any("taken over and restored" in n for n in r.get("notes", [])), r.get("notes")
print("ok: %s p50 %.2f ms (the by-hand 40 ms was cleared first)" % (ss["name"], p50))
PY
pass "item 2: run --takeover clears the profile in effect first and restores it exactly at the end (exit $rc)"

# The watchdog restores it too: a run --takeover killed by SIGKILL mid-phase.
sed 's/duration = "2s"/duration = "10min"/' "$tmp/e.toml" >"$tmp/long.toml"
TMPDIR=$tmp "$NETCHAOS" run "$tmp/long.toml" --control "$SOCK" --probe-netns "$P-cli" --takeover --lease 3s --quiet >"$tmp/kill.out" 2>&1 &
pid=$!
nc_defer "kill -9 $pid"
p0() { "$NETCHAOS" show --backend dpdk --control "$SOCK" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["directions"]["0to1"]["profile"])'; }
# by-hand -> passthrough (cleared for the steady state) -> the run's phase
for ((i = 0; i < 300; i++)); do p=$(p0); [[ $p != "by-hand (egress)" && $p != passthrough ]] && break; sleep 0.1; done
[[ $p != "by-hand (egress)" && $p != passthrough ]] || { cat "$tmp/kill.out"; fail "SIGKILL: the run's phase was never applied (0to1: $p)"; }
kill -9 $pid
wait $pid 2>/dev/null
for ((i = 0; i < 150; i++)); do [[ $(dirs) == "$before" ]] && break; sleep 0.1; done
[[ $(dirs) == "$before" ]] || fail "SIGKILL: the watchdog did not restore what was in effect: $(dirs)"
pass "item 2: a run --takeover killed by SIGKILL mid-phase: its watchdog restores the profile in effect exactly"

nc_expect 3 "--takeover is for the netem backend" -- "$NETCHAOS" apply "$tmp/hand.toml" --backend dpdk --control "$SOCK" --takeover

# A profile under a lease (apply --for) reverts by itself: it is not taken over.
nc_expect 0 "$NETCHAOS" apply "$tmp/hand.toml" --backend dpdk --control "$SOCK" --for 60s
nc_expect 4 "$NETCHAOS" run "$tmp/e.toml" --control "$SOCK" --probe-netns "$P-cli" --takeover --quiet
nc_has "under a lease (apply --for: it reverts by itself in"
nc_expect 0 "$NETCHAOS" apply "$tmp/hand.toml" --backend dpdk --control "$SOCK"   # ends the lease
pass "item 2: a profile under a lease is not taken over (exit 4)"

# Cleared, the same run goes ahead and ends in pass-through.
nc_expect 0 "$NETCHAOS" clear --backend dpdk --control "$SOCK"
"$NETCHAOS" run "$tmp/e.toml" --control "$SOCK" --probe-netns "$P-cli" --quiet >"$tmp/out" 2>&1
rc=$?
(( rc <= 2 )) || { cat "$tmp/out"; fail "run after clear exited $rc"; }
nc_lacks "already has a profile"
pass "item 2: after clear the run goes ahead (exit $rc)"
