#!/usr/bin/env bash
# netchaos-fwd's control socket against stuck and hostile clients (issue 11), and what the
# dpdk backend accepts (issue 18): a regular file at --control survives; 20 idle clients
# lock nobody out; a client that sends but never reads freezes nothing and SIGTERM still
# stops the forwarder; oversized and malformed requests get an error or a closed socket;
# [match] is refused with exit 3; `apply --for` is a lease the forwarder itself ends;
# `show --backend dpdk` is a short readable summary. Ports are net_null (no-rx): no
# namespaces, only the control plane.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
need_root
need_cmd python3
[[ -n ${NETCHAOS_FWD:-} && -x $NETCHAOS_FWD ]] || skip "netchaos-fwd not built (libdpdk missing?): '${NETCHAOS_FWD:-}'"
T=$(mktemp -d /tmp/ncctl.XXXXXX)
nc_defer "rm -rf $T"
hostile=0
starts=0
# NC_KEEP_GOING=1 reports every failure instead of stopping at the first (to show what an
# older build gets wrong).
if [[ -n ${NC_KEEP_GOING:-} ]]; then fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }; fi
failures=0

alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]; }
start_fwd() {   # start_fwd SOCK [fwd options...]: sets FPID
  local sock=$1; shift
  starts=$((starts + 1))
  "$NETCHAOS_FWD" --no-huge --no-shconf -m 256 --no-pci --file-prefix "nc$$-$starts" --log-level=lib.eal:4 \
    --vdev=net_null0,no-rx=1 --vdev=net_null1,no-rx=1 -l 0 -- \
    --control "$sock" --pool 4096 --queue-capacity 65536 "$@" >"$T/fwd$starts.log" 2>&1 &
  FPID=$!
  nc_defer "kill -9 $FPID; sleep 0.2; rm -rf /var/run/dpdk/nc$$-$starts"   # EAL leaves its runtime dir (and, after kill -9, its telemetry socket)
}
wait_exit() {   # wait_exit PID SECONDS: 0 if it exited in time
  local i
  for ((i = 0; i < $2 * 10; i++)); do alive "$1" || return 0; sleep 0.1; done
  return 1
}

cat >"$T/ctl.py" <<'PY'
import json, socket, sys, threading, time
sock = sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    return s
def ask(req, timeout=3.0):
    s = conn()
    s.settimeout(timeout)
    s.sendall((req if isinstance(req, str) else json.dumps(req)).encode() + b"\n")
    r = s.makefile().readline()
    s.close()
    return json.loads(r)
def flood(seconds):
    # Pipelines stats requests and never reads a reply.
    s = conn()
    s.setblocking(False)
    end, sent = time.time() + seconds, 0
    line = b'{"cmd":"stats"}\n' * 64
    while time.time() < end:
        try:
            sent += s.send(line)
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break
    return s, sent
cmd = sys.argv[1]
if cmd == "ask":
    r = ask(sys.argv[3])
    print(json.dumps(r))
    sys.exit(0 if r.get("ok") else 1)
elif cmd == "idle":
    # 20 connected clients that never say anything, then one that asks.
    idle = [conn() for _ in range(20)]
    time.sleep(0.5)
    t0 = time.time()
    r = ask({"cmd": "stats"})
    print("idle: reply after %.3f s, ok=%s" % (time.time() - t0, r.get("ok")))
    sys.exit(0 if r.get("ok") else 1)
elif cmd == "flood":
    # A flooder runs while another client asks; the other client must be answered.
    out = {}
    th = threading.Thread(target=lambda: out.update(s=flood(4)))
    th.start()
    time.sleep(1.5)
    t0 = time.time()
    try:
        r = ask({"cmd": "stats"})
        ok = r.get("ok")
    except Exception as e:
        ok = False
        print("flood: other client failed:", e)
    took = time.time() - t0
    th.join()
    print("flood: flooder sent %d bytes unread; other client answered in %.3f s ok=%s" % (out["s"][1], took, ok))
    sys.exit(0 if ok else 1)
elif cmd == "hold-flooder":
    # For the shutdown test: flood, then keep the socket open without reading until killed.
    s, sent = flood(2)
    print("holding a flooder (%d bytes sent, none read)" % sent, flush=True)
    open(sys.argv[3], "w").write("ready\n")
    time.sleep(120)
