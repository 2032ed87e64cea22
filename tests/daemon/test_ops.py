#!/usr/bin/env python3
# Running ddnsd as a service: `--check-config` (good and bad configs, the bad
# key named, nothing started), SIGHUP re-reading the configuration (a zone
# added and removed, a transfer ACL, the RRL rate changed, a bad config
# refused with the old one kept), journald-style log lines and sd_notify READY/RELOADING/
# STOPPING, and etc/ddnsd.service checked by systemd-analyze.
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402


def check_config(*args, cwd=None):
    p = subprocess.run([t.binary("ddnsd"), "--check-config", *args], capture_output=True,
                       text=True, timeout=30, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


class CheckConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-ops-")
        self.dir = self.tmp.name
        t.write_file(os.path.join(self.dir, "example.test.zone"), t.example_zone())

    def tearDown(self):
        self.tmp.cleanup()

    def config(self, text):
        return t.write_file(os.path.join(self.dir, "ddnsd.yaml"), text)

    def test_good_config(self):
        port = t.free_port()
        path = self.config(f"""server:
  listen: ["127.0.0.1:{port}"]
  data-dir: var
zones:
  - name: example.test
    file: example.test.zone
rrl:
  responses-per-second: 20
  exempt-clients: [127.0.0.1]
""")
        start = time.monotonic()
        rc, out, err = check_config("--config", path)
        self.assertEqual(rc, 0, err)
        self.assertIn("OK: example.test loaded serial 1", out)
        self.assertIn("1 zones, rrl 20 responses/s per /24 and /56, slip 2, window 15s", out)
        self.assertLess(time.monotonic() - start, 10)
        # Nothing started: the port is still free, no data directory made.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", port))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "var")))

    def test_flags_alone(self):
        rc, out, err = check_config("--zone", "example.test=" + os.path.join(self.dir, "example.test.zone"),
                                    "--rrl", "10")
        self.assertEqual(rc, 0, err)
        self.assertIn("OK: the command line: 1 zones, rrl 10 responses/s", out)

    def test_bad_values_name_the_key(self):
        cases = [
            ("rrl:\n  slip: 20\n", "ddnsd.yaml:2: rrl.slip: must be a number between 0 and 10"),
            ("rrl:\n  responses-per-second: many\n", "rrl.responses-per-second: must be a number"),
            ("rrl:\n  exempt-clients: [10.0.0.0/99]\n", "rrl.exempt-clients: '10.0.0.0/99'"),
            ("server:\n  threads: 0\n", "server.threads: must be a number between 1 and 64"),
            ("zones:\n  - name: example.test\n    file: example.test.zone\n"
             "    update-policy: [\"grant nokey frobnicate example.test A\"]\n    \n"
             "server:\n  data-dir: var\n", "update-policy"),
            ("zones:\n  - name: example.test\n    file: example.test.zone\n"
             "    allow-transfer: [\"key nokey\"]\n", "allow-transfer: unknown key nokey."),
        ]
        for text, want in cases:
            rc, out, err = check_config("--config", self.config(text))
            self.assertEqual(rc, 1, text)
            self.assertIn(want, err, text)
            self.assertNotIn("zones, rrl", out)  # no overall OK

    def test_bad_zone_file_is_named_with_its_line(self):
        bad = t.write_file(os.path.join(self.dir, "bad.zone"),
                           "$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN NS ns1\nx IN A 300.1.2.3\n")
        path = self.config("zones:\n  - {name: example.test, file: example.test.zone}\n"
                           "  - {name: bad.test, file: bad.zone}\n")
        rc, out, err = check_config("--config", path)
        self.assertEqual(rc, 1)
        self.assertIn(bad + ":4:", err)
        self.assertIn("1 of 2 zones refused", err)
        self.assertIn("OK: example.test loaded", out)

    def test_bad_flag_value_refuses_to_start(self):
        zone = os.path.join(self.dir, "example.test.zone")
        for args, want in [(["--rrl", "20000"], "--rrl"), (["--rrl-slip", "11"], "--rrl-slip"),
                           (["--rrl", "fast"], "--rrl")]:
            p = subprocess.run([t.binary("ddnsd"), "--zone", f"example.test={zone}",
                                "--listen", "127.0.0.1:0", *args],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn(want, p.stderr + p.stdout, args)


class ReconfigureTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-ops-")
        self.dir = self.tmp.name
        t.write_file(os.path.join(self.dir, "example.test.zone"), t.example_zone())
        t.write_file(os.path.join(self.dir, "example.org.zone"), t.example_zone("example.org", serial=7))

    def tearDown(self):
        self.tmp.cleanup()

    def yaml(self, port, zones, rrl="", extra="", acl=None):
        zl = "".join(f"  - name: {z}\n    file: {z}.zone\n" for z in zones)
        if acl:
            zl = zl.replace("    file: example.test.zone\n",
                            f"    file: example.test.zone\n    allow-transfer: [{acl}]\n")
        return (f"server:\n  listen: [\"127.0.0.1:{port}\"]\n  threads: 1\n  data-dir: var\n"
                f"  log-level: info\n{extra}zones:\n{zl}{rrl}")

    def flood(self, d, src, n=30):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.setblocking(False)
        full = 0
        for i in range(n):
            s.sendto(t.make_query("www.example.test", qid=i), (d.host4, d.port4))
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            ready, _, _ = select.select([s], [], [], 0.05)
            if ready:
                h = t.parse_header(s.recv(4096))
                if not h["tc"] and h["ancount"]:
                    full += 1
        s.close()
        return full

    def axfr_rcode(self, port):
        r = t.tcp_exchange("127.0.0.1", port, t.make_query("example.test", "AXFR", qid=9))
        return t.parse_header(r[0])["rcode"] if r else None

    def reload_and_wait(self, d, marker):
        before = d.log().count(marker)
        d.reload()
        self.assertTrue(t.wait_until(lambda: d.log().count(marker) > before, 10), d.log())

    def test_sighup_applies_a_new_config_and_refuses_a_bad_one(self):
        port = t.free_port()
        path = os.path.join(self.dir, "ddnsd.yaml")
        t.write_file(path, self.yaml(port, ["example.test"]))
        d = t.Ddnsd(config=None, listen=[], workdir=self.dir, args=["--config", path])
        d.start()
        try:
            self.assertEqual(t.dig("127.0.0.1", port, "www.example.org").status, "REFUSED")
            self.assertGreaterEqual(self.flood(d, "127.6.0.1"), 29)  # RRL off
            self.assertEqual(self.axfr_rcode(port), 5)  # no allow-transfer: REFUSED

            # A zone added, a transfer ACL, RRL turned on at 3/s.
            t.write_file(path, self.yaml(port, ["example.test", "example.org"], acl="127.0.0.1",
                                         rrl="rrl:\n  responses-per-second: 3\n  slip: 0\n"))
            self.reload_and_wait(d, "reload: configuration applied")
            log = d.log()
            self.assertIn("reload: zone example.org. added", log)
            self.assertIn("reload: rrl 3 responses/s", log)
            r = t.dig("127.0.0.1", port, "example.org", "SOA")
            self.assertEqual((r.status, "aa" in r.flags), ("NOERROR", True))
            self.assertIn(" 7 ", r.answer[0].rdata + " ")
            self.assertLessEqual(self.flood(d, "127.6.1.1"), 2 * 3)
            self.assertIn("reload: allow-transfer updated", log)
            self.assertEqual(self.axfr_rcode(port), 0)

            # A bad config: refused with its key named; zones and RRL kept.
            t.write_file(path, self.yaml(port, ["example.test"],
                                         rrl="rrl:\n  responses-per-second: 3\n  slip: 99\n"))
            self.reload_and_wait(d, "new configuration refused")
            self.assertIn("rrl.slip: must be a number between 0 and 10", d.log())
            self.assertEqual(t.dig("127.0.0.1", port, "example.org", "SOA").status, "NOERROR")
            self.assertLessEqual(self.flood(d, "127.6.2.1"), 2 * 3)
            # A config that parses but would not start (unknown TSIG key):
            # refused as a whole too.
            t.write_file(path, self.yaml(port, ["example.test"]).replace(
                "    file: example.test.zone\n",
                "    file: example.test.zone\n    allow-transfer: [\"key nokey\"]\n"))
            self.reload_and_wait(d, "reload: new configuration refused (1 problem)")
            self.assertEqual(t.dig("127.0.0.1", port, "example.org", "SOA").status, "NOERROR")

            # The zone removed and RRL off again; a listen change needs a restart.
            t.write_file(path, self.yaml(port, ["example.test"]).replace(
                f"127.0.0.1:{port}", f"127.0.0.1:{port}\", \"127.0.0.2:{port}"))
            self.reload_and_wait(d, "reload: configuration applied")
            log = d.log()
            self.assertIn("reload: zone example.org. removed", log)
            self.assertIn("reload: rrl off", log)
            self.assertIn("server.listen changed: takes effect at the next restart", log)
            self.assertEqual(t.dig("127.0.0.1", port, "example.org", "SOA").status, "REFUSED")
            self.assertGreaterEqual(self.flood(d, "127.6.3.1"), 29)
            self.assertEqual(self.axfr_rcode(port), 5)  # the ACL is gone again
            self.assertTrue(d.alive())
        finally:
            d.stop()


class ServiceTest(unittest.TestCase):
    def test_journald_lines_and_sd_notify(self):
        with tempfile.TemporaryDirectory(prefix="ddns-ops-") as tmp:
            zone = t.write_file(os.path.join(tmp, "example.test.zone"), t.example_zone())
            sock_path = os.path.join(tmp, "notify")
            ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            ns.bind(sock_path)
            ns.settimeout(10)
            logpath = os.path.join(tmp, "log")
            log = open(logpath, "wb")
            st = os.fstat(log.fileno())
            env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}", NOTIFY_SOCKET=sock_path)
            p = subprocess.Popen([t.binary("ddnsd"), "--zone", f"example.test={zone}",
                                  "--listen", "127.0.0.1:0", "--threads", "1"],
                                 stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
            try:
                self.assertEqual(ns.recv(100), b"READY=1")
                p.send_signal(signal.SIGHUP)
                self.assertEqual(ns.recv(100), b"RELOADING=1")
                self.assertEqual(ns.recv(100), b"READY=1")
                p.send_signal(signal.SIGTERM)
                self.assertEqual(ns.recv(100), b"STOPPING=1")
                self.assertEqual(p.wait(timeout=10), 0)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                log.close()
                ns.close()
            with open(logpath, errors="replace") as f:
                lines = f.read().splitlines()
            self.assertTrue(lines)
            for line in lines:
                self.assertRegex(line, r"^<[2-7]>(?!\d{4}-\d\d-\d\d)", line)  # priority, no timestamp
            self.assertTrue(any(re.match(r"^<6>ddnsd started", l) for l in lines), lines)

    def test_without_journal_lines_keep_their_timestamps(self):
        with tempfile.TemporaryDirectory(prefix="ddns-ops-") as tmp:
            zone = t.write_file(os.path.join(tmp, "example.test.zone"), t.example_zone())
            # JOURNAL_STREAM inherited from a parent but stderr is a file:
            # not the journal.
            env = dict(os.environ, JOURNAL_STREAM="1:2")
            p = subprocess.run([t.binary("ddnsd"), "--check-config", "--zone", f"example.test={zone}"],
                               capture_output=True, text=True, env=env, timeout=30)
            self.assertEqual(p.returncode, 0)
            d = t.Ddnsd(zones={"example.test": zone}, listen=["127.0.0.1:0"], threads=1).start()
            d.stop()
            first = d.log().splitlines()[0]
            d.cleanup()
            self.assertRegex(first, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info ")

    def test_systemd_unit(self):
        with open(os.path.join(t.SOURCE_DIR, "etc", "ddnsd.service")) as f:
            unit = f.read()
        keys = {}
        for line in unit.splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                keys.setdefault(k, []).append(v)
        self.assertEqual(keys["AmbientCapabilities"], ["CAP_NET_BIND_SERVICE"])
        self.assertEqual(keys["CapabilityBoundingSet"], ["CAP_NET_BIND_SERVICE"])
        for k, v in [("Type", "notify"), ("User", "ddns"), ("ProtectSystem", "strict"),
                     ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                     ("SystemCallFilter", "@system-service"), ("StateDirectory", "ddnsd"),
                     ("ExecReload", "/bin/kill -HUP $MAINPID")]:
            self.assertEqual(keys.get(k), [v], k)
        self.assertIn("AF_INET AF_INET6 AF_UNIX", keys["RestrictAddressFamilies"][0])
        self.assertIn("--check-config", unit)  # how to check before a reload, in its comments
        sa = shutil.which("systemd-analyze")
        if not sa:
            self.skipTest("systemd-analyze not installed (apt-get install systemd)")
        with tempfile.TemporaryDirectory(prefix="ddns-unit-") as tmp:
            path = os.path.join(tmp, "ddnsd.service")
            with open(path, "w") as f:
                f.write(unit.replace("/usr/local/bin/ddnsd", t.binary("ddnsd")))
            p = subprocess.run([sa, "verify", path], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            # verify reports bad lines as warnings with status 0: none allowed.
            self.assertEqual(p.stdout + p.stderr, "")
            p = subprocess.run([sa, "security", "--offline=yes", "--threshold=30", path],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr)
            self.assertRegex(p.stdout, r"Overall exposure level for ddnsd.service: [0-2]\.\d")


if __name__ == "__main__":
    unittest.main()
