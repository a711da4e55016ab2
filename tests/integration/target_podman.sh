#!/usr/bin/env bash
# probe --container against two real podman containers, each running `netchaos reflect` on
# its own loopback (image: scripts/build-image.sh, made from this build). Where podman
# cannot start a container on this machine the test skips with podman's exact words; the same
# paths are covered by target_container.sh (recorded inspect output) and target_netns.sh.
# Seen on the development host (cgroup v1 hybrid, a container itself): crun refuses with
# "setrlimit RLIMIT_NOFILE/RLIMIT_NPROC: Operation not permitted" whatever --ulimit says, with
# --cgroups=disabled too; --cgroups=split finds no cgroup mount; runc is not installed.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd podman
# The image: this build's own, made here (buildah, well under a second) unless one exists,
# and removed at the end so nothing is left in podman's storage.
IMAGE=localhost/netchaos:dev
if ! podman image exists "$IMAGE"; then
    need_cmd buildah
    IMAGE=localhost/netchaos:test-$$
    nc_defer "podman rmi -f $IMAGE"
    "$NETCHAOS_SOURCE_DIR/scripts/build-image.sh" "$(dirname "$NETCHAOS")/../.." "$IMAGE" >/dev/null 2>&1 ||
        fail "scripts/build-image.sh could not build $IMAGE"
fi
names=()
cleanup() { local n; for n in "${names[@]}"; do podman rm -f -t 0 "$n" >/dev/null 2>&1; done; }
nc_defer cleanup
start() {   # start NAME: a reflector container without a network (its own loopback only)
    names+=("$1")
    local out
    out=$(timeout 60 podman run -d --name "$1" --network none --cgroups=disabled --ulimit nofile=1024:1024 \
          "$IMAGE" reflect --listen 127.0.0.1:9797 2>&1) || skip "podman cannot start a container here: ${out//$'\n'/ }"
}
start "ncrefl-a-$$"
start "ncrefl-b-$$"
for n in "${names[@]}"; do
    ok=0
    for _ in $(seq 50); do
        "$NETCHAOS" probe 127.0.0.1:9797 -r 50 -d 0.2s -q --container "$n" --runtime podman >/dev/null 2>&1 && { ok=1; break; }
        sleep 0.2
    done
    ((ok)) || fail "container $n never answered"
    nc_expect 0 "sent 50 received 50" -- "$NETCHAOS" probe 127.0.0.1:9797 -r 100 -d 0.5s -q --container "$n" --runtime podman
done
pass "probe --container reached two podman containers' reflectors"
