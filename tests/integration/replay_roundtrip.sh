#!/usr/bin/env bash
# Record -> fit -> replay -> replay-check through netchaos-fwd on the netns bench (issue 15):
#   1. record a 2-phase experiment (normal 50 +- 20 ms; then normal 120 +- 40 ms with 2% random
#      loss; PHASE_S s each at RATE probes/s) with `netchaos run --record`;
#   2. `netchaos fit` it: two pieces, each mean and jitter within 5% of what the forwarder drew;
#   3. run the fitted experiment with --record;
#   4. `netchaos replay-check` with the issue's gates, not loosened: KS D <= 0.05 per piece,
#      jitter_1s r >= 0.9, loss within 3 standard errors.
# Why it is reliable on a loaded 2-core VM, honestly:
#   - delays large against the host's noise: sigma 20 and 40 ms, so a 1 ms shift of the bench's
#     own RTT between the two runs moves KS D by <= 0.02 (1 ms x the normal's peak density
#     1 / (sigma sqrt(2 pi))), where sigma 10 ms (bench/replay/roundtrip_fwd.sh) moved it 0.04;
#   - 4,800 probes a piece a side (6 s at 800/s): the 1% KS critical value is 0.033, and a
#     faithful replay exceeds 0.05 with probability 2 exp(-0.05^2 n) ~ 1e-5 per piece;
#   - random loss: a 2% rate over 4,800 probes has a standard error of 0.2%, so the loss gate
#     tests the fit, not the luck of a few bursts;
#   - the run is judged for disturbance by what the host did to it, measured, not guessed:
#     the forwarder's own stall counters (loop gaps > 500 us) over each run, and the probe's
#     own send grid in each recording (a send more than DISTURB_GAP_MS late = the probe was
#     descheduled). A missed gate on a disturbed run (limits below) skips with exit 77 and
#     those figures;
#     a missed gate on a clean run fails; a met gate passes either way (and says how clean).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
PHASE_S=${PHASE_S:-6}
RATE=${RATE:-800}
DISTURB_STALL_MAX_MS=${DISTURB_STALL_MAX_MS:-100}   # one forwarder stall this long is an outage
DISTURB_STALL_SHARE=${DISTURB_STALL_SHARE:-0.25}   # share of a run the forwarder spent stalled
DISTURB_GAP_MS=${DISTURB_GAP_MS:-50}               # a probe send this late behind its grid
fwd_requirements
fwd_tmp
P=nr$$
fwd_up
fwd_reflector
ip netns exec "$CLI" "$NETCHAOS" probe 10.213.0.2:7777 --rate 100 --duration 1s --quiet >/dev/null 2>&1

