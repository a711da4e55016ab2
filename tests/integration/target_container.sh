#!/usr/bin/env bash
# --container ID on probe, show and clear, against recorded `inspect` output
# (tests/fixtures/containers) served by fake runtime CLIs: the pid they report is a real
# process in a test namespace. Checked: each runtime's format, the runtime chosen by --runtime,
# by NETCHAOS_CONTAINER_RUNTIME and by the PATH order crictl, podman, docker; a stopped
# container and an unknown one are errors that name every runtime tried; the ledger knows the
# target as "container ID", so clearing a removed container whose namespace is gone says so.
# (A real podman is tried in tests/integration/target_podman.sh.)
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd python3
tmp=$(mktemp -d /tmp/nc-container.XXXXXX)
nc_defer "rm -rf $tmp"
export NETCHAOS_RUN_DIR=$tmp/run
FIX=$NETCHAOS_SOURCE_DIR/tests/fixtures/containers
NS=ncc$$
nc_netns "$NS"
PORT=$((20000 + ($$ + 7) % 20000))
ip netns exec "$NS" "$NETCHAOS" reflect --listen 127.0.0.1:$PORT >"$tmp/reflect.log" 2>&1 &
RPID=$!
nc_defer "kill $RPID"
for _ in $(seq 100); do ip netns exec "$NS" ss -lun | grep -q ":$PORT " && break; sleep 0.1; done
ip netns exec "$NS" ss -lun | grep -q ":$PORT " || fail "reflector did not start"

# fake RUNTIME FIXTURE-PREFIX KNOWN-ID: answers `inspect [-o json] ID` as the runtime would.
mkdir -p "$tmp/bin"
fake() {
    cat > "$tmp/bin/$1" <<EOS
#!/bin/bash
echo "\$*" >> "$tmp/calls.$1"
[[ \$1 == inspect ]] || exit 2
id=\${@: -1}
case \$id in
  $3) sed "s/4242/\$(cat $tmp/pid)/" "$FIX/$2-inspect.json" ;;
  stopped) cat "$FIX/$2-inspect-exited.json" ;;
  *) echo "Error: no such container \$id" >&2; exit 125 ;;
esac
EOS
    chmod +x "$tmp/bin/$1"
}
fake podman podman reflector-a
fake crictl crictl b71c4e0f2d9a
fake docker docker reflector-b
echo "$RPID" > "$tmp/pid"

probe() { "$NETCHAOS" probe 127.0.0.1:$PORT -r 100 -d 0.5s -q "$@"; }
nc_expect 0 "sent 50 received 50" -- probe --container reflector-a --runtime "$tmp/bin/podman"
nc_expect 0 "sent 50 received 50" -- probe --container reflector-b --runtime "$tmp/bin/docker"
NETCHAOS_CONTAINER_RUNTIME=$tmp/bin/crictl nc_expect 0 "sent 50 received 50" -- probe --container b71c4e0f2d9a
grep -q "inspect -o json b71c4e0f2d9a" "$tmp/calls.crictl" || fail "crictl was not asked with -o json: $(cat "$tmp/calls.crictl")"
# No runtime named: crictl first (it does not know reflector-a), then podman, which does.
rm -f "$tmp"/calls.*
nc_expect 0 "sent 50 received 50" -- env PATH="$tmp/bin:/usr/bin:/bin" "$NETCHAOS" probe 127.0.0.1:$PORT -r 100 -d 0.5s -q --container reflector-a
[[ -s $tmp/calls.crictl && -s $tmp/calls.podman && ! -e $tmp/calls.docker ]] || fail "runtimes not tried in order crictl, podman: $(ls "$tmp")"

# Errors: stopped, unknown (every runtime named with what it said), not an ID, two targets.
nc_expect 4 "container stopped is not running ($tmp/bin/podman reports pid 0)" -- probe --container stopped --runtime "$tmp/bin/podman"
nc_expect 4 "container ghost: not found through any container runtime" -- env PATH="$tmp/bin:/usr/bin:/bin" "$NETCHAOS" probe 127.0.0.1:$PORT -q --container ghost
nc_has "crictl inspect exited 125: Error: no such container ghost"
nc_has "podman inspect exited 125"
nc_has "docker inspect exited 125"
mkdir -p "$tmp/empty"   # no runtime at all (whatever this machine has installed)
nc_expect 4 "crictl: not installed (not on PATH); podman: not installed (not on PATH); docker: not installed (not on PATH)" -- env PATH="$tmp/empty" "$NETCHAOS" show --container ghost
nc_expect 3 "is not a container ID or name" -- "$NETCHAOS" show --container=--format=x --runtime "$tmp/bin/podman"
nc_expect 3 "at most one of --netns, --pid and --container" -- "$NETCHAOS" show --container reflector-a --pid $$
nc_expect 3 "--runtime goes with --container" -- "$NETCHAOS" show --runtime podman

# show/clear --container: the ledger of "container reflector-a" is that namespace's.
INO=$(ip netns exec "$NS" stat -L -c %i /proc/self/ns/net)
DEV=$(python3 -c "import os; print(os.stat('/run/netns/$NS').st_dev)")
COOKIE=$(ip netns exec "$NS" python3 -c 'import socket,struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try: print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])
except OSError: print(0)')
[[ $COOKIE != 0 ]] || skip "this kernel has no SO_NETNS_COOKIE (< 5.14)"
d=$NETCHAOS_RUN_DIR/ledger/net$INO-$COOKIE
mkdir -p -m 700 "$NETCHAOS_RUN_DIR" "$NETCHAOS_RUN_DIR/ledger" "$d"
printf '{"dev":"lo","layout":"egress;","profile":"planted","complete":true,"generation":1,"since":1700000000,"netns":{"inode":%s,"cookie":%s,"dev":%s},"target":"container reflector-a","steps":[]}\n' \
    "$INO" "$COOKIE" "$DEV" > "$d/lo.json"
export NETCHAOS_CONTAINER_RUNTIME=$tmp/bin/podman
nc_expect 0 '"profile":"planted"' -- "$NETCHAOS" show --container reflector-a -j
# The container is removed and its namespace with it: the runtime no longer knows it, and
# clear --container says the target is gone and discards its ledger.
kill "$RPID"; wait "$RPID" 2>/dev/null
ip netns del "$NS"
fake podman podman nothing-known
nc_expect 0 "target gone: container reflector-a" -- "$NETCHAOS" clear --all --container reflector-a
[[ -z $(ls -A "$NETCHAOS_RUN_DIR/ledger") ]] || fail "the removed container's ledger is still there"
nc_expect 4 "container reflector-a: not found through" -- "$NETCHAOS" clear --all --container reflector-a
pass "--container: podman, docker and crictl inspect formats, runtime order, errors, gone container"
