#!/usr/bin/env bash
# Prepares the browser test (tests/daemon/test_web.py): Node.js + npm and
# Debian's chromium (apt-get when missing, as on a fresh Debian 12), then
# playwright-core and axe-core pinned by tests/web/package-lock.json
# (npm ci; playwright-core never downloads a browser: we use /usr/bin/chromium).
# Idempotent and quick when everything is there. Root or sudo for apt-get.
#   scripts/setup-web-tests.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEB="$ROOT/tests/web"

need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup-web-tests: need root or sudo to install: ${need[*]}" >&2; exit 1; }
    SUDO=(sudo)
  fi
  echo "setup-web-tests: installing ${need[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq --no-install-recommends "${need[@]}"
fi

# Skip npm when node_modules already matches the lock file.
stamp="$WEB/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ "$stamp" -nt "$WEB/package-lock.json" ] &&
   [ -d "$WEB/node_modules/playwright-core" ] && [ -d "$WEB/node_modules/axe-core" ]; then
  echo "setup-web-tests: tests/web/node_modules is up to date"
  exit 0
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for i in 1 2 3; do
  if (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "setup-web-tests: installed $(cd "$WEB" && node -p 'require("playwright-core/package.json").version') playwright-core"
    exit 0
  fi
  echo "setup-web-tests: npm ci failed (attempt $i), retrying in 5 s" >&2
  sleep 5
done
exit 1
