#!/usr/bin/env python3
# RFC 2136 UPDATE signed with TSIG (RFC 8945) against ddnsd, driven by the
# real nsupdate (BIND) and knsupdate (Knot) and checked with dig: add,
# replace, delete RRset / one RR, prerequisites, refused / bad key / bad
# signature / bad time, serial bump, TCP, and durability across SIGKILL.
import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402

HAVE_NSUPDATE = shutil.which("nsupdate") is not None
HAVE_KNSUPDATE = shutil.which("knsupdate") is not None


def keygen(name, path):
    out = subprocess.run([t.binary("ddnsctl"), "keygen", name], check=True,
                         capture_output=True, text=True).stdout
    t.write_file(path, out)
    return re.search(r'secret "([^"]+)"', out).group(1)


class UpdateTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-update-")
        d = self.tmp.name
        self.zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
        self.other = t.write_file(os.path.join(d, "example.org.zone"),
                                  t.example_zone("example.org", serial=5))
        self.keyfile = os.path.join(d, "key1.key")
        self.secret = keygen("key1", self.keyfile)
        self.badkey = os.path.join(d, "nokey.key")
        keygen("nokey", self.badkey)
        # Same name, other secret.
        self.wrongsecret = os.path.join(d, "wrong.key")
        keygen("key1", self.wrongsecret)
        self.data = os.path.join(d, "data")
        self.d = self.daemon().start()

    def daemon(self):
        return t.Ddnsd(zones={"example.test": self.zone, "example.org": self.other},
                       listen=["127.0.0.1:0"],
                       args=["--data-dir", self.data, "--key", self.keyfile,
                             "--allow-update", "example.test=key1"])

    def tearDown(self):
        if self.d.alive():
            self.d.stop()
        self.d.cleanup()
        self.tmp.cleanup()

    # ---- helpers ----
    def nsupdate(self, lines, key="default", tcp=False, zone="example.test"):
        key = self.keyfile if key == "default" else key
        script = f"server {self.d.host4} {self.d.port4}\n"
        if zone:
            script += f"zone {zone}\n"
        script += "\n".join(lines) + "\nsend\n"
        cmd = ["nsupdate", "-t", "5"] + (["-v"] if tcp else []) + (["-k", key] if key else [])
        p = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=20)
        return p.returncode, p.stdout + p.stderr

    def rdatas(self, name, rtype="A", tcp=False):
        r = t.dig(self.d.host4, self.d.port4, name, rtype, tcp=tcp)
        return sorted(rr.rdata for rr in r.answer if rr.rtype == rtype)

    def serial(self):
        r = t.dig(self.d.host4, self.d.port4, "example.test", "SOA")
        return int(r.answer[0].rdata.split()[2])

    def assert_ok(self, res):
        rc, out = res
        self.assertEqual(rc, 0, out)

    def assert_fails(self, res, *words):
        rc, out = res
        self.assertNotEqual(rc, 0, out)
        self.assertTrue(any(w in out for w in words), f"expected {words} in: {out}")

    # ---- nsupdate ----
    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_add_bumps_serial(self):
        self.assertEqual(self.serial(), 1)
        self.assert_ok(self.nsupdate(["update add host.example.test 300 A 192.0.2.50"]))
        self.assertEqual(self.rdatas("host.example.test"), ["192.0.2.50"])
        self.assertEqual(self.serial(), 2)
        self.assert_ok(self.nsupdate(["update add host.example.test 300 TXT \"v=1\""]))
        self.assertEqual(self.rdatas("host.example.test", "TXT"), ['"v=1"'])
        self.assertEqual(self.serial(), 3)
        self.assertIn("dynamic updates on", self.d.log())

    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_replace(self):
        self.assert_ok(self.nsupdate(["update delete www.example.test A",
                                      "update add www.example.test 60 A 192.0.2.77"]))
        self.assertEqual(self.rdatas("www.example.test"), ["192.0.2.77"])
        self.assertEqual(self.rdatas("www.example.test", "AAAA"), ["2001:db8::10"])

    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_delete_rrset_and_one_rr(self):
        self.assert_ok(self.nsupdate(["update delete www.example.test A 192.0.2.10"]))
        self.assertEqual(self.rdatas("www.example.test"), ["192.0.2.11"])
        self.assert_ok(self.nsupdate(["update delete www.example.test AAAA"]))
        self.assertEqual(self.rdatas("www.example.test", "AAAA"), [])
        self.assertEqual(self.rdatas("www.example.test"), ["192.0.2.11"])
        self.assert_ok(self.nsupdate(["update delete www.example.test"]))
        r = t.dig(self.d.host4, self.d.port4, "www.example.test", "A")
        self.assertEqual(r.status, "NXDOMAIN")

    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_prerequisites(self):
        s0 = self.serial()
        self.assert_fails(self.nsupdate(["prereq nxdomain www.example.test",
                                         "update add a.example.test 300 A 192.0.2.1"]),
                          "YXDOMAIN")
        self.assert_fails(self.nsupdate(["prereq yxdomain nothere.example.test",
                                         "update add a.example.test 300 A 192.0.2.1"]),
                          "NXDOMAIN")
        self.assert_fails(self.nsupdate(["prereq yxrrset www.example.test MX",
                                         "update add a.example.test 300 A 192.0.2.1"]),
                          "NXRRSET")
        # RFC 2136 §3.2.3: value-dependent, the whole RRset must match.
        self.assert_fails(self.nsupdate(["prereq yxrrset www.example.test A 192.0.2.10",
                                         "update add a.example.test 300 A 192.0.2.1"]),
                          "NXRRSET")
        self.assert_fails(self.nsupdate(["prereq nxrrset www.example.test A",
                                         "update add a.example.test 300 A 192.0.2.1"]),
                          "YXRRSET")
        self.assertEqual(self.rdatas("a.example.test"), [])
        self.assertEqual(self.serial(), s0)
        self.assert_ok(self.nsupdate(["prereq nxdomain a.example.test",
                                      "prereq yxdomain www.example.test",
                                      "prereq yxrrset www.example.test A",
                                      "prereq yxrrset www.example.test A 192.0.2.10",
                                      "prereq yxrrset www.example.test A 192.0.2.11",
                                      "prereq nxrrset www.example.test MX",
                                      "update add a.example.test 300 A 192.0.2.1"]))
        self.assertEqual(self.rdatas("a.example.test"), ["192.0.2.1"])
        self.assertEqual(self.serial(), s0 + 1)

    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_refused_and_bad_keys(self):
        add = ["update add bad.example.test 300 A 192.0.2.66"]
        self.assert_fails(self.nsupdate(add, key=None), "REFUSED")
        self.assert_fails(self.nsupdate(add, key=self.badkey), "NOTAUTH", "BADKEY", "tsig")
        self.assert_fails(self.nsupdate(add, key=self.wrongsecret), "NOTAUTH", "BADSIG", "tsig")
        # A zone without update-policy, and one that is not ours.
        self.assert_fails(self.nsupdate(["update add x.example.org 300 A 192.0.2.1"],
                                        zone="example.org"), "REFUSED")
        self.assert_fails(self.nsupdate(["update add x.nothere.test 300 A 192.0.2.1"],
                                        zone="nothere.test"), "NOTAUTH")
        self.assertEqual(self.rdatas("bad.example.test"), [])
        self.assertEqual(self.serial(), 1)

    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_tcp(self):
        self.assert_ok(self.nsupdate(["update add tcp.example.test 300 A 192.0.2.80"], tcp=True))
        self.assertEqual(self.rdatas("tcp.example.test", tcp=True), ["192.0.2.80"])

    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_restart_after_sigkill_keeps_updates(self):
        for i in range(5):
            self.assert_ok(self.nsupdate([f"update add r{i}.example.test 300 A 192.0.2.{i + 1}"]))
        self.assertEqual(self.serial(), 6)
        self.d.stop(signal.SIGKILL)
        self.d.cleanup()
        self.d = self.daemon().start()
        self.assertIn("restored from store, serial 6", self.d.log())
        self.assertEqual(self.serial(), 6)
        for i in range(5):
            self.assertEqual(self.rdatas(f"r{i}.example.test"), [f"192.0.2.{i + 1}"])
        # A newer file wins over the store.
        self.d.stop()
        self.d.cleanup()
        t.write_file(self.zone, t.example_zone(serial=100))
        self.d = self.daemon().start()
        self.assertIn("imported from file", self.d.log())
        self.assertEqual(self.serial(), 100)
        self.assertEqual(self.rdatas("r0.example.test"), [])

    # ---- knsupdate ----
    @unittest.skipUnless(HAVE_KNSUPDATE, "knsupdate not installed")
    def test_knsupdate(self):
        script = (f"server {self.d.host4} {self.d.port4}\nzone example.test.\n"
                  "update add knot.example.test. 300 A 192.0.2.90\nsend\n")
        p = subprocess.run(["knsupdate", "-y", f"hmac-sha256:key1:{self.secret}"],
                           input=script, capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.rdatas("knot.example.test"), ["192.0.2.90"])
        script = (f"server {self.d.host4} {self.d.port4}\nzone example.test.\n"
                  "update delete knot.example.test. A\nsend\n")
        p = subprocess.run(["knsupdate", "-y", f"hmac-sha256:key1:{self.secret}"],
                           input=script, capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.rdatas("knot.example.test"), [])

    # ---- crafted: clock skew (RFC 8945 §5.2.3) ----
    def signed_update(self, time_signed):
        """An UPDATE adding skew.example.test A, signed with key1 (hmac-sha256)."""
        hdr = struct.pack(">HHHHHH", 0x1234, 5 << 11, 1, 0, 1, 0)
        body = t.encode_name("example.test") + struct.pack(">HH", 6, 1)
        body += t.encode_name("skew.example.test") + struct.pack(">HHIH", 1, 1, 300, 4)
        body += bytes([192, 0, 2, 42])
        msg = hdr + body
        key_name = t.encode_name("key1")
        alg = t.encode_name("hmac-sha256")
        variables = (key_name + struct.pack(">HI", 255, 0) + alg +
                     struct.pack(">HIH", time_signed >> 32, time_signed & 0xFFFFFFFF, 300) +
                     struct.pack(">HH", 0, 0))
        mac = hmac.new(base64.b64decode(self.secret), msg + variables, hashlib.sha256).digest()
        rdata = (alg + struct.pack(">HIH", time_signed >> 32, time_signed & 0xFFFFFFFF, 300) +
                 struct.pack(">H", len(mac)) + mac + struct.pack(">HHH", 0x1234, 0, 0))
        tsig = key_name + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
        hdr = struct.pack(">HHHHHH", 0x1234, 5 << 11, 1, 0, 1, 1)
        return hdr + body + tsig

    def test_crafted_signature_and_skewed_clock(self):
        r = t.udp_exchange(self.d.host4, self.d.port4, self.signed_update(int(time.time())))
        self.assertIsNotNone(r)
        self.assertEqual(t.parse_header(r)["rcode"], 0)
        self.assertEqual(self.rdatas("skew.example.test"), ["192.0.2.42"])
        r = t.udp_exchange(self.d.host4, self.d.port4, self.signed_update(int(time.time()) - 3600))
        self.assertIsNotNone(r)
        h = t.parse_header(r)
        self.assertEqual(h["rcode"], 9)  # NOTAUTH
        self.assertEqual(h["arcount"], 1)  # the signed BADTIME TSIG
        # TSIG error field: after the MAC and original id, before other len.
        other_len = struct.unpack(">H", r[-8:-6])[0]
        self.assertEqual(other_len, 6)
        self.assertEqual(struct.unpack(">H", r[-10:-8])[0], 18)  # BADTIME
        self.assertEqual(self.serial(), 2)

    def test_tcp_pipelined_update_and_query(self):
        # The UPDATE is answered later by the zone's writer; the query on the
        # same connection is not held behind it (RFC 7766 §7 allows either order).
        upd = self.signed_update(int(time.time()))
        q = t.make_query("www.example.test", "A", qid=0x4321)
        resps = t.tcp_exchange(self.d.host4, self.d.port4, [upd, q], timeout=5)
        self.assertEqual(len(resps), 2)
        by_id = {t.parse_header(r)["id"]: t.parse_header(r) for r in resps}
        self.assertEqual(by_id[0x1234]["rcode"], 0)
        self.assertEqual(by_id[0x1234]["opcode"], 5)
        self.assertEqual(by_id[0x4321]["rcode"], 0)
        self.assertEqual(self.rdatas("skew.example.test", tcp=True), ["192.0.2.42"])


