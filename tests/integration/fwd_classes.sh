#!/usr/bin/env bash
# Per-flow classes on netchaos-fwd (issue 14): UDP to port 9000 at 30 ms, to port 9001 at 5 ms,
# everything else (port 2112) at 0 ms, over IPv4 and IPv6 at the same time. Six irtt clients
# run concurrently, so the unmatched flow is the base path of the same moment:
#  - irtt: median RTT(class) - median RTT(unmatched) within 3% of the class's delay, plus the
#    forwarder's own p90 release lateness over the same run (about 1 us on an idle host; on a
#    host at load 10 the lcore is descheduled for ms and releases late by what it reports);
#    the upper bound also allows irtt's own wake-up, irtt_wake below;
#  - irtt: median RTT(port 9000) - median RTT(port 9001) within 3% of 25 ms (+ lateness): irtt
#    is asleep when either delayed reply comes, so its wake-up cancels out of this difference;
#  - unmatched: its median within 0.5 ms of the base measured before the profile (3% of 0 ms is
#    no tolerance; 0.5 ms is a tenth of the smallest class delay, so a misclassified flow fails);
#  - the forwarder's own per-class stats: held mean within 1% of 30 ms / 5 ms, unmatched < 50 us,
#    and every class saw packets of both families.
# Medians, not means: one VM stall on a loaded 2-core box moves a mean, not a median of ~500.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
source "$NETCHAOS_SOURCE_DIR/tests/integration/fwd_common.bash" || exit 1
fwd_requirements
fwd_tmp
fwd_up

binds=10.213.0.2:9000,10.213.0.2:9001,10.213.0.2:2112,[fd00:213::2]:9000,[fd00:213::2]:9001,[fd00:213::2]:2112
ip netns exec "$SRV" irtt server -i 0 -b "$binds" >"$T/irtt-server.log" 2>&1 &
nc_defer "kill $!"
# Ready when an IPv6 client gets through (the server binds all six at once).
for _ in $(seq 50); do
  ip netns exec "$CLI" irtt client -Q -n -i 10ms -d 50ms "[fd00:213::2]:2112" >/dev/null 2>&1 && break
  sleep 0.2
done

# median_ms OUT.json: median RTT of the packets that came back, in ms.
median_ms() {
  python3 -c 'import json,sys,statistics
j=json.load(open(sys.argv[1]))
r=[t["delay"]["rtt"] for t in j.get("round_trips") or [] if t["lost"]=="false"]
print("%.4f %d" % (statistics.median(r)/1e6, len(r)) if r else "-1 0")' "$1"
}
run_clients() {   # run_clients TAG DURATION TARGET...: concurrent irtt clients, JSON to $T/TAG-N.json
  local tag=$1 dur=$2 i=0 pids=() t
  shift 2
  for t in "$@"; do
    ip netns exec "$CLI" irtt client -Q -i 10ms -d "$dur" -o "$T/$tag-$i.json" "$t" &
    pids+=($!)
    i=$((i + 1))
  done
  for t in "${pids[@]}"; do wait "$t" || fail "irtt client failed ($tag)"; done
}

run_clients base 3s 10.213.0.2:2112 "[fd00:213::2]:2112"
read -r base4 _ <<<"$(median_ms "$T/base-0.json")"
read -r base6 _ <<<"$(median_ms "$T/base-1.json")"
echo "base median RTT: IPv4 $base4 ms, IPv6 $base6 ms"

cat >"$T/classes.toml" <<'TOML'
name = "two-classes"
[[class]]
name = "slow"
match = { protocol = "udp", dport = 9000 }
[class.egress.delay]
mean = "30ms"
[[class]]
name = "fast"
match = { protocol = "udp", dport = 9001 }
[class.egress.delay]
mean = "5ms"
TOML
fwd_load "$T/classes.toml"
fwd_ctl '{"cmd":"reset"}' >/dev/null
run_clients cls 6s 10.213.0.2:9000 10.213.0.2:9001 10.213.0.2:2112 "[fd00:213::2]:9000" "[fd00:213::2]:9001" "[fd00:213::2]:2112"

