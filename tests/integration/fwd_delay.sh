#!/usr/bin/env bash
# normal(5 ms, 1 ms) on 0to1 only, measured with irtt against a base of a constant 5 ms on the
# same path: the median RTTs agree within 5% of 5 ms, and the robust sigma (IQR / 1.349) is
# 1 ms (the base's added in quadrature) within -10% / +20%. The base is delayed too because
# irtt reads a delayed path late and wide: its Go client is asleep when a delayed reply comes
# (an unimpaired base put irtt's median 80-170 us under the delayed one's, and its sigma read
# 2-16% wide at 200/s in probe_fwd_jitter, up to 12% here at 100/s, where netchaos probe reads
# 0.99-1.01), so the upper bound allows for the tool; a forwarder that delivered 0.8 or 1.3 ms
# still fails. The medians: 1,000 RTTs of sigma 1 ms put the delayed median's own sampling
# error at 40 us, and irtt read it 6-115 us above the constant base's in five runs here.
# Medians and IQRs because a few late replies moved the mean and standard deviation by
# milliseconds (a CI run: base mean 1.24 ms, sd 2.6 ms). A forwarder stalled over 2% of a run, or
# a constant base wider than 0.3 ms, measures the host: those checks are then skipped, saying
# so (the drain at exit is checked either way).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
fwd_up
fwd_irtt_server

printf 'name = "constant-5ms"\n[egress.delay]\nmean = "5ms"\n' >"$T/const.toml"
fwd_load "$T/const.toml"
s0=$(fwd_stalled_ms)
fwd_irtt "$T/base.json" 10ms 5s
base_stalled=$(( $(fwd_stalled_ms) - s0 ))
read -r base_med base_rs <<<"$(irtt_robust "$T/base.json")"
echo "base RTT (constant 5 ms): median $base_med ms, robust sigma $base_rs ms; forwarder stalled $base_stalled ms of 5 s"

cat >"$T/normal.toml" <<'TOML'
name = "normal-5ms-1ms"
[egress.delay]
mean = "5ms"
jitter = "1ms"
distribution = "normal"
TOML
fwd_load "$T/normal.toml"
s1=$(fwd_stalled_ms)
fwd_irtt "$T/delay.json" 10ms 10s
stalled=$(( $(fwd_stalled_ms) - s1 ))
read -r n mean sd <<<"$(irtt_field "$T/delay.json" "j['stats']['rtt']['n'], j['stats']['rtt']['mean']/1e6, j['stats']['rtt']['stddev']/1e6" | tr -d '(),')"
read -r med rs <<<"$(irtt_robust "$T/delay.json")"
echo "with normal(5ms,1ms): median $med ms, robust sigma $rs ms (mean $mean, sd $sd) over $n RTTs; forwarder stalled $stalled ms of 10 s"
nc_check "enough RTTs" "$n >= 900"
disturbed=""
# The base is the apparatus: a constant 5 ms read with a robust sigma over 0.3 ms (a clean path
# reads ~0.04) means the host held irtt's ends or the forwarder (seen: 0.56 ms while another
# process unpacked a git repository on the other cpu), as probe_fwd_jitter's base check says.
if ((base_stalled > 100 || stalled > 200)) || awk "BEGIN{exit !($base_rs > 0.3)}"; then
  disturbed="the forwarder stalled $base_stalled ms of the 5 s base and $stalled ms of the 10 s run, and the constant base read robust sigma $base_rs ms (host load): the RTTs measure the host (median $med ms, robust sigma $rs ms), not compared"
  echo "note: $disturbed"
else
  nc_check "median within 5% of 5 ms of the constant 5 ms base's" "$med - $base_med < 0.25 && $med - $base_med > -0.25"
  nc_check "robust sigma 1 ms (base added in quadrature), -10% / +20% for irtt" "$rs / sqrt(1 + $base_rs * $base_rs) > 0.9 && $rs / sqrt(1 + $base_rs * $base_rs) < 1.2"
fi
[[ $(fwd_stat "s['directions']['1to0']['profile']") == passthrough ]] || fail "1to0 should stay pass-through"

# --on-exit drain (the default): queued packets still leave, none is dropped at exit.
ip netns exec "$CLI" ping -c 200 -i 0.002 -q 10.213.0.2 >/dev/null 2>&1 &
ping_pid=$!
sleep 0.2
kill -INT "$FWD_PID"
for _ in $(seq 50); do fwd_alive "$FWD_PID" || break; sleep 0.1; done
fwd_alive "$FWD_PID" && fail "forwarder still running after SIGINT"
wait "$ping_pid"   # not a bare wait: the irtt server is a child too
# The final stats line must be there (a forwarder that died writes none) and say 0.
stopped=$(grep "netchaos-fwd: stopped" "$FWD_LOG") || fail "no clean stop in the log: $(tail -3 "$FWD_LOG")"
drops=$(grep -o '"dropped_exit":[0-9]*' <<<"$stopped")
[[ -n $drops ]] || fail "the final stats carry no dropped_exit: $stopped"
grep -qv ':0$' <<<"$drops" && fail "drain dropped packets at exit: $drops"
[[ -n $disturbed ]] && skip "$disturbed (drain at exit checked: nothing dropped)"
pass "normal(5ms,1ms) delay through netchaos-fwd matches irtt"
