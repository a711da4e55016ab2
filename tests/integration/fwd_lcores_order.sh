#!/usr/bin/env bash
# netchaos-fwd --lcores 2 (issue 14 item 2): no reordering within a flow. net_pcap ports with
# two rx and two tx queues each (rx_pcap twice, tx_pcap twice): each input queue holds several
# UDP flows interleaved, every frame numbered within its flow (a flow in one queue's file, as
# RSS keeps it on one queue; net_pcap has no RSS). Both directions are delayed by
# normal(1 ms, 0.5 ms): the frames of a queue arrive within a few ms, so jitter that did not
# keep order would reorder most flows. With reorder = false every frame arrives, no flow is
# reordered and each flow leaves by the tx queue of its rx queue (one lcore). The same run
# with reorder = true reorders flows: proof the check sees reordering when there is some.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_lcores.bash" || exit 1
lc_requirements
gen=$NETCHAOS_SOURCE_DIR/tests/integration/fwd_lcores_order.py

# run ORDER: forward the input pcaps under normal(1ms, 0.5ms) with reorder = ORDER; the check's
# JSON into $tmp/ORDER/check.json (not in a $(...) subshell: cleanups and fail must reach this shell)
run() {
  local d=$tmp/$1; mkdir -p "$d"
  python3 "$gen" write "$d" || fail "writing the input pcaps"
  printf 'name = "lcores-order"\n[egress]\nlimit = 100000\n[egress.delay]\nmean = "1ms"\njitter = "500us"\ndistribution = "normal"\nreorder = %s\n[ingress]\nlimit = 100000\n[ingress.delay]\nmean = "1ms"\njitter = "500us"\ndistribution = "normal"\nreorder = %s\n' "$1" "$1" >"$d/p.toml"
  local v=()
  for p in 0 1; do v+=("net_pcap$p,rx_pcap=$d/in${p}_q0.pcap,rx_pcap=$d/in${p}_q1.pcap,tx_pcap=$d/out${p}_q0.pcap,tx_pcap=$d/out${p}_q1.pcap"); done
  lc_start "$d/fwd.log" "${v[@]}" -- --profile "$d/p.toml" --on-exit drain --pool 32768
  local want; want=$(python3 -c "import sys; sys.path.insert(0, '${gen%/*}'); import fwd_lcores_order as g; print(sum(g.FLOWS.values()) * 2 * g.PER_FLOW)")
  # Every frame through (tx) before the stop: a drain at exit would be fine too, but this
  # also catches drops, which must be none (limit and pool hold every frame in flight).
  for _ in $(seq 300); do
    lc_stats >"$d/s.json"
    python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['directions']; sys.exit(0 if sum(s[x]['tx'] for x in s) >= $want else 1)" "$d/s.json" && break
    sleep 0.1
  done
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); d=s['directions']; print('  reorder = $1: (rx, tx, dropped)', {x: (d[x]['rx'], d[x]['tx'], d[x]['dropped_queue_full'] + d[x]['dropped_fault']) for x in d}, 'lanes', s['lanes'])" "$d/s.json"
  lc_stop || skip "the forwarder could not be stopped cleanly while other processes spin on its cpus: the output pcaps are incomplete"
  python3 "$gen" check "$d" >"$d/check.json" || fail "checking the output pcaps"
}
run false
j=$(cat "$tmp/false/check.json")
echo "reorder = false: $j"
run true
j2=$(cat "$tmp/true/check.json")
echo "reorder = true:  $j2"
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
nc_check "reorder = false: every frame of every flow arrived" "$(field "$j" received) == $(field "$j" expected) && $(field "$j" flows) == $(field "$j" expected_flows)"
nc_check "reorder = false: no flow reordered" "$(field "$j" reordered) == 0"
[[ $(field "$j" wrong_queue) == "[]" ]] || fail "flows left by another lcore's queue: $(field "$j" wrong_queue)"
echo "ok: each flow left by the tx queue of the lcore that received it"
nc_check "reorder = true: the same input is reordered (the check sees it)" "$(field "$j2" flows_reordered) >= 7"
pass "--lcores 2 keeps every flow's order with reorder = false"
