#!/usr/bin/env bash
# Installs what ddns needs from Debian 12 packages. Idempotent.
#   scripts/install-deps.sh build   # compiler, libraries
#   scripts/install-deps.sh test    # build + peers and clients the tests talk to
set -euo pipefail
what=${1:-build}

build_pkgs=(build-essential cmake ninja-build pkg-config
  libssl-dev libsqlite3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev)
test_pkgs=(clang libclang-rt-14-dev python3 bind9-dnsutils knot-dnsutils knot nsd dnsperf
  iproute2 procps)

pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Packages like knot/nsd may try to start their system service; tests run
  # their own instances, so a refused service start is not an error.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
