#!/usr/bin/env python3
# Response rate limiting against a reflection-like load: queries "from" a
# victim's network (sockets bound to many 127.1.1.x addresses, as a spoofing
# attacker would make them appear) get at most the configured rate of full
# answers, the rest dropped or, every 2nd, truncated (TC=1, no records);
# each of many other networks (127.2.N.1) is limited on its own; a client
# elsewhere is answered in full, and TCP is never limited.
import os
import re
import select
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402

RATE = 5


def bound_socket(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.setblocking(False)
    return s


def drain(socks, until, into):
    """Reads every answer waiting on `socks` until the monotonic `until`,
    sorting them into into["full"] / into["tc"]."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select(socks, [], [], min(left, 0.05))
        for s in ready:
            while True:
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    break
                h = t.parse_header(data)
                if h is None:
                    continue
                if h["tc"]:
                    into["tc"] += 1
                    assert h["ancount"] == 0 and h["nscount"] == 0 and h["arcount"] == 0
                elif h["ancount"] > 0:
                    into["full"] += 1


class RrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-rrl-")
        zone = t.write_file(os.path.join(cls.tmp.name, "example.test.zone"), t.example_zone())
        cls.d = t.Ddnsd(zones={"example.test": zone}, listen=["127.0.0.1:0"], threads=2,
                        args=["--rrl", str(RATE), "--rrl-slip", "2"]).start()
        cls.query = t.make_query("www.example.test", "A", qid=7)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()
        cls.tmp.cleanup()

    def test_victim_gets_at_most_the_rate(self):
        # 40 source addresses in the victim's /24, 3 s at ~200 queries/s.
        socks = [bound_socket(f"127.1.1.{i}") for i in range(1, 41)]
        got = {"full": 0, "tc": 0}
        sent = 0
        start = time.monotonic()
        try:
            for rnd in range(60):  # bounded: 60 rounds of 10 queries, 50 ms apart
                for k in range(10):
                    socks[(rnd * 10 + k) % len(socks)].sendto(self.query, (self.d.host4, self.d.port4))
                    sent += 1
                drain(socks, time.monotonic() + 0.05, got)
            drain(socks, time.monotonic() + 0.5, got)
        finally:
            for s in socks:
                s.close()
        seconds = time.monotonic() - start
        limited = sent - got["full"]
        # Full answers: at most one second's worth per started second (BIND
        # semantics: a sustained flood owes its debt and gets no more).
        self.assertGreater(got["full"], 0)
        self.assertLessEqual(got["full"], RATE * (int(seconds) + 2), got)
        # slip 2: every 2nd limited answer comes back truncated.
        self.assertGreaterEqual(got["tc"], limited // 2 - 3, got)
        self.assertLessEqual(got["tc"], limited // 2 + 3, got)
        self.assertIn("rrl: positive answers to 127.1.1.0/24 over 5/s: limiting", self.d.log())

    def test_each_network_is_limited_on_its_own(self):
        # 50 networks, 2*RATE queries each within one second: each gets
        # exactly RATE full answers (none shares another's bucket).
        socks = [bound_socket(f"127.2.{n}.1") for n in range(50)]
        got = {"full": 0, "tc": 0}
        try:
            # Five networks at a time, so the server's socket buffers never
            # overflow on a busy machine (a lost query would look limited).
            for i, s in enumerate(socks):
                for _ in range(2 * RATE):
                    s.sendto(self.query, (self.d.host4, self.d.port4))
                if i % 5 == 4:
                    drain(socks, time.monotonic() + 0.03, got)
            drain(socks, time.monotonic() + 0.5, got)
        finally:
            for s in socks:
                s.close()
        # A second boundary in the middle can credit a network once more.
        self.assertGreaterEqual(got["full"], 50 * RATE)
        self.assertLessEqual(got["full"], 50 * (RATE + RATE))
        self.assertGreater(got["tc"], 0)

    def test_legitimate_client_and_tcp_are_answered_during_a_flood(self):
        victim = bound_socket("127.1.2.1")
        got = {"full": 0, "tc": 0}
        try:
            for _ in range(100):
                victim.sendto(self.query, (self.d.host4, self.d.port4))
            drain([victim], time.monotonic() + 0.2, got)
            self.assertLessEqual(got["full"], 2 * RATE)
            # The victim's network is limited over UDP...
            for _ in range(20):
                victim.sendto(self.query, (self.d.host4, self.d.port4))
            # ...but over TCP, which cannot be spoofed, always answered.
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.bind(("127.1.2.1", 0))
            tcp.settimeout(3)
            tcp.connect((self.d.host4, self.d.port4))
            for i in range(10):
                q = t.make_query("www.example.test", "A", qid=100 + i)
                tcp.sendall(len(q).to_bytes(2, "big") + q)
                n = int.from_bytes(t._recv_exact(tcp, 2), "big")
                h = t.parse_header(t._recv_exact(tcp, n))
                self.assertEqual((h["id"], h["rcode"], h["tc"], h["ancount"]), (100 + i, 0, False, 2))
            tcp.close()
        finally:
            victim.close()
        # A client in another network: answered in full (dig over UDP).
        r = t.dig(self.d.host4, self.d.port4, "www.example.test", "A", args=["-b", "127.9.9.9"])
        self.assertEqual(r.status, "NOERROR")
        self.assertEqual(len(r.answer), 2)

    def test_nxdomain_floods_share_the_zone_bucket(self):
        # Random names (a water-torture style flood) are one bucket per zone.
        s = bound_socket("127.4.4.4")
        got = {"full": 0, "tc": 0, "nx": 0}
        try:
            for i in range(60):
                s.sendto(t.make_query(f"r{i}-nope.example.test", "A", qid=i), (self.d.host4, self.d.port4))
            end = time.monotonic() + 0.5
            while time.monotonic() < end:
                ready, _, _ = select.select([s], [], [], 0.05)
                if not ready:
                    continue
                h = t.parse_header(s.recv(4096))
                if h["tc"]:
                    got["tc"] += 1
                elif h["rcode"] == 3:
                    got["nx"] += 1
        finally:
            s.close()
        self.assertLessEqual(got["nx"], 2 * RATE)
        self.assertGreater(got["tc"], 0)


class RrlStopLineTest(unittest.TestCase):
    def test_counters_in_the_stop_line_and_off_by_default(self):
        with tempfile.TemporaryDirectory(prefix="ddns-rrl-") as tmp:
            zone = t.write_file(os.path.join(tmp, "example.test.zone"), t.example_zone())
            d = t.Ddnsd(zones={"example.test": zone}, listen=["127.0.0.1:0"], threads=1).start()
            try:
                s = bound_socket("127.5.5.5")
                got = {"full": 0, "tc": 0}
                for _ in range(100):
                    s.sendto(t.make_query("www.example.test"), (d.host4, d.port4))
                drain([s], time.monotonic() + 0.5, got)
                s.close()
                self.assertIn("rrl: off", d.log())
                self.assertGreaterEqual(got["full"], 95)  # off: every answer sent (loopback loses none)
            finally:
                d.stop()
                d.cleanup()
            d = t.Ddnsd(zones={"example.test": zone}, listen=["127.0.0.1:0"], threads=1,
                        args=["--rrl", "2", "--rrl-slip", "0"]).start()
            try:
                s = bound_socket("127.5.5.5")
                for _ in range(30):
                    s.sendto(t.make_query("www.example.test"), (d.host4, d.port4))
                got = {"full": 0, "tc": 0}
                drain([s], time.monotonic() + 0.3, got)
                s.close()
                self.assertEqual(got["tc"], 0)  # slip 0: all dropped
            finally:
                d.stop()
                log = d.log()
                d.cleanup()
            m = re.search(r"rrl: (\d+) answers dropped, 0 sent truncated", log)
            self.assertIsNotNone(m, log)
            self.assertGreaterEqual(int(m.group(1)), 30 - 2 * 2)


if __name__ == "__main__":
    unittest.main()
