#!/bin/bash
# Ownership on a real netem: a device held by the watchdog of `apply --for` refuses a second
# controller (exit 4, who holds it and since when) unless --takeover, which stops that
# watchdog; a root the operator replaced after apply is left alone by clear, with a warning.
source /nc/tests/lib.sh
enter_a "$@"
f1=$(profile held '[egress.delay]
mean = "20ms"')
f2=$(profile other '[egress.delay]
mean = "30ms"')
out=$(netchaos apply "$f1" --dev va --for 60s) || fail "apply --for: $out"
wd=$(sed -n 's/.*watchdog pid \([0-9]*\).*/\1/p' <<<"$out")
out=$(netchaos apply "$f2" --dev va 2>&1); rc=$?
[[ $rc == 4 && $out == *"va is held by pid $wd (profile held) since "* ]] || fail "second controller: exit $rc: $out"
tc qdisc show dev va | grep -q 'delay 20ms' || fail "the held netem changed: $(tc qdisc show dev va)"
ok "second controller refused: $out"
out=$(netchaos apply "$f2" --dev va --takeover 2>&1) || fail "--takeover: $out"
[[ $out == *switched* ]] || fail "--takeover did not switch in place: $out"
tc qdisc show dev va | grep -q 'delay 30ms' || fail "--takeover: not applied: $(tc qdisc show dev va)"
sleep 0.2
kill -0 "$wd" 2>/dev/null && fail "--takeover left the old watchdog $wd running"
ok "--takeover switched in place and stopped watchdog $wd"
netchaos clear --dev va >/dev/null || fail "clear"
# The operator replaces netchaos's root after apply: clear must not touch the new one.
netchaos apply "$f1" --dev va >/dev/null || fail "apply"
tc qdisc replace dev va root handle 9: tbf rate 5mbit burst 10kb latency 30ms || fail "operator tbf"
out=$(netchaos clear --dev va 2>&1) || fail "clear: $out"
[[ $out == *"root qdisc of va is now tbf 9:, not the netem 6e65: netchaos put there: left alone"* ]] || fail "no warning: $out"
tc qdisc show dev va | grep -q 'tbf 9: root' || fail "the operator's tbf is gone: $(tc qdisc show dev va)"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
tc qdisc del dev va root
ok "the operator's root is left alone: $out"
