# Helpers for the web page's browser test (test_web.py): ddnsd with its
# HTTP listener, and finding Node.js, playwright-core and Chromium.
#   WebDdnsd(...)                  ddnstest.Ddnsd that also reads the HTTP port:
#       .start() waits for DNS and HTTP; .http_url "http://127.0.0.1:PORT"
#   browser_prereqs() -> (ok, reason)
#   NODE_DIR                       tests/web (package.json, node_modules)
import os
import re
import shutil
import signal
import socket
import time

import ddnstest

NODE_DIR = os.path.join(ddnstest.SOURCE_DIR, "tests", "web")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def browser_prereqs():
    if not shutil.which("node"):
        return False, "node not found (scripts/setup-web-tests.sh installs it)"
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "playwright-core")):
        return False, "tests/web/node_modules/playwright-core missing (run scripts/setup-web-tests.sh)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return False, f"{CHROMIUM} not found (apt-get install chromium)"
    if not shutil.which("dig"):
        return False, "dig not found"
    return True, ""


class WebDdnsd(ddnstest.Ddnsd):
    """Ddnsd whose start() tells the HTTP listener's log line ("http:
    listening on ADDR (http)") from the DNS ones and waits for both."""

    http_host = http_port = None

    @property
    def http_url(self):
        host = f"[{self.http_host}]" if ":" in self.http_host else self.http_host
        return f"http://{host}:{self.http_port}"

    def start(self, timeout=15):
        self.spawn()
        deadline = time.monotonic() + timeout

        def alive_or_raise(what):
            if self.proc.poll() is not None:
                raise RuntimeError(f"ddnsd exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise RuntimeError(f"ddnsd: {what} within {timeout}s:\n{self.log()}")

        while "ddnsd started" not in self.log():
            alive_or_raise("no start")
            time.sleep(0.02)
        log = self.log()
        self.listeners = []
        self.host4 = self.port4 = self.host6 = self.port6 = None
        for m in re.finditer(r"^(.*?)listening on (\S+) ", log, re.M):
            if "http:" in m.group(1):
                continue
            self._note_listen(m.group(2))
        m = re.search(r"http: listening on (\S+) ", log)
        if not m:
            raise RuntimeError(f"ddnsd logged no HTTP listener:\n{log}")
        spec = m.group(1)
        if spec.startswith("["):
            host, port = spec[1:].split("]:")
        else:
            host, port = spec.rsplit(":", 1)
        self.http_host, self.http_port = host, int(port)
        for host, port in self.listeners:
            while not self._answers(host, port):
                alive_or_raise("DNS not answering")
                time.sleep(0.05)
        while True:
            try:
                with socket.create_connection((self.http_host, self.http_port), timeout=0.5):
                    break
            except OSError:
                alive_or_raise("HTTP not accepting")
                time.sleep(0.05)
        return self
