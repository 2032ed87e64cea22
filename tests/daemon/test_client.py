#!/usr/bin/env python3
# ddns-client end to end: against a scripted fake DynDNS2 server (every
# answer -> the right next step: request count, backoff, stop, exit code),
# address changes through a fake checkip page, forced refresh, the daemon
# loop, RFC 2136 + TSIG against ddnsd and Knot DNS (checked with dig), and
# DynDNS2 against ddnsd's own /nic/update when that build has it.
import base64
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import clientutil as cu  # noqa: E402

HOST = "host1.example.test"
KEY = f"{HOST}|dyndns2|"


def have(name):
    try:
        t.binary(name)
        return True
    except FileNotFoundError:
        return False


class FakeServerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-client-")
        self.cache = os.path.join(self.tmp.name, "cache")
        self.fake = cu.FakeDyndns().start()

    def tearDown(self):
        self.fake.stop()
        self.tmp.cleanup()

    def client(self, *extra, password="TOKEN", timeout="5s"):
        return cu.run_client(["--server", self.fake.url, "--user", HOST, "--password", password,
                              "--hostname", HOST, "--once", "--cache", self.cache,
                              "--timeout", timeout] + list(extra))

    def entry(self):
        return cu.read_cache(self.cache)[KEY + self.fake.url]

    # ---- good path, change detection, forced refresh ----
    def test_updates_once_then_only_on_change(self):
        rc, log = self.client()
        self.assertEqual(rc, 0, log)
        self.assertEqual(len(self.fake.updates), 1)
        u = self.fake.updates[0]
        self.assertEqual(u["query"], {"hostname": HOST, "myip": "192.0.2.10"})
        self.assertEqual((u["user"], u["password"]), (HOST, "TOKEN"))
        self.assertTrue(u["agent"].startswith("ddns-client/"), u["agent"])
        self.assertEqual(self.entry()["v4"], "192.0.2.10")

        rc, log = self.client()  # unchanged: no request at all
        self.assertEqual(rc, 0, log)
        self.assertEqual(len(self.fake.updates), 1)
        self.assertIn("unchanged (192.0.2.10)", log)
        self.assertIn("no request sent", log)
        self.assertEqual(self.fake.checkips, 2)

        self.fake.ip4 = "192.0.2.20"  # the address moves
        rc, log = self.client()
        self.assertEqual(rc, 0, log)
        self.assertEqual(len(self.fake.updates), 2)
        self.assertEqual(self.fake.updates[1]["query"]["myip"], "192.0.2.20")
        self.assertIn("address changed: 192.0.2.10 -> 192.0.2.20", log)

    def test_nochg_updates_cache(self):
        self.fake.script = [(200, "nochg 192.0.2.10")]
        rc, log = self.client()
        self.assertEqual(rc, 0, log)
        self.assertEqual(self.entry()["state"], "ok")
        self.assertEqual(self.entry()["v4"], "192.0.2.10")
        rc, log = self.client()
        self.assertEqual((rc, len(self.fake.updates)), (0, 1), log)

    def test_forced_refresh(self):
        rc, _ = self.client("--force-interval", "2")
        self.assertEqual(rc, 0)
        rc, _ = self.client("--force-interval", "2")
        self.assertEqual(len(self.fake.updates), 1)
        time.sleep(2.2)
        rc, log = self.client("--force-interval", "2")
        self.assertEqual(rc, 0, log)
        self.assertEqual(len(self.fake.updates), 2)
        self.assertIn("forced refresh", log)

    def test_ipv4_and_ipv6_in_one_request(self):
        rc, log = self.client("--ipv4", f"url:{self.fake.url}/checkip",
                              "--ipv6", "cmd:echo 2001:db8::10")
        self.assertEqual(rc, 0, log)
        self.assertEqual(self.fake.updates[-1]["query"]["myip"], "192.0.2.10,2001:db8::10")

    def test_command_source_with_pattern(self):
        rc, log = self.client("--ipv4", "cmd:printf 'lan 10.0.0.1\\nwan 192.0.2.77\\n'",
                              "--ipv4-pattern", "wan {ip}")
        self.assertEqual(rc, 0, log)
        self.assertEqual(self.fake.updates[0]["query"]["myip"], "192.0.2.77")

    def test_private_address_refused_unless_allowed(self):
        self.fake.ip4 = "10.1.2.3"
        rc, log = self.client()
        self.assertEqual(rc, 4, log)
        self.assertIn("private address", log)
        self.assertEqual(len(self.fake.updates), 0)
        rc, log = self.client("--allow-private")
        self.assertEqual(rc, 0, log)
        self.assertEqual(self.fake.updates[0]["query"]["myip"], "10.1.2.3")

    # ---- answers that stop the client until the config changes ----
    def test_stop_answers(self):
        for answer in [(200, "badauth"), (200, "abuse"), (200, "nohost"), (200, "notfqdn"),
                       (200, "badagent"), (401, "Unauthorized")]:
            with self.subTest(answer=answer):
                if os.path.exists(self.cache):
                    os.unlink(self.cache)
                self.fake.updates.clear()
                self.fake.script = [answer]
                rc, log = self.client()
                self.assertEqual(rc, 2, log)
                self.assertIn("stopping updates", log)
                # Again, even with a new address: nothing is sent.
                self.fake.ip4 = "192.0.2.30"
                rc, log = self.client()
                self.assertEqual(rc, 2, log)
                self.assertEqual(len(self.fake.updates), 1)
                self.assertIn("not sending until the configuration changes", log)
                self.assertEqual(self.entry()["state"], "stopped")
                # A config change (new token) lifts the stop.
                rc, log = self.client(password="NEWTOKEN")
                self.assertEqual(rc, 0, log)
                self.assertEqual(len(self.fake.updates), 2)
                self.assertEqual(self.fake.updates[1]["password"], "NEWTOKEN")
                self.fake.ip4 = "192.0.2.10"

    # ---- temporary failures: backoff ----
    def test_911_waits_five_minutes(self):
        self.fake.script = [(200, "911")]
        before = int(time.time())
        rc, log = self.client("--retry-min", "1")
        self.assertEqual(rc, 3, log)
        e = self.entry()
        self.assertEqual((e["state"], e["reason"]), ("retry", "911"))
        self.assertGreaterEqual(int(e["retry_at"]), before + 300)
        self.assertIn("will retry in 5m", log)
        rc, log = self.client("--retry-min", "1")
        self.assertEqual(rc, 3, log)
        self.assertEqual(len(self.fake.updates), 1)
        self.assertIn("backing off after '911'", log)

    def test_dnserr_and_http500_back_off_and_recover(self):
        # retry_at has one-second granularity, so a backoff of N s is N-1..N s
        # of real time: 3 s leaves the "inside the backoff" run 2 s to start
        # on a slow CI machine. The waits follow the cached retry_at.
        def wait_until_due():
            due = int(self.entry()["retry_at"])
            self.assertTrue(t.wait_until(lambda: time.time() >= due, 10), due)

        for answer, code in [((200, "dnserr"), "dnserr"), ((500, "Internal Server Error"), "http 500")]:
            with self.subTest(code=code):
                if os.path.exists(self.cache):
                    os.unlink(self.cache)
                self.fake.updates.clear()
                self.fake.script = [answer, answer]
                rc, log = self.client("--retry-min", "3")
                self.assertEqual(rc, 3, log)
                self.assertEqual(self.entry()["reason"], code)
                self.assertEqual(self.entry()["failures"], "1")
                self.assertIn("will retry in 3s", log)
                rc, _ = self.client("--retry-min", "3")  # inside the backoff
                self.assertEqual((rc, len(self.fake.updates)), (3, 1))
                wait_until_due()
                rc, log = self.client("--retry-min", "3")  # retried, fails again: doubled
                self.assertEqual((rc, len(self.fake.updates)), (3, 2), log)
                e = self.entry()
                self.assertEqual(e["failures"], "2")
                self.assertIn("will retry in 6s", log)
                wait_until_due()
                rc, log = self.client("--retry-min", "3")  # good now
                self.assertEqual((rc, len(self.fake.updates)), (0, 3), log)
                self.assertEqual(self.entry()["state"], "ok")

    def test_timeout(self):
        self.fake.script = [("sleep", 3, 200, "good 192.0.2.10")]
        start = time.monotonic()
        rc, log = self.client(timeout="1")
        self.assertLess(time.monotonic() - start, 2.9)
        self.assertEqual(rc, 3, log)
        self.assertEqual(self.entry()["reason"], "timeout")

    def test_server_down_is_retry(self):
        url = self.fake.url
        self.fake.stop()
        rc, log = cu.run_client(["--server", url, "--password", "x", "--hostname", HOST,
                                 "--ipv4", "addr:192.0.2.5", "--once", "--cache", self.cache])
        self.assertEqual(rc, 3, log)
        self.assertIn("temporary failure 'network'", log)

    def test_no_address_is_exit_4(self):
        self.fake.ip4 = None  # checkip answers 500
        rc, log = self.client()
        self.assertEqual(rc, 4, log)
        self.assertEqual(len(self.fake.updates), 0)

    # ---- config file, bad config, daemon ----
    def test_config_file_several_hosts(self):
        cfg = os.path.join(self.tmp.name, "client.yaml")
        t.write_file(cfg, f"""# two hosts on one server, one checkip fetch
cache: {self.cache}
defaults:
  server: {self.fake.url}
  password: TOKEN
hosts:
  - hostname: a.example.test
  - hostname: b.example.test
    user: alice
""")
        rc, log = cu.run_client(["--config", cfg, "--once"])
        self.assertEqual(rc, 0, log)
        self.assertEqual(sorted(u["query"]["hostname"] for u in self.fake.updates),
                         ["a.example.test", "b.example.test"])
        self.assertEqual(self.fake.checkips, 1)
        self.assertEqual({u["user"] for u in self.fake.updates}, {"a.example.test", "alice"})

    def test_bad_config_names_file_line_key(self):
        cfg = os.path.join(self.tmp.name, "bad.yaml")
        t.write_file(cfg, "hosts:\n  - hostname: a.example.test\n    server: http://x\n"
                          "    passwd: x\n")
        rc, log = cu.run_client(["--config", cfg, "--once"])
        self.assertEqual(rc, 1)
        self.assertIn(f"{cfg}:4: hosts[0].passwd: unknown key", log)
        rc, log = cu.run_client(["--hostname", "nodots", "--server", "http://x", "--password", "p"])
        self.assertEqual(rc, 1)
        self.assertIn("not a fully qualified", log)

    def test_daemon_follows_address_and_stops_on_sigterm(self):
        p = subprocess.Popen([t.binary("ddns-client"), "--server", self.fake.url, "--password",
                              "TOKEN", "--hostname", HOST, "--cache", self.cache,
                              "--interval", "1"], stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(t.wait_until(lambda: len(self.fake.updates) == 1, 10))
            self.fake.ip4 = "192.0.2.44"
            self.assertTrue(t.wait_until(lambda: len(self.fake.updates) == 2, 10))
            self.assertEqual(self.fake.updates[1]["query"]["myip"], "192.0.2.44")
            checks = self.fake.checkips
            self.assertTrue(t.wait_until(lambda: self.fake.checkips >= checks + 2, 10))
            self.assertEqual(len(self.fake.updates), 2)  # unchanged: no new request
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=10)
            err = p.stderr.read()
            p.stderr.close()
        self.assertEqual(rc, 0, err)
        self.assertIn("stopping", err)


