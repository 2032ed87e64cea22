#!/bin/sh
# Propagation benchmark (issue 7): update-to-secondary latency (ddnsd, knotd,
# named secondaries of a ddnsd primary) and AXFR time of a 1M-record zone.
# Usage: bench/propagation.sh [BUILD_DIR] [--updates N] [--via dyndns2|rfc2136]
#        [--axfr-records N] [--skip-axfr]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
[ $# -gt 0 ] && shift
DDNS_BUILD_DIR=$(cd "$build" && pwd) exec python3 "$here/propagation.py" "$@"
