#!/usr/bin/env bash
# Hostile and stale ledgers (the host kernel has no sch_netem; tbf, ifb, ingress and u32 are
# enough): a ledger left by a dead namespace whose inode was reused, a corrupt ledger next to a
# valid one, a device name that is a path, a symlink planted at the ledger's temp file, a
# second controller, steps marked not done that name someone else's link, and a recorded
# watchdog pid that now belongs to another process. Each case is one that the previous ledger
# code got wrong (deleted the operator's tbf, blocked every device, read outside the ledger
# directory, wrote through the symlink, switched a held device, deleted v1, killed the
# process); each must now be refused or reported, with nothing of the operator's lost.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd tc
need_cmd python3
P=$NETCHAOS_SOURCE_DIR/profiles
NS=nco$$
nc_netns "$NS"
nx() { ip netns exec "$NS" "$@"; }
ip -n "$NS" link add v0 type veth peer name v1 || fail "veth"
ip -n "$NS" link set v0 up && ip -n "$NS" link set v1 up
nx tc qdisc add dev v0 root handle 5: tbf rate 10mbit burst 32kb latency 50ms || fail "tbf"
INO=$(nx stat -L -c %i /proc/self/ns/net)
COOKIE=$(nx python3 -c 'import socket,struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try: print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])
except OSError: print(0)')
[[ $COOKIE != 0 ]] || skip "this kernel has no SO_NETNS_COOKIE (< 5.14): a reused netns inode cannot be told apart"
BASE=/run/netchaos/ledger
LD=$BASE/net$INO-$COOKIE
nc_defer "rm -rf $LD $BASE/net$INO $BASE/net$INO-1"
state() { nx tc -d qdisc show; nx tc filter show dev v0 ingress; nx ip -o link show | awk '{print $2}'; }
before=$(state)
hostile=0
unchanged() {
    local now; now=$(state)
    [[ $now == "$before" ]] || { echo "--- before"; echo "$before"; echo "--- now"; echo "$now"; fail "$1: the operator's state changed"; }
    hostile=$((hostile + 1))
    echo "ok: $1: nothing of the operator's lost"
}
# ledger DEV JSON-STEPS [EXTRA-FIELDS]: a ledger of this namespace, as netchaos writes it
ledger() {
    mkdir -p -m 700 "$BASE" "$LD"
    printf '{"dev":"%s","layout":"egress;","profile":"planted","complete":true,"generation":1,"since":1700000000,"netns":{"inode":%s,"cookie":%s},"steps":%s%s}\n' \
        "$1" "$INO" "$COOKIE" "$2" "${3:-}" > "$LD/$1.json"
}
ROOT_STEP='[{"kind":"root_qdisc","dev":"v0","done":true,"parent":4294967295,"handle":1852112896,"created":"netem","prev":null}]'

# 1. Stale ledgers of a dead namespace that had this inode: one in the old layout (no
#    cookie), one with another cookie. Both say "netem root on v0, nothing before": replaying
#    them would delete the operator's tbf 5:.
mkdir -p -m 700 "$BASE/net$INO" "$BASE/net$INO-1"
old='{"dev":"v0","layout":"egress;","profile":"ghost","complete":false,"steps":[{"kind":"root_qdisc","dev":"v0","done":true,"prev":null}]}'
echo "$old" > "$BASE/net$INO/v0.json"
echo "${old/\"steps\"/\"netns\":{\"inode\":$INO,\"cookie\":1},\"steps\"}" > "$BASE/net$INO-1/v0.json"
nc_expect 0 "from a network namespace that no longer exists" -- nx "$NETCHAOS" clear --all
[[ ! -e $BASE/net$INO && ! -e $BASE/net$INO-1 ]] || fail "stale ledgers not discarded"
nx "$NETCHAOS" show | grep -q INCOMPLETE && fail "show reports the dead namespace's apply"
unchanged "stale ledgers of a dead namespace with this inode"

# 2. A corrupt (truncated) ledger for v0 next to a valid, incomplete one for v1 (a crash after
#    its IFB step): clear --all reports v0, still clears v1, exits 4; apply and clear --dev v0
#    say what to do; --discard forgets it.
NETCHAOS_CRASH_AFTER_STEP=1 nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v1 --ingress >/dev/null 2>&1
nx ip link show ifb-v1 >/dev/null 2>&1 || fail "setup: the crash hook did not leave ifb-v1"
ledger v0 "$ROOT_STEP"
head -c 60 "$LD/v0.json" > "$LD/v0.json.cut" && mv "$LD/v0.json.cut" "$LD/v0.json"
nc_expect 4 "is corrupt" -- nx "$NETCHAOS" clear --all
nx ip link show ifb-v1 >/dev/null 2>&1 && fail "clear --all stopped at the corrupt ledger: ifb-v1 left"
[[ -e $LD/v0.json ]] || fail "clear --all removed the corrupt ledger it could not read"
nc_expect 4 "clear --dev v0 --discard" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
nc_expect 4 "is corrupt" -- nx "$NETCHAOS" clear --dev v0
nc_expect 0 "discarded the ledger of v0" -- nx "$NETCHAOS" clear --dev v0 --discard
[[ ! -e $LD/v0.json ]] || fail "--discard left the ledger"
unchanged "corrupt ledger"

# 3. Device names that are paths. A ledger planted where ../../../x would lead must not be read.
echo "$old" > "/run/nco$$-x.json"; nc_defer "rm -f /run/nco$$-x.json"
nc_expect 3 "invalid interface name" -- nx "$NETCHAOS" clear --dev "../../../nco$$-x"
nc_expect 3 "invalid interface name" -- nx "$NETCHAOS" clear --dev "../../../nco$$-x" --discard
nc_expect 3 "invalid interface name" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev "../../x"
nc_expect 3 "invalid interface name" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev "abcdefghijklmnop"
[[ -e /run/nco$$-x.json ]] || fail "the planted file was removed"
unchanged "device names that are paths"

# 4. A symlink planted at the ledger's temp file: the apply writes its ledger (then fails: no
#    netem here) without writing through the link.
mkdir -p -m 700 "$BASE" "$LD"
victim=$(mktemp); echo precious > "$victim"; nc_defer "rm -f $victim"
ln -s "$victim" "$LD/v0.json.tmp"
nc_expect 4 "no netem qdisc" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
[[ $(cat "$victim") == precious ]] || fail "the ledger was written through the symlink: $(cat "$victim")"
[[ ! -L $LD/v0.json.tmp ]] || fail "the planted symlink is still there"
unchanged "symlink at the ledger's temp file"

# 5. A second controller: v0 is held by a live `netchaos run` (here a sleep standing in for
#    it, recorded with its start time).
sleep 60 & holder=$!; nc_defer "kill $holder"
start=$(awk '{sub(/.*\) /, ""); print $20}' /proc/$holder/stat)
ledger v0 '[]' ",\"holder_pid\":$holder,\"holder_start\":$start"
nc_expect 4 "v0 is held by pid $holder (profile planted) since 2023-11-14T22:13:20Z" -- \
    nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
[[ -e $LD/v0.json ]] || fail "the held ledger was touched"
# Nor may it undo the run's faults (a second run rolls back after its refused apply).
nc_expect 4 "v0 is held by pid $holder (profile planted) since 2023-11-14T22:13:20Z; pass --takeover to clear anyway" -- \
    nx "$NETCHAOS" clear --dev v0
nc_expect 4 "is held by pid $holder" -- nx "$NETCHAOS" clear --all
[[ -e $LD/v0.json ]] || fail "the held ledger was cleared"
nc_expect 0 "restored v0" -- nx "$NETCHAOS" clear --dev v0 --takeover
kill -0 $holder || fail "clear --takeover killed the holder"
ledger v0 '[]' ",\"holder_pid\":$holder,\"holder_start\":$start"
# The same run (its pid in NETCHAOS_HOLDER_PID) may switch its own phases (the planted
# ledger's layout is the profile's, with no netem to replace: a switch of nothing).
nc_expect 0 "switched" -- nx env NETCHAOS_HOLDER_PID=$holder "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
ledger v0 '[]' ",\"holder_pid\":$holder,\"holder_start\":$start"
nc_expect 0 "switched" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0 --takeover
kill -0 $holder || fail "--takeover killed the holder"
# A recorded holder that is gone (its pid reused: another start time) holds nothing.
ledger v0 '[]' ",\"holder_pid\":$holder,\"holder_start\":$((start + 1))"
nc_expect 0 "switched" -- nx "$NETCHAOS" apply "$P/ops-50ms-30ms-normal.toml" --dev v0
nc_expect 0 "restored v0" -- nx "$NETCHAOS" clear --dev v0
unchanged "two controllers"

# 6. Undo honours ownership over `done`: steps not done (or done) that name a link that is not
#    v0's IFB, or a root that is not netchaos's, are left alone.
ledger v0 '[{"kind":"ifb_link","dev":"v1","done":false},{"kind":"root_qdisc","dev":"v0","done":false,"parent":4294967295,"handle":1852112896,"created":"netem","prev":null}]'
nc_expect 0 "restored v0" -- nx "$NETCHAOS" clear --dev v0
ledger v0 '[{"kind":"ifb_link","dev":"v1","done":true},{"kind":"ingress_qdisc","dev":"v0","done":true}]'
nc_expect 0 "names link v1, not its IFB ifb-v0: left alone" -- nx "$NETCHAOS" clear --all
nx ip link show v1 >/dev/null || fail "v1 was deleted"
ledger v0 "$ROOT_STEP"
nc_expect 0 "root qdisc of v0 is now tbf 5:, not the netem 6e65: netchaos put there: left alone" -- nx "$NETCHAOS" clear --dev v0
unchanged "steps naming what netchaos did not create"

# 7. The recorded watchdog pid now belongs to another process (another start time).
sleep 60 & other=$!; nc_defer "kill $other"
ledger v0 '[]' ",\"watchdog_pid\":$other,\"watchdog_start\":1"
nc_expect 0 "is not the watchdog this ledger started" -- nx "$NETCHAOS" clear --dev v0
sleep 0.2
kill -0 $other || fail "clear signalled pid $other, which is not its watchdog"
unchanged "a pid that is not our watchdog"

[[ -z $(ls -A "$LD" 2>/dev/null) ]] || fail "ledger left behind: $(ls -A "$LD")"
echo "NOTE: hostile inputs tried: $hostile cases, nothing of the operator's lost"
pass "stale, corrupt and hostile ledgers are refused or reported; nothing netchaos did not create is touched"
