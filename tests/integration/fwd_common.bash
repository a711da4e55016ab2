# Sourced by tests/integration/fwd_*.sh (after tests/lib/common.sh): bring the netns bench up
# around netchaos-fwd, talk to its control socket, run irtt across, read irtt's JSON.
fwd_requirements() {
  need_root
  for c in ip ethtool python3 irtt ping; do need_cmd "$c"; done
  [[ -n ${NETCHAOS_FWD:-} && -x $NETCHAOS_FWD ]] || skip "netchaos-fwd not built (libdpdk missing? run scripts/setup-deps.sh): '${NETCHAOS_FWD:-}'"
  ip link add ncprobe$$ type veth peer name ncprobeb$$ 2>/dev/null || skip "cannot create veth pairs here"
  ip link del ncprobe$$ 2>/dev/null
}

# fwd_up [bench-netns args...]: sets P (prefix), SOCK, CLI/SRV/FWD namespaces; torn down on exit.
fwd_up() {
  P=${P:-nf$$}
  SOCK=/run/netchaos/$P-fwd.sock CLI=$P-cli SRV=$P-srv FWDNS=$P-fwd
  nc_defer "'$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh' down --prefix $P"
  NETCHAOS_FWD=$NETCHAOS_FWD "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh" up --prefix "$P" "$@" || fail "bench-netns up failed"
  FWD_PID=$(cat "/run/netchaos/$P.bench/fwd.pid")
  FWD_LOG=/run/netchaos/$P.bench/fwd.log
  bench_pin_off_fwd "$P"
}

# fwd_alive PID: running and not a zombie (the orphaned forwarder is reaped by init, later).
fwd_alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]; }

# fwd_ctl JSON: one request, the reply on stdout; fails the test if the forwarder said ok:false.
fwd_ctl() {
  python3 - "$SOCK" "$1" <<'PY' || fail "control request failed: $1"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
r = s.makefile().readline()
print(r.strip())
sys.exit(0 if json.loads(r).get("ok") else 1)
PY
}

# fwd_load PROFILE.toml [direction]: through `netchaos apply --backend dpdk`, the path users
# take. No fallback to the raw socket: a CLI that cannot do it fails the test.
fwd_load() {
  local f=$1 dir=${2:-both}
  "$NETCHAOS" apply "$f" --backend dpdk --control "$SOCK" --direction "$dir" >/dev/null || fail "netchaos apply $f failed"
}

# irtt_robust FILE -> "median robust_sigma" (ms) of irtt's per-packet RTTs, robust sigma =
# IQR / 1.349. A few late replies (a stalled host, irtt's own scheduling) move the mean and
# the standard deviation of a quiet path by milliseconds, the median and the IQR not.
irtt_robust() {
  python3 - "$1" <<'PY'
import json, sys
v = sorted(t["delay"]["rtt"] / 1e6 for t in json.load(open(sys.argv[1]))["round_trips"]
           if t.get("lost") in (False, "false") and "rtt" in t.get("delay", {}))
def q(f):
    k = f * (len(v) - 1); i = int(k)
    return v[i] + (v[min(i + 1, len(v) - 1)] - v[i]) * (k - i)
print(f"{q(0.5):.4f} {(q(0.75) - q(0.25)) / 1.349:.4f}")
PY
}

# fwd_stalled_ms: the forwarder's time in stalls so far (ms).
fwd_stalled_ms() { fwd_stat "round(s['stalls']['total_ns'] / 1e6)"; }

# fwd_stat EXPR: evaluate a Python expression over the stats reply `s`, e.g. "s['directions']['0to1']['rx']".
fwd_stat() {
  fwd_ctl '{"cmd":"stats"}' | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

# irtt server in srv for the rest of the test.
fwd_irtt_server() {
  ip netns exec "$SRV" irtt server -i 0 -b 10.213.0.2:2112 >/dev/null 2>&1 &
  nc_defer "kill $!"
  sleep 0.3
}

# fwd_irtt OUT.json INTERVAL DURATION: irtt client in cli, JSON to OUT.
fwd_irtt() {
  ip netns exec "$CLI" irtt client -Q -i "$2" -d "$3" -o "$1" 10.213.0.2:2112 || fail "irtt client failed"
}

# irtt_field OUT.json EXPR: Python expression over the JSON `j`.
irtt_field() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# Profiles are written into a temporary directory removed on exit.
fwd_tmp() { T=$(mktemp -d /tmp/ncfwd.XXXXXX); nc_defer "rm -rf $T"; }

# fwd_reflector: netchaos reflect in srv on 10.213.0.2:7777 for the rest of the test.
fwd_reflector() {
  ip netns exec "$SRV" "$NETCHAOS" reflect --listen 10.213.0.2:7777 -q 2>"$T/reflect.log" &
  nc_defer "kill $!"
  sleep 0.3
}
