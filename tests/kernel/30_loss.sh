#!/bin/bash
# 10% random loss over 1000 pings (3 sigma band: 7.2% .. 12.8%).
source /nc/tests/lib.sh
enter_a "$@"
f=$(profile loss10 '[egress.loss]
p = "10%"')
na netchaos apply "$f" --dev va >/dev/null || fail "apply"
out=$(na ping -c 1000 -i 0.003 -W 1 -q 10.0.0.2)
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
drops=$(na netchaos show -j --dev va | grep -o '"drops":[0-9]*' | cut -d: -f2)
echo "BENCH: $T: 10% loss profile: ping loss ${loss}% over 1000, qdisc drops $drops"
check "loss 10% over 1000 packets" "$loss >= 7 && $loss <= 13"
check "show -j drops match ping's losses" "$drops >= 1000*$loss/100 - 5 && $drops <= 1000*$loss/100 + 5"
na netchaos clear --dev va >/dev/null || fail "clear"
