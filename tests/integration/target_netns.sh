#!/usr/bin/env bash
# --netns NAME|PATH and --pid PID on probe, show and clear, on the host (no sch_netem here: the
# ledgers are planted, with real tbf qdiscs standing in for what an apply left; the qemu suite
# applies real netem, tests/kernel/93_targets.sh). Checked: the work happens in the target's
# namespace and only there; a target that is gone is reported and its ledger discarded; a
# target whose process exited while its namespace lives on (a container restarted in its pod,
# chaos-mesh#4827) is found by the namespace's identity and restored; bad targets are refused
# before anything is done.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd tc
need_cmd python3
tmp=$(mktemp -d /tmp/nc-target.XXXXXX)
nc_defer "rm -rf $tmp"
export NETCHAOS_RUN_DIR=$tmp/run   # private ledgers: nothing of ours lands in /run/netchaos
NS=nct$$
nc_netns "$NS"
nx() { ip netns exec "$NS" "$@"; }
ip -n "$NS" link add v0 type veth peer name v1 || fail "veth"
ip -n "$NS" link set v0 up && ip -n "$NS" link set v1 up

# A reflector inside the namespace, on a loopback port only that namespace has.
PORT=$((20000 + $$ % 20000))
ip netns exec "$NS" "$NETCHAOS" reflect --listen 127.0.0.1:$PORT >"$tmp/reflect.log" 2>&1 &
RPID=$!
nc_defer "kill $RPID"
for _ in $(seq 100); do nx ss -lun | grep -q ":$PORT " && break; sleep 0.1; done
nx ss -lun | grep -q ":$PORT " || fail "reflector did not start"

# 1. probe from inside the namespace, by name, by path and by the reflector's pid; from the
#    host the same address answers "port unreachable" (it is another namespace's loopback).
for t in "--netns $NS" "--netns /run/netns/$NS" "--pid $RPID"; do
    nc_expect 0 "sent 50 received 50" -- "$NETCHAOS" probe 127.0.0.1:$PORT -r 100 -d 0.5s -q $t
done
nc_expect 1 "port unreachable" -- "$NETCHAOS" probe 127.0.0.1:$PORT -r 100 -d 0.5s -q

