#!/bin/bash
# apply --for: the watchdog restores at expiry although the controller died by SIGKILL;
# clear stops a pending watchdog.
source /nc/tests/lib.sh
enter_a "$@"
f=$(profile wd '[egress.delay]
mean = "25ms"')
setsid bash -c "ip netns exec a netchaos apply $f --dev va --for 3s >/tmp/wd.out 2>&1; exec sleep 60" &
ctl=$!
for i in $(seq 50); do grep -q 'watchdog pid' /tmp/wd.out 2>/dev/null && break; sleep 0.2; done
grep -q 'watchdog pid' /tmp/wd.out || fail "apply --for did not start a watchdog: $(cat /tmp/wd.out)"
wd=$(sed -n 's/.*watchdog pid \([0-9]*\).*/\1/p' /tmp/wd.out)
kill -9 -- -"$ctl" 2>/dev/null || kill -9 "$ctl"
na tc qdisc show dev va | grep -q netem || fail "netem not applied"
kill -0 "$wd" || fail "watchdog $wd died with the controller"
ok "controller killed with SIGKILL, watchdog $wd alive, netem in place"
t0=$(cut -d' ' -f1 /proc/uptime)
for i in $(seq 60); do na tc qdisc show dev va | grep -q netem || break; sleep 0.1; done
t1=$(cut -d' ' -f1 /proc/uptime)
na tc qdisc show dev va | grep -q netem && fail "watchdog did not restore after 3 s + 6 s"
echo "NOTE: $T: restored $(awk -v a=$t0 -v b=$t1 'BEGIN{print b-a}') s after the kill (deadline 3 s after apply)"
na tc qdisc show dev va | grep -q 'noqueue 0: root' || fail "default qdisc not back"
sleep 0.2
kill -0 "$wd" 2>/dev/null && fail "watchdog still running"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
ok "watchdog restored the default qdisc and exited"
out=$(na netchaos apply "$f" --dev va --for 60s) || fail "apply --for 60s"
wd=$(sed -n 's/.*watchdog pid \([0-9]*\).*/\1/p' <<<"$out")
na netchaos clear --dev va >/dev/null || fail "clear"
sleep 0.2
kill -0 "$wd" 2>/dev/null && fail "clear did not stop watchdog $wd"
ok "clear stopped watchdog $wd"
