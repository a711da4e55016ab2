#!/bin/bash
# Fixed delay and normal jitter, measured with ping through the netem on va's egress.
source /nc/tests/lib.sh
enter_a "$@"
read -r n m med sd <<<"$(rtts 20 0.05 | stats)"
echo "NOTE: $T: baseline RTT n=$n mean=${m}ms median=${med}ms sd=${sd}ms"
base=$m
f=$(profile fixed50 '[egress.delay]
mean = "50ms"')
na netchaos apply "$f" --dev va >/dev/null || fail "apply fixed"
read -r n m med sd iqr <<<"$(rtts 40 0.05 | stats)"
echo "BENCH: $T: fixed 50ms: n=$n mean=${m}ms median=${med}ms sd=${sd}ms iqr=${iqr}ms"
# Emulated (TCG) timers fire late: what a fixed delay adds beyond 50 ms is the overhead.
over=$(awk -v m="$med" 'BEGIN{print m - 50}')
check "fixed 50 ms: count" "$n >= 38"
check "fixed 50 ms: median" "$med >= 50 && $med <= 50 + $base + 6"
check "fixed 50 ms: mean" "$m >= 50 && $m <= 50 + $base + 10"
iqr_fixed=$iqr
check "fixed 50 ms: little spread (emulation noise)" "$iqr < 8"
f=$(profile normal40 '[egress.delay]
mean = "40ms"
jitter = "10ms"
distribution = "normal"')
na netchaos apply "$f" --dev va | grep -q switched || fail "second apply was not an in-place switch"
read -r n m med sd iqr <<<"$(rtts 150 0.03 | stats)"
echo "BENCH: $T: normal 40ms sigma 10ms: n=$n mean=${m}ms median=${med}ms sd=${sd}ms iqr=${iqr}ms (normal: iqr = 1.349 sigma = 13.5ms)"
check "normal: count" "$n >= 145"
check "normal: median within 6 ms (after the fixed-delay overhead $over ms; TCG timers are coarse)" "$med - $over >= 34 && $med - $over <= 46"
check "normal: mean within 6 ms (after the overhead) + 3" "$m - $over >= 34 && $m - $over <= 49"
check "normal: iqr near 13.5 ms (35%, plus the fixed-delay noise $iqr_fixed ms)" "$iqr >= 8.8 && $iqr <= 18.2 + $iqr_fixed"
na netchaos clear --dev va >/dev/null || fail "clear"
read -r n m med sd <<<"$(rtts 10 0.05 | stats)"
check "after clear: no delay" "$m < 10"
