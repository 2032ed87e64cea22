#!/usr/bin/env python3
# Crash safety of the change path (issue 4): several clients send thousands
# of TSIG-signed UPDATEs over UDP and TCP, ddnsd is killed with SIGKILL in the
# middle of the storm, restarted on the same data directory, and every
# update that was acknowledged (NOERROR) must be served, with a serial that
# counts exactly the changes that were made durable. A second round tears
# the tail of the SQLite WAL (a half-written frame, as a crash during write
# leaves it) before the restart: it must be dropped, not be fatal.
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import opsutil as ops  # noqa: E402

ZONE = "example.test"
CLIENTS = 4
STORM_ACKS = 1500        # SIGKILL once this many updates were acknowledged...
STORM_MAX_SECONDS = 12   # ...or after this long, whichever comes first


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ddns-crash-")
        d = self.tmp.name
        self.zone = t.write_file(os.path.join(d, "example.test.zone"), t.example_zone(serial=1))
        self.keyfile = os.path.join(d, "key1.key")
        self.secret = ops.keygen("key1", self.keyfile)
        self.data = os.path.join(d, "data")
        self.d = None
        self.unanswered = 0  # updates sent without a reply: may or may not be durable

    def tearDown(self):
        if self.d is not None:
            self.d.stop(signal.SIGKILL)
            self.d.cleanup()
        self.tmp.cleanup()

    def start(self):
        self.d = t.Ddnsd(zones={ZONE: self.zone}, listen=["127.0.0.1:0"], threads=2,
                         args=["--data-dir", self.data, "--key", self.keyfile,
                               "--allow-update", f"{ZONE}=key1"]).start(timeout=20)
        return self.d

    def storm_then_kill(self, prefix):
        """Runs the storm, SIGKILLs ddnsd while the clients keep sending,
        and returns the acknowledged {owner: address}."""
        storm = ops.Storm(self.d.host4, self.d.port4, ZONE, "key1", self.secret,
                          clients=CLIENTS, protos=("udp", "tcp"), prefix=prefix).start()
        deadline = time.monotonic() + STORM_MAX_SECONDS
        while storm.acked_count() < STORM_ACKS and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(self.d.alive(), self.d.log()[-2000:])
        os.kill(self.d.pid, signal.SIGKILL)
        killed_at = storm.acked_count()
        time.sleep(0.3)  # clients see timeouts / resets, as against a real crash
        storm.stop()
        self.assertTrue(storm.join(10), "storm clients did not stop")
        self.d.stop(signal.SIGKILL)
        self.d.cleanup()
        self.d = None
        print(f"  {prefix}: sent {storm.sent}, acked {len(storm.acked)} "
              f"(at kill {killed_at}), errors {storm.errors}, timeouts {storm.timeouts}",
              file=sys.stderr)
        self.assertEqual(storm.errors, 0, "a non-NOERROR reply during the storm")
        self.assertGreaterEqual(len(storm.acked), min(STORM_ACKS, 200),
                                "too few acknowledged updates before the kill")
        self.unanswered += storm.timeouts
        return dict(storm.acked)

    def export(self):
        p = subprocess.run([t.binary("ddnsctl"), "--data-dir", self.data, "export", ZONE],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def served_serial(self):
        r = t.dig(self.d.host4, self.d.port4, ZONE, "SOA")
        self.assertEqual(r.status, "NOERROR", r.output)
        return int(r.answer[0].rdata.split()[2])

    def check_after_restart(self, acked_total, prefixes, base_a):
        """Every acked record is served by the restarted daemon, and the
        store, the served zone and the serial agree."""
        self.start()
        self.assertIn("restored from store", self.d.log())
        text = self.export()
        stored = ops.a_records_in_master(text, ZONE)
        ours = {k: v for k, v in stored.items() if k.split(".")[0].rstrip("0123456789-")
                in prefixes}
        missing = [o for o in acked_total if stored.get(o) != acked_total[o]]
        self.assertEqual(missing[:10], [], f"{len(missing)} acknowledged updates lost")
        # Committed but unacknowledged: only updates that got no reply (the
        # ones in flight at the kill, or a reply that came too late).
        extra = set(ours) - set(acked_total)
        self.assertLessEqual(len(extra), self.unanswered, sorted(extra)[:10])
        # Increment policy, one serial per update message.
        serial = ops.soa_serial_in_master(text)
        self.assertEqual(serial, 1 + len(ours))
        self.assertEqual(self.served_serial(), serial)
        self.assertEqual(len(stored), base_a + len(ours))
        # Served, not only stored: ask for every acknowledged name over UDP.
        lost = []
        for i, (owner, addr) in enumerate(sorted(acked_total.items())):
            q = t.make_query(owner, "A", qid=i & 0xFFFF)
            r = t.udp_exchange(self.d.host4, self.d.port4, q, timeout=2)
            if r is None or t.parse_header(r)["rcode"] != 0 or \
                    bytes(int(x) for x in addr.split(".")) not in r:
                lost.append(owner)
        self.assertEqual(lost[:10], [], f"{len(lost)} acknowledged names not served")
        return ours

    def test_sigkill_mid_storm_keeps_every_ack(self):
        self.start()
        base_a = len(ops.a_records_in_master(self.export(), ZONE))
        t0 = time.monotonic()
        acked = self.storm_then_kill("a")
        self.check_after_restart(acked, {"a"}, base_a)
        # Round 2: new storm on the restored zone, then a torn WAL tail.
        acked.update(self.storm_then_kill("b"))
        wal = os.path.join(self.data, "ddns.db-wal")
        if os.path.exists(wal) and os.path.getsize(wal) > 0:
            with open(wal, "r+b") as f:
                f.seek(0, os.SEEK_END)
                # Half a frame header and some page bytes: a write cut short.
                f.write(os.urandom(24 + 1000))
        self.check_after_restart(acked, {"a", "b"}, base_a)
        self.d.stop()
        print(f"  {len(acked)} acknowledged updates verified in {time.monotonic() - t0:.1f}s",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
