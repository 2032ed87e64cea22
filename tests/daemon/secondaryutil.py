# Helpers for tests and benchmarks where ddnsd is a secondary: knotd and
# named started as primaries with their own config in a temp dir on free
# loopback ports, stopped by PID; TSIG key files in BIND and Knot form; zone
# text with chosen SOA timers. Stdlib only.
#
# API:
#   make_key(name, secret_b64=None) -> (bind_text, secret_b64)
#   zone_text(origin, serial, refresh, retry, expire, extra="", hosts=0)
#   Knotd(workdir, zones, keys, notify_port=None, notify_key=None, journal=True)
#       zones: [dict(origin=, file=, acl_key=None or key name, notify=bool)]
#       keys:  {name: secret_b64}
#       .start() .stop() .port .update(origin, lines, key=None) via knsupdate
#   Named(workdir, zones, keys, notify_port=None) same shape; .update via nsupdate
#   soa_serial(host, port, origin) -> int or None (plain UDP, no resolver)
#   status(host, port, qname, qtype) -> rcode text or None
import base64
import os
import shutil
import signal
import subprocess
import time

import ddnstest as dt


def make_key(name, secret_b64=None):
    if secret_b64 is None:
        secret_b64 = base64.b64encode(os.urandom(32)).decode()
    text = f'key "{name}" {{\n\talgorithm hmac-sha256;\n\tsecret "{secret_b64}";\n}};\n'
    return text, secret_b64


def zone_text(origin, serial=1, refresh=300, retry=60, expire=86400, extra="", hosts=0):
    lines = [f"$ORIGIN {origin}.", "$TTL 300",
             f"@ SOA ns.{origin}. hostmaster.{origin}. {serial} {refresh} {retry} {expire} 60",
             f"@ NS ns.{origin}.", "ns A 192.0.2.53", "www A 192.0.2.1"]
    for i in range(hosts):
        lines.append(f"h{i} A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}")
    return "\n".join(lines) + "\n" + extra


def _stop_proc(proc, timeout=10):
    if proc and proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)


def _query(host, port, qname, qtype):
    q = dt.make_query(qname, qtype, rd=False)
    return dt.udp_exchange(host, port, q, timeout=0.5)


RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 9: "NOTAUTH"}


def status(host, port, qname, qtype="SOA"):
    r = _query(host, port, qname, qtype)
    if not r:
        return None
    h = dt.parse_header(r)
    return RCODES.get(h["rcode"], str(h["rcode"])) if h else None


def soa_serial(host, port, origin):
    """The SOA serial answered (NOERROR, AA), else None. Parses the wire."""
    r = _query(host, port, origin + ".", "SOA")
    if not r:
        return None
    h = dt.parse_header(r)
    if not h or h["rcode"] != 0 or h["ancount"] < 1:
        return None
    # Skip the question, read the first answer (the SOA); names may be
    # compressed: walk labels / pointers.
    pos = 12

    def skip_name(p):
        while True:
            ln = r[p]
            if ln == 0:
                return p + 1
            if ln & 0xC0 == 0xC0:
                return p + 2
            p += 1 + ln
    pos = skip_name(pos) + 4
    pos = skip_name(pos)
    rtype = int.from_bytes(r[pos:pos + 2], "big")
    rdlen = int.from_bytes(r[pos + 8:pos + 10], "big")
    if rtype != 6:
        return None
    rd_start = pos + 10
    p = skip_name(rd_start)
    p = skip_name(p)
    if p + 4 > rd_start + rdlen:
        return None
    return int.from_bytes(r[p:p + 4], "big")


