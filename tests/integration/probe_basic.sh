#!/usr/bin/env bash
# Probe <-> reflector across two namespaces: no loss, sane RTT, well-formed JSON lines,
# CSV and JUnit, threshold pass/fail exit codes (flags and --thresholds FILE), icmp and tcp.
source "$NETCHAOS_SOURCE_DIR/tests/integration/probe_env.bash"
start_reflector

probe_a "$IPB:7777" -r 200 -d 3s -t 500ms -j --csv "$TMP/p.csv" --junit "$TMP/p.xml" --p99-rtt-max 50ms \
  --loss-max 0.5% >"$TMP/p.jsonl" 2>"$TMP/p.err"
rc=$?
cat "$TMP/p.err"
[[ $rc == 0 ]] || fail "probe exit $rc, expected 0"
python3 - "$TMP/p.jsonl" "$TMP/p.csv" "$TMP/p.xml" <<'PY' || fail "output check"
import csv, json, sys, xml.etree.ElementTree as ET
lines = [json.loads(l) for l in open(sys.argv[1])]
wins = [l for l in lines if l["type"] == "window"]
summ = [l for l in lines if l["type"] == "summary"]
assert len(wins) == 3, f"{len(wins)} windows"
assert len(summ) == 1 and lines[-1]["type"] == "summary"
wkeys = {"type","t_ns","elapsed_s","sent","received","loss","rtt_mean_ms","jitter_1s_ms","spike_ratio","p50_ms","p99_ms"}
skeys = {"type","sent","received","lost","loss","duplicates","reordered","rtt_mean_ms","rtt_stddev_ms","p50_ms","p90_ms",
         "p99_ms","p999_ms","ipdv_mean_ms","jitter_rfc3550_ms","jitter_1s_max_ms","spike_ratio","send_error_max_us",
         "verdict","missed"}
for w in wins: assert wkeys <= set(w), wkeys - set(w)
assert [w["elapsed_s"] for w in wins] == [1.0, 2.0, 3.0]
assert all(b["t_ns"] - a["t_ns"] == 1_000_000_000 for a, b in zip(wins, wins[1:]))
s = summ[0]
assert skeys <= set(s), skeys - set(s)
assert s["sent"] == 600 and s["received"] == 600 and s["lost"] == 0 and s["loss"] == 0, s
assert sum(w["sent"] for w in wins) == 600
assert 0 < s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["p999_ms"] < 20, s
assert 0 < s["rtt_mean_ms"] < 5, s
assert s["verdict"] == "pass" and s["missed"] == []
assert s["duplicates"] == 0 and s["reordered"] == 0
rows = list(csv.reader(open(sys.argv[2])))
assert rows[0] == ["seq", "send_ns", "rtt_ns", "status", "dups", "rx_ns"], rows[0]
assert len(rows) == 601
assert [int(r[0]) for r in rows[1:]] == list(range(600))
assert all(r[3] == "ok" and int(r[2]) > 0 and r[4] == "0" for r in rows[1:])
sends = [int(r[1]) for r in rows[1:]]
assert all(b > a for a, b in zip(sends, sends[1:]))
root = ET.parse(sys.argv[3]).getroot()
cases = root.findall(".//testcase")
assert {c.get("name") for c in cases} == {"reachable", "p99_rtt_max", "loss_max"}, [c.get("name") for c in cases]
assert root.get("failures") == "0" and not root.findall(".//failure")
print("ok: outputs well-formed,", s["received"], "replies, mean", s["rtt_mean_ms"], "ms")
PY

# A threshold nobody can meet: exit 1, the miss named in JSON, JUnit and text.
probe_a "$IPB:7777" -r 100 -d 1s -t 500ms -j --junit "$TMP/f.xml" --p99-rtt-max 1ns --loss-max 50% \
  >"$TMP/f.jsonl" 2>"$TMP/f.err"
rc=$?
[[ $rc == 1 ]] || fail "impossible p99: exit $rc, expected 1"
grep -q "missed p99_rtt_max" "$TMP/f.err" || fail "miss not named on stderr: $(cat "$TMP/f.err")"
python3 - "$TMP/f.jsonl" "$TMP/f.xml" <<'PY' || fail "fail outputs"
import json, sys, xml.etree.ElementTree as ET
s = [json.loads(l) for l in open(sys.argv[1])][-1]
assert s["verdict"] == "fail" and [m["name"] for m in s["missed"]] == ["p99_rtt_max"], s["missed"]
assert s["missed"][0]["limit"] == 1e-6 and s["missed"][0]["value"] > 0
f = ET.parse(sys.argv[2]).getroot().findall(".//failure")
assert len(f) == 1 and "p99_rtt_max" in f[0].get("message")
print("ok: p99_rtt_max miss reported")
PY

