"""Benign device lives written with scapy: whole TCP conversations (handshake, data and its
acknowledgements, FIN or RST) with timestamps spread over tens of minutes of device time, so a
replay of seconds runs the detections on the device's own clock. None of them may raise an alert.

  telemetry  MQTT to the broker every few seconds on one connection
  firmware   the same telemetry, and one large HTTP download from one server
  reboot     the device reboots three times: its old connection is reset when the broker next
             speaks on it, and it opens a new one to the same broker
"""

import collections
import os
import random
import struct

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapWriter

Life = collections.namedtuple("Life", "name pcap device first_ms last_ms")

DEVICE_MAC, GATEWAY_MAC = "02:00:5e:10:00:14", "02:00:5e:10:00:01"
BROKER = ("203.0.113.30", 8883)
FIRMWARE_SERVER = ("203.0.113.40", 80)
MSS = 1448
RTT = 0.03


class Conversation:
    """One TCP connection between the device and a server, written packet by packet."""

    def __init__(self, writer, device, port, server):
        self.writer = writer
        self.device, self.port = device, port
        self.server, self.server_port = server
        self.seq, self.ack = random.randrange(1 << 31), random.randrange(1 << 31)

    def packet(self, t, outbound, flags, payload=b""):
        if outbound:
            frame = (Ether(src=DEVICE_MAC, dst=GATEWAY_MAC) / IP(src=self.device, dst=self.server) /
                     TCP(sport=self.port, dport=self.server_port, flags=flags, seq=self.seq,
                         ack=self.ack if "A" in flags else 0, window=64240))
            self.seq = (self.seq + len(payload) + (1 if "S" in flags or "F" in flags else 0)) % (
                1 << 32)
        else:
            frame = (Ether(src=GATEWAY_MAC, dst=DEVICE_MAC) / IP(src=self.server, dst=self.device) /
                     TCP(sport=self.server_port, dport=self.port, flags=flags, seq=self.ack,
                         ack=self.seq if "A" in flags else 0, window=65160))
            self.ack = (self.ack + len(payload) + (1 if "S" in flags or "F" in flags else 0)) % (
                1 << 32)
        if payload:
            frame = frame / Raw(payload)
        frame.time = t
        self.writer.write(frame)

    def open(self, t):
        self.packet(t, True, "S")
        self.packet(t + RTT, False, "SA")
        self.packet(t + RTT + 0.0002, True, "A")
        return t + RTT + 0.0002

    def exchange(self, t, request, answer):
        """The device sends request; the server acknowledges with answer (an MQTT PUBACK)."""
        self.packet(t, True, "PA", request)
        self.packet(t + RTT, False, "PA", answer)
        self.packet(t + RTT + 0.04, True, "A")

    def download(self, t, size, bytes_per_second):
        """size bytes from the server at a steady rate, the device acknowledging every second
        segment; returns when the last segment arrived. Full segments and the acknowledgements
        are scapy's frames with their sequence numbers and checksums patched, as building tens of
        thousands of frames one by one would take the test half a minute."""
        segment = Stamped(self, False, "A", b"\0" * MSS)
        acknowledgement = Stamped(self, True, "A")
        sent, segments = 0, 0
        while sent < size:
            chunk = min(MSS, size - sent)
            t += chunk / bytes_per_second
            if chunk == MSS:
                segment.write(t, self.ack, self.seq)
                self.ack = (self.ack + MSS) % (1 << 32)
            else:
                self.packet(t, False, "A", b"\0" * chunk)
            sent += chunk
            segments += 1
            if segments % 2 == 0 or sent == size:
                acknowledgement.write(t + 0.0001, self.seq, self.ack)
        return t

    def close(self, t):
        self.packet(t, True, "FA")
        self.packet(t + RTT, False, "FA")
        self.packet(t + RTT + 0.0002, True, "A")

    def reset_by_device(self, t, stray):
        """The server speaks on a connection the device forgot (it rebooted): the device resets."""
        self.packet(t, False, "PA", stray)
        frame = (Ether(src=DEVICE_MAC, dst=GATEWAY_MAC) / IP(src=self.device, dst=self.server) /
                 TCP(sport=self.port, dport=self.server_port, flags="R", seq=self.seq))
        frame.time = t + 0.0003
        self.writer.write(frame)


def ones_complement_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


