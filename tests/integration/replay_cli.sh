#!/usr/bin/env bash
# Record -> fit -> replay-check from the command line (issue 15): probe --record across two
# namespaces, trace show/import, fit of a seeded 3-piece trace into an experiment that
# validates, replay-check pass (another draw of the same model) and miss (sigma x 1.3), and
# bad input (exit 3 with line:column or byte offset). ~5 s.
source "$NETCHAOS_SOURCE_DIR/tests/integration/probe_env.bash"
start_reflector

# 1. A recording: 600 probes, all answered, read back by trace show.
ip netns exec "$NSA" "$NETCHAOS" probe "$IPB:7777" -r 200 -d 3s -q --record "$TMP/rec.ncr" >/dev/null 2>"$TMP/p.err" \
  || { cat "$TMP/p.err"; fail "probe --record"; }
"$NETCHAOS" trace show "$TMP/rec.ncr" -j >"$TMP/show.json" || fail "trace show"
python3 - "$TMP/show.json" <<'PY' || fail "trace show figures"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["records"] == 600 and j["loss"] == 0, j
assert 0 < j["rtt_mean_ms"] < 5 and abs(j["span_s"] - 2.995) < 0.05, j
PY

# 2. A seeded 3-piece morning (12 +- 1, 83 +- 41, 20 +- 5 ms; 40 s each at 100/s) fitted.
python3 - "$TMP" <<'PY'
import random, sys
for name, seed, widen in [("morning", 1, 1.0), ("again", 2, 1.0), ("wider", 3, 1.3)]:
    random.seed(seed)
    with open(f"{sys.argv[1]}/{name}.csv", "w") as f:
        f.write("time,rtt_ms\n")
        t = 0.0
        for mu, sd in [(12, 1), (83, 41), (20, 5)]:
            for _ in range(4000):
                f.write("%.2f,%s\n" % (t, "lost" if random.random() < 0.002 else "%.3f" % max(0.1, random.gauss(mu, sd * widen))))
                t += 0.01
PY
"$NETCHAOS" trace import "$TMP/morning.csv" -o "$TMP/morning.ncr" 2>/dev/null || fail "trace import"
"$NETCHAOS" fit "$TMP/morning.ncr" -o "$TMP/morning.toml" 2>"$TMP/fit.err" || { cat "$TMP/fit.err"; fail "fit"; }
cat "$TMP/fit.err"
[[ $(grep -c '^\[\[phase\]\]' "$TMP/morning.toml") == 3 ]] || fail "expected 3 phases in the fitted experiment"
grep -q "RTTs only" "$TMP/morning.toml" || fail "the fit must say the delay is attributed to the path"
"$NETCHAOS" validate "$TMP/morning.toml" >/dev/null || fail "the fitted experiment does not validate"
python3 - "$TMP/fit.err" <<'PY' || fail "fitted parameters"
import re, sys
pieces = re.findall(r"piece \d: ([\d.]+) s at ([\d.]+) s: (\w+) mean ([\d.]+) ms jitter ([\d.]+) ms", open(sys.argv[1]).read())
assert len(pieces) == 3, pieces
starts = [float(p[1]) for p in pieces]
assert abs(starts[1] - 40) <= 2 and abs(starts[2] - 80) <= 2, starts
for (_, _, law, mean, jit), (m, s) in zip(pieces, [(12, 1), (83, 41), (20, 5)]):
    assert abs(float(mean) - m) <= 0.05 * m, (mean, m)
    # piece 2 is clamped at 0.1 ms (2% of normal(83, 41)): its sigma comes out ~3% low
    assert abs(float(jit) - s) <= 0.05 * s, (jit, s)
PY

# 3. replay-check: another draw passes, a 30% wider sigma misses (exit 1).
"$NETCHAOS" replay-check "$TMP/morning.ncr" "$TMP/again.csv" >"$TMP/rc.txt" || { cat "$TMP/rc.txt"; fail "replay-check of the same model"; }
cat "$TMP/rc.txt"
"$NETCHAOS" replay-check "$TMP/morning.ncr" "$TMP/wider.csv" -j >"$TMP/rc.json"
rc=$?
[[ $rc == 1 ]] || fail "replay-check of a wider sigma: exit $rc, expected 1"
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert not j['pass'] and len(j['pieces'])==3, j" "$TMP/rc.json" \
  || fail "replay-check JSON"

# 4. Bad input: exit 3, and where.
expect3() {   # expect3 PATTERN CMD...
  local pat=$1
  shift
  "$@" >/dev/null 2>"$TMP/e.err"
  local rc=$?
  [[ $rc == 3 ]] || fail "'$*': exit $rc, expected 3 ($(cat "$TMP/e.err"))"
  grep -q -- "$pat" "$TMP/e.err" || fail "'$*': expected '$pat' in: $(cat "$TMP/e.err")"
}
printf 'time,rtt_ms\n0.00,12\n0.01,x12\n' >"$TMP/bad.csv"
expect3 "bad.csv:3:6: rtt_ms" "$NETCHAOS" fit "$TMP/bad.csv" -o "$TMP/x.toml"
printf '0.50,12\n0.40,12\n' >"$TMP/back.csv"
expect3 "back.csv:2:1: time goes backwards" "$NETCHAOS" trace show "$TMP/back.csv"
: >"$TMP/empty.csv"
expect3 "empty trace" "$NETCHAOS" fit "$TMP/empty.csv" -o "$TMP/x.toml"
head -c 100 "$TMP/rec.ncr" >"$TMP/cut.ncr"
expect3 "cut.ncr: byte 88: truncated" "$NETCHAOS" replay-check "$TMP/cut.ncr" "$TMP/rec.ncr"
expect3 "cannot open" "$NETCHAOS" replay-check "$TMP/none.ncr" "$TMP/rec.ncr"
[[ ! -e $TMP/x.toml ]] || fail "a failed fit wrote its output"
cat >"$TMP/gate.toml" <<TOML
name = "gate"
[target]
backend = "dpdk"
[probe]
target = "10.0.0.1:7777"
[[phase]]
duration = "5s"
replay_check = { trace = "missing.ncr", ks_max = 0.05 }
TOML
expect3 "gate.toml:8:.*trace \"missing.ncr\" not found" "$NETCHAOS" validate "$TMP/gate.toml"
echo "PASS replay_cli"
