#!/usr/bin/env python3
# Real DynDNS2 clients against ddnsd: ddclient (protocol=dyndns2) and inadyn
# (custom provider) each run once with their own config and cache in a temp
# dir, and the record they set is checked with dig. Both are in
# scripts/install-deps.sh; a missing one skips its test.
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import dyndnsutil as u  # noqa: E402

DDCLIENT = shutil.which("ddclient") or ("/usr/sbin/ddclient" if os.path.exists("/usr/sbin/ddclient") else None)
INADYN = shutil.which("inadyn") or ("/usr/sbin/inadyn" if os.path.exists("/usr/sbin/inadyn") else None)


class ClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if DDCLIENT is None and INADYN is None:
            raise unittest.SkipTest("neither ddclient nor inadyn installed")
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-clients-")
        cls.dd = u.DyndnsDaemon(cls.tmp.name).start()
        u.add_user(cls.dd.data, "alice", "alice-password-1")
        cls.tok_router = u.add_host(cls.dd.data, "router.example.test", "alice")
        u.add_host(cls.dd.data, "nas.example.test", "alice")
        u.add_host(cls.dd.data, "inadyn.example.test", "alice")

    @classmethod
    def tearDownClass(cls):
        cls.dd.stop()
        cls.tmp.cleanup()

    def dig_a(self, name):
        return u.addrs(self.dd.dns, name)

    def run_ddclient(self, name, login, password, ip, hosts):
        d = tempfile.mkdtemp(prefix=f"ddclient-{name}-", dir=self.tmp.name)
        conf = os.path.join(d, "ddclient.conf")
        t.write_file(conf, "\n".join([
            "daemon=0",
            "ssl=no",
            "protocol=dyndns2",
            f"server=127.0.0.1:{self.dd.http}",
            "script=/nic/update",
            f"login={login}",
            f"password='{password}'",
            f"use=ip, ip={ip}",
            ",".join(hosts),
            "",
        ]))
        os.chmod(conf, 0o600)
        cmd = [DDCLIENT, "-daemon=0", "-foreground", "-file", conf, "-cache",
               os.path.join(d, "ddclient.cache"), "-verbose", "-noquiet"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return r.stdout + r.stderr

    @unittest.skipIf(DDCLIENT is None, "ddclient not installed")
    def test_ddclient_password(self):
        out = self.run_ddclient("pw", "alice", "alice-password-1", "192.0.2.101",
                                ["router.example.test", "nas.example.test"])
        self.assertEqual(self.dig_a("router.example.test"), ["192.0.2.101"], out)
        self.assertEqual(self.dig_a("nas.example.test"), ["192.0.2.101"], out)
        self.assertRegex(out, r"(?i)success|good")

    @unittest.skipIf(DDCLIENT is None, "ddclient not installed")
    def test_ddclient_host_token(self):
        out = self.run_ddclient("tok", "router.example.test", self.tok_router, "192.0.2.102",
                                ["router.example.test"])
        self.assertEqual(self.dig_a("router.example.test"), ["192.0.2.102"], out)

    @unittest.skipIf(DDCLIENT is None, "ddclient not installed")
    def test_ddclient_bad_password_changes_nothing(self):
        before = self.dig_a("nas.example.test")
        out = self.run_ddclient("bad", "alice", "wrong-password", "192.0.2.199", ["nas.example.test"])
        self.assertEqual(self.dig_a("nas.example.test"), before, out)
        self.assertIn("badauth", out)

    def run_inadyn(self, name, ip=None, checkip=False):
        d = tempfile.mkdtemp(prefix=f"inadyn-{name}-", dir=self.tmp.name)
        lines = [
            "period = 60",
            "custom ddnstest {",
            "    ssl = false",
            "    username = alice",
            "    password = alice-password-1",
            f"    ddns-server = 127.0.0.1:{self.dd.http}",
            '    ddns-path = "/nic/update?hostname=%h&myip=%i"',
            "    hostname = inadyn.example.test",
        ]
        if checkip:
            # Our own /checkip in checkip.dyndns.org's form.
            lines += [f"    checkip-server = 127.0.0.1:{self.dd.http}",
                      "    checkip-path = /checkip", "    checkip-ssl = false"]
        else:
            lines.append(f'    checkip-command = "echo {ip}"')
        lines += ["}", ""]
        conf = t.write_file(os.path.join(d, "inadyn.conf"), "\n".join(lines))
        cache = os.path.join(d, "cache")
        os.makedirs(cache)
        cmd = [INADYN, "--once", "--foreground", "--no-pidfile", "-f", conf,
               f"--cache-dir={cache}", "-l", "debug", "-I", f"inadyn-{name}"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return r.stdout + r.stderr

    @unittest.skipIf(INADYN is None, "inadyn not installed")
    def test_inadyn_custom_provider(self):
        out = self.run_inadyn("cmd", ip="192.0.2.111")
        self.assertEqual(self.dig_a("inadyn.example.test"), ["192.0.2.111"], out)
        out = self.run_inadyn("cmd2", ip="192.0.2.112")
        self.assertEqual(self.dig_a("inadyn.example.test"), ["192.0.2.112"], out)

    @unittest.skipIf(INADYN is None, "inadyn not installed")
    def test_inadyn_checkip(self):
        out = self.run_inadyn("checkip", checkip=True)
        # inadyn refuses loopback/private answers from a checkip server on
        # some versions; then nothing may change, but nothing may break.
        got = self.dig_a("inadyn.example.test")
        if "127.0.0.1" not in got:
            self.assertRegex(out, r"(?i)127\.0\.0\.1|invalid|private|not a valid", out)
        else:
            self.assertEqual(got, ["127.0.0.1"])


if __name__ == "__main__":
    unittest.main()
