#!/usr/bin/env bash
# normal(5 ms, 1 ms) on 0to1 only: irtt's RTT mean = 5 ms + base mean within 3%, and its
# sigma within 10% of 1 ms (the base path's own sigma added in quadrature, measured first).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
fwd_up
fwd_irtt_server

fwd_irtt "$T/base.json" 10ms 5s
read -r base_mean base_sd <<<"$(irtt_field "$T/base.json" "j['stats']['rtt']['mean']/1e6, j['stats']['rtt']['stddev']/1e6" | tr -d '(),')"
echo "base RTT: mean $base_mean ms, sd $base_sd ms"

cat >"$T/normal.toml" <<'TOML'
name = "normal-5ms-1ms"
[egress.delay]
mean = "5ms"
jitter = "1ms"
distribution = "normal"
TOML
fwd_load "$T/normal.toml"
fwd_irtt "$T/delay.json" 10ms 10s
read -r mean sd n <<<"$(irtt_field "$T/delay.json" "j['stats']['rtt']['mean']/1e6, j['stats']['rtt']['stddev']/1e6, j['stats']['rtt']['n']" | tr -d '(),')"
stalls=$(fwd_stat "s['stalls']['count']")
echo "with normal(5ms,1ms): mean $mean ms, sd $sd ms over $n RTTs; forwarder stalls: $stalls"
nc_check "enough RTTs" "$n >= 900"
nc_check "mean within 3% of 5 ms + base" "($mean - (5 + $base_mean)) / (5 + $base_mean) < 0.03 && ($mean - (5 + $base_mean)) / (5 + $base_mean) > -0.03"
nc_check "sigma within 10% of 1 ms (base added in quadrature)" "$sd / sqrt(1 + $base_sd * $base_sd) > 0.9 && $sd / sqrt(1 + $base_sd * $base_sd) < 1.1"
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
pass "normal(5ms,1ms) delay through netchaos-fwd matches irtt"
