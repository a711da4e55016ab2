#!/usr/bin/env bash
# Malformed frames from cli (raw AF_PACKET): runt (20 B), non-IP ethertype, 9000 B jumbo
# (oversize for --max-frame 1518) and a truncated IPv4 header, 10 of each. With
# --malformed drop the forwarder counts and drops the three malformed kinds and forwards
# the non-IP frames; with --malformed forward all 40 reach srv. It never crashes and keeps
# forwarding. af_packet PMD and MTU 9000 so the jumbo reaches the forwarder at all.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
cat > "$T/send.py" <<'PY'
import socket, struct, sys
dev = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
dst, src = b"\xff" * 6, b"\x02\x00\x00\x00\x00\x77"   # marker source MAC
def ipv4(total, declared):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, declared, 1, 0, 64, 17, 0, bytes([10, 213, 0, 1]), bytes([10, 213, 0, 2]))
    return h + b"\0" * (total - 20)
frames = {
    "runt": dst + src + b"\x08\x00" + b"\x45" * 6,                 # 20 bytes, IPv4 type, no IP header
    "non_ip": dst + src + b"\x88\xb5" + b"netchaos" * 6,          # local experimental ethertype
    "jumbo": dst + src + b"\x08\x00" + ipv4(9000 - 14, 9000 - 14),
    "truncated": dst + src + b"\x08\x00" + ipv4(66, 1000),        # says 1000 bytes, has 66
}
for _ in range(10):
    for f in frames.values():
        s.send(f)
PY
cat > "$T/recv.py" <<'PY'
import collections, os, socket, sys, time
# Counts marked frames until 1 s after the sender left the file sys.argv[2] (a loaded
# machine can take seconds to start a Python process, so no fixed window).
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(0.2)
open(sys.argv[3], "w").write("ready\n")
seen = collections.Counter()
end = time.time() + 120
while time.time() < end:
    if os.path.exists(sys.argv[2]) and end > time.time() + 1:
        end = time.time() + 1
    try:
        f = s.recv(65536)
    except socket.timeout:
        continue
    if f[6:12] != b"\x02\x00\x00\x00\x00\x77":
        continue
    kind = {20: "runt", 9000: "jumbo", 80: "truncated"}.get(len(f), "non_ip" if f[12:14] == b"\x88\xb5" else "other")
    seen[kind] += 1
print(" ".join(f"{k}={seen[k]}" for k in ("runt", "non_ip", "jumbo", "truncated", "other")))
PY

run() {  # run POLICY -> sets got (srv's counts) and the forwarder's counters
  P=nm${1:0:2}$$
  fwd_up --pmd af_packet --mtu 9000 -- --malformed "$1" --pool 8192
  fwd_ctl '{"cmd":"reset"}' >/dev/null
  rm -f "$T/ready" "$T/sent"
  ip netns exec "$SRV" python3 "$T/recv.py" "$P-s0" "$T/sent" "$T/ready" > "$T/got.$1" &
  local rpid=$!
  nc_defer "kill $rpid"
  for _ in $(seq 300); do [[ -s $T/ready ]] && break; sleep 0.1; done
  [[ -s $T/ready ]] || fail "receiver in srv did not start"
  ip netns exec "$CLI" python3 "$T/send.py" "$P-c0" || fail "sending crafted frames"
  touch "$T/sent"
  wait "$rpid"
  got=$(cat "$T/got.$1")
  fwd_alive "$FWD_PID" || fail "forwarder died on malformed frames: $(tail -5 "$FWD_LOG")"
  ip netns exec "$CLI" ping -c 3 -i 0.1 -q 10.213.0.2 >/dev/null || fail "forwarder stopped forwarding after malformed frames"
  read -r runt trunc over mdrop nonip <<<"$(fwd_stat "s['directions']['0to1']['malformed_runt'], s['directions']['0to1']['malformed_truncated'], s['directions']['0to1']['malformed_oversize'], s['directions']['0to1']['malformed_dropped'], s['directions']['0to1']['non_ip']" | tr -d '(),')"
  echo "--malformed $1: srv got [$got]; forwarder tx=$(fwd_stat "s['directions']['0to1']['tx']") runt=$runt truncated=$trunc oversize=$over dropped=$mdrop non_ip=$nonip"
  nc_check "$1: 10 runts counted" "$runt == 10"
  nc_check "$1: 10 truncated counted" "$trunc == 10"
  nc_check "$1: 10 oversize counted" "$over == 10"
  nc_check "$1: non-IP frames counted (ping's own frames are IP)" "$nonip == 10"
  "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh" down --prefix "$P"
}

run drop
[[ $got == "runt=0 non_ip=10 jumbo=0 truncated=0 other=0" ]] || fail "drop: srv should see only the 10 non-IP frames, got [$got]"
nc_check "drop: 30 malformed dropped" "$mdrop == 30"
run forward
[[ $got == "runt=10 non_ip=10 jumbo=10 truncated=10 other=0" ]] || fail "forward: srv should see all 40 frames, got [$got]"
nc_check "forward: nothing dropped" "$mdrop == 0"
pass "malformed frames counted, dropped or forwarded as configured, no crash"
