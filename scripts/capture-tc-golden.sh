#!/bin/bash
# Capture what iproute2's tc sends for `tc qdisc add|replace|change dev X root netem ARGS...`, one golden file
# per option combination, for the encoder's byte-for-byte tests (tests/unit/netem/).
#
# This kernel may have no sch_netem: the kernel then rejects the message, but strace has already
# recorded the bytes tc sent. The device lives in a private namespace removed at exit.
#
# usage: scripts/capture-tc-golden.sh [OUTDIR [CASES]]   (default tests/golden/netem and the
#        list below; CASES is a file of "name|netem arguments" lines, as tests/golden/tc-import/
#        cases.list; needs root, strace and iproute2's tc)
# Output: OUTDIR/<case>.txt with
#   tc:      the tc version that produced it
#   verb:    add | replace | change
#   args:    the netem arguments
#   flags:   nlmsg_flags of the RTM_NEWQDISC message
#   tcmsg:   hex of the struct tcmsg
#   kind:    TCA_KIND string
#   options: hex of the TCA_OPTIONS payload (tc_netem_qopt + TCA_NETEM_* attributes)
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,17p' "$0"; exit 0 ;; esac

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/tests/golden/netem}
for c in strace tc ip; do
    command -v "$c" >/dev/null || { echo "capture-tc-golden: needs $c" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "capture-tc-golden: needs root (network namespace)" >&2; exit 1; }

ns=nc-gold-$$
dev=ncg$$
dev=${dev:0:12}
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$ns"
ip -n "$ns" link add "$dev" type veth peer name "${dev}p"

# name | netem arguments. Keep names stable: tests look them up.
cases=(
    "delay|delay 10ms"
    "delay_jitter|delay 100ms 10ms"
    "delay_jitter_corr|delay 100ms 10ms 25%"
    "delay_us|delay 1001us 3us"
    "delay_long|delay 200s 1s"
    "delay_normal|delay 100ms 20ms distribution normal"
    "delay_pareto|delay 100ms 20ms distribution pareto"
    "delay_paretonormal|delay 100ms 20ms distribution paretonormal"
    "delay_normal_corr|delay 50ms 30ms 25% distribution normal"
    "loss_random|loss 1%"
    "loss_random_corr|loss random 0.3% 25%"
    "loss_tiny|loss 0.0001%"
    "loss_third|loss 33.333%"
    "loss_all|loss 100%"
    "loss_gemodel_p|loss gemodel 1%"
    "loss_gemodel_pr|loss gemodel 5% 20%"
    "loss_gemodel_full|loss gemodel 1% 30% 70% 0.1%"
    "loss_state_p13|loss state 1%"
    "loss_state_full|loss state 1% 30% 2% 80% 0.5%"
    "ecn_random|loss 2% ecn"
    "ecn_gemodel|loss gemodel 1% 30% ecn"
    "duplicate|duplicate 1%"
    "duplicate_corr|duplicate 2% 50%"
    "corrupt|corrupt 0.1%"
    "corrupt_corr|corrupt 0.5% 25%"
    "reorder|delay 10ms reorder 25%"
    "reorder_corr_gap|delay 10ms reorder 25% 50% gap 5"
    "rate|rate 100mbit"
    "rate_kbit|rate 64kbit"
    "rate_overheads|rate 10mbit 20 100 -4"
    "rate_neg_overhead|rate 1mbit -10"
    "rate_below_2p32|rate 34gbit"
    "rate64_exact_2p32|rate 34359738368bit"
    "rate64|rate 40gbit"
    "slot_min|slot 2ms"
    "slot_minmax|slot 1ms 5ms"
    "slot_packets_bytes|slot 1ms 5ms packets 10 bytes 64000"
    "slot_dist_normal|slot distribution normal 2ms 1ms"
    "slot_dist_pareto_limits|slot distribution pareto 2ms 1ms packets 5 bytes 1500"
    "limit|limit 5000 delay 1ms"
    # reorder = false without a profile rate: netem's rate extension at 8 Tbit/s (encode.hpp)
    "keep_order_delay|delay 10ms rate 8tbit"
    "keep_order_jitter|delay 100ms 10ms rate 8tbit"
    "keep_order_normal|delay 40ms 10ms distribution normal rate 8tbit"
    "reorder_normal|delay 40ms 10ms distribution normal"
    "combo_wan|delay 50ms 10ms 25% distribution normal loss random 0.5% 25% duplicate 0.1% corrupt 0.05% reorder 1% 50% gap 3 rate 10mbit limit 10000"
    "combo_ge_rate_slot|delay 20ms loss gemodel 2% 25% 90% 0% ecn rate 1gbit slot 500us 2ms packets 20"
    "combo_state_dup|loss state 2% 40% 1% 70% 0.2% duplicate 1% 10% corrupt 0.1%"
    "combo_two_tables|delay 30ms 10ms distribution paretonormal slot distribution normal 1ms 500us"
    "combo_mobile|delay 80ms 40ms 50% distribution pareto loss gemodel 3% 10% rate 5mbit 14 limit 3000"
    "combo_all_attrs|delay 10ms 5ms 10% distribution normal reorder 5% gap 2 loss gemodel 1% ecn corrupt 0.1% 5% slot distribution pareto 1ms 1ms rate 40gbit"
    "combo_state_ecn_corrupt|delay 5ms loss state 1% 50% ecn corrupt 1% duplicate 0.5% reorder 10%"
    # The verb comes from the name prefix: replace_* and change_* record the other flag sets.
    "replace_delay|delay 20ms 5ms"
    "replace_keep_order|delay 20ms 5ms rate 8tbit"
    "change_loss|loss 5%"
)