@unittest.skipUnless(shutil.which("unshare") and shutil.which("ip"), "needs unshare and ip")
class NetnsTest(unittest.TestCase):
    """Interface detection for real: a private network namespace whose
    loopback gets global, private and deprecated addresses."""

    def test_interface_addresses(self):
        if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
            self.skipTest("cannot create a network namespace here")
        p = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), "-v",
                            "NetnsInner"], env=dict(os.environ, DDNS_CLIENT_NETNS="1"),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("OK", p.stderr)
        self.assertNotIn("skipped", p.stderr)


@unittest.skipUnless(os.environ.get("DDNS_CLIENT_NETNS"), "runs inside NetnsTest's namespace")
class NetnsInner(unittest.TestCase):
    def ip(self, *args):
        subprocess.run(["ip"] + list(args), check=True, capture_output=True)

    def test_inner(self):
        self.ip("link", "set", "lo", "up")
        self.ip("addr", "add", "192.0.2.33/32", "dev", "lo")
        self.ip("addr", "add", "10.9.9.9/32", "dev", "lo")
        self.ip("-6", "addr", "add", "2001:db8::5/128", "dev", "lo")
        # preferred_lft 0 = deprecated, the state temporary addresses end in.
        self.ip("-6", "addr", "add", "2001:db8::6/128", "dev", "lo", "preferred_lft", "0")
        self.ip("-6", "addr", "add", "fd00::7/128", "dev", "lo")
        with tempfile.TemporaryDirectory() as d, cu.FakeDyndns() as fake:
            args = ["--server", fake.url, "--password", "T", "--hostname", HOST,
                    "--ipv4", "if:lo", "--ipv6", "if:lo", "--once",
                    "--cache", os.path.join(d, "cache")]
            rc, log = cu.run_client(args)
            self.assertEqual(rc, 0, log)
            self.assertEqual(fake.updates[0]["query"]["myip"], "192.0.2.33,2001:db8::5")
            rc, log = cu.run_client(args)
            self.assertEqual((rc, len(fake.updates)), (0, 1), log)
            self.ip("addr", "del", "192.0.2.33/32", "dev", "lo")
            self.ip("addr", "add", "192.0.2.34/32", "dev", "lo")
            rc, log = cu.run_client(args)
            self.assertEqual(rc, 0, log)
            self.assertEqual(fake.updates[1]["query"]["myip"], "192.0.2.34,2001:db8::5")
            # Only the deprecated IPv6 address left: not used unless allowed.
            self.ip("-6", "addr", "del", "2001:db8::5/128", "dev", "lo")
            rc, log = cu.run_client(args + ["--ipv4", "none"])
            self.assertEqual(rc, 4, log)
            rc, log = cu.run_client(args + ["--ipv4", "none", "--allow-temporary"])
            self.assertEqual(rc, 0, log)
            self.assertEqual(fake.updates[-1]["query"]["myip"], "2001:db8::6")
            # Only a private IPv4 address left.
            self.ip("addr", "del", "192.0.2.34/32", "dev", "lo")
            rc, log = cu.run_client(args + ["--ipv6", "none"])
            self.assertEqual(rc, 4, log)
            rc, log = cu.run_client(args + ["--ipv6", "none", "--allow-private"])
            self.assertEqual(rc, 0, log)
            self.assertEqual(fake.updates[-1]["query"]["myip"], "10.9.9.9")


