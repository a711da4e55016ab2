#!/usr/bin/env python3
"""Reads the logs the bench/fwd scripts collect.
  parse.py testpmd LOG        mean forwarded Mpps (sum of both ports' Tx-pps), warm-up skipped
  parse.py fwd LOG            mean forwarded Mpps from netchaos-fwd --stats-interval lines
  parse.py precision LOG      release-error percentiles + stalls from the final stats line
  parse.py depth LOG          peak packets in flight and every drop counter
  parse.py fwd-now LOG        "TX UPTIME" of the latest stats line while the forwarder runs
  parse.py drop-share LOG     share of the frames received that the queue limit dropped
  parse.py pmd LOG            ns a packet inside the PMD's rx and tx calls (sampled), final stats
"""
import json, re, sys

SKIP = 2  # warm-up samples


def testpmd(log):
    v = [int(x) for x in re.findall(r"Tx-pps:\s+(\d+)", open(log).read())]
    sums = [v[i] + v[i + 1] for i in range(0, len(v) - 1, 2)]
    sums = [x for x in sums if x > 0][SKIP:]
    return sum(sums) / len(sums) / 1e6 if sums else 0.0


def stats_lines(log):
    out = []
    for line in open(log):
        if line.startswith('{"stats"') or line.startswith('{"type"'):
            out.append(json.loads(line)["stats"])
    return out


def fwd(log):
    s = stats_lines(log)[SKIP:]
    if len(s) < 2:
        return 0.0
    tx = lambda x: sum(d["tx"] for d in x["directions"].values())
    return (tx(s[-1]) - tx(s[0])) / (s[-1]["uptime_s"] - s[0]["uptime_s"]) / 1e6


def final(log):
    text = open(log).read()
    if text.startswith("{"):   # a stats reply saved from the control socket
        j = json.loads(text)
        return j.get("stats", j)
    for line in text.splitlines():
        if line.startswith("netchaos-fwd: stopped; "):
            return json.loads(line[len("netchaos-fwd: stopped; "):])
    raise SystemExit(f"{log}: no final stats line")


def precision(log):
    f = final(log)
    for name, d in f["directions"].items():
        r = d["release_error_ns"]
        print(f"{name}: {r['count']} releases: p50 {r['p50']/1e3:.2f} us, p90 {r['p90']/1e3:.2f} us, "
              f"p99 {r['p99']/1e3:.2f} us, p99.9 {r['p999']/1e3:.2f} us, max {r['max']/1e3:.1f} us; "
              f"{d['late_after_stall']} released late after a VM stall (not in the histogram)")
        fr = d.get("release_error_first_ns")
        if fr and fr["count"]:
            print(f"  first of each release instant ({fr['count']}): p50 {fr['p50']/1e3:.2f} us, p90 {fr['p90']/1e3:.2f} us, "
                  f"p99 {fr['p99']/1e3:.2f} us, p99.9 {fr['p999']/1e3:.2f} us")
    st = f["stalls"]
    print(f"stalls (loop gaps > {st.get('threshold_ns', 500000) / 1e3:g} us): {st['count']}, total {st['total_ns']/1e6:.1f} ms, max {st['max_ns']/1e6:.2f} ms "
          f"over {f['uptime_s']:.1f} s")


def depth(log):
    peak, drops = 0, {}
    for s in stats_lines(log):
        peak = max(peak, sum(d["in_flight"] for d in s["directions"].values()))
    f = final(log)
    for name, d in f["directions"].items():
        for k in ("dropped_queue_full", "dropped_tx", "dropped_fault"):
            drops[f"{name}.{k}"] = d[k]
    for p in f.get("ports", []):
        drops[f"port{p['port']}.rx_nombuf"] = p["rx_nombuf"]
        drops[f"port{p['port']}.imissed"] = p["imissed"]
    print(f"peak in flight: {peak}")
    print("drops: " + ", ".join(f"{k}={v}" for k, v in drops.items()))
    return peak, drops


if __name__ == "__main__":
    kind, log = sys.argv[1], sys.argv[2]
    if kind == "testpmd":
        print(f"{testpmd(log):.3f}")
    elif kind == "fwd-now":   # the log is being written: its last line may be incomplete
        for line in reversed(open(log).read().splitlines()):
            if line.startswith('{"stats"'):
                try:
                    s = json.loads(line)["stats"]
                except ValueError:
                    continue
                print(sum(d["tx"] for d in s["directions"].values()), s["uptime_s"])
                break
    elif kind == "fwd":
        print(f"{fwd(log):.3f}")
    elif kind == "precision":
        precision(log)
    elif kind == "depth":
        depth(log)
    elif kind == "pmd":   # the driver's share of a packet's time, the rest is the forwarder's
        p = final(log).get("pmd")
        print(f"inside the PMD (one burst call in 64 timed): rx {p['rx_ns_per_pkt']:.1f} ns, tx {p['tx_ns_per_pkt']:.1f} ns a packet"
              if p else "no pmd figures in the stats (a build before they existed)")
    elif kind == "drop-share":   # share of received frames dropped at the queue limit, whole run
        d = final(log)["directions"].values()
        print(f"{100 * sum(x['dropped_queue_full'] for x in d) / max(1, sum(x['rx'] for x in d)):.1f}%")
