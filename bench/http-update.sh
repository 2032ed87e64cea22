#!/usr/bin/env bash
# DynDNS2 update throughput: wrk sends authenticated /nic/update requests
# (per-host tokens, HTTP Basic, keep-alive) for HOSTS hostnames, each with a
# new address, while dnsperf queries the same names over UDP. Every "good"
# counted is durable (zone journal + history committed with fsync) before it
# is sent, so good answers per second = durable updates per second.
#
# usage: bench/http-update.sh
# env:
#   DDNSD [build/src/cli/ddnsd]  DDNSCTL [build/src/cli/ddnsctl]
#   HOSTS [1000]        hostnames (host0..hostN-1.bench.test), one token each
#   DURATION [15]       seconds of wrk (and dnsperf) load
#   CONNECTIONS [64]    wrk -c (keep-alive connections); WRK_THREADS [1]
#   HTTP_THREADS [2]    ddnsd HTTP I/O threads (http.threads)
#   DNS_QPS [20000]     dnsperf -Q rate limit on the DNS side (0 = no dnsperf)
#   KEEP [0]            1 = keep the temp dir (log, data) for inspection
#   PERF_DATA [unset]   perf record -e cpu-clock of ddnsd during the run, to this file
#   PERF_OPTS [-g]      its call-graph options (e.g. "--call-graph dwarf -F 250")
# Prints one line: durable_updates_per_s, p50/p99 latency, dnsperf qps/lost,
# ddnsd CPU (user+system) per durable update over the run, load average after.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
DDNSD=${DDNSD:-$root/build/src/cli/ddnsd}
DDNSCTL=${DDNSCTL:-$root/build/src/cli/ddnsctl}
HOSTS=${HOSTS:-1000}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-1}
HTTP_THREADS=${HTTP_THREADS:-2}
DNS_QPS=${DNS_QPS:-20000}
KEEP=${KEEP:-0}

for tool in wrk "$DDNSD" "$DDNSCTL"; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 77; }
done
if [ "$DNS_QPS" != 0 ] && ! command -v dnsperf >/dev/null; then
  echo "missing: dnsperf" >&2; exit 77
fi

tmp=$(mktemp -d /tmp/ddns-http-bench.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ "$KEEP" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The zone, the accounts and one token per host.
cat >"$tmp/bench.test.zone" <<EOF
\$ORIGIN bench.test.
\$TTL 3600
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
EOF
mkdir -p "$tmp/data"
dns_port=$(free_port)
http_port=$(free_port)
cat >"$tmp/ddnsd.yaml" <<EOF
server:
  listen: ["127.0.0.1:$dns_port"]
  data-dir: $tmp/data
  log-level: warn
zones:
  - name: bench.test
    file: $tmp/bench.test.zone
    ddns: true
http:
  listen: ["127.0.0.1:$http_port"]
  threads: $HTTP_THREADS
EOF
"$DDNSCTL" --data-dir "$tmp/data" user add bench --password bench-password-1 >/dev/null
"$DDNSCTL" --data-dir "$tmp/data" ddns-zone add bench.test >/dev/null
echo "creating $HOSTS hosts..." >&2
: >"$tmp/tokens.txt"
for ((i = 0; i < HOSTS; i++)); do
  tok=$("$DDNSCTL" --data-dir "$tmp/data" host add "host$i.bench.test" --owner bench 2>/dev/null | tail -n1)
  echo "host$i.bench.test $tok" >>"$tmp/tokens.txt"
  echo "host$i.bench.test A" >>"$tmp/queries.txt"
done

"$DDNSD" --config "$tmp/ddnsd.yaml" >"$tmp/ddnsd.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null; then break; fi
  sleep 0.05
done
kill -0 "$pid" || { cat "$tmp/ddnsd.log" >&2; exit 1; }

# Warm-up: one update per host (first Argon2-free token checks, page cache).
DDNS_TOKENS="$tmp/tokens.txt" wrk -t1 -c8 -d2s -s "$here/http-update.lua" \
  "http://127.0.0.1:$http_port" >/dev/null 2>&1 || true

# ddnsd CPU (utime+stime, clock ticks) over the measured run only.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
cpu0=$(cpu_ticks)
perf_pid=""
if [ -n "${PERF_DATA:-}" ]; then
  perf record -q -e cpu-clock ${PERF_OPTS:--g} -o "$PERF_DATA" -p "$pid" -- sleep "$DURATION" >/dev/null 2>&1 &
  perf_pid=$!
fi
dnsperf_pid=""
if [ "$DNS_QPS" != 0 ]; then
  dnsperf -s 127.0.0.1 -p "$dns_port" -d "$tmp/queries.txt" -l "$DURATION" -Q "$DNS_QPS" \
    -c 4 >"$tmp/dnsperf.txt" 2>&1 &
  dnsperf_pid=$!
fi
DDNS_TOKENS="$tmp/tokens.txt" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
  -s "$here/http-update.lua" "http://127.0.0.1:$http_port" >"$tmp/wrk.txt" 2>&1
cpu1=$(cpu_ticks)
[ -n "$perf_pid" ] && wait "$perf_pid" || true
[ -n "$dnsperf_pid" ] && wait "$dnsperf_pid" || true

line=$(grep '^good=' "$tmp/wrk.txt" || true)
if [ -z "$line" ]; then cat "$tmp/wrk.txt" >&2; exit 1; fi
dns=""
if [ "$DNS_QPS" != 0 ]; then
  qps=$(awk '/Queries per second/ {print $4}' "$tmp/dnsperf.txt")
  lost=$(awk '/Queries lost/ {print $3}' "$tmp/dnsperf.txt")
  dns=" dnsperf_qps=${qps:-?} dnsperf_lost=${lost:-?}"
fi
good=$(echo "$line" | sed -n 's/^good=\([0-9]*\).*/\1/p')
hz=$(getconf CLK_TCK)
cpu_us=$(awk -v d=$((cpu1 - cpu0)) -v hz="$hz" -v g="${good:-0}" \
  'BEGIN { if (g > 0) printf "%.1f", d * 1e6 / hz / g; else print "?" }')
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "hosts=$HOSTS connections=$CONNECTIONS http_threads=$HTTP_THREADS $line$dns ddnsd_cpu_us_per_update=$cpu_us load=\"$load\""
grep -E "Non-2xx|Socket errors" "$tmp/wrk.txt" >&2 || true
