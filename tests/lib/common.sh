# Sourced by integration tests. Gives: skip/fail helpers, unique names, and a cleanup
# trap that removes every namespace and process the test registered, whatever happens.
set -u
: "${NETCHAOS:?set by ctest}"
NC_TAG=nc$$
nc_cleanup_cmds=()
nc_on_exit() { local i; for ((i=${#nc_cleanup_cmds[@]}-1; i>=0; i--)); do eval "${nc_cleanup_cmds[i]}" >/dev/null 2>&1; done; }
trap nc_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
nc_defer() { nc_cleanup_cmds+=("$*"); }
skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }
need_root() { [[ $(id -u) == 0 ]] || skip "needs root (CAP_NET_ADMIN) for network namespaces"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "needs '$1' (run scripts/setup-deps.sh)"; }
# nc_netns NAME: create a namespace with lo up, removed on exit.
nc_netns() { ip netns add "$1" || fail "ip netns add $1"; nc_defer "ip netns del $1"; ip -n "$1" link set lo up; }
# nc_offloads_off NS IF: veth checksum offloads break frames that cross a user-space forwarder.
nc_offloads_off() { ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true; }
# float compare: nc_check "desc" EXPR  (awk expression, true = pass)
nc_check() { local d=$1; shift; awk "BEGIN{exit !($*)}" || fail "$d: $*"; echo "ok: $d ($*)"; }
# nc_expect CODE CMD...: run CMD, keep stdout+stderr in $NC_OUT ($tmp/out when the caller has
# a scratch dir $tmp), check the exit code; then nc_has / nc_lacks TEXT check that output.
# nc_expect CODE TEXT -- CMD...: the same, and the output must hold TEXT.
nc_expect() {
    local want=$1 msg=""; shift
    if [[ ${2:-} == -- ]]; then msg=$1; shift 2; fi
    NC_OUT=${tmp:+$tmp/out}
    if [[ -z $NC_OUT ]]; then NC_OUT=$(mktemp /tmp/nc-expect.XXXXXX); nc_defer "rm -f $NC_OUT"; fi
    "$@" >"$NC_OUT" 2>&1
    local got=$?
    [[ $got == "$want" ]] || { cat "$NC_OUT"; fail "'$*' exited $got, expected $want"; }
    (( got < 128 )) || fail "'$*' died of a signal"
    [[ -z $msg ]] || nc_has "$msg"
    echo "ok: ${*: -4} -> exit $want${msg:+, '$msg'}"
}
nc_has() { grep -qF -- "$1" "$NC_OUT" || { cat "$NC_OUT"; fail "output lacks: $1"; }; }
nc_lacks() { ! grep -qF -- "$1" "$NC_OUT" || { cat "$NC_OUT"; fail "output has: $1"; }; }

# bench_pin_off_fwd PREFIX: this shell, and so everything the test starts afterwards (irtt,
# probes, pings, curl, `run`), goes to the cpus no forwarding lcore of the netns bench PREFIX
# spins on (`scripts/bench-netns.sh cpus` says why: otherwise the forwarder counts the CFS
# slices they take beside it as stalls). With every cpu forwarding nothing is pinned.
bench_pin_off_fwd() {
  local free
  free=$("$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh" cpus --prefix "$1") || fail "bench-netns cpus --prefix $1"
  [[ -n $free ]] || { echo "note: every cpu forwards: the bench's processes are not pinned"; return 0; }
  taskset -pc "$free" $$ >/dev/null || fail "taskset -pc $free $$"
  echo "bench processes on cpu $free, off the forwarding lcores"
}
