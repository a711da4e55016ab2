#!/usr/bin/env bash
# Live switch of netchaos http-proxy under load: wrk -c 16 runs 5 s against the proxy while
# `netchaos apply --backend http` switches to a 100 ms request delay and back
# (`clear --backend http`). wrk reports no socket error (no connection dropped by a switch),
# and a curl sampler sees the new delay within one second of the apply returning.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
need_cmd wrk
http_requirements
http_nginx_up
SOCK=$W/http.sock
http_proxy_up live --control "$SOCK"
printf '[http.request_delay]\nmean = "100ms"\n' >"$W/slow.toml"

wrk -t 2 -c 16 -d 5s "http://$PROXY/" >"$W/wrk.out" 2>&1 &
WRK=$!
nc_defer "kill $WRK"
# The sampler: one request every ~20 ms, "start_s latency_ms" per line.
python3 - "$PROXY" "$W/samples" <<'PY' &
import http.client, sys, time
host, port = sys.argv[1].split(":")
end = time.time() + 4.5
with open(sys.argv[2], "w") as out:
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    while time.time() < end:
        t = time.time()
        c.request("GET", "/")
        c.getresponse().read()
        out.write(f"{t:.6f} {(time.time() - t) * 1000:.3f}\n")
        out.flush()
        time.sleep(0.02)
PY
SAMPLER=$!
sleep 1.5
"$NETCHAOS" apply "$W/slow.toml" --backend http --control "$SOCK" || fail "apply --backend http"
applied=$(date +%s.%N)
sleep 1.5
"$NETCHAOS" clear --backend http --control "$SOCK" || fail "clear --backend http"
cleared=$(date +%s.%N)
wait "$SAMPLER" || fail "the sampler failed (a request errored)"
wait "$WRK"
cat "$W/wrk.out"
grep -q "requests in" "$W/wrk.out" || fail "wrk did not finish"
if grep -q "Socket errors" "$W/wrk.out"; then fail "wrk saw socket errors across the switches"; fi
echo "ok: wrk saw no socket error"
first=$(awk -v a="$applied" '$1 >= a && $2 >= 99 {print $1 - a; exit}' "$W/samples")
back=$(awk -v c="$cleared" '$1 >= c && $2 < 50 {print $1 - c; exit}' "$W/samples")
echo "the 100 ms delay showed ${first:-never} s after apply; gone ${back:-never} s after clear"
nc_check "new delay within 1 s of the switch" "${first:-9} <= 1.0"
nc_check "back to no delay within 1 s of clear" "${back:-9} <= 1.0"
pass "live switch under wrk: no socket errors, delay on in ${first}s, off in ${back}s"
