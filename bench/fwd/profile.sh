#!/usr/bin/env bash
# Where the forwarder's nanoseconds go at saturation (bench, run by hand as root): netchaos-fwd
# alone on a net_null pair (every loop iteration full), PROFILE (default normal(100us,20us)
# both ways), `perf record -e cpu-clock` on the forwarding thread for SECONDS (this VM has no
# PMU, so cpu-clock sampling is all there is). Prints the top symbols and ns per forwarded
# packet (forwarding thread's CPU time / packets forwarded while perf ran), so the share of
# each symbol is ns per packet too. Then the PMD's own ns a packet (the stats' sampled "pmd").
# PROFILE_MEM=--huge-dir=DIR runs it on hugepages instead of --no-huge (4 KiB pages).
#   [PERF_KEEP=perf.data] bench/fwd/profile.sh [SECONDS=6] [PROFILE] [-- extra netchaos-fwd args]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
fwd=${NETCHAOS_FWD:-$here/build/dpdk/netchaos-fwd}
[[ -x $fwd ]] || { echo "no netchaos-fwd at $fwd (build it or set NETCHAOS_FWD)" >&2; exit 4; }
command -v perf >/dev/null || { echo "no perf (apt-get install linux-perf)" >&2; exit 4; }
dur=${1:-6}; prof=${2:-$here/bench/fwd/normal-100us-20us.toml}
shift $(( $# < 2 ? $# : 2 )); [[ ${1:-} == -- ]] && shift
t=$(mktemp -d); pid=
trap '[[ -n $pid ]] && kill -INT $pid 2>/dev/null; rm -rf "$t" /var/run/dpdk/ncp$$' EXIT   # EAL leaves its runtime dir even on a clean exit
eal=(${PROFILE_MEM:---no-huge} --no-shconf -m 1024 --no-pci --file-prefix ncp$$ --vdev=net_null0 --vdev=net_null1 --log-level=lib.eal:4)
"$fwd" "${eal[@]}" -l 1 -- --profile "$prof" --control "$t/fwd.sock" --stats-interval 1s \
  --on-exit drop --rate-hint 20e6 "$@" </dev/null >"$t/fwd.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "^netchaos-fwd: forwarding" "$t/fwd.log" && break; kill -0 $pid || exit 4; sleep 0.1; done
sleep 2   # warm-up: the wheel fills to rate x delay
tid=$pid   # the forwarding lcore is the main thread (-l 1)
ticks() { awk '{print $14 + $15}' "/proc/$pid/task/$tid/stat"; }
txs() { python3 "$here/bench/fwd/parse.py" fwd-now "$t/fwd.log"; }
read -r tx0 up0 < <(txs); c0=$(ticks)
perf record -q -e cpu-clock -F 4999 -t "$tid" -o "${PERF_KEEP:-$t/perf.data}" -- sleep "$dur" >/dev/null 2>&1
sleep 1.2
read -r tx1 up1 < <(txs); c1=$(ticks)
kill -INT $pid; wait $pid || true; pid=
python3 "$here/bench/fwd/parse.py" pmd "$t/fwd.log" || true
grep -m3 -E 'frame data|reads' "$t/fwd.log" || true
awk -v p=$((tx1 - tx0)) -v c=$((c1 - c0)) -v u="$(awk "BEGIN{print $up1-$up0}")" 'BEGIN{
  printf "forwarded %.2f Mpps wall over %.1f s, thread CPU %.0f%%: %.2f Mpps per CPU-s, %.1f ns per packet\n", p/u/1e6, u, c/u, p/(c/100)/1e6, (c/100)*1e9/p }'
perf report -i "${PERF_KEEP:-$t/perf.data}" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E "^ +[0-9]" | sed -E "s/ +- +- *$//; s/\(anonymous namespace\):://; s/<netchaos::fwd::.*/<...>/" | cut -c1-150 | head -25
