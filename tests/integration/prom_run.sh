#!/usr/bin/env bash
# netchaos run --metrics-listen: while a phase holds its profile, the requested delay mean
# and sigma per direction (and the profile's name and hash) are served to Prometheus; before
# the first fault they read "none" and 0 (an inline phase profile is named after its phase). Scraped live from a run on the
# netns bench (DPDK forwarder target); `promtool check metrics` on what it served.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
need_cmd promtool
fwd_requirements
fwd_tmp
P=pr$$
fwd_up
fwd_reflector
cat >"$T/x.toml" <<EOT
name = "prom-run"
baseline = "3s"
[target]
backend = "dpdk"
control = "$SOCK"
[probe]
target = "10.213.0.2:7777"
netns = "$CLI"
rate = 50
timeout = "1s"
[[phase]]
name = "chaos"
duration = "8s"
[phase.ingress.delay]
mean = "4ms"
[phase.egress.delay]
distribution = "uniform"
jitter = "10ms"
mean = "30ms"
EOT
nc_expect 3 "expected ADDR:PORT" -- "$NETCHAOS" run "$T/x.toml" --metrics-listen nope --quiet
"$NETCHAOS" run "$T/x.toml" --metrics-listen 127.0.0.1:0 --quiet >"$T/run.out" 2>"$T/run.err" &
rpid=$!
nc_defer "kill $rpid"
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^netchaos run: metrics at //p' "$T/run.err")
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n $url ]] || { cat "$T/run.err"; fail "run never printed its metrics URL"; }
scrape() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$url"; }
scrape >"$T/before.txt" || fail "scrape before the fault"
grep -q '^netchaos_run_profile_info{direction="egress",hash="[0-9a-f]*",profile="none"} 1$' "$T/before.txt" ||
  { cat "$T/before.txt"; fail "before the first fault the profile is not 'none'"; }
# Until the chaos phase's profile shows (baseline 3 s + the steady-state check).
for _ in $(seq 300); do
  scrape >"$T/chaos.txt" 2>/dev/null
  grep -q 'profile="chaos (egress)"' "$T/chaos.txt" && break
  kill -0 $rpid 2>/dev/null || break
  sleep 0.1
done
grep -q 'profile="chaos (egress)"' "$T/chaos.txt" || { grep "^netchaos_run" "$T/chaos.txt"; tail -n 5 "$T/run.err" "$T/run.out"; wait $rpid; echo "run exit $?"; fail "the chaos phase's profile was never served"; }
promtool check metrics <"$T/chaos.txt" || fail "promtool check metrics on run's scrape"
val() { awk -v s="$1" '$1 == s {print $2}' "$T/chaos.txt"; }
# uniform: sigma = half-width / sqrt 3 = 5.7735 ms (experiment::delay_moments).
m=$(val 'netchaos_run_requested_delay_mean_seconds{direction="egress"}')
sd=$(val 'netchaos_run_requested_delay_stddev_seconds{direction="egress"}')
nc_check "egress requested mean 30 ms" "$m == 0.03"
nc_check "egress requested sigma 10 ms / sqrt 3" "$sd > 0.0057734 && $sd < 0.0057736"
nc_check "ingress requested mean 4 ms, sigma 0" "$(val 'netchaos_run_requested_delay_mean_seconds{direction="ingress"}') == 0.004 && $(val 'netchaos_run_requested_delay_stddev_seconds{direction="ingress"}') == 0"
wait $rpid
rc=$?
[[ $rc == 0 ]] || { cat "$T/run.out" "$T/run.err"; fail "run exit $rc"; }
pass "run --metrics-listen serves the phase's requested delay moments while it holds the profile"
