#!/usr/bin/env bash
# The cost of exporting: probe CPU (user + sys, from /usr/bin/time) at RATE probes/s for
# SECONDS, without and with --metrics-listen scraped every second, alternated ROUNDS times
# in one run on a loopback reflector. Prints each run, the medians and their ratio, and the
# median time of one scrape. Goal (issue 13): ratio <= 1.1.
#   NETCHAOS=build/src/cli/netchaos bench/export/probe_cost.sh [RATE] [SECONDS] [ROUNDS]
set -u
NETCHAOS=${NETCHAOS:-build/src/cli/netchaos}
rate=${1:-1000} secs=${2:-20} rounds=${3:-3}
[[ -x $NETCHAOS ]] || { echo "no netchaos at $NETCHAOS" >&2; exit 4; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 4; }
out=$(mktemp -d /tmp/ncbench-export.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$out"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$NETCHAOS" reflect --listen "127.0.0.1:$port" -q &
pids+=($!)
sleep 0.3

# run NAME [probe args...]: one probe run; with --metrics-listen a scraper hits it every second.
run() {
  local name=$1; shift
  /usr/bin/time -f "%U %S" -o "$out/$name.time" "$NETCHAOS" probe "127.0.0.1:$port" -r "$rate" -d "${secs}s" -t 500ms -q "$@" \
    >/dev/null 2>"$out/$name.err" &
  local tp=$!
  if [[ $* == *--metrics-listen* ]]; then
    python3 - "$out/$name.err" "$out/$name.scrapes" "$secs" <<'PY' &
import re, sys, time, urllib.request
err, log, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
url = None
while url is None:
    m = re.search(r"metrics at (\S+)", open(err).read())
    url = m and m.group(1)
    time.sleep(0.05)
t_end = time.monotonic() + secs
with open(log, "w") as f:
    while time.monotonic() < t_end:
        t = time.monotonic()
        body = urllib.request.urlopen(url, timeout=5).read()
        f.write(f"{(time.monotonic() - t) * 1e3:.3f} {len(body)}\n")
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
PY
    local sp=$!
  fi
  wait "$tp"
  [[ -n ${sp:-} ]] && wait "$sp"
  awk -v n="$name" '{printf "%-14s cpu %.2f s (user %.2f sys %.2f)\n", n, $1 + $2, $1, $2}' "$out/$name.time"
}
for r in $(seq "$rounds"); do
  run "plain-$r"
  run "exported-$r" --metrics-listen 127.0.0.1:0
done
python3 - "$out" "$rounds" "$rate" "$secs" "$(uptime)" <<'PY'
import statistics, sys
out, rounds, rate, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
cpu = lambda n: sum(map(float, open(f"{out}/{n}.time").read().split()[:2]))
plain = [cpu(f"plain-{r}") for r in range(1, rounds + 1)]
exp = [cpu(f"exported-{r}") for r in range(1, rounds + 1)]
scr = [float(l.split()[0]) for r in range(1, rounds + 1) for l in open(f"{out}/exported-{r}.scrapes")]
size = [int(l.split()[1]) for l in open(f"{out}/exported-1.scrapes")]
per_k = lambda c: c / secs / (rate / 1000)
print(f"probe CPU per 1000 probes/s: plain {per_k(statistics.median(plain)) * 100:.2f}% of a core, "
      f"exported {per_k(statistics.median(exp)) * 100:.2f}% (medians of {rounds})")
print(f"ratio exported/plain = {statistics.median(exp) / statistics.median(plain):.3f}; "
      f"{len(scr)} scrapes, median {statistics.median(scr):.2f} ms, max {max(scr):.2f} ms, {size[-1]} bytes")
print("host:", sys.argv[5].strip())
PY
