#!/bin/bash
# --ingress: replies arriving on va go through ifb-va's netem; clear removes IFB and filter.
source /nc/tests/lib.sh
enter_a "$@"
f=$(profile in30 '[ingress.delay]
mean = "30ms"')
na netchaos apply "$f" --dev va --ingress >/dev/null || fail "apply --ingress"
na ip link show ifb-va >/dev/null || fail "no ifb-va"
na tc qdisc show dev va | grep -q 'qdisc ingress ffff:' || fail "no ingress qdisc on va"
na tc filter show dev va ingress | grep -q 'mirred' || na tc -s filter show dev va ingress | grep -q 'ifb-va' || fail "no mirred filter"
na netchaos show --dev va | grep -q '^ifb-va: netem' || fail "show does not list ifb-va's netem"
read -r n m med sd <<<"$(rtts 20 0.05 | stats)"
echo "BENCH: $T: ingress 30ms via IFB: n=$n mean=${m}ms median=${med}ms"
check "ingress delay" "$n >= 19 && $med >= 30 && $med <= 40"
na netchaos clear --dev va >/dev/null || fail "clear"
na ip link show ifb-va >/dev/null 2>&1 && fail "ifb-va left behind"
na tc qdisc show dev va | grep -q ingress && fail "ingress qdisc left behind"
read -r n m med sd <<<"$(rtts 10 0.05 | stats)"
check "after clear: no delay" "$m < 10"
