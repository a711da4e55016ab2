#!/usr/bin/env bash
# `netchaos run` with a command line that is not UTF-8 (issue 11 item 9): the reports are
# written with the bad bytes replaced, the exit code is the verdict's (here 1: a threshold
# set to fail), and the run's temporary directory is gone afterwards. The forwarder runs
# on net_null ports (it only has to accept the phases); the probe crosses loopback in a
# namespace of its own.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
need_root
need_cmd python3
[[ -n ${NETCHAOS_FWD:-} && -x $NETCHAOS_FWD ]] || skip "netchaos-fwd not built (libdpdk missing?): '${NETCHAOS_FWD:-}'"
T=$(mktemp -d /tmp/ncrun.XXXXXX)
nc_defer "rm -rf $T"
mkdir -p "$T/tmp"
NS=ncrr$$
nc_netns "$NS"
# A keyed reflector: the experiment's [probe] key_file must reach the probe, or no replies.
printf 'run-report-test-key\n' >"$T/probe.key"
chmod 600 "$T/probe.key"
ip netns exec "$NS" "$NETCHAOS" reflect --listen 127.0.0.1:7777 --key-file "$T/probe.key" 2>"$T/reflect.log" &
nc_defer "kill $!"
SOCK=$T/fwd.sock
"$NETCHAOS_FWD" --no-huge --no-shconf -m 256 --no-pci --file-prefix "ncrr$$" --log-level=lib.eal:4 \
  --vdev=net_null0,no-rx=1 --vdev=net_null1,no-rx=1 -l 0 -- --control "$SOCK" --pool 4096 --queue-capacity 65536 \
  >"$T/fwd.log" 2>&1 &
FPID=$!
nc_defer "kill $FPID; sleep 0.5; kill -9 $FPID; sleep 0.2; rm -rf /var/run/dpdk/ncrr$$"   # EAL leaves its runtime dir
for ((i = 0; i < 300; i++)); do [[ -S $SOCK ]] && break; sleep 0.1; done
[[ -S $SOCK ]] || fail "forwarder did not start: $(tail -3 "$T/fwd.log")"

cat >"$T/exp.toml" <<TOML
name = "utf8"
baseline = "1s"
[target]
backend = "dpdk"
control = "$SOCK"
[probe]
target = "127.0.0.1:7777"
netns = "$NS"
rate = 50
timeout = "300ms"
key_file = "probe.key"
[thresholds]
p99_rtt_max = "1ns"
[[phase]]
name = "tiny"
duration = "2s"
[phase.egress.delay]
mean = "1us"
TOML
TMPDIR=$T/tmp "$NETCHAOS" run "$T/exp.toml" --json "$T/r.json" --junit "$T/r.xml" --html "$T/r.html" -q \
  -- sh -c 'exit 0' x $'\xff\xfe' $'caf\xc3\xa9' >"$T/run.out" 2>&1
rc=$?
echo "run exited $rc"
[[ $rc == 1 ]] || fail "exit $rc, expected the verdict's 1 (p99_rtt_max 1ns missed): $(tail -5 "$T/run.out")"
python3 - "$T/r.json" <<'PY' || fail "report.json"
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")                      # strict: raises on invalid UTF-8
j = json.loads(raw)
argv = j["command"]["argv"] if isinstance(j.get("command"), dict) else None
text = json.dumps(j, ensure_ascii=False)
assert "\ufffd" in text and "café" in text, text[:400]
print("report.json: valid UTF-8, bad bytes replaced, exit_code", j.get("exit_code"))
PY
for f in r.xml r.html; do python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/$f" || fail "$f is not UTF-8"; done
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); s=[p for p in j["phases"] if p["name"]=="tiny"][0]["stats"]; assert s["received"] > 0, s' "$T/r.json" ||
  fail "no replies from the keyed reflector: [probe] key_file did not reach the probe"
left=$(ls -A "$T/tmp")
[[ -z $left ]] || fail "temporary files left behind: $left"
pass "run with a non-UTF-8 command: verdict exit 1 kept, JSON/JUnit/HTML valid UTF-8, no temporary directory left; keyed probe answered"
