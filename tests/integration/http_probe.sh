#!/usr/bin/env bash
# netchaos probe http://...: a fixed-rate grid of GETs through netchaos http-proxy to nginx.
# With request delay normal(30ms, 10ms) and 20% aborts as 429, 250 probes at 50/s:
#   - the status counts come back (429 share within 3 standard errors of 20%) and
#     status_ratio_max = { "429" = 0.01 } misses: exit 1, naming it;
#   - RTTs feed the metrics module: mean near 30 ms, jitter_1s near 10 ms;
#   - --no-reuse (a connection per request) answers too; an upstream-less port is 100% loss.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
http_requirements
http_nginx_up
cat >"$W/p.toml" <<'EOT'
[http]
seed = 3
[http.request_delay]
mean = "30ms"
jitter = "10ms"
distribution = "normal"
[http.abort]
p = "20%"
status = 429
EOT
printf '[thresholds]\nstatus_ratio_max = { "429" = 0.01, "5xx" = 0.001 }\n' >"$W/th.toml"
http_proxy_up p --profile "$W/p.toml"
tmp=$W
nc_expect 1 "\"name\":\"status_ratio_max.429\"" -- "$NETCHAOS" probe "http://$PROXY/" --rate 50 --duration 5s --thresholds "$W/th.toml" -j --quiet
summary=$(grep '"type":"summary"' "$NC_OUT")
read -r sent n429 n200 mean j1s < <(python3 -c '
import json, sys
s = json.loads(sys.argv[1]); h = s.get("http_status", {})
print(s["sent"], h.get("429", 0), h.get("200", 0), s["rtt_mean_ms"], s["jitter_1s_max_ms"])' "$summary")
echo "http probe: sent $sent, 429: $n429, 200: $n200, rtt mean $mean ms, worst jitter_1s $j1s ms"
nc_check "every probe answered 200 or 429" "$n429 + $n200 == $sent && $sent == 250"
nc_check "429 share within 3 standard errors of 20%" "($n429/$sent - 0.2)^2 <= (3 * sqrt(0.2 * 0.8 / $sent))^2"
nc_check "rtt mean near 30 ms" "$mean > 28 && $mean < 34"
# The worst of 5 one-second windows of 50 draws from sigma 10 ms (sd of a window's sd ~1 ms).
nc_check "jitter_1s from the same metrics module: near 10 ms" "$j1s > 8 && $j1s < 16"
nc_expect 0 "http (a connection per request)" -- "$NETCHAOS" probe "http://$PROXY/" --rate 20 --duration 1s --no-reuse --p99-rtt-max 200ms
dead=$(http_free_port)
nc_expect 1 "100% loss" -- "$NETCHAOS" probe "http://127.0.0.1:$dead/" --rate 20 --duration 1s
nc_expect 3 "--mode tcp with an http:// target" -- "$NETCHAOS" probe "http://$PROXY/" --mode tcp
pass "http probe: status counts, status_ratio_max, RTTs into jitter_1s"
