# Shared helpers for daemon tests: start ddnsd on loopback ports, wait until
# it answers, stop it by PID, and query it with dig/kdig or raw sockets.
# Stdlib only. Imported by every tests/daemon/test_*.py; keep the API stable.
#
# API (stable):
#   BUILD_DIR, SOURCE_DIR          from env DDNS_BUILD_DIR / DDNS_SOURCE_DIR
#   binary(name) -> path           a program in BUILD_DIR (e.g. "ddnsd")
#   free_port(family=AF_INET, host=None) -> int   a port free for UDP and TCP
#   have_ipv6() -> bool            ::1 usable on this host
#   Ddnsd(zones=None, config=None, listen=None, threads=2, args=(), workdir=None)
#       zones:  {origin: zone_file_path}  -> --zone origin=path
#       config: YAML text (written to workdir/ddnsd.yaml) -> --config
#       listen: list of "host:port" / "[v6]:port"; default 127.0.0.1:0 and
#               (if available) [::1]:0: ddnsd picks free ports, start() reads
#               them from its log ("listening on ADDR ...")
#       .start(timeout=10) -> self     waits until every listener answers
#       .stop(sig=SIGTERM, timeout=10) -> exit code (kills after timeout)
#       .reload()                      SIGHUP
#       .alive() -> bool ; .pid ; .log() -> stderr text so far
#       .host4/.port4, .host6/.port6 (None when not listening there),
#       .listeners [(host, port)]    all set by start()
#       .http_listeners [(host, port)], .http_port (first one or None): the
#               "http: listening on ADDR" lines (--http 127.0.0.1:0)
#       usable as a context manager (start on enter, stop on exit)
#   dig(server, port, qname, qtype="A", tcp=False, args=(), tool="dig",
#       timeout=3) -> DigResult    (kdig(...) = dig(..., tool="kdig"))
#   DigResult: .ok (got an answer) .status ("NOERROR"...) .id .flags (set)
#       .answer/.authority/.additional: [RR(name, ttl, rclass, rtype, rdata)]
#       .edns (dict or None) .output (raw text) .rc (tool exit code)
#   make_query(qname, qtype="A", qid=None, rd=False, edns=None, qclass=1)
#       -> bytes  (edns = UDP size to add an OPT, or None)
#   encode_name(text) -> bytes ; qtype_code(str|int) -> int
#   parse_header(data) -> dict(id, flags, qr, aa, tc, rd, opcode, rcode,
#       qdcount, ancount, nscount, arcount) or None when shorter than 12
#   udp_exchange(host, port, payload, timeout=2) -> bytes or None
#   tcp_exchange(host, port, payloads, timeout=3, one_write=True)
#       -> [bytes]  sends several length-framed queries (in one write when
#       one_write) and reads as many framed responses (fewer on close/timeout)
#   wait_until(pred, timeout, interval=0.05) -> bool
#   example_zone(origin="example.test", serial=1, extra="") -> zone text
#   write_file(path, text) -> path  (write + rename)
import os
import random
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections import namedtuple

BUILD_DIR = os.path.abspath(os.environ.get("DDNS_BUILD_DIR", "build"))
SOURCE_DIR = os.path.abspath(
    os.environ.get("DDNS_SOURCE_DIR",
                   os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))


