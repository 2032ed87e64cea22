#!/usr/bin/env python3
# DynDNS2 over HTTP against ddnsd, with curl, each answer checked with dig
# on ddnsd's DNS port: good/nochg, v4+v6, missing myip, several hosts, 21
# hosts (numhost), bad hostname (notfqdn), not owned (nohost), wrong
# password (badauth), missing credentials (401), no user agent (badagent),
# host tokens (Basic and ?token=), URL user:pass@, POST, TXT for ACME,
# offline, the nochg abuse window, /checkip, /myip, http.trusted-proxies
# (X-Forwarded-For / Forwarded honoured only from a trusted peer), and
# durability: SIGKILL right after "good", restart, the record and its
# history are there.
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import dyndnsutil as u  # noqa: E402

ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-1")


class DyndnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("curl") is None or shutil.which("dig") is None:
            raise unittest.SkipTest("curl and dig are needed")
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-dyndns-")
        cls.dd = u.DyndnsDaemon(cls.tmp.name, extra_args=[])
        data = cls.dd.data
        os.makedirs(data, exist_ok=True)
        cls.dd.start()
        u.add_user(data, *ALICE)
        u.add_user(data, *BOB)
        cls.tok_home = u.add_host(data, "home.example.test", "alice")
        cls.tok_cabin = u.add_host(data, "cabin.example.test", "alice")
        cls.tok_bob = u.add_host(data, "bob.example.test", "bob")
        for i in range(8):
            u.add_host(data, f"n{i}.example.test", "alice")

    @classmethod
    def tearDownClass(cls):
        cls.dd.stop()
        cls.tmp.cleanup()

    def get(self, path, auth=ALICE, **kw):
        user, pw = auth if auth else (None, None)
        return u.curl(self.dd.http, path, user=user, password=pw, **kw)

    def a(self, name, qtype="A"):
        return u.addrs(self.dd.dns, name, qtype)

    def test_good_nochg_and_dig(self):
        r = self.get("/nic/update?hostname=home.example.test&myip=192.0.2.50")
        self.assertEqual((r.status, r.body), (200, "good 192.0.2.50\n"))
        self.assertEqual(self.a("home.example.test"), ["192.0.2.50"])
        r = self.get("/nic/update?hostname=home.example.test&myip=192.0.2.50")
        self.assertEqual(r.body, "nochg 192.0.2.50\n")
        r = self.get("/v3/update?hostname=home.example.test&myip=192.0.2.51")
        self.assertEqual(r.body, "good 192.0.2.51\n")
        self.assertEqual(self.a("home.example.test"), ["192.0.2.51"])
        # TTL as configured (60 by default), serial bumped.
        d = t.dig("127.0.0.1", self.dd.dns, "home.example.test", "A")
        self.assertEqual(d.answer[0].ttl, 60)
        soa = t.dig("127.0.0.1", self.dd.dns, "example.test", "SOA").answer[0].rdata.split()
        self.assertGreater(int(soa[2]), 1)

    def test_dual_stack_and_missing_myip(self):
        r = self.get("/nic/update?hostname=cabin.example.test&myip=192.0.2.60,2001:db8::60")
        self.assertEqual(r.body, "good 192.0.2.60,2001:db8::60\n")
        self.assertEqual(self.a("cabin.example.test"), ["192.0.2.60"])
        self.assertEqual(self.a("cabin.example.test", "AAAA"), ["2001:db8::60"])
        r = self.get("/nic/update?hostname=cabin.example.test&myipv6=2001:db8::61")
        self.assertEqual(r.body, "good 2001:db8::61\n")
        self.assertEqual(self.a("cabin.example.test", "AAAA"), ["2001:db8::61"])
        self.assertEqual(self.a("cabin.example.test"), ["192.0.2.60"])
        # No myip: the address the request came from (127.0.0.1 here).
        r = self.get("/nic/update?hostname=cabin.example.test")
        self.assertEqual(r.body, "good 127.0.0.1\n")
        self.assertEqual(self.a("cabin.example.test"), ["127.0.0.1"])

    def test_errors(self):
        r = self.get("/nic/update?hostname=n0.example.test&myip=192.0.2.1", auth=None)
        self.assertEqual(r.status, 401)
        self.assertIn('Basic realm="ddns"', r.headers.get("www-authenticate", ""))
        self.assertEqual(r.body, "badauth\n")
        r = self.get("/nic/update?hostname=n0.example.test&myip=192.0.2.1", auth=("alice", "wrong-pass"))
        self.assertEqual(r.body, "badauth\n")
        r = self.get("/nic/update?hostname=n0.example.test&myip=192.0.2.1", agent=None)
        self.assertEqual(r.body, "badagent\n")
        self.assertEqual(self.get("/nic/update?hostname=not_valid!&myip=192.0.2.1").body, "notfqdn\n")
        self.assertEqual(self.get("/nic/update?myip=192.0.2.1").body, "notfqdn\n")
        self.assertEqual(self.get("/nic/update?hostname=bob.example.test&myip=192.0.2.1").body, "nohost\n")
        self.assertEqual(self.get("/nic/update?hostname=zz.example.test&myip=192.0.2.1").body, "nohost\n")
        self.assertEqual(self.get("/nic/update?hostname=n0.example.test&myip=300.1.1.1").body, "dnserr\n")
        hosts = ",".join(["n0.example.test"] * 21)
        self.assertEqual(self.get(f"/nic/update?hostname={hosts}&myip=192.0.2.1").body, "numhost\n")
        # None of the above changed anything.
        for name in ("n0.example.test", "bob.example.test", "zz.example.test"):
            self.assertEqual(self.a(name), [], name)
        r = self.get("/nic/nothing")
        self.assertEqual(r.status, 404)

    def test_several_hosts(self):
        r = self.get("/nic/update?hostname=n1.example.test,bob.example.test,n4.example.test&myip=192.0.2.70")
        self.assertEqual(r.body, "good 192.0.2.70\nnohost\ngood 192.0.2.70\n")
        self.assertEqual(self.a("n1.example.test"), ["192.0.2.70"])
        self.assertEqual(self.a("n4.example.test"), ["192.0.2.70"])
        self.assertEqual(self.a("bob.example.test"), [])
        hosts = ",".join(["n1.example.test"] * 20)
        lines = self.get(f"/nic/update?hostname={hosts}&myip=192.0.2.71").body.splitlines()
        self.assertEqual(len(lines), 20)
        self.assertEqual(lines[0], "good 192.0.2.71")
        self.assertEqual(self.a("n1.example.test"), ["192.0.2.71"])

    def test_tokens(self):
        r = self.get("/nic/update?hostname=bob.example.test&myip=192.0.2.80",
                     auth=("bob.example.test", self.tok_bob))
        self.assertEqual(r.body, "good 192.0.2.80\n")
        self.assertEqual(self.a("bob.example.test"), ["192.0.2.80"])
        r = self.get("/nic/update?hostname=home.example.test&myip=192.0.2.80",
                     auth=("bob.example.test", self.tok_bob))
        self.assertEqual(r.body, "nohost\n")
        r = self.get(f"/nic/update?hostname=bob.example.test&myip=192.0.2.81&token={self.tok_bob}", auth=None)
        self.assertEqual(r.body, "good 192.0.2.81\n")
        self.assertEqual(self.a("bob.example.test"), ["192.0.2.81"])
        r = self.get(f"/nic/update?hostname=home.example.test&myip=192.0.2.81&token={self.tok_bob}", auth=None)
        self.assertEqual(r.body, "badauth\n")
        # user:pass@ in the URL (curl turns it into Basic, as routers' clients do).
        r = self.get("/nic/update?hostname=bob.example.test&myip=192.0.2.82", auth=BOB, url_userinfo=True)
        self.assertEqual(r.body, "good 192.0.2.82\n")
        # POST form.
        r = self.get("/nic/update", auth=BOB, data="hostname=bob.example.test&myip=192.0.2.83")
        self.assertEqual(r.body, "good 192.0.2.83\n")
        self.assertEqual(self.a("bob.example.test"), ["192.0.2.83"])

    def test_acme_txt_and_offline(self):
        name = "_acme-challenge.n3.example.test"
        r = self.get(f"/nic/update?hostname={name}&txt=token-value-1")
        self.assertEqual(r.body, "good\n")
        self.assertEqual(self.a(name, "TXT"), ['"token-value-1"'])
        r = self.get(f"/nic/update?hostname={name}&txt=x", auth=BOB)
        self.assertEqual(r.body, "nohost\n")
        r = self.get(f"/nic/update?hostname={name}&txt=&clear=yes")
        self.assertEqual(r.body, "good\n")
        self.assertEqual(self.a(name, "TXT"), [])
        self.assertEqual(self.get("/nic/update?hostname=n3.example.test&myip=192.0.2.90,2001:db8::90").body,
                         "good 192.0.2.90,2001:db8::90\n")
        self.assertEqual(self.get("/nic/update?hostname=n3.example.test&offline=YES").body, "good\n")
        self.assertEqual(self.a("n3.example.test"), [])
        self.assertEqual(self.a("n3.example.test", "AAAA"), [])

    def test_nochg_abuse(self):
        q = "/nic/update?hostname=n5.example.test&myip=192.0.2.99"
        self.assertIn(self.get(q).body, ("good 192.0.2.99\n", "nochg 192.0.2.99\n"))
        bodies = [self.get(q).body for _ in range(7)]
        # Default: more than 5 nochg within 300 s blocks the host.
        self.assertEqual(bodies[:5], ["nochg 192.0.2.99\n"] * 5)
        self.assertEqual(bodies[-1], "abuse\n")
        self.assertEqual(self.a("n5.example.test"), ["192.0.2.99"])
        # Another host of the same user still works.
        self.assertEqual(self.get("/nic/update?hostname=n6.example.test&myip=192.0.2.98").body,
                         "good 192.0.2.98\n")

    def test_checkip_myip(self):
        r = self.get("/checkip", auth=None)
        self.assertEqual(r.status, 200)
        self.assertIn("Current IP Address: 127.0.0.1", r.body)
        self.assertTrue(r.body.startswith("<html><head><title>Current IP Check</title>"))
        self.assertEqual(self.get("/myip", auth=None).body.strip(), "127.0.0.1")
        # Forwarded headers from an untrusted peer are ignored.
        r = self.get("/myip", auth=None, headers=["X-Forwarded-For: 198.51.100.1"])
        self.assertEqual(r.body.strip(), "127.0.0.1")