@unittest.skipUnless(shutil.which("openssl"), "needs openssl to make a certificate")
class HttpsTest(unittest.TestCase):
    def test_https_verifies_the_server(self):
        with tempfile.TemporaryDirectory(prefix="ddns-client-tls-") as d:
            cert, key = cu.self_signed_cert(d)
            with cu.FakeDyndns(tls=(cert, key)) as fake:
                args = ["--server", fake.url, "--password", "T", "--hostname", HOST,
                        "--ipv4", "addr:192.0.2.12", "--once", "--timeout", "5"]
                # Unknown CA: refused (a network error, retried later), nothing sent.
                rc, log = cu.run_client(args + ["--cache", os.path.join(d, "c1")])
                self.assertEqual(rc, 3, log)
                self.assertEqual(len(fake.updates), 0)
                rc, log = cu.run_client(args + ["--cache", os.path.join(d, "c2"),
                                                "--ca-file", cert])
                self.assertEqual(rc, 0, log)
                self.assertEqual(len(fake.updates), 1)
                self.assertEqual(fake.updates[0]["password"], "T")


class DaemonTest(unittest.TestCase):
    def test_backoff_and_sighup_reload(self):
        with tempfile.TemporaryDirectory(prefix="ddns-client-daemon-") as d, \
                cu.FakeDyndns(script=[(500, "busy")]) as fake:
            cfg = os.path.join(d, "client.yaml")
            base = (f"cache: {d}/cache\ninterval: 1\nretry-min: 1\n"
                    f"defaults:\n  server: {fake.url}\n  password: T\nhosts:\n"
                    f"  - hostname: a.example.test\n")
            t.write_file(cfg, base)
            p = subprocess.Popen([t.binary("ddns-client"), "--config", cfg],
                                 stderr=subprocess.PIPE, text=True)
            try:
                # 500 first, then the retry 1 s later succeeds.
                self.assertTrue(t.wait_until(lambda: len(fake.updates) == 2, 10))
                time.sleep(1.5)
                self.assertEqual(len(fake.updates), 2)  # good: nothing more
                t.write_file(cfg, base + "  - hostname: b.example.test\n")
                p.send_signal(signal.SIGHUP)
                self.assertTrue(t.wait_until(lambda: len(fake.updates) == 3, 10))
                self.assertEqual(fake.updates[2]["query"]["hostname"], "b.example.test")
                t.write_file(cfg, "hosts: [broken\n")  # a bad reload keeps the old config
                p.send_signal(signal.SIGHUP)
                time.sleep(1.5)
                self.assertIsNone(p.poll())
            finally:
                p.send_signal(signal.SIGTERM)
                rc = p.wait(timeout=10)
                err = p.stderr.read()
                p.stderr.close()
            self.assertEqual(rc, 0, err)
            self.assertIn("temporary failure 'http 500'", err)
            self.assertIn("retrying after 'http 500'", err)
            self.assertIn("SIGHUP: configuration reloaded", err)
            self.assertIn("SIGHUP: keeping the running configuration", err)


