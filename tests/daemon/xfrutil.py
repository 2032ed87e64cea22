# Helpers for zone transfer daemon tests: Knot, BIND and NSD started as
# secondaries (or Knot as a primary) with their own config in a temp dir on
# free loopback ports, stopped by PID; AXFR fetch and normalized compare.
# Stdlib only. Read-only for other test modules (xfrin's tests may import it).
#
# API:
#   have(binary) -> bool
#   key_secret(keyfile) -> (algorithm, base64 secret) from a BIND key file
#   SecondaryZone(name, primary_port, key=None)  key = (name, alg, secret)
#   Knot(workdir, zones, host=, port=) / Named(workdir, zones) / Nsd(workdir, zones):
#       .start() -> self, .stop(), .port, .log(), .name
#       host/port: where it listens (Knot only honours host; default
#       127.0.0.1 on a free port)
#       zones: [SecondaryZone]; every peer lets 127.0.0.1 transfer from it.
#   axfr(port, zone, key=None, host="127.0.0.1") -> (ok, [normalized lines], raw)
#       lines: "owner class type rdata" lowercased, TTL dropped, sorted,
#       the closing SOA dropped
#   soa_serial(port, zone, host="127.0.0.1") -> int or None
import os
import re
import shutil
import signal
import subprocess
import time

import ddnstest as t


def have(binary):
    return shutil.which(binary) is not None


def key_secret(keyfile):
    with open(keyfile) as f:
        text = f.read()
    alg = re.search(r'algorithm\s+"?([\w-]+)"?', text).group(1)
    secret = re.search(r'secret\s+"([^"]+)"', text).group(1)
    return alg, secret


class SecondaryZone:
    def __init__(self, name, primary_port, key=None, primary_host="127.0.0.1"):
        self.name = name.rstrip(".")
        self.primary_port = primary_port
        self.primary_host = primary_host
        self.key = key  # (keyname, algorithm, secret) or None


class _Peer:
    name = "peer"

    def __init__(self, workdir, zones, host="127.0.0.1", port=None):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.zones = zones
        self.host = host
        self.port = port or t.free_port()
        self.proc = None
        self.logpath = os.path.join(self.dir, "stderr.log")

    def command(self):
        raise NotImplementedError

    def start(self, timeout=10):
        self._logf = open(self.logpath, "w")
        self.proc = subprocess.Popen(self.command(), stdout=self._logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        ok = t.wait_until(lambda: self.proc.poll() is not None or self._answers(), timeout)
        if not ok or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} did not start:\n{self.log()}")
        return self

    def _answers(self):
        q = t.make_query("version.bind", "TXT", qclass=3)
        return t.udp_exchange(self.host, self.port, q, timeout=0.2) is not None

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_logf", None):
            self._logf.close()
            self._logf = None

    def log(self):
        text = ""
        for p in (self.logpath, os.path.join(self.dir, "nsd.log")):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()
        return text


class Knot(_Peer):
    name = "knot"

    def command(self):
        keys, remotes, acls, zones = [], [], [], []
        seen = set()
        for i, z in enumerate(self.zones):
            kline = ""
            if z.key:
                kn, alg, sec = z.key
                if kn not in seen:
                    keys.append(f"  - id: {kn}\n    algorithm: {alg}\n    secret: {sec}\n")
                    seen.add(kn)
                kline = f"    key: {kn}\n"
            remotes.append(f"  - id: p{i}\n    address: {z.primary_host}@{z.primary_port}\n{kline}")
            acls.append(f"  - id: n{i}\n    address: {z.primary_host}\n{kline}    action: notify\n")
            zones.append(f"  - domain: {z.name}\n    master: p{i}\n    acl: [n{i}, local]\n")
        conf = f"""server:
    rundir: "{self.dir}"
    listen: {self.host}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{self.dir}/knot.sock"
database:
    storage: "{self.dir}"
log:
  - target: stderr
    any: info
{"key:" + chr(10) + "".join(keys) if keys else ""}remote:
{"".join(remotes)}acl:
  - id: local
    address: 127.0.0.1
    action: transfer
{"".join(acls)}template:
  - id: default
    storage: "{self.dir}"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
zone:
{"".join(zones)}"""
        path = t.write_file(os.path.join(self.dir, "knot.conf"), conf)
        return ["knotd", "-c", path]