class ConfigUpdateTest(unittest.TestCase):
    """The YAML form: keys:, update-policy (with a source-address rule) and
    serial-policy."""

    @unittest.skipUnless(HAVE_NSUPDATE, "nsupdate not installed")
    def test_config_policy_source_and_unixtime(self):
        with tempfile.TemporaryDirectory(prefix="ddns-update-conf-") as d:
            t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
            keygen("key1", os.path.join(d, "key1.key"))
            port = t.free_port()
            conf = f"""server:
  listen: 127.0.0.1:{port}
  threads: 1
  data-dir: data
keys: [key1.key]
zones:
  - name: example.test
    file: example.test.zone
    serial-policy: unixtime
    update-policy:
      - grant any name open.example.test A from 127.0.0.0/8
      - grant key1 zonesub ANY
"""
            dm = t.Ddnsd(config=conf, workdir=d).start()
            try:
                script = (f"server 127.0.0.1 {port}\nzone example.test\n"
                          "update add open.example.test 300 A 192.0.2.7\nsend\n")
                p = subprocess.run(["nsupdate", "-t", "5"], input=script, capture_output=True,
                                   text=True, timeout=20)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                r = t.dig("127.0.0.1", port, "open.example.test", "A")
                self.assertEqual([rr.rdata for rr in r.answer], ["192.0.2.7"])
                soa = t.dig("127.0.0.1", port, "example.test", "SOA")
                serial = int(soa.answer[0].rdata.split()[2])
                self.assertLess(abs(serial - time.time()), 60)
                # Unsigned, but not the name the rule allows: REFUSED.
                script = script.replace("open.example.test", "closed.example.test")
                p = subprocess.run(["nsupdate", "-t", "5"], input=script, capture_output=True,
                                   text=True, timeout=20)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("REFUSED", p.stdout + p.stderr)
                self.assertTrue(os.path.exists(os.path.join(d, "data", "ddns.db")))
            finally:
                dm.stop()


if __name__ == "__main__":
    unittest.main()
