# Sourced by 9x_*.sh: pre-existing trees netchaos must rebuild exactly, and their dumps.
# Each case is its own IFB device in namespace a (up: the kernel attaches its default qdiscs
# only to a running device; IPv6 off: no ND packet moves a counter such as htb's
# direct_packets_stat between the two dumps).
tree_dump() {   # tree_dump DEV: tc -j -d dumps of qdiscs, classes and filters, and the links
  local d=$1 c cmds
  # One tc process for all dumps (process start-up dominates under TCG); -force goes on past
  # "no ingress/egress hook" on a device without clsact.
  cmds="qdisc show dev $d\nclass show dev $d\nfilter show dev $d\n"
  for c in $(tc class show dev "$d" | awk '$1=="class"{print $3}'); do cmds+="filter show dev $d parent $c\n"; done
  cmds+="filter show dev $d ingress\nfilter show dev $d egress\n"
  printf "$cmds" | tc -force -j -d -batch - 2>&1
  ip -o link show | awk '{print $2}' | sort
}
# tree_case NAME: creates device NAME with its tree. Names: c_default c_mq c_fq_codel c_tbf
# c_prio c_htb c_clsact
tree_case() {
  local d=$1
  echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
  case $d in
    c_mq) ip link add "$d" numtxqueues 4 numrxqueues 4 type ifb ;;
    *) ip link add "$d" type ifb ;;
  esac || fail "ifb $d"
  ip link set "$d" up
  case $d in
    c_default|c_mq) ;;
    c_fq_codel) tc qdisc add dev $d root handle 3: fq_codel limit 2000 target 4ms interval 80ms ecn ;;
    c_tbf) tc qdisc add dev $d root handle 4: tbf rate 20mbit burst 20kb latency 40ms ;;
    c_prio)
      tc qdisc add dev $d root handle 5: prio bands 4 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1 &&
      tc qdisc add dev $d parent 5:1 handle 51: tbf rate 1mbit burst 10kb latency 50ms &&
      tc filter add dev $d parent 5: protocol ip prio 2 u32 match ip dst 10.5.0.0/16 flowid 5:2 ;;
    c_htb)
      tc qdisc add dev $d root handle 1: htb default 20 r2q 5 &&
      tc class add dev $d parent 1: classid 1:1 htb rate 100mbit ceil 100mbit &&
      tc class add dev $d parent 1:1 classid 1:10 htb rate 30mbit ceil 100mbit prio 1 &&
      tc class add dev $d parent 1:1 classid 1:20 htb rate 70mbit ceil 100mbit prio 2 &&
      tc qdisc add dev $d parent 1:10 handle 10: fq_codel &&
      tc filter add dev $d parent 1: protocol ip prio 1 u32 match ip dst 10.1.0.0/16 flowid 1:10 &&
      tc filter add dev $d parent 1: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 53 0xffff flowid 1:20 ;;
    c_clsact)
      tc qdisc add dev $d clsact &&
      tc filter add dev $d ingress pref 10 protocol ip u32 match ip src 10.9.0.0/16 action mirred egress mirror dev lo &&
      tc filter add dev $d egress pref 20 protocol all matchall action mirred egress mirror dev lo ;;
    *) fail "no case $d" ;;
  esac || fail "$d: setting up the tree"
}
# same_tree DEV BEFORE WHAT: the dump equals BEFORE, and no ledger is left
same_tree() {
  local now; now=$(tree_dump "$1")
  if [[ $now != "$2" ]]; then
    echo "--- before"; echo "$2"; echo "--- after $3"; echo "$now"
    fail "$1: $3: tree differs"
  fi
  (( $(ledger_count) == 0 )) || fail "$1: $3: ledger left behind"
}
