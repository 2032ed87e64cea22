#!/usr/bin/env python3
# ddnsd refuses to start on a bad config, a bad flag, a broken zone or a busy
# port, and says which key/file/line/address is at fault.
import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402


class ConfigErrorTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-conf-")
        self.dir = self.tmp.name
        t.write_file(os.path.join(self.dir, "example.test.zone"), t.example_zone())

    def tearDown(self):
        self.tmp.cleanup()

    def run_ddnsd(self, *args):
        return subprocess.run([t.binary("ddnsd"), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=20, cwd=self.dir)

    def run_config(self, text):
        path = os.path.join(self.dir, "ddnsd.yaml")
        t.write_file(path, text)
        return self.run_ddnsd("--config", path)

    def assert_refused(self, p, *needles):
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        for n in needles:
            self.assertIn(n, p.stderr)

    def test_bad_threads(self):
        p = self.run_config('server:\n  listen: ["127.0.0.1:0"]\n  threads: 0\n')
        self.assert_refused(p, "ddnsd.yaml:3: server.threads: must be a number between 1 and 64")

    def test_unknown_key(self):
        p = self.run_config('server:\n  listen: ["127.0.0.1:0"]\n  treads: 2\n')
        self.assert_refused(p, "ddnsd.yaml:3: server.treads: unknown key")
        p = self.run_config('zones:\n  - name: example.test\n    file: example.test.zone\n'
                            '    masters: [192.0.2.1]\n')
        self.assert_refused(p, "ddnsd.yaml:4: zones[0].masters: unknown key")
        p = self.run_config('zones:\n  - name: example.test\n    file: example.test.zone\n'
                            '    notify: [192.0.2.1]\n')
        self.assert_refused(p, "ddnsd.yaml:4: zones[0].notify: '192.0.2.1': expected host:port")

    def test_bad_values(self):
        p = self.run_config('server:\n  listen: ["::1:53"]\n')
        self.assert_refused(p, "ddnsd.yaml:2: server.listen:", "[addr]:port")
        p = self.run_config('server:\n  tcp-idle-timeout: forever\n')
        self.assert_refused(p, "ddnsd.yaml:2: server.tcp-idle-timeout: must be a duration")
        p = self.run_config('server:\n  round-robin: sometimes\n')
        self.assert_refused(p, "ddnsd.yaml:2: server.round-robin: must be true or false")
        p = self.run_config('zones:\n  - name: example.test\n')
        self.assert_refused(p, "zones[0].file: is required")

    def test_yaml_syntax_error(self):
        p = self.run_config('server:\n  listen: ["127.0.0.1:0"\n')
        self.assert_refused(p, "ddnsd.yaml:", "syntax error")

    def test_missing_config_file(self):
        p = self.run_ddnsd("--config", os.path.join(self.dir, "nope.yaml"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("nope.yaml", p.stderr)

    def test_bad_flags(self):
        self.assert_refused(self.run_ddnsd("--listen", "localhost"), "--listen", "localhost")
        p = self.run_ddnsd("--listen", "127.0.0.1:0", "--zone", "example.test")
        self.assert_refused(p, "--zone 'example.test': expected ORIGIN=FILE")
        p = self.run_ddnsd("--listen", "127.0.0.1:0", "--threads", "0")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--threads", p.stderr)

    def test_nothing_to_serve(self):
        self.assert_refused(self.run_ddnsd("--listen", "127.0.0.1:0"), "nothing to serve")

    def test_broken_zone_refuses_start(self):
        t.write_file(os.path.join(self.dir, "bad.zone"),
                     t.example_zone("example.org") + "www IN AAAA not-an-address\n")
        p = self.run_ddnsd("--listen", "127.0.0.1:0", "--zone", "example.test=example.test.zone",
                           "--zone", "example.org=bad.zone")
        self.assert_refused(p, "bad.zone:", "zone example.org. refused",
                            "not starting: 1 of 2 zones failed")
        self.assertNotIn("listening on", p.stderr)

    def test_missing_zone_file_refuses_start(self):
        p = self.run_ddnsd("--listen", "127.0.0.1:0", "--zone", "example.test=missing.zone")
        self.assert_refused(p, "missing.zone", "No such file")

    def test_duplicate_zone(self):
        p = self.run_ddnsd("--listen", "127.0.0.1:0", "--zone", "example.test=example.test.zone",
                           "--zone", "Example.Test.=example.test.zone")
        self.assert_refused(p, "configured twice")

    def test_busy_port_refuses_start(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            p = self.run_ddnsd("--listen", f"127.0.0.1:{port}", "--zone",
                               "example.test=example.test.zone")
            self.assert_refused(p, f"127.0.0.1:{port}", "bind", "Address already in use")


if __name__ == "__main__":
    unittest.main(verbosity=2)