def write_key(path, name, secret):
    t.write_file(path, f'key "{name}" {{\n\talgorithm hmac-sha256;\n\tsecret "{secret}";\n}};\n')


@unittest.skipUnless(have("ddnsd"), "ddnsd not built")
class Rfc2136DdnsdTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-client-2136-")
        d = self.tmp.name
        self.zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
        self.key = os.path.join(d, "key1.key")
        write_key(self.key, "key1", base64.b64encode(secrets.token_bytes(32)).decode())
        self.d = t.Ddnsd(zones={"example.test": self.zone}, listen=["127.0.0.1:0"],
                         args=["--data-dir", os.path.join(d, "data"), "--key", self.key,
                               "--allow-update", "example.test=key1"]).start()
        self.cache = os.path.join(d, "cache")

    def tearDown(self):
        if self.d.alive():
            self.d.stop()
        self.d.cleanup()
        self.tmp.cleanup()

    def client(self, v4, v6="none", key=None):
        return cu.run_client(["--protocol", "rfc2136", "--server", f"127.0.0.1:{self.d.port4}",
                              "--tsig-key", key or self.key, "--hostname", HOST,
                              "--ipv4", v4, "--ipv6", v6, "--ttl", "120", "--once",
                              "--cache", self.cache, "--timeout", "3"])

    def rdatas(self, rtype):
        r = t.dig(self.d.host4, self.d.port4, HOST, rtype)
        return sorted(rr.rdata for rr in r.answer if rr.rtype == rtype)

    def test_replace_and_unchanged(self):
        rc, log = self.client("addr:192.0.2.77", "addr:2001:db8::77")
        self.assertEqual(rc, 0, log)
        self.assertEqual(self.rdatas("A"), ["192.0.2.77"])
        self.assertEqual(self.rdatas("AAAA"), ["2001:db8::77"])
        rc, log = self.client("addr:192.0.2.78", "addr:2001:db8::77")
        self.assertEqual(rc, 0, log)
        self.assertEqual(self.rdatas("A"), ["192.0.2.78"])  # replaced, not added
        rc, log = self.client("addr:192.0.2.78", "addr:2001:db8::77")
        self.assertEqual(rc, 0, log)
        self.assertIn("no request sent", log)

    def test_wrong_key_stops(self):
        bad = os.path.join(self.tmp.name, "bad.key")
        write_key(bad, "key1", base64.b64encode(secrets.token_bytes(32)).decode())
        rc, log = self.client("addr:192.0.2.79", key=bad)
        self.assertEqual(rc, 2, log)
        self.assertIn("BADSIG", log)
        self.assertEqual(self.rdatas("A"), [])
        unknown = os.path.join(self.tmp.name, "unknown.key")
        write_key(unknown, "other", base64.b64encode(secrets.token_bytes(32)).decode())
        rc, log = self.client("addr:192.0.2.79", key=unknown)
        self.assertEqual(rc, 2, log)
        self.assertIn("BADKEY", log)