class Knotd:
    def __init__(self, workdir, zones, keys=None, notify_port=None, notify_key=None, journal=True,
                 port=None):
        self.workdir = workdir
        self.zones = zones
        self.keys = keys or {}
        self.notify_port = notify_port
        self.notify_key = notify_key
        self.journal = journal
        self.port = port or dt.free_port()
        self.proc = None
        self.binary = os.environ.get("KNOTD") or shutil.which("knotd") or "/usr/sbin/knotd"

    @staticmethod
    def available():
        return (shutil.which("knotd") or os.path.exists("/usr/sbin/knotd")) and \
            shutil.which("knsupdate")

    def config(self):
        w = self.workdir
        out = [f"""server:
    rundir: "{w}"
    pidfile: "{w}/knot.pid"
    listen: 127.0.0.1@{self.port}
    udp-workers: 1
    tcp-workers: 2
    background-workers: 2
database:
    storage: "{w}/db"
log:
  - target: stderr
    any: info
"""]
        if self.keys:
            out.append("key:\n")
            for name, secret in self.keys.items():
                out.append(f"  - id: {name}\n    algorithm: hmac-sha256\n    secret: {secret}\n")
        out.append("acl:\n  - id: open\n    address: 127.0.0.1\n    action: [transfer, update]\n"
                   "  - id: upd_only\n    address: 127.0.0.1\n    action: [update]\n")
        for name in self.keys:
            out.append(f"  - id: acl_{name}\n    address: 127.0.0.1\n    key: {name}\n"
                       f"    action: [transfer]\n")
        out.append("  - id: notify_in\n    address: 127.0.0.1\n    action: [notify]\n")
        remotes = []
        if self.notify_port:
            remotes.append(f"  - id: sec\n    address: 127.0.0.1@{self.notify_port}\n" +
                           (f"    key: {self.notify_key}\n" if self.notify_key else ""))
        for z in self.zones:
            if z.get("primary_port"):
                remotes.append(f"  - id: pri{z['primary_port']}\n"
                               f"    address: 127.0.0.1@{z['primary_port']}\n")
        if remotes:
            out.append("remote:\n" + "".join(sorted(set(remotes))))
        jc = "changes" if self.journal else "none"
        out.append(f"""template:
  - id: default
    storage: "{w}"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: {jc}
    serial-policy: increment
zone:
""")
        for z in self.zones:
            acls = f"[acl_{z['acl_key']}, upd_only]" if z.get("acl_key") else "[open]"
            if z.get("primary_port"):
                acls = "[notify_in, open]"
            out.append(f"  - domain: {z['origin']}\n    file: \"{z['file']}\"\n    acl: {acls}\n")
            if z.get("primary_port"):
                out.append(f"    master: pri{z['primary_port']}\n")
            if self.notify_port and z.get("notify", True):
                out.append("    notify: sec\n")
        return "".join(out)

    def start(self, timeout=20):
        w = self.workdir
        os.makedirs(os.path.join(w, "db"), exist_ok=True)
        path = os.path.join(w, "knot.conf")
        with open(path, "w") as f:
            f.write(self.config())
        self.logfile = os.path.join(w, "knot.log")
        self._log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([self.binary, "-c", path], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        origin = self.zones[0]["origin"]
        ok = dt.wait_until(lambda: self.proc.poll() is not None or
                           status("127.0.0.1", self.port, origin) is not None, timeout)
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("knotd did not start:\n" + open(self.logfile).read())
        return self

    def stop(self):
        _stop_proc(self.proc)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def update(self, origin, lines, tool="knsupdate"):
        script = f"server 127.0.0.1 {self.port}\nzone {origin}.\n" + \
            "".join(f"update {ln}\n" for ln in lines) + "send\n"
        r = subprocess.run([tool], input=script, capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise RuntimeError(f"{tool} failed: {r.stdout}{r.stderr}")


class Named:
    def __init__(self, workdir, zones, keys=None, notify_port=None, port=None):
        self.workdir = workdir
        self.zones = zones
        self.keys = keys or {}
        self.notify_port = notify_port
        self.port = port or dt.free_port()
        self.proc = None
        self.binary = shutil.which("named") or "/usr/sbin/named"

    @staticmethod
    def available():
        return (shutil.which("named") or os.path.exists("/usr/sbin/named")) and \
            shutil.which("nsupdate")

    def config(self):
        w = self.workdir
        out = []
        for name, secret in self.keys.items():
            out.append(make_key(name, secret)[0])
        notify = ""
        if self.notify_port:
            notify = f"notify explicit; also-notify {{ 127.0.0.1 port {self.notify_port}; }};"
        out.append(f"""options {{
    directory "{w}";
    pid-file "{w}/named.pid";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify-rate 1000;
    startup-notify-rate 1000;
    {notify}
}};
controls {{ }};
""")
        for z in self.zones:
            if z.get("primary_port"):
                out.append(f"""zone "{z['origin']}" {{
    type secondary;
    file "{z['file']}";
    primaries {{ 127.0.0.1 port {z['primary_port']}; }};
    allow-notify {{ 127.0.0.1; }};
    allow-transfer {{ 127.0.0.1; }};
}};
""")
                continue
            allow = f"key {z['acl_key']};" if z.get("acl_key") else "127.0.0.1;"
            out.append(f"""zone "{z['origin']}" {{
    type primary;
    file "{z['file']}";
    allow-transfer {{ {allow} }};
    allow-update {{ 127.0.0.1; }};
    ixfr-from-differences yes;
}};
""")
        return "".join(out)

    def start(self, timeout=20):
        w = self.workdir
        path = os.path.join(w, "named.conf")
        with open(path, "w") as f:
            f.write(self.config())
        self.logfile = os.path.join(w, "named.log")
        self._log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([self.binary, "-g", "-n", "1", "-c", path],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        origin = self.zones[0]["origin"]
        ok = dt.wait_until(lambda: self.proc.poll() is not None or
                           status("127.0.0.1", self.port, origin) is not None, timeout)
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("named did not start:\n" + open(self.logfile).read())
        return self

    def stop(self):
        _stop_proc(self.proc)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def update(self, origin, lines, tool="nsupdate"):
        script = f"server 127.0.0.1 {self.port}\nzone {origin}.\n" + \
            "".join(f"update {ln}\n" for ln in lines) + "send\n"
        r = subprocess.run([tool], input=script, capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise RuntimeError(f"{tool} failed: {r.stdout}{r.stderr}")


def wait_serial(host, port, origin, serial, timeout):
    """Waits until `origin`'s SOA serial is `serial`; returns seconds taken or None."""
    t0 = time.monotonic()
    ok = dt.wait_until(lambda: soa_serial(host, port, origin) == serial, timeout, interval=0.01)
    return time.monotonic() - t0 if ok else None
