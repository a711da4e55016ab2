#!/usr/bin/env python3
"""pcap files for fwd_lcores_order.sh: write the input queues, check the output's per-flow order.

  write DIR: in{port}_q{queue}.pcap, each queue several UDP flows (as RSS would keep a flow on
             one queue) interleaved at random, each frame carrying its flow and sequence number.
  check DIR: per output file, per flow: sequence numbers received, reordered (a number below
             one already seen), the queue each flow left by. Prints JSON.
"""
import json, random, struct, sys

FLOWS = {0: 4, 1: 3}      # flows per queue, per rx port (port 0 = direction 0to1)
PER_FLOW = 700
MAGIC = b"NCSQ"

def frame(port, queue, flow, seq):
    payload = MAGIC + struct.pack("!BBHI", port, queue, flow, seq) + bytes(18)
    udp = struct.pack("!HHHH", 10000 + 100 * queue + flow, 9000, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xFFFF, 0, 64, 17, 0,
                               bytes([10, port, queue, flow + 1]), bytes([10, 9, 0, 1])))
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xFFFF) + (s >> 16)
    ip[10:12] = struct.pack("!H", ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF)
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + bytes(ip) + udp

def write(d):
    rng = random.Random(14)
    for port, nflows in FLOWS.items():
        for q in (0, 1):
            seqs = {f: 0 for f in range(nflows)}
            order = [f for f in range(nflows) for _ in range(PER_FLOW)]
            rng.shuffle(order)
            with open(f"{d}/in{port}_q{q}.pcap", "wb") as out:
                out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
                for i, f in enumerate(order):
                    fr = frame(port, q, f, seqs[f])
                    seqs[f] += 1
                    out.write(struct.pack("<IIII", 0, i, len(fr), len(fr)) + fr)

def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl

def check(d):
    flows, unknown = {}, 0
    for port in (0, 1):           # out{port}: what port `port` sent, i.e. rx on the other port
        for q in (0, 1):
            for fr in read(f"{d}/out{port}_q{q}.pcap"):
                i = fr.find(MAGIC)
                if i < 0:
                    unknown += 1
                    continue
                rx_port, rx_q, flow, seq = struct.unpack("!BBHI", fr[i + 4:i + 12])
                k = f"{rx_port}.{rx_q}.{flow}"
                st = flows.setdefault(k, {"received": 0, "reordered": 0, "max": -1, "left_by": set()})
                st["received"] += 1
                st["left_by"].add(f"{port}.{q}")
                if seq < st["max"]:
                    st["reordered"] += 1
                st["max"] = max(st["max"], seq)
    expected = {f"{p}.{q}.{f}" for p, n in FLOWS.items() for q in (0, 1) for f in range(n)}
    out = {"flows": len(flows), "expected_flows": len(expected), "per_flow": PER_FLOW,
           "received": sum(s["received"] for s in flows.values()),
           "expected": len(expected) * PER_FLOW,
           "reordered": sum(s["reordered"] for s in flows.values()),
           "flows_reordered": sum(1 for s in flows.values() if s["reordered"]),
           "unknown": unknown, "missing_flows": sorted(expected - set(flows)),
           # a flow received on port p queue q must leave port 1-p by tx queue q (lcore q)
           "wrong_queue": sorted(k for k, s in flows.items()
                                 if s["left_by"] != {f"{1 - int(k.split('.')[0])}.{k.split('.')[1]}"})}
    print(json.dumps(out))

if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
