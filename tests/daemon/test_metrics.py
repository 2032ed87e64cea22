#!/usr/bin/env python3
# GET /metrics against a running ddnsd: the text parses as Prometheus
# exposition format (a strict parser below), and the counters move after
# dig queries (UDP and TCP), RFC 2136 updates with nsupdate (a DHCP key and
# a refused one), a DynDNS2 update and HTTP requests. Access: allowed
# networks read without credentials, other clients need an admin (Basic,
# 401/403 otherwise), and metrics.listen serves /metrics alone.
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402
import dyndnsutil as u  # noqa: E402
from opsutil import keygen  # noqa: E402

ADMIN = ("root", "root-password-1")
ALICE = ("alice", "alice-password-1")

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}[text]
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", text):
        raise ValueError(f"bad sample value {text!r}")
    return float(text)


def parse_exposition(text):
    """Strict Prometheus text format 0.0.4 parser: returns {family: {"type",
    "help", "samples": {(name, ((label, value), ...)): float}}}. Raises
    ValueError on anything a scraper would reject or that breaks the rules
    we follow (HELP then TYPE once per family, families not interleaved,
    counters named *_total, histogram buckets cumulative with +Inf ==
    _count)."""
    if not text.endswith("\n"):
        raise ValueError("exposition must end with a newline")
    fams, current = {}, None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            if not NAME_RE.match(name) or name in fams:
                raise ValueError(f"{where}: bad or repeated family")
            if re.search(r"\\[^\\n]", help_text):
                raise ValueError(f"{where}: bad escape in HELP")
            fams[name] = {"help": help_text, "type": None, "samples": {}}
            current = name
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            if name != current or fams[name]["type"] is not None:
                raise ValueError(f"{where}: TYPE not right after its HELP")
            if typ not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError(f"{where}: unknown type")
            if typ == "counter" and not name.endswith("_total"):
                raise ValueError(f"{where}: counter not named *_total")
            fams[name]["type"] = typ
            continue
        if line.startswith("#") or not line:
            raise ValueError(f"{where}: unexpected comment or blank line")
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if not m:
            raise ValueError(f"{where}: not a sample line")
        name, labels_text, value = m.group(1), m.group(2), m.group(3)
        labels = []
        if labels_text:
            body = labels_text[1:-1]
            pos = 0
            while pos < len(body):
                lm = LABEL_RE.match(body, pos)
                if not lm:
                    raise ValueError(f"{where}: bad label at {body[pos:]!r}")
                labels.append((lm.group(1), lm.group(2)))
                pos = lm.end()
                if pos < len(body):
                    if body[pos] != ",":
                        raise ValueError(f"{where}: labels not comma-separated")
                    pos += 1
        fam = fams.get(current)
        if fam is None or fam["type"] is None:
            raise ValueError(f"{where}: sample outside a typed family")
        allowed = {current}
        if fam["type"] == "histogram":
            allowed = {current + s for s in ("_bucket", "_sum", "_count")}
        if name not in allowed:
            raise ValueError(f"{where}: sample of another family than {current}")
        key = (name, tuple(labels))
        if key in fam["samples"]:
            raise ValueError(f"{where}: repeated series")
        fam["samples"][key] = parse_value(value)
    for name, fam in fams.items():
        if fam["type"] is None:
            raise ValueError(f"{name}: HELP without TYPE")
        if fam["type"] == "histogram":
            buckets = [(dict(k[1])["le"], v) for k, v in fam["samples"].items()
                       if k[0] == name + "_bucket"]
            if not buckets or buckets[-1][0] != "+Inf":
                raise ValueError(f"{name}: no +Inf bucket last")
            les = [parse_value(le) for le, _ in buckets]
            counts = [v for _, v in buckets]
            if les != sorted(les) or counts != sorted(counts):
                raise ValueError(f"{name}: buckets not increasing")
            if counts[-1] != fam["samples"][(name + "_count", ())]:
                raise ValueError(f"{name}: +Inf bucket differs from _count")
    return fams


