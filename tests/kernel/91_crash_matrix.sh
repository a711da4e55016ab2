#!/bin/bash
# Crash matrix: SIGKILL after each kernel change of a multi-step apply (the
# NETCHAOS_CRASH_AFTER_STEP hook), then `clear`: on an htb tree with classes, a leaf qdisc and
# u32 filters, and on a clsact with filters, the tc -j -d dumps equal the originals every time.
source /nc/tests/lib.sh
source /nc/tests/tree.sh
enter_a "$@"
n=0
# steps per profile: 3g = root netem, IFB, netem on it, ingress qdisc (none on clsact: kept),
# redirect filter; flow-match = htb root, class, netem, u32 filter; two-classes = htb root,
# class + netem twice, a u32 filter per class and IP version (4)
for d in c_htb c_clsact; do
  tree_case $d
  before=$(tree_dump $d)
  profs="3g flow-match"
  # The class tree's 9 steps on the htb tree only (a second class tree on clsact's untouched
  # root would add ~10 s of TCG time and no other restore path).
  [[ $d == c_htb ]] && profs+=" two-classes"
  for prof in $profs; do
    steps=4
    [[ $prof == 3g && $d != c_clsact ]] && steps=5
    [[ $prof == two-classes ]] && steps=9
    for ((k = 1; k <= steps; k++)); do
      NETCHAOS_CRASH_AFTER_STEP=$k netchaos apply $P/$prof.toml --dev $d >/dev/null 2>&1
      rc=$?
      [[ $rc == 137 ]] || fail "$d: $prof: crash after step $k: exit $rc, want 137 (SIGKILL)"
      (( $(ledger_count) == 1 )) || fail "$d: $prof: crash after step $k left no ledger"
      out=$(netchaos clear --dev $d 2>&1) || fail "$d: $prof: clear after crash at step $k: $out"
      [[ $out != *warning* ]] || fail "$d: $prof: clear after crash at step $k warned: $out"
      same_tree $d "$before" "$prof, SIGKILL after step $k, clear"
      n=$((n + 1))
    done
    # One step past the last: no crash, the apply completes.
    NETCHAOS_CRASH_AFTER_STEP=$((steps + 1)) netchaos apply $P/$prof.toml --dev $d >/dev/null 2>&1 ||
      fail "$d: $prof has more than $steps steps (the matrix misses a crash point)"
    netchaos clear --dev $d >/dev/null || fail "$d: clear"
    same_tree $d "$before" "$prof complete + clear"
  done
  ok "$d: SIGKILL after each step of $profs, then clear: tree as before"
  ip link del $d
done
echo "NOTE: $T: crash points survived: $n"
# SIGKILL in the middle of a restore (after the root, after classes, after the leaf qdisc,
# after the first filter of the htb tree's 7 requests): the next clear finishes it.
tree_case c_htb
before=$(tree_dump c_htb)
m=0
for k in 1 3 5 6; do
  netchaos apply $P/flow-match.toml --dev c_htb >/dev/null || fail "apply before restore crash $k"
  NETCHAOS_CRASH_AFTER_RESTORE=$k netchaos clear --dev c_htb >/dev/null 2>&1
  rc=$?
  [[ $rc == 137 ]] || fail "restore crash after request $k: exit $rc, want 137"
  out=$(netchaos clear --dev c_htb 2>&1) || fail "clear after a restore crash at $k: $out"
  [[ $out != *warning* ]] || fail "clear after a restore crash at $k warned: $out"
  same_tree c_htb "$before" "SIGKILL after restore request $k, clear again"
  m=$((m + 1))
done
ip link del c_htb
ok "c_htb: SIGKILL during the restore, then clear again: tree as before"
echo "NOTE: $T: crash points survived during restore: $m"
