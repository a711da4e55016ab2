#!/usr/bin/env bash
# Send-grid accuracy at the top rate: 10000 probes/s for 10 s to a reflector over a veth.
# Drift = the last send's lateness against its grid slot, over the run's length (deadlines
# are absolute, so a slow sender shows up there); also the achieved rate over the send span.
#   sudo NETCHAOS=build/src/cli/netchaos [NC_PROBE_ARGS=--realtime] bench/probe/grid_drift.sh [RATE] [SECONDS]
source "$(dirname "$0")/netns.bash"
rate=${1:-10000} secs=${2:-10}
ip netns exec "$NSA" "$NETCHAOS" probe "$IPB:7777" -r "$rate" -d "${secs}s" -t 500ms -j -q ${NC_PROBE_ARGS:-} >"$OUT/probe.jsonl"
python3 - "$OUT/probe.jsonl" "$rate" "$(uptime)" <<'PY'
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])][-1]
rate = float(sys.argv[2])
grid = (p["sent"] - 1) / rate
print(f"rate {rate:g}/s: sent {p['sent']} received {p['received']} loss {p['loss']*100:.3f}%")
print(f"last send {p['send_last_error_us']:.1f} us after its slot: drift {p['send_last_error_us'] / 1e6 / grid * 100:+.4f}% of {grid:.4f} s; "
      f"achieved rate over the send span {(p['sent'] - 1) / p['send_span_s']:.1f}/s")
print(f"send timer error: max {p['send_error_max_us']:.1f} us, mean {p['send_error_mean_us']:.2f} us, "
      f"sends late by more than a period: {p['sends_late_by_a_period']}")
print(f"realtime sender: {p['realtime']}; rtt mean {p['rtt_mean_ms']*1000:.1f} us sigma {p['rtt_stddev_ms']*1000:.1f} us; host: {sys.argv[3].strip()}")
PY
