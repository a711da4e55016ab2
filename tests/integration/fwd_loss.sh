#!/usr/bin/env bash
# Loss through netchaos-fwd, measured by irtt (a peer nobody here wrote):
#  - random 10% on 0to1 over 5000 packets -> 10 +- 1.5% upstream loss;
#  - Gilbert-Elliott p=5% r=30% (1-h=100%, 1-k=0%) -> mean loss-run length 1/r within 4.5
#    standard errors (the runs are geometric: sd sqrt(1-r)/r = 2.79 packets; at ~800 runs
#    that is +-0.44, where a fixed 10% band was 3.4 standard errors and failed once in CI).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
fwd_up
fwd_irtt_server

cat >"$T/random.toml" <<'TOML'
name = "random-10"
[egress.loss]
model = "random"
p = "10%"
TOML
fwd_load "$T/random.toml"
fwd_ctl '{"cmd":"reset"}' >/dev/null
fwd_irtt "$T/random.json" 2ms 13s   # 6500 planned: a loaded host misses timer ticks
read -r sent up_loss <<<"$(irtt_field "$T/random.json" "j['stats']['packets_sent'], j['stats']['upstream_loss_percent']" | tr -d '(),')"
read -r frx fdrop <<<"$(fwd_stat "s['directions']['0to1']['rx'], s['directions']['0to1']['dropped_fault']" | tr -d '(),')"
echo "random 10%: irtt sent $sent, upstream loss $up_loss%; forwarder 0to1 rx $frx dropped_fault $fdrop"
nc_check "at least 5000 packets" "$sent >= 5000"
nc_check "irtt upstream loss 10 +- 1.5%" "$up_loss >= 8.5 && $up_loss <= 11.5"
nc_check "forwarder's own count agrees" "$fdrop / $frx >= 0.085 && $fdrop / $frx <= 0.115"

cat >"$T/ge.toml" <<'TOML'
name = "gilbert-elliott"
[egress.loss]
model = "gilbert-elliott"
p = "5%"
r = "30%"
one_minus_h = "100%"
one_minus_k = "0%"
TOML
fwd_load "$T/ge.toml"
fwd_irtt "$T/ge.json" 1ms 20s
python3 - "$T/ge.json" > "$T/runs.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
runs, cur = [], 0
for rt in sorted(j["round_trips"], key=lambda r: r["seqno"]):
    if rt["lost"] in ("true", "true_up"):
        cur += 1
    else:
        if cur: runs.append(cur)
        cur = 0
print(len(runs), sum(runs) / max(1, len(runs)), j["stats"]["packets_sent"])
PY
read -r nruns mean_run sent <<<"$(cat "$T/runs.txt")"
echo "Gilbert-Elliott: $nruns loss runs in $sent packets, mean run length $mean_run (1/r = 3.333)"
nc_check "enough runs to judge" "$nruns >= 300"
se=$(awk -v n="$nruns" 'BEGIN { printf "%.4f", sqrt(1 - 0.3) / 0.3 / sqrt(n) }')
nc_check "mean loss-run length within 4.5 standard errors ($se) of 1/r" "$mean_run - 3.3333 <= 4.5 * $se && 3.3333 - $mean_run <= 4.5 * $se"
pass "random and Gilbert-Elliott loss through netchaos-fwd"