class Stamped:
    """One scapy frame of a conversation written many times with other sequence and
    acknowledgement numbers (IPv4, no TCP options): the TCP checksum is the frame's own with the
    two numbers added in."""

    def __init__(self, conversation, outbound, flags, payload=b""):
        captured = []
        writer = conversation.writer
        conversation.writer = type("Capture", (), {"write": lambda _, f: captured.append(f)})()
        seq, ack = conversation.seq, conversation.ack
        conversation.seq = conversation.ack = 0
        conversation.packet(0, outbound, flags, payload)
        conversation.writer, conversation.seq, conversation.ack = writer, seq, ack
        frame = captured[0]
        frame[TCP].ack = 0
        frame[TCP].chksum = 0
        self.bytes = bytearray(bytes(frame))
        self.writer = writer
        tcp = 14 + 20
        source, destination = self.bytes[26:30], self.bytes[30:34]
        length = len(self.bytes) - tcp
        pseudo = source + destination + struct.pack("!BBH", 0, 6, length)
        self.base = ones_complement_sum(bytes(pseudo) + bytes(self.bytes[tcp:]))
        self.tcp = tcp

    def write(self, t, seq, ack):
        struct.pack_into("!II", self.bytes, self.tcp + 4, seq, ack)
        total = self.base + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF)
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        struct.pack_into("!H", self.bytes, self.tcp + 16, ~total & 0xFFFF)
        seconds = int(t)
        self.writer.write_packet(bytes(self.bytes), sec=seconds,
                                 usec=int(round((t - seconds) * 1e6)))


PUBLISH = b"\x32\x70\x00\x16devices/sensor/telemetry\x00\x01" + b"{\"t\":21.5}" * 9
PUBACK = b"\x40\x02\x00\x01"
CONNECT = b"\x10\x2c\x00\x04MQTT\x04\xc2\x00\x3c" + b"\x00\x06sensor" + b"\x00\x20" + b"k" * 32
CONNACK = b"\x20\x02\x00\x00"


def mqtt_session(writer, device, port, start, end, every_s):
    """Connects to the broker at start and publishes every every_s seconds until end; returns the
    open conversation."""
    session = Conversation(writer, device, port, BROKER)
    t = session.open(start)
    session.exchange(t + 0.001, CONNECT, CONNACK)
    t += every_s
    while t < end:
        session.exchange(t, PUBLISH, PUBACK)
        t += every_s
    return session


def write_life(path, start_s, span_s, build):
    with PcapWriter(path, linktype=1, sync=False) as writer:
        build(writer, start_s, start_s + span_s)


def telemetry(work, start_s, span_s, device="198.51.100.20"):
    def build(writer, start, end):
        mqtt_session(writer, device, 41001, start, end, 5).close(end)
    path = os.path.join(work, "telemetry.pcap")
    write_life(path, start_s, span_s, build)
    return Life("telemetry", path, device, int(start_s * 1000), int((start_s + span_s) * 1000))


def firmware(work, start_s, span_s, size=24 * 1024 * 1024, device="198.51.100.21"):
    """The download starts a quarter into the life, at 400 kB/s."""
    def build(writer, start, end):
        # Written in time order: telemetry up to the download, the download, telemetry after.
        begin = start + span_s / 4
        session = mqtt_session(writer, device, 41002, start, begin, 10)
        http = Conversation(writer, device, 50400, FIRMWARE_SERVER)
        t = http.open(begin)
        http.packet(t + 0.001, True, "PA",
                    b"GET /firmware/v2.4.1.bin HTTP/1.1\r\nHost: updates.example\r\n\r\n")
        http.packet(t + RTT, False, "PA",
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        t = http.download(t + RTT + 0.001, size, 400 * 1024)
        http.close(t + 0.01)
        t += 1
        while t < end:
            session.exchange(t, PUBLISH, PUBACK)
            t += 10
        session.close(end)
    path = os.path.join(work, "firmware.pcap")
    write_life(path, start_s, span_s, build)
    return Life("firmware", path, device, int(start_s * 1000), int((start_s + span_s) * 1000))


def reboot(work, start_s, span_s, device="198.51.100.22"):
    """Three reboots, each a 40 s silence; the broker's next keep-alive on the old connection is
    answered with a reset, and the device reconnects from a new port."""
    def build(writer, start, end):
        stretch = span_s / 4
        port = 41100
        t = start
        for life in range(4):
            until = min(t + stretch, end)
            session = mqtt_session(writer, device, port + life, t, until, 5)
            if life == 3:
                session.close(end)
                break
            session.reset_by_device(until + 20, b"\xd0\x00")
            t = until + 40
    path = os.path.join(work, "reboot.pcap")
    write_life(path, start_s, span_s, build)
    return Life("reboot", path, device, int(start_s * 1000), int((start_s + span_s) * 1000))
