#!/usr/bin/env python3
# TCP behaviour of ddnsd (RFC 7766): idle timeout, connection limit, a slow
# or stalled client never blocks others, half-close still gets its answers.
import os
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402


def framed(q):
    return struct.pack("!H", len(q)) + q


def read_frame(s):
    ln = t._recv_exact(s, 2)
    if ln is None:
        return None
    return t._recv_exact(s, struct.unpack("!H", ln)[0])


def closed_by_peer(s, within):
    """True when the server closes `s` within `within` seconds."""
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


class TcpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-tcp-")
        t.write_file(os.path.join(cls.tmp.name, "example.test.zone"), t.example_zone(serial=9))
        listen = '["127.0.0.1:0"' + (', "[::1]:0"]' if t.have_ipv6() else "]")
        cfg = (f"server:\n  listen: {listen}\n  threads: 2\n  tcp-threads: 1\n"
               f"  tcp-idle-timeout: 700ms\n  tcp-max-clients: 4\n  data-dir: var\n"
               f"zones:\n  - name: example.test\n    file: example.test.zone\n")
        cls.d = t.Ddnsd(config=cfg, workdir=cls.tmp.name).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.d.cleanup()
        cls.tmp.cleanup()
        assert rc == 0

    def connect(self, v6=False):
        host, port = (self.d.host6, self.d.port6) if v6 else (self.d.host4, self.d.port4)
        return socket.create_connection((host, port), timeout=3)

    def ask(self, s, qid=7):
        s.settimeout(3)
        s.sendall(framed(t.make_query("www.example.test", qid=qid)))
        r = read_frame(s)
        return t.parse_header(r) if r else None

    def wait_for_free_slots(self):
        # The server notices closes asynchronously; give it a moment.
        time.sleep(0.2)

    def test_idle_timeout(self):
        s = self.connect()
        self.assertEqual(self.ask(s)["id"], 7)
        t0 = time.monotonic()
        self.assertTrue(closed_by_peer(s, 5))
        idle = time.monotonic() - t0
        self.assertGreater(idle, 0.5)
        self.assertLess(idle, 2.5)
        s.close()
        self.wait_for_free_slots()

    def test_activity_keeps_connection_open(self):
        s = self.connect()
        for i in range(6):  # 6 x 0.3 s > the 0.7 s timeout, but never idle that long
            self.assertEqual(self.ask(s, qid=i)["id"], i)
            time.sleep(0.3)
        s.close()
        self.wait_for_free_slots()

    def test_slow_client_does_not_block_others(self):
        slow = self.connect()
        slow.sendall(b"\x00")  # half a length, then silence
        for v6 in ([False, True] if self.d.host6 else [False]):
            t0 = time.monotonic()
            fast = self.connect(v6)
            self.assertEqual(self.ask(fast, qid=11)["id"], 11)
            self.assertLess(time.monotonic() - t0, 0.5)
            fast.close()
            r = t.dig(self.d.host4, self.d.port4, "www.example.test", "A", tcp=True)
            self.assertEqual(r.status, "NOERROR")
        self.assertTrue(closed_by_peer(slow, 5))  # and the slow one times out
        slow.close()
        self.wait_for_free_slots()

    def test_connection_limit(self):
        held = [self.connect() for _ in range(4)]
        for i, s in enumerate(held):
            self.assertEqual(self.ask(s, qid=i)["id"], i)
        extra = self.connect()  # the kernel accepts; ddnsd closes it at once
        self.assertTrue(closed_by_peer(extra, 2))
        extra.close()
        # UDP is unaffected by the TCP limit.
        r = t.dig(self.d.host4, self.d.port4, "www.example.test", "A")
        self.assertEqual(r.status, "NOERROR")
        for s in held:
            s.close()
        self.wait_for_free_slots()
        s = self.connect()
        self.assertEqual(self.ask(s, qid=99)["id"], 99)
        s.close()
        self.wait_for_free_slots()

    def test_half_close_still_answered(self):
        s = self.connect()
        qs = [t.make_query("www.example.test", qid=i) for i in range(5)]
        s.sendall(b"".join(framed(q) for q in qs))
        s.shutdown(socket.SHUT_WR)
        ids = []
        for _ in range(5):
            r = read_frame(s)
            if r is None:
                break
            ids.append(t.parse_header(r)["id"])
        self.assertEqual(sorted(ids), list(range(5)))
        self.assertTrue(closed_by_peer(s, 3))
        s.close()
        self.wait_for_free_slots()

    def test_query_split_across_writes(self):
        s = self.connect()
        data = framed(t.make_query("www.example.test", qid=77))
        for b in data:
            s.sendall(bytes([b]))
            time.sleep(0.005)
        r = read_frame(s)
        self.assertEqual(t.parse_header(r)["id"], 77)
        s.close()
        self.wait_for_free_slots()


if __name__ == "__main__":
    unittest.main(verbosity=2)
