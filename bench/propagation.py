#!/usr/bin/env python3
# Propagation benchmark (issue 7): a ddnsd primary with NOTIFY to three
# secondaries (ddnsd, knotd, named); N updates one at a time, each a DynDNS2
# /nic/update answered `good` (default, over one keep-alive connection with
# the host's token) or a TSIG-signed RFC 2136 UPDATE (--via rfc2136); after
# each, every secondary is polled over UDP until it answers the new address.
# Prints median / p99 ms per secondary. Then: AXFR of a large zone (default 1M records) to a ddnsd
# secondary vs a knotd secondary (wall time from secondary start to serving).
# Usage: bench/propagation.py [--updates 300] [--via dyndns2|rfc2136]
#        [--axfr-records 1000000] [--skip-axfr]
#        (env DDNS_BUILD_DIR = build dir with ddnsd/ddnsctl)
import argparse
import base64
import hashlib
import hmac
import http.client
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "daemon"))
import ddnstest as dt  # noqa: E402
import dyndnsutil as du  # noqa: E402
import secondaryutil as su  # noqa: E402

H = "127.0.0.1"


def update_msg(qid, zone, owner, addr, key_name, secret):
    hdr = struct.pack(">HHHHHH", qid, 5 << 11, 1, 0, 2, 0)
    body = dt.encode_name(zone) + struct.pack(">HH", 6, 1)
    # RFC 2136 §2.5.2 delete the RRset, §2.5.1 add the new one.
    body += dt.encode_name(owner) + struct.pack(">HHIH", 1, 255, 0, 0)
    body += dt.encode_name(owner) + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
    msg = hdr + body
    now = int(time.time())
    kn = dt.encode_name(key_name)
    alg = dt.encode_name("hmac-sha256")
    tvars = struct.pack(">HIH", now >> 32, now & 0xFFFFFFFF, 300)
    variables = kn + struct.pack(">HI", 255, 0) + alg + tvars + struct.pack(">HH", 0, 0)
    mac = hmac.new(secret, msg + variables, hashlib.sha256).digest()
    rdata = alg + tvars + struct.pack(">H", len(mac)) + mac + struct.pack(">HHH", qid, 0, 0)
    tsig = kn + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
    hdr = struct.pack(">HHHHHH", qid, 5 << 11, 1, 0, 2, 1)
    return hdr + body + tsig