elif cmd == "oversize":
    s = conn()
    s.settimeout(10)
    chunk = b"x" * 65536
    closed = False
    try:
        for _ in range(5 * 16 + 16):   # 6 MiB without a newline
            s.sendall(chunk)
        closed = s.recv(1) == b""
    except OSError:
        closed = True
    print("oversize: closed by forwarder =", closed)
    sys.exit(0 if closed else 1)
elif cmd == "garbage":
    bad = ['not json', '[1,2,3]', '{"cmd":5}', '{"cmd":"load","toml":5}', '{"cmd":"load"}',
           '{"cmd":"load","toml":"","lease_ms":-1}', '{"cmd":"load","toml":"[egress.delay]\\nmean=\\"1ms\\"","lease_ms":"x"}',
           '{"cmd":"load","toml":"[egress.delay]\\nmean=\\"1ms\\"","direction":7}', '"\\u0000"', '{"cmd":"\\udcff"}']
    n = 0
    for b in bad:
        r = ask(b)
        if r.get("ok") is not False or not r.get("error"):
            print("garbage: %r got %r" % (b, r)); sys.exit(1)
        n += 1
    print("garbage: %d malformed requests refused with a reason" % n)
PY
ctl() { python3 "$T/ctl.py" "$1" "$SOCK" "${@:2}"; }

# --- a regular file (and a symlink to one) at --control is never deleted ---------------------
for kind in file symlink; do
  hostile=$((hostile + 1))
  echo precious >"$T/precious"
  target=$T/precious
  if [[ $kind == symlink ]]; then ln -sf "$T/precious" "$T/link"; target=$T/link; fi
  start_fwd "$target"
  wait_exit "$FPID" 20 || { kill -9 "$FPID"; fail "--control at a $kind: the forwarder started on it"; }
  wait "$FPID"; rc=$?
  [[ $(cat "$T/precious" 2>/dev/null) == precious && -e $target ]] || fail "--control at a $kind deleted it"
  [[ $rc == 3 ]] || fail "--control at a $kind: exit $rc, expected 3 ($(tail -1 "$T/fwd$starts.log"))"
  grep -q "not a socket" "$T/fwd$starts.log" || fail "no reason given: $(tail -2 "$T/fwd$starts.log")"
  pass "--control at a $kind: exit 3, kept ($(grep -o 'exists and is not a socket.*' "$T/fwd$starts.log"))"
done

# --- a live forwarder ---------------------------------------------------------------------------
SOCK=$T/fwd.sock
# (NC_FWD_ARGS= lets a build without --control-idle run the rest)
start_fwd "$SOCK" ${NC_FWD_ARGS---control-idle 3s}
for ((i = 0; i < 300; i++)); do [[ -S $SOCK ]] && break; alive "$FPID" || break; sleep 0.1; done
[[ -S $SOCK ]] || fail "forwarder did not come up: $(tail -5 "$T/fwd$starts.log")"

hostile=$((hostile + 20)); ctl idle || fail "20 idle clients locked a new client out"
hostile=$((hostile + 1)); ctl flood || fail "a client that never reads froze the control socket"
hostile=$((hostile + 1)); ctl oversize || fail "a 6 MiB request line was not cut off"
hostile=$((hostile + 10)); ctl garbage || fail "a malformed request was not refused with a reason"
ctl ask '{"cmd":"stats"}' >/dev/null || fail "forwarder stopped answering after the hostile clients"

# --- [match] is refused (exit 3), nothing changes ---------------------------------------------
cat >"$T/match.toml" <<'TOML'
name = "one-flow"
[egress.delay]
mean = "40ms"
[match]
dst = "10.0.0.0/24"
protocol = "udp"
dport = 9000
TOML
hostile=$((hostile + 1))
"$NETCHAOS" apply "$T/match.toml" --backend dpdk --control "$SOCK" 2>"$T/err"; rc=$?
[[ $rc == 3 ]] || fail "apply of a [match] profile on the forwarder: exit $rc, expected 3"
grep -q "match" "$T/err" || fail "no reason for the [match] refusal: $(cat "$T/err")"
hostile=$((hostile + 1))
req=$(python3 -c 'import json,sys; print(json.dumps({"cmd":"load","toml":open(sys.argv[1]).read()}))' "$T/match.toml")
ctl ask "$req" >"$T/r.json" && fail "the forwarder itself accepted a [match] profile: $(cat "$T/r.json")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r.get("kind")=="bad_input" else 1)' "$T/r.json" ||
  fail "forwarder's [match] refusal has no code 3: $(cat "$T/r.json")"
