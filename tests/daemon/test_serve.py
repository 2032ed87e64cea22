#!/usr/bin/env python3
# ddnsd serving a zone on loopback (IPv4 and IPv6), queried with dig and kdig
# over UDP and TCP, pipelined TCP, CHAOS, EDNS, and the command-line modes.
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402


def big_rrset():
    """40 TXT records: more than 512 octets, so UDP without EDNS truncates."""
    return "\n".join(f'big IN TXT "record number {i:03d} padding padding padding"'
                     for i in range(40))


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-serve-")
        zone = t.write_file(os.path.join(cls.tmp.name, "example.test.zone"),
                            t.example_zone(serial=2024010101))
        org = t.write_file(os.path.join(cls.tmp.name, "example.org.zone"),
                           t.example_zone("example.org", serial=7, extra=big_rrset()))
        cls.d = t.Ddnsd(zones={"example.test": zone, "example.org": org}, threads=2).start()
        cls.servers = [(cls.d.host4, cls.d.port4)]
        if cls.d.host6:
            cls.servers.append((cls.d.host6, cls.d.port6))

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.d.cleanup()
        cls.tmp.cleanup()
        assert rc == 0, f"ddnsd exit code {rc}"

    def each(self):
        for host, port in self.servers:
            for tool in ("dig", "kdig"):
                for tcp in (False, True):
                    yield host, port, tool, tcp

    def test_logs_zones_and_listeners(self):
        log = self.d.log()
        self.assertRegex(log, r"zone example\.test\. loaded: serial 2024010101, 16 records")
        self.assertRegex(log, r"zone example\.org\. loaded: serial 7,")
        self.assertIn(f"listening on 127.0.0.1:{self.d.port4} ", log)
        if self.d.host6:
            self.assertIn(f"listening on [::1]:{self.d.port6} ", log)

    def _tunables(self, pid):
        """GLIBC_TUNABLES and DDNSD_HUGEPAGES_EXEC (set on the second start)
        as the process started with them. glibc 2.36 rewrites GLIBC_TUNABLES
        in place to its first entry as it reads it, so with a user's own
        tunables first, ours shows only through the re-exec marker."""
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
        return [e.decode() for e in env
                if e.startswith(b"GLIBC_TUNABLES=") or e.startswith(b"DDNSD_HUGEPAGES_EXEC=")]

    def _thp_on(self):
        try:
            with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
                return "[never]" not in f.read()
        except OSError:
            return False

    def test_runs_on_huge_pages_with_same_pid_and_name(self):
        # ddnsd executes itself again once with glibc's THP tunable (zone
        # loads fault in 2 MiB pages); the PID a supervisor holds and the
        # name ps/pkill see stay the same.
        with open(f"/proc/{self.d.pid}/comm") as f:
            self.assertEqual(f.read().strip(), "ddnsd")
        want = (["GLIBC_TUNABLES=glibc.malloc.hugetlb=1", "DDNSD_HUGEPAGES_EXEC=1"]
                if self._thp_on() else [])
        self.assertEqual(sorted(self._tunables(self.d.pid)), sorted(want))

    def _start_with_env(self, **env):
        """A second ddnsd started with `env` added to the environment."""
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            return t.Ddnsd(zones={"example.test": self.d.zones["example.test"]}).start()
        finally:
            for k, v in old.items():
                if v is None:
                    del os.environ[k]
                else:
                    os.environ[k] = v

    def _check_env_case(self, want, **env):
        d = self._start_with_env(**env)
        try:
            self.assertEqual(sorted(self._tunables(d.pid)), sorted(want))
            r = t.dig(d.host4, d.port4, "www.example.test", "A")
            self.assertEqual(r.status, "NOERROR", r.output)
        finally:
            self.assertEqual(d.stop(), 0)
            d.cleanup()

    def test_huge_pages_opt_out(self):
        self._check_env_case([], DDNSD_HUGEPAGES="0")

    def test_huge_pages_keep_the_users_tunables(self):
        # Other tunables are kept and ours appended (the second start); a
        # hugetlb setting of the user's own (here: off) is left as it was,
        # with no second start.
        d = self._start_with_env(GLIBC_TUNABLES="glibc.malloc.arena_max=4")
        try:
            env = self._tunables(d.pid)
            tun = [e for e in env if e.startswith("GLIBC_TUNABLES=")]
            self.assertEqual(len(tun), 1, env)
            self.assertTrue(tun[0].startswith("GLIBC_TUNABLES=glibc.malloc.arena_max=4"), env)
            self.assertEqual("DDNSD_HUGEPAGES_EXEC=1" in env, self._thp_on(), env)
            r = t.dig(d.host4, d.port4, "www.example.test", "A")
            self.assertEqual(r.status, "NOERROR", r.output)
        finally:
            self.assertEqual(d.stop(), 0)
            d.cleanup()
        self._check_env_case(["GLIBC_TUNABLES=glibc.malloc.hugetlb=0"],
                             GLIBC_TUNABLES="glibc.malloc.hugetlb=0")

    def test_a_rrset_everywhere(self):
        for host, port, tool, tcp in self.each():
            with self.subTest(host=host, tool=tool, tcp=tcp):
                r = t.dig(host, port, "www.example.test", "A", tcp=tcp, tool=tool)
                self.assertEqual(r.status, "NOERROR", r.output)
                self.assertIn("aa", r.flags)
                self.assertIn("qr", r.flags)
                self.assertNotIn("tc", r.flags)
                self.assertEqual(r.rdatas("A"), ["192.0.2.10", "192.0.2.11"])
                self.assertTrue(all(rr.ttl == 3600 for rr in r.answer))

    def test_mixed_case_question_is_echoed(self):
        r = t.dig(self.d.host4, self.d.port4, "WwW.ExAmPlE.TeSt", "AAAA")
        self.assertEqual(r.status, "NOERROR", r.output)
        self.assertEqual(r.rdatas("AAAA"), ["2001:db8::10"])
        self.assertIn(";WwW.ExAmPlE.TeSt.", r.output)

    def test_nxdomain_and_nodata(self):
        for host, port, tool, tcp in self.each():
            with self.subTest(host=host, tool=tool, tcp=tcp):
                r = t.dig(host, port, "nothere.example.test", "A", tcp=tcp, tool=tool)
                self.assertEqual(r.status, "NXDOMAIN", r.output)
                self.assertIn("aa", r.flags)
                self.assertEqual([x.rtype for x in r.authority], ["SOA"])
                r = t.dig(host, port, "www.example.test", "MX", tcp=tcp, tool=tool)
                self.assertEqual(r.status, "NOERROR", r.output)
                self.assertEqual(r.answer, [])
                self.assertEqual([x.rtype for x in r.authority], ["SOA"])

    def test_cname_delegation_wildcard(self):
        r = t.kdig(self.d.host4, self.d.port4, "alias.example.test", "A")
        self.assertEqual(r.status, "NOERROR", r.output)
        self.assertEqual(r.answer[0].rtype, "CNAME")
        self.assertEqual(r.rdatas("A"), ["192.0.2.10", "192.0.2.11"])
        r = t.dig(self.d.host4, self.d.port4, "host.sub.example.test", "A")
        self.assertEqual(r.status, "NOERROR", r.output)
        self.assertNotIn("aa", r.flags)
        self.assertEqual(r.rdatas("NS", "authority"), ["ns.sub.example.test."])
        self.assertEqual(r.rdatas("A", "additional"), ["192.0.2.53"])
        r = t.dig(self.d.host4, self.d.port4, "anything.wild.example.test", "A")
        self.assertEqual(r.status, "NOERROR", r.output)
        self.assertEqual(r.answer[0].name, "anything.wild.example.test.")
        self.assertEqual(r.rdatas("A"), ["192.0.2.99"])

    def test_second_zone_and_refused(self):
        r = t.dig(self.d.host4, self.d.port4, "example.org", "SOA", tcp=True)
        self.assertEqual(r.status, "NOERROR", r.output)
        self.assertIn(" 7 ", r.answer[0].rdata)
        r = t.dig(self.d.host4, self.d.port4, "example.net", "A")
        self.assertEqual(r.status, "REFUSED", r.output)

    def test_edns_and_no_edns(self):
        r = t.dig(self.d.host4, self.d.port4, "example.test", "SOA")
        self.assertIsNotNone(r.edns, r.output)
        self.assertEqual(r.edns["version"], 0)
        r = t.dig(self.d.host4, self.d.port4, "example.test", "SOA", args=["+noedns"])
        self.assertEqual(r.status, "NOERROR")
        self.assertIsNone(r.edns, r.output)
        r = t.dig(self.d.host4, self.d.port4, "example.test", "SOA",
                  args=["+edns=1", "+noednsneg"])
        self.assertEqual(r.status, "BADVERS", r.output)

    def test_chaos(self):
        r = t.dig(self.d.host4, self.d.port4, "version.bind", "TXT", args=["-c", "CH"])
        self.assertEqual(r.status, "NOERROR", r.output)
        self.assertEqual(len(r.answer), 1)

    def test_raw_udp_v4_and_v6(self):
        for host, port in self.servers:
            q = t.make_query("www.example.test", "A", qid=0x1234)
            resp = t.udp_exchange(host, port, q)
            h = t.parse_header(resp)
            self.assertEqual(h["id"], 0x1234)
            self.assertTrue(h["qr"] and h["aa"])
            self.assertEqual((h["rcode"], h["ancount"]), (0, 2))

    def test_tcp_pipelined_in_one_write(self):
        for host, port in self.servers:
            names = [("www.example.test", "A"), ("nothere.example.test", "A"),
                     ("example.test", "SOA"), ("mail.example.test", "A")] * 5
            qs = [t.make_query(n, ty, qid=100 + i) for i, (n, ty) in enumerate(names)]
            rs = t.tcp_exchange(host, port, qs, one_write=True)
            self.assertEqual(len(rs), len(qs))
            ids = sorted(t.parse_header(r)["id"] for r in rs)
            self.assertEqual(ids, list(range(100, 100 + len(qs))))
            by_id = {t.parse_header(r)["id"]: t.parse_header(r) for r in rs}
            self.assertEqual(by_id[101]["rcode"], 3)
            self.assertEqual(by_id[100]["ancount"], 2)

    def test_tcp_pipelined_separate_writes(self):
        qs = [t.make_query("www.example.test", "A", qid=i) for i in range(10)]
        rs = t.tcp_exchange(self.d.host4, self.d.port4, qs, one_write=False)
        self.assertEqual(sorted(t.parse_header(r)["id"] for r in rs), list(range(10)))

    def test_kdig_keepopen(self):
        host, port = self.servers[-1]
        p = subprocess.run(["kdig", f"@{host}", "-p", str(port), "+tcp", "+keepopen", "+norec",
                            "+time=3", "+retry=0",
                            "www.example.test", "A", "example.test", "SOA",
                            "nothere.example.test", "A"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        statuses = re.findall(r"status: (\w+)", p.stdout)
        self.assertEqual(statuses, ["NOERROR", "NOERROR", "NXDOMAIN"], p.stdout)

    def test_udp_truncation_then_tcp(self):
        # The big RRset does not fit 512 octets: TC over UDP, whole over TCP.
        q = t.make_query("big.example.org", "TXT", qid=9)
        r = t.udp_exchange(self.d.host4, self.d.port4, q)
        self.assertIsNotNone(r)
        h = t.parse_header(r)
        self.assertTrue(h["tc"])
        rs = t.tcp_exchange(self.d.host4, self.d.port4, [q])
        h = t.parse_header(rs[0])
        self.assertFalse(h["tc"])
        self.assertEqual(h["ancount"], 40)


class CommandLineTest(unittest.TestCase):
    def run_ddnsd(self, *args, timeout=10):
        return subprocess.run([t.binary("ddnsd"), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)

    def test_version_and_help(self):
        p = self.run_ddnsd("--version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^ddnsd \d+\.\d+")
        p = self.run_ddnsd("--help")
        self.assertEqual(p.returncode, 0)
        for flag in ("--config", "--listen", "--zone", "--threads", "--check-zone"):
            self.assertIn(flag, p.stdout)

    def test_check_zone(self):
        with tempfile.TemporaryDirectory() as d:
            good = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=5))
            p = self.run_ddnsd("--check-zone", "example.test", good)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("serial 5", p.stdout)
            p = self.run_ddnsd("--check-zone", good)  # origin from the file name
            self.assertEqual(p.returncode, 0, p.stderr)
            bad = t.write_file(os.path.join(d, "bad.zone"),
                               "$TTL 60\n@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 300.1.1.1\n")
            p = self.run_ddnsd("--check-zone", "example.test", bad)
            self.assertEqual(p.returncode, 1)
            self.assertIn("bad.zone:4", p.stderr)

    def test_config_file_with_relative_paths(self):
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "zones"))
            t.write_file(os.path.join(d, "zones", "example.test.zone"), t.example_zone(serial=42))
            port = t.free_port()
            cfg = (f'server:\n  listen: ["127.0.0.1:{port}"]\n  threads: 1\n'
                   f'  data-dir: var\n  identity: ns-test\n'
                   f'zones:\n  - name: example.test\n    file: zones/example.test.zone\n')
            with t.Ddnsd(config=cfg, workdir=d) as srv:
                self.assertEqual(srv.port4, port)
                r = t.dig("127.0.0.1", port, "example.test", "SOA")
                self.assertIn(" 42 ", r.answer[0].rdata)
                r = t.dig("127.0.0.1", port, "id.server", "TXT", args=["-c", "CH"])
                self.assertEqual(r.rdatas("TXT"), ['"ns-test"'], r.output)
            self.assertTrue(os.path.isdir(os.path.join(d, "var")))

    def test_udp_coalesce_setting(self):
        p = self.run_ddnsd("--udp-coalesce", "1s", "--zone", "a.test=/nonexistent")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--udp-coalesce: must be 0 (off) or a duration up to 10ms", p.stderr)
        with tempfile.TemporaryDirectory() as d:
            zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=3))
            bad = (f'server:\n  listen: ["127.0.0.1:0"]\n  udp-coalesce: fast\n'
                   f'zones:\n  - name: example.test\n    file: {zone}\n')
            cfg = t.write_file(os.path.join(d, "bad.yaml"), bad)
            p = self.run_ddnsd("--config", cfg)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("bad.yaml:3: server.udp-coalesce: must be 0 (off)", p.stderr)
            # A long pause (2 ms) with 32 queries kept in flight: every query
            # is answered, none waits much longer than the pause.
            with t.Ddnsd(zones={"example.test": zone}, threads=1,
                         args=["--udp-coalesce", "2ms"]) as srv:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(2)
                s.connect((srv.host4, srv.port4))
                q = t.make_query("www.example.test", "A")
                sent = got = 0
                worst = 0.0
                for _ in range(32):
                    s.send(q)
                    sent += 1
                last = time.monotonic()
                while got < 3000:
                    s.recv(4096)  # socket.timeout here = a lost answer
                    now = time.monotonic()
                    worst = max(worst, now - last)
                    last = now
                    got += 1
                    if sent < 3000:
                        s.send(q)
                        sent += 1
                s.close()
                self.assertLess(worst, 0.5)

    def test_shipped_config_parses(self):
        cfg = os.path.join(t.SOURCE_DIR, "etc", "ddnsd.yaml")
        zone = os.path.join(t.SOURCE_DIR, "examples", "example.test.zone")
        if not os.path.exists(cfg) or not os.path.exists(zone):
            self.skipTest("etc/ddnsd.yaml or examples/example.test.zone missing")
        # Same file, but on free ports so the test never clashes with `make run`.
        with open(cfg) as f:
            text = f.read()
        text = text.replace("../examples/", os.path.join(t.SOURCE_DIR, "examples") + "/")
        with tempfile.TemporaryDirectory() as d:
            text = re.sub(r"listen: .*", 'listen: ["127.0.0.1:0"]', text)
            text = text.replace("data-dir: ../var", "data-dir: var")
            with t.Ddnsd(config=text, workdir=d) as srv:
                r = t.dig(srv.host4, srv.port4, "example.test", "SOA")
                self.assertEqual(r.status, "NOERROR", r.output)


if __name__ == "__main__":
    unittest.main(verbosity=2)
