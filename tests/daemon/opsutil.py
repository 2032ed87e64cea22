# Helpers for the update-load daemon tests (crash, storm, ddnsctl store):
# TSIG-signed RFC 2136 UPDATE messages built with the stdlib, and a storm of
# concurrent clients that each send one update, wait for its reply, then
# send the next, recording which ones were acknowledged with NOERROR.
#
# API:
#   keygen(name, path) -> secret (base64 text)   via `ddnsctl keygen`
#   signed_update(zone, adds, key_name, secret_b64, qid) -> bytes
#       adds: [(owner, rtype_code, ttl, rdata_bytes[, rclass])]; hmac-sha256,
#       signed now; rclass 255 with ttl 0 and b"" = delete the RRset (RFC 2136 §2.5.2)
#   Storm(host, port, zone, key_name, secret, clients=4, protos=("udp","tcp"),
#         prefix="s", timeout=1.0)
#       .start() ; .stop() ; .join(timeout)
#       .acked -> {owner text (no trailing dot): "192.0.2.x"/"198.51.100.x"}
#       .sent, .errors (non-NOERROR replies), .timeouts  (counters)
#       each update adds "<prefix><client>-<n>.<zone> 300 A <addr>"
import base64
import hashlib
import hmac
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402

OPCODE_UPDATE = 5


def keygen(name, path):
    out = subprocess.run([t.binary("ddnsctl"), "keygen", name], check=True,
                         capture_output=True, text=True).stdout
    t.write_file(path, out)
    return re.search(r'secret "([^"]+)"', out).group(1)


def signed_update(zone, adds, key_name, secret_b64, qid, time_signed=None):
    """An UPDATE for `zone` adding `adds`, signed per RFC 8945 §4.3."""
    if time_signed is None:
        time_signed = int(time.time())
    body = t.encode_name(zone) + struct.pack(">HH", 6, 1)  # zone section: SOA IN
    for rr in adds:
        owner, rtype, ttl, rdata = rr[:4]
        rclass = rr[4] if len(rr) > 4 else 1  # 255 (ANY) + empty rdata: delete RRset
        body += t.encode_name(owner) + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata
    flags = OPCODE_UPDATE << 11
    hdr = struct.pack(">HHHHHH", qid, flags, 1, 0, len(adds), 0)
    kname = t.encode_name(key_name)
    alg = t.encode_name("hmac-sha256")
    tpart = struct.pack(">HIH", time_signed >> 32, time_signed & 0xFFFFFFFF, 300)
    variables = kname + struct.pack(">HI", 255, 0) + alg + tpart + struct.pack(">HH", 0, 0)
    mac = hmac.new(base64.b64decode(secret_b64), hdr + body + variables, hashlib.sha256).digest()
    rdata = alg + tpart + struct.pack(">H", len(mac)) + mac + struct.pack(">HHH", qid, 0, 0)
    tsig = kname + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
    hdr = struct.pack(">HHHHHH", qid, flags, 1, 0, len(adds), 1)
    return hdr + body + tsig


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


class _Client(threading.Thread):
    def __init__(self, storm, index, proto):
        super().__init__(daemon=True)
        self.storm, self.index, self.proto = storm, index, proto
        self.sock = None

    def _connect(self):
        s = self.storm
        fam = socket.AF_INET6 if ":" in s.host else socket.AF_INET
        if self.proto == "udp":
            self.sock = socket.socket(fam, socket.SOCK_DGRAM)
            self.sock.connect((s.host, s.port))
        else:
            self.sock = socket.create_connection((s.host, s.port), timeout=s.timeout)
        self.sock.settimeout(s.timeout)

    def _exchange(self, msg, qid):
        """The reply's rcode, or None (timeout / connection lost)."""
        try:
            if self.proto == "udp":
                self.sock.send(msg)
                deadline = time.monotonic() + self.storm.timeout
                while time.monotonic() < deadline:
                    r = self.sock.recv(4096)
                    h = t.parse_header(r)
                    if h and h["id"] == qid and h["qr"]:
                        return h["rcode"]
                return None
            self.sock.sendall(struct.pack(">H", len(msg)) + msg)
            ln = struct.unpack(">H", _recv_exact(self.sock, 2))[0]
            r = _recv_exact(self.sock, ln)
            h = t.parse_header(r)
            return h["rcode"] if h and h["id"] == qid else None
        except (OSError, struct.error, TypeError, ValueError):
            return None

    def run(self):
        s = self.storm
        n = 0
        try:
            self._connect()
        except OSError:
            return
        while not s._stop.is_set():
            owner = f"{s.prefix}{self.index}-{n}.{s.zone}"
            addr = bytes([198, 51, 100, (self.index * 37 + n) % 254 + 1])
            qid = (self.index * 7919 + n) & 0xFFFF
            msg = signed_update(s.zone, [(owner, 1, 300, addr)], s.key_name, s.secret, qid)
            with s._lock:
                s.sent += 1
            rc = self._exchange(msg, qid)
            with s._lock:
                if rc == 0:
                    s.acked[owner] = socket.inet_ntoa(addr)
                elif rc is None:
                    s.timeouts += 1
                else:
                    s.errors += 1
            if rc is None:
                # The server is gone (or the packet was lost): keep trying a
                # new socket until stopped, as a real client would.
                try:
                    self.sock.close()
                except OSError:
                    pass
                if s._stop.wait(0.05):
                    break
                try:
                    self._connect()
                except OSError:
                    continue
            n += 1
        try:
            self.sock.close()
        except OSError:
            pass


class Storm:
    def __init__(self, host, port, zone, key_name, secret, clients=4, protos=("udp", "tcp"),
                 prefix="s", timeout=1.0):
        self.host, self.port, self.zone = host, port, zone
        self.key_name, self.secret = key_name, secret
        self.prefix, self.timeout = prefix, timeout
        self.acked = {}
        self.sent = self.errors = self.timeouts = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [_Client(self, i, protos[i % len(protos)]) for i in range(clients)]

    def start(self):
        for th in self._threads:
            th.start()
        return self

    def acked_count(self):
        with self._lock:
            return len(self.acked)

    def stop(self):
        self._stop.set()

    def join(self, timeout=10):
        deadline = time.monotonic() + timeout
        for th in self._threads:
            th.join(max(0.0, deadline - time.monotonic()))
        return not any(th.is_alive() for th in self._threads)


def a_records_in_master(text, zone):
    """{owner without trailing dot: address} of the A records in a master file
    printed by `ddnsctl export` ($ORIGIN zone., relative owners)."""
    out = {}
    origin = zone.rstrip(".") + "."
    for line in text.splitlines():
        if not line or line[0] in ";$":
            continue
        f = line.split()
        if len(f) >= 5 and f[3] == "A":
            owner = f[0]
            if owner == "@":
                owner = origin
            elif not owner.endswith("."):
                owner = owner + "." + origin
            out[owner.rstrip(".").lower()] = f[4]
    return out


def soa_serial_in_master(text):
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 7 and f[3] == "SOA":
            return int(f[6])
    return None
