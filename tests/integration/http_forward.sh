#!/usr/bin/env bash
# netchaos http-proxy --forward (a proxy for HTTP_PROXY): absolute-form requests and CONNECT
# tunnels to nginx on loopback, each with the profile's request delay (a tunnel gets its faults
# at CONNECT); destinations outside --forward-allow get 403; an origin-form request gets 400;
# an injected 429 replaces the tunnel's 200; descriptors are back to where they started.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
http_requirements
http_nginx_up
printf '[http.request_delay]\nmean = "50ms"\n' >"$W/delay.toml"
"$NETCHAOS" http-proxy --listen 127.0.0.1:0 --forward --forward-allow 127.0.0.1/32 --profile "$W/delay.toml" \
  --control "$W/ctl.sock" >"$W/fwd.log" 2>&1 &
FWD=$!
nc_defer "kill $FWD; wait $FWD"
for _ in $(seq 100); do port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$W/fwd.log" 2>/dev/null); [[ -n $port ]] && break; sleep 0.05; done
[[ -n $port ]] || { cat "$W/fwd.log"; fail "forward proxy did not start"; }
P=127.0.0.1:$port
fds_before=$(ls "/proc/$FWD/fd" | wc -l)
URL=http://127.0.0.1:$NGINX_PORT/
read -r code t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -x "http://$P" "$URL")
nc_check "absolute-form GET through the forward proxy, delayed" "$code == 200 && $t >= 0.050"
read -r code t < <(HTTP_PROXY=http://$P http_proxy=http://$P curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$URL")
nc_check "the same with http_proxy in the environment" "$code == 200 && $t >= 0.050"
read -r code t tc < <(curl -s -o /dev/null -p -w '%{http_code} %{time_total} %{time_appconnect}\n' -x "http://$P" "$URL")
nc_check "CONNECT tunnel, delayed at CONNECT" "$code == 200 && $t >= 0.050"
# Three requests on one tunnel: only the CONNECT waits.
curl -s -p -x "http://$P" -o /dev/null -o /dev/null -o /dev/null -w '%{time_starttransfer} %{num_connects}\n' "$URL" "$URL" "$URL" >"$W/tun"
nc_check "later requests in the tunnel are not delayed again" "$(sed -n 2p "$W/tun" | cut -d' ' -f1) < 0.045 && $(sed -n 3p "$W/tun" | cut -d' ' -f1) < 0.045"
code=$(curl -s -o "$W/403" -w '%{http_code}' -x "http://$P" "http://127.0.0.2:$NGINX_PORT/")
nc_check "a destination outside --forward-allow is 403" "$code == 403"
grep -q "not inside --forward-allow" "$W/403" || fail "403 without the reason"
curl -s -p -x "http://$P" -o /dev/null "http://127.0.0.2:$NGINX_PORT/" && fail "CONNECT to a destination not allowed succeeded"
echo "ok: CONNECT to a destination not allowed refused"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$P/")
nc_check "an origin-form request to a forward proxy is 400" "$code == 400"
printf '[http.abort]\np = "100%%"\nstatus = 429\n' >"$W/abort.toml"
"$NETCHAOS" apply "$W/abort.toml" --backend http --control "$W/ctl.sock" >/dev/null || fail "apply --backend http"
curl -s -p -x "http://$P" -o /dev/null "$URL" 2>/dev/null && fail "CONNECT succeeded under a 100% abort"
code=$(curl -s -o /dev/null -w '%{http_code}' -x "http://$P" "$URL")
nc_check "an injected 429 in forward mode" "$code == 429"
for _ in $(seq 50); do fds_after=$(ls "/proc/$FWD/fd" | wc -l); [[ $fds_after == "$fds_before" ]] && break; sleep 0.1; done
nc_check "file descriptors back to where they started ($fds_before)" "$fds_after == $fds_before"

# run with [target] proxy: the command under chaos gets HTTP_PROXY and goes through the proxy.
"$NETCHAOS" clear --backend http --control "$W/ctl.sock" >/dev/null || fail "clear --backend http"
cat >"$W/exp.toml" <<EOT
name = "forward"
baseline = "1s"
fidelity = "off"
[target]
backend = "http"
control = "$W/ctl.sock"
proxy = "http://$P"
[probe]
mode = "http"
target = "$URL"
rate = 10
[[phase]]
name = "slow"
duration = "2s"
[phase.http.request_delay]
mean = "100ms"
EOT
tmp=$W
nc_expect 0 "command: 200" -- "$NETCHAOS" run "$W/exp.toml" -- sh -c "sleep 1.2; curl -s -o /dev/null -w 'command: %{http_code} %{time_total} end' $URL; echo"
line=$(grep -o 'command: [0-9]* [0-9.]* end' "$NC_OUT") || { cat "$NC_OUT"; fail "the command's curl line is missing"; }
echo "$line"
nc_check "COMMAND went through the forward proxy (HTTP_PROXY) and got the phase's 100 ms" "$(cut -d' ' -f2 <<<"$line") == 200 && $(cut -d' ' -f3 <<<"$line") >= 0.1"
pass "forward mode: absolute URLs, CONNECT tunnels, --forward-allow, abort, HTTP_PROXY for run's command"
