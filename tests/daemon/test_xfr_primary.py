#!/usr/bin/env python3
# ddnsd as a zone transfer primary (RFC 5936 AXFR, RFC 1995 IXFR, RFC 1996
# NOTIFY, RFC 8945 TSIG on transfers): Knot, BIND and NSD as secondaries
# of ddnsd on loopback; a burst of RFC 2136 updates must reach each of them
# (NOTIFY -> IXFR) with records identical to ddnsd's AXFR, and so must
# DynDNS2 /nic/update changes made meanwhile. Plus the
# protocol corners checked with dig directly: ACL refusal, TSIG-only zone,
# wrong key, AXFR over UDP, IXFR up to date / over UDP / difference form.
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import dyndnsutil as u  # noqa: E402
import xfrutil as x  # noqa: E402

PEERS = [p for p, b in ((x.Knot, "knotd"), (x.Named, "named"), (x.Nsd, "nsd")) if x.have(b)]


def keygen(name, path):
    out = subprocess.run([t.binary("ddnsctl"), "keygen", name], check=True,
                         capture_output=True, text=True).stdout
    t.write_file(path, out)
    return path


def big_zone(origin, serial, hosts):
    extra = "".join(f"h{i} 300 IN A 192.0.2.{i % 250 + 1}\nh{i} 300 IN TXT \"host {i}\"\n"
                    for i in range(hosts))
    return t.example_zone(origin, serial=serial, extra=extra)


class PrimaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-xfr-primary-")
        d = cls.tmp.name
        cls.upkey = keygen("upkey", os.path.join(d, "upkey.key"))
        cls.xfrkey_file = keygen("xfrkey", os.path.join(d, "xfrkey.key"))
        alg, sec = x.key_secret(cls.xfrkey_file)
        cls.xfrkey = ("xfrkey", alg, sec)
        # Same name, another secret: must be refused.
        wrong = keygen("xfrkey", os.path.join(d, "wrong.key"))
        cls.wrongkey = ("xfrkey",) + x.key_secret(wrong)
        t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
        # Large enough for a multi-message (TSIG-chained) transfer.
        t.write_file(os.path.join(d, "example.org.zone"), big_zone("example.org", 1, 3000))
        cls.port = t.free_port()
        # Peers get their ports now (ddnsd's notify list needs them) and start
        # after ddnsd.
        # BIND signs its SOA refresh query for the TSIG zone and checks the
        # answer's TSIG: ddnsd verifies signed queries and signs the answer.
        cls.peers = []
        for peer in PEERS:
            zones = [x.SecondaryZone("example.test", cls.port)]
            zones.append(x.SecondaryZone("example.org", cls.port, key=cls.xfrkey))
            cls.peers.append(peer(d, zones))
        notify = "".join(f"      - 127.0.0.1:{p.port}\n" for p in cls.peers)
        notify_key = "".join(f"      - 127.0.0.1:{p.port}@xfrkey\n" for p in cls.peers
                             if len(p.zones) > 1)
        cls.http = u.http_port()
        conf = f"""server:
  listen: 127.0.0.1:{cls.port}
  threads: 2
  data-dir: data
keys: [upkey.key, xfrkey.key]
http:
  listen: [127.0.0.1:{cls.http}]
zones:
  - name: example.test
    file: example.test.zone
    ddns: true
    update-policy: [grant upkey zonesub ANY]
    allow-transfer: [127.0.0.1]
{"    notify:" + chr(10) + notify if notify else ""}  - name: example.org
    file: example.org.zone
    update-policy: [grant upkey zonesub ANY]
    allow-transfer: [key xfrkey]
{"    notify:" + chr(10) + notify_key if notify_key else ""}"""
        cls.d = u.HttpDdnsd(config=conf, workdir=d)
        cls.d.http_ports = (cls.http,)
        cls.d.start()
        data = os.path.join(d, "data")
        u.add_user(data, "alice", "alice-password")
        cls.tokens = {h: u.add_host(data, f"{h}.example.test", "alice") for h in ("home", "cam")}
        try:
            for p in cls.peers:
                p.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in cls.peers:
            p.stop()
        if cls.d.alive():
            cls.d.stop()
        cls.tmp.cleanup()

    def has(self, zone):
        return [p for p in self.peers if any(z.name == zone for z in p.zones)]

    def serial(self, zone):
        return x.soa_serial(self.port, zone)

    def nsupdate(self, script):
        p = subprocess.run(["nsupdate", "-t", "5", "-k", self.upkey], input=script,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def wait_serial(self, peer, zone, serial, timeout=20):
        ok = t.wait_until(lambda: x.soa_serial(peer.port, zone) == serial, timeout, 0.02)
        self.assertTrue(ok, f"{peer.name} did not reach {zone} serial {serial} "
                            f"(has {x.soa_serial(peer.port, zone)}):\n{peer.log()[-3000:]}\n"
                            f"ddnsd:\n{self.d.log()[-3000:]}")

    def compare(self, zone, key=None):
        ok, want, raw = x.axfr(self.port, zone, key=key)
        self.assertTrue(ok, raw[-2000:])
        for p in self.has(zone):
            pok, got, praw = x.axfr(p.port, zone)
            self.assertTrue(pok, f"{p.name}: {praw[-2000:]}")
            self.assertEqual(got, want, f"{p.name} differs for {zone}")
        return want

    def nic_update(self, host, query, want):
        r = u.curl(self.http, f"/nic/update?hostname={host}.example.test&{query}",
                   user=f"{host}.example.test", password=self.tokens[host])
        self.assertEqual((r.status, r.body.strip()), (200, want), r)

    def dyndns_burst(self):
        # As routers send them: one host with v4+v6 changing every request,
        # one v4-only, one nochg; each `good` is a published change.
        for i in range(1, 7):
            self.nic_update("home", f"myip=203.0.113.{i},2001:db8::{i}",
                            f"good 203.0.113.{i},2001:db8::{i}")
            self.nic_update("cam", f"myip=203.0.113.{10 + i}", f"good 203.0.113.{10 + i}")
        self.nic_update("cam", "myip=203.0.113.16", "nochg 203.0.113.16")

    # ---- with real secondaries ----
    def test_1_secondaries_follow_updates(self):
        if not self.peers:
            self.skipTest("no knotd, named or nsd")
        for zone in ("example.test", "example.org"):
            s = self.serial(zone)
            for p in self.has(zone):
                self.wait_serial(p, zone, s)
        self.compare("example.test")
        self.compare("example.org", key=self.xfrkey)
        # A burst: 200 changes in 8 UPDATE messages per zone, adds and deletes.
        for zone in ("example.test", "example.org"):
            script = f"server 127.0.0.1 {self.port}\nzone {zone}\n"
            for m in range(8):
                for i in range(25):
                    n = m * 25 + i
                    script += f"update add dyn{n}.{zone} 60 A 198.51.100.{n % 250 + 1}\n"
                if m % 2 == 1:
                    script += f"update delete dyn{n - 30}.{zone} A\n"
                script += "send\n"
            if zone == "example.org":
                script += "update delete h7.example.org\nupdate add h8.example.org 300 AAAA 2001:db8::8\nsend\n"
            t0 = time.monotonic()
            self.nsupdate(script)
            if zone == "example.test":
                self.dyndns_burst()
            final = self.serial(zone)
            self.assertGreaterEqual(final, 9)
            for p in self.has(zone):
                self.wait_serial(p, zone, final)
            took = time.monotonic() - t0
            print(f"\n{zone}: {len(self.has(zone))} secondaries at serial {final} "
                  f"{took * 1000:.0f} ms after the first update", file=sys.stderr)
        want = self.compare("example.test")
        self.assertIn("dyn199.example.test. IN A 198.51.100.200", want)
        self.assertNotIn("dyn19.example.test. IN A 198.51.100.20", want)
        # The DynDNS2 changes went the same way (NOTIFY -> IXFR) as the UPDATEs.
        self.assertIn("home.example.test. IN A 203.0.113.6", want)
        self.assertIn("home.example.test. IN AAAA 2001:db8::6", want)
        self.assertIn("cam.example.test. IN A 203.0.113.16", want)
        self.assertNotIn("cam.example.test. IN AAAA", want)
        self.compare("example.org", key=self.xfrkey)
        log = self.d.log()
        self.assertIn("IXFR of example.test", log)   # incremental, not only full transfers
        self.assertIn("IXFR of example.org", log)
        self.assertRegex(log, r"NOTIFY example.test. serial \d+ to 127.0.0.1:\d+: acknowledged")

    # ---- protocol corners with dig ----
    def test_2_acl_and_tsig(self):
        # example.test: by address; example.org: key only.
        ok, recs, raw = x.axfr(self.port, "example.test")
        self.assertTrue(ok, raw)
        ok, _, raw = x.axfr(self.port, "example.org")
        self.assertFalse(ok, raw)
        ok, _, raw = x.axfr(self.port, "example.org", key=self.wrongkey)
        self.assertFalse(ok, raw)
        ok, recs, raw = x.axfr(self.port, "example.org", key=self.xfrkey)
        self.assertTrue(ok, raw[-2000:])
        self.assertGreater(len(recs), 6000)
        self.assertIn("refused by allow-transfer", self.d.log())
        self.assertIn("TSIG", self.d.log())

    def test_3_udp_and_ixfr_forms(self):
        s = self.serial("example.test")
        # AXFR over UDP: NOTIMP (as Knot).
        q = t.make_query("example.test", "AXFR")
        r = t.udp_exchange("127.0.0.1", self.port, q)
        self.assertIsNotNone(r)
        self.assertEqual(t.parse_header(r)["rcode"], 4)
        # IXFR at the current serial (UDP and TCP): the SOA alone.
        for tcp in (False, True):
            out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "example.test",
                                  f"IXFR={s}", "+tries=1", "+time=3"] + ([] if tcp else ["+notcp"]),
                                 capture_output=True, text=True, timeout=20).stdout
            soas = re.findall(r"\sSOA\s", out)
            self.assertEqual(len(soas), 1, out)
        # An update, then IXFR from the old serial: difference sequences.
        self.nsupdate(f"server 127.0.0.1 {self.port}\nzone example.test\n"
                      "update add ixfr-probe.example.test 60 A 192.0.2.99\nsend\n")
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "example.test",
                              f"IXFR={s}", "+tries=1", "+time=3"],
                             capture_output=True, text=True, timeout=20).stdout
        self.assertIn("ixfr-probe.example.test.", out)
        self.assertGreaterEqual(len(re.findall(r"\sSOA\s", out)), 4, out)
        self.assertNotIn("www.example.test.", out)  # not a full transfer
        # IXFR from a serial ahead of ours: the SOA alone (RFC 1995 §2).
        s2 = self.serial("example.test")
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "example.test",
                              f"IXFR={(s2 + 1000) % 2**32}", "+tries=1", "+time=3"],
                             capture_output=True, text=True, timeout=20).stdout
        self.assertEqual(len(re.findall(r"\sSOA\s", out)), 1, out)
        # From a serial the journal never had (older in RFC 1982 terms): the
        # whole zone in AXFR form (RFC 1995 §4).
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "example.test",
                              f"IXFR={(s2 + 2**31 + 100) % 2**32}", "+tries=1", "+time=3"],
                             capture_output=True, text=True, timeout=20).stdout
        self.assertIn("www.example.test.", out)
        self.assertEqual(len(re.findall(r"\sSOA\s", out)), 2, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
