#!/usr/bin/env bash
# The real-Prometheus alert test without the DPDK forwarder or root (prom_alert_fwd.sh is
# the bench version): probe -> UDP relay -> reflector on loopback, Prometheus scraping every
# 1 s. Quiet: the relay forwards at once, NetchaosJitterSpike is never pending. The fault:
# the relay delays each probe by uniform(0, 400 ms); the alert must reach `firing` through
# /api/v1/alerts, no sooner than the rule's theoretical minimum (22 s: see prom_alert_fwd.sh).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/prom_common.bash" || exit 1
need_cmd prometheus
need_cmd python3
T=$(mktemp -d /tmp/ncpromlo.XXXXXX)
nc_defer "rm -rf $T"
free_port() { python3 -c 'import socket, sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
rport=$(free_port SOCK_DGRAM)
"$NETCHAOS" reflect --listen "127.0.0.1:$rport" -q 2>"$T/reflect.log" &
rpid=$!
nc_defer "kill $rpid"
# The path: a UDP relay (Python) between probe and reflector. Quiet: it forwards at once.
# The fault ($T/spiky exists): each probe waits uniform(0, 400 ms) before it goes on, so
# jitter_1s is ~115 ms and every window a spike. (Freezing the reflector instead does
# nothing: the reflector reports the time a probe sat in its socket and the probe takes it out.)
lport=$(free_port SOCK_DGRAM)
python3 - "$lport" "$rport" "$T/spiky" >"$T/relay.out" 2>"$T/relay.log" <<'PY' &
import heapq, os, random, select, socket, sys, time
lport, rport, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", lport))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); up.connect(("127.0.0.1", rport))
print("ready", flush=True)
client, due, n = None, [], 0
while True:
    wait = max(0.0, due[0][0] - time.monotonic()) if due else 1.0
    ready, _, _ = select.select([down, up], [], [], wait)
    if down in ready:
        data, client = down.recvfrom(4096)
        delay = random.uniform(0, 0.4) if os.path.exists(flag) else 0.0
        n += 1
        heapq.heappush(due, (time.monotonic() + delay, n, data))
    if up in ready and client:
        down.sendto(up.recv(4096), client)
    while due and due[0][0] <= time.monotonic():
        up.send(heapq.heappop(due)[2])
PY
xpid=$!
nc_defer "kill $xpid"
for _ in $(seq 100); do grep -q ready "$T/relay.out" && break; sleep 0.1; done
grep -q ready "$T/relay.out" || { cat "$T/relay.log"; fail "the relay did not start"; }

"$NETCHAOS" probe "127.0.0.1:$lport" -r 100 -d 0 -t 1s --spike-windows 10 --metrics-listen 127.0.0.1:0 -q \
  >"$T/probe.out" 2>"$T/probe.err" &
ppid=$!
nc_defer "kill $ppid"
probe_metrics_url $ppid "$T/probe.err"
target=${PROBE_URL#http://}; target=${target%/metrics}
prom_start "$T" "" "$target"
prom_watch 15 60 22 -- touch "$T/spiky" || { tail -5 "$T/probe.err"; fail "alert test (above)"; }
kill -TERM $ppid
wait $ppid || fail "probe exit $? after SIGTERM"
pass "NetchaosJitterSpike: quiet on loopback, firing behind a jittering relay, in a real Prometheus"
