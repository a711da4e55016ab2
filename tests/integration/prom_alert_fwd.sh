#!/usr/bin/env bash
# NetchaosJitterSpike in a real Prometheus (scrape and evaluation every 1 s, its own data
# directory, killed and removed on exit), fed by `netchaos probe --metrics-listen` through
# the DPDK forwarder on the netns bench. Under the shipped quiet profile
# (profiles/payment-gateway-quiet.toml: a steady 12 ms) the alert is never even pending; after a spiky one (uniform 200 ms +- 200 ms: jitter_1s ~115
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
cat >"$T/spiky.toml" <<'TOML'
name = "spiky-200ms-200ms"
[egress.delay]
mean = "200ms"
jitter = "200ms"
distribution = "uniform"
reorder = true
TOML
# The forwarder serves its own metrics in its namespace: scraped directly (fwd_scrape).
fwd_up -- --metrics-listen 127.0.0.1:9465
fwd_scrape() {
  ip netns exec "$FWDNS" python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    http://127.0.0.1:9465/metrics >"$T/$1.txt" || fail "scrape of the forwarder failed"
  promtool check metrics <"$T/$1.txt" || { cat "$T/$1.txt"; fail "promtool check metrics on the forwarder's scrape ($1)"; }
}
# fwd_metric FILE SERIES: the value of one sample line.
fwd_metric() { awk -v s="$2" '$1 == s {print $2}' "$T/$1.txt"; }
fwd_reflector
fwd_load "$NETCHAOS_SOURCE_DIR/profiles/payment-gateway-quiet.toml"

# The probe and Prometheus share the cli namespace: its loopback is theirs alone, so fixed
# ports cannot collide with anything else on the host.
ip netns exec "$CLI" "$NETCHAOS" probe 10.213.0.2:7777 -r 100 -d 0 -t 1s --spike-windows 10 \
  --metrics-listen 127.0.0.1:9464 -q >"$T/probe.out" 2>"$T/probe.err" &
probe_pid=$!
nc_defer "kill $probe_pid"
PROM_PORT=9090 prom_start "$T" "$CLI" 127.0.0.1:9464
fwd_scrape quiet
nc_check "quiet: 1to0 requested mean 12 ms" "$(fwd_metric quiet 'netchaos_fwd_requested_delay_mean_seconds{direction="1to0"}') == 0.012"
grep -q '^netchaos_fwd_profile_info{direction="1to0",hash="[0-9a-f]\{16\}",profile="payment-gateway-quiet (ingress)"} 1$' "$T/quiet.txt" ||
  fail "no profile info for payment-gateway-quiet on 1to0"

prom_watch 15 60 22 -- "$NETCHAOS" apply "$T/spiky.toml" --backend dpdk --control "$SOCK" ||
  { tail -5 "$T/probe.err"; fail "alert test (above)"; }
fwd_scrape spiky
nc_check "spiky: 0to1 requested mean 200 ms" "$(fwd_metric spiky 'netchaos_fwd_requested_delay_mean_seconds{direction="0to1"}') == 0.2"
nc_check "spiky: 0to1 requested sigma 200/sqrt(3) ms" "$(fwd_metric spiky 'netchaos_fwd_requested_delay_stddev_seconds{direction="0to1"}') > 0.11546 && $(fwd_metric spiky 'netchaos_fwd_requested_delay_stddev_seconds{direction="0to1"}') < 0.11548"
grep -q '^netchaos_fwd_profile_info{direction="0to1",hash="[0-9a-f]\{16\}",profile="spiky-200ms-200ms (egress)"} 1$' "$T/spiky.txt" ||
  fail "no profile info for spiky-200ms-200ms on 0to1"
# The probe's packets went through: at least the probes of the spiky phase (100/s, >= 22 s).
nc_check "forwarder rx 0to1 counted the probes" "$(fwd_metric spiky 'netchaos_fwd_rx_packets_total{direction="0to1"}') > 2200"
echo "ok: promtool check metrics on the forwarder's scrape, quiet and spiky"
kill -TERM $probe_pid
wait $probe_pid || fail "probe exit $? after SIGTERM"
pass "NetchaosJitterSpike: quiet through the forwarder, firing under the spiky profile, in a real Prometheus"
