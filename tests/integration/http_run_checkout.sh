#!/usr/bin/env bash
# netchaos run with [target] backend = "http" and [probe] mode = "http": the shipped
# profiles/experiments/checkout-429.toml (phases shortened to 4 s) against netchaos http-proxy
# --control in front of nginx. The proxy switches profiles live through its control socket;
# the surge phase misses status_ratio_max.429 and p99_drift_max (exit 1), the steady and
# recovered phases pass, and rollback leaves the proxy injecting nothing.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
http_requirements
http_nginx_up
echo ok >"$W/nginx/html/checkout" && chmod a+r "$W/nginx/html/checkout"
SOCK=$W/http.sock
http_proxy_up ctl --control "$SOCK"
sed -e "s|/run/netchaos/http.sock|$SOCK|; s|http://127.0.0.1:8080/|http://$PROXY/|; s|duration = \"8s\"|duration = \"4s\"|; s|baseline = \"3s\"|baseline = \"2s\"|" \
  "$NETCHAOS_SOURCE_DIR/profiles/experiments/checkout-429.toml" >"$W/exp.toml"
grep -q "$SOCK" "$W/exp.toml" && grep -q "http://$PROXY/checkout" "$W/exp.toml" || fail "could not point the experiment at this bench"
tmp=$W
nc_expect 1 "missed: surge: status_ratio_max.429" -- "$NETCHAOS" run "$W/exp.toml" --json "$W/report.json"
nc_has "missed: surge: p99_drift_max"
nc_lacks "missed: steady:"
nc_lacks "missed: recovered:"
python3 - "$W/report.json" <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
text = json.dumps(r)
assert "status_ratio_max.429" in text, "the report names the 429 threshold"
print("ok: the JSON report carries the 429 threshold")
PY
stats=$(python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"cmd\":\"stats\"}\n")
print(s.recv(4096).decode())' "$SOCK")
echo "proxy after the run: $stats"
grep -q '"profile":"passthrough"' <<<"$stats" || fail "rollback did not clear the proxy"
grep -q '"upstream_errors":0' <<<"$stats" || fail "upstream errors during the run"
pass "run with backend http: 429 surge and p99 drift caught, rollback cleared the proxy"
