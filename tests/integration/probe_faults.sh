#!/usr/bin/env bash
# Probe faults: unreachable targets (bounded, exit 1, clear message), bad addresses (exit 3),
# a reflector restarted mid-run (gap counted as loss, run completes), garbage datagrams
# (counted, reflector keeps serving), SIGINT to the probe (outputs still written).
source "$NETCHAOS_SOURCE_DIR/tests/integration/probe_env.bash"

# Nobody at this address on the link (ARP fails): 100% loss, exit 1, duration + timeout bound.
t0=$(date +%s.%N)
probe_a 10.250.0.99:7777 -r 50 -d 2s -t 1s -j >"$TMP/u.jsonl" 2>"$TMP/u.err"
rc=$?
t1=$(date +%s.%N)
[[ $rc == 1 ]] || fail "unreachable: exit $rc, expected 1"
grep -q "no reply from 10.250.0.99:7777 to any of 100 probes: 100% loss" "$TMP/u.err" || fail "message: $(cat "$TMP/u.err")"
nc_check "unreachable run bounded by duration + timeout" "$t1 - $t0 < 5"
python3 -c "
import json; s=[json.loads(l) for l in open('$TMP/u.jsonl')][-1]
assert s['loss']==1.0 and s['received']==0 and s['missed'][0]['name']=='reachable', s" || fail "unreachable summary"
# No route at all: sends fail (ENETUNREACH), still 100% loss and exit 1, not a crash.
probe_a 192.0.2.1:7777 -r 50 -d 1s -t 500ms -q >/dev/null 2>"$TMP/nr.err"
rc=$?
[[ $rc == 1 ]] || fail "no route: exit $rc, expected 1"
grep -q "unreachable" "$TMP/nr.err" || fail "no-route message: $(cat "$TMP/nr.err")"
echo "ok: unreachable targets exit 1"

# Bad input: exit 3.
for bad in "10.250.0.2:99999" "10.250.0.2:0" "10.250.0.2" "10.250.0.2:x" "no.such.host.invalid:7777" "[::1:7777" ":7777"; do
  probe_a "$bad" -r 10 -d 1s >/dev/null 2>"$TMP/b.err"
  rc=$?
  [[ $rc == 3 ]] || fail "bad address '$bad': exit $rc, expected 3"
done
probe_a "$IPB:7777" -r 0 -d 1s >/dev/null 2>&1; [[ $? == 3 ]] || fail "rate 0 must be exit 3"
probe_a "$IPB:7777" -r 20000 -d 1s >/dev/null 2>&1; [[ $? == 3 ]] || fail "rate 20000 must be exit 3"
probe_a "$IPB:7777" -d 1parsec >/dev/null 2>&1; [[ $? == 3 ]] || fail "bad duration must be exit 3"
ip netns exec "$NSB" "$NETCHAOS" reflect --listen 10.9.9.9:7777 2>/dev/null; [[ $? == 3 ]] || fail "reflect on a foreign address must be exit 3"
ip netns exec "$NSB" "$NETCHAOS" reflect --listen "bogus" 2>/dev/null; [[ $? == 3 ]] || fail "reflect bad listen must be exit 3"
echo "ok: bad input exits 3"

# Reflector killed and restarted mid-run: the gap is loss, the run completes.
start_reflector
ip netns exec "$NSA" "$NETCHAOS" probe "$IPB:7777" -r 100 -d 4s -t 500ms -j --csv "$TMP/r.csv" >"$TMP/r.jsonl" 2>"$TMP/r.err" &
probe_pid=$!
nc_defer "kill $probe_pid"
sleep 1.2
kill -KILL "$REFLECTOR_PID"; wait "$REFLECTOR_PID" 2>/dev/null
sleep 1
start_reflector
wait "$probe_pid"
rc=$?
[[ $rc == 0 ]] || fail "restart run: exit $rc (no thresholds: expected 0) $(cat "$TMP/r.err")"
python3 - "$TMP/r.jsonl" "$TMP/r.csv" <<'PY' || fail "restart summary"
import csv, json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]
assert s["sent"] == 400, s
# ~1 s of 4 s lost (100 probes), with slack for start-up timing.
assert 60 <= s["lost"] <= 160, s["lost"]
assert s["received"] >= 240
rows = list(csv.DictReader(open(sys.argv[2])))
lost = [int(r["seq"]) for r in rows if r["status"] == "lost"]
assert max(lost) - min(lost) + 1 == len(lost), "the loss is one contiguous gap"
assert rows[-1]["status"] == "ok", "replies resumed after the restart"
print("ok: reflector restart: lost", s["lost"], "of", s["sent"], "in one gap")
PY

# Garbage to the reflector: counted, and it keeps serving.
ip netns exec "$NSA" python3 - "$IPB" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
junk = [b"", b"x", b"NCPR", os.urandom(47), os.urandom(48), os.urandom(1400), os.urandom(3000),
        b"NCPR\x02" + bytes(43), b"NCPR\x01\x01" + bytes(42)]   # bad version, a reply
for i in range(30):
    for j in junk: s.sendto(j, (sys.argv[1], 7777))
PY
probe_a "$IPB:7777" -r 100 -d 1s -t 500ms -q --loss-max 0% >/dev/null 2>&1 || fail "reflector stopped serving after garbage"
stop_reflector
n=$(sed -n 's/.*garbage \([0-9]*\).*/\1/p' "$TMP/reflect.log" | tail -1)
[[ $n == 270 ]] || fail "reflector counted $n garbage datagrams, expected 270: $(tail -2 "$TMP/reflect.log")"
echo "ok: 270 garbage datagrams counted, still serving"

# SIGINT to the probe: it stops, waits the timeout, writes everything, exits by verdict.
start_reflector
# (not via the probe_a function: a backgrounded function is a subshell that ignores SIGINT)
ip netns exec "$NSA" "$NETCHAOS" probe "$IPB:7777" -r 100 -d 30s -t 300ms -j --csv "$TMP/s.csv" --junit "$TMP/s.xml" >"$TMP/s.jsonl" 2>/dev/null &
probe_pid=$!
sleep 1.5
kill -INT "$probe_pid"
t0=$(date +%s.%N)
wait "$probe_pid"
rc=$?
t1=$(date +%s.%N)
[[ $rc == 0 ]] || fail "SIGINT: exit $rc, expected 0 (no thresholds)"
nc_check "SIGINT finishes within timeout + a window" "$t1 - $t0 < 2"
python3 - "$TMP/s.jsonl" "$TMP/s.csv" "$TMP/s.xml" <<'PY' || fail "SIGINT outputs"
import csv, json, sys, xml.etree.ElementTree as ET
s = [json.loads(l) for l in open(sys.argv[1])][-1]
assert s["type"] == "summary" and s["interrupted"] and 100 <= s["sent"] <= 200 and s["lost"] == 0, s
assert len(list(csv.reader(open(sys.argv[2])))) == s["sent"] + 1
ET.parse(sys.argv[3])
print("ok: SIGINT after", s["sent"], "probes, outputs written")
PY
pass "probe faults"
