#!/bin/bash
# [[target]]: one experiment switching netem in three namespaces together (issue 16). The probe
# from a to b crosses va's and vb's egress, so each phase's RTT is the sum of both targets'
# delays, b's taken from its own per-phase profile. Target c's namespace is deleted mid-run:
# c ends "gone" with rollback "target gone", the run goes on and passes. Then a SIGKILLed
# two-target run: the one watchdog restores both.
source /nc/tests/lib.sh
setup_pair
ip netns add c && ip -n c link add d0 type veth peer name d1 && ip -n c link set d0 up || fail "netns c"
nb netchaos reflect --listen 10.0.0.2:9000 >/dev/null 2>&1 &
for i in $(seq 20); do
  na netchaos probe 10.0.0.2:9000 --rate 20 --duration 0.5s -t 1s -q >/dev/null 2>&1 && break
  sleep 0.2
done
base_a=$(na tc qdisc show dev va); base_b=$(nb tc qdisc show dev vb)
printf 'name = "b10"\n[egress.delay]\nmean = "10ms"\n' > /tmp/b10.toml
write_exp() {   # write_exp FILE PHASE-SECONDS WITH-C
  { printf 'name = "multi"\nbaseline = "2s"\nfidelity = "off"\n'
    printf '[[target]]\nname = "a"\ndev = "va"\nnetns = "a"\n'
    printf '[[target]]\nname = "b"\ndev = "vb"\nnetns = "b"\nprofiles = { slow = "/tmp/b10.toml" }\n'
    [[ $3 == 1 ]] && printf '[[target]]\nname = "c"\ndev = "d0"\nnetns = "c"\n'
    printf '[probe]\ntarget = "10.0.0.2:9000"\nnetns = "a"\nrate = 50\ntimeout = "1s"\nmax_silence = "0s"\n'
    printf '[[phase]]\nname = "slow"\nduration = "%s"\n[phase.egress.delay]\nmean = "20ms"\n' "$2"
    printf '[[phase]]\nname = "slower"\nduration = "%s"\n[phase.egress.delay]\nmean = "30ms"\n' "$2"
  } > "$1"
}
write_exp /tmp/multi.toml 4s 1
netchaos validate /tmp/multi.toml >/tmp/multi.val 2>&1 || fail "experiment invalid: $(cat /tmp/multi.val)"
netchaos run /tmp/multi.toml --json /tmp/multi.json >/tmp/multi.out 2>&1 &
runpid=$!
for i in $(seq 150); do ip netns exec c tc qdisc show dev d0 2>/dev/null | grep -q netem && break; sleep 0.1; done
ip netns exec c tc qdisc show dev d0 | grep -q netem || { cat /tmp/multi.out; fail "target c never got its netem"; }
ip netns del c
wait "$runpid"; rc=$?
((rc <= 1)) || { cat /tmp/multi.out; fail "run exited $rc"; }
[[ $(na tc qdisc show dev va) == "$base_a" && $(nb tc qdisc show dev vb) == "$base_b" ]] || fail "a or b not restored"
(( $(ledger_count) == 0 )) || fail "ledger left behind: $(find /run/netchaos/ledger -name '*.json')"
# slow: a 20 + b 10 (its own profile) = 30 ms; slower: 30 + 30 = 60 ms (mean within 5 ms + 15%).
bad=$(awk '$2 == "phase" { want = ($1 == "slow") ? 30 : ($1 == "slower") ? 60 : -1; if (want < 0) next; n++; if ($5 < want - 5 - 0.15 * want || $5 > want + 5 + 0.15 * want) printf "%s=%s ", $1, $5 } END { if (n != 2) print "phases:" n }' /tmp/multi.out)
[[ -z $bad ]] || { cat /tmp/multi.out; fail "phase means are not the sums of both targets' delays: $bad"; }
ok "two targets switched together: slow 30 ms (20 + b's own 10), slower 60 ms"
# The report, one line with no blanks around JSON punctuation (keys come sorted).
flat=$(tr -d '\n' < /tmp/multi.json | sed 's/ *\([][{},:]\) */\1/g')
grep -q '"name":"c","note":"gone during[^"]*","rollback":"target gone","state":"gone"' <<<"$flat" || { echo "$flat" | grep -o '"targets":.*' | head -c 1200; fail "target c not reported gone"; }
(( $(grep -o '"name":"[ab]","note":"","rollback":"restored","state":"ok"' <<<"$flat" | wc -l) == 2 )) || { echo "$flat" | grep -o '"targets":.*' | head -c 1200; fail "a and b not both restored"; }
grep -q '"switch_skew":{"max_ms"' <<<"$flat" || fail "no switch skew in the JSON report"
skew=$(grep -o 'switch skew between targets: [^"]*' /tmp/multi.out | head -1)
[[ -n $skew ]] || { cat /tmp/multi.out; fail "no switch skew line"; }
ok "c deleted mid-run: reported gone, rollback 'target gone'; a and b restored; $skew"

# SIGKILL: the one watchdog rolls back both targets.
write_exp /tmp/multi-long.toml 30s 0
setsid netchaos run /tmp/multi-long.toml --lease 2s -q >/tmp/multi-kill.out 2>&1 &
runpid=$!
for i in $(seq 150); do na tc qdisc show dev va | grep -q netem && nb tc qdisc show dev vb | grep -q netem && break; sleep 0.1; done
nb tc qdisc show dev vb | grep -q netem || { cat /tmp/multi-kill.out; fail "the long run never applied to b"; }
kill -9 "$runpid"
for i in $(seq 100); do na tc qdisc show dev va | grep -q netem || nb tc qdisc show dev vb | grep -q netem || break; sleep 0.1; done
[[ $(na tc qdisc show dev va) == "$base_a" && $(nb tc qdisc show dev vb) == "$base_b" ]] || fail "SIGKILLed run: a or b not rolled back"
for i in $(seq 20); do (( $(ledger_count) == 0 )) && break; sleep 0.1; done
(( $(ledger_count) == 0 )) || fail "ledger left after the watchdog's rollback"
ok "SIGKILLed two-target run: one watchdog restored va in a and vb in b"
