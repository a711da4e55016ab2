#!/bin/bash
# apply --dry-run on a kernel that has netem. For shipped profiles (root netem, egress+ingress
# through the IFB, [match] htb tree, 4-state loss, slots): the dry run changes nothing (tc's
# view of qdiscs, classes, filters and links, and the ledger, are the same before and after),
# and the commands it prints for its requests, run by tc/ip, build the tree `netchaos apply`
# builds (same handles, same parameters). Then a phase switch: the dry run of a second profile
# on a device netchaos holds is one replace per netem, with the words of a fresh apply.
source /nc/tests/lib.sh
enter_a "$@"
# Everything tc shows of va, its IFB and the links; action indexes, refcnts and htb's
# direct_packets_stat (a counter an unclassified packet, IPv6 ND or MLD on va, moves) masked.
state() {
  {
    na tc -d qdisc show
    for d in va ifb-va; do na tc -d class show dev $d; na tc -d filter show dev $d; done
    na tc -d filter show dev va ingress
    na ip -o link show | awk '{print $2}' | sort
  } 2>/dev/null | sed -E 's/refcnt [0-9]+/refcnt N/; s/index [0-9]+ ref/index I ref/; s/direct_packets_stat [0-9]+/direct_packets_stat N/'
}
# The commands of a dry run's text: "N. COMMAND", the comment after '#' dropped.
commands() { sed -n 's/^[0-9]\{1,\}\. //p' | sed 's/  # .*//'; }
# This tc (6.1) has no "seed" word.
has_seed=0; na tc qdisc add dev lo root netem help 2>&1 | grep -q seed && has_seed=1
run_commands() {
  local c out
  while read -r c; do
    [[ -z $c ]] && continue
    ((has_seed)) || c=$(sed -E 's/ seed [0-9]+//' <<<"$c")
    out=$(na $c 2>&1) || fail "$1: '$c': $out"
  done <<<"$2"
}
undo_tc() { na tc qdisc del dev va root 2>/dev/null; na tc qdisc del dev va ingress 2>/dev/null; na ip link del ifb-va 2>/dev/null; true; }
same() {   # same WHAT WANT GOT
  [[ $2 == "$3" ]] && return 0
  diff <(echo "$2") <(echo "$3")
  fail "$1 (diff above)"
}

base=$(state)
n=0
for name in ops-50ms-30ms-normal 3g flow-match lossy-4state slot-wifi-aggregation reorder; do
  f=$P/$name.toml
  dry=$(na netchaos apply "$f" --dev va --dry-run 2>&1) || fail "$name: dry run: $dry"
  same "$name: the dry run changed the kernel's state" "$base" "$(state)"
  (( $(ledger_count) == 0 )) || fail "$name: the dry run wrote a ledger"
  cmds=$(commands <<<"$dry")
  k=$(grep -c . <<<"$cmds")
  grep -q "^dry run: apply $name on va: $k netlink request" <<<"$dry" || fail "$name: header does not count $k requests"
  run_commands "$name" "$cmds"
  by_tc=$(state)
  undo_tc
  same "$name: tc's qdiscs were not removed" "$base" "$(state)"
  out=$(na netchaos apply "$f" --dev va 2>&1) || fail "$name: apply: $out"
  by_apply=$(state)
  na netchaos clear --dev va >/dev/null || fail "$name: clear"
  same "$name: the dry run's commands, run by tc, build another tree than apply (< tc, > apply)" "$by_tc" "$by_apply"
  same "$name: clear" "$base" "$(state)"
  echo "ok: $T: $name: dry run changed nothing; its $k commands by tc == apply ($(grep -c '^qdisc' <<<"$by_apply") qdiscs)"
  n=$((n+1))
done

# Phase switch: same layout, one replace request per netem (3g: root and IFB), with the netem
# words of a fresh apply of the same profile. (tc cannot send the neutral values a replace
# carries for what its words leave out, so on the live netem the words alone would keep 3g's
# correlation and rate: the switch is compared with tc building the profile afresh.)
p2=$(profile dry-switch '[egress.delay]
mean = "20ms"
jitter = "5ms"
[ingress.loss]
p = "2%"')
fresh=$(na netchaos apply "$p2" --dev va --dry-run 2>&1) || fail "switch: fresh dry run: $fresh"
run_commands fresh "$(commands <<<"$fresh")"
by_tc=$(state)
undo_tc
na netchaos apply "$P/3g.toml" --dev va >/dev/null || fail "switch: apply 3g"
held=$(state)
dry=$(na netchaos apply "$p2" --dev va --dry-run 2>&1) || fail "switch: dry run: $dry"
same "switch: the dry run changed the kernel's state" "$held" "$(state)"
grep -q "^dry run: switch dry-switch on va: 2 netlink requests" <<<"$dry" || fail "switch: $(head -1 <<<"$dry")"
words() { commands | sed -n 's/^tc qdisc [a-z]* dev \([a-z-]*\) root handle 6e65: netem /\1 /p'; }
[[ $(words <<<"$dry") == "$(words <<<"$fresh")" && $(words <<<"$dry" | wc -l) == 2 ]] ||
  fail "switch: the replaces' netem words differ from a fresh apply's: $(words <<<"$dry") / $(words <<<"$fresh")"
grep -q "neutral values for what the words leave out" <<<"$dry" || fail "switch: no note on the neutral values"
out=$(na netchaos apply "$p2" --dev va 2>&1) || fail "switch: apply: $out"
same "switch: the phase switch != tc building the profile afresh (< tc, > switch)" "$by_tc" "$(state)"
na netchaos clear --dev va >/dev/null || fail "switch: clear"
same "switch: clear" "$base" "$(state)"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
ok "$n profiles: dry run changes nothing and its commands build apply's tree; a phase switch's dry run is 2 replaces with a fresh apply's netem words, and the switch builds that tree"
