#!/usr/bin/env bash
# The reflector as a target (issue 11 item 6): no default listen address, no wall clock in
# replies unless asked, a reply never larger than its request, a per-source rate limit, and
# an optional shared key (HMAC on request and reply) that the probe supports too. Requests
# come from a Python client that can forge anything, in a namespace pair.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/integration/probe_env.bash" || exit 1
# NC_KEEP_GOING=1 reports every failure instead of stopping at the first.
if [[ -n ${NC_KEEP_GOING:-} ]]; then fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }; fi
failures=0
hostile=0

# --- no wildcard default ---------------------------------------------------------------------
hostile=$((hostile + 1))
timeout 3 ip netns exec "$NSB" "$NETCHAOS" reflect 2>"$TMP/nolisten.err"; rc=$?
[[ $rc == 3 ]] || fail "reflect without --listen: exit $rc (124 = it served on a default address), expected 3"
grep -q -- "--listen" "$TMP/nolisten.err" || fail "no reason: $(cat "$TMP/nolisten.err")"
pass "reflect without --listen: exit 3"

cat >"$TMP/cli.py" <<'PY'
import hashlib, hmac, json, socket, struct, sys, time
mode, target = sys.argv[1], sys.argv[2]
host, port = target.rsplit(":", 1)
key = open(sys.argv[3], "rb").read().rstrip(b"\n") if len(sys.argv) > 3 and sys.argv[3] != "-" else None
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, int(port)))
def req(seq, size=64, sign_with=None, kind=0, flags=0):
    h = struct.pack("!IBBBBQQQQQ", 0x4e435052, 1, kind, flags, 0, 0x5eed, seq, time.monotonic_ns(), 0, 0)
    b = bytearray(h + b"\0" * (size - len(h)))
    if sign_with is not None:
        b[6] |= 1
        b[48:80] = b"\0" * 32
        b[48:80] = hmac.new(sign_with, bytes(b), hashlib.sha256).digest()
    return bytes(b)
def collect(wait=0.5):
    out, end = [], time.time() + wait
    s.settimeout(0.05)
    while time.time() < end:
        try:
            out.append(s.recv(4096))
        except socket.timeout:
            pass
    return out
def fields(r):
    return struct.unpack("!IBBBBQQQQQ", r[:48])
if mode == "shape":
    # Sizes 48..1472: each reply is exactly as large as its request; no wall clock inside.
    worst = 0
    for i, size in enumerate([48, 64, 200, 1000, 1472]):
        s.send(req(i, size))
        got = collect(0.3)
        assert len(got) == 1, ("size", size, len(got))
        assert len(got[0]) == size, ("reply size", len(got[0]), "request", size)
        f = fields(got[0])
        srv_rx, srv_tx = f[8], f[9]
        now = time.time_ns()
        wall = abs(srv_rx - now) < 3_600_000_000_000 or abs(srv_tx - now) < 3_600_000_000_000
        print("size %d: reply %d B, srv_rx %d srv_tx %d (%s)" % (size, len(got[0]), srv_rx, srv_tx,
              "wall clock!" if wall else "no wall clock"))
        if sys.argv[4] == "private":
            assert srv_rx == 0 and srv_tx < 1_000_000_000 and not wall, "reply carries a clock"
        else:
            assert wall, "--wall-clock asked for the wall clock"
    # Oversize (truncated on read), replies, bad magic: no answer.
    for bad in [req(90, 2000), req(91, 64, kind=1), b"\0" * 64, req(92, 47)[:47]]:
        s.send(bad)
    assert collect(0.3) == [], "answered garbage"
    print("garbage: 4 datagrams, no reply")
elif mode == "flood":
    n = int(sys.argv[4])
    t0 = time.time()
    for i in range(n):
        s.send(req(i))
    got = collect(0.5)
    print("flood: %d requests, %d replies" % (n, len(got)))
    print(len(got))
elif mode == "keyed":
    good = req(1, 96, sign_with=key)
    s.send(good)
    r = collect(0.3)
    assert len(r) == 1 and len(r[0]) == 96, "signed request not answered"
    b = bytearray(r[0]); mac = bytes(b[48:80]); b[48:80] = b"\0" * 32
    assert b[6] & 1 and hmac.compare_digest(mac, hmac.new(key, bytes(b), hashlib.sha256).digest()), "reply not signed with the key"
    print("keyed: signed request answered, reply's HMAC verifies")
    for name, d in [("unsigned", req(2, 96)), ("wrong key", req(3, 96, sign_with=b"not the key")),
                    ("tampered", bytes(good[:20]) + b"\x01" + bytes(good[21:])), ("flag without room", req(4, 60, flags=1))]:
        s.send(d)
        assert collect(0.3) == [], name + " request answered"
        print("keyed: %s request dropped" % name)