ctl ask '{"cmd":"stats"}' | python3 -c 'import json,sys; d=json.load(sys.stdin)["directions"]; assert d["0to1"]["profile"]=="passthrough"' ||
  fail "a refused profile changed the forwarder"
pass "[match] refused by apply (exit 3: $(head -1 "$T/err" | cut -c1-90)...) and by the forwarder (code 3)"

# --- apply --for: a lease the forwarder enforces, back to the previous profile ---------------
cat >"$T/base.toml" <<'TOML'
name = "base"
[egress.delay]
mean = "5ms"
TOML
cat >"$T/spike.toml" <<'TOML'
name = "spike"
[egress.delay]
mean = "80ms"
jitter = "10ms"
distribution = "normal"
[egress.loss]
model = "random"
p = "1%"
[ingress.delay]
mean = "2ms"
TOML
"$NETCHAOS" apply "$T/base.toml" --backend dpdk --control "$SOCK" >/dev/null || fail "apply base"
"$NETCHAOS" apply "$T/spike.toml" --backend dpdk --control "$SOCK" --for 2s >"$T/out" || fail "apply --for 2s on the forwarder"
prof0() { ctl ask '{"cmd":"stats"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["directions"]["0to1"]["profile"])'; }
[[ $(prof0) == "spike (egress)" ]] || fail "spike not in effect after apply --for: $(prof0)"

# show: readable, parameters per direction, short; -j stays JSON.
"$NETCHAOS" show --backend dpdk --control "$SOCK" >"$T/show.txt" || fail "show --backend dpdk"
lines=$(wc -l <"$T/show.txt")
cat "$T/show.txt"
((lines <= 16)) || fail "show --backend dpdk printed $lines lines"
grep -q 'delay: mean 80ms, jitter 10ms, distribution normal' "$T/show.txt" && grep -q 'loss: model random, p 1%' "$T/show.txt" && grep -q '^1to0: spike (ingress)' "$T/show.txt" &&
  grep -q '^lease: reverts in' "$T/show.txt" || fail "show lacks the parameters in effect or the lease"
"$NETCHAOS" show --backend dpdk --control "$SOCK" -j | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["lease"]["remaining_ms"] > 0' ||
  fail "show -j is not JSON with the lease"
pass "show --backend dpdk: $lines lines with the parameters per direction; -j is JSON"

for ((i = 0; i < 80; i++)); do [[ $(prof0) == "base (egress)" ]] && break; sleep 0.1; done
[[ $(prof0) == "base (egress)" ]] || fail "the lease did not revert to the previous profile: $(prof0)"
ctl ask '{"cmd":"stats"}' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["directions"]["1to0"]["profile"]=="passthrough" and j["lease"] is None' ||
  fail "after the lease: 1to0 not back to passthrough, or the lease still listed"
pass "apply --for 2s on the forwarder: reverted to 'base' by the forwarder after the controller had exited"

# --- SIGTERM with a client that sent but never reads ---------------------------------------------
hostile=$((hostile + 1))
python3 "$T/ctl.py" hold-flooder "$SOCK" "$T/ready" &
HP=$!
nc_defer "kill $HP"
for ((i = 0; i < 100; i++)); do [[ -f $T/ready ]] && break; sleep 0.1; done
kill -TERM "$FPID"
wait_exit "$FPID" 15 || fail "SIGTERM did not stop the forwarder within 15 s while a client held unread replies"
[[ ! -e $SOCK ]] || fail "the forwarder left its socket behind"
pass "SIGTERM stopped the forwarder with a non-reading client attached; socket removed"
echo "hostile inputs tried: $hostile"
((failures == 0)) || exit 1
