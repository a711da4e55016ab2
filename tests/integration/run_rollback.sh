#!/usr/bin/env bash
# Rollback that survives anything: `netchaos run` is stopped mid-phase by SIGINT (exit 130),
# SIGTERM (exit 143) and SIGKILL (the watchdog restores). Each time the forwarder must end in
# passthrough and no run/probe/watchdog process of this test may remain.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd ip
need_cmd pgrep
[[ -x ${NETCHAOS_FWD:-} ]] || skip "no netchaos-fwd binary at '${NETCHAOS_FWD:-}' (libdpdk-dev missing?)"
P=nk$$
W=$(mktemp -d /tmp/nc-rollback-test.XXXXXX)
nc_defer "rm -rf $W"
nc_defer "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh down --prefix $P"
NETCHAOS_FWD=$NETCHAOS_FWD "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh" up --prefix "$P" >"$W/bench.log" 2>&1 ||
  { cat "$W/bench.log"; skip "netns bench did not come up (AF_XDP/DPDK unavailable?)"; }
bench_pin_off_fwd "$P"
SOCK=/run/netchaos/$P-fwd.sock
ip netns exec "$P-srv" "$NETCHAOS" reflect --listen 10.213.0.2:7777 >"$W/reflect.log" 2>&1 &
nc_defer "kill $!"
cat >"$W/long.toml" <<EOT
name = "rollback-$P"
baseline = "1s"
[target]
backend = "dpdk"
control = "$SOCK"
[probe]
target = "10.213.0.2:7777"
netns = "$P-cli"
rate = 50
timeout = "500ms"
[[phase]]
name = "long"
duration = "10min"
[phase.egress.delay]
mean = "30ms"
EOT

profile_now() {
  "$NETCHAOS" show --backend dpdk --control "$SOCK" -j | python3 -c '
import json, sys
d = json.load(sys.stdin)["directions"]
print(",".join(sorted(set(v.get("profile", "?") for v in d.values()))))'
}
wait_profile() {  # wait_profile WANT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do [[ $(profile_now) == "$1" ]] && return 0; sleep 0.1; done
  return 1
}
# Only this test's processes (the probe is a thread of the run, the watchdog a process named
# by the experiment's path), so a run of another checkout on the same host does not count.
leftovers() { pgrep -f "$W/long.toml" || true; }

for sig in INT TERM KILL; do
  TMPDIR=$W "$NETCHAOS" run "$W/long.toml" --lease 3s >"$W/$sig.out" 2>&1 &
  pid=$!
  # wait until the phase is applied (profile not passthrough)
  for ((i = 0; i < 150; i++)); do p=$(profile_now); [[ -n $p && $p != passthrough ]] && break; sleep 0.1; done
  [[ $p != passthrough ]] || { cat "$W/$sig.out"; fail "$sig: the phase was never applied"; }
  echo "applied: $p"
  kill -$sig $pid
  wait $pid
  rc=$?
  case $sig in
    INT) ((rc == 130)) || { cat "$W/$sig.out"; fail "SIGINT: exit $rc, expected 130"; } ;;
    TERM) ((rc == 143)) || { cat "$W/$sig.out"; fail "SIGTERM: exit $rc, expected 143"; } ;;
    KILL) ((rc == 137)) || fail "SIGKILL: exit $rc" ;;
  esac
  wait_profile passthrough 15 || fail "$sig: forwarder still has profile '$(profile_now)'"
  # the run (its probe is a thread) and the watchdog (after rolling back) must be gone too
  for ((i = 0; i < 50; i++)); do [[ -z $(leftovers) ]] && break; sleep 0.2; done
  [[ -z $(leftovers) ]] || { ps -fp "$(leftovers | tr '\n' ',')"; fail "$sig: processes left behind"; }
  pass "SIGKILL-proof rollback after SIG$sig: exit $rc, forwarder passthrough, no process left"
done

# A lost lease while the controller lives (stopped for longer than --lease): the watchdog rolls
# back; the run must then stop its 10-minute timeline, roll back again and exit 4 with the
# reason, not go on applying phases over the restored forwarder.
"$NETCHAOS" run "$W/long.toml" --lease 2s >"$W/lease.out" 2>&1 &
pid=$!
for ((i = 0; i < 150; i++)); do p=$(profile_now); [[ -n $p && $p != passthrough ]] && break; sleep 0.1; done
[[ $p != passthrough ]] || { cat "$W/lease.out"; fail "lease: the phase was never applied"; }
kill -STOP $pid
wait_profile passthrough 15 || { kill -CONT $pid; fail "lease: the watchdog did not roll back a stopped controller"; }
kill -CONT $pid
for ((i = 0; i < 150; i++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
  kill -TERM $pid; wait $pid
  cat "$W/lease.out"; fail "lease: the run went on for 15 s after losing its lease"
fi
wait $pid
rc=$?
((rc == 4)) || { cat "$W/lease.out"; fail "lease lost: exit $rc, expected 4"; }
grep -q "lease was lost" "$W/lease.out" || { cat "$W/lease.out"; fail "lease lost: the reason is not reported"; }
[[ $(profile_now) == passthrough ]] || fail "lease lost: forwarder has profile '$(profile_now)'"
for ((i = 0; i < 50; i++)); do [[ -z $(leftovers) ]] && break; sleep 0.2; done
[[ -z $(leftovers) ]] || { ps -fp "$(leftovers | tr "\n" ",")"; cat "$W/lease.out"; fail "lease lost: processes left behind"; }
pass "lost lease: the run stopped its timeline, rolled back and exited 4 with the reason"
