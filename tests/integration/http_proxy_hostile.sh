#!/usr/bin/env bash
# netchaos http-proxy: header control and bad input (issue 12), nginx on loopback upstream.
#   - X-Jitter: 150ms from an allowed source adds 150 ms +- 2 ms at the median; from a source
#     outside --header-allow (127.0.0.2) it changes nothing; X-Fault-Abort likewise; the
#     headers never reach nginx (its access log records $http_x_jitter); --max-active-faults
#     caps header faults in progress;
#   - pipelined requests answered in order, a chunked request body forwarded whole;
#   - malformed request 400, header over the limit 431, body over the limit 413, a bad
#     X-Jitter 400, upstream down 502 with the reason; slowloris clients closed after
#     --client-timeout while others are served; no file descriptor left open afterwards.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
http_requirements
http_nginx_up
curl -s -m 2 -o /dev/null --interface 127.0.0.2 "http://127.0.0.1:$NGINX_PORT/" || skip "cannot send from 127.0.0.2 (loopback without 127.0.0.0/8?)"

http_proxy_up ctl --header-control --header-allow 127.0.0.1/32 --max-active-faults 2 \
  --client-timeout 1s --max-header-bytes 4096 --max-body-bytes 3000000
CTL_PID=$PROXY_PID
fds_before=$(ls "/proc/$CTL_PID/fd" | wc -l)

# ---- header control: timing
http_times "$W/plain" 1 40 "http://$PROXY/"
http_times "$W/jit" 1 40 "http://$PROXY/" -H "X-Jitter: 150ms"
http_times "$W/other" 1 40 "http://$PROXY/" -H "X-Jitter: 150ms" --interface 127.0.0.2
http_times "$W/other_plain" 1 40 "http://$PROXY/" --interface 127.0.0.2
added=$(awk -v a="$(http_median "$W/jit")" -v b="$(http_median "$W/plain")" 'BEGIN{print a - b}')
other=$(awk -v a="$(http_median "$W/other")" -v b="$(http_median "$W/other_plain")" 'BEGIN{print a - b}')
echo "X-Jitter: 150ms adds $added ms from 127.0.0.1 (allowed), $other ms from 127.0.0.2 (not allowed)"
nc_check "allowed source: 150 ms +- 2 ms at the median" "$added >= 148 && $added <= 152"
nc_check "source not allowed: nothing added" "$other > -2 && $other < 2"
nc_check "X-Jitter answered 200" "$(grep -c '^200 ' "$W/jit") == 40 && $(grep -c '^200 ' "$W/other") == 40"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Fault-Abort: 429' "http://$PROXY/")
nc_check "X-Fault-Abort: 429 from an allowed source" "$code == 429"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Fault-Abort: 429' --interface 127.0.0.2 "http://$PROXY/")
nc_check "X-Fault-Abort from a source not allowed is ignored" "$code == 200"
curl -s -H 'X-Jitter: soon' "http://$PROXY/" -o "$W/bad" -w '%{http_code}\n' >"$W/badcode"
nc_check "a malformed X-Jitter is a 400" "$(cat "$W/badcode") == 400"
grep -q 'X-Jitter: expected a duration' "$W/bad" || { cat "$W/bad"; fail "400 without the reason"; }
# The cap: 5 requests at once asking for 1 s; only 2 may be faults at the same time.
pids=()
for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -H 'X-Jitter: 1s' "http://$PROXY/" >"$W/cap.$i" & pids+=($!); done
wait "${pids[@]}"
slow=$(cat "$W"/cap.* | awk '$1 >= 0.95' | wc -l)
echo "max-active-faults 2: $slow of 5 concurrent X-Jitter: 1s requests were delayed"
nc_check "at most 2 header faults at once, and the cap is not 0" "$slow >= 1 && $slow <= 2"
nc_check "nginx saw requests" "$(wc -l <"$W/nginx/access.log") >= 160"
if grep -v 'jitter=- abort=-$' "$W/nginx/access.log" | grep -q .; then
  grep -v 'jitter=- abort=-$' "$W/nginx/access.log" | head -3
  fail "a control header reached nginx"
fi
echo "ok: no X-Jitter / X-Fault-Abort in nginx's access log ($(wc -l <"$W/nginx/access.log") requests)"

