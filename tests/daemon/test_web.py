#!/usr/bin/env python3
# The web page in a real browser (issue 5): ddnsd with --http and a DDNS
# zone, users made with ddnsctl while it runs, then tests/web/browser_test.js
# (headless Debian Chromium via playwright-core) signs in, adds a hostname,
# takes its update URL from the page, updates it through /nic/update, sees
# the address and history, rotates the token, sets an address, changes the
# password in the Account section (other sessions end; the old password
# fails), creates an API token and uses it with Bearer, revokes it (401),
# uses the admin view and deletes the host, checking DNS with dig at each step.
# Screenshots: $DDNS_BUILD_DIR/test-artifacts/web*.png (web-account.png: the
# Account section).
# Needs scripts/setup-web-tests.sh run once; without node/playwright-core/
# chromium it exits 77 (skip), or fails when DDNS_WEB_REQUIRED=1 (CI).
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest  # noqa: E402
import webutil  # noqa: E402

ZONE = "example.test"
USER, PASSWORD = "alice", "alice-web-password"
ADMIN, ADMIN_PASSWORD = "root", "root-web-password"


def ddnsctl(data_dir, *args):
    cmd = [ddnstest.binary("ddnsctl"), "--data-dir", data_dir, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def main():
    ok, reason = webutil.browser_prereqs()
    if not ok:
        print(f"test_web: {reason}")
        return 1 if os.environ.get("DDNS_WEB_REQUIRED") == "1" else 77
    artifacts = os.path.join(ddnstest.BUILD_DIR, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ddns-web-") as tmp:
        zfile = ddnstest.write_file(os.path.join(tmp, "example.test.zone"),
                                    ddnstest.example_zone(ZONE))
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        d = webutil.WebDdnsd(zones={ZONE: zfile}, listen=["127.0.0.1:0"], workdir=tmp,
                             args=["--data-dir", data, "--ddns-zone", ZONE,
                                   "--http", "127.0.0.1:0"])
        d.start()
        try:
            ddnsctl(data, "user", "add", USER, "--password", PASSWORD)
            ddnsctl(data, "user", "add", ADMIN, "--password", ADMIN_PASSWORD, "--admin")
            env = dict(os.environ,
                       DDNS_WEB_URL=d.http_url, DDNS_WEB_USER=USER, DDNS_WEB_PASSWORD=PASSWORD,
                       DDNS_WEB_ADMIN=ADMIN, DDNS_WEB_ADMIN_PASSWORD=ADMIN_PASSWORD,
                       DDNS_WEB_ZONE=ZONE, DDNS_DNS_PORT=str(d.port4),
                       DDNS_WEB_ARTIFACTS=artifacts, CHROMIUM=webutil.CHROMIUM)
            try:
                r = subprocess.run(["node", "browser_test.js"], cwd=webutil.NODE_DIR, env=env,
                                   capture_output=True, text=True, timeout=180)
            except subprocess.TimeoutExpired as e:
                print(e.stdout or "", e.stderr or "")
                print("test_web: browser test timed out")
                return 1
            sys.stdout.write(r.stdout)
            sys.stdout.write(r.stderr)
            if r.returncode != 0:
                print("---- ddnsd log ----")
                print(d.log()[-6000:])
                return 1
            for name in ("web.png", "web-account.png", "web-dashboard.png"):
                shot = os.path.join(artifacts, name)
                if not (os.path.isfile(shot) and os.path.getsize(shot) > 10000):
                    print(f"test_web: screenshot {shot} missing or empty")
                    return 1
            print(f"test_web: PASS (screenshots in {artifacts})")
            return 0
        finally:
            rc = d.stop()
            if rc not in (0, None):
                print(f"test_web: ddnsd exited with {rc}")


if __name__ == "__main__":
    sys.exit(main())