def binary(name):
    for sub in ("src/cli", "bin", ""):
        p = os.path.join(BUILD_DIR, sub, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise FileNotFoundError(f"{name} not found under {BUILD_DIR} (set DDNS_BUILD_DIR)")


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_port(family=socket.AF_INET, host=None):
    """A port currently free for both UDP and TCP on the loopback address."""
    host = host or ("127.0.0.1" if family == socket.AF_INET else "::1")
    for _ in range(200):
        with socket.socket(family, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            try:
                with socket.socket(family, socket.SOCK_STREAM) as t:
                    t.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port found")


def wait_until(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# ---------------------------------------------------------------- wire ----

_QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15,
           "TXT": 16, "AAAA": 28, "SRV": 33, "NAPTR": 35, "DS": 43, "RRSIG": 46,
           "DNSKEY": 48, "CAA": 257, "ANY": 255, "AXFR": 252, "IXFR": 251,
           "OPT": 41, "SVCB": 64, "HTTPS": 65, "TSIG": 250}


def qtype_code(t):
    if isinstance(t, int):
        return t
    t = t.upper()
    if t.startswith("TYPE"):
        return int(t[4:])
    return _QTYPES[t]


def encode_name(text):
    if text in (".", ""):
        return b"\x00"
    out = b""
    for label in text.rstrip(".").split("."):
        b = label.encode()
        out += bytes([len(b)]) + b
    return out + b"\x00"


def make_query(qname, qtype="A", qid=None, rd=False, edns=None, qclass=1):
    qid = random.randrange(65536) if qid is None else qid
    flags = 0x0100 if rd else 0
    ar = 1 if edns else 0
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, ar)
    msg += encode_name(qname) + struct.pack("!HH", qtype_code(qtype), qclass)
    if edns:
        msg += b"\x00" + struct.pack("!HHIH", 41, edns, 0, 0)
    return msg


def parse_header(data):
    if data is None or len(data) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    return {"id": qid, "flags": flags, "qr": bool(flags & 0x8000),
            "opcode": (flags >> 11) & 0xF, "aa": bool(flags & 0x0400),
            "tc": bool(flags & 0x0200), "rd": bool(flags & 0x0100),
            "rcode": flags & 0xF, "qdcount": qd, "ancount": an,
            "nscount": ns, "arcount": ar}


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_exchange(host, port, payload, timeout=2):
    with socket.socket(_family(host), socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (host, port))
        try:
            data, _ = s.recvfrom(65535)
            return data
        except (socket.timeout, ConnectionRefusedError):
            return None


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_exchange(host, port, payloads, timeout=3, one_write=True):
    if isinstance(payloads, (bytes, bytearray)):
        payloads = [payloads]
    out = []
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        framed = [struct.pack("!H", len(p)) + p for p in payloads]
        if one_write:
            s.sendall(b"".join(framed))
        else:
            for f in framed:
                s.sendall(f)
        try:
            for _ in payloads:
                ln = _recv_exact(s, 2)
                if ln is None:
                    break
                body = _recv_exact(s, struct.unpack("!H", ln)[0])
                if body is None:
                    break
                out.append(body)
        except (socket.timeout, ConnectionResetError):
            pass
    return out


# ------------------------------------------------------------ dig/kdig ----

RR = namedtuple("RR", "name ttl rclass rtype rdata")


class DigResult:
    def __init__(self, output, rc):
        self.output = output
        self.rc = rc
        self.status = None
        self.id = None
        self.flags = set()
        self.answer, self.authority, self.additional = [], [], []
        self.edns = None
        self._parse()

    @property
    def ok(self):
        return self.status is not None

    def _parse(self):
        # dig:  ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1"
        # kdig: ";; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: 1"
        m = re.search(r"->>HEADER<<- opcode: (\w+)[,;] status: (\w+)[,;] id: (\d+)", self.output)
        if m:
            self.opcode, self.status, self.id = m.group(1), m.group(2), int(m.group(3))
        m = re.search(r";; [Ff]lags:([a-z ]*);", self.output)
        if m:
            self.flags = set(m.group(1).split())
        m = re.search(r"EDNS: version: (\d+), flags:([a-z ]*); udp: (\d+)", self.output)
        if m:
            self.edns = {"version": int(m.group(1)), "flags": set(m.group(2).split()),
                         "udp": int(m.group(3))}
        m = re.search(r";; Version: (\d+); flags:([a-z ]*); UDP size: (\d+) B", self.output)
        if m:
            self.edns = {"version": int(m.group(1)), "flags": set(m.group(2).split()),
                         "udp": int(m.group(3))}
        section = None
        for line in self.output.splitlines():
            s = line.strip()
            if s.startswith(";; ANSWER SECTION"):
                section = self.answer
                continue
            if s.startswith(";; AUTHORITY SECTION"):
                section = self.authority
                continue
            if s.startswith(";; ADDITIONAL SECTION"):
                section = self.additional
                continue
            if not s:
                section = None
                continue
            if s.startswith(";"):
                continue
            if section is None:
                continue
            parts = s.split(None, 4)
            if len(parts) < 4:
                continue
            if len(parts) == 4:
                parts.append("")
            name, ttl, rclass, rtype, rdata = parts
            try:
                ttl = int(ttl)
            except ValueError:
                continue
            section.append(RR(name.lower(), ttl, rclass, rtype, rdata))

    def rdatas(self, rtype=None, section="answer"):
        rrs = getattr(self, section)
        return sorted(r.rdata for r in rrs if rtype is None or r.rtype == rtype)

    def __repr__(self):
        return f"DigResult(status={self.status}, flags={sorted(self.flags)}, answer={self.answer})"


def dig(server, port, qname, qtype="A", tcp=False, args=(), tool="dig", timeout=3):
    cmd = [tool, f"@{server}", "-p", str(port), qname, str(qtype)]
    if tool == "dig":
        cmd += ["+norec", "+tries=1", f"+time={timeout}", "-4" if ":" not in server else "-6"]
        if tcp:
            cmd.append("+tcp")
    else:
        cmd += ["+norec", "+retry=0", f"+time={timeout}"]
        if tcp:
            cmd.append("+tcp")
    cmd += list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout * 3 + 10, text=True, errors="replace")
    return DigResult(p.stdout, p.returncode)


def kdig(server, port, qname, qtype="A", tcp=False, args=(), timeout=3):
    return dig(server, port, qname, qtype, tcp=tcp, args=args, tool="kdig", timeout=timeout)


