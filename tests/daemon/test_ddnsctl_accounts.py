#!/usr/bin/env python3
# ddnsctl user / host / token / ddns-zone commands on a data directory:
# output, exit codes (0 ok, 1 error, 2 usage) and error messages; then the
# same commands while ddnsd runs on that directory (concurrent writers,
# ddnsd's --ddns-zone registration, and a /nic/update with the printed
# token checked with dig).
import base64
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class Ctl:
    """Runs ddnsctl --data-dir DIR ... and returns (rc, stdout, stderr)."""

    def __init__(self, data_dir):
        self.data_dir = data_dir

    def __call__(self, *args, stdin=None, timeout=30):
        p = subprocess.run([t.binary("ddnsctl"), "--data-dir", self.data_dir, *args],
                           input=stdin, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        rc, out, err = self(*args, **kw)
        if rc != 0:
            raise AssertionError(f"ddnsctl {' '.join(args)} -> {rc}\n{out}{err}")
        return out


def table(out):
    """Rows of a ddnsctl listing (header dropped), split on runs of spaces."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    return [re.split(r"\s{2,}", ln.strip()) for ln in lines[1:]]


class OfflineTest(unittest.TestCase):
    """ddnsctl alone on a fresh data directory."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-ctl-acc-")
        self.data = os.path.join(self.tmp.name, "data")
        self.ctl = Ctl(self.data)

    def tearDown(self):
        self.tmp.cleanup()

    def test_listing_a_missing_directory_is_an_error(self):
        rc, out, err = self.ctl("user", "list")
        self.assertEqual(rc, 1)
        self.assertIn("no accounts database", err)
        self.assertFalse(os.path.exists(self.data))

    def test_users(self):
        out = self.ctl.ok("user", "add", "Alice", "--password", "correct horse", "--admin")
        self.assertIn("user alice added (admin)", out)
        self.assertTrue(os.path.exists(os.path.join(self.data, "accounts.sqlite")))
        self.ctl.ok("user", "add", "bob", "--password-stdin", stdin="bob's password\n")

        rc, _, err = self.ctl("user", "add", "alice", "--password", "another one")
        self.assertEqual(rc, 1)
        self.assertIn("already exists", err)
        rc, _, err = self.ctl("user", "add", "carol", "--password", "short")
        self.assertEqual(rc, 1)
        self.assertIn("too short", err)
        rc, _, err = self.ctl("user", "add", "bad name", "--password", "long enough")
        self.assertEqual(rc, 1)
        self.assertIn("invalid user name", err)
        rc, _, err = self.ctl("user", "add", "carol", stdin="")
        self.assertEqual(rc, 2)
        self.assertIn("--password", err)
        rc, _, _ = self.ctl("user", "add", "carol", "--password-stdin", stdin="")
        self.assertEqual(rc, 2)

        rows = table(self.ctl.ok("user", "list"))
        self.assertEqual([r[:3] for r in rows], [["alice", "yes", "0"], ["bob", "no", "0"]])

        self.ctl.ok("user", "passwd", "bob", "--password", "new password")
        rc, _, err = self.ctl("user", "passwd", "nobody", "--password", "new password")
        self.assertEqual(rc, 1)
        self.assertIn("no such user", err)

        self.assertIn("deleted", self.ctl.ok("user", "del", "bob"))
        rc, _, err = self.ctl("user", "del", "bob")
        self.assertEqual(rc, 1)
        self.assertIn("no such user", err)
        self.assertEqual([r[0] for r in table(self.ctl.ok("user", "list"))], ["alice"])

    def test_usage_errors_are_not_success(self):
        for args in (["user"], ["user", "add"], ["host", "add", "x.example.test"],
                     ["token"], ["ddns-zone", "frobnicate"]):
            rc, _, _ = self.ctl(*args)
            self.assertNotIn(rc, (0, 1), args)

    def test_zones_hosts_tokens(self):
        self.ctl.ok("user", "add", "alice", "--password", "correct horse")
        self.ctl.ok("user", "add", "bob", "--password", "bob's password")
        rc, _, err = self.ctl("host", "add", "home.example.test", "--owner", "alice")
        self.assertEqual(rc, 1)
        self.assertIn("not inside a zone open for DDNS", err)

        self.assertIn("example.test", self.ctl.ok("ddns-zone", "add", "Example.TEST."))
        self.ctl.ok("ddns-zone", "add", "example.test")  # idempotent
        self.ctl.ok("ddns-zone", "open", "example.org")
        self.assertEqual(self.ctl.ok("ddns-zone", "list").split(), ["example.org", "example.test"])

        rc, out, err = self.ctl("host", "add", "Home.Example.Test.", "--owner", "alice")
        self.assertEqual(rc, 0, err)
        token = out.strip()
        self.assertEqual(out.count("\n"), 1)
        self.assertRegex(token, TOKEN_RE)
        self.assertIn("home.example.test", err)

        for fqdn, owner, msg in (("home.example.test", "alice", "already exists"),
                                 ("x.example.net", "alice", "not inside"),
                                 ("example.test", "alice", "apex"),
                                 ("bad..example.test", "alice", "invalid host name"),
                                 ("y.example.test", "nobody", "no such user")):
            rc, out, err = self.ctl("host", "add", fqdn, "--owner", owner)
            self.assertEqual(rc, 1, fqdn)
            self.assertEqual(out, "")
            self.assertIn(msg, err)

        self.ctl.ok("host", "add", "work.example.org", "--owner", "bob")
        rows = table(self.ctl.ok("host", "list"))
        self.assertEqual([r[:3] for r in rows], [["home.example.test", "alice", "example.test"],
                                                 ["work.example.org", "bob", "example.org"]])
        rows = table(self.ctl.ok("host", "list", "--owner", "bob"))
        self.assertEqual([r[0] for r in rows], ["work.example.org"])
        rc, _, err = self.ctl("host", "list", "--owner", "nobody")
        self.assertEqual(rc, 1)

        new = self.ctl.ok("token", "rotate", "home.example.test").strip()
        self.assertRegex(new, TOKEN_RE)
        self.assertNotEqual(new, token)
        rc, _, err = self.ctl("token", "rotate", "nothere.example.test")
        self.assertEqual(rc, 1)
        self.assertIn("no such host", err)

        rc, _, err = self.ctl("ddns-zone", "del", "example.org")
        self.assertEqual(rc, 1)
        self.assertIn("delete them first", err)
        self.ctl.ok("host", "del", "work.example.org")
        rc, _, _ = self.ctl("host", "del", "work.example.org")
        self.assertEqual(rc, 1)
        self.ctl.ok("ddns-zone", "close", "example.org")
        self.assertEqual(self.ctl.ok("ddns-zone", "list").split(), ["example.test"])

        # Deleting a user takes the user's hosts along.
        self.assertIn("1 host", self.ctl.ok("user", "del", "alice"))
        self.assertEqual(table(self.ctl.ok("host", "list")), [])


