#!/usr/bin/env bash
# fit on a 1-hour, 100/s trace (360,000 probes): wall time and peak memory (issue 15).
# The trace is synthetic and seeded: 10 min normal(12, 1), 20 min normal(40, 10), 10 min
# normal(83, 41) clamped at 0.1 ms, 20 min normal(20, 5), 0.1% random loss. Peer in the same
# run: `trace show` (read + summarize the same file), the floor any tool that reads it pays.
# usage: bench/fit/fit_hour.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
nc=$build/src/cli/netchaos
[[ -x $nc ]] || { echo "no $nc: build first" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/hour.csv" <<'PY'
import random, sys
random.seed(42)
with open(sys.argv[1], 'w') as f:
    t = 0.0
    for mu, sd, n in [(12, 1, 60000), (40, 10, 120000), (83, 41, 60000), (20, 5, 120000)]:
        for _ in range(n):
            f.write('%.2f,%.3f\n' % (t, max(0.1, random.gauss(mu, sd))) if random.random() > 0.001 else '%.2f,lost\n' % t)
            t += 0.01
PY
"$nc" trace import "$dir/hour.csv" -o "$dir/hour.ncr"
for i in 1 2 3; do
    /usr/bin/time -f "fit:        %e s wall, %M kB peak RSS" "$nc" fit "$dir/hour.ncr" -o "$dir/hour.toml" 2>&1 | grep -E "^fit:|^piece"
    /usr/bin/time -f "trace show: %e s wall, %M kB peak RSS" "$nc" trace show "$dir/hour.ncr" 2>&1 | grep "^trace show:"
done