# Ledgers as netchaos writes them, for a namespace whose identity is read here.
INO=$(nx stat -L -c %i /proc/self/ns/net)
DEV=$(python3 -c "import os; print(os.stat('/run/netns/$NS').st_dev)")
cookie() { ip netns exec "$1" python3 -c 'import socket,struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try: print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])
except OSError: print(0)'; }
COOKIE=$(cookie "$NS")
[[ $COOKIE != 0 ]] || skip "this kernel has no SO_NETNS_COOKIE (< 5.14): a namespace's identity cannot be recorded"
# plant TARGET INODE DEVNO COOKIE: the ledger of an apply on v0 that put tbf 6e65: at the root
plant() {
    local d=$NETCHAOS_RUN_DIR/ledger/net$2-$4
    mkdir -p -m 700 "$NETCHAOS_RUN_DIR" "$NETCHAOS_RUN_DIR/ledger" "$d"
    printf '{"dev":"v0","layout":"egress;","profile":"planted","complete":true,"generation":1,"since":1700000000,"netns":{"inode":%s,"cookie":%s,"dev":%s},"target":"%s","steps":[{"kind":"root_qdisc","dev":"v0","done":true,"parent":4294967295,"handle":1852112896,"created":"tbf","prev":null}]}\n' \
        "$2" "$4" "$3" "$1" > "$d/v0.json"
}
tbf() { nx tc qdisc replace dev v0 root handle 6e65: tbf rate 10mbit burst 32kb latency 50ms || fail "tbf"; }
has_tbf() { nx tc qdisc show dev v0 | grep -q "tbf 6e65:"; }

# 2. show --netns reads that namespace's ledgers; the host's show does not see them.
tbf
plant "netns $NS" "$INO" "$DEV" "$COOKIE"
nc_expect 0 '"profile":"planted"' -- "$NETCHAOS" show --netns "$NS" -j
nc_expect 0 "$NETCHAOS" show -j
nc_lacks planted

# 3. clear --netns restores inside the namespace (the planted tbf goes, the default returns).
nc_expect 0 "restored v0" -- "$NETCHAOS" clear --dev v0 --netns "$NS"
has_tbf && fail "clear --netns left the tbf"
[[ -z $(ls -A "$NETCHAOS_RUN_DIR/ledger") ]] || fail "ledger left behind: $(ls -R "$NETCHAOS_RUN_DIR/ledger")"

# 4. The target process exited, its namespace lives on (here: held by /run/netns/NS, as a
#    pod's sandbox holds it while a container restarts): clear --pid finds it by identity.
ip netns exec "$NS" sleep 300 &
SPID=$!
nc_defer "kill $SPID"
tbf
plant "pid $SPID" "$INO" "$DEV" "$COOKIE"
kill "$SPID"; wait "$SPID" 2>/dev/null
nc_expect 0 "but that namespace lives on (netns $NS): restored v0" -- "$NETCHAOS" clear --all --pid "$SPID"
has_tbf && fail "clear --pid of an exited process did not restore its namespace"

# 5. A target whose namespace is gone: a deleted netns. clear says so, discards the ledger,
#    exits 0; a second clear has nothing recorded and says the target does not exist (4).
NS2=nct2$$
nc_netns "$NS2"
INO2=$(ip netns exec "$NS2" stat -L -c %i /proc/self/ns/net)
DEV2=$(python3 -c "import os; print(os.stat('/run/netns/$NS2').st_dev)")
plant "netns $NS2" "$INO2" "$DEV2" "$(cookie "$NS2")"
ip netns del "$NS2"
nc_expect 0 "target gone: netns $NS2" -- "$NETCHAOS" clear --all --netns "$NS2"
nc_has "discarded its ledger of v0"
[[ -z $(ls -A "$NETCHAOS_RUN_DIR/ledger") ]] || fail "the gone target's ledger is still there"
nc_expect 4 "netchaos has no ledger recorded for netns $NS2" -- "$NETCHAOS" clear --all --netns "$NS2"

# 6. The same name made again (a new namespace): the old one's ledger is discarded, the new
#    namespace is cleared as usual.
nc_netns "$NS2"
plant "netns $NS2" "$INO2" "$DEV2" 1
nc_expect 0 "target gone: netns $NS2" -- "$NETCHAOS" clear --all --netns "$NS2"
[[ -z $(ls -A "$NETCHAOS_RUN_DIR/ledger") ]] || fail "the old namespace's ledger is still there"

# 7. clear --stale (a DaemonSet agent's start): a ledger whose run is dead, in a live
#    namespace, is restored there; one whose namespace is gone is discarded; an apply by hand
#    (no controller) is kept.
tbf
sleep 0.1 & DEAD=$!; wait $DEAD
d=$NETCHAOS_RUN_DIR/ledger/net$INO-$COOKIE
plant "netns $NS" "$INO" "$DEV" "$COOKIE"
sed -i "s/\"since\"/\"holder_pid\":$DEAD,\"holder_start\":1,\"since\"/" "$d/v0.json"
plant "netns gone$$" 1 "$DEV" 7
sed -i "s/\"since\"/\"holder_pid\":$DEAD,\"holder_start\":1,\"since\"/" "$NETCHAOS_RUN_DIR/ledger/net1-7/v0.json"
plant "netns byhand$$" 2 "$DEV" 8
nc_expect 0 "restored v0 (profile planted, netns $NS) in net:[$INO] (netns $NS): its controller is gone" -- "$NETCHAOS" clear --stale
nc_has "discarded the ledger of v0 (profile planted, netns gone$$): its namespace net:[1] is gone"
nc_has "kept v0 (profile planted, netns byhand$$): applied by hand, no controller"
has_tbf && fail "clear --stale did not restore the dead run's tbf"
[[ $(ls "$NETCHAOS_RUN_DIR/ledger") == "net2-8" ]] || fail "clear --stale left: $(ls "$NETCHAOS_RUN_DIR/ledger")"
rm -rf "$NETCHAOS_RUN_DIR/ledger/net2-8"
nc_expect 3 "--stale goes alone" -- "$NETCHAOS" clear --stale --all

# 8. Bad targets are refused before anything is done.
nc_expect 3 "at most one of --netns, --pid and --container" -- "$NETCHAOS" show --netns "$NS" --pid $$
nc_expect 3 "not a process id" -- "$NETCHAOS" show --pid 0x10
nc_expect 3 "not a network namespace" -- "$NETCHAOS" show --netns /proc/self/ns/mnt
nc_expect 3 "is not a namespace file" -- "$NETCHAOS" probe 127.0.0.1:$PORT --netns /etc/hostname
nc_expect 4 "(no such process)" -- "$NETCHAOS" clear --all --pid 4194304
nc_expect 4 "(no such namespace" -- "$NETCHAOS" show --netns "nope$$"
nc_expect 3 "reached through its control socket" -- "$NETCHAOS" clear --backend dpdk --netns "$NS"
pass "probe/show/clear --netns/--pid: work in the target only; gone and restarted targets handled"