# --------------------------------------------------------------- ddnsd ----

def example_zone(origin="example.test", serial=1, extra=""):
    """A small valid zone: SOA, NS, glue, A/AAAA (two A at www), MX, TXT,
    CNAME, a delegation (sub) with glue, a wildcard (*.wild)."""
    return f"""$ORIGIN {origin}.
$TTL 3600
@       IN SOA ns1 hostmaster {serial} 7200 3600 1209600 300
@       IN NS  ns1
@       IN NS  ns2
@       IN MX  10 mail
ns1     IN A   192.0.2.1
ns2     IN A   192.0.2.2
ns2     IN AAAA 2001:db8::2
www     IN A   192.0.2.10
www     IN A   192.0.2.11
www     IN AAAA 2001:db8::10
mail    IN A   192.0.2.25
alias   IN CNAME www
txt     IN TXT "hello world" "second string"
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.53
*.wild  IN A   192.0.2.99
{extra}
"""


def write_file(path, text):
    """Writes text atomically enough for tests (write then rename), so a
    reload never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


class Ddnsd:
    def __init__(self, zones=None, config=None, listen=None, threads=2, args=(),
                 workdir=None):
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ddnsd-test-")
            workdir = self._tmp.name
        self.workdir = workdir
        self.zones = dict(zones or {})
        self.config = config
        self.threads = threads
        self.extra_args = list(args)
        self.proc = None
        self.pid = None
        self.logpath = os.path.join(workdir, "ddnsd.log")
        self.host4 = self.port4 = self.host6 = self.port6 = None
        if listen is None and config is None:
            # Port 0: ddnsd picks free ports (no race) and logs them.
            listen = ["127.0.0.1:0"] + (["[::1]:0"] if have_ipv6() else [])
        self.listen = list(listen or [])
        self.listeners = []  # [(host, port)] as logged by ddnsd

    def _note_listen(self, spec):
        if spec.startswith("["):
            host, port = spec[1:].split("]:")
            if self.host6 is None:
                self.host6, self.port6 = host, int(port)
        else:
            host, port = spec.rsplit(":", 1)
            if self.host4 is None:
                self.host4, self.port4 = host, int(port)
        self.listeners.append((host, int(port)))

    def command(self):
        cmd = [binary("ddnsd")]
        if self.config is not None:
            path = os.path.join(self.workdir, "ddnsd.yaml")
            with open(path, "w") as f:
                f.write(self.config)
            cmd += ["--config", path]
        for spec in self.listen:
            cmd += ["--listen", spec]
        for origin, path in self.zones.items():
            cmd += ["--zone", f"{origin}={path}"]
        if self.threads is not None and self.config is None:
            cmd += ["--threads", str(self.threads)]
        if not any(a.startswith("--log-level") for a in self.extra_args):
            cmd += ["--log-level", "info"]  # start() reads the info lines
        return cmd + self.extra_args

    def spawn(self):
        """Starts the process without waiting (for tests expecting failure)."""
        self._log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        self.pid = self.proc.pid
        return self

    def _answers(self, host, port):
        q = make_query(".", "SOA", qid=0x5a5a)
        r = udp_exchange(host, port, q, timeout=0.2)
        if not r or parse_header(r)["id"] != 0x5a5a:
            return False
        try:
            return len(tcp_exchange(host, port, q, timeout=0.5)) == 1
        except OSError:
            return False

    def _started(self):
        return "ddnsd started" in self.log()

    def start(self, timeout=10):
        self.spawn()
        deadline = time.monotonic() + timeout
        while not self._started():
            if self.proc.poll() is not None:
                raise RuntimeError(f"ddnsd exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise RuntimeError(f"ddnsd did not start within {timeout}s:\n{self.log()}")
            time.sleep(0.02)
        self.host4 = self.port4 = self.host6 = self.port6 = None
        self.listeners = []
        self.http_listeners = []
        for m in re.finditer(r"(http: )?listening on (\S+) ", self.log()):
            if m.group(1):
                host, _, port = m.group(2).rpartition(":")
                self.http_listeners.append((host.strip("[]"), int(port)))
            else:
                self._note_listen(m.group(2))
        self.http_port = self.http_listeners[0][1] if self.http_listeners else None
        for host, port in self.listeners:
            while not self._answers(host, port):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"ddnsd exited with {self.proc.returncode}:\n{self.log()}")
                if time.monotonic() > deadline:
                    self.stop(signal.SIGKILL)
                    raise RuntimeError(f"ddnsd did not answer within {timeout}s:\n{self.log()}")
                time.sleep(0.05)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def reload(self):
        os.kill(self.pid, signal.SIGHUP)

    def wait(self, timeout=10):
        """Waits for exit; returns the exit code or None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def cleanup(self):
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()
        return False
