#!/usr/bin/env bash
# apply --for on the http backend: the proxy keeps the lease (not the apply process), `show
# --backend http` tells the profile in effect and when it reverts, and after the lease the
# proxy is back to what it had before: a 300 ms request delay gone, the earlier profile named.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
source "$NETCHAOS_SOURCE_DIR/tests/integration/http_common.bash"
http_requirements
http_nginx_up
SOCK=$W/http.sock
http_proxy_up lease --control "$SOCK"
printf 'name = "base"\n[http.response_delay]\nmean = "1ms"\n' >"$W/base.toml"
printf 'name = "slow"\n[http.request_delay]\nmean = "300ms"\n' >"$W/slow.toml"
latency_ms() { curl -s -o /dev/null -m 5 -w '%{time_total}' "http://$PROXY/" | awk '{printf "%d", $1 * 1000}'; }

"$NETCHAOS" apply "$W/base.toml" --backend http --control "$SOCK" || fail "apply base"
"$NETCHAOS" apply "$W/slow.toml" --backend http --control "$SOCK" --for 2s | tee "$W/apply.out" || fail "apply --for 2s"
grep -q "reverts to its previous profile after 2s" "$W/apply.out" || fail "apply --for did not say when it reverts"
"$NETCHAOS" show --backend http --control "$SOCK" | tee "$W/show1.out"
grep -q "profile slow" "$W/show1.out" || fail "show: the leased profile is not named"
grep -Eq "lease: reverts in [0-9.]+ s to base" "$W/show1.out" || fail "show: no lease line naming base"
during=$(latency_ms)
echo "latency during the lease: ${during} ms"
nc_check "the leased 300 ms delay is in effect" "$during >= 290"
# The lease ends 2 s after the apply; the proxy checks it every 100 ms.
for _ in $(seq 60); do
  "$NETCHAOS" show --backend http --control "$SOCK" -j >"$W/show2.json" || fail "show -j"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["profile"]=="base" and s["lease"] is None else 1)' "$W/show2.json" && break
  sleep 0.1
done
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["profile"]=="base" and s["lease"] is None else 1)' "$W/show2.json" ||
  fail "the lease did not revert to base within 6 s: $(cat "$W/show2.json")"
after=$(latency_ms)
echo "latency after the lease: ${after} ms"
nc_check "the delay is gone after the lease" "$after < 150"
# A bad lease is bad input, refused by the proxy with the reason.
set +e
"$NETCHAOS" apply "$W/slow.toml" --backend http --control "$SOCK" --for 0s 2>"$W/bad.err"; rc=$?
set -e
cat "$W/bad.err"
[[ $rc == 3 ]] || fail "apply --for 0s: exit $rc, expected 3"
pass "http lease: slow for 2 s (${during} ms), then base again (${after} ms)"
