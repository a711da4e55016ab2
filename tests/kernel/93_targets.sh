#!/bin/bash
# apply/show/clear --netns and --pid with real netem (issue 16): the netem lands in the
# target's namespace, entered by a thread of a netchaos started in the root namespace; a target
# whose process exited while its namespace lives on is restored there (found by the recorded
# namespace identity); a target whose namespace is gone is reported and its ledger discarded.
source /nc/tests/lib.sh
setup_pair
P30=$(profile t30 $'[egress.delay]\nmean = "30ms"')
base=$(na tc qdisc show dev va)
ip netns exec a sleep 600 &
S=$!
for i in $(seq 50); do [[ $(readlink /proc/$S/ns/net) == $(ip netns exec a readlink /proc/self/ns/net) ]] && break; sleep 0.1; done

# By pid: the netem is on va in netns a, not in the root namespace; ping from a sees it.
netchaos apply "$P30" --dev va --pid "$S" >/tmp/t.out 2>&1 || fail "apply --pid: $(cat /tmp/t.out)"
grep -q "in pid $S" /tmp/t.out || fail "apply did not name its target: $(cat /tmp/t.out)"
na tc qdisc show dev va | grep -q "netem.*delay 30ms" || fail "no netem on va in a: $(na tc qdisc show dev va)"
tc qdisc show | grep -q netem && fail "netem in the root namespace"
read -r n mean _ <<<"$(rtts 5 0.2 | stats)"
check "ping from a after apply --pid ($n replies)" "$mean >= 29 && $mean < 60"
netchaos show --pid "$S" | grep -q "applied by netchaos: t30 on va" || fail "show --pid: $(netchaos show --pid "$S")"
netchaos show | grep -q "t30" && fail "show in the root namespace reports a's apply"
grep -q '"target": "pid '"$S"'"' /run/netchaos/ledger/*/va.json || fail "ledger lacks the target: $(cat /run/netchaos/ledger/*/va.json)"
netchaos clear --dev va --netns a >/tmp/t.out 2>&1 || fail "clear --netns a: $(cat /tmp/t.out)"
[[ $(na tc qdisc show dev va) == "$base" ]] || fail "va not restored"
ok "apply --pid, show --pid, clear --netns: netem in netns a only, restored"

# The target process exits (a container restarting in its pod): the namespace lives on, held
# by /run/netns/a; clear --pid finds it by the ledger's identity and restores it.
netchaos apply "$P30" --dev va --pid "$S" >/dev/null 2>&1 || fail "apply --pid (2)"
kill "$S"; wait "$S" 2>/dev/null
netchaos clear --all --pid "$S" >/tmp/t.out 2>&1 || fail "clear --pid of an exited process: $(cat /tmp/t.out)"
grep -q "lives on (netns a): restored va" /tmp/t.out || fail "clear --pid: $(cat /tmp/t.out)"
[[ $(na tc qdisc show dev va) == "$base" ]] || fail "va not restored after its pid exited"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
ok "clear --pid of an exited process restored its namespace (still alive) by identity"

# A namespace that is deleted with netem in it: its qdiscs go with it; clear says so.
ip netns add c && ip -n c link add d0 type veth peer name d1 && ip -n c link set d0 up || fail "netns c"
netchaos apply "$P30" --dev d0 --netns c >/dev/null 2>&1 || fail "apply --netns c"
ip netns exec c tc qdisc show dev d0 | grep -q netem || fail "no netem on d0 in c"
ip netns del c
netchaos clear --all --netns c >/tmp/t.out 2>&1 || fail "clear of a gone netns: $(cat /tmp/t.out)"
grep -q "target gone: netns c" /tmp/t.out || fail "clear did not say the target is gone: $(cat /tmp/t.out)"
(( $(ledger_count) == 0 )) || fail "the gone namespace's ledger is left: $(find /run/netchaos/ledger)"
ok "a deleted target namespace: reported gone, ledger discarded"

# apply --for inside a target: the watchdog restores there.
netchaos apply "$P30" --dev va --netns a --for 1s >/dev/null 2>&1 || fail "apply --for --netns"
for i in $(seq 60); do na tc qdisc show dev va | grep -q netem || break; sleep 0.1; done
[[ $(na tc qdisc show dev va) == "$base" ]] || fail "--for watchdog did not restore va in a"
for i in $(seq 20); do (( $(ledger_count) == 0 )) && break; sleep 0.1; done
(( $(ledger_count) == 0 )) || fail "ledger left after the --for watchdog"
ok "apply --for --netns a: the watchdog restored inside a"
