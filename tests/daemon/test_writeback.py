#!/usr/bin/env python3
# Zone-file write-back (zones[].write-back): after RFC 2136 updates ddnsd
# rewrites the master file from the served copy within the configured delay
# and again at shutdown; the file loads in BIND (named-checkzone) and Knot
# (kzonecheck) and holds the updated records and serial.
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


def nsupdate(port, keyfile, script):
    return subprocess.run(["nsupdate", "-k", keyfile],
                          input=f"server 127.0.0.1 {port}\nzone example.test\n{script}send\n",
                          capture_output=True, text=True, timeout=20)


def serial_in(path):
    with open(path) as f:
        text = f.read()
    m = re.search(r"\sSOA\s+\S+\s+\S+\s+(\d+)", text)
    return int(m.group(1)) if m else None, text


@unittest.skipUnless(shutil.which("nsupdate"), "nsupdate missing")
class WriteBackTest(unittest.TestCase):
    def test_write_back_after_delay_and_at_shutdown(self):
        with tempfile.TemporaryDirectory(prefix="ddns-wb-") as d:
            zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=7))
            key = os.path.join(d, "key1.key")
            out = subprocess.run([t.binary("ddnsctl"), "keygen", "key1"], check=True,
                                 capture_output=True, text=True).stdout
            t.write_file(key, out)
            conf = f"""server:
  listen: 127.0.0.1:0
  data-dir: data
keys: [key1.key]
zones:
  - name: example.test
    file: example.test.zone
    update-policy: ["grant key1 zonesub ANY"]
    write-back: 1s
"""
            srv = t.Ddnsd(config=conf, workdir=d).start()
            try:
                r = nsupdate(srv.port4, key, "update add wb1.example.test 300 A 192.0.2.41\n")
                self.assertEqual(r.returncode, 0, r.stderr)
                ok = t.wait_until(lambda: "192.0.2.41" in serial_in(zone)[1], 8)
                self.assertTrue(ok, "zone file not written back:\n" + srv.log())
                serial, _ = serial_in(zone)
                self.assertEqual(serial, 8)
                # A second change is written at shutdown at the latest.
                r = nsupdate(srv.port4, key, "update add wb2.example.test 300 A 192.0.2.42\n")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(srv.stop(), 0)
                serial, text = serial_in(zone)
                self.assertEqual(serial, 9)
                self.assertIn("192.0.2.42", text)
                if shutil.which("named-checkzone"):
                    c = subprocess.run(["named-checkzone", "-i", "local", "example.test", zone],
                                       capture_output=True, text=True)
                    self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
                if shutil.which("kzonecheck"):
                    c = subprocess.run(["kzonecheck", "-o", "example.test", zone],
                                       capture_output=True, text=True)
                    self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
                # Restart: the store and the file agree; nothing is lost.
                srv2 = t.Ddnsd(config=conf, workdir=d).start()
                try:
                    a = t.dig(srv2.host4, srv2.port4, "wb2.example.test", "A")
                    self.assertEqual([rr.rdata for rr in a.answer], ["192.0.2.42"])
                finally:
                    srv2.stop()
            finally:
                if srv.alive():
                    srv.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
