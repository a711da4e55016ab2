#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages. Idempotent and
# fast when nothing is missing: it asks dpkg first and only calls apt for what lacks.
set -euo pipefail
case ${1:-} in -h|--help) echo "usage: scripts/setup-deps.sh   (root; no options)"; sed -n '2,3p' "$0"; exit 0 ;; esac
pkgs=(
  build-essential cmake pkg-config ninja-build ccache
  libnl-3-dev libnl-route-3-dev libmnl-dev
  libdpdk-dev dpdk dpdk-dev   # dpdk-dev: dpdk-testpmd, the peer in bench/fwd
  libboost-program-options-dev libtomlplusplus-dev catch2 nlohmann-json3-dev
  libssl-dev   # libcrypto: HMAC-SHA256 of probe datagrams (reflect/probe --key-file)
  clang-14 libclang-rt-14-dev
  iproute2 ethtool irtt iputils-ping strace procps psmisc
  nginx-light curl   # the service under chaos in tests/integration/run_fidelity_nginx.sh
  libboost-dev libcurl4-openssl-dev wrk   # Asio/Beast for the HTTP proxy; its probe, load peer
  prometheus-cpp-dev prometheus   # exporters (core + pull); promtool and a real server in tests
  libpcap-dev   # trace import of captures (src/trace)
  podman buildah   # a real container runtime for target_podman.sh; buildah builds the image (scripts/build-image.sh)
  qemu-system-x86 busybox-static cpio kmod xz-utils zstd
  chromium
)
[[ ${NETCHAOS_SKIP_CHROMIUM:-0} == 1 ]] && pkgs=("${pkgs[@]/chromium}")
need=()
for p in "${pkgs[@]}"; do
  [[ -z $p ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]} == 0)); then
  echo "setup-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "setup-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# An old or missing package list makes apt miss packages; refresh once per run.
timeout 600 apt-get -o DPkg::Lock::Timeout=600 update -qq
timeout 1800 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
