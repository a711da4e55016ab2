#!/usr/bin/env bash
# The payment-morning demo of issue 15, by hand (root; ~6-9 min): record the bad morning
# (profiles/experiments/payment-morning.toml: quiet 12 ms -> ramp -> 83 ms +- 41 ms -> quiet,
# 150 s of phases) through netchaos-fwd on the netns bench, fit it, replay the fitted
# experiment (and the raw trace with `[egress.delay] trace = ...` when this build has it),
# recording again, and replay-check each replay against the morning. Prints the figures.
#   The experiment is run as shipped except its probe rate (RATE, 400/s here against its
# 100/s): replay-check's KS gate (D <= 0.05) needs thousands of probes a piece to mean
# anything (the 1% critical value is 0.073 at 1,000 a side, 0.033 at 5,000), and the fit
# cuts pieces of >= 10 s.
# usage: [KEEP=1] bench/replay/payment_morning.sh [BUILD_DIR] [RATE]   (KEEP: leave traces, TOMLs, report)
set -uo pipefail
build=$(realpath "${1:-build}")
rate=${2:-400}
src=$(cd "$(dirname "$0")/../.." && pwd)
P=npm$$
W=$(mktemp -d /tmp/nc-morning.XXXXXX)
source "$src/bench/replay/bench.bash"
replay_bench_up
stalls() {
  python3 - "$SOCK" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b'{"cmd":"stats"}\n'); r = json.loads(s.makefile().readline())["stalls"]
print(f"forwarder stalls {r['count']} ({r['total_ns'] / 1e6:.0f} ms, max {r['max_ns'] / 1e6:.1f} ms)")
PY
}
reset() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"cmd\":\"reset\"}\n"); s.makefile().readline()' "$SOCK"
}
# run EXPERIMENT TRACE [run args...]: one recorded run; the report's last lines and the stalls.
run() {
  local exp=$1 trace=$2; shift 2
  reset
  local t0=$SECONDS
  "$nc" run "$exp" --control "$SOCK" --probe-netns "$P-cli" --record "$trace" "$@" >"$trace.log" 2>&1
  echo "  run exit $? in $((SECONDS - t0)) s; $(stalls)"
  "$nc" trace show "$trace" | sed 's/^/  /'
}

# The shipped experiment, its profile paths made absolute, probed at $rate/s.
sed -e "s|\"\.\./|\"$src/profiles/|g" -e "s|^rate = 100$|rate = $rate|" \
  "$src/profiles/experiments/payment-morning.toml" >"$W/payment-morning.toml"
echo "== 1. record the morning (payment-morning.toml at $rate probes/s)"
run "$W/payment-morning.toml" "$W/morning.ncr"

echo "== 2. fit"
"$nc" fit "$W/morning.ncr" -o "$W/fitted.toml" --control "$SOCK" --probe-netns "$P-cli" --probe-rate "$rate" || exit 1
grep -E "^# piece|#   chosen|#   loss" "$W/fitted.toml"

echo "== 3. replay the fitted experiment"
run "$W/fitted.toml" "$W/replayed.ncr" --html "$W/fitted-report.html"

echo "== 4. replay-check morning.ncr replayed.ncr"
"$nc" replay-check "$W/morning.ncr" "$W/replayed.ncr"
echo "replay-check exit $?"

# The raw trace, when this build replays one (`[egress.delay] trace = ...`, issue 15 item 3).
cat >"$W/raw-profile.toml" <<EOT
name = "morning-raw"
[egress.delay]
trace = "$W/morning.ncr"
EOT
if "$nc" validate "$W/raw-profile.toml" >/dev/null 2>&1; then
  span=$("$nc" trace show "$W/morning.ncr" -j | python3 -c 'import json,sys; j=json.load(sys.stdin); print(int(j.get("span_s", j.get("span_ms", 0) / 1000)) + 1)')
  cat >"$W/raw.toml" <<EOT
name = "morning-raw-replay"
baseline = "3s"
[target]
backend = "dpdk"
control = "$SOCK"
[probe]
target = "10.213.0.2:7777"
netns = "$P-cli"
rate = $rate
[[phase]]
name = "morning"
duration = "${span}s"
profile = "$W/raw-profile.toml"
EOT
  echo "== 5. replay the raw trace (trace = morning.ncr, ${span} s)"
  run "$W/raw.toml" "$W/raw.ncr"
  echo "== 6. replay-check morning.ncr raw.ncr"
  "$nc" replay-check "$W/morning.ncr" "$W/raw.ncr"
  echo "replay-check exit $?"
else
  echo "== 5. raw trace replay: this build has no [egress.delay] trace = (validate says: $("$nc" validate "$W/raw-profile.toml" 2>&1 | head -1))"
fi
