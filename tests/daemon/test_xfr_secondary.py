#!/usr/bin/env python3
# ddnsd as a secondary (RFC 1995 IXFR, RFC 5936 AXFR, RFC 1996 NOTIFY,
# RFC 1035 §3.3.13 expire) with real primaries: knotd (TSIG-signed
# transfers and NOTIFY, IXFR after knsupdate, expire, wrong key, SIGKILL
# during a 200k-record AXFR; a dead first primary skipped for the next) and
# named (AXFR + NOTIFY + IXFR after nsupdate).
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as dt  # noqa: E402
import secondaryutil as su  # noqa: E402

H = "127.0.0.1"


def log_count(d, pattern):
    return len(re.findall(pattern, d.log()))


class KnotPrimary(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-xfrin-knot-")
        w = cls.tmp.name
        cls.kw = os.path.join(w, "knot")
        os.makedirs(cls.kw)
        key_text, secret = su.make_key("xfrkey")
        cls.keyfile = dt.write_file(os.path.join(w, "xfrkey.key"), key_text)
        # Same key name on knot for bad.test's ACL, other secret.
        other = su.make_key("badkey")[1]
        bad_text, _ = su.make_key("badkey")
        cls.badkeyfile = dt.write_file(os.path.join(w, "badkey.key"), bad_text)
        files = {}
        for origin, kw in {"example.test": dict(refresh=300, retry=60, expire=86400),
                           "exp.test": dict(refresh=1, retry=1, expire=6),
                           "bad.test": {}}.items():
            files[origin] = dt.write_file(os.path.join(cls.kw, origin + ".zone"),
                                          su.zone_text(origin, serial=1, **kw))
        cls.ddns_port = dt.free_port()
        cls.knot = su.Knotd(cls.kw, [
            dict(origin="example.test", file=files["example.test"], acl_key="xfrkey"),
            dict(origin="exp.test", file=files["exp.test"]),
            dict(origin="bad.test", file=files["bad.test"], acl_key="badkey"),
        ], keys={"xfrkey": secret, "badkey": other}, notify_port=cls.ddns_port,
            notify_key="xfrkey").start()
        kp = cls.knot.port
        cls.data = os.path.join(w, "data")
        cls.d = dt.Ddnsd(listen=[f"{H}:{cls.ddns_port}"], args=[
            "--data-dir", cls.data, "--key", cls.keyfile, "--key", cls.badkeyfile,
            "--secondary", f"example.test={H}:{kp}@xfrkey",
            "--secondary", f"exp.test={H}:{kp}",
            "--secondary", f"bad.test={H}:{kp}@badkey",
            "--allow-transfer", f"example.test={H}"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.knot.stop()
        cls.tmp.cleanup()

    def test_1_initial_axfr_and_notify_ixfr(self):
        d = self.d
        self.assertIsNotNone(su.wait_serial(H, d.port4, "example.test", 1, 10), d.log())
        r = dt.dig(H, d.port4, "www.example.test", "A")
        self.assertEqual(r.status, "NOERROR")
        self.assertEqual(r.rdatas("A"), ["192.0.2.1"])
        self.assertIn("aa", r.flags)
        self.assertRegex(d.log(), r"zone example\.test\.: AXFR from .*xfrkey -> serial 1")
        # knsupdate on knotd -> NOTIFY -> IXFR: well before the 300 s refresh.
        for n in range(2, 5):
            self.knot.update("example.test", [f"add new{n}.example.test. 300 A 192.0.2.{n}"])
            took = su.wait_serial(H, d.port4, "example.test", n, 5)
            self.assertIsNotNone(took, d.log())
            r = dt.dig(H, d.port4, f"new{n}.example.test", "A")
            self.assertEqual(r.rdatas("A"), [f"192.0.2.{n}"])
        self.assertGreaterEqual(log_count(d, r"zone example\.test\.: IXFR from"), 3, d.log())
        # A deletion travels too.
        self.knot.update("example.test", ["del new2.example.test. A"])
        self.assertIsNotNone(su.wait_serial(H, d.port4, "example.test", 5, 5))
        self.assertEqual(dt.dig(H, d.port4, "new2.example.test", "A").status, "NXDOMAIN")

    def test_2_notify_from_elsewhere_refused(self):
        # Unsigned NOTIFY from 127.0.0.1 for a zone whose primary has a key.
        q = bytearray(dt.make_query("example.test.", "SOA", qid=0x1234))
        q[2] = (q[2] & 0x87) | (4 << 3)  # opcode NOTIFY
        r = dt.udp_exchange(H, self.d.port4, bytes(q))
        self.assertIsNotNone(r)
        h = dt.parse_header(r)
        self.assertEqual(h["id"], 0x1234)
        self.assertTrue(h["qr"])
        self.assertEqual(h["opcode"], 4)
        self.assertEqual(h["rcode"], 5)  # REFUSED
        # exp.test has no key: an unsigned NOTIFY from the primary's address is fine.
        q = bytearray(dt.make_query("exp.test.", "SOA", qid=0x1235))
        q[2] = (q[2] & 0x87) | (4 << 3)
        h = dt.parse_header(dt.udp_exchange(H, self.d.port4, bytes(q)))
        self.assertEqual((h["rcode"], h["aa"], h["qdcount"]), (0, True, 1))
        # Not our zone: NOTAUTH.
        q = bytearray(dt.make_query("example.org.", "SOA", qid=0x1236))
        q[2] = (q[2] & 0x87) | (4 << 3)
        h = dt.parse_header(dt.udp_exchange(H, self.d.port4, bytes(q)))
        self.assertIn(h["rcode"], (9, 5))

    def test_3_wrong_key_refused(self):
        d = self.d
        ok = dt.wait_until(lambda: re.search(r"zone bad\.test\.: refresh from .* failed: .*TSIG",
                                             d.log()), 10)
        self.assertTrue(ok, d.log())
        self.assertEqual(su.status(H, d.port4, "www.bad.test", "A"), "SERVFAIL")
        self.assertNotRegex(d.log(), r"zone bad\.test\.: (AXFR|IXFR) from")

    def test_9_primary_stopped_then_expire(self):
        d = self.d
        self.assertIsNotNone(su.wait_serial(H, d.port4, "exp.test", 1, 10), d.log())
        self.knot.stop()
        t0 = time.monotonic()
        # Keeps serving until SOA expire (6 s) passes without a refresh...
        time.sleep(2)
        self.assertEqual(su.status(H, d.port4, "www.exp.test", "A"), "NOERROR")
        # ...across a restart, which must not give the copy a new 6 s: the
        # clock runs from the last refresh (RFC 1035 §3.3.13), kept in the
        # data dir.
        d.stop()
        d.start()
        self.assertEqual(su.status(H, d.port4, "www.exp.test", "A"), "NOERROR", d.log())
        self.assertRegex(d.log(), r"zone exp\.test\.: last refresh \d+ s ago, expires in")
        # ...then SERVFAIL, at the original deadline (last refresh <= 1 s
        # before the stop, + 6 s), not restart + 6 s (>= 8 s).
        ok = dt.wait_until(lambda: su.status(H, d.port4, "www.exp.test", "A") == "SERVFAIL", 12)
        took = time.monotonic() - t0
        self.assertTrue(ok, d.log())
        self.assertGreater(took, 3.5)
        self.assertLess(took, 7.5, d.log())
        self.assertRegex(d.log(), r"zone exp\.test\.: expired")
        # A zone with a long expire keeps answering.
        self.assertEqual(su.status(H, d.port4, "www.example.test", "A"), "NOERROR")
        # The primary comes back: the next retry brings the zone back.
        self.knot.start()
        ok = dt.wait_until(lambda: su.status(H, d.port4, "www.exp.test", "A") == "NOERROR", 10)
        self.assertTrue(ok, d.log())


class NamedPrimary(unittest.TestCase):
    def test_axfr_notify_ixfr(self):
        if not su.Named.available():
            self.skipTest("named/nsupdate not installed")
        with tempfile.TemporaryDirectory(prefix="ddns-xfrin-named-") as w:
            nw = os.path.join(w, "named")
            os.makedirs(nw)
            zf = dt.write_file(os.path.join(nw, "example.org.zone"),
                               su.zone_text("example.org", serial=10, refresh=300))
            port = dt.free_port()
            named = su.Named(nw, [dict(origin="example.org", file=zf)], notify_port=port).start()
            try:
                d = dt.Ddnsd(listen=[f"{H}:{port}"], args=[
                    "--data-dir", os.path.join(w, "data"),
                    "--secondary", f"example.org={H}:{named.port}"]).start()
                try:
                    self.assertIsNotNone(su.wait_serial(H, port, "example.org", 10, 10), d.log())
                    self.assertRegex(d.log(), r"zone example\.org\.: AXFR from")
                    named.update("example.org", ["add n1.example.org. 300 A 192.0.2.77"])
                    self.assertIsNotNone(su.wait_serial(H, port, "example.org", 11, 8),
                                         d.log() + named.log())
                    self.assertEqual(dt.dig(H, port, "n1.example.org", "A").rdatas("A"),
                                     ["192.0.2.77"])
                    self.assertRegex(d.log(), r"zone example\.org\.: IXFR from")
                finally:
                    d.stop()
            finally:
                named.stop()


class SeveralPrimaries(unittest.TestCase):
    def test_tried_in_order(self):
        # The first primary is down (nothing listens there): each refresh
        # moves on to the next one, Knot, which serves the zone.
        with tempfile.TemporaryDirectory(prefix="ddns-xfrin-several-") as w:
            kw = os.path.join(w, "knot")
            os.makedirs(kw)
            zf = dt.write_file(os.path.join(kw, "two.test.zone"),
                               su.zone_text("two.test", serial=5, refresh=300))
            port, dead = dt.free_port(), dt.free_port()
            knot = su.Knotd(kw, [dict(origin="two.test", file=zf)], notify_port=port).start()
            try:
                d = dt.Ddnsd(listen=[f"{H}:{port}"], args=[
                    "--data-dir", os.path.join(w, "data"),
                    "--secondary", f"two.test={H}:{dead}",
                    "--secondary", f"two.test={H}:{knot.port}"]).start()
                try:
                    self.assertIsNotNone(su.wait_serial(H, port, "two.test", 5, 10), d.log())
                    self.assertRegex(d.log(), rf"zone two\.test\.: refresh from {H}:{dead} failed")
                    self.assertRegex(d.log(), rf"zone two\.test\.: AXFR from {H}:{knot.port}")
                    knot.update("two.test", ["add n2.two.test. 300 A 192.0.2.78"])
                    self.assertIsNotNone(su.wait_serial(H, port, "two.test", 6, 8),
                                         d.log() + knot.log())
                    self.assertEqual(dt.dig(H, port, "n2.two.test", "A").rdatas("A"),
                                     ["192.0.2.78"])
                finally:
                    d.stop()
            finally:
                knot.stop()


class KillDuringTransfer(unittest.TestCase):
    HOSTS = 200000

    def test_kill_keeps_old_or_new(self):
        if not su.Knotd.available():
            self.skipTest("knotd not installed")
        with tempfile.TemporaryDirectory(prefix="ddns-xfrin-kill-") as w:
            kw = os.path.join(w, "knot")
            os.makedirs(kw)
            zf = dt.write_file(os.path.join(kw, "big.test.zone"),
                               su.zone_text("big.test", serial=1, hosts=self.HOSTS))
            port = dt.free_port()
            # No journal on knot: every IXFR is answered with the full zone.
            knot = su.Knotd(kw, [dict(origin="big.test", file=zf)], notify_port=port,
                            journal=False).start()
            data = os.path.join(w, "data")
            args = ["--data-dir", data, "--secondary", f"big.test={H}:{knot.port}"]

            def daemon():
                return dt.Ddnsd(listen=[f"{H}:{port}"], args=args, workdir=w)
            try:
                d = daemon().start(timeout=30)
                self.assertIsNotNone(su.wait_serial(H, port, "big.test", 1, 60), d.log())
                m = re.findall(r"zone big\.test\.: AXFR .* (\d+) ms\)", d.log())
                full_ms = int(m[-1]) if m else 2000
                serial = 1
                kills = 0
                for frac in (0.2, 0.5, 0.8):
                    serial += 1
                    knot.update("big.test", [f"add k{serial}.big.test. 300 A 192.0.2.{serial}"])
                    time.sleep(full_ms * frac / 1000.0)
                    d.stop(signal.SIGKILL)
                    kills += 1
                    d = daemon().start(timeout=60)
                    got = su.soa_serial(H, port, "big.test")
                    # Old or new copy at once, never half, never nothing.
                    self.assertIn(got, (serial - 1, serial), d.log())
                    print(f"  SIGKILL at {frac:.0%} of a full transfer ({full_ms} ms): "
                          f"restart serves serial {got} (new = {serial})", file=sys.stderr)
                    present = dt.dig(H, port, f"k{serial}.big.test", "A").status
                    if su.soa_serial(H, port, "big.test") == got:  # no refresh in between
                        self.assertEqual(present, "NOERROR" if got == serial else "NXDOMAIN")
                    last = dt.dig(H, port, f"h{self.HOSTS - 1}.big.test", "A")
                    self.assertEqual(last.status, "NOERROR")
                    # Let it catch up before the next round.
                    self.assertIsNotNone(su.wait_serial(H, port, "big.test", serial, 60), d.log())
                d.stop()
                self.assertEqual(kills, 3)
            finally:
                knot.stop()


if __name__ == "__main__":
    if not su.Knotd.available():
        print("knotd/knsupdate not installed", file=sys.stderr)
        sys.exit(77)
    if shutil.which("dig") is None:
        sys.exit(77)
    unittest.main(verbosity=2)
