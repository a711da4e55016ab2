#!/usr/bin/env bash
# NetchaosJitterSpike in a real Prometheus (scrape and evaluation every 1 s, its own data
# directory, killed and removed on exit), fed by `netchaos probe --metrics-listen` through
# the DPDK forwarder on the netns bench. Under a quiet profile (normal 5 ms +- 1 ms) the
# alert is never even pending; after a spiky one (uniform 200 ms +- 200 ms: jitter_1s ~115
# ms, every window a spike) it reaches `firing` through /api/v1/alerts. The NOTE line gives
# the time from the fault to firing against the rule's theoretical minimum:
#   the spike ratio over the last 10 windows (--spike-windows 10) exceeds 0.6 after 7 spike
#   windows; the fault's own window may be one, so at least 6 whole windows after the
#   fault, + the probe's timeout (1 s: a window is published once all its probes are
#   resolved) + the rule's `for: 15s` = 22 s. Scrape and evaluation add up to 2 s more.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/prom_common.bash" || exit 1
need_cmd prometheus
fwd_requirements
fwd_tmp
P=pa$$
cat >"$T/quiet.toml" <<'TOML'
name = "quiet-5ms-1ms"
[egress.delay]
mean = "5ms"
jitter = "1ms"
distribution = "normal"
reorder = true
TOML
cat >"$T/spiky.toml" <<'TOML'
name = "spiky-200ms-200ms"
[egress.delay]
mean = "200ms"
jitter = "200ms"
distribution = "uniform"
reorder = true
TOML
fwd_up
fwd_reflector
fwd_load "$T/quiet.toml"

# The probe and Prometheus share the cli namespace: its loopback is theirs alone, so fixed
# ports cannot collide with anything else on the host.
ip netns exec "$CLI" "$NETCHAOS" probe 10.213.0.2:7777 -r 100 -d 0 -t 1s --spike-windows 10 \
  --metrics-listen 127.0.0.1:9464 -q >"$T/probe.out" 2>"$T/probe.err" &
probe_pid=$!
nc_defer "kill $probe_pid"
PROM_PORT=9090 prom_start "$T" "$CLI" 127.0.0.1:9464
prom_watch 15 60 22 -- "$NETCHAOS" apply "$T/spiky.toml" --backend dpdk --control "$SOCK" ||
  { tail -5 "$T/probe.err"; fail "alert test (above)"; }
kill -TERM $probe_pid
wait $probe_pid || fail "probe exit $? after SIGTERM"
pass "NetchaosJitterSpike: quiet through the forwarder, firing under the spiky profile, in a real Prometheus"
