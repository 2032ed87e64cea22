#!/usr/bin/env python3
# Readers during an update storm (issue 4): dnsperf queries ddnsd alone, then
# again while several clients send TSIG-signed UPDATEs as fast as the server
# acknowledges them. No query may be lost beyond a tiny bound, and readers
# must only ever see whole changes: one client keeps replacing the A RRset of
# pair.example.test with two records that carry the same counter (one UPDATE:
# delete RRset + add both, RFC 2136 §3.4.2), and readers on their own
# sockets check that every answer holds exactly one such pair and that the
# SOA serial they see never goes backwards. Prints QPS with and without the
# storm.
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import opsutil as ops  # noqa: E402

ZONE = "example.test"
DURATION = 6         # seconds per dnsperf run
LOST_BOUND = 0.001   # at most 0.1% of the queries sent may be lost
HAVE_DNSPERF = shutil.which("dnsperf") is not None

QUERIES = """www.example.test A
mail.example.test A
ns1.example.test A
example.test SOA
example.test NS
txt.example.test TXT
alias.example.test A
nothere.example.test A
x.wild.example.test A
pair.example.test A
"""


def dnsperf(host, port, datafile, seconds):
    p = subprocess.run(["dnsperf", "-s", host, "-p", str(port), "-d", datafile,
                        "-l", str(seconds), "-c", "4", "-q", "40", "-t", "2"],
                       capture_output=True, text=True, timeout=seconds + 30)
    out = p.stdout + p.stderr

    def num(label):
        m = re.search(label + r":\s+([\d.]+)", out)
        return float(m.group(1)) if m else None

    return {"sent": num("Queries sent"), "completed": num("Queries completed"),
            "lost": num("Queries lost"), "qps": num("Queries per second"),
            "latency": num("Average Latency \\(s\\)"), "output": out, "rc": p.returncode}


def pair_rdata(k):
    return [bytes([198, 51, 100, k]), bytes([203, 0, 113, k])]


class PairWriter(threading.Thread):
    """Replaces pair.<zone> A with {198.51.100.k, 203.0.113.k}, k = 1, 2, ..."""

    def __init__(self, host, port, secret, stop):
        super().__init__(daemon=True)
        self.host, self.port, self.secret, self.stop = host, port, secret, stop
        self.acked = 0
        self.failed = 0    # answered with an error rcode
        self.timeouts = 0  # no answer within 2 s (an fsync stall on a busy disk)

    def run(self):
        k = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((self.host, self.port))
            s.settimeout(2)
            while not self.stop.is_set():
                k = k % 250 + 1
                owner = f"pair.{ZONE}"
                rrs = [(owner, 1, 0, b"", 255)] + [(owner, 1, 300, r) for r in pair_rdata(k)]
                qid = k
                s.send(ops.signed_update(ZONE, rrs, "key1", self.secret, qid))
                try:
                    while True:
                        h = t.parse_header(s.recv(4096))
                        if h and h["id"] == qid:
                            break
                except OSError:
                    self.timeouts += 1
                    continue
                if h["rcode"] == 0:
                    self.acked += 1
                else:
                    self.failed += 1


class Reader(threading.Thread):
    """Queries pair A and the SOA on one socket, checking each answer."""

    def __init__(self, host, port, stop):
        super().__init__(daemon=True)
        self.host, self.port, self.stop = host, port, stop
        self.queries = self.torn = self.backwards = self.timeouts = 0
        self.problems = []

    @staticmethod
    def a_records(resp):
        """The A rdatas in the answer section (names compressed or not)."""
        h = t.parse_header(resp)
        pos = 12
        for _ in range(h["qdcount"]):
            pos = Reader.skip_name(resp, pos) + 4
        out = []
        for _ in range(h["ancount"]):
            pos = Reader.skip_name(resp, pos)
            rtype, _, _, rdlen = struct.unpack(">HHIH", resp[pos:pos + 10])
            pos += 10
            if rtype == 1:
                out.append(resp[pos:pos + rdlen])
            elif rtype == 6:
                out.append(b"SOA" + resp[pos:pos + rdlen])
            pos += rdlen
        return out

    @staticmethod
    def skip_name(b, pos):
        while True:
            n = b[pos]
            if n >= 0xC0:
                return pos + 2
            if n == 0:
                return pos + 1
            pos += n + 1

    def run(self):
        last_serial = 0
        qid = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((self.host, self.port))
            s.settimeout(2)
            while not self.stop.is_set():
                for name, qtype in ((f"pair.{ZONE}", "A"), (ZONE, "SOA")):
                    qid = (qid + 1) & 0xFFFF
                    s.send(t.make_query(name, qtype, qid=qid))
                    try:
                        while True:
                            r = s.recv(4096)
                            if t.parse_header(r)["id"] == qid:
                                break
                    except OSError:
                        self.timeouts += 1
                        continue
                    self.queries += 1
                    recs = self.a_records(r)
                    if qtype == "A":
                        ks = {x[3] for x in recs}
                        nets = sorted(x[:3] for x in recs)
                        if len(recs) != 2 or len(ks) != 1 or \
                                nets != [bytes([198, 51, 100]), bytes([203, 0, 113])]:
                            self.torn += 1
                            if len(self.problems) < 5:
                                self.problems.append(recs)
                    else:
                        soa = recs[0][3:]
                        # serial: after mname and rname
                        p = self.skip_name(soa, self.skip_name(soa, 0))
                        serial = struct.unpack(">I", soa[p:p + 4])[0]
                        if serial < last_serial:
                            self.backwards += 1
                        last_serial = serial


