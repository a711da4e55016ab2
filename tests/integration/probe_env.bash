# Sourced by tests/integration/probe_*.sh (not a test itself: ctest globs *.sh only).
# Two namespaces joined by a veth pair: $NSA (probe, $IPA) <-> $NSB (reflector, $IPB).
# Everything is removed on exit by common.sh's trap, whatever happens.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd ip
need_cmd python3
NSA=ncpa$$ NSB=ncpb$$ IPA=10.250.0.1 IPB=10.250.0.2
nc_netns "$NSA"
nc_netns "$NSB"
ip link add "pa$$" type veth peer name "pb$$" || fail "veth"
nc_defer "ip link del pa$$"
ip link set "pa$$" netns "$NSA" && ip link set "pb$$" netns "$NSB" || fail "move veth"
ip -n "$NSA" addr add "$IPA/24" dev "pa$$" && ip -n "$NSA" link set "pa$$" up || fail "addr a"
ip -n "$NSB" addr add "$IPB/24" dev "pb$$" && ip -n "$NSB" link set "pb$$" up || fail "addr b"
nc_offloads_off "$NSA" "pa$$"
nc_offloads_off "$NSB" "pb$$"
TMP=$(mktemp -d /tmp/ncprobe.XXXXXX)
nc_defer "rm -rf $TMP"

# start_reflector [ARGS...]: reflector in $NSB on $IPB:7777, its stderr in $TMP/reflect.log.
# Sets REFLECTOR_PID; it is killed on exit.
start_reflector() {
  ip netns exec "$NSB" "$NETCHAOS" reflect --listen "$IPB:7777" "$@" 2>>"$TMP/reflect.log" &
  REFLECTOR_PID=$!
  nc_defer "kill -TERM $REFLECTOR_PID; wait $REFLECTOR_PID"
  local i
  for ((i = 0; i < 50; i++)); do
    grep -q "listening on" "$TMP/reflect.log" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "reflector did not start: $(cat "$TMP/reflect.log")"
}
# stop_reflector: SIGINT, wait, and check it exited 0.
stop_reflector() {
  kill -INT "$REFLECTOR_PID"
  wait "$REFLECTOR_PID" || fail "reflector exited with $? on SIGINT"
}
probe_a() { ip netns exec "$NSA" "$NETCHAOS" probe "$@"; }
