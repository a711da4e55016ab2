#!/usr/bin/env bash
# The forwarder's exporter under load (root): netchaos-fwd on a net_null pair at its full
# rate, normal(100us, 20us) both ways, one forwarding lcore, with --metrics-listen scraped
# every second vs without, alternated ROUNDS times in one run. Prints each run's forwarded
# rate (from --stats-interval lines, bench/fwd/parse.py), the median ratio scraped/plain and
# the scrape times. Goal (issue 13): ratio >= 0.98.
#   sudo bench/export/fwd_scrape.sh [SECONDS=8] [ROUNDS=3]
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
[[ -x $fwd ]] || { echo "no netchaos-fwd at $fwd (build it or set NETCHAOS_FWD)" >&2; exit 4; }
dur=${1:-8}; rounds=${2:-3}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
# run NAME [fwd args...]: one forwarder run of $dur seconds; with --metrics-listen, scraped.
run() {
  local name=$1; shift
  "$fwd" --no-huge --no-shconf -m 1024 --no-pci --file-prefix ncx$$ --vdev=net_null0 --vdev=net_null1 \
    --log-level=lib.eal:4 -l 1 -- --profile "$here/bench/fwd/normal-100us-20us.toml" --control "$t/fwd.sock" --stats-interval 1s \
    --on-exit drop --rate-hint 20e6 "$@" </dev/null >"$t/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do grep -qs "^netchaos-fwd: forwarding" "$t/$name.log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if [[ $* == *--metrics-listen* ]]; then
    # The scraper stays off the forwarding core (cpu 1), as a remote Prometheus would be.
    taskset -c 0 python3 - "$(sed -n 's/^netchaos-fwd: metrics at //p' "$t/$name.log")" "$dur" >"$t/$name.scrapes" <<'PY'
import sys, time, urllib.request
url, secs = sys.argv[1], float(sys.argv[2])
end = time.monotonic() + secs
while time.monotonic() < end:
    t = time.monotonic()
    n = len(urllib.request.urlopen(url, timeout=5).read())
    print(f"{(time.monotonic() - t) * 1e3:.3f} {n}")
    time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
PY
  else
    sleep "$dur"
  fi
  kill -INT $pid; wait $pid
  rm -rf "/var/run/dpdk/ncx$$"
  echo "$name $(python3 "$here/bench/fwd/parse.py" fwd "$t/$name.log")" | tee -a "$t/rates"
}
for r in $(seq "$rounds"); do
  run "plain-$r"
  run "scraped-$r" --metrics-listen 127.0.0.1:0
done
python3 - "$t" "$(uptime)" <<'PY'
import glob, statistics, sys
t = sys.argv[1]
rates = dict(l.split() for l in open(f"{t}/rates"))
plain = [float(v) for k, v in rates.items() if k.startswith("plain")]
scraped = [float(v) for k, v in rates.items() if k.startswith("scraped")]
times = [float(l.split()[0]) for f in glob.glob(f"{t}/scraped-*.scrapes") for l in open(f)]
print(f"forwarded Mpps: plain median {statistics.median(plain):.2f}, scraped every 1 s median {statistics.median(scraped):.2f}; "
      f"ratio {statistics.median(scraped) / statistics.median(plain):.3f}")
print(f"{len(times)} scrapes while forwarding: median {statistics.median(times):.2f} ms, max {max(times):.2f} ms")
print("host:", sys.argv[2].strip())
PY
