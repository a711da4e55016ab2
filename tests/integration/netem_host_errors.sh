#!/usr/bin/env bash
# Kernel backend on the host, whose kernel has no sch_netem (the qemu suite, netem_kernel.sh,
# covers a kernel that has it). Proves: the exact no-netem message and exit 4; multi-step
# applies (IFB + ingress, htb + u32) roll back what already succeeded, so nothing is left;
# a SIGKILL midway leaves a ledger that `clear` replays; unknown device and EPERM messages;
# the previous root qdisc (a tbf) comes back byte-identical.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd tc
P=$NETCHAOS_SOURCE_DIR/profiles
NS=nch$$
nc_netns "$NS"
ip -n "$NS" link add v0 type veth peer name v1 || fail "veth"
ip -n "$NS" link set v0 up && ip -n "$NS" link set v1 up
nx() { ip netns exec "$NS" "$@"; }
nx tc qdisc add dev v0 root netem delay 1ms 2>/dev/null && {
    nx tc qdisc del dev v0 root
    skip "this host kernel HAS sch_netem: the no-netem error path cannot be shown here (netem_kernel.sh covers apply)"
}
NO_NETEM='this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM); use --backend dpdk'

# A previous root qdisc that clear/rollback must bring back exactly.
nx tc qdisc add dev v0 root handle 5: tbf rate 10mbit burst 32kb latency 50ms || fail "tbf"
state() { nx tc -d qdisc show; nx tc filter show dev v0 ingress; nx ip -o link show | awk '{print $2}'; }
before=$(state)
# The ledger directory is net<netns inode>-<netns cookie>; the shell knows only the inode.
INO=$(nx stat -L -c %i /proc/self/ns/net)
ld() { compgen -G "/run/netchaos/ledger/net$INO-*" | head -n1; }
same_as_before() {
    local now; now=$(state)
    [[ $now == "$before" ]] || { echo "--- before"; echo "$before"; echo "--- now"; echo "$now"; fail "$1: kernel state changed"; }
    [[ -z $(ld) ]] || { ls -la "$(ld)"; fail "$1: ledger left behind in $(ld)"; }
    echo "ok: $1: nothing left behind"
}

nc_expect 4 "netchaos apply: $NO_NETEM" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
same_as_before "egress apply"
# --ingress: ifb-v0 is created, then netem on it fails: the IFB must go again.
nc_expect 4 "$NO_NETEM" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0 --ingress
same_as_before "ingress apply (IFB rolled back)"
# Both directions (3g has [egress] and [ingress]).
nc_expect 4 "$NO_NETEM" -- nx "$NETCHAOS" apply "$P/3g.toml" --dev v0
same_as_before "egress+ingress apply"
# [match]: the htb root replaces the tbf, then netem on its band fails: tbf must come back.
nc_expect 4 "$NO_NETEM" -- nx "$NETCHAOS" apply "$P/flow-match.toml" --dev v0
same_as_before "[match] apply (htb rolled back to the previous tbf)"
nc_expect 4 "$NO_NETEM" -- nx "$NETCHAOS" apply "$P/flow-match.toml" --dev v0 --ingress --for 10s
same_as_before "[match] --ingress apply"

# A crash after the first kernel change: the step is in the ledger, so clear undoes it.
NETCHAOS_CRASH_AFTER_STEP=1 nx "$NETCHAOS" apply "$P/flow-match.toml" --dev v0 >/dev/null 2>&1
rc=$?; [[ $rc == 137 ]] || fail "crash hook: exit $rc, want 137 (SIGKILL)"
nx tc qdisc show dev v0 | grep -q 'qdisc htb 6e63: root' || fail "crash hook: the htb step did not happen"
grep -q '"complete": false' "$(ld)/v0.json" || fail "crash: ledger not marked incomplete"
nx "$NETCHAOS" show | grep -q 'INCOMPLETE' || fail "show does not flag the incomplete apply"
nc_expect 0 "restored v0" -- nx "$NETCHAOS" clear --dev v0
same_as_before "crash after the htb step, then clear"
NETCHAOS_CRASH_AFTER_STEP=1 nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0 --ingress >/dev/null 2>&1
nx ip link show ifb-v0 >/dev/null 2>&1 || fail "crash hook: ifb-v0 was not created"
nc_expect 0 "restored v0" -- nx "$NETCHAOS" clear --all
same_as_before "crash after the IFB step, then clear --all"
# The next apply also replays a stale ledger before doing anything.
NETCHAOS_CRASH_AFTER_STEP=1 nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0 --ingress >/dev/null 2>&1
nc_expect 4 "$NO_NETEM" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
same_as_before "stale ledger replayed by the next apply"

nc_expect 4 "no such interface: nope$$" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev "nope$$"
nc_expect 4 "no such interface: nope$$" -- nx "$NETCHAOS" show --dev "nope$$"
nc_expect 3 "give exactly one of" -- nx "$NETCHAOS" clear
nc_expect 3 "--dev IF is required" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml"
nc_expect 0 "no netem qdisc on v0" -- nx "$NETCHAOS" show --dev v0
json=$(nx "$NETCHAOS" show -j) || fail "show -j"
[[ $json == '{"applied":[],"backend":"netem","qdiscs":[]}' ]] || fail "show -j: $json"
echo "ok: show -j -> $json"
nc_expect 0 "nothing to clear on v0" -- nx "$NETCHAOS" clear --dev v0
nc_expect 0 "nothing to clear" -- nx "$NETCHAOS" clear --all

# Without CAP_NET_ADMIN (ledger in a scratch dir the unprivileged user can write).
if command -v setpriv >/dev/null; then
    RD=$(mktemp -d); chmod 777 "$RD"; nc_defer "rm -rf $RD"
    expect 4 "needs CAP_NET_ADMIN" -- nx env NETCHAOS_RUN_DIR="$RD" setpriv --reuid=65534 --regid=65534 --clear-groups \
        --inh-caps=-all --bounding-set=-all "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
    [[ -z $(find "$RD" -name '*.json') ]] || fail "EPERM: ledger left behind"
else
    echo "NOTE: setpriv missing: EPERM case not run"
fi
same_as_before "the end"
pass "netem host error paths: exact messages, rollback and crash recovery leave nothing behind"