PY
cli() { ip netns exec "$NSA" python3 "$TMP/cli.py" "$@"; }

# --- reply shape and clock ---------------------------------------------------------------------
start_reflector --rate-limit 0
hostile=$((hostile + 9))
cli shape "$IPB:7777" - private || fail "reply shape or clock"
stop_reflector
: >"$TMP/reflect.log"
start_reflector --rate-limit 0 --wall-clock
cli shape "$IPB:7777" - wall 2>&1 | tail -1 || fail "--wall-clock"
stop_reflector
pass "replies: the request's size, srv_rx 0 and srv_tx = processing time unless --wall-clock; garbage unanswered"

# --- per-source rate limit ----------------------------------------------------------------------
: >"$TMP/reflect.log"
start_reflector --rate-limit 100 --burst 20
hostile=$((hostile + 1))
got=$(cli flood "$IPB:7777" - 3000 | tail -1) || fail "flood client"
echo "3000 requests at once, --rate-limit 100 --burst 20: $got replies"
# 20 at once plus 100/s for however long the send loop took (under a second here, allow 2 s).
((got >= 20 && got <= 220)) || fail "rate limit: $got replies to 3000 requests"
stop_reflector
grep -q "rate_limited [1-9]" "$TMP/reflect.log" || fail "no rate_limited count: $(tail -1 "$TMP/reflect.log")"
pass "per-source rate limit: $got replies to 3000 requests ($(grep -o 'rate_limited [0-9]*' "$TMP/reflect.log"))"

# --- shared key ----------------------------------------------------------------------------------
printf 'a shared secret of the test\n' >"$TMP/key"
chmod 600 "$TMP/key"
cp "$TMP/key" "$TMP/key644"
chmod 644 "$TMP/key644"
hostile=$((hostile + 1))
timeout 3 ip netns exec "$NSB" "$NETCHAOS" reflect --listen "$IPB:7777" --key-file "$TMP/key644" 2>"$TMP/k.err"; rc=$?
[[ $rc == 3 ]] || fail "a key file readable by others: exit $rc, expected 3"
grep -q "secret" "$TMP/k.err" && fail "the error quotes the key"
: >"$TMP/reflect.log"
start_reflector --key-file "$TMP/key"
grep -q "HMAC key required" "$TMP/reflect.log" || fail "start-up line does not say a key is required"
hostile=$((hostile + 4))
cli keyed "$IPB:7777" "$TMP/key" || fail "keyed reflector"
probe_a "$IPB:7777" -r 100 -d 1s -t 300ms --key-file "$TMP/key" -j >"$TMP/pk.jsonl" 2>"$TMP/pk.err" || fail "probe with the key: $(cat "$TMP/pk.err")"
python3 -c 'import json,sys; s=[json.loads(l) for l in open(sys.argv[1])][-1]; assert s["received"]==s["sent"]==100, s' "$TMP/pk.jsonl" ||
  fail "probe with the key lost replies"
hostile=$((hostile + 1))
probe_a "$IPB:7777" -r 100 -d 1s -t 300ms -j >"$TMP/pn.jsonl" 2>/dev/null
python3 -c 'import json,sys; s=[json.loads(l) for l in open(sys.argv[1])][-1]; assert s["received"]==0 and s["sent"]==100, s' "$TMP/pn.jsonl" ||
  fail "a probe without the key was answered"
stop_reflector
grep -q "unauthenticated [1-9]" "$TMP/reflect.log" || fail "no unauthenticated count: $(tail -1 "$TMP/reflect.log")"
: >"$TMP/reflect.log"
start_reflector
hostile=$((hostile + 1))
probe_a "$IPB:7777" -r 100 -d 1s -t 300ms --key-file "$TMP/key" -j >"$TMP/pu.jsonl" 2>/dev/null
python3 -c 'import json,sys; s=[json.loads(l) for l in open(sys.argv[1])][-1]; assert s["received"]==0, s' "$TMP/pu.jsonl" ||
  fail "a keyed probe accepted unsigned replies"
stop_reflector
pass "shared key: 100/100 with the key; 0/100 without it; a keyed probe refuses an unkeyed reflector's replies"
echo "hostile inputs tried: $hostile"
((failures == 0)) || exit 1