# irtt's client is awake when an unmatched reply comes (tens of us after its send) and asleep
# when a delayed one does, so a delayed median reads late by its wake-up: 80-170 us in
# fwd_delay.sh's runs, 194 us in a CI run where it failed a 5 ms class by 39 us. Allowed on the
# upper bound against the unmatched flow only; the lower bound and the 9000-9001 difference
# have no such term, and the forwarder's own per-class means are checked to 1% below.
irtt_wake=0.3
late=$(fwd_stat "s['directions']['0to1']['release_error_ns']['p90'] / 1e6")
stalls=$(fwd_stat "s['stalls']['count']")
echo "forwarder release lateness p90 over the run: $late ms (added to the 3% tolerance); loop stalls: $stalls"
for fam in 4 6; do
  o=0; [[ $fam == 6 ]] && o=3
  read -r slow n1 <<<"$(median_ms "$T/cls-$o.json")"
  read -r fast n2 <<<"$(median_ms "$T/cls-$((o + 1)).json")"
  read -r none n3 <<<"$(median_ms "$T/cls-$((o + 2)).json")"
  base=$base4; [[ $fam == 6 ]] && base=$base6
  echo "IPv$fam medians: port 9000 $slow ms (n=$n1), port 9001 $fast ms (n=$n2), unmatched $none ms (n=$n3), base $base ms"
  # A forwarder the host does not let run (another busy-polling DPDK process on its core, qemu)
  # releases tens of ms late and irtt gives up on the replies: nothing can be measured. Only
  # when the forwarder itself counted stalls and late releases is that the host's doing, and
  # the test skips, saying so; lost replies without them fail the check below.
  if awk "BEGIN{exit !(($n1 < 450 || $n2 < 450 || $n3 < 450) && $late > 1 && $stalls > 0)}"; then
    skip "the host starved the forwarder: replies lost, releases p90 $late ms late, $stalls loop stalls (load: $(cut -d' ' -f1-3 /proc/loadavg)); rerun on a quieter host"
  fi
  nc_check "IPv$fam: enough RTTs" "$n1 >= 450 && $n2 >= 450 && $n3 >= 450"
  nc_check "IPv$fam: port 9000 adds 30 ms within 3% (+ lateness, irtt wake-up)" "($slow - $none) > 30 * 0.97 && ($slow - $none) < 30 * 1.03 + $late + $irtt_wake"
  nc_check "IPv$fam: port 9001 adds 5 ms within 3% (+ lateness, irtt wake-up)" "($fast - $none) > 5 * 0.97 && ($fast - $none) < 5 * 1.03 + $late + $irtt_wake"
  nc_check "IPv$fam: port 9000 is 25 ms behind port 9001 within 3% (+ lateness)" "($slow - $fast) > 25 * 0.97 - $late && ($slow - $fast) < 25 * 1.03 + $late"
  nc_check "IPv$fam: unmatched adds nothing (within 0.5 ms of the base)" "($none - $base) < 0.5 && ($none - $base) > -0.5"
done

fwd_stat "s['directions']['0to1']['classes']" >"$T/cls.txt"
cat "$T/cls.txt"
read -r u_rx u_us s_rx s_us f_rx f_us <<<"$(fwd_stat "' '.join('%d %.1f' % (c['rx'], c['held_mean_us']) for c in s['directions']['0to1']['classes'])")"
nc_check "forwarder: unmatched held < 50 us" "$u_us < 50 && $u_rx >= 900"
nc_check "forwarder: slow held 30 ms within 1%" "$s_us > 30000 * 0.99 && $s_us < 30000 * 1.01 && $s_rx >= 900"
nc_check "forwarder: fast held 5 ms within 1%" "$f_us > 5000 * 0.99 && $f_us < 5000 * 1.01 && $f_rx >= 900"
"$NETCHAOS" show --backend dpdk --control "$SOCK" >"$T/show.txt" || fail "show --backend dpdk"
grep -E '^  class (unmatched|slow|fast): rx [0-9]+' "$T/show.txt" | wc -l | grep -qx 3 || fail "show lacks the per-class lines: $(cat "$T/show.txt")"
grep -E '^  class slow: .*held mean 30 ms' "$T/show.txt" >/dev/null || fail "show: class slow not held 30 ms: $(cat "$T/show.txt")"
[[ $(fwd_stat "s['directions']['1to0']['profile']") == passthrough ]] || fail "1to0 should pass (no [ingress], no class ingress)"
pass "per-flow classes on netchaos-fwd: 30 ms / 5 ms / 0 ms by UDP port, IPv4 and IPv6, irtt and per-class stats agree"
