#!/bin/bash
# Issue 18 item 2 on the kernel backend: a profile applied by hand to va is detected when a
# run starts. Without --takeover the run refuses (exit 4, naming it) and leaves it alone;
# with --takeover the run clears it before its steady state (which then measures the plain
# path, not the 40 ms) and restores it at the end: the same qdiscs (tc -d) and the same
# profile read back (show --profile), also when it was applied with --ingress (IFB). One
# under an `apply --for` watchdog reverts by itself and is not taken over.
source /nc/tests/lib.sh
enter_a "$@"
nb netchaos reflect --listen 10.0.0.2:7777 >/tmp/reflect.log 2>&1 &
for ((i = 0; i < 50; i++)); do nb ss -Hlun 2>/dev/null | grep -q 7777 && break; sleep 0.1; done
hand=$(profile hand '[egress.delay]
mean = "40ms"
[egress.loss]
p = "1%"')
exp=/tmp/takeover-exp.toml
cat >"$exp" <<'EOT'
name = "takeover"
baseline = "1s"
[target]
backend = "netem"
dev = "va"
[probe]
target = "10.0.0.2:7777"
rate = 50
timeout = "1s"
[[phase]]
duration = "2s"
[phase.egress.delay]
mean = "10ms"
EOT
state() { na tc -d qdisc show | sed -E 's/refcnt [0-9]+/refcnt N/'; na tc -d filter show dev va ingress; na netchaos show --dev va --profile 2>&1; }

for how in egress ingress; do
  flag=; [[ $how == ingress ]] && flag=--ingress
  na netchaos apply "$hand" --dev va $flag >/dev/null || fail "$how: apply by hand"
  before=$(state)
  out=$(na netchaos run "$exp" --quiet 2>&1); rc=$?
  ((rc == 4)) || fail "$how: run without --takeover exited $rc: $out"
  grep -qF 'netchaos profile "hand" is already in effect on va' <<<"$out" || fail "$how: refusal does not name it: $out"
  grep -qF -- '--takeover' <<<"$out" || fail "$how: refusal does not mention --takeover: $out"
  [[ $(state) == "$before" ]] || fail "$how: the refused run changed the device"
  ok "$how: run refuses (exit 4) the profile in effect, naming it, and leaves it alone"
  out=$(na netchaos run "$exp" --takeover --json /tmp/takeover.json 2>&1); rc=$?
  ((rc <= 2)) || fail "$how: run --takeover exited $rc: $out"
  grep -qF -- '--takeover: netchaos profile "hand" is already in effect on va: cleared now, restored at the end' <<<"$out" ||
    fail "$how: no takeover line: $out"
  grep -qF 'restored what was in effect before' <<<"$out" || fail "$how: no restore line: $out"
  after=$(state)
  if [[ $after != "$before" ]]; then diff <(echo "$before") <(echo "$after"); fail "$how: not restored exactly (diff above)"; fi
  # The first p50 of the report is the steady state's: the by-hand 40 ms was cleared first.
  p50=$(sed -n 's/.*"p50_ms": \([0-9.]*\).*/\1/p' /tmp/takeover.json | head -n1)
  check "$how: steady state p50 ${p50} ms without the by-hand 40 ms" "$p50 < 30"
  ok "$how: run --takeover cleared the profile first and restored it exactly (exit $rc)"
  na netchaos clear --dev va >/dev/null || fail "$how: clear"
done

na netchaos apply "$hand" --dev va --for 60s >/dev/null || fail "apply --for"
out=$(na netchaos run "$exp" --takeover --quiet 2>&1); rc=$?
((rc == 4)) || fail "apply --for: run --takeover exited $rc: $out"
grep -qF 'reverts it by itself' <<<"$out" || fail "apply --for: $out"
na netchaos clear --dev va >/dev/null || fail "clear after apply --for"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
ok "a profile under an apply --for watchdog is not taken over (exit 4)"
