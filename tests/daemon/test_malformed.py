#!/usr/bin/env python3
# Malformed packets over UDP and TCP (truncated header, compression loop,
# label over 63, name over 255, bad OPT, seeded random bytes and mutations):
# ddnsd answers FORMERR or nothing, never crashes, and keeps serving.
import os
import random
import socket
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402

FORMERR = 1


def header(qid=0xBEEF, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def question(name=b"\x03www\x07example\x04test\x00", qtype=1, qclass=1):
    return name + struct.pack("!HH", qtype, qclass)


def opt(owner=b"\x00", size=1232, rdata=b"", rdlen=None):
    return owner + struct.pack("!HHIH", 41, size, 0,
                               len(rdata) if rdlen is None else rdlen) + rdata


# (name, packet): each must get FORMERR or no answer at all.
CASES = [
    ("truncated header", b"\xbe\xef\x00\x00\x00"),
    ("header only, qdcount 1", header()),
    ("truncated question", header() + b"\x03www\x07exam"),
    ("question without type", header() + b"\x03www\x07example\x04test\x00\x00"),
    ("compression loop", header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1)),
    ("forward pointer", header() + b"\xc0\x20" + struct.pack("!HH", 1, 1) + b"\x00" * 20),
    ("pointer out of packet", header() + b"\x03www\xff\xff" + struct.pack("!HH", 1, 1)),
    ("label 64", header() + bytes([64]) + b"a" * 64 + b"\x00" + struct.pack("!HH", 1, 1)),
    ("name over 255", header() + (b"\x3f" + b"a" * 63) * 4 + b"\x00" + struct.pack("!HH", 1, 1)),
    ("two questions, one truncated", header(qd=2) + question() + b"\x03abc"),
    ("OPT not at root", header(ar=1) + question() + opt(owner=b"\x01x\x00")),
    ("two OPTs", header(ar=2) + question() + opt() + opt()),
    ("OPT rdlen past end", header(ar=1) + question() + opt(rdlen=40)),
    ("OPT option truncated", header(ar=1) + question() + opt(rdata=b"\x00\x0a\x00\x08abc")),
    ("answer count lies", header(an=3) + question()),
]


class MalformedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-malformed-")
        zone = t.write_file(os.path.join(cls.tmp.name, "z.zone"), t.example_zone())
        cls.d = t.Ddnsd(zones={"example.test": zone}, threads=2).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log()
        cls.d.cleanup()
        cls.tmp.cleanup()
        assert rc == 0, f"ddnsd exit code {rc}\n{log}"

    def assert_serving(self):
        self.assertTrue(self.d.alive(), self.d.log())
        for host, port in self.d.listeners:
            r = t.dig(host, port, "www.example.test", "A")
            self.assertEqual(r.status, "NOERROR", r.output)
            rs = t.tcp_exchange(host, port, [t.make_query("www.example.test", qid=5)])
            self.assertEqual(len(rs), 1)

    def check_reply(self, name, packet, reply):
        if reply is None:
            return
        h = t.parse_header(reply)
        self.assertIsNotNone(h, f"{name}: reply shorter than a header")
        self.assertTrue(h["qr"], name)
        self.assertEqual(h["id"], struct.unpack("!H", packet[:2])[0], name)
        self.assertEqual(h["rcode"], FORMERR, f"{name}: rcode {h['rcode']}")

    def test_crafted_udp(self):
        for host, port in self.d.listeners:
            for name, packet in CASES:
                with self.subTest(case=name, host=host):
                    self.check_reply(name, packet, t.udp_exchange(host, port, packet, timeout=0.3))
        self.assert_serving()

    def test_crafted_tcp_each_connection(self):
        for name, packet in CASES:
            with self.subTest(case=name):
                rs = t.tcp_exchange(self.d.host4, self.d.port4, [packet], timeout=0.5)
                self.check_reply(name, packet, rs[0] if rs else None)
        self.assert_serving()

    def test_crafted_tcp_pipelined_then_valid(self):
        # All bad messages then a good one on one connection, in one write:
        # the good one still gets its answer (framing is intact).
        good = t.make_query("www.example.test", qid=0x600D)
        payload = b"".join(struct.pack("!H", len(p)) + p for _, p in CASES)
        payload += struct.pack("!H", len(good)) + good
        with socket.create_connection((self.d.host4, self.d.port4), timeout=3) as s:
            s.sendall(payload)
            buf = b""
            found = False
            for _ in range(200):  # bounded read loop
                try:
                    chunk = s.recv(65535)
                except socket.timeout:
                    break
                if not chunk:
                    break
                buf += chunk
                pos = 0
                while len(buf) - pos >= 2:
                    n = struct.unpack("!H", buf[pos:pos + 2])[0]
                    if len(buf) - pos - 2 < n:
                        break
                    h = t.parse_header(buf[pos + 2:pos + 2 + n])
                    if h and h["id"] == 0x600D:
                        found = True
                        self.assertEqual(h["rcode"], 0)
                    elif h:
                        self.assertEqual(h["rcode"], FORMERR)
                    pos += 2 + n
                if found:
                    break
            self.assertTrue(found)

    def test_tcp_garbage_length_and_close(self):
        # A length prefix promising more than is sent, then a close.
        with socket.create_connection((self.d.host4, self.d.port4), timeout=2) as s:
            s.sendall(b"\xff\xff" + b"\x00" * 100)
        with socket.create_connection((self.d.host4, self.d.port4), timeout=2) as s:
            s.sendall(b"\x00\x00")  # zero-length message
        self.assert_serving()

    def test_random_packets(self):
        rng = random.Random(20261121)
        base = t.make_query("www.example.test", "A", qid=1, edns=1232)
        hosts = self.d.listeners
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s4:
            s4.settimeout(0.02)
            for i in range(1000):
                if i % 2:
                    pkt = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
                else:  # mutate a valid query: flips, truncation, insertions
                    b = bytearray(base)
                    for _ in range(rng.randrange(1, 6)):
                        op = rng.randrange(3)
                        if op == 0 and b:
                            b[rng.randrange(len(b))] = rng.randrange(256)
                        elif op == 1 and b:
                            del b[rng.randrange(len(b)):]
                        else:
                            b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
                    pkt = bytes(b)
                s4.sendto(pkt, (self.d.host4, self.d.port4))
                try:
                    reply, _ = s4.recvfrom(65535)
                    h = t.parse_header(reply)
                    self.assertIsNotNone(h)
                    self.assertTrue(h["qr"])
                    if len(pkt) >= 2:
                        self.assertEqual(reply[:2], pkt[:2])
                except socket.timeout:
                    pass
        # The same over TCP, 100 messages per connection.
        for c in range(5):
            msgs = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
                    for _ in range(100)]
            t.tcp_exchange(hosts[c % len(hosts)][0], hosts[c % len(hosts)][1], msgs,
                           timeout=0.5)
        self.assert_serving()


if __name__ == "__main__":
    unittest.main(verbosity=2)