class TrustedProxyTest(unittest.TestCase):
    """http.trusted-proxies: the client address a proxy forwards
    (X-Forwarded-For, RFC 7239 Forwarded) counts only from a trusted peer;
    127.0.0.2 plays the proxy, 127.0.0.1 a client reaching ddnsd directly."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("curl") is None or shutil.which("dig") is None:
            raise unittest.SkipTest("curl and dig are needed")
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-dyndns-proxy-")
        cls.dd = u.DyndnsDaemon(cls.tmp.name,
                                config="http:\n  trusted-proxies: [127.0.0.2/32]\n").start()
        u.add_user(cls.dd.data, *ALICE)
        u.add_host(cls.dd.data, "home.example.test", "alice")

    @classmethod
    def tearDownClass(cls):
        cls.dd.stop()
        cls.tmp.cleanup()

    def get(self, path, via, headers=(), auth=None):
        user, pw = auth if auth else (None, None)
        return u.curl(self.dd.http, path, user=user, password=pw, interface=via,
                      headers=headers)

    def a(self, qtype="A"):
        return u.addrs(self.dd.dns, "home.example.test", qtype)

    def test_untrusted_peer_headers_ignored(self):
        xff = ["X-Forwarded-For: 198.51.100.7"]
        self.assertEqual(self.get("/myip", "127.0.0.1", xff).body.strip(), "127.0.0.1")
        self.assertIn("Current IP Address: 127.0.0.1<",
                      self.get("/checkip", "127.0.0.1", xff).body)
        r = self.get("/nic/update?hostname=home.example.test", "127.0.0.1", xff, auth=ALICE)
        self.assertEqual(r.body, "good 127.0.0.1\n")
        self.assertEqual(self.a(), ["127.0.0.1"])
        fwd = ['Forwarded: for="[2001:db8::7]"']
        self.assertEqual(self.get("/myip", "127.0.0.1", fwd).body.strip(), "127.0.0.1")

    def test_trusted_proxy_forwards_client(self):
        xff = ["X-Forwarded-For: 198.51.100.7"]
        self.assertIn("Current IP Address: 198.51.100.7<",
                      self.get("/checkip", "127.0.0.2", xff).body)
        self.assertEqual(self.get("/myip", "127.0.0.2", xff).body.strip(), "198.51.100.7")
        # Without headers the proxy itself is the client.
        self.assertEqual(self.get("/myip", "127.0.0.2").body.strip(), "127.0.0.2")
        r = self.get("/nic/update?hostname=home.example.test", "127.0.0.2", xff, auth=ALICE)
        self.assertEqual(r.body, "good 198.51.100.7\n")
        self.assertEqual(self.a(), ["198.51.100.7"])

        # RFC 7239 §6: an IPv6 node is quoted and bracketed.
        fwd = ['Forwarded: for="[2001:db8::7]"']
        self.assertEqual(self.get("/myip", "127.0.0.2", fwd).body.strip(), "2001:db8::7")
        r = self.get("/nic/update?hostname=home.example.test", "127.0.0.2", fwd, auth=ALICE)
        self.assertEqual(r.body, "good 2001:db8::7\n")
        self.assertEqual(self.a("AAAA"), ["2001:db8::7"])


class FailedLoginTest(unittest.TestCase):
    """Failed logins from one address block it (a daemon of its own, so the
    block does not disturb the other tests)."""

    def test_failed_logins_block(self):
        with tempfile.TemporaryDirectory(prefix="ddns-dyndns-fail-") as d:
            dd = u.DyndnsDaemon(d).start()
            try:
                u.add_user(dd.data, *ALICE)
                u.add_host(dd.data, "home.example.test", "alice")
                q = "/nic/update?hostname=home.example.test&myip=192.0.2.5"
                answers = [u.curl(dd.http, q, user="alice", password=f"wrong{i}").body for i in range(11)]
                self.assertEqual(answers[:10], ["badauth\n"] * 10)
                # Over login-fail-limit (10): even the right password is refused now.
                self.assertEqual(u.curl(dd.http, q, user=ALICE[0], password=ALICE[1]).body, "abuse\n")
                self.assertEqual(u.addrs(dd.dns, "home.example.test"), [])
            finally:
                dd.stop()


class TlsTest(unittest.TestCase):
    """--tls-cert/--tls-key: the same protocol over HTTPS."""

    def test_https_update(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl CLI needed to make a test certificate")
        with tempfile.TemporaryDirectory(prefix="ddns-dyndns-tls-") as d:
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                            "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                           check=True, capture_output=True, timeout=30)
            dd = u.DyndnsDaemon(d, extra_args=["--tls-cert", cert, "--tls-key", key]).start()
            try:
                u.add_user(dd.data, *ALICE)
                u.add_host(dd.data, "home.example.test", "alice")
                r = u.curl(dd.http, "/nic/update?hostname=home.example.test&myip=192.0.2.44",
                           user=ALICE[0], password=ALICE[1], scheme="https")
                self.assertEqual(r.body, "good 192.0.2.44\n")
                self.assertEqual(u.addrs(dd.dns, "home.example.test"), ["192.0.2.44"])
                # Plain HTTP on the HTTPS port gets no HTTP answer.
                with self.assertRaises(RuntimeError):
                    u.curl(dd.http, "/myip", timeout=3)
            finally:
                dd.stop()


class DurabilityTest(unittest.TestCase):
    """SIGKILL right after "good": after a restart the record and its
    history are there (good is sent only after both are durable)."""

    def test_sigkill_after_good(self):
        with tempfile.TemporaryDirectory(prefix="ddns-dyndns-dur-") as d:
            dd = u.DyndnsDaemon(d).start()
            try:
                u.add_user(dd.data, *ALICE)
                token = u.add_host(dd.data, "home.example.test", "alice")
                for i in range(1, 6):
                    r = u.curl(dd.http, f"/nic/update?hostname=home.example.test&myip=192.0.2.{i}",
                               user="home.example.test", password=token)
                    self.assertEqual(r.body, f"good 192.0.2.{i}\n")
                dd.stop(sig=signal.SIGKILL)
                dd.start()
                self.assertEqual(u.addrs(dd.dns, "home.example.test"), ["192.0.2.5"])
                listing = u.ddnsctl(dd.data, "host", "list")
                self.assertIn("192.0.2.5", listing)
                db = sqlite3.connect(f"file:{os.path.join(dd.data, 'accounts.sqlite')}?mode=ro", uri=True)
                rows = db.execute("SELECT type, old_value, new_value, via FROM history "
                                  "WHERE host = 'home.example.test' ORDER BY id").fetchall()
                db.close()
                self.assertEqual([r[2] for r in rows], [f"192.0.2.{i}" for i in range(1, 6)])
                self.assertEqual(rows[-1], ("A", "192.0.2.4", "192.0.2.5", "dyndns2"))
                # A nochg now proves the server state survived too.
                r = u.curl(dd.http, "/nic/update?hostname=home.example.test&myip=192.0.2.5",
                           user="home.example.test", password=token)
                self.assertEqual(r.body, "nochg 192.0.2.5\n")
            finally:
                dd.stop()


if __name__ == "__main__":
    unittest.main()
