#!/usr/bin/env bash
# [egress.delay] trace = "two-level.csv" through netchaos-fwd: a recorded series of 20 ms for
# 5 s then 60 ms for 5 s, looping, loaded with `netchaos apply --backend dpdk` (the CLI reads
# the file, the forwarder gets the points inline). irtt probes every 10 ms for 16 s; per
# segment of the loop (its middle 4 s, away from the edges and the uncertainty of t = 0, which
# is the first packet after the load), the RTT is the segment's delay plus the bench's
# own RTT: the low decile sits on the level, the median on its side of the midpoint. Not
# means: a loaded 2-core host delays the busy-polling forwarder by ms, which only adds.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
fwd_up
fwd_irtt_server
python3 - "$T/two-level.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("time,rtt_ms\n")
    for i in range(1000):   # one probe every 10 ms; every 50th lost (interpolated over)
        f.write(f"{i * 0.01:.2f},{'lost' if i % 50 == 49 else (20 if i < 500 else 60)}\n")
PY
cat > "$T/replay.toml" <<'TOML'
name = "two-level-replay"
[egress.delay]
trace = "two-level.csv"
at_end = "loop"
TOML
"$NETCHAOS" show-profile "$T/replay.toml" >"$T/show.txt" 2>&1 || { cat "$T/show.txt"; fail "show-profile refused the trace profile"; }
fwd_irtt "$T/probe.json" 10ms 17s &
irtt_pid=$!
sleep 1.5
t_before=$(date +%s%N)
"$NETCHAOS" apply "$T/replay.toml" --backend dpdk --control "$SOCK" --direction 0to1 >"$T/apply.log" 2>&1 || { cat "$T/apply.log"; fail "netchaos apply of the trace profile failed"; }
t_after=$(date +%s%N)
wait "$irtt_pid" || fail "irtt failed"
echo "loaded in $(( (t_after - t_before) / 1000000 )) ms"
fwd_stat "s['directions']['0to1']['profile']" | grep -q two-level-replay || fail "the forwarder does not name the trace profile"
python3 - "$T/probe.json" "$t_before" "$t_after" <<'PY' || fail "the RTT did not follow the trace"
import json, statistics, sys
j = json.load(open(sys.argv[1])); t0 = int(sys.argv[2]); t1 = int(sys.argv[3])
seg = {"20ms": [], "60ms": []}
before = []
for rt in j["round_trips"]:
    if rt["lost"] != "false":
        continue
    sent = rt["timestamps"]["client"]["send"]["wall"]
    rtt = rt["delay"]["rtt"] / 1e6
    if sent < t0:
        before.append(rtt)
        continue
    if sent < t1:
        continue
    # t = 0 lies in [t0, t1 + 10 ms]; take the middle 4 s of each 5 s segment of the 10 s loop.
    for origin in (t0, t1 + 10_000_000):
        ph = ((sent - origin) / 1e9) % 10.0
        if not (0.5 <= ph < 4.5 or 5.5 <= ph < 9.5):
            break
    else:
        seg["20ms" if ph < 5 else "60ms"].append(rtt)
base = statistics.median(before) if before else 0
ok = len(before) >= 50
print(f"before the load: {len(before)} probes, median {base:.3f} ms")
for name, want in (("20ms", 20.0), ("60ms", 60.0)):
    v = seg[name]
    med = statistics.median(v) if v else 0
    q = lambda f: sorted(v)[int(len(v) * f)] if v else 0
    # A late forwarder (descheduled on a loaded 2-core host) only adds delay: the low decile
    # is the delay asked for plus the bench's own RTT; the median, lifted by load by up to a
    # few ms, must stay on its level's side of the midpoint between the levels (40 ms).
    good = len(v) >= 300 and want - 0.5 <= q(0.1) <= want + 2.0 + base and want - 0.5 <= med < want + 20.0
    ok = ok and good
    print(f"segment {name}: {len(v)} probes, median {med:.3f} ms (p10 {q(0.1):.3f}, p25 {q(0.25):.3f}, p75 {q(0.75):.3f}, p90 {q(0.9):.3f}): {'ok' if good else 'MISS'}")
sys.exit(0 if ok else 1)
PY
pass "the forwarder replays a 2-level trace: per segment the RTT follows 20 ms / 60 ms"
