# Sourced by tests/integration/prom_alert*.sh (after tests/lib/common.sh): a real Prometheus
# server for the length of a test, and a watcher of its alerts API.

# probe_metrics_url PID ERRFILE: waits for the probe PID to print "metrics at URL" on its
# stderr (ERRFILE) and sets PROBE_URL; fails if it exits first or takes over 10 s.
probe_metrics_url() {
  PROBE_URL=""
  for _ in $(seq 100); do
    PROBE_URL=$(sed -n 's/^netchaos probe: metrics at //p' "$2")
    [[ -n $PROBE_URL ]] && return 0
    kill -0 "$1" 2>/dev/null || { cat "$2"; fail "probe exited before serving metrics"; }
    sleep 0.1
  done
  fail "probe never printed its metrics URL"
}

# prom_start DIR NETNS TARGET...: Prometheus in NETNS ("" = this one) on 127.0.0.1:$PROM_PORT
# (unset: a free port, picked again if another process takes it before Prometheus binds),
# scraping TARGETs every 1 s and evaluating deploy/prometheus/netchaos-rules.yml every 1 s,
# its data in DIR/data. Killed (then its data removed) on exit. Waits until it is ready.
prom_start() {
  local dir=$1 ns=$2; shift 2
  need_cmd prometheus
  local targets; targets=$(printf '"%s",' "$@"); targets=${targets%,}
  cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $NETCHAOS_SOURCE_DIR/deploy/prometheus/netchaos-rules.yml
scrape_configs:
  - job_name: netchaos-test
    static_configs:
      - targets: [$targets]
YML
  PROM_NS=()
  [[ -n $ns ]] && PROM_NS=(ip netns exec "$ns")
  local fixed=${PROM_PORT:-} attempt i
  for attempt in 1 2 3; do
    PROM_PORT=${fixed:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
    PROM_URL=http://127.0.0.1:$PROM_PORT
    rm -rf "$dir/data"; mkdir -p "$dir/data"
    "${PROM_NS[@]}" prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$dir/prometheus.log" 2>&1 &
    PROM_PID=$!
    # ip netns exec execs Prometheus: $! is Prometheus itself. TERM, then KILL; then the data.
    nc_defer "kill $PROM_PID; for _ in \$(seq 50); do kill -0 $PROM_PID || break; sleep 0.1; done; kill -9 $PROM_PID; rm -rf '$dir/data'"
    for i in $(seq 300); do
      prom_get /-/ready >/dev/null 2>&1 && return 0
      kill -0 $PROM_PID 2>/dev/null || break
      sleep 0.1
    done
    kill -0 $PROM_PID 2>/dev/null && break   # running but never ready: no retry helps
    grep -qi "address already in use" "$dir/prometheus.log" && [[ -z $fixed ]] && continue
    break
  done
  cat "$dir/prometheus.log"
  fail "prometheus did not become ready on 127.0.0.1:$PROM_PORT"
}

# prom_get PATH: GET from Prometheus (in its namespace), body on stdout.
prom_get() {
  "${PROM_NS[@]}" python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$PROM_URL$1"
}

# prom_watch QUIET_S TIMEOUT_S MIN_S -- FAULT-CMD...: the alert test, timed in one process.
#  1. waits until Prometheus holds jitter_1s_seconds (the probe is scraped);
#  2. for QUIET_S seconds polls /api/v1/alerts: NetchaosJitterSpike must never be pending or
#     firing (the quiet profile), and jitter_1s_seconds stays under the rule's 80 ms;
#  3. runs FAULT-CMD (it applies the spiky profile), then polls until the alert is firing,
#     at most TIMEOUT_S; it must not fire sooner than MIN_S (the rule's theoretical minimum).
# Prints a NOTE line with the fault-to-pending and fault-to-firing times.
prom_watch() {
  "${PROM_NS[@]}" python3 - "$PROM_URL" "$@" <<'PY'
import json, subprocess, sys, time, urllib.parse, urllib.request
url, quiet_s, timeout_s, min_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
assert sys.argv[5] == "--"
fault = sys.argv[6:]
def get(path):
    return json.load(urllib.request.urlopen(url + path, timeout=5))["data"]
def query(q):
    return get("/api/v1/query?query=" + urllib.parse.quote(q))["result"]
def spikes():
    return [a for a in get("/api/v1/alerts")["alerts"] if a["labels"].get("alertname") == "NetchaosJitterSpike"]
def die(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)
t0 = time.monotonic()
while not query("jitter_1s_seconds >= 0"):
    if time.monotonic() - t0 > 30:
        die("Prometheus never scraped jitter_1s_seconds: targets " + json.dumps(get("/api/v1/targets")["activeTargets"]))
    time.sleep(0.2)
print(f"scraped after {time.monotonic() - t0:.1f} s")
t0 = time.monotonic()
worst = 0.0
while time.monotonic() - t0 < quiet_s:
    if spikes():
        die(f"NetchaosJitterSpike active under the quiet profile: {spikes()}")
    for s in query("jitter_1s_seconds"):
        worst = max(worst, float(s["value"][1]))
    time.sleep(0.25)
if worst >= 0.08:
    die(f"jitter_1s_seconds reached {worst:.4f} s under the quiet profile")
print(f"ok: quiet for {quiet_s:.0f} s: no pending or firing NetchaosJitterSpike, jitter_1s at most {worst * 1e3:.2f} ms")
subprocess.run(fault, check=True)
tf = time.monotonic()
pending = None
while True:
    now = time.monotonic() - tf
    al = spikes()
    if al and pending is None:
        pending = now
    firing = [a for a in al if a["state"] == "firing"]
    if firing:
        break
    if now > timeout_s:
        die(f"NetchaosJitterSpike not firing {timeout_s:.0f} s after the fault (alerts: {al}; "
            f"jitter_1s {query('jitter_1s_seconds')}, spike ratio {query('jitter_spike_ratio')})")
    time.sleep(0.1)
a = firing[0]
labels = a["labels"]
if not labels.get("target") or not labels.get("mode"):
    die(f"alert without target/mode labels: {labels}")
print(f"NOTE: fault to NetchaosJitterSpike pending {pending:.1f} s, firing {now:.1f} s "
      f"(theoretical minimum {min_s:.0f} s; target {labels['target']} mode {labels['mode']}, value {a['value']})")
if now < min_s:
    die(f"fired {now:.1f} s after the fault, before the rule's theoretical minimum {min_s:.0f} s")
PY
}
