#!/usr/bin/env bash
# apply --dry-run on the host (no sch_netem needed: nothing is sent). Proves: the device's
# tree, links and /run are the same before and after (no qdisc, no IFB, no ledger, no lock
# directory, no watchdog); the requests are printed in order as tc commands and hex, and
# with -j as JSON whose hex is what the text shows; the ledger it would write records the
# operator's tbf as the tree to restore; a missing device is exit 4 (so is a ledger it may
# not read, without root), the dpdk backend exit 3.
# The qemu suite (tests/kernel/86_dry_run.sh) applies what the dry run prints.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd tc
need_cmd python3
P=$NETCHAOS_SOURCE_DIR/profiles
NS=ncdry$$
nc_netns "$NS"
ip -n "$NS" link add v0 type veth peer name v1 || fail "veth"
ip -n "$NS" link set v0 up && ip -n "$NS" link set v1 up
nx() { ip netns exec "$NS" "$@"; }
tmp=$(mktemp -d /tmp/nc-dry.XXXXXX); nc_defer "rm -rf $tmp"
export NETCHAOS_RUN_DIR=$tmp/run   # nothing may appear here

nx tc qdisc add dev v0 root handle 5: tbf rate 10mbit burst 32kb latency 50ms || fail "tbf"
state() { nx tc -d qdisc show; nx tc -d class show dev v0; nx tc filter show dev v0 ingress; nx ip -o link show | awk '{print $2}'; }
before=$(state)
unchanged() {
    local now; now=$(state)
    [[ $now == "$before" ]] || { echo "--- before"; echo "$before"; echo "--- now"; echo "$now"; fail "$1: kernel state changed"; }
    [[ ! -e $NETCHAOS_RUN_DIR ]] || { find "$NETCHAOS_RUN_DIR"; fail "$1: $NETCHAOS_RUN_DIR was written"; }
    # A watchdog would live on in the namespace (other tests' processes are elsewhere).
    [[ -z $(ip netns pids "$NS") ]] && echo "ok: $1: no process in the namespace" || fail "$1: a process (watchdog?) was left: $(ip netns pids "$NS")"
    echo "ok: $1: nothing changed, nothing written"
}

# Egress and ingress (3g has both): root netem replacing the tbf, IFB, ingress qdisc, redirect.
nc_expect 0 "dry run: apply 3g on v0: 5 netlink requests, nothing sent, nothing written" -- \
    nx "$NETCHAOS" apply "$P/3g.toml" --dev v0 --dry-run --for 30s
nc_has "1. tc qdisc replace dev v0 root handle 6e65: netem limit 200 delay 90ms 20ms 50% distribution normal loss random 0.1% rate 384kbit"
nc_has "2. ip link add ifb-v0 up type ifb"
nc_has "3. tc qdisc replace dev ifb-v0 root handle 6e65: netem limit 200 delay 90ms 20ms 50% distribution normal rate 2mbit"
nc_has "4. tc qdisc add dev v0 ingress"
nc_has "5. tc filter add dev v0 parent ffff: pref 1 protocol all u32 match u32 0x00000000 0x00000000 at 0 action mirred egress redirect dev ifb-v0"
nc_has "a watchdog would restore after 30s"
nc_has '"kind": "tbf"'     # the ledger's record of what to restore
unchanged "3g --for 30s"

# [match] with -j: the four requests of the htb tree, JSON, hex equal to the text's.
nc_expect 0 nx "$NETCHAOS" apply "$P/flow-match.toml" --dev v0 --dry-run -j
cp "$NC_OUT" "$tmp/j.json"
nc_expect 0 nx "$NETCHAOS" apply "$P/flow-match.toml" --dev v0 --dry-run
cp "$NC_OUT" "$tmp/t.txt"
python3 - "$tmp/j.json" "$tmp/t.txt" <<'PY' || fail "JSON dry run"
import json, re, sys
j = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
cmds = [r["command"] for r in j["requests"]]
assert [c.split(" dev ")[0] for c in cmds] == ["tc qdisc replace", "tc class add", "tc qdisc add", "tc filter add"], cmds
assert "6e64: netem" in cmds[2] and "classid 6e63:1" in cmds[3], cmds
assert [r["type"] for r in j["requests"]] == ["RTM_NEWQDISC", "RTM_NEWTCLASS", "RTM_NEWQDISC", "RTM_NEWTFILTER"]
for r in j["requests"]:
    b = bytes.fromhex(r["hex"])
    assert int.from_bytes(b[0:4], "little") == len(b), "nlmsg_len"
    assert int.from_bytes(b[6:8], "little") & 0x5 == 0x5, "REQUEST|ACK"
    # the text shows the same bytes, 32 per line
    assert "".join(re.findall(r"^   ([0-9a-f]+)$", text.split(r["command"])[1].split("\n\n")[0], re.M)) == r["hex"]
led = j["ledger"]
assert led["complete"] and led["dev"] == "v0" and led["layout"].startswith("egress{class:")
kinds = [s["kind"] for s in led["steps"]]
assert kinds == ["root_qdisc", "class", "netem", "filter"], kinds
assert led["steps"][0]["prev"]["kind"] == "tbf" and led["steps"][0]["created"] == "htb"
print("ok: -j: 4 requests, hex as in the text, ledger", kinds)
PY
unchanged "flow-match -j"

# Errors: a device that is not there (exit 4, its name), the forwarder backend (exit 3).
nc_expect 4 "netchaos apply: no such interface: v9" -- nx "$NETCHAOS" apply "$P/3g.toml" --dev v9 --dry-run
nc_expect 3 "--dry-run shows netlink requests: it is for the netem backend" -- \
    "$NETCHAOS" apply "$P/3g.toml" --backend dpdk --dry-run
nc_expect 3 "-j goes with --dry-run" -- nx "$NETCHAOS" apply "$P/3g.toml" --dev v0 -j
# Without root: the ledgers (0700, root's) cannot be read: exit 4 saying so, not "corrupt".
if command -v setpriv >/dev/null; then
    mkdir -p "$tmp/locked/ledger" && chmod 700 "$tmp/locked" "$tmp/locked/ledger"
    nc_expect 4 "Permission denied (netchaos needs root: the ledgers are root's, 0700); nothing was changed" -- \
        env NETCHAOS_RUN_DIR="$tmp/locked" ip netns exec "$NS" setpriv --reuid 65534 --regid 65534 --clear-groups \
        "$NETCHAOS" apply "$P/3g.toml" --dev v0 --dry-run
    nc_lacks "--discard"
fi
unchanged "errors"
pass "apply --dry-run"
