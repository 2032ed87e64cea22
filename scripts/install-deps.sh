#!/usr/bin/env bash
# Installs what ddns needs from Debian 12 packages. Idempotent; root or sudo.
#   scripts/install-deps.sh build   # compiler, libraries
#   scripts/install-deps.sh test    # build + peers and clients the tests talk to
set -euo pipefail
what=${1:-build}
case "$what" in build|test) ;; *) echo "usage: $0 build|test" >&2; exit 2;; esac

# Other engineers append to these two arrays (one package per word).
build_pkgs=(build-essential cmake ninja-build pkg-config ccache
  libssl-dev libsqlite3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libargon2-dev nlohmann-json3-dev libcurl4-openssl-dev)
test_pkgs=(clang libclang-rt-14-dev python3 bind9-dnsutils knot-dnsutils knot nsd dnsperf
  iproute2 procps time util-linux bind9-utils knot-dnssecutils bind9
  curl ddclient inadyn chromium wrk
  kea-dhcp4-server kea-dhcp6-server kea-dhcp-ddns-server isc-dhcp-client
  systemd)  # systemd: systemd-analyze verify for etc/ddnsd.service (test_ops.py); not booted

pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi

# knot, nsd (and bind9 if someone adds it) start a system service on port 53
# when installed. Tests and benchmarks run their own instances on other
# ports, so a running system copy only wastes memory and CPU and confuses
# `ss` output. A policy-rc.d that exits 101 tells invoke-rc.d and
# deb-systemd-invoke not to start anything; we put one in place only for the
# duration of the install and only if the machine has none (Docker images
# ship one that already does exactly this).
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, from ddns scripts/install-deps.sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  own_policy=1
fi
cleanup() { [ "$own_policy" = 1 ] && "${SUDO[@]}" rm -f "$POLICY"; return 0; }
trap cleanup EXIT

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt may hold the locks (a developer installing in parallel): wait
# for it, bounded, instead of failing.
apt_retry() {
  local i
  for i in $(seq 1 12); do
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" && return 0
    echo "install-deps: apt-get $1 failed (attempt $i), retrying in 5 s" >&2
    sleep 5
  done
  return 1
}
apt_retry update -qq
apt_retry install -y -qq --no-install-recommends "${missing[@]}"

# If a service we just installed got started anyway (a policy-rc.d of the
# machine that allows it), stop it so port 53 and the CPU stay free; tests
# never use port 53. Services that were there before are left alone.
# The Kea packages enable their units for the next boot even when
# policy-rc.d stops them now; a DHCP server answering on the machine's own
# network after a reboot would be far worse than an idle DNS server, so
# those are disabled whether or not they run (test_kea.py starts its own
# inside network namespaces).
have_systemd=0
command -v systemctl >/dev/null && [ -d /run/systemd/system ] && have_systemd=1
for svc in knot nsd named kea-dhcp4-server kea-dhcp6-server kea-dhcp-ddns-server; do
  pkg=$svc; [ "$svc" = named ] && pkg=bind9
  [[ " ${missing[*]} " == *" $pkg "* ]] || continue
  case "$svc" in
    kea-*)
      echo "install-deps: disabling system service $svc (tests start their own)"
      if [ "$have_systemd" = 1 ]; then
        "${SUDO[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
      elif command -v systemctl >/dev/null; then
        "${SUDO[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
      fi;;
    *)
      if [ "$have_systemd" = 1 ] && systemctl is-active --quiet "$svc" 2>/dev/null; then
        echo "install-deps: stopping system service $svc (tests start their own)"
        "${SUDO[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
      fi;;
  esac
done
