#!/bin/bash
# `netchaos run` drives netem in process (issue 10 item 4): started from the root namespace,
# it applies every phase through the netem API from a thread inside netns a and probes from a
# thread there too. Checks: each phase's delay is in effect (its measured mean), every switch
# is in place, the device ends as it was with no ledger left, and a SIGKILLed run is rolled
# back by the watchdog's command line (which finds the ledger the in-process applies wrote).
# Then the switch time, decision to the kernel's ack, against `tc qdisc replace` in this guest.
source /nc/tests/lib.sh
setup_pair
nb netchaos reflect --listen 10.0.0.2:9000 >/dev/null 2>&1 &
for i in $(seq 20); do   # the reflector starts slowly under TCG
  na netchaos probe 10.0.0.2:9000 --rate 20 --duration 0.5s -t 1s -q >/dev/null 2>&1 && break
  sleep 0.2
done
base=$(na tc qdisc show dev va)
exp=/tmp/inproc.toml
# write_exp FILE PHASE-MS...: one phase of 1.5 s per delay
write_exp() {
  local f=$1; shift
  { printf 'name = "inproc"\nbaseline = "2s"\nfidelity = "off"\n'
    printf '[target]\nbackend = "netem"\ndev = "va"\nnetns = "a"\n'
    printf '[probe]\ntarget = "10.0.0.2:9000"\nnetns = "a"\nrate = 50\ntimeout = "1s"\nmax_silence = "0s"\n'
    for ms in "$@"; do printf '[[phase]]\nname = "d%s"\nduration = "1500ms"\n[phase.egress.delay]\nmean = "%sms"\n' "$ms" "$ms"; done
  } > "$f"
}
write_exp "$exp" 10 20 30 40 50 60 70 80
netchaos validate "$exp" >/tmp/inproc.val 2>&1 || fail "experiment invalid: $(cat /tmp/inproc.val)"
netchaos run "$exp" >/tmp/inproc.out 2>&1
rc=$?
((rc <= 1)) || { cat /tmp/inproc.out; fail "run exited $rc"; }
[[ $(na tc qdisc show dev va) == "$base" ]] || fail "va not restored: $(na tc qdisc show dev va)"
(( $(ledger_count) == 0 )) || fail "ledger left behind: $(find /run/netchaos/ledger -name '*.json')"
ok "run from the root namespace applied 8 phases in netns a, then restored '$base'"
# Each phase's mean RTT (summary table: phase kind time_s sent mean_ms ...) within 5 ms + 15%
# of its delay: the switches happened, in netns a, in order.
bad=$(awk '$2 == "phase" && $1 ~ /^d[0-9]+$/ { want = substr($1, 2); n++; if ($5 < want - 5 - 0.15 * want || $5 > want + 5 + 0.15 * want) printf "%s=%s ", $1, $5 } END { if (n != 8) print "phases:" n }' /tmp/inproc.out)
[[ -z $bad ]] || { cat /tmp/inproc.out; fail "phase means off their delays: $bad"; }
ok "each of the 8 phases measured its own delay"
sw=$(sed -n 's/.*phase switches: \([0-9]*\), decision to ack median \([0-9.]*\) ms, max \([0-9.]*\) ms.*/\1 \2 \3/p' /tmp/inproc.out)
read -r n_sw med_sw max_sw <<<"$sw"
[[ ${n_sw:-0} == 8 ]] || { cat /tmp/inproc.out; fail "expected 8 timed switches, got '${sw}'"; }

# SIGKILL mid-phase: the watchdog's `ip netns exec a netchaos clear --dev va` must find the
# ledger that the in-process apply wrote (its namespace identity comes from the thread).
write_exp /tmp/inproc-long.toml 25 25 25 25 25 25 25 25 25 25 25 25 25 25 25 25
setsid netchaos run /tmp/inproc-long.toml --lease 2s -q >/tmp/inproc-kill.out 2>&1 &
runpid=$!
for i in $(seq 100); do na tc qdisc show dev va | grep -q netem && break; sleep 0.1; done
na tc qdisc show dev va | grep -q netem || { cat /tmp/inproc-kill.out; fail "the long run never applied its phase"; }
kill -9 "$runpid"
for i in $(seq 100); do na tc qdisc show dev va | grep -q netem || break; sleep 0.1; done
[[ $(na tc qdisc show dev va) == "$base" ]] || fail "SIGKILLed run not rolled back: $(na tc qdisc show dev va)"
for i in $(seq 20); do (( $(ledger_count) == 0 )) && break; sleep 0.1; done
(( $(ledger_count) == 0 )) || fail "ledger left behind after the watchdog's rollback"
ok "SIGKILLed run: the watchdog's command line rolled back what the in-process applies did"

# The same switch by the tools a user has: `tc qdisc replace`, and `netchaos apply` (what
# `run` ran per step before), each timed inside netns a, 20 switches apiece.
cat > /tmp/switch-times.sh <<'EOT'
f1=$1; f2=$2
tc qdisc add dev va root netem delay 10ms
for i in $(seq 20); do t0=$EPOCHREALTIME; tc qdisc replace dev va root netem delay $((10 + i % 2))ms; t1=$EPOCHREALTIME; echo "tc $t0 $t1"; done
tc qdisc del dev va root
netchaos apply "$f1" --dev va >/dev/null
for i in $(seq 20); do f=$f1; ((i % 2)) && f=$f2; t0=$EPOCHREALTIME; netchaos apply "$f" --dev va >/dev/null; t1=$EPOCHREALTIME; echo "cli $t0 $t1"; done
netchaos clear --dev va >/dev/null
EOT
p1=$(profile sw1 '[egress.delay]
mean = "10ms"')
p2=$(profile sw2 '[egress.delay]
mean = "11ms"')
ip netns exec a bash /tmp/switch-times.sh "$p1" "$p2" > /tmp/switch-times.txt 2>&1
median_ms() { awk -v k="$1" '$1 == k { print ($3 - $2) * 1000 }' /tmp/switch-times.txt | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'; }
tc_med=$(median_ms tc); cli_med=$(median_ms cli)
[[ $(na tc qdisc show dev va) == "$base" ]] || fail "the timing loop left va changed"
echo "BENCH: $T: phase switch, decision to ack: run in process median ${med_sw} ms (max ${max_sw} ms, ${n_sw} switches); tc qdisc replace median ${tc_med} ms; netchaos apply (a process per step, as run did before) median ${cli_med} ms (20 each)"
check "a phase switch in process is quicker than tc qdisc replace in the same guest" "$med_sw < $tc_med"
