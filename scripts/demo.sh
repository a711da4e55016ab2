#!/usr/bin/env bash
# The seed scenario end to end on a fresh machine:
#   setup-deps -> build (build/) -> netns bench with the DPDK forwarder -> reflector ->
#   `netchaos run profiles/experiments/payment-morning.toml` (steady state, baseline, ramp-up,
#   "payment gateway morning", recovery, steady state) -> summary + report.html -> teardown.
# Everything it creates is removed on exit, Ctrl-C included. Needs root (namespaces, AF_XDP).
#   scripts/demo.sh [--skip-build] [--out DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${NETCHAOS_BUILD:-$here/build}
out=$PWD
skip_build=0
while (($#)); do
  case $1 in
    --skip-build) skip_build=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument $1" >&2; exit 3 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "demo: needs root (network namespaces, AF_XDP)" >&2; exit 4; }
# --out DIR is made if missing (the run's report writers do not create directories).
mkdir -p "$out" || { echo "demo: --out $out: cannot create the directory" >&2; exit 4; }
P=ncd$$
reflector=
cleanup() {
  [[ -n $reflector ]] && kill "$reflector" 2>/dev/null
  "$here/scripts/bench-netns.sh" down --prefix "$P" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((!skip_build)); then
  "$here/scripts/setup-deps.sh"
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target netchaos netchaos-fwd -j "$(nproc)"
fi
nc=$build/src/cli/netchaos
export NETCHAOS_FWD=$build/dpdk/netchaos-fwd
"$here/scripts/bench-netns.sh" up --prefix "$P"
# The reflector, the probes and `run` off the forwarding cpu (bench-netns.sh cpus: why).
pin=$("$here/scripts/bench-netns.sh" cpus --prefix "$P")
[[ -n $pin ]] && taskset -pc "$pin" $$ >/dev/null
ip netns exec "$P-srv" "$nc" reflect --listen 10.213.0.2:7777 >/dev/null 2>&1 &
reflector=$!
sleep 0.5

exp=$here/profiles/experiments/payment-morning.toml
"$nc" run "$exp" --dry-run --control "/run/netchaos/$P-fwd.sock" --probe-netns "$P-cli"
echo
set +e
"$nc" run "$exp" --control "/run/netchaos/$P-fwd.sock" --probe-netns "$P-cli" \
  --html "$out/report.html" --json "$out/report.json" --junit "$out/report.xml"
rc=$?
set -e
echo
echo "demo: netchaos run exited $rc (0 pass, 1 SLO missed, 2 fidelity missed; see docs/ci.md)"
echo "demo: report $out/report.html (also report.json, report.xml)"
# A verdict is a result, not a demo failure; only bad input or a system error fails the demo.
((rc <= 2)) || exit "$rc"
