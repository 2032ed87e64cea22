#!/usr/bin/env python3
# A zone file with out-of-zone data and delegations whose NS have no
# address loads as in BIND and Knot (issue 19): warnings naming FILE:LINE,
# the out-of-zone records dropped, everything else served. `--strict`
# (ddnsd --check-zone, ddnsctl check-zone) and `strict: true` in the config
# refuse it instead.
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402

EXTRA = """www.example.org. IN A 192.0.2.66
nodns   IN NS  ns.elsewhere
noglue  IN NS  ns.noglue
"""
# Lines of EXTRA in the file (it follows example_zone).
LINE_OOZ = len(t.example_zone().splitlines()) + 1
LINE_NOADDR, LINE_NOGLUE = LINE_OOZ + 1, LINE_OOZ + 2

WARNINGS = [
    ":%d: ignoring out-of-zone data: www.example.org. is not in example.test." % LINE_OOZ,
    ":%d: delegation nodns.example.test. NS 'ns.elsewhere.example.test.' has no address "
    "records (A or AAAA)" % LINE_NOADDR,
    ":%d: missing glue: NS ns.noglue.example.test. of noglue.example.test. has no A/AAAA "
    "record" % LINE_NOGLUE,
]


class ZoneWarningsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-zwarn-")
        cls.dir = cls.tmp.name
        text = t.example_zone() + EXTRA
        lines = text.splitlines()
        assert lines[LINE_OOZ - 1].startswith("www.example.org."), lines
        cls.zone = t.write_file(os.path.join(cls.dir, "example.test.zone"), text)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_tool(self, *args):
        return subprocess.run(list(args), capture_output=True, text=True, timeout=30,
                              cwd=self.dir)

    def assert_warned(self, stderr):
        for w in WARNINGS:
            self.assertIn(self.zone + w, stderr)

    def test_check_zone_warns_and_loads(self):
        for cmd in ([t.binary("ddnsd"), "--check-zone", "example.test", self.zone],
                    [t.binary("ddnsctl"), "check-zone", "example.test", self.zone],
                    [t.binary("ddnsctl"), "check-zone", "--tree", "example.test", self.zone]):
            p = self.run_tool(*cmd)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assert_warned(p.stderr)
            self.assertIn("OK: example.test loaded serial 1", p.stdout)

    def test_strict_refuses(self):
        for cmd in ([t.binary("ddnsd"), "--check-zone", "example.test", self.zone, "--strict"],
                    [t.binary("ddnsctl"), "check-zone", "--strict", "example.test", self.zone],
                    [t.binary("ddnsctl"), "check-zone", "--strict", "--tree", "example.test",
                     self.zone]):
            p = self.run_tool(*cmd)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assert_warned(p.stderr)
            self.assertIn("not loaded due to errors", p.stderr)
            self.assertNotIn("OK:", p.stdout)

    def test_server_loads_and_drops_out_of_zone_data(self):
        with t.Ddnsd(zones={"example.test": self.zone}) as srv:
            log = srv.log()
            for w in WARNINGS:
                self.assertIn(w, log)
            r = t.dig(srv.host4, srv.port4, "www.example.test", "A")
            self.assertEqual(sorted(rr.rdata for rr in r.answer), ["192.0.2.10", "192.0.2.11"])
            # The dropped record is not served (the name is not ours).
            r = t.dig(srv.host4, srv.port4, "www.example.org", "A")
            self.assertEqual(r.status, "REFUSED")
            # The delegation without an address is still a referral.
            r = t.dig(srv.host4, srv.port4, "host.nodns.example.test", "A")
            self.assertEqual(r.status, "NOERROR")
            self.assertEqual([(rr.rtype, rr.rdata) for rr in r.authority],
                             [("NS", "ns.elsewhere.example.test.")])

    def test_strict_in_config_refuses_start(self):
        conf = t.write_file(os.path.join(self.dir, "ddnsd.yaml"),
                            'server:\n  listen: ["127.0.0.1:0"]\n'
                            "zones:\n  - name: example.test\n    file: example.test.zone\n"
                            "    strict: true\n")
        p = self.run_tool(t.binary("ddnsd"), "--config", conf)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("example.test.zone:%d: ignoring out-of-zone data" % LINE_OOZ, p.stderr)
        self.assertIn("zone example.test. refused", p.stderr)
        self.assertNotIn("listening on", p.stderr)
        bad = t.write_file(os.path.join(self.dir, "bad.yaml"),
                           "zones:\n  - name: example.test\n    file: example.test.zone\n"
                           "    strict: sometimes\n")
        p = self.run_tool(t.binary("ddnsd"), "--config", bad)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("bad.yaml:4: zones[0].strict: must be true or false", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