# stalls -> "count total_ms max_ms" of the forwarder since its last reset.
stalls() { fwd_stat "'%d %.0f %.1f' % (s['stalls']['count'], s['stalls']['total_ns'] / 1e6, s['stalls']['max_ns'] / 1e6)"; }
# send_lateness TRACE -> "worst_ms late_sends": how far behind the grid (first send + i / RATE)
# the probe's sends fell, from the .ncr itself (40-byte header, then seq, send ns, rtt ns).
send_lateness() {
  python3 - "$1" "$RATE" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
rate = float(sys.argv[2])
recs = [struct.unpack_from("<Qqq", b, 40 + 24 * i) for i in range((len(b) - 40) // 24)]
# The run records its phases back to back; each phase's probe restarts its grid, so lateness
# is measured against the last on-time send (a late send that stays late is counted once).
worst, late, ref = 0.0, 0, None
for i, (seq, send, rtt) in enumerate(recs):
    if i and send - recs[i - 1][1] > 2 * 1e9 / rate:
        lag = (send - recs[i - 1][1]) / 1e6 - 1e3 / rate
        worst = max(worst, lag)
        late += lag > 5
print(f"{worst:.1f} {late}")
PY
}

cat >"$T/orig.toml" <<EOT
name = "roundtrip-original"
baseline = "1s"
[target]
backend = "dpdk"
control = "$SOCK"
[probe]
target = "10.213.0.2:7777"
netns = "$CLI"
rate = $RATE
[[phase]]
name = "fifty"
duration = "${PHASE_S}s"
[phase.egress.delay]
mean = "50ms"
jitter = "20ms"
distribution = "normal"
reorder = true
[[phase]]
name = "one-twenty"
duration = "${PHASE_S}s"
[phase.egress.delay]
mean = "120ms"
jitter = "40ms"
distribution = "normal"
reorder = true
[phase.egress.loss]
model = "random"
p = "2%"
EOT

# run_recorded TOML TRACE -> prints "stall_count stall_ms stall_max_ms worst_late_ms late_sends"
run_recorded() {
  local before after
  fwd_ctl '{"cmd":"reset"}' >/dev/null
  "$NETCHAOS" run "$1" --quiet --record "$2" >"$2.log" 2>&1
  local rc=$?
  ((rc == 0 || rc == 1)) || { cat "$2.log"; fail "netchaos run $1: exit $rc"; }
  echo "$(stalls) $(send_lateness "$2")"
}

t0=$SECONDS
read -r oc ot om ol on <<<"$(run_recorded "$T/orig.toml" "$T/orig.ncr")"
echo "recorded: $("$NETCHAOS" trace show "$T/orig.ncr" | head -3 | tr '\n' ' ')"
echo "host during the recording: forwarder stalls $oc ($ot ms, max $om ms); probe sends up to $ol ms late ($on over 5 ms)"

"$NETCHAOS" fit "$T/orig.ncr" -o "$T/fitted.toml" --min-segment 4s --control "$SOCK" --probe-netns "$CLI" \
  --probe-rate "$RATE" >"$T/fit.log" 2>&1 || { cat "$T/fit.log"; fail "fit exit $?"; }
sed -i 's/^name = "fitted"/name = "fitted"\nbaseline = "1s"/' "$T/fitted.toml"
grep -E "^# piece|chosen|loss:" "$T/fitted.toml"

read -r rc_ rt rm rl rn <<<"$(run_recorded "$T/fitted.toml" "$T/replayed.ncr")"
echo "host during the replay: forwarder stalls $rc_ ($rt ms, max $rm ms); probe sends up to $rl ms late ($rn over 5 ms)"

"$NETCHAOS" replay-check "$T/orig.ncr" "$T/replayed.ncr" --min-segment 4s >"$T/check.txt" 2>&1
check_rc=$?
cat "$T/check.txt"
echo "round trip in $((SECONDS - t0)) s"

# Disturbed: an outage (one stall over DISTURB_STALL_MAX_MS holds every probe due in it and
# moves it by up to that much), the forwarder off its core for over DISTURB_STALL_SHARE of a
# run, or the probe itself descheduled for DISTURB_GAP_MS. Short stalls are normal here (a
# busy-polling lcore on a shared 2-core VM: hundreds of ~5 ms gaps a run, 10-15% of its time)
# and move a sigma-20-ms RTT too little to matter; the limits are for what does.
run_s=$((2 * PHASE_S + 2))
disturbed=$(awk -v om="$om" -v rm="$rm" -v ot="$ot" -v rt="$rt" -v ol="$ol" -v rl="$rl" -v s="$run_s" \
  -v mx="$DISTURB_STALL_MAX_MS" -v sh="$DISTURB_STALL_SHARE" -v g="$DISTURB_GAP_MS" \
  'BEGIN{ if (om > mx || rm > mx) print "a forwarder stall of " (om > rm ? om : rm) " ms > " mx " ms";
          else if (ot > sh * s * 1000 || rt > sh * s * 1000) print "forwarder stalled " ot " / " rt " ms of ~" s " s runs (> " sh * 100 "%)";
          else if (ol > g || rl > g) print "probe sends " ol " / " rl " ms late > " g " ms" }')

# The fit itself (the recording is the forwarder's draws plus the bench's ~0.1 ms): two
# pieces, means and jitters within 5% (the sampling sd of a mean is sigma / sqrt(4800) = 1.4%
# of sigma; of a sigma, 1%).
fitted_pieces=$(grep -c '^\[\[phase\]\]' "$T/fitted.toml")
if [[ $fitted_pieces != 2 || $check_rc != 0 ]] && [[ -n $disturbed ]]; then
  skip "the host disturbed the run ($disturbed; limits: one stall <= $DISTURB_STALL_MAX_MS ms, stalled <= $DISTURB_STALL_SHARE of a run, sends <= $DISTURB_GAP_MS ms late): fit found $fitted_pieces pieces, replay-check exit $check_rc"
fi
[[ $fitted_pieces == 2 ]] || { cat "$T/fitted.toml"; fail "fit found $fitted_pieces pieces, expected 2 (host clean: stalls $ot / $rt ms, sends late $ol / $rl ms)"; }
python3 - "$T/fitted.toml" <<'PY' || fail "fitted parameters off"
import re, sys
text = open(sys.argv[1]).read()
means = [int(v) / 1000 for v in re.findall(r'^mean = "(\d+)us"', text, re.M)]
jitters = [int(v) / 1000 for v in re.findall(r'^jitter = "(\d+)us"', text, re.M)]
want = [(50, 20), (120, 40)]
print("fitted mean/jitter ms:", list(zip(means, jitters)))
ok = len(means) == 2 and all(abs(m - w[0]) <= 0.05 * w[0] and abs(j - w[1]) <= 0.05 * w[1] for m, j, w in zip(means, jitters, want))
ok = ok and 'model = "random"' in text
sys.exit(0 if ok else 1)
PY
((check_rc == 0)) || fail "replay-check missed on a clean host (stalls $ot / $rt ms, sends late $ol / $rl ms): see above"
pass "record -> fit -> replay -> check through netchaos-fwd (host: stalls $ot / $rt ms, sends late $ol / $rl ms)"
