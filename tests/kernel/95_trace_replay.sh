#!/bin/bash
# [egress.delay] trace = "two-level.csv" on netem: `netchaos run` replays the recorded series
# as in-place netem switches, one per granularity (100 ms). The trace is 20 ms for 3 s then
# 60 ms for 3 s, looping; a 12 s phase probed at 50/s and recorded with --record. Per segment
# of the loop (its middle 2 s, away from the edges, measured from the first probe of the
# phase), the median RTT is the level: the steps follow the trace, in place, on the kernel.
source /nc/tests/lib.sh
setup_pair
nb netchaos reflect --listen 10.0.0.2:9000 >/dev/null 2>&1 &
for i in $(seq 20); do   # the reflector starts slowly under TCG
  na netchaos probe 10.0.0.2:9000 --rate 20 --duration 0.5s -t 1s -q >/dev/null 2>&1 && break
  sleep 0.2
done
base=$(na tc qdisc show dev va)
{ echo "time,rtt_ms"
  for i in $(seq 0 599); do echo "$((i / 100)).$(printf %02d $((i % 100))),$(( i < 300 ? 20 : 60 ))"; done
} > /tmp/two-level.csv
cat > /tmp/trace-exp.toml <<'TOML'
name = "trace-replay"
baseline = "1s"
fidelity = "off"
[target]
backend = "netem"
dev = "va"
netns = "a"
[probe]
target = "10.0.0.2:9000"
netns = "a"
rate = 50
timeout = "1s"
max_silence = "0s"
[[phase]]
name = "replay"
duration = "12s"
[phase.egress.delay]
trace = "two-level.csv"
at_end = "loop"
TOML
netchaos validate /tmp/trace-exp.toml >/tmp/trace.val 2>&1 || fail "experiment invalid: $(cat /tmp/trace.val)"
netchaos run /tmp/trace-exp.toml --dry-run >/tmp/trace.dry 2>&1 || fail "dry run failed: $(cat /tmp/trace.dry)"
grep -q "replay 120/120" /tmp/trace.dry || { head -c 3000 /tmp/trace.dry; fail "the plan does not hold 120 netem steps of 100 ms"; }
ok "the plan replays the 12 s phase as 120 steps of 100 ms"
netchaos run /tmp/trace-exp.toml --record /tmp/trace-rec.ncr >/tmp/trace.out 2>&1
rc=$?
((rc <= 1)) || { cat /tmp/trace.out; fail "run exited $rc"; }
[[ $(na tc qdisc show dev va) == "$base" ]] || fail "va not restored: $(na tc qdisc show dev va)"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
# The recording: 40-byte header, then (seq, send ns, rtt ns or -1) per probe.
od -A n -t d8 -j 40 -w24 /tmp/trace-rec.ncr | awk '
  NR == 1 { t0 = $2 }
  $3 >= 0 { ph = (($2 - t0) / 1e9) % 6; ms = $3 / 1e6
            if (ph >= 0.5 && ph < 2.5) lo[++nl] = ms; else if (ph >= 3.5 && ph < 5.5) hi[++nh] = ms }
  function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
                                  return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0 }
  END { printf "%d %.3f %d %.3f\n", nl, med(lo, nl), nh, med(hi, nh) }' > /tmp/trace.seg
read -r n_lo med_lo n_hi med_hi < /tmp/trace.seg
echo "20 ms segments: $n_lo probes, median $med_lo ms; 60 ms segments: $n_hi probes, median $med_hi ms"
check "20 ms segments: enough probes" "$n_lo >= 100"
check "60 ms segments: enough probes" "$n_hi >= 100"
check "20 ms segments follow the trace (median)" "$med_lo >= 19.5 && $med_lo < 30"
check "60 ms segments follow the trace (median)" "$med_hi >= 59.5 && $med_hi < 70"
