#!/usr/bin/env bash
# [egress.rate] mm_link = "alt.trace" through netchaos-fwd: a Mahimahi mm-link trace whose
# first second has two delivery opportunities a millisecond (24 Mbit/s) and whose second has
# one every 10 ms (1.2 Mbit/s), looping. A sender offers 1400-byte datagrams at 1000/s
# (11.2 Mbit/s) for 8 s; the receive times, counted per 100 ms, follow the trace: in the low
# second exactly the 10 opportunities per 100 ms (the queue, limit 50, never empties), in the
# high second what the sender offers (several times that).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
fwd_up
{ for ms in $(seq 1 1000); do echo "$ms"; echo "$ms"; done
  for ms in $(seq 1010 10 2000); do echo "$ms"; done; } > "$T/alt.trace"
cat > "$T/mm.toml" <<'TOML'
name = "mm-link-alternating"
[egress]
limit = 50
[egress.rate]
mm_link = "alt.trace"
TOML
"$NETCHAOS" show-profile "$T/mm.toml" 2>&1 | grep -q "2100 delivery opportunities" || fail "show-profile does not read the mm-link trace"
# A UDP sender paced on the wall clock (it catches up after being descheduled, so the offered
# load holds on a loaded host) and a receiver that timestamps every datagram.
ip netns exec "$SRV" python3 - "$T/recv.txt" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.213.0.2", 5301))
s.settimeout(3.0)
out = []
try:
    while True:
        s.recv(2048)
        out.append(time.time_ns())
except socket.timeout:
    pass
open(sys.argv[1], "w").write("\n".join(map(str, out)) + "\n")
PY
recv_pid=$!
nc_defer "kill $recv_pid 2>/dev/null"
sleep 0.5
ip netns exec "$CLI" python3 - <<'PY' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"x" * 1400
start = time.monotonic(); sent = 0
while True:
    el = time.monotonic() - start
    if el >= 9.0: break
    while sent < int(el * 1000):   # 1000 datagrams/s, sent late rather than not at all
        s.sendto(payload, ("10.213.0.2", 5301)); sent += 1
    time.sleep(0.001)
PY
send_pid=$!
sleep 1
t_before=$(date +%s%N)
"$NETCHAOS" apply "$T/mm.toml" --backend dpdk --control "$SOCK" --direction 0to1 >"$T/apply.log" 2>&1 || { cat "$T/apply.log"; fail "netchaos apply of the mm-link profile failed"; }
t_after=$(date +%s%N)
wait "$send_pid" || fail "the sender failed"
wait "$recv_pid" || fail "the receiver failed"
python3 - "$T/recv.txt" "$t_before" "$t_after" <<'PY' || fail "throughput did not follow the mm-link trace"
import statistics, sys
recv = [int(x) for x in open(sys.argv[1]).read().split()]
t0 = int(sys.argv[2]); t1 = int(sys.argv[3])
buckets = {}
for r in recv:
    if r < t1 + 100_000_000:
        continue
    b = (r - t0) // 100_000_000   # 100 ms buckets from the earliest possible origin
    buckets[b] = buckets.get(b, 0) + 1
hi, lo = [], []
for b, n in buckets.items():
    # t = 0 lies in [t0, t1 + 1 ms]: a bucket counts when it is inside the middle of a
    # segment (0.2-0.8 s high, 1.2-1.8 s low of the 2 s loop) for either end of that range.
    phases = [((b * 100_000_000 + t0 - o) / 1e9) % 2.0 for o in (t0, t1 + 1_000_000)]
    if all(0.2 <= p < 0.7 for p in phases): hi.append(n)
    elif all(1.2 <= p < 1.7 for p in phases): lo.append(n)
print(f"received {len(recv)} datagrams; per 100 ms: high segments {sorted(hi)}, low segments {sorted(lo)}")
if len(hi) < 8 or len(lo) < 8:
    print("too few buckets"); sys.exit(1)
mh, ml = statistics.median(hi), statistics.median(lo)
print(f"median per 100 ms: high {mh}, low {ml} (the low second carries 10 opportunities per 100 ms)")
sys.exit(0 if 8 <= ml <= 12 and mh >= 3 * ml else 1)
PY
pass "throughput follows an alternating mm-link trace (high/low per 100 ms as printed above)"
