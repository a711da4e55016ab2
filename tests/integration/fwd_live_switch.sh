#!/usr/bin/env bash
# A live switch from 1 ms to 20 ms (0to1) while irtt probes every 10 ms: every probe sent
# one interval after the switch returned sees the 20 ms, every probe sent before it does
# not (by the median: a loaded host spikes a few), and forwarding never pauses (no probe lost).
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
fwd_irtt "$T/probe.json" 10ms 20s &   # long enough for a slow Python start on a loaded host
irtt_pid=$!
sleep 4
# Over the socket directly: the reply carries the forwarder's wall-clock times of the
# request and of the forwarding core's ack, to line up with irtt's send timestamps.
reply=$(fwd_ctl "$(python3 -c 'import json,sys; print(json.dumps({"cmd":"load","direction":"both","name":sys.argv[1],"toml":open(sys.argv[1]).read()}))' "$T/d20.toml")")
read -r t_req t_done <<<"$(echo "$reply" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["requested_ns"], r["applied_ns"])')"
wait "$irtt_pid" || fail "irtt failed"
echo "switch requested at $t_req, on the forwarding core $(( (t_done - t_req) / 1000 )) us later"
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
print(f"before: {len(before)} probes, max {max(before, default=0):.2f} ms; after: {len(after)} probes, min {min(after, default=0):.2f} ms; lost {lost}")
if bad: print("wrong side of the switch:", bad[:10])
# Before the request the 1 ms profile rules: the median says so even when a loaded host
# spikes a few RTTs past 20 ms.
med = sorted(before)[len(before) // 2] if before else 0
print(f"median before {med:.2f} ms ({slow_before} probes >= 19.5 ms)")
if med >= 10: bad.append(("before", "median", med))
sys.exit(1 if bad or lost or len(before) < 100 or len(after) < 100 else 0)
PY
pass "live switch 1 ms -> 20 ms within one probe interval, no loss"
