#!/usr/bin/env python3
# `ddnsctl export` and `ddnsctl journal` against the store of a running
# ddnsd (read-only beside the writer, SQLite WAL): the export equals what is
# served and loads in named-checkzone (-i local); the journal lists each
# change with its serials, time and records, and --from selects the tail.
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import opsutil as ops  # noqa: E402

ZONE = "example.test"


def ddnsctl(*args, timeout=30):
    p = subprocess.run([t.binary("ddnsctl"), *args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class DdnsctlStoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-ctlstore-")
        d = self.tmp.name
        self.zonefile = t.write_file(os.path.join(d, "z.zone"), t.example_zone(serial=10))
        self.keyfile = os.path.join(d, "key1.key")
        self.secret = ops.keygen("key1", self.keyfile)
        self.data = os.path.join(d, "data")
        self.d = t.Ddnsd(zones={ZONE: self.zonefile}, listen=["127.0.0.1:0"],
                         args=["--data-dir", self.data, "--key", self.keyfile,
                               "--allow-update", f"{ZONE}=key1"]).start(timeout=20)

    def tearDown(self):
        self.d.stop()
        self.d.cleanup()
        self.tmp.cleanup()

    def update(self, rrs, qid):
        r = t.udp_exchange(self.d.host4, self.d.port4,
                           ops.signed_update(ZONE, rrs, "key1", self.secret, qid), timeout=3)
        self.assertIsNotNone(r)
        self.assertEqual(t.parse_header(r)["rcode"], 0)

    def test_export_and_journal_while_running(self):
        t0 = int(time.time())
        self.update([(f"h1.{ZONE}", 1, 300, bytes([192, 0, 2, 101]))], 1)
        self.update([(f"www.{ZONE}", 1, 0, b"", 255),                     # delete www A
                     (f"www.{ZONE}", 1, 60, bytes([192, 0, 2, 77]))], 2)
        self.update([(f"h2.{ZONE}", 16, 300, b"\x05hello")], 3)           # TXT

        # ---- export: same as served, loadable by BIND ----
        rc, out, err = ddnsctl("--data-dir", self.data, "export", ZONE)
        self.assertEqual(rc, 0, err)
        self.assertIn("SOA", out)
        self.assertEqual(ops.soa_serial_in_master(out), 13)
        a = ops.a_records_in_master(out, ZONE)
        self.assertEqual(a[f"h1.{ZONE}"], "192.0.2.101")
        self.assertEqual(a[f"www.{ZONE}"], "192.0.2.77")
        self.assertRegex(out, r'h2\s+300\s+IN\s+TXT\s+"hello"')
        served = t.dig(self.d.host4, self.d.port4, f"www.{ZONE}", "A")
        self.assertEqual([x.rdata for x in served.answer], ["192.0.2.77"])
        path = os.path.join(self.tmp.name, "export.zone")
        rc, _, err = ddnsctl("--data-dir", self.data, "export", ZONE, "-o", path)
        self.assertEqual(rc, 0, err)
        with open(path) as f:
            self.assertEqual(f.read(), out)
        if shutil.which("named-checkzone"):
            p = subprocess.run(["named-checkzone", "-i", "local", ZONE, path],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("loaded serial 13", p.stdout)
        # The export round-trips through ddnsd's own reader too.
        rc, _, err = ddnsctl("check-zone", ZONE, path)
        self.assertEqual(rc, 0, err)

        # ---- journal ----
        rc, out, err = ddnsctl("--data-dir", self.data, "journal", ZONE)
        self.assertEqual(rc, 0, err)
        heads = re.findall(r"^serial (\d+) -> (\d+)  (\S+)  \(-(\d+) \+(\d+)\)$", out, re.M)
        self.assertEqual([(int(a), int(b)) for a, b, *_ in heads], [(10, 11), (11, 12), (12, 13)])
        self.assertEqual([(int(r), int(a)) for *_, r, a in heads], [(1, 2), (3, 2), (1, 2)])
        for _, _, when, _, _ in heads:
            ts = time.mktime(time.strptime(when, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            self.assertLess(abs(ts - t0), 120, when)
        self.assertIn(f"+ h1.{ZONE}. 300 IN A 192.0.2.101", out)
        self.assertIn(f"- www.{ZONE}. 3600 IN A 192.0.2.10", out)
        self.assertIn(f"- www.{ZONE}. 3600 IN A 192.0.2.11", out)
        self.assertIn(f"+ www.{ZONE}. 60 IN A 192.0.2.77", out)
        self.assertRegex(out, r"- example\.test\. \d+ IN SOA \S+ \S+ 10 ")
        self.assertIn("; 3 entries", out)

        rc, out, err = ddnsctl("--data-dir", self.data, "journal", ZONE, "--from", "12")
        self.assertEqual(rc, 0, err)
        self.assertEqual(re.findall(r"^serial (\d+) -> (\d+)", out, re.M), [("12", "13")])
        rc, out, err = ddnsctl("--data-dir", self.data, "journal", ZONE, "--from", "11",
                               "--brief")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(re.findall(r"^serial ", out, re.M)), 2)
        self.assertNotIn("IN A", out)
        rc, out, err = ddnsctl("--data-dir", self.data, "journal", ZONE, "--from", "13")
        self.assertEqual(rc, 0, err)
        self.assertIn("no changes", out)

        # Refusals: a serial newer than the zone's, one not in the journal,
        # an unknown zone, a missing store.
        for args, word in ((["journal", ZONE, "--from", "50"], "newer"),
                           (["journal", ZONE, "--from", "5"], "not in the kept journal"),
                           (["journal", "nothere.test"], "no such zone"),
                           (["export", "nothere.test"], "no such zone")):
            rc, _, err = ddnsctl("--data-dir", self.data, *args)
            self.assertEqual(rc, 1, args)
            self.assertIn(word, err)
        rc, _, err = ddnsctl("--data-dir", os.path.join(self.tmp.name, "none"), "export", ZONE)
        self.assertEqual(rc, 1)
        self.assertIn("ddns.db", err)

    def test_reads_during_updates(self):
        """export/journal never fail or block while the writer commits."""
        storm = ops.Storm(self.d.host4, self.d.port4, ZONE, "key1", self.secret,
                          clients=2, protos=("udp",), prefix="r").start()
        try:
            deadline = time.monotonic() + 4
            runs = 0
            while time.monotonic() < deadline:
                rc, out, err = ddnsctl("--data-dir", self.data, "export", ZONE)
                self.assertEqual(rc, 0, err)
                serial = ops.soa_serial_in_master(out)
                n = sum(1 for k in ops.a_records_in_master(out, ZONE) if k.startswith("r"))
                self.assertEqual(serial, 10 + n)  # a consistent snapshot
                rc, out, err = ddnsctl("--data-dir", self.data, "journal", ZONE, "--brief")
                self.assertEqual(rc, 0, err)
                runs += 1
        finally:
            storm.stop()
            storm.join(10)
        self.assertGreater(runs, 3)
        self.assertGreater(len(storm.acked), 50)


if __name__ == "__main__":
    unittest.main()
