# Sourced by tests/kernel/*.sh inside the qemu guest (bash, busybox tools, iproute2, ping,
# netchaos). Two namespaces a (va 10.0.0.1) and b (vb 10.0.0.2) on a veth pair.
set -u
T=$(basename "$0" .sh)
P=/nc/profiles
fail() { echo "FAIL: $T: $*"; exit 1; }
ok() { echo "ok: $T: $*"; }
# Inside namespace a already (see enter_a), commands for a run directly: every
# `ip netns exec` costs a mount namespace and a sysfs mount, slow under TCG.
na() { if [[ -n ${IN_A:-} ]]; then "$@"; else ip netns exec a "$@"; fi; }
nb() { ip netns exec b "$@"; }
# check DESC AWK-EXPR : float comparisons
check() { local d=$1; shift; awk "BEGIN{exit !($*)}" || fail "$d: $*"; ok "$d ($*)"; }
setup_pair() {
  ip netns add a && ip netns add b || fail "netns"
  ip link add va type veth peer name vb && ip link set va netns a && ip link set vb netns b || fail "veth"
  ip -n a addr add 10.0.0.1/24 dev va && ip -n b addr add 10.0.0.2/24 dev vb
  for n in a b; do ip -n $n link set lo up; done
  ip -n a link set va up && ip -n b link set vb up
  trap teardown EXIT
  na ping -c 1 -W 2 10.0.0.2 >/dev/null || na ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "no baseline connectivity"
}
# enter_a "$@": the first call (outer) sets up the pair and re-runs this script inside
# namespace a; it returns only in the inner run.
enter_a() {
  [[ ${1:-} == --inner ]] && return 0
  setup_pair
  ip netns exec a env IN_A=1 bash "$0" --inner
  exit $?
}
teardown() {
  na netchaos clear --all >/dev/null 2>&1
  pkill -f 'netchaos reflect' 2>/dev/null
  ip netns del a 2>/dev/null; ip netns del b 2>/dev/null
  rm -rf /run/netchaos/ledger/*
}
# rtts NS-CMD COUNT INTERVAL: one RTT (ms) per line from ping's per-packet output
rtts() { na ping -c "$1" -i "$2" -W 2 10.0.0.2 2>/dev/null | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p'; }
# stats of numbers on stdin: "n mean median sd iqr"
stats() { sort -n | awk '{v[NR]=$1; s+=$1; q+=$1*$1} END{if(!NR){print "0 0 0 0 0"; exit} m=s/NR; med=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; sd=sqrt(q/NR-m*m); iqr=v[int(NR*0.75)+1]-v[int(NR*0.25)+1]; printf "%d %.3f %.3f %.3f %.3f\n", NR, m, med, sd, iqr}'; }
# profile NAME BODY: a profile file in /tmp
profile() { printf 'name = "%s"\n%s\n' "$1" "$2" > "/tmp/$1.toml"; echo "/tmp/$1.toml"; }
ledger_count() { find /run/netchaos/ledger -name '*.json' 2>/dev/null | wc -l; }
