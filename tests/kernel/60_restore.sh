#!/bin/bash
# clear restores exactly the previous root qdisc (a tbf set first); a second apply with the
# same layout changes the netem in place (same handle: no delete-then-add).
source /nc/tests/lib.sh
enter_a "$@"
na tc qdisc add dev va root handle 7: tbf rate 20mbit burst 20kb latency 40ms || fail "tbf"
before=$(na tc -d qdisc show dev va)
f1=$(profile p1 '[egress.delay]
mean = "20ms"')
f2=$(profile p2 '[egress.delay]
mean = "35ms"
[egress.loss]
p = "1%"')
na netchaos apply "$f1" --dev va >/dev/null || fail "apply p1"
h1=$(na tc qdisc show dev va | awk '/netem/{print $3}')
[[ -n $h1 ]] || fail "no netem after apply"
na netchaos apply "$f2" --dev va | grep -q switched || fail "p2 was not a phase switch"
line=$(na tc qdisc show dev va | grep netem)
[[ $(awk '{print $3}' <<<"$line") == "$h1" ]] || fail "netem handle changed ($h1 -> $line): not in place"
[[ $line == *"delay 35ms"* && $line == *"loss 1%"* ]] || fail "p2 parameters not in effect: $line"
ok "phase switch in place on $h1: $line"
na netchaos clear --dev va >/dev/null || fail "clear"
after=$(na tc -d qdisc show dev va)
[[ $after == "$before" ]] || fail "tbf not restored: before '$before' after '$after'"
ok "restored: $after"
na tc qdisc del dev va root
na netchaos apply "$f1" --dev va >/dev/null && na netchaos clear --all >/dev/null || fail "default case"
na tc qdisc show dev va | grep -q 'noqueue 0: root' || fail "default qdisc not back: $(na tc qdisc show dev va)"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
ok "default qdisc restored, ledger empty"