@unittest.skipUnless(cu.knotd_binary(), "knotd not installed")
class Rfc2136KnotTest(unittest.TestCase):
    def test_update_knot(self):
        with tempfile.TemporaryDirectory(prefix="ddns-client-knot-") as d:
            secret = base64.b64encode(secrets.token_bytes(32)).decode()
            key = os.path.join(d, "key.conf")
            write_key(key, "knotkey", secret)
            k = cu.Knotd(os.path.join(d, "knot"), "example.test", t.example_zone(serial=1),
                         "knotkey", "hmac-sha256", secret)
            k.start()
            try:
                base = ["--protocol", "rfc2136", "--server", f"127.0.0.1:{k.port}",
                        "--tsig-key", key, "--once", "--timeout", "3"]
                args = base + ["--hostname", HOST]
                rc, log = cu.run_client(args + ["--ipv4", "addr:192.0.2.91",
                                                "--ipv6", "addr:2001:db8::91"])
                self.assertEqual(rc, 0, log + k.log())
                r = t.dig("127.0.0.1", k.port, HOST, "A")
                self.assertEqual([rr.rdata for rr in r.answer if rr.rtype == "A"], ["192.0.2.91"])
                r = t.dig("127.0.0.1", k.port, HOST, "AAAA")
                self.assertEqual([rr.rdata for rr in r.answer if rr.rtype == "AAAA"],
                                 ["2001:db8::91"])
                rc, log = cu.run_client(args + ["--ipv4", "addr:192.0.2.92"])
                self.assertEqual(rc, 0, log)
                r = t.dig("127.0.0.1", k.port, HOST, "A")
                self.assertEqual([rr.rdata for rr in r.answer if rr.rtype == "A"], ["192.0.2.92"])
                # Knot refuses a zone it does not serve: NOTAUTH -> stop.
                rc, log = cu.run_client(base + ["--hostname", "h.example.org",
                                                "--ipv4", "addr:192.0.2.1"])
                self.assertEqual(rc, 2, log)
            finally:
                k.stop()


