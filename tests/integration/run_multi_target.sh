#!/usr/bin/env bash
# [[target]] on the host (issue 16): one experiment drives two targets of different backends
# together, the forwarder on the netns bench and an HTTP proxy in front of nginx. Phase "slow"
# asks 30 ms on the forwarder's egress and 100 ms per request on the proxy; the probe through
# the forwarder and a curl loop through the proxy (the command under chaos) each see their
# own delay in that phase, and none in the steady state; the JSON report has both targets
# restored and the switch skew. Then the run is SIGKILLed mid-phase: the one watchdog puts
# both back to passthrough. (The qemu suite does the same with netem: kernel/94_multi_target.sh.)
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
fwd_requirements
http_requirements
fwd_tmp
fwd_up >"$T/bench.log" 2>&1 || { cat "$T/bench.log"; skip "netns bench did not come up"; }
fwd_reflector
http_nginx_up
HSOCK=$W/http.sock
http_proxy_up web --control "$HSOCK"

write_exp() {  # write_exp FILE PHASE-DURATION
  cat >"$1" <<EOT
name = "two-backends"
baseline = "2s"
[[target]]
name = "fwd"
backend = "dpdk"
control = "$SOCK"
[[target]]
name = "web"
backend = "http"
control = "$HSOCK"
[probe]
target = "10.213.0.2:7777"
netns = "$CLI"
rate = 50
timeout = "1s"
[[phase]]
name = "slow"
duration = "$2"
fidelity = "warn"
[phase.egress.delay]
mean = "30ms"
[phase.http.request_delay]
mean = "100ms"
EOT
}
write_exp "$T/multi.toml" 5s
"$NETCHAOS" validate "$T/multi.toml" || fail "the experiment does not validate"
# The command under chaos: a request through the proxy every 100 ms, "seconds latency_ms".
cat >"$T/curl_loop.sh" <<EOT
#!/bin/bash
end=\$(( \$(date +%s) + 4 ))
while (( \$(date +%s) < end )); do
  curl -s -o /dev/null -m 3 -w '%{time_total}\n' "http://$PROXY/" | awk '{printf "%d\n", \$1 * 1000}' >>"$T/curl.ms"
  sleep 0.1
done
EOT
chmod +x "$T/curl_loop.sh"
before=$(curl -s -o /dev/null -m 3 -w '%{time_total}' "http://$PROXY/" | awk '{printf "%d", $1 * 1000}')
set +e
"$NETCHAOS" run "$T/multi.toml" --json "$T/multi.json" -- "$T/curl_loop.sh" >"$T/run.out" 2>&1
rc=$?
set -e
cat "$T/run.out"
((rc <= 2)) || fail "run exited $rc"
python3 - "$T/multi.json" "$T/curl.ms" "$before" <<'PY' || fail "the report or the delays are not as asked"
import json, statistics, sys
r = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in r["targets"]}
assert set(t) == {"fwd", "web"}, t
for name, x in t.items():
    assert x["state"] == "ok" and x["rollback"] == "restored", x
    assert x["switches"] >= 1, x
assert "switch_skew" in r, "no switch skew"
ph = {p["name"]: p for p in r["phases"]}
base = [p for p in r["phases"] if p["kind"] == "baseline"][0]["stats"]
s = ph["slow"]["stats"]
mean = lambda st: st.get("rtt_mean_ms", st.get("rtt_mean_ns", 0) / 1e6)
print(f"probe through the forwarder: steady {mean(base):.2f} ms, slow {mean(s):.2f} ms")
assert 28.0 <= mean(s) - mean(base) <= 40.0, "the forwarder's 30 ms is not in the probe's RTT"
ms = [int(l) for l in open(sys.argv[2]) if l.strip()]
slowed = [m for m in ms if m >= 95]
print(f"curl through the proxy: {len(ms)} requests, {len(slowed)} at >= 95 ms, median {statistics.median(ms)} ms; before the run {sys.argv[3]} ms")
assert int(sys.argv[3]) < 50, "the proxy was slow before the run"
assert len(slowed) >= 10, "the proxy's 100 ms did not show during the phase"
print(f"switch skew: {r['switch_skew']}")
PY
[[ $("$NETCHAOS" show --backend http --control "$HSOCK" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["profile"])') == passthrough ]] ||
  fail "the proxy was not rolled back after the run"
pass "two targets, two backends: both switched in the phase and restored after it"

# SIGKILL mid-phase: the one watchdog rolls back both targets.
write_exp "$T/long.toml" 10min
"$NETCHAOS" run "$T/long.toml" --lease 3s >"$T/kill.out" 2>&1 &
pid=$!
fwd_profile() { "$NETCHAOS" show --backend dpdk --control "$SOCK" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["directions"]["0to1"].get("profile","?"))'; }
web_profile() { "$NETCHAOS" show --backend http --control "$HSOCK" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["profile"])'; }
for ((i = 0; i < 150; i++)); do [[ $(fwd_profile) != passthrough && $(web_profile) != passthrough ]] && break; sleep 0.1; done
[[ $(fwd_profile) != passthrough && $(web_profile) != passthrough ]] || { cat "$T/kill.out"; fail "the phase never reached both targets"; }
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
for ((i = 0; i < 150; i++)); do [[ $(fwd_profile) == passthrough && $(web_profile) == passthrough ]] && break; sleep 0.1; done
[[ $(fwd_profile) == passthrough ]] || fail "SIGKILL: the forwarder still has $(fwd_profile)"
[[ $(web_profile) == passthrough ]] || fail "SIGKILL: the proxy still has $(web_profile)"
for ((i = 0; i < 50; i++)); do pgrep -f "$T/long.toml" >/dev/null || break; sleep 0.2; done
! pgrep -f "$T/long.toml" >/dev/null || fail "SIGKILL: the watchdog or the run is still there"
pass "SIGKILL: the one watchdog restored the forwarder and the proxy"
