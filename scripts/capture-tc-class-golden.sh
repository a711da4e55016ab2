#!/bin/bash
# Capture what iproute2's tc sends for the htb root and the u32 filters of a class tree
# (`tc qdisc replace ... htb`, `tc filter add ... u32 match ip|ip6 ...`), one golden file per
# command, for the byte-for-byte tests of tcmsgs.cpp (tests/unit/netem_apply/).
#
# Each command runs in a private namespace on a veth device (removed at exit); the kernel may
# refuse it, strace has recorded the bytes tc sent by then.
#
# usage: scripts/capture-tc-class-golden.sh [OUTDIR]   (default tests/golden/classes; needs root,
#        strace and iproute2's tc)
# Output: OUTDIR/<case>.txt with
#   tc:      the tc version that produced it
#   args:    the tc arguments (DEV stands for the device)
#   type:    nlmsg_type
#   flags:   nlmsg_flags
#   body:    hex of everything after the nlmsghdr (tcmsg with the device's ifindex zeroed, attributes)
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,16p' "$0"; exit 0 ;; esac

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/tests/golden/classes}
for c in strace tc ip; do
    command -v "$c" >/dev/null || { echo "capture-tc-class-golden: needs $c" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "capture-tc-class-golden: needs root (network namespace)" >&2; exit 1; }

ns=nc-cgold-$$
dev=ncc$$
dev=${dev:0:12}
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$ns"
ip -n "$ns" link add "$dev" type veth peer name "${dev}p"

# name | tc arguments. Keep names stable: tests look them up.
cases=(
    "htb_root_pass|qdisc replace dev DEV root handle 6e63: htb direct_qlen 1000"
    "htb_root_default|qdisc replace dev DEV root handle 6e63: htb default ff direct_qlen 1000"
    "u32_v4_udp_dport|filter add dev DEV parent 6e63: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9000 0xffff flowid 6e63:1"
    "u32_v4_all_fields|filter add dev DEV parent 6e63: protocol ip prio 3 u32 match ip src 192.0.2.0/24 match ip dst 10.213.0.7/32 match ip protocol 6 0xff match ip dsfield 184 0xfc match ip sport 443 0xffff match ip dport 5201 0xffff flowid 6e63:2"
    "u32_v4_icmp|filter add dev DEV parent 6e63: protocol ip prio 5 u32 match ip protocol 1 0xff flowid 6e63:3"
    "u32_v4_empty|filter add dev DEV parent 6e63: protocol ip prio 1 u32 match u32 0 0 flowid 6e63:1"
    "u32_v6_udp_dport|filter add dev DEV parent 6e63: protocol ipv6 prio 2 u32 match ip6 protocol 17 0xff match ip6 dport 9000 0xffff flowid 6e63:1"
    "u32_v6_all_fields|filter add dev DEV parent 6e63: protocol ipv6 prio 4 u32 match ip6 src 2001:db8:aa00::/40 match ip6 dst fd00::2/128 match ip6 protocol 6 0xff match ip6 priority 184 0xfc match ip6 sport 443 0xffff match ip6 dport 5201 0xffff flowid 6e63:2"
    "u32_v6_icmp|filter add dev DEV parent 6e63: protocol ipv6 prio 6 u32 match ip6 protocol 58 0xff flowid 6e63:3"
    "u32_v6_sport_only|filter add dev DEV parent 6e63: protocol ipv6 prio 2 u32 match ip6 protocol 17 0xff match ip6 sport 9001 0xffff flowid 6e63:1"
)

mkdir -p "$out"
version=$(tc -V)
n=0
for c in "${cases[@]}"; do
    name=${c%%|*}
    args=${c#*|}
    # shellcheck disable=SC2086  # word splitting of args is the point
    trace=$(strace -f -xx -X raw -e trace=sendmsg -s 1000000 \
        ip netns exec "$ns" tc ${args//DEV/$dev} 2>&1 >/dev/null || true)
    line=$(grep -m1 -E 'nlmsg_type=0x(24|2c)' <<<"$trace" || true)
    if [[ -z $line ]]; then
        echo "capture-tc-class-golden: $name: tc sent no RTM_NEWQDISC/RTM_NEWTFILTER for '$args':" >&2
        tail -3 <<<"$trace" >&2
        exit 1
    fi
    type=$(sed -E 's/.*nlmsg_type=(0x[0-9a-f]+).*/\1/' <<<"$line")
    flags=$(sed -E 's/.*nlmsg_flags=(0x[0-9a-f]+).*/\1/' <<<"$line")
    hex=$(sed -E 's/.*nlmsg_pid=[0-9]+\}, "([^"]*)".*/\1/; s/\\x//g' <<<"$line")
    # tcmsg: family, pad (4 bytes), ifindex (4 bytes): the device's index is zeroed.
    body=${hex:0:8}00000000${hex:16}
    {
        echo "tc: $version"
        echo "args: $args"
        echo "type: $type"
        echo "flags: $flags"
        echo "body: $body"
    } >"$out/$name.txt"
    n=$((n + 1))
done
echo "capture-tc-class-golden: wrote $n cases to $out"