def ddnsd_has_http():
    if not have("ddnsd"):
        return False
    out = subprocess.run([t.binary("ddnsd"), "--help"], capture_output=True, text=True).stdout
    return "--http" in out and have("ddnsctl")


@unittest.skipUnless(ddnsd_has_http(), "ddnsd without --http (DynDNS2) in this build")
class DyndnsDdnsdTest(unittest.TestCase):
    def test_client_updates_ddnsd(self):
        with tempfile.TemporaryDirectory(prefix="ddns-client-dyn-") as d:
            data = os.path.join(d, "data")
            zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
            ctl = [t.binary("ddnsctl"), "--data-dir", data]
            token = None
            for cmd in (["ddns-zone", "add", "example.test"],
                        ["user", "add", "alice", "--password", "s3cret-pass"],
                        ["host", "add", HOST, "--owner", "alice"]):
                out = subprocess.run(ctl + cmd, capture_output=True, text=True)
                if out.returncode != 0:
                    self.skipTest(f"ddnsctl {' '.join(cmd[:2])} not ready: " + out.stderr.strip())
                token = out.stdout.strip()
            dd = t.Ddnsd(zones={"example.test": zone}, listen=["127.0.0.1:0"],
                         args=["--data-dir", data, "--http", "127.0.0.1:0",
                               "--ddns-zone", "example.test"]).start()
            port = dd.http_port
            try:
                cache = os.path.join(d, "cache")
                args = ["--server", f"http://127.0.0.1:{port}", "--user", "alice", "--password",
                        "s3cret-pass", "--hostname", HOST, "--once", "--cache", cache]
                rc, log = cu.run_client(args + ["--ipv4", "addr:192.0.2.66"])
                self.assertEqual(rc, 0, log + dd.log())
                r = t.dig(dd.host4, dd.port4, HOST, "A")
                self.assertEqual([rr.rdata for rr in r.answer if rr.rtype == "A"], ["192.0.2.66"])
                rc, log = cu.run_client(args + ["--ipv4", "addr:192.0.2.66"])
                self.assertIn("no request sent", log)
                rc, log = cu.run_client(args + ["--ipv4", "addr:192.0.2.67"])
                self.assertEqual(rc, 0, log)
                r = t.dig(dd.host4, dd.port4, HOST, "A")
                self.assertEqual([rr.rdata for rr in r.answer if rr.rtype == "A"], ["192.0.2.67"])
                # The host token logs in as the hostname (the --user default).
                rc, log = cu.run_client(["--server", f"http://127.0.0.1:{port}", "--password",
                                         token, "--hostname", HOST, "--once", "--cache",
                                         cache + "-token", "--ipv4", "addr:192.0.2.68",
                                         "--ipv6", "addr:2001:db8::68"])
                self.assertEqual(rc, 0, log + dd.log())
                r = t.dig(dd.host4, dd.port4, HOST, "AAAA")
                self.assertEqual([rr.rdata for rr in r.answer if rr.rtype == "AAAA"],
                                 ["2001:db8::68"])
                # A wrong password: badauth -> exit 2, and no retry next run.
                bad = ["--server", f"http://127.0.0.1:{port}", "--user", "alice", "--password",
                       "wrong", "--hostname", HOST, "--once", "--cache", cache + "-bad",
                       "--ipv4", "addr:192.0.2.69"]
                rc, log = cu.run_client(bad)
                self.assertEqual(rc, 2, log)
                rc, log = cu.run_client(bad)
                self.assertEqual(rc, 2, log)
                self.assertIn("not sending until the configuration changes", log)
                # Its /checkip as the address source: sees 127.0.0.1, which
                # is never published -> exit 4, nothing sent.
                rc, log = cu.run_client(args[:-2] + ["--cache", cache + "2"])
                self.assertEqual(rc, 4, log)
            finally:
                dd.stop()
                dd.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