# A 2 MB POST: curl sends "Expect: 100-continue" and waits up to 1 s for it; the proxy answers
# at once, and nginx gets the whole body with its length.
head -c 2000000 /dev/zero >"$W/post.bin"
read -r code t < <(curl -s -o "$W/post.out" -w '%{http_code} %{time_total}\n' --data-binary @"$W/post.bin" "http://$PROXY/len")
nc_check "a 2 MB POST with Expect: 100-continue, no 1 s wait" "$code == 200 && $t < 0.9"
grep -q 'len=2000000' "$W/post.out" || { cat "$W/post.out"; fail "nginx did not get the whole body"; }

# ---- protocol and bad input, over raw sockets
python3 - "${PROXY%:*}" "${PROXY#*:}" <<'PY' || fail "raw-socket checks failed"
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])

def conn():
    s = socket.create_connection((host, port), timeout=5)
    return s

def read_all(s, want=None, limit=5.0):
    data, end = b"", time.time() + limit
    s.settimeout(limit)
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        data += d
        if want and want(data):
            break
    return data

def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        sys.exit(1)

# Pipelining: five requests in one write, five answers in order.
s = conn()
s.sendall(b"".join(b"GET /?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5)))
data = read_all(s, lambda d: d.count(b"HTTP/1.1 200") >= 5)
check(data.count(b"HTTP/1.1 200 OK") == 5, "5 pipelined requests, 5 answers")
s.close()

# Chunked request body: nginx gets it whole, with its length.
s = conn()
body = b"x" * 5000
chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:1234], body[1234:])) + b"0\r\n\r\n"
s.sendall(b"POST /len HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks)
data = read_all(s)
check(b"len=5000" in data, "chunked request body forwarded whole (nginx saw Content-Length 5000)")
s.close()

def one(raw, expect, what):
    s = conn()
    s.sendall(raw)
    data = read_all(s)
    s.close()
    check(data.startswith(expect), what + " -> " + repr(data.split(b"\r\n")[0]))
    return data

d = one(b"GARBAGE\r\n\r\n", b"HTTP/1.1 400", "malformed request line")
check(b"malformed request" in d, "400 says why")
one(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n", b"HTTP/1.1 431", "header over --max-header-bytes")
one(b"POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 3000001\r\n\r\n" + b"y" * 1000, b"HTTP/1.1 413", "body over --max-body-bytes")
one(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"HTTP/1.1 400", "negative Content-Length")

# Slowloris: 50 clients trickle a header; each is closed after --client-timeout (1 s) while
# a normal client is still served at once.
slow = []
for i in range(50):
    c = conn()
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    slow.append(c)
t = time.time()
s = conn()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check(read_all(s).startswith(b"HTTP/1.1 200"), "served during the slowloris")
check(time.time() - t < 0.9, "served at once during the slowloris (%.3f s)" % (time.time() - t))
s.close()
for c in slow:
    try:
        c.sendall(b"a")
    except OSError:
        pass
closed = 0
end = time.time() + 6
for c in slow:
    c.settimeout(max(0.1, end - time.time()))
    try:
        if c.recv(100) == b"":
            closed += 1
    except (socket.timeout, ConnectionResetError):
        closed += isinstance(sys.exc_info()[1], ConnectionResetError)
    c.close()
check(closed == 50, "all 50 slowloris connections closed by the proxy (%d)" % closed)
PY

# ---- upstream down
dead=$(http_free_port)
"$NETCHAOS" http-proxy --listen 127.0.0.1:0 --upstream "127.0.0.1:$dead" >"$W/down.log" 2>&1 &
DOWN_PID=$!
nc_defer "kill $DOWN_PID"
for _ in $(seq 100); do port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$W/down.log" 2>/dev/null); [[ -n $port ]] && break; sleep 0.05; done
curl -s -o "$W/502" -w '%{http_code}\n' "http://127.0.0.1:$port/" >"$W/502code"
nc_check "upstream down: 502" "$(cat "$W/502code") == 502"
grep -q "upstream 127.0.0.1:$dead unreachable: Connection refused" "$W/502" || { cat "$W/502"; fail "502 without the reason"; }
echo "ok: 502 says: $(cat "$W/502")"

# ---- no descriptor left behind (the ctl proxy: every client above has gone)
for _ in $(seq 100); do
  fds_after=$(ls "/proc/$CTL_PID/fd" | wc -l)
  [[ $fds_after == "$fds_before" ]] && break
  sleep 0.1
done
nc_check "file descriptors back to where they started ($fds_before)" "$fds_after == $fds_before"
pass "http proxy: header control (+$added ms allowed, $other ms not), bad input, slowloris, 502, no fd leak"
