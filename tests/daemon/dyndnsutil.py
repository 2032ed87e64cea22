# Helpers for the DynDNS2 daemon tests: a ddnsd with an HTTP listener and a
# DDNS zone, users/hosts made with ddnsctl, curl requests, and dig checks.
# Stdlib only; builds on ddnstest (whose API it does not change).
import os
import socket
import subprocess
import time

import ddnstest as t


def http_port():
    """A free loopback TCP port for the HTTP listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, timeout=10, proc=None):
    """Waits until 127.0.0.1:port accepts TCP connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def ddnsctl(data_dir, *args, check=True):
    """Runs `ddnsctl --data-dir DATA_DIR ARGS...`; returns stdout."""
    r = subprocess.run([t.binary("ddnsctl"), "--data-dir", data_dir, *args],
                       capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"ddnsctl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def add_user(data_dir, name, password, admin=False):
    ddnsctl(data_dir, "user", "add", name, "--password", password, *(["--admin"] if admin else []))


def add_host(data_dir, fqdn, owner):
    """Creates a host; returns its update token (the last line printed)."""
    out = ddnsctl(data_dir, "host", "add", fqdn, "--owner", owner)
    return out.strip().splitlines()[-1].strip()


class Http:
    """Response of curl(): .status (int), .body (str), .headers (lowercase dict)."""

    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    def __repr__(self):
        return f"Http({self.status}, {self.body!r})"


def curl(port, path, user=None, password=None, host="127.0.0.1", headers=(), data=None,
         agent="ddns-test/1.0", url_userinfo=False, timeout=10, scheme="http", interface=None):
    """One request with curl. user/password: Basic auth (or, with
    url_userinfo, as user:pass@ in the URL, as routers write it).
    interface: the local address to connect from (a loopback address other
    than 127.0.0.1 plays another peer)."""
    h = f"[{host}]" if ":" in host else host
    cmd = ["curl", "-sS", "-g", "--max-time", str(timeout), "-D", "-", "-k"]
    if interface is not None:
        cmd += ["--interface", interface]
    if user is not None and not url_userinfo:
        cmd += ["-u", f"{user}:{password}"]
    url = f"{scheme}://{h}:{port}{path}"
    if user is not None and url_userinfo:
        url = f"{scheme}://{user}:{password}@{h}:{port}{path}"
    if agent is None:
        cmd += ["-H", "User-Agent:"]
    else:
        cmd += ["-A", agent]
    for x in headers:
        cmd += ["-H", x]
    if data is not None:
        cmd += ["--data", data]
    # Bytes, not text: text mode would turn the CRLFs that frame the headers into LFs.
    r = subprocess.run(cmd + [url], capture_output=True, timeout=timeout + 5)
    if r.returncode != 0:
        raise RuntimeError(f"curl {url}: rc={r.returncode} {r.stderr!r}")
    out = r.stdout.decode("utf-8", "replace")
    # Skip interim 100-continue blocks.
    while True:
        head, _, rest = out.partition("\r\n\r\n")
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        if status == 100:
            out = rest
            continue
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return Http(status, rest, hdrs)


def addrs(port, name, qtype="A"):
    """Sorted rdata strings of NAME/QTYPE as ddnsd answers over DNS."""
    r = t.dig("127.0.0.1", port, name, qtype)
    if not r.ok:
        raise RuntimeError(f"dig {name} {qtype}: no answer\n{r.output}")
    return sorted(rr.rdata for rr in r.answer if rr.rtype == qtype)


class HttpDdnsd(t.Ddnsd):
    """A Ddnsd whose log also names HTTP listeners ("http: listening on
    ADDR (http)"): start() probes every logged listener with DNS, so the
    HTTP ports are probed with a TCP connect instead."""

    http_ports = ()

    def _answers(self, host, port):
        if port in self.http_ports:
            try:
                with socket.create_connection((host, port), timeout=0.2):
                    return True
            except OSError:
                return False
        return super()._answers(host, port)

    def start(self, timeout=10):
        super().start(timeout)
        # Keep only DNS listeners in host4/port4 and friends.
        dns = [(h, p) for h, p in self.listeners if p not in self.http_ports]
        self.host4 = self.port4 = self.host6 = self.port6 = None
        self.listeners = []
        for h, p in dns:
            self._note_listen(f"[{h}]:{p}" if ":" in h else f"{h}:{p}")
        return self


class DyndnsDaemon:
    """ddnsd serving ZONE from a zone file, with --http on a free port and
    the zone opened for DDNS; the data dir survives restarts."""

    def __init__(self, workdir, origin="example.test", extra_args=(), config=None):
        self.workdir = workdir
        self.origin = origin
        self.data = os.path.join(workdir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.zone = os.path.join(workdir, f"{origin}.zone")
        if not os.path.exists(self.zone):
            t.write_file(self.zone, t.example_zone(origin, serial=1))
        self.extra_args = list(extra_args)
        self.config = config  # YAML text for settings without a flag, or None
        self.http = http_port()
        self.d = None

    def start(self, timeout=15):
        self.d = HttpDdnsd(zones={self.origin: self.zone}, listen=["127.0.0.1:0"],
                           workdir=self.workdir, config=self.config,
                           args=["--data-dir", self.data, "--http", f"127.0.0.1:{self.http}",
                                 "--ddns-zone", self.origin, *self.extra_args])
        self.d.http_ports = (self.http,)
        self.d.start(timeout=timeout)
        if not wait_http(self.http, timeout, self.d.proc):
            raise RuntimeError(f"HTTP listener not up:\n{self.d.log()}")
        return self

    @property
    def dns(self):
        return self.d.port4

    def stop(self, **kw):
        if self.d is not None and self.d.alive():
            return self.d.stop(**kw)
        return None
