#!/usr/bin/env bash
# netchaos http-proxy (zero-fault profile) against nginx as a reverse proxy (proxy_pass, with
# upstream keep-alive) in front of the same nginx upstream on loopback, in one run:
# wrk -c 64 against the upstream directly, through nginx and through netchaos, alternating,
# ROUNDS rounds of DURATION each. Prints req/s and p50 per target and the ratios the issue
# asks for (requests/s: netchaos / nginx; added p50 over the direct path), and the CPU time
# each proxy spent per request (a figure that holds on a loaded host too).
#   bench/http/proxy_vs_nginx.sh [--netchaos build/src/cli/netchaos] [--rounds 3] [--duration 5]
#        [--threads 1]   (netchaos I/O threads; nginx gets as many workers)
# Run by hand (never a timed test); results go to docs/performance.md with the command.
set -euo pipefail
NETCHAOS=build/src/cli/netchaos ROUNDS=3 DURATION=5 THREADS=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --netchaos) NETCHAOS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 3 ;;
  esac
done
for c in nginx wrk python3; do command -v $c >/dev/null || { echo "needs $c" >&2; exit 4; }; done
W=$(mktemp -d /tmp/nc-bench-http.XXXXXX)
chmod 755 "$W"   # nginx workers run as nobody when started by root
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UP=$(port) NX=$(port)
mkdir -p "$W/html" && head -c 612 /dev/zero | tr '\0' x >"$W/html/index.html"
# Two nginx instances, so each one's CPU is its own: the upstream, and nginx as the proxy.
source "$(dirname "$0")/../../tests/lib/nginx.bash"
conf() {  # conf NAME BLOCKS: write NAME.conf and start that nginx
  nginx_conf "$W/$1.conf" "$W" "$THREADS" "$2"
  nginx -e "$W/$1.error.log" -c "$W/$1.conf" -p "$W" & pids+=($!)
}
conf upstream "server { listen 127.0.0.1:$UP; root $W/html; }"
conf proxy "upstream up { server 127.0.0.1:$UP; keepalive 128; }
  server { listen 127.0.0.1:$NX;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
"$NETCHAOS" http-proxy --listen 127.0.0.1:0 --upstream "127.0.0.1:$UP" --threads "$THREADS" >"$W/proxy.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  NC=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$W/proxy.log")
  [[ -n $NC ]] && curl -s -o /dev/null "http://127.0.0.1:$NX/" && break
  sleep 0.1
done
[[ -n $NC ]] || { cat "$W/proxy.log"; exit 4; }
NC_PID=${pids[2]}
NX_MASTER=${pids[1]}
# CPU time (user + system, clock ticks) of a process and all its children's threads: the
# proxying nginx's workers, or netchaos. CPU per request does not depend on what else runs.
cpu_ticks() {
  local p t=0
  for p in "$@" $(pgrep -P "$1" 2>/dev/null); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo $t
}
run() {  # run NAME PORT [PID] -> "NAME rps p50_ms cpu_us_per_request" (0 without PID)
  local out t0=0 t1=0
  [[ -n ${3:-} ]] && t0=$(cpu_ticks "$3")
  out=$(wrk -t 2 -c 64 -d "${DURATION}s" --latency "http://127.0.0.1:$2/")
  [[ -n ${3:-} ]] && t1=$(cpu_ticks "$3")
  grep -q "Socket errors\|Non-2xx" <<<"$out" && { echo "$out" >&2; echo "errors in $1" >&2; exit 4; }
  awk -v n="$1" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '/requests in/ {q=$1} /Requests\/sec/ {r=$2} /^ +50%/ {v=$2; if (v ~ /us$/) p=v/1000; else if (v ~ /ms$/) p=v+0; else p=v*1000} END {printf "%s %.0f %.3f %.2f\n", n, r, p, ticks / hz * 1e6 / q}' <<<"$out"
}
echo "uname: $(uname -r); cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg); threads/workers: $THREADS" >&2
for ((i = 1; i <= ROUNDS; i++)); do
  run direct "$UP"; run nginx "$NX" "$NX_MASTER"; run netchaos "$NC" "$NC_PID"
done | tee "$W/results" >&2
python3 - "$W/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = lambda name, k: statistics.median(float(r[k]) for r in rows if r[0] == name)
d, n, c = (med(x, 1) for x in ("direct", "nginx", "netchaos"))
pd, pn, pc = (med(x, 2) for x in ("direct", "nginx", "netchaos"))
print(f"requests/s (median of rounds): direct {d:.0f}, nginx proxy_pass {n:.0f}, netchaos {c:.0f}; netchaos/nginx = {c / n:.2f}")
un, uc = med("nginx", 3), med("netchaos", 3)
print(f"CPU per request (user + system): nginx proxy_pass {un:.2f} us, netchaos {uc:.2f} us; nginx/netchaos = {un / uc:.2f}")
print(f"p50 latency: direct {pd:.3f} ms, nginx {pn:.3f} ms, netchaos {pc:.3f} ms; added over direct: nginx {pn - pd:.3f} ms, netchaos {pc - pd:.3f} ms")
PY
