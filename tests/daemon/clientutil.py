# Helpers for the ddns-client daemon tests: a scripted fake DynDNS2 server
# (Python http.server on 127.0.0.1, port 0) that also serves /checkip with
# an address the test sets, a runner for ddns-client, the cache reader, and
# a knotd started with its own config and a TSIG key. Stdlib only.
#
# API:
#   FakeDyndns(script=None, tls=None)   .start() / .stop() / context manager
#       .url                             "http://127.0.0.1:PORT" (https:// with
#                                        tls=(certfile, keyfile))
#       .ip4 / .ip6                      what /checkip (and /checkip6) report
#       .script                          list of answers for /nic/update, each
#                                        (status, body) or ("sleep", seconds,
#                                        status, body); when empty: "good IP"
#       .updates                         [dict(path, query, user, password,
#                                        agent)] one per /nic/update request
#       .checkips                        count of /checkip requests
#   run_client(args, timeout=30) -> (rc, stderr_text)
#   read_cache(path) -> {key: {field: value}}
#   Knotd(workdir, zone_origin, zone_text, key_name, key_alg, key_secret)
#       .start() / .stop(); .port
import base64
import http.server
import os
import shutil
import signal
import socketserver
import subprocess
import threading
import time
import urllib.parse

import ddnstest as t


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status, body, ctype="text/plain"):
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="fake"')
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/checkip":
            with fake.lock:
                fake.checkips += 1
                ip = fake.ip4
            if ip is None:
                return self._send(500, "no address")
            return self._send(200, "<html><head><title>Current IP Check</title></head>"
                                   f"<body>Current IP Address: {ip}</body></html>", "text/html")
        if url.path == "/checkip6":
            with fake.lock:
                fake.checkips += 1
                ip = fake.ip6
            return self._send(200, f"{ip}\n")
        if url.path == "/nic/update":
            query = dict(urllib.parse.parse_qsl(url.query))
            user = password = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            with fake.lock:
                fake.updates.append(dict(path=url.path, query=query, user=user,
                                         password=password,
                                         agent=self.headers.get("User-Agent")))
                step = fake.script.pop(0) if fake.script else None
            if step is None:
                return self._send(200, f"good {query.get('myip', '')}")
            if step[0] == "sleep":
                time.sleep(step[1])
                step = step[2:]
            return self._send(step[0], step[1])
        return self._send(404, "not found")


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeDyndns:
    def __init__(self, script=None, tls=None):
        self.tls = tls  # (certfile, keyfile): serve HTTPS
        self.script = list(script or [])
        self.updates = []
        self.checkips = 0
        self.ip4 = "192.0.2.10"
        self.ip6 = "2001:db8::10"
        self.lock = threading.Lock()
        self.httpd = None

    def start(self):
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if self.tls:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def self_signed_cert(workdir):
    """A certificate for 127.0.0.1 (IP SAN) and its key, made by openssl."""
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def run_client(args, timeout=30):
    p = subprocess.run([t.binary("ddns-client")] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stderr


def read_cache(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if line.startswith("#") or "\t" not in line:
                continue
            fields = line.rstrip("\n").split("\t")
            out[fields[0]] = dict(x.split("=", 1) for x in fields[1:] if "=" in x)
    return out


def knotd_binary():
    return os.environ.get("KNOTD") or shutil.which("knotd") or (
        "/usr/sbin/knotd" if os.path.exists("/usr/sbin/knotd") else None)


class Knotd:
    """knotd serving one zone that a TSIG key may update (RFC 2136)."""

    def __init__(self, workdir, origin, zone_text, key_name, key_alg, key_secret):
        self.workdir = workdir
        self.origin = origin
        self.zone_text = zone_text
        self.key = (key_name, key_alg, key_secret)
        self.port = t.free_port()
        self.proc = None
        self.logf = None

    def start(self, timeout=20):
        w = self.workdir
        os.makedirs(os.path.join(w, "db"), exist_ok=True)
        t.write_file(os.path.join(w, f"{self.origin}.zone"), self.zone_text)
        name, alg, secret = self.key
        conf = f"""server:
    rundir: "{w}"
    pidfile: "{w}/knot.pid"
    listen: 127.0.0.1@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{w}/db"
log:
  - target: stderr
    any: info
key:
  - id: {name}
    algorithm: {alg}
    secret: {secret}
acl:
  - id: update
    key: {name}
    action: update
template:
  - id: default
    storage: "{w}"
    semantic-checks: off
    zonefile-sync: -1
zone:
  - domain: {self.origin}
    file: "{self.origin}.zone"
    acl: update
"""
        path = os.path.join(w, "knot.conf")
        t.write_file(path, conf)
        self.logf = open(os.path.join(w, "knot.log"), "wb")
        self.proc = subprocess.Popen([knotd_binary(), "-c", path], stdout=self.logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        q = t.make_query(self.origin + ".", "SOA")
        ok = t.wait_until(lambda: self.proc.poll() is not None or
                          t.udp_exchange("127.0.0.1", self.port, q, timeout=0.2) is not None,
                          timeout)
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("knotd did not start:\n" + self.log())
        return self

    def log(self):
        try:
            with open(os.path.join(self.workdir, "knot.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.logf:
            self.logf.close()
            self.logf = None