# --thresholds FILE: pass, fail, and a bad file (exit 3 with file:line:col).
cat >"$TMP/ok.toml" <<'T'
[thresholds]
p99_rtt_max = "50ms"
loss_max = "1%"
jitter_1s_max = "20ms"
spike_ratio_max = 0.6
[thresholds.alert]
periods = 3
period = "1s"
T
probe_a "$IPB:7777" -r 100 -d 2s -t 500ms -q --thresholds "$TMP/ok.toml" >/dev/null || fail "thresholds file pass: exit $?"
printf '[thresholds]\njitter_1s_max = "1ns"\n' >"$TMP/bad.toml"
probe_a "$IPB:7777" -r 100 -d 2s -t 500ms -q --thresholds "$TMP/bad.toml" >"$TMP/o" 2>&1
rc=$?
[[ $rc == 1 ]] || fail "thresholds file fail: exit $rc"
grep -q "missed jitter_1s_max" "$TMP/o" || fail "jitter miss not named"
printf '[thresholds]\np99_rtt_max = "50 parsecs"\n' >"$TMP/typo.toml"
probe_a "$IPB:7777" -r 100 -d 1s -q --thresholds "$TMP/typo.toml" >"$TMP/o" 2>&1
rc=$?
[[ $rc == 3 ]] || fail "bad thresholds file: exit $rc, expected 3"
grep -q "typo.toml:2:15" "$TMP/o" || fail "no file:line:col in: $(cat "$TMP/o")"
echo "ok: --thresholds pass/fail/bad"

# ICMP echo against the peer's kernel.
probe_a "$IPB" --mode icmp -r 100 -d 2s -t 500ms -j --loss-max 1% >"$TMP/i.jsonl" 2>"$TMP/i.err" ||
  fail "icmp mode: exit $? $(cat "$TMP/i.err")"
python3 -c "
import json,sys; s=[json.loads(l) for l in open('$TMP/i.jsonl')][-1]
assert s['sent']==200 and s['received']==200 and 0<s['rtt_mean_ms']<5, s; print('ok: icmp', s['transport'], s['rtt_mean_ms'], 'ms')" ||
  fail "icmp summary"

# TCP connect time against a listener in the peer namespace.
ip netns exec "$NSB" python3 -c "
import socket,signal,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('$IPB',7778)); s.listen(1024)
print('up',flush=True)
while True:
    c,_=s.accept(); c.close()" >"$TMP/tcp.log" 2>&1 &
tcp_pid=$!
nc_defer "kill $tcp_pid"
for i in {1..50}; do grep -q up "$TMP/tcp.log" && break; sleep 0.1; done
probe_a "$IPB:7778" --mode tcp -r 50 -d 2s -t 500ms -j --loss-max 1% >"$TMP/t.jsonl" 2>"$TMP/t.err" ||
  fail "tcp mode: exit $? $(cat "$TMP/t.err")"
python3 -c "
import json; s=[json.loads(l) for l in open('$TMP/t.jsonl')][-1]
assert s['sent']==100 and s['received']==100 and 0<s['rtt_mean_ms']<10, s; print('ok: tcp connect', s['rtt_mean_ms'], 'ms')" ||
  fail "tcp summary"
# A closed port: every connect is refused -> 100% loss, exit 1.
probe_a "$IPB:7779" --mode tcp -r 20 -d 1s -t 300ms -q >/dev/null 2>&1
rc=$?
[[ $rc == 1 ]] || fail "tcp to a closed port: exit $rc, expected 1"

# Many clients at once: each run gets its own replies only (session tags), no loss.
for k in 1 2 3 4; do
  ip netns exec "$NSA" "$NETCHAOS" probe "$IPB:7777" -r 500 -d 2s -t 500ms -j -q >"$TMP/m$k.jsonl" &
  mpids+=($!)
done
for k in 1 2 3 4; do wait "${mpids[k-1]}" || fail "concurrent probe $k exit $?"; done
python3 -c "
import json
for k in range(1, 5):
    s = [json.loads(l) for l in open(f'$TMP/m{k}.jsonl')][-1]
    assert s['sent'] == 1000 and s['received'] == 1000 and s['garbage'] == 0 and s['duplicates'] == 0, s
print('ok: 4 concurrent clients, 1000/1000 each')" || fail "concurrent clients"

stop_reflector
n=$(sed -n 's/.*clients \([0-9]*\).*/\1/p' "$TMP/reflect.log" | tail -1)
# 4 sequential udp runs + 4 concurrent = 8 source ports (7: one ephemeral port reused by chance)
((n >= 7)) || fail "reflector saw $n clients, expected 8"
grep -q "garbage 0" "$TMP/reflect.log" || fail "reflector counters: $(cat "$TMP/reflect.log")"
pass "probe basic: outputs, thresholds, icmp, tcp"