def value(fams, family, sample=None, **labels):
    """The sample's value (0 when absent), or the sum over a family's
    samples matching `labels`."""
    fam = fams[family]
    name = sample or family
    total = 0.0
    for (n, ls), v in fam["samples"].items():
        d = dict(ls)
        if n == name and all(d.get(k) == w for k, w in labels.items()):
            total += v
    return total


class ParserTest(unittest.TestCase):
    """The parser itself rejects what it must (else the daemon test proves nothing)."""

    def test_rejects(self):
        good = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"v\"} 1\n"
        parse_exposition(good)
        for bad in [good[:-1],                                      # no final newline
                    good.replace("a_total{", "b_total{"),          # sample of no family
                    good.replace('"v"', '"v\\x"'),                 # bad escape
                    good.replace(" 1\n", " one\n"),                # bad value
                    "# HELP a x\n# TYPE a counter\na 1\n",         # counter without _total
                    good + 'a_total{l="v"} 2\n',                   # repeated series
                    "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"]:  # not cumulative
            with self.assertRaises(ValueError, msg=bad):
                parse_exposition(bad)


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("curl", "dig", "nsupdate"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} is needed")
        cls.tmp = tempfile.TemporaryDirectory(prefix="ddns-metrics-")
        d = cls.tmp.name
        cls.kea = os.path.join(d, "kea.key")
        keygen("kea", cls.kea)
        cls.other = os.path.join(d, "other.key")
        keygen("other", cls.other)
        cls.mport = u.http_port()
        # Only 127.0.0.1 reads without credentials: 127.0.0.2 plays a
        # remote client (the default allows all of 127.0.0.0/8 and ::1).
        config = ("metrics:\n  allow: [127.0.0.1]\n  dhcp-keys: [kea]\n"
                  f"  listen: \"127.0.0.1:{cls.mport}\"\n")
        cls.dd = u.DyndnsDaemon(d, config=config, extra_args=[
            "--key", cls.kea, "--key", cls.other, "--allow-update", "example.test=kea"])
        cls.dd.start()
        u.add_user(cls.dd.data, *ADMIN, admin=True)
        u.add_user(cls.dd.data, *ALICE)
        u.add_host(cls.dd.data, "home.example.test", "alice")

    @classmethod
    def tearDownClass(cls):
        cls.dd.stop()
        cls.tmp.cleanup()

    def scrape(self, port=None, **kw):
        r = u.curl(port or self.dd.http, "/metrics", **kw)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
        return parse_exposition(r.body)

    def nsupdate(self, key, line):
        script = (f"server 127.0.0.1 {self.dd.dns}\nzone example.test\n{line}\nsend\n")
        return subprocess.run(["nsupdate", "-t", "5", "-k", key], input=script,
                              capture_output=True, text=True, timeout=20)

    def test_counters_move(self):
        before = self.scrape()
        for name, qtype in [("www.example.test", "A"), ("www.example.test", "AAAA"),
                            ("nothere.example.test", "A"), ("example.test", "SOA")]:
            self.assertTrue(t.dig("127.0.0.1", self.dd.dns, name, qtype).ok)
        self.assertTrue(t.dig("127.0.0.1", self.dd.dns, "www.example.test", "TXT", tcp=True).ok)
        p = self.nsupdate(self.kea, "update add dhcp1.example.test 300 A 192.0.2.77")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = self.nsupdate(self.other, "update add x.example.test 300 A 192.0.2.78")
        self.assertNotEqual(p.returncode, 0)  # REFUSED: key not allowed
        r = u.curl(self.dd.http, "/nic/update?hostname=home.example.test&myip=192.0.2.90",
                   user=ALICE[0], password=ALICE[1])
        self.assertEqual(r.body, "good 192.0.2.90\n")
        after = self.scrape()

        def moved(family, **labels):
            return value(after, family, **labels) - value(before, family, **labels)

        self.assertGreaterEqual(moved("ddns_dns_queries_total", transport="udp"), 4)
        self.assertGreaterEqual(moved("ddns_dns_queries_total", transport="tcp"), 1)
        self.assertGreaterEqual(moved("ddns_dns_queries_by_type_total", type="AAAA"), 1)
        self.assertGreaterEqual(moved("ddns_dns_queries_by_type_total", type="TXT"), 1)
        self.assertGreaterEqual(moved("ddns_dns_responses_total", rcode="NXDOMAIN"), 1)
        self.assertGreaterEqual(moved("ddns_dns_answer_latency_seconds",
                                      sample="ddns_dns_answer_latency_seconds_count"), 5)
        self.assertEqual(moved("ddns_updates_total", source="dhcp", result="accepted"), 1)
        self.assertEqual(moved("ddns_updates_total", source="rfc2136", result="refused"), 1)
        self.assertEqual(moved("ddns_updates_total", source="dyndns2", result="accepted"), 1)
        self.assertGreaterEqual(moved("ddns_writer_batch_size",
                                      sample="ddns_writer_batch_size_count"), 2)
        self.assertGreaterEqual(moved("ddns_writer_commit_seconds",
                                      sample="ddns_writer_commit_seconds_count"), 2)
        self.assertGreaterEqual(moved("ddns_http_requests_total", code="200"), 2)
        self.assertEqual(moved("ddns_zone_serial", zone="example.test."), 2)
        self.assertGreater(value(after, "ddns_zone_records", zone="example.test."), 5)
        self.assertGreater(value(after, "ddns_resident_memory_bytes"), 1 << 20)
        self.assertIn("ddns_rate_limited_total", after)

    def test_remote_clients_need_an_admin(self):
        remote = {"interface": "127.0.0.2"}
        r = u.curl(self.dd.http, "/metrics", **remote)
        self.assertEqual(r.status, 401)
        self.assertIn("basic", r.headers.get("www-authenticate", "").lower())
        r = u.curl(self.dd.http, "/metrics", user=ALICE[0], password=ALICE[1], **remote)
        self.assertEqual(r.status, 403)
        before = self.scrape()
        r = u.curl(self.dd.http, "/metrics", user=ADMIN[0], password="wrong", **remote)
        self.assertEqual(r.status, 401)
        after = self.scrape(user=ADMIN[0], password=ADMIN[1], **remote)
        self.assertEqual(value(after, "ddns_login_failures_total")
                         - value(before, "ddns_login_failures_total"), 1)

    def test_own_listener_serves_metrics_only(self):
        fams = self.scrape(port=self.mport)
        self.assertIn("ddns_dns_queries_total", fams)
        r = u.curl(self.mport, "/nic/update?hostname=home.example.test",
                   user=ALICE[0], password=ALICE[1])
        self.assertEqual(r.status, 404)
        self.assertEqual(u.curl(self.mport, "/metrics", interface="127.0.0.2").status, 401)


class MetricsConfigTest(unittest.TestCase):
    def test_bad_value_refuses_to_start(self):
        with tempfile.TemporaryDirectory(prefix="ddns-metrics-conf-") as d:
            zone = t.write_file(os.path.join(d, "e.zone"), t.example_zone())
            dd = t.Ddnsd(config=("server:\n  listen: 127.0.0.1:0\nzones:\n"
                                 f"  - {{name: example.test, file: {zone}}}\n"
                                 "metrics:\n  allow: [not-a-network]\n"),
                         workdir=d).spawn()
            code = dd.wait(timeout=10)
            dd.stop()
            self.assertNotIn(code, (0, None))
            self.assertIn("metrics.allow: 'not-a-network'", dd.log())


if __name__ == "__main__":
    unittest.main()
