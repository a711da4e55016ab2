#!/bin/bash
# [match]: UDP from port 9000 is delayed 80 ms; UDP from port 9001 and ICMP are not.
# The netem sits on the reflector's egress (vb): netchaos probe takes its send timestamp in
# the driver (SO_TIMESTAMPING TX_SOFTWARE), after the sender's own qdiscs, so a delay on
# va's egress would be invisible to it.
source /nc/tests/lib.sh
enter_a "$@"
nb netchaos reflect --listen 10.0.0.2:9000 >/dev/null 2>&1 &
nb netchaos reflect --listen 10.0.0.2:9001 >/dev/null 2>&1 &
f=$(profile m9000 '[egress.delay]
mean = "80ms"
[match]
src = "10.0.0.2/32"
protocol = "udp"
sport = 9000')
nb netchaos apply "$f" --dev vb >/dev/null || fail "apply"
nb tc filter show dev vb | grep -q 'flowid 6e63:1' || fail "no u32 filter"
p50() { na netchaos probe "10.0.0.2:$1" --rate 20 --duration 2s -j -q 2>/dev/null | grep '"type":"summary"' | grep -o '"p50_ms":[0-9.]*' | cut -d: -f2; }
a=$(p50 9000); b=$(p50 9001)
read -r n m med sd iqr <<<"$(rtts 10 0.05 | stats)"
echo "BENCH: $T: [match] udp sport 9000 delayed 80ms: p50 port 9000 ${a}ms, port 9001 ${b}ms, icmp median ${med}ms"
[[ ${a%.*} -ge 80 ]] 2>/dev/null || { nb tc -s filter show dev vb; nb tc -s qdisc show dev vb; }
check "matched flow delayed" "${a:-0} >= 80 && ${a:-0} <= 100"
check "other port untouched" "${b:-999} < 15"
check "icmp untouched" "$med < 15"
nb netchaos clear --dev vb >/dev/null || fail "clear"
nb tc qdisc show dev vb | grep -q htb && fail "htb left behind"
exit 0
