#!/usr/bin/python3
"""Writes a gateway-like capture for load runs: raw IP frames cut after the transport header
(as a capture with a small snap length keeps them), at a fixed packet rate of capture time.

    make_load_pcap.py OUT.pcap PACKETS RATE_PPS [FLOWS]

A device (10.20.0.2) talks with FLOWS peers (TCP and UDP, both directions, sizes 60-1500 bytes,
a few new flows every second), so every collection window holds thousands of flows and some
overflow.
"""

import random
import struct
import sys


def ipv4(src, dst, protocol, total, transport):
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, protocol, 0, src, dst)
    return header + transport


def main():
    out, packets, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    flows = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    rng = random.Random(7)
    device = bytes([10, 20, 0, 2])
    peers = [(bytes([10, 21 + i // 60000, (i // 250) % 240, 1 + i % 250]),
              rng.choice([443, 8883, 1883, 53, 123, 80, 5683, 8080, 9000 + i % 100]),
              40000 + i % 20000, rng.choice([6, 6, 6, 17])) for i in range(flows)]
    start = 1_700_000_000_000_000  # microseconds
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 96, 101))
        for n in range(packets):
            stamp = start + n * 1_000_000 // rate
            # A moving window of active flows, so flows start and end across collections.
            index = (rng.randrange(flows // 4) + n // (rate // 10 or 1)) % flows
            peer, service, ephemeral, protocol = peers[index]
            outbound = rng.random() < 0.5
            src, dst = (device, peer) if outbound else (peer, device)
            sport, dport = (ephemeral, service) if outbound else (service, ephemeral)
            total = rng.choice([60, 60, 52, 120, 576, 1500])
            if protocol == 6:
                transport = struct.pack(">HHIIBBHHH", sport, dport, n, n, 0x50, 0x18, 65535, 0, 0)
            else:
                transport = struct.pack(">HHHH", sport, dport, total - 20, 0)
            frame = ipv4(src, dst, protocol, max(total, 20 + len(transport)), transport)
            f.write(struct.pack("<IIII", stamp // 1_000_000, stamp % 1_000_000, len(frame),
                                max(total, len(frame))))
            f.write(frame)


if __name__ == "__main__":
    main()
