#!/usr/bin/env python3
# SIGHUP reload (new serial served, no failed query while reloading, a broken
# file keeps the old data, unchanged files are skipped, a reload reaches the
# secondaries by NOTIFY) and clean stops.
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402


def many_hosts(n):
    return "\n".join(f"h{i} IN A 192.0.2.{i % 250 + 1}" for i in range(n))


def serial_of(d, host=None, port=None, tcp=False):
    r = t.dig(host or d.host4, port or d.port4, "example.test", "SOA", tcp=tcp)
    if r.status != "NOERROR" or not r.answer:
        return None
    return int(r.answer[0].rdata.split()[2])


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-reload-")
        self.zone = os.path.join(self.tmp.name, "example.test.zone")
        self.other = os.path.join(self.tmp.name, "example.org.zone")
        t.write_file(self.zone, t.example_zone(serial=1, extra=many_hosts(20000)))
        t.write_file(self.other, t.example_zone("example.org", serial=50))
        self.d = t.Ddnsd(zones={"example.test": self.zone, "example.org": self.other},
                         threads=2).start()

    def tearDown(self):
        self.d.stop()
        self.d.cleanup()
        self.tmp.cleanup()

    def test_reload_serves_new_serial_without_failed_queries(self):
        self.assertEqual(serial_of(self.d), 1)
        stop = threading.Event()
        stats = {"sent": 0, "failed": 0, "serials": set()}

        def hammer():
            # Bounded: at most 20000 queries or until told to stop.
            for i in range(20000):
                if stop.is_set():
                    break
                q = t.make_query("h7.example.test", "A", qid=i & 0xFFFF)
                r = t.udp_exchange(self.d.host4, self.d.port4, q, timeout=1)
                h = t.parse_header(r)
                stats["sent"] += 1
                if h is None or h["id"] != i & 0xFFFF or h["rcode"] != 0 or h["ancount"] != 1:
                    stats["failed"] += 1

        th = threading.Thread(target=hammer)
        th.start()
        try:
            time.sleep(0.2)
            t.write_file(self.zone, t.example_zone(serial=2, extra=many_hosts(20000)))
            self.d.reload()
            self.assertTrue(t.wait_until(lambda: serial_of(self.d) == 2, 10), self.d.log())
            time.sleep(0.2)
        finally:
            stop.set()
            th.join(timeout=60)
        self.assertGreater(stats["sent"], 50)
        self.assertEqual(stats["failed"], 0, stats)
        # Both transports and families see the new data.
        self.assertEqual(serial_of(self.d, tcp=True), 2)
        if self.d.host6:
            self.assertEqual(serial_of(self.d, self.d.host6, self.d.port6), 2)
        log = self.d.log()
        self.assertRegex(log, r"zone example\.test\. reloaded: serial 2, 20016 records")
        self.assertRegex(log, r"reload: 1 reloaded, 0 failed, 1 unchanged")

    def test_broken_file_keeps_old_data(self):
        t.write_file(self.zone, t.example_zone(serial=3) + "bad IN A 999.1.2.3\n")
        self.d.reload()
        self.assertTrue(t.wait_until(lambda: "old data kept" in self.d.log(), 10), self.d.log())
        self.assertEqual(serial_of(self.d), 1)
        r = t.dig(self.d.host4, self.d.port4, "h19999.example.test", "A")
        self.assertEqual(r.status, "NOERROR")
        self.assertIn("example.test.zone:", self.d.log())  # the error names file:line
        # Fixed again: the next SIGHUP loads it.
        t.write_file(self.zone, t.example_zone(serial=4))
        self.d.reload()
        self.assertTrue(t.wait_until(lambda: serial_of(self.d) == 4, 10), self.d.log())
        r = t.dig(self.d.host4, self.d.port4, "h19999.example.test", "A")
        self.assertEqual(r.status, "NXDOMAIN")
        self.assertTrue(self.d.alive())

    def test_deleted_file_keeps_old_data(self):
        os.unlink(self.other)
        self.d.reload()
        self.assertTrue(t.wait_until(lambda: "No such file" in self.d.log(), 10), self.d.log())
        r = t.dig(self.d.host4, self.d.port4, "example.org", "SOA")
        self.assertEqual(r.status, "NOERROR")
        self.assertIn(" 50 ", r.answer[0].rdata)

    def test_unchanged_reload_is_a_no_op(self):
        self.d.reload()
        self.assertTrue(t.wait_until(lambda: "2 unchanged" in self.d.log(), 10), self.d.log())
        self.assertEqual(serial_of(self.d), 1)


class ReloadToSecondaryTest(unittest.TestCase):
    # A reload goes through the zone's writer like every change: durable,
    # then published, then NOTIFY to the secondaries (whose SOA refresh,
    # 7200 s, would otherwise keep the old copy).
    def test_reload_reaches_secondary_by_notify(self):
        with tempfile.TemporaryDirectory(prefix="ddns-reload-notify-") as d:
            t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
            pport, sport = t.free_port(), t.free_port()
            conf = f"""server:
  listen: 127.0.0.1:{pport}
  threads: 2
  data-dir: data
zones:
  - name: example.test
    file: example.test.zone
    allow-transfer: [127.0.0.1]
    notify:
      - 127.0.0.1:{sport}
"""
            p = t.Ddnsd(config=conf, workdir=d).start()
            s = t.Ddnsd(listen=[f"127.0.0.1:{sport}"], args=[
                "--data-dir", os.path.join(d, "secondary"),
                "--secondary", f"example.test=127.0.0.1:{pport}"]).start()
            try:
                self.assertTrue(t.wait_until(lambda: serial_of(s, "127.0.0.1", sport) == 1, 10),
                                s.log())
                t.write_file(os.path.join(d, "example.test.zone"),
                             t.example_zone(serial=2, extra="new IN A 192.0.2.200"))
                p.reload()
                self.assertTrue(t.wait_until(lambda: serial_of(s, "127.0.0.1", sport) == 2, 10),
                                p.log() + s.log())
                r = t.dig("127.0.0.1", sport, "new.example.test", "A")
                self.assertEqual(r.rdatas("A"), ["192.0.2.200"])
            finally:
                s.stop()
                s.cleanup()
                p.stop()


class StopTest(unittest.TestCase):
    def _stop_with(self, sig):
        with tempfile.TemporaryDirectory() as d:
            zone = t.write_file(os.path.join(d, "z.zone"), t.example_zone())
            srv = t.Ddnsd(zones={"example.test": zone}, threads=4).start()
            # An open idle TCP connection must not delay the stop.
            s = socket.create_connection((srv.host4, srv.port4), timeout=2)
            t0 = time.monotonic()
            os.kill(srv.pid, sig)
            rc = srv.wait(timeout=10)
            elapsed = time.monotonic() - t0
            s.close()
            srv.stop()
            log = srv.log()
            srv.cleanup()
            self.assertEqual(rc, 0, log)
            self.assertLess(elapsed, 2.0)
            self.assertIn("stopping", log)
            self.assertIn("stopped:", log)

    def test_sigterm_exits_zero_quickly(self):
        self._stop_with(signal.SIGTERM)

    def test_sigint_exits_zero_quickly(self):
        self._stop_with(signal.SIGINT)


if __name__ == "__main__":
    unittest.main(verbosity=2)