@unittest.skipUnless(HAVE_DNSPERF, "dnsperf not installed")
class UpdateStormTest(unittest.TestCase):
    def test_readers_during_storm(self):
        with tempfile.TemporaryDirectory(prefix="ddns-storm-") as d:
            zone = t.write_file(os.path.join(d, "z.zone"), t.example_zone(
                extra="pair IN A 198.51.100.250\npair IN A 203.0.113.250\n"))
            keyfile = os.path.join(d, "key1.key")
            secret = ops.keygen("key1", keyfile)
            qfile = t.write_file(os.path.join(d, "queries.txt"), QUERIES)
            dm = t.Ddnsd(zones={ZONE: zone}, listen=["127.0.0.1:0"], threads=2,
                         args=["--data-dir", os.path.join(d, "data"), "--key", keyfile,
                               "--allow-update", f"{ZONE}=key1"]).start(timeout=20)
            try:
                host, port = dm.host4, dm.port4
                quiet = dnsperf(host, port, qfile, DURATION)
                self.assertEqual(quiet["rc"], 0, quiet["output"])

                stop = threading.Event()
                storm = ops.Storm(host, port, ZONE, "key1", secret, clients=3,
                                  protos=("udp", "tcp", "udp"), prefix="storm").start()
                pw = PairWriter(host, port, secret, stop)
                readers = [Reader(host, port, stop) for _ in range(2)]
                pw.start()
                for r in readers:
                    r.start()
                t0 = time.monotonic()
                busy = dnsperf(host, port, qfile, DURATION)
                elapsed = time.monotonic() - t0
                stop.set()
                storm.stop()
                pw.join(5)
                for r in readers:
                    r.join(5)
                storm.join(10)
                self.assertEqual(busy["rc"], 0, busy["output"])
                updates = len(storm.acked) + pw.acked
                print(f"\n  dnsperf alone:        {quiet['qps']:.0f} QPS, lost "
                      f"{quiet['lost']:.0f}/{quiet['sent']:.0f}, avg latency "
                      f"{quiet['latency'] * 1e3:.2f} ms\n"
                      f"  dnsperf during storm: {busy['qps']:.0f} QPS, lost "
                      f"{busy['lost']:.0f}/{busy['sent']:.0f}, avg latency "
                      f"{busy['latency'] * 1e3:.2f} ms\n"
                      f"  storm: {updates} updates acked ({updates / elapsed:.0f}/s), "
                      f"{storm.errors + pw.failed} failed, {storm.timeouts + pw.timeouts} timeouts; "
                      f"readers: {sum(r.queries for r in readers)} checked answers",
                      file=sys.stderr)
                for run in (quiet, busy):
                    self.assertLessEqual(run["lost"], max(2, LOST_BOUND * run["sent"]),
                                         run["output"])
                self.assertGreater(updates, 200, "the storm did not get going")
                self.assertEqual(storm.errors + pw.failed, 0)
                self.assertGreater(pw.acked, 20)
                for r in readers:
                    self.assertGreater(r.queries, 100)
                    self.assertEqual(r.torn, 0, f"half-applied change seen: {r.problems}")
                    self.assertEqual(r.backwards, 0, "SOA serial went backwards")
                    self.assertLessEqual(r.timeouts, 2)
                # Every storm ack is served afterwards.
                for owner in list(storm.acked)[:200]:
                    res = t.dig(host, port, owner, "A")
                    self.assertEqual([x.rdata for x in res.answer], [storm.acked[owner]])
            finally:
                dm.stop()
                dm.cleanup()


if __name__ == "__main__":
    unittest.main()
