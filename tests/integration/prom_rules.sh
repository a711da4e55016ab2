#!/usr/bin/env bash
# deploy/prometheus with the real Prometheus tools: `promtool check rules`, `promtool test
# rules` (firing and not-firing fixtures in deploy/prometheus/tests), `promtool check config`
# on the scrape config, and `promtool check metrics` on what `netchaos probe --metrics-listen`
# actually serves (a probe on loopback run with --duration 0, stopped by SIGTERM). Every
# probe series the rules and the dashboard read must be in that scrape.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/prom_common.bash" || exit 1
need_cmd promtool
need_cmd python3
D=$NETCHAOS_SOURCE_DIR/deploy/prometheus
tmp=$(mktemp -d /tmp/ncprom.XXXXXX)
nc_defer "rm -rf $tmp"

promtool check rules "$D/netchaos-rules.yml" || fail "promtool check rules"
for t in "$D"/tests/*.test.yml; do
  promtool test rules "$t" || fail "promtool test rules $t"
done
promtool check config "$D/prometheus.yml" || fail "promtool check config"
python3 -m json.tool "$D/netchaos-dashboard.json" >/dev/null || fail "dashboard is not JSON"

# Bad listen addresses: bad input (3) before anything is sent; a port in use: system (4).
nc_expect 3 "expected ADDR:PORT" -- "$NETCHAOS" probe 127.0.0.1:9 -d 1s --metrics-listen 9464
nc_expect 3 "an IPv6 address goes in brackets" -- "$NETCHAOS" probe 127.0.0.1:9 -d 1s --metrics-listen ::1:9464

# A free port: the reflector's, picked by the kernel, then a probe serving metrics.
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$NETCHAOS" reflect --listen "127.0.0.1:$port" -q 2>"$tmp/reflect.log" &
rpid=$!
nc_defer "kill $rpid"
"$NETCHAOS" probe "127.0.0.1:$port" -r 200 -d 0 -t 500ms --metrics-listen 127.0.0.1:0 -q >"$tmp/probe.out" 2>"$tmp/probe.err" &
ppid=$!
nc_defer "kill -9 $ppid"
probe_metrics_url $ppid "$tmp/probe.err"
url=$PROBE_URL
echo "probe serves $url"
# A port in use is refused with the reason.
hostport=${url#http://}; hostport=${hostport%/metrics}
nc_expect 4 "cannot serve metrics on $hostport: Address already in use" -- "$NETCHAOS" probe "127.0.0.1:$port" -d 1s --metrics-listen "$hostport"

# scrape: the exposition text of the probe, once at least 3 windows closed.
scrape() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$url"; }
for _ in $(seq 200); do
  scrape >"$tmp/m.txt" 2>/dev/null || true
  w=$(awk '/^netchaos_probe_windows_total/ {print $2}' "$tmp/m.txt")
  [[ -n $w ]] && awk "BEGIN{exit !($w >= 3)}" && break
  sleep 0.1
done
[[ -n ${w:-} ]] && awk "BEGIN{exit !($w >= 3)}" || { cat "$tmp/m.txt"; fail "no 3 windows in the scrape (windows_total '${w:-}')"; }
promtool check metrics <"$tmp/m.txt" || { cat "$tmp/m.txt"; fail "promtool check metrics on the probe's scrape"; }
echo "ok: promtool check metrics on the probe's scrape ($(grep -c '^netchaos\|^jitter' "$tmp/m.txt") samples)"
python3 - "$tmp/m.txt" "$D/netchaos-rules.yml" "$D/netchaos-dashboard.json" <<'PY' || fail "scrape content"
import json, re, sys
text = open(sys.argv[1]).read()
samples = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
L = '{mode="udp",target="127.0.0.1:%s"}' % re.search(r'target="127\.0\.0\.1:(\d+)"', text).group(1)
g = lambda n: samples[n + L]
assert g("netchaos_probe_sent_total") >= 3 * 200 * 0.9, g("netchaos_probe_sent_total")
assert g("netchaos_probe_lost_total") == g("netchaos_probe_sent_total") - g("netchaos_probe_received_total")
assert g("netchaos_probe_rtt_seconds_count") == g("netchaos_probe_received_total")
assert 0 <= g("jitter_spike_ratio") <= 1 and 0 < g("jitter_1s_seconds") < 0.05, (g("jitter_spike_ratio"), g("jitter_1s_seconds"))
# Every probe series named in the rules and the dashboard exists (histograms by their _bucket etc.).
have = {n.split("{")[0] for n in samples}
used = set(re.findall(r"\b(netchaos_probe_\w+|jitter_1s_seconds|jitter_spike_ratio)\b",
                      open(sys.argv[2]).read() + open(sys.argv[3]).read()))
missing = sorted(used - have)
assert not missing, missing
print("ok: scrape counts agree; rules and dashboard read", len(used), "probe series, all served")
PY
# SIGTERM: a clean stop, with the run's summary.
kill -TERM $ppid
for _ in $(seq 50); do kill -0 $ppid 2>/dev/null || break; sleep 0.1; done
wait $ppid
rc=$?
[[ $rc == 0 ]] || { cat "$tmp/probe.err"; fail "probe exit $rc after SIGTERM, expected 0"; }
grep -q "PASS" "$tmp/probe.out" || { cat "$tmp/probe.out"; fail "no summary after SIGTERM"; }
pass "rules, rule tests, config and the probe's scrape pass promtool; --duration 0 stops cleanly on SIGTERM"
