#!/bin/bash
# Restore matrix: on each pre-existing tree (kernel default pfifo_fast and mq, fq_codel, tbf,
# prio with a child and a filter, htb with classes, a leaf qdisc and u32 filters, clsact with
# filters), `apply` then `clear` leaves the tc -j -d dumps of qdiscs, classes and filters
# exactly as they were. Profile 3g on each (root netem, IFB, ingress redirect: on clsact a
# filter at netchaos's pref); flow-match ([match]: htb 6e63: replacing the root) on htb here,
# and on htb and clsact in 91_crash_matrix (guest time: process start-up is slow).
source /nc/tests/lib.sh
source /nc/tests/tree.sh
enter_a "$@"
n=0
for d in c_default c_mq c_fq_codel c_tbf c_prio c_htb c_clsact; do
  tree_case $d
  before=$(tree_dump $d)
  profs=(3g)
  [[ $d == c_htb ]] && profs+=(flow-match)
  for prof in "${profs[@]}"; do
    out=$(netchaos apply $P/$prof.toml --dev $d 2>&1) || fail "$d: apply $prof: $out"
    tc qdisc show dev $d | grep -q -E 'netem|htb 6e63:' || fail "$d: $prof not applied: $(tc qdisc show dev $d)"
    out=$(netchaos clear --dev $d 2>&1) || fail "$d: clear after $prof: $out"
    [[ $out != *warning* ]] || fail "$d: clear after $prof warned: $out"
    same_tree $d "$before" "apply $prof + clear"
    n=$((n + 1))
  done
  ok "$d: $(tc qdisc show dev $d | head -n1 | awk '{print $2, $3}') tree restored after ${profs[*]}"
  ip link del $d
done
echo "NOTE: $T: trees restored: $n (7 trees; 3g on each, flow-match on htb)"
