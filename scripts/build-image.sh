#!/usr/bin/env bash
# Builds the netchaos container image with buildah from scratch, from this build's own
# binaries and the shared libraries they load (read with ldd): no base image, no registry.
#   scripts/build-image.sh [BUILD_DIR] [TAG]      default build/ and localhost/netchaos:dev
# Then: buildah push localhost/netchaos:dev oci-archive:netchaos.tar (and import it on a node
# with `ctr -n k8s.io images import`, or `podman load`).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
tag=${2:-localhost/netchaos:dev}
command -v buildah >/dev/null || { echo "build-image: buildah is missing (apt-get install buildah)" >&2; exit 1; }
bins=("$build/src/cli/netchaos")
[[ -x $build/dpdk/netchaos-fwd ]] && bins+=("$build/dpdk/netchaos-fwd")
root=$(mktemp -d /tmp/netchaos-image.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/run/netchaos" "$root/tmp"
for b in "${bins[@]}"; do
  [[ -x $b ]] || { echo "build-image: $b is not built (cmake --build $build)" >&2; exit 1; }
  # Stripped: the image carries no debug info (the build keeps it).
  objcopy --strip-debug "$b" "$root/usr/local/bin/$(basename "$b")"
  # Every shared library it loads, and the loader, at the same paths as here.
  ldd "$b" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
# The distribution tables tc ships (netem's normal/pareto tables) and the project's profiles.
[[ -d /usr/lib/x86_64-linux-gnu/tc ]] && mkdir -p "$root/usr/lib/x86_64-linux-gnu" && cp -r /usr/lib/x86_64-linux-gnu/tc "$root/usr/lib/x86_64-linux-gnu/"
mkdir -p "$root/usr/share/netchaos" && cp -r "$here/profiles" "$root/usr/share/netchaos/"
c=$(buildah from scratch)
trap 'buildah rm "$c" >/dev/null 2>&1; rm -rf "$root"' EXIT
buildah copy "$c" "$root" / >/dev/null
buildah config --entrypoint '["/usr/local/bin/netchaos"]' --cmd 'reflect --listen 0.0.0.0:9797' \
  --label org.opencontainers.image.title=netchaos --label "org.opencontainers.image.revision=$(git -C "$here" rev-parse HEAD)" "$c"
buildah commit --rm "$c" "$tag" >/dev/null
trap 'rm -rf "$root"' EXIT
echo "built $tag: $(du -sh "$root" | cut -f1) of files ($(printf '%s ' "${bins[@]##*/}"))"
