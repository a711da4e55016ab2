#!/usr/bin/env bash
# Builds netchaos and runs every test: unit (Catch2), fuzz (libFuzzer, bounded), and the
# integration suites (network namespaces, DPDK forwarder, qemu netem kernel).
#   scripts/test.sh                 everything
#   scripts/test.sh -L unit         only a ctest label (unit, fuzz, integration)
#   scripts/test.sh -R probe        only tests matching a regex
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,6p' "$0"; exit 0 ;; esac
here=$(cd "$(dirname "$0")/.." && pwd)
build=${NETCHAOS_BUILD:-$here/build}
"$here/scripts/setup-deps.sh"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
exec ctest --output-on-failure --no-tests=error "$@"
