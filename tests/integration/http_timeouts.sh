#!/usr/bin/env bash
# The proxy's deadlines (one timer per connection, src/http/proxy.cpp Stream): an upstream that
# accepts and never answers gets 504 with the reason after --upstream-timeout; a kept-alive
# client idle past --idle-timeout is closed. (Slowloris clients and --client-timeout:
# http_proxy_hostile.sh.)
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
http_requirements
# The silent upstream: accepts (the kernel does, backlog 64), reads nothing, answers nothing.
SILENT=$(http_free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
time.sleep(120)' "$SILENT" &
nc_defer "kill $!"
NGINX_PORT=$SILENT
for _ in $(seq 50); do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$SILENT" 2>/dev/null && break; sleep 0.1; done
http_proxy_up timeouts --upstream-timeout 1s --idle-timeout 1s --client-timeout 5s
start=$(date +%s.%N)
code=$(curl -s -o "$W/body" -w '%{http_code}' -m 10 "http://$PROXY/")
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
cat "$W/body"
[[ $code == 504 ]] || fail "silent upstream: status $code, expected 504"
grep -q "no response within the upstream timeout" "$W/body" || fail "504 without its reason"
nc_check "504 after the 1 s upstream timeout, not long after" "$took >= 0.9 && $took < 3.5"

# Idle keep-alive client: served once, then closed by the proxy after ~1 s of silence.
python3 - "$PROXY" <<'PY' || fail "idle keep-alive connection"
import socket, sys, time
host, port = sys.argv[1].split(":")
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(65536)
t = time.time()
s.settimeout(5)
while True:   # the 504 body, then EOF when the proxy closes the idle connection
    chunk = s.recv(65536)
    if not chunk:
        break
idle = time.time() - t
print(f"idle connection closed after {idle:.2f} s")
sys.exit(0 if 0.8 <= idle <= 4.0 else 1)
PY
pass "deadlines: 504 after ${took}s from a silent upstream, idle keep-alive closed"
