#!/usr/bin/env bash
# netchaos-fwd with no profile: ping crosses both ways, counters agree, the control socket
# is 0600, and SIGTERM stops the forwarder cleanly (socket removed, process gone).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_up

[[ $(stat -c %a "$SOCK") == 600 ]] || fail "control socket mode is $(stat -c %a "$SOCK"), want 600"
fwd_ctl '{"cmd":"reset"}' >/dev/null
out=$(ip netns exec "$CLI" ping -c 50 -i 0.01 -q 10.213.0.2) || fail "ping through the forwarder: $out"
echo "$out" | tail -2
nc_check "no ping loss" "$(echo "$out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p') == 0"
read -r rx01 tx01 rx10 tx10 df <<<"$(fwd_stat "s['directions']['0to1']['rx'], s['directions']['0to1']['tx'], s['directions']['1to0']['rx'], s['directions']['1to0']['tx'], s['directions']['0to1']['dropped_fault']+s['directions']['1to0']['dropped_fault']" | tr -d '(),')"
nc_check "0to1 saw the 50 echo requests" "$rx01 >= 50 && $rx01 <= 60"
nc_check "1to0 saw the 50 echo replies" "$rx10 >= 50 && $rx10 <= 60"
nc_check "everything received was sent" "$tx01 == $rx01 && $tx10 == $rx10"
nc_check "no fault drops on pass-through" "$df == 0"
engine=$(fwd_stat "s['engine']")
echo "engine: $engine"
[[ $engine == fault ]] || fail "forwarder reports engine '$engine', want 'fault' (the fault engine, no fallback)"

kill -TERM "$FWD_PID"
for _ in $(seq 50); do fwd_alive "$FWD_PID" || break; sleep 0.1; done
fwd_alive "$FWD_PID" && fail "forwarder still running 5 s after SIGTERM"
[[ -e $SOCK ]] && fail "control socket $SOCK left behind"
grep -q "netchaos-fwd: stopped" "$FWD_LOG" || fail "no clean stop in the log: $(tail -3 "$FWD_LOG")"
pass "pass-through forwarding, counters, socket mode, clean SIGTERM"
