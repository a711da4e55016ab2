# Sourced by tests/integration/fwd_lcores_*.sh (after tests/lib/common.sh): netchaos-fwd
# --lcores 2 on virtual ports (net_null, net_pcap) started directly, no netns.
lc_requirements() {
  need_root
  need_cmd python3
  [[ -n ${NETCHAOS_FWD:-} && -x $NETCHAOS_FWD ]] || skip "netchaos-fwd not built (libdpdk missing? run scripts/setup-deps.sh): '${NETCHAOS_FWD:-}'"
  (( $(nproc) >= 2 )) || skip "--lcores 2 needs 2 cpus for EAL's -l 0-1, this host has $(nproc)"
  tmp=$(mktemp -d /tmp/nc-lcores.XXXXXX) || fail "mktemp"
  nc_defer "rm -rf '$tmp'"
  LC_PREFIX=lc$$
  nc_defer "rm -rf /var/run/dpdk/$LC_PREFIX-*"
  LC_N=0
}

# lc_start LOG VDEV-ARGS... -- FWD-ARGS...: starts netchaos-fwd with LC_LCORES (default 2) lcores (-l 0-1) in the
# background (LC_PID, killed on exit), its control socket LC_SOCK; waits until it forwards.
# A vdev EAL cannot create (PMD not installed) skips the test.
lc_start() {
  local log=$1; shift
  local vdevs=()
  while [[ $1 != -- ]]; do vdevs+=("--vdev=$1"); shift; done
  shift
  LC_N=$((LC_N + 1))
  LC_SOCK=$tmp/ctl$LC_N.sock LC_LOG=$log
  local n=${LC_LCORES:-2}
  "$NETCHAOS_FWD" --no-huge --no-shconf -m 1024 --no-pci --file-prefix "$LC_PREFIX-$LC_N" --log-level=lib.eal:4 -l 0-$((n - 1)) \
    "${vdevs[@]}" -- --lcores "$n" --control "$LC_SOCK" "$@" </dev/null >"$log" 2>&1 &
  LC_PID=$!
  nc_defer "kill -9 $LC_PID"
  for _ in $(seq 600); do
    grep -q "^netchaos-fwd: forwarding" "$log" && return 0
    kill -0 $LC_PID 2>/dev/null || break
    sleep 0.1
  done
  if grep -qiE "(failed to|cannot|unable to).*(driver|vdev|probe)|Driver cannot attach|not (found|supported)" "$log"; then
    cat "$log"; skip "EAL cannot create the virtual ports (${vdevs[*]}): PMD missing?"
  fi
  cat "$log"; fail "netchaos-fwd did not start forwarding within 60 s"
}

# lc_hogs: threads of other processes that used half a cpu or more over the next second.
lc_hogs() {
  python3 - $LC_PID <<'PY'
import os, sys, time
mine = sys.argv[1]
def ticks():
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit() or p == mine: continue
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                f = open(f"/proc/{p}/task/{t}/stat").read()
                comm = f[f.index("(") + 1:f.rindex(")")]
                x = f[f.rindex(")") + 2:].split()
                out[(p, t, comm)] = (int(x[11]) + int(x[12]), int(x[36]))
        except OSError: pass
    return out
a = ticks(); time.sleep(1); b = ticks()
hz = os.sysconf("SC_CLK_TCK")
print("; ".join(f"{c} (pid {p} tid {t}) {100 * (v[0] - a[k][0]) / hz:.0f}% of cpu {v[1]}"
                for k, v in b.items() if k in a for (p, t, c) in [k] if v[0] - a[k][0] >= 0.5 * hz))
PY
}

# lc_wait_lanes: until every lcore has sent something (up to 30 s). A worker lcore that never
# runs because another process spins on its cpu (another forwarder pinned there) skips the
# test, naming it: the test needs both cpus; anything else fails.
lc_wait_lanes() {
  for _ in $(seq 300); do
    lc_stats | python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if all(l["tx"] > 0 for l in s["lanes"]) else 1)' && return 0
    sleep 0.1
  done
  local hogs; hogs=$(lc_hogs)
  cat "$LC_LOG"
  [[ -n $hogs ]] && skip "a worker lcore never ran in 30 s: another process spins on the cpus --lcores 2 needs: $hogs"
  fail "a worker lcore sent nothing in 30 s, and no other process spins on its cpu"
}

# lc_stop: SIGINT (the forwarder drains or drops as told), waits up to 60 s for its exit 0
# (20 s when another process spins on its cpus).
# The worker lcore must run to see the flag: when another process spins on its cpu, this
# kernel (EEVDF) has been seen to leave it waiting for seconds; that is said, not failed.
lc_stop() {
  kill -INT $LC_PID 2>/dev/null
  local hogs="" i
  for i in $(seq 600); do
    kill -0 $LC_PID 2>/dev/null || break
    # After 20 s, a spinner on our cpus explains it (and waiting longer does not help).
    if ((i == 200)); then hogs=$(lc_hogs); [[ -n $hogs ]] && break; fi
    sleep 0.1
  done
  if kill -0 $LC_PID 2>/dev/null; then
    [[ -n $hogs ]] || { cat "$LC_LOG"; fail "netchaos-fwd did not stop within 60 s of SIGINT"; }
    echo "note: netchaos-fwd not stopped 60 s after SIGINT while other processes spin on its cpus ($hogs); killed"
    kill -9 $LC_PID; wait $LC_PID 2>/dev/null
    rm -rf "/var/run/dpdk/$LC_PREFIX-$LC_N"
    return 1
  fi
  wait $LC_PID || { cat "$LC_LOG"; fail "netchaos-fwd exited $?"; }
  rm -rf "/var/run/dpdk/$LC_PREFIX-$LC_N"
}

# lc_stats > FILE: one stats reply.
lc_stats() {
  python3 - "$LC_SOCK" <<'PY' || fail "stats request failed"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"stats"}\n')
r = s.makefile().readline()
sys.exit(0 if json.loads(r).get("ok") and print(r.strip()) is None else 1)
PY
}