class Named(_Peer):
    name = "named"

    def command(self):
        keys, zones = [], []
        seen = set()
        for z in self.zones:
            kref = ""
            notify_from = "127.0.0.1;"
            if z.key:
                kn, alg, sec = z.key
                if kn not in seen:
                    keys.append(f'key "{kn}" {{ algorithm {alg}; secret "{sec}"; }};\n')
                    seen.add(kn)
                kref = f" key {kn}"
                notify_from = f"key {kn};"
            zones.append(
                f'zone "{z.name}" {{ type secondary; file "{z.name}.bk"; '
                f"primaries {{ {z.primary_host} port {z.primary_port}{kref}; }}; "
                f"allow-notify {{ {notify_from} }}; }};\n")
        conf = f"""options {{
  directory "{self.dir}";
  listen-on port {self.port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  pid-file "{self.dir}/named.pid";
  session-keyfile "{self.dir}/session.key";
  managed-keys-directory "{self.dir}";
  recursion no;
  dnssec-validation no;
  notify no;
  allow-transfer {{ 127.0.0.1; }};
  allow-query {{ any; }};
}};
controls {{ }};
{"".join(keys)}{"".join(zones)}"""
        path = t.write_file(os.path.join(self.dir, "named.conf"), conf)
        return ["named", "-g", "-4", "-n", "1", "-c", path]


class Nsd(_Peer):
    name = "nsd"

    def command(self):
        keys, zones = [], []
        seen = set()
        for z in self.zones:
            kn = "NOKEY"
            if z.key:
                kn, alg, sec = z.key
                if kn not in seen:
                    keys.append(f"key:\n  name: {kn}\n  algorithm: {alg}\n  secret: \"{sec}\"\n")
                    seen.add(kn)
            zones.append(f"""zone:
  name: {z.name}
  zonefile: {z.name}.zone
  allow-notify: {z.primary_host} {kn}
  request-xfr: {z.primary_host}@{z.primary_port} {kn}
  provide-xfr: 127.0.0.1 NOKEY
""")
        conf = f"""server:
  ip-address: 127.0.0.1@{self.port}
  zonesdir: "{self.dir}"
  database: ""
  pidfile: "{self.dir}/nsd.pid"
  xfrdfile: "{self.dir}/xfrd.state"
  zonelistfile: "{self.dir}/zone.list"
  username: ""
  chroot: ""
  logfile: "{self.dir}/nsd.log"
  verbosity: 2
  server-count: 1
  xfrd-reload-timeout: 0
remote-control:
  control-enable: no
{"".join(keys)}{"".join(zones)}"""
        path = t.write_file(os.path.join(self.dir, "nsd.conf"), conf)
        return ["nsd", "-d", "-c", path]


def _normalize(text):
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        f = line.split(None, 4)
        if len(f) < 5:
            continue
        name, _ttl, cls, rtype, rdata = f
        if rtype in ("TSIG",):
            continue
        rdata = " ".join(rdata.split())
        lines.append(f"{name.lower()} {cls} {rtype} {rdata.lower()}")
    return lines


def axfr(port, zone, key=None, host="127.0.0.1", timeout=10):
    """(ok, sorted normalized records without the closing SOA, raw output)."""
    cmd = ["dig", f"@{host}", "-p", str(port), zone, "AXFR", "+nocmd", "+nostats",
           f"+time={timeout}", "+tries=1", "+nocomments"]
    if key:
        kn, alg, sec = key
        cmd += ["-y", f"{alg}:{kn}:{sec}"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout * 3 + 10, errors="replace")
    out = p.stdout
    ok = p.returncode == 0 and "Transfer failed" not in out and "failed" not in out.lower()
    lines = _normalize(out)
    soas = [i for i, l in enumerate(lines) if l.split()[2] == "SOA"]
    ok = ok and len(soas) >= 2
    if len(soas) >= 2:
        del lines[soas[-1]]
    return ok, sorted(lines), out


def soa_serial(port, zone, host="127.0.0.1"):
    r = t.dig(host, port, zone, "SOA", timeout=1)
    for rr in r.answer:
        if rr.rtype == "SOA":
            return int(rr.rdata.split()[2])
    return None