def http_port(d):
    m = re.search(r"http: listening on 127\.0\.0\.1:(\d+)", d.log())
    return int(m.group(1)) if m else None


class Daemon(t.Ddnsd):
    """ddnsd with an HTTP listener. ddnstest's "listening on" pattern also
    matches the "http: listening on" line; the HTTP port is not probed with
    DNS queries and not taken as the DNS port."""

    def _answers(self, host, port):
        if port == http_port(self):
            return True
        return super()._answers(host, port)

    def start(self, timeout=10):
        super().start(timeout)
        m = re.search(r"info listening on 127\.0\.0\.1:(\d+) ", self.log())
        if m:
            self.host4, self.port4 = "127.0.0.1", int(m.group(1))
        return self


def nic_update(port, user, password, query, timeout=5):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/nic/update?{query}")
    cred = base64.b64encode(f"{user}:{password}".encode()).decode()
    req.add_header("Authorization", "Basic " + cred)
    req.add_header("User-Agent", "ddns-test/1.0")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode().strip()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode().strip()


class WithDaemonTest(unittest.TestCase):
    """The commands while ddnsd runs on the same data directory."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-ctl-acc-d-")
        d = self.tmp.name
        self.data = os.path.join(d, "data")
        os.makedirs(self.data)
        self.ctl = Ctl(self.data)
        zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
        self.d = Daemon(zones={"example.test": zone}, listen=["127.0.0.1:0"],
                         args=["--data-dir", self.data, "--ddns-zone", "example.test",
                               "--http", "127.0.0.1:0"])
        self.d.start()

    def tearDown(self):
        if self.d.alive():
            self.d.stop()
        self.d.cleanup()
        self.tmp.cleanup()

    def test_commands_while_running(self):
        # ddnsd opened its --ddns-zone in the accounts database at start.
        self.assertEqual(self.ctl.ok("ddns-zone", "list").split(), ["example.test"])
        self.ctl.ok("user", "add", "alice", "--password", "correct horse")

        # Many ddnsctl processes writing at once, beside the daemon: each
        # waits for the write lock instead of failing.
        names = [f"h{i}.example.test" for i in range(12)]
        with ThreadPoolExecutor(max_workers=6) as ex:
            results = list(ex.map(lambda n: self.ctl("host", "add", n, "--owner", "alice"),
                                  names))
        for n, (rc, out, err) in zip(names, results):
            self.assertEqual(rc, 0, f"{n}: {err}")
            self.assertRegex(out.strip(), TOKEN_RE)
        tokens = {n: r[1].strip() for n, r in zip(names, results)}
        self.assertEqual(len(set(tokens.values())), len(names))
        self.assertEqual(sorted(r[0] for r in table(self.ctl.ok("host", "list"))),
                         sorted(names))

        port = http_port(self.d)
        self.assertIsNotNone(port, "ddnsd did not log its HTTP listener:\n" + self.d.log())
        host = names[0]
        status, body = nic_update(port, host, tokens[host], f"hostname={host}&myip=192.0.2.77")
        self.assertEqual((status, body), (200, "good 192.0.2.77"))
        self.assertTrue(t.wait_until(
            lambda: t.dig(self.d.host4, self.d.port4, host, "A").rdatas("A") == ["192.0.2.77"],
            5))

        # The rotated token works at once; the old one no longer does.
        new = self.ctl.ok("token", "rotate", host).strip()
        status, body = nic_update(port, host, tokens[host], f"hostname={host}&myip=192.0.2.78")
        self.assertEqual(body, "badauth")
        status, body = nic_update(port, host, new, f"hostname={host}&myip=192.0.2.78")
        self.assertEqual((status, body), (200, "good 192.0.2.78"))
        self.assertEqual(t.dig(self.d.host4, self.d.port4, host, "A").rdatas("A"),
                         ["192.0.2.78"])
        # The update shows in the listing (recorded by ddnsd).
        self.assertTrue(t.wait_until(
            lambda: any(r[0] == host and r[3] == "192.0.2.78"
                        for r in table(self.ctl.ok("host", "list"))), 5))

        # A user's password changed by ddnsctl is what ddnsd checks next.
        self.ctl.ok("user", "passwd", "alice", "--password", "battery staple")
        status, body = nic_update(port, "alice", "correct horse",
                                  f"hostname={names[1]}&myip=192.0.2.79")
        self.assertEqual(body, "badauth")
        status, body = nic_update(port, "alice", "battery staple",
                                  f"hostname={names[1]}&myip=192.0.2.79")
        self.assertEqual((status, body), (200, "good 192.0.2.79"))

        # A deleted host is refused by the running daemon.
        self.ctl.ok("host", "del", names[2])
        status, body = nic_update(port, names[2], tokens[names[2]],
                                  f"hostname={names[2]}&myip=192.0.2.80")
        self.assertNotIn("good", body)
        self.assertTrue(self.d.alive())
        self.assertEqual(self.d.stop(), 0)


def soa_serial(d):
    r = t.dig(d.host4, d.port4, "example.test", "SOA")
    return int(r.rdatas("SOA")[0].split()[2])


class RemovalTest(unittest.TestCase):
    """ddnsctl host del / user del remove the hosts' records from DNS:
    the running ddnsd drains the accounts database's removal queue (or
    does so when it next starts)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-ctl-rm-")
        d = self.tmp.name
        self.data = os.path.join(d, "data")
        os.makedirs(self.data)
        self.ctl = Ctl(self.data)
        self.zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
        self.d = None

    def start(self):
        self.d = Daemon(zones={"example.test": self.zone}, listen=["127.0.0.1:0"],
                        args=["--data-dir", self.data, "--ddns-zone", "example.test",
                              "--http", "127.0.0.1:0"])
        self.d.start()
        self.port = http_port(self.d)
        self.assertIsNotNone(self.port, self.d.log())

    def tearDown(self):
        if self.d is not None:
            if self.d.alive():
                self.d.stop()
            self.d.cleanup()
        self.tmp.cleanup()

    def dig(self, name, qtype="A"):
        return t.dig(self.d.host4, self.d.port4, name, qtype)

    def updated(self, host, token, ip, qtype="A"):
        status, body = nic_update(self.port, host, token, f"hostname={host}&myip={ip}")
        self.assertEqual((status, body), (200, f"good {ip}"))
        self.assertTrue(t.wait_until(lambda: self.dig(host, qtype).rdatas(qtype) == [ip], 5))

    def gone(self, host, timeout=2):
        """True when, within timeout, HOST has no A, AAAA or TXT left."""
        def check():
            for qtype in ("A", "AAAA", "TXT"):
                r = self.dig(host, qtype)
                if r.status not in ("NXDOMAIN", "NOERROR") or r.rdatas(qtype):
                    return False
            return True
        return t.wait_until(check, timeout)

    def test_host_del_removes_records_from_running_ddnsd(self):
        self.start()
        self.ctl.ok("user", "add", "alice", "--password", "correct horse")
        token = self.ctl.ok("host", "add", "home.example.test", "--owner", "alice").strip()
        self.updated("home.example.test", token, "192.0.2.10")
        self.updated("home.example.test", token, "2001:db8::10", "AAAA")
        before = soa_serial(self.d)

        out = self.ctl.ok("host", "del", "home.example.test")
        self.assertIn("deleted", out)
        self.assertIn("ddnsd removes", out)
        self.assertTrue(self.gone("home.example.test"), self.d.log())
        self.assertEqual(self.dig("home.example.test", "A").status, "NXDOMAIN")
        self.assertTrue(t.wait_until(lambda: soa_serial(self.d) > before, 2))
        # Other names of the zone stay.
        self.assertEqual(self.dig("www.example.test", "A").status, "NOERROR")
        self.assertTrue(self.dig("www.example.test", "A").rdatas("A"))
        # The name can be taken again and updated from scratch.
        token = self.ctl.ok("host", "add", "home.example.test", "--owner", "alice").strip()
        self.updated("home.example.test", token, "192.0.2.11")
        time.sleep(0.6)  # several drain rounds: the old removal must not strike again
        self.assertEqual(self.dig("home.example.test", "A").rdatas("A"), ["192.0.2.11"])
        self.assertEqual(self.d.stop(), 0)

    def test_user_del_removes_all_hosts_records(self):
        self.start()
        self.ctl.ok("user", "add", "bob", "--password", "battery staple")
        self.ctl.ok("user", "add", "carol", "--password", "carols password")
        hosts = ["a.example.test", "b.example.test"]
        for i, h in enumerate(hosts):
            tok = self.ctl.ok("host", "add", h, "--owner", "bob").strip()
            self.updated(h, tok, f"192.0.2.{20 + i}")
        ctok = self.ctl.ok("host", "add", "c.example.test", "--owner", "carol").strip()
        self.updated("c.example.test", ctok, "192.0.2.30")
        before = soa_serial(self.d)

        out = self.ctl.ok("user", "del", "bob")
        self.assertIn("2 host(s)", out)
        self.assertIn("a.example.test", out)
        for h in hosts:
            self.assertTrue(self.gone(h), h + "\n" + self.d.log())
        self.assertGreater(soa_serial(self.d), before)
        self.assertEqual(self.dig("c.example.test", "A").rdatas("A"), ["192.0.2.30"])

    def test_host_del_while_stopped_applies_at_start(self):
        self.start()
        self.ctl.ok("user", "add", "alice", "--password", "correct horse")
        token = self.ctl.ok("host", "add", "home.example.test", "--owner", "alice").strip()
        self.updated("home.example.test", token, "192.0.2.40")
        self.assertEqual(self.d.stop(), 0)
        self.d.cleanup()

        self.ctl.ok("host", "del", "home.example.test")
        self.start()
        # Right after start: ddnsd drains the queue before it reports started.
        r = self.dig("home.example.test", "A")
        self.assertEqual(r.status, "NXDOMAIN", r.output)
        self.assertEqual(self.d.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