if [[ -n ${2:-} ]]; then
    mapfile -t cases < <(grep -v '^[[:space:]]*\(#\|$\)' "$2")
fi

# hex helpers on a plain hex string (2 chars per byte); u16 little endian at byte offset
u16le() { local h=$1 o=$2; echo $((16#${h:o*2+2:2}${h:o*2:2})); }

mkdir -p "$out"
version=$(tc -V)
n=0
for c in "${cases[@]}"; do
    name=${c%%|*}
    args=${c#*|}
    verb=add
    case $name in replace_*) verb=replace ;; change_*) verb=change ;; esac
    # shellcheck disable=SC2086  # word splitting of args is the point
    trace=$(strace -f -xx -X raw -e trace=sendmsg -s 1000000 \
        ip netns exec "$ns" tc qdisc "$verb" dev "$dev" root netem $args 2>&1 >/dev/null || true)
    line=$(grep -m1 'nlmsg_type=0x24' <<<"$trace" || true)
    if [[ -z $line ]]; then
        echo "capture-tc-golden: $name: tc sent no RTM_NEWQDISC for '$args':" >&2
        tail -3 <<<"$trace" >&2
        exit 1
    fi
    flags=$(sed -E 's/.*nlmsg_flags=(0x[0-9a-f]+).*/\1/' <<<"$line")
    hex=$(sed -E 's/.*nlmsg_pid=[0-9]+\}, "([^"]*)".*/\1/; s/\\x//g' <<<"$line")
    tcmsg=${hex:0:40}
    kind="" options=""
    off=20
    total=$(( ${#hex} / 2 ))
    while (( off + 4 <= total )); do
        len=$(u16le "$hex" "$off")
        type=$(u16le "$hex" $((off + 2)))
        (( len >= 4 )) || { echo "capture-tc-golden: $name: bad rtattr length" >&2; exit 1; }
        payload=${hex:(off + 4) * 2:(len - 4) * 2}
        case $type in
            1) kind=$(echo -n "$payload" | sed 's/\(..\)/\\x\1/g' | xargs -0 printf '%b' | tr -d '\0') ;;
            2) options=$payload ;;
        esac
        off=$(( off + ((len + 3) & ~3) ))
    done
    [[ -n $options ]] || { echo "capture-tc-golden: $name: no TCA_OPTIONS" >&2; exit 1; }
    {
        echo "tc: $version"
        echo "verb: $verb"
        echo "args: $args"
        echo "flags: $flags"
        echo "tcmsg: $tcmsg"
        echo "kind: $kind"
        echo "options: $options"
    } >"$out/$name.txt"
    n=$((n + 1))
done
echo "capture-tc-golden: wrote $n cases to $out"
