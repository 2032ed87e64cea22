#!/usr/bin/env python3
# NOTIFY to the zone's NS hosts (RFC 1996 §3.3, `notify-ns`): ddnsd as
# primary on 127.0.0.1 serves a zone whose NS set names ns1 (the SOA MNAME,
# ddnsd itself), ns2 at 127.0.0.2 and ns3 at 127.0.0.3. A ddnsd secondary
# listens on 127.0.0.2 and Knot on 127.0.0.3, neither in any `notify` list.
# SOA refresh is an hour, so only a NOTIFY brings them an update in time.
# An UPDATE that changes the NS set changes the target list with it.
import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import xfrutil as x  # noqa: E402

Z = "ns.test"

ZONE = """$TTL 300
@ IN SOA ns1.ns.test. hostmaster.ns.test. 1 3600 600 86400 300
@ IN NS ns1.ns.test.
@ IN NS ns2.ns.test.
@ IN NS ns3.ns.test.
@ IN NS ns.elsewhere.example.
ns1 IN A 127.0.0.1
ns2 IN A 127.0.0.2
ns3 IN A 127.0.0.3
www IN A 192.0.2.1
"""


def free_port_on_all(hosts):
    """A port free for UDP and TCP on each of `hosts`."""
    for _ in range(50):
        p = t.free_port(host=hosts[0])
        try:
            for h in hosts[1:]:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(socket.AF_INET, kind) as s:
                        s.bind((h, p))
        except OSError:
            continue
        return p
    raise RuntimeError("no common free port")


class NotifyNsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not x.have("knotd"):
            raise unittest.SkipTest("knotd missing")
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-notify-ns-")
        d = cls.tmp.name
        out = subprocess.run([t.binary("ddnsctl"), "keygen", "upkey"], check=True,
                             capture_output=True, text=True).stdout
        cls.upkey = t.write_file(os.path.join(d, "upkey.key"), out)
        zf = t.write_file(os.path.join(d, Z + ".zone"), ZONE)
        cls.port = t.free_port()
        cls.sport = free_port_on_all(["127.0.0.2", "127.0.0.3"])
        # The quick-use form: --notify-ns ZONE=PORT.
        cls.primary = t.Ddnsd(listen=[f"127.0.0.1:{cls.port}"], workdir=os.path.join(d, "p"),
                              zones={Z: zf}, args=[
                                  "--data-dir", "data", "--key", cls.upkey,
                                  "--allow-update", f"{Z}=upkey",
                                  "--allow-transfer", f"{Z}=127.0.0.1",
                                  "--notify-ns", f"{Z}={cls.sport}"])
        os.makedirs(cls.primary.workdir, exist_ok=True)
        cls.primary.start()
        cls.sec = t.Ddnsd(listen=[f"127.0.0.2:{cls.sport}"], workdir=os.path.join(d, "s"),
                          args=["--data-dir", "data",
                                "--secondary", f"{Z}=127.0.0.1:{cls.port}"])
        os.makedirs(cls.sec.workdir, exist_ok=True)
        cls.sec.start()
        cls.knot = x.Knot(d, [x.SecondaryZone(Z, cls.port)], host="127.0.0.3",
                          port=cls.sport).start()

    @classmethod
    def tearDownClass(cls):
        for p in ("knot", "sec", "primary"):
            if getattr(cls, p, None):
                getattr(cls, p).stop()
        cls.tmp.cleanup()

    def serial_at(self, host):
        return x.soa_serial(self.sport, Z, host=host)

    def wait_both(self, serial, timeout):
        for host, who in (("127.0.0.2", self.sec), ("127.0.0.3", self.knot)):
            ok = t.wait_until(lambda: self.serial_at(host) == serial, timeout, 0.02)
            self.assertTrue(ok, f"{host} has serial {self.serial_at(host)}, want {serial}\n"
                                f"{who.log()[-3000:]}\nprimary:\n{self.primary.log()[-3000:]}")

    def nsupdate(self, body):
        p = subprocess.run(["nsupdate", "-t", "5", "-k", self.upkey],
                           input=f"server 127.0.0.1 {self.port}\nzone {Z}\n{body}send\n",
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def primary_serial(self):
        return x.soa_serial(self.port, Z)

    def test_1_ns_hosts_notified(self):
        self.wait_both(1, 15)
        log = self.primary.log()
        # The MNAME host (us) is left out; the out-of-zone NS has no address
        # we know and is named in the log.
        self.assertIn(f"zone {Z}.: NOTIFY targets: 127.0.0.2:{self.sport} (NS ns2.{Z}.), "
                      f"127.0.0.3:{self.sport} (NS ns3.{Z}.); no address for NS "
                      "ns.elsewhere.example.", log)
        self.nsupdate(f"update add fresh.{Z} 60 A 198.51.100.7\n")
        s = self.primary_serial()
        self.assertGreater(s, 1)
        # Refresh is 3600 s: reaching the serial within seconds means NOTIFY.
        self.wait_both(s, 5)
        for host in ("127.0.0.2", "127.0.0.3"):
            r = t.dig(host, self.sport, f"fresh.{Z}", "A")
            self.assertEqual(r.rdatas("A"), ["198.51.100.7"], f"{host}: {r}")

    def test_2_target_list_follows_ns_set(self):
        # ns3 leaves the NS set: Knot gets no NOTIFY for this change.
        self.nsupdate(f"update delete {Z} NS ns3.{Z}.\n")
        s = self.primary_serial()
        ok = t.wait_until(lambda: self.serial_at("127.0.0.2") == s, 5, 0.02)
        self.assertTrue(ok, self.sec.log()[-3000:])
        self.assertIn(f"zone {Z}.: NOTIFY targets: 127.0.0.2:{self.sport} (NS ns2.{Z}.); "
                      "no address for NS ns.elsewhere.example.", self.primary.log())
        self.nsupdate(f"update add late.{Z} 60 A 198.51.100.8\n")
        s2 = self.primary_serial()
        ok = t.wait_until(lambda: self.serial_at("127.0.0.2") == s2, 5, 0.02)
        self.assertTrue(ok, self.sec.log()[-3000:])
        self.assertLess(self.serial_at("127.0.0.3"), s2)  # refresh is an hour away
        # Back in: notified again.
        self.nsupdate(f"update add {Z} 300 NS ns3.{Z}.\n")
        self.wait_both(self.primary_serial(), 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
