#!/bin/bash
# The netem cases of the kernel's tc selftests (tools/testing/selftests/tc-testing/tc-tests/
# qdiscs/netem.json): `netchaos import-tc` of each command, `netchaos apply` of the import,
# then `tc qdisc show` must match the selftest's expected pattern (its handle 1: is whatever
# handle the kernel gave netchaos's root netem). Clear restores the default qdisc.
# Then every shipped profile: the commands of `show-profile --as-tc` run by tc build the same
# qdiscs (tc -d qdisc show, handles aside) and filters (tc filter show) as `netchaos apply`,
# ingress IFB and class trees too.
source /nc/tests/lib.sh
enter_a "$@"
base=$(na tc qdisc show dev va)
n=0
while IFS='|' read -r id args pattern; do
  [[ -z $id || $id == \#* ]] && continue
  f=/tmp/import-$id.toml
  netchaos import-tc -o "$f" "tc qdisc add dev va handle 1: root netem $args" 2>/dev/null || fail "$id: import-tc '$args'"
  out=$(na netchaos apply "$f" --dev va 2>&1) || fail "$id: apply of the import of '$args': $out"
  shown=$(na tc qdisc show dev va)
  grep -Eq "qdisc netem [0-9a-f]+: root refcnt [0-9]+ $pattern" <<<"$shown" ||
    fail "$id: '$args': tc qdisc show '$shown' does not match '$pattern'"
  na netchaos clear --dev va >/dev/null || fail "$id: clear"
  [[ $(na tc qdisc show dev va) == "$base" ]] || fail "$id: clear did not restore '$base'"
  echo "ok: $T: $id: netem $args -> $(grep -o 'qdisc netem.*' <<<"$shown")"
  n=$((n+1))
done <<'CASES'
cb28||limit
a089|limit 200|limit 200
3449|delay 100ms|.*delay 100ms
3782|delay 100ms 10ms distribution normal corrupt 1%|.*delay 100ms  10ms corrupt 1%
2b82|delay 100ms 10ms distribution normal duplicate 1%|.*delay 100ms  10ms duplicate 1%
a932|delay 100ms 10ms distribution pareto loss 1%|.*delay 100ms  10ms loss 1%
e01a|delay 100ms 10ms distribution paretonormal loss state 1|.*delay 100ms  10ms loss state p13 1% p31 99% p32 0% p23 100% p14 0%
ba29|loss gemodel 1%|.*loss gemodel p 1%
0492|delay 100ms 10ms reorder 2% gap 100|.*reorder 2%
7862|rate 20000|.*rate 20Kbit
7235|slot 10 200 packets 2000 bytes 9000|.*slot 10ns 200ns packets 2000 bytes 9000
5439|slot distribution pareto 1ms 0.1ms|.*slot distribution 1ms 100us
5029|delay 100ms 10ms distribution normal loss 2%|.*loss 2%
3785|delay 200ms 10ms|.*delay 200ms  10ms
CASES
((n == 14)) || fail "only $n selftest cases ran"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
ok "$n tc selftest netem cases: apply of the import shows what the selftest expects"

# Every qdisc on va and its IFB, with the kernel-chosen handles, refcnts and htb's
# direct_packets_stat masked: that is a counter, not configuration, and an unclassified packet
# (IPv6 neighbour discovery or MLD on va, say) moves it between the two dumps.
tree() { na tc -d qdisc show | grep -v '^qdisc noqueue' | sed -E 's/ [0-9a-f]+: / H: /; s/parent [0-9a-f]+:[0-9a-f]*/parent P/; s/refcnt [0-9]+/refcnt N/; s/direct_packets_stat [0-9]+/direct_packets_stat N/' | sort; }
# The filters of va and its IFB (class trees' u32 filters, the ingress redirect), with the
# redirect action's index and reference counts masked (the kernel numbers actions itself).
filters() {
  for d in va ifb-va; do na tc filter show dev $d 2>/dev/null; na tc filter show dev $d ingress 2>/dev/null; done |
    sed -E 's/index [0-9]+ ref [0-9]+ bind [0-9]+/index N/'
}
undo_tc() {
  na tc qdisc del dev va root 2>/dev/null; na tc qdisc del dev va ingress 2>/dev/null
  na ip link del "$(netchaos show-profile "$1" --as-tc --dev va | sed -n 's/^ip link add \([^ ]*\) type ifb$/\1/p')" 2>/dev/null
  true
}
m=0 skipped=0
for f in "$P"/*.toml; do
  name=$(basename "$f" .toml)
  script=$(netchaos show-profile "$f" --as-tc --dev va 2>/dev/null) || { skipped=$((skipped+1)); continue; }
  if grep -q '^# note: .*\(samples\|copy\)' <<<"$script"; then skipped=$((skipped+1)); continue; fi   # tables tc cannot load by name
  na netchaos apply "$f" --dev va >/dev/null 2>&1 || { skipped=$((skipped+1)); continue; }
  want=$(tree; filters)
  na netchaos clear --dev va >/dev/null || fail "$name: clear"
  while read -r c; do
    [[ -z $c || $c == \#* ]] && continue
    # This tc (6.1) has no "seed" word, and its show does not print netem's seed either.
    na tc qdisc add dev lo root netem help 2>&1 | grep -q seed || c=$(sed -E 's/ seed [0-9]+//' <<<"$c")
    out=$(na $c 2>&1) || { undo_tc "$f"; fail "$name: '$c': $out"; }
  done <<<"$script"
  got=$(tree; filters)
  undo_tc "$f"
  [[ $(na tc qdisc show dev va) == "$base" ]] || fail "$name: the tc commands' qdiscs were not removed"
  if [[ $got != "$want" ]]; then
    diff <(echo "$want") <(echo "$got")
    fail "$name: tc of --as-tc builds other qdiscs or filters than netchaos apply (diff above: < apply, > tc)"
  fi
  echo "ok: $T: $name: --as-tc by tc == apply ($(grep -c '^qdisc' <<<"$got") qdiscs, $(grep -c '^filter' <<<"$got") filter lines)"
  m=$((m+1))
done
((m >= 10)) || fail "only $m profiles compared"
ok "$m shipped profiles: tc running show-profile --as-tc builds the qdiscs and filters netchaos apply builds ($skipped skipped: tables tc cannot load by name, or rejected)"
