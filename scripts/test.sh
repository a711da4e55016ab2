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
"$here/scripts/k8s-validate.sh" --install   # the pinned Kubernetes schema checker (npm), for tests/integration/deploy_kubernetes.sh
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
rc=0
ctest --output-on-failure --no-tests=error "$@" || rc=$?
# CI shows only the head and the tail of this output, and a failing test's own lines sit in
# the middle: repeat each failed test's FAIL lines and last lines here, at the very end.
if ((rc != 0)) && [[ -s Testing/Temporary/LastTestsFailed.log ]]; then
  while IFS=: read -r _ name; do
    echo "=== failure digest: $name"
    awk -v n="$name" '$0 ~ "Testing: " n "$" {on=1; next} on && $0 ~ "^\"" n "\" end time" {exit} on' \
      Testing/Temporary/LastTest.log > "$build/digest.txt" || true
    grep -E 'FAIL|not ok|error|Error|panic|BUG' "$build/digest.txt" | head -n 25 || true
    echo "--- last lines"
    tail -n 25 "$build/digest.txt"
  done < Testing/Temporary/LastTestsFailed.log
fi
exit "$rc"