def a_answer(data):
    """First A rdata of a response, as text, or None."""
    h = dt.parse_header(data)
    if not h or h["rcode"] != 0 or h["ancount"] == 0:
        return None
    pos = 12

    def skip(p):
        while True:
            ln = data[p]
            if ln == 0:
                return p + 1
            if ln & 0xC0 == 0xC0:
                return p + 2
            p += 1 + ln
    pos = skip(pos) + 4
    for _ in range(h["ancount"]):
        pos = skip(pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntoa(data[pos:pos + 4])
        pos += rdlen
    return None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class NicUpdater:
    """DynDNS2 updates of one host over a single keep-alive HTTP connection,
    as a router or ddclient would send them (host name + token, Basic)."""

    def __init__(self, port, host, token):
        self.host = host
        self.conn = http.client.HTTPConnection(H, port, timeout=10)
        cred = base64.b64encode(f"{host}:{token}".encode()).decode()
        self.headers = {"Authorization": f"Basic {cred}", "User-Agent": "ddns-bench/1.0"}

    def __call__(self, addr):
        self.conn.request("GET", f"/nic/update?hostname={self.host}&myip={addr}",
                          headers=self.headers)
        r = self.conn.getresponse()
        body = r.read().decode().strip()
        if r.status != 200 or body != f"good {addr}":
            raise RuntimeError(f"/nic/update {addr}: HTTP {r.status} {body!r}")


def propagation(w, n_updates, via):
    secret_raw = os.urandom(32)
    secret = base64.b64encode(secret_raw).decode()
    keyfile = dt.write_file(os.path.join(w, "upd.key"), su.make_key("upd", secret)[0])
    zf = dt.write_file(os.path.join(w, "prop.test.zone"), su.zone_text("prop.test", serial=1))
    pport, dport, hport = dt.free_port(), dt.free_port(), du.http_port()
    pdata = os.path.join(w, "p", "data")
    kw, nw = os.path.join(w, "knot"), os.path.join(w, "named")
    os.makedirs(kw)
    os.makedirs(nw)
    knot = su.Knotd(kw, [dict(origin="prop.test", file=os.path.join(kw, "prop.zone"),
                              primary_port=pport)])
    named = su.Named(nw, [dict(origin="prop.test", file=os.path.join(nw, "prop.zone"),
                               primary_port=pport)])
    primary = du.HttpDdnsd(zones={"prop.test": zf}, listen=[f"{H}:{pport}"],
                           workdir=os.path.join(w, "p"),
                       args=["--data-dir", pdata, "--key", keyfile,
                             "--http", f"{H}:{hport}", "--ddns-zone", "prop.test",
                             "--allow-update", "prop.test=upd",
                             "--allow-transfer", f"prop.test={H}",
                             "--notify", f"prop.test={H}:{dport}",
                             "--notify", f"prop.test={H}:{knot.port}",
                             "--notify", f"prop.test={H}:{named.port}"])
    os.makedirs(os.path.join(w, "p"))
    os.makedirs(os.path.join(w, "s"))
    secondary = dt.Ddnsd(listen=[f"{H}:{dport}"], workdir=os.path.join(w, "s"),
                         args=["--data-dir", os.path.join(w, "s", "data"),
                               "--secondary", f"prop.test={H}:{pport}"])
    primary.http_ports = (hport,)
    procs = []
    try:
        primary.start(timeout=20)
        procs.append(primary)
        if via == "dyndns2":
            if not du.wait_http(hport, 10, primary.proc):
                raise RuntimeError("primary's HTTP listener is not up")
            du.add_user(pdata, "bench", "bench-password")
            nic = NicUpdater(hport, "h.prop.test", du.add_host(pdata, "h.prop.test", "bench"))
        secondary.start(timeout=20)
        procs.append(secondary)
        knot.start()
        procs.append(knot)
        named.start()
        procs.append(named)
        secs = {"ddnsd": dport, "knotd": knot.port, "named": named.port}
        for name, port in secs.items():
            if su.wait_serial(H, port, "prop.test", 1, 30) is None:
                raise RuntimeError(f"{name} secondary never loaded prop.test")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(2)
        qs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        qs.setblocking(False)
        lat = {k: [] for k in secs}
        missed = {k: 0 for k in secs}
        query = dt.make_query("h.prop.test.", "A", qid=0x4242)
        for i in range(n_updates):
            addr = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
            if via == "dyndns2":
                nic(addr)
            else:
                sock.sendto(update_msg(i & 0xFFFF, "prop.test", "h.prop.test", addr, "upd",
                                       secret_raw), (H, pport))
                resp = sock.recv(4096)
                h = dt.parse_header(resp)
                if h["rcode"] != 0:
                    raise RuntimeError(f"update {i} rcode {h['rcode']}")
            t0 = time.perf_counter()   # from the `good` / NOERROR
            pending = dict(secs)
            deadline = t0 + 10
            while pending and time.perf_counter() < deadline:
                for name, port in list(pending.items()):
                    qs.sendto(query, (H, port))
                end = time.perf_counter() + 0.002
                while time.perf_counter() < end and pending:
                    try:
                        data, src = qs.recvfrom(4096)
                    except BlockingIOError:
                        continue
                    for name, port in list(pending.items()):
                        if src[1] == port and a_answer(data) == addr:
                            lat[name].append((time.perf_counter() - t0) * 1000.0)
                            del pending[name]
            for name in pending:
                missed[name] += 1
        how = "DynDNS2 /nic/update (good)" if via == "dyndns2" else "TSIG RFC 2136 UPDATE"
        print(f"propagation: {n_updates} updates, ddnsd primary, {how}, UDP polling")
        for name in secs:
            xs = lat[name]
            if xs:
                print(f"  {name:6s} median {statistics.median(xs):7.2f} ms  p99 {pct(xs, 99):7.2f} ms"
                      f"  max {max(xs):7.2f} ms  (n={len(xs)}, missed={missed[name]})")
            else:
                print(f"  {name:6s} no update arrived (missed={missed[name]})")
    finally:
        for p in reversed(procs):
            p.stop()


def axfr_bench(w, records):
    zf = dt.write_file(os.path.join(w, "big.test.zone"),
                       su.zone_text("big.test", serial=1, hosts=records))
    pport = dt.free_port()
    os.makedirs(os.path.join(w, "bp"))
    primary = dt.Ddnsd(zones={"big.test": zf}, listen=[f"{H}:{pport}"], workdir=os.path.join(w, "bp"),
                       args=["--allow-transfer", f"big.test={H}"])
    primary.start(timeout=120)
    try:
        print(f"AXFR of {records + 4} records from a ddnsd primary:")
        os.makedirs(os.path.join(w, "bs"))
        t0 = time.monotonic()
        sec = dt.Ddnsd(listen=[f"{H}:0"], workdir=os.path.join(w, "bs"),
                       args=["--data-dir", os.path.join(w, "bs", "data"),
                             "--secondary", f"big.test={H}:{pport}"]).start(timeout=60)
        took = su.wait_serial(H, sec.port4, "big.test", 1, 300)
        total = time.monotonic() - t0
        m = re.findall(r"AXFR from .* (\d+) ms\)", sec.log())
        print(f"  ddnsd secondary: serving after {total:.2f} s"
              f" (transfer+store+build {m[-1] if m else '?'} ms)" if took is not None else
              "  ddnsd secondary: FAILED")
        sec.stop()
        kw = os.path.join(w, "bk")
        os.makedirs(kw)
        knot = su.Knotd(kw, [dict(origin="big.test", file=os.path.join(kw, "big.zone"),
                                  primary_port=pport)])
        t0 = time.monotonic()
        knot.start(timeout=60)
        took = su.wait_serial(H, knot.port, "big.test", 1, 300)
        total = time.monotonic() - t0
        print(f"  knotd secondary: serving after {total:.2f} s" if took is not None else
              "  knotd secondary: FAILED")
        knot.stop()
    finally:
        primary.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=300)
    ap.add_argument("--axfr-records", type=int, default=1000000)
    ap.add_argument("--via", choices=("dyndns2", "rfc2136"), default="dyndns2")
    ap.add_argument("--skip-axfr", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ddns-prop-") as w:
        if a.updates > 0:
            os.makedirs(os.path.join(w, "prop"))
            propagation(os.path.join(w, "prop"), a.updates, a.via)
        if not a.skip_axfr:
            os.makedirs(os.path.join(w, "axfr"))
            axfr_bench(os.path.join(w, "axfr"), a.axfr_records)


if __name__ == "__main__":
    main()
