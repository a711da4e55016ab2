#!/usr/bin/env bash
# A live switch from 1 ms to 20 ms (0to1) while irtt probes every 10 ms: every probe sent
# one interval after the switch returned sees the 20 ms, every probe sent before it does
# not (a 2% allowance for host hiccups), and forwarding never pauses (no probe lost).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
fwd_up
fwd_irtt_server
for ms in 1 20; do
  printf 'name = "const-%sms"\n[egress.delay]\nmean = "%sms"\n' "$ms" "$ms" > "$T/d$ms.toml"
done
fwd_load "$T/d1.toml"
fwd_irtt "$T/probe.json" 10ms 6s &
irtt_pid=$!
sleep 3
t_req=$(date +%s%N)
fwd_load "$T/d20.toml"
t_done=$(date +%s%N)
wait "$irtt_pid" || fail "irtt failed"
echo "switch request at $t_req, acknowledged after $(( (t_done - t_req) / 1000 )) us"
python3 - "$T/probe.json" "$t_req" "$t_done" <<'PY' || fail "switch did not take effect within one probe interval"
import json, sys
j = json.load(open(sys.argv[1])); t_req = int(sys.argv[2]); t_done = int(sys.argv[3])
interval = 10_000_000
before, after, lost, bad, slow_before = [], [], 0, [], 0
for rt in j["round_trips"]:
    if rt["lost"] != "false":
        lost += 1
        continue
    sent = rt["timestamps"]["client"]["send"]["wall"]
    rtt = rt["delay"]["rtt"] / 1e6
    if sent < t_req:
        before.append(rtt)
        if rtt >= 19.5: slow_before += 1   # host noise can spike; many would mean an early switch
    elif sent >= t_done + interval:
        after.append(rtt)
        if rtt < 19.5: bad.append(("after", rt["seqno"], rtt))
print(f"before: {len(before)} probes, max {max(before):.2f} ms; after: {len(after)} probes, min {min(after):.2f} ms; lost {lost}")
if bad: print("wrong side of the switch:", bad[:10])
if slow_before > 0.02 * max(1, len(before)): bad.append(("before", slow_before, "probes >= 19.5 ms"))
sys.exit(1 if bad or lost or len(before) < 200 or len(after) < 200 else 0)
PY
pass "live switch 1 ms -> 20 ms within one probe interval, no loss"
