#!/usr/bin/env bash
# Start-up load of a large zone by the servers themselves: ddnsd and knotd
# each start on loopback with the same generated
# zone file (default 1,000,000 hosts, ~2.25M records, bench/gen_zone.py),
# and the script polls the apex SOA until it is answered. Reported per
# server: seconds from exec to the first SOA answer, the server's CPU
# seconds (user + system from /proc/PID/stat) and its peak RSS (VmHWM) at
# that moment; medians of RUNS, with ratios to ddnsd.
#
#   bench/zone-serve.sh [BUILD_DIR]            # default: build
#   HOSTS=200000 RUNS=3 bench/zone-serve.sh
#
# Every server gets one worker thread of each kind it has. The zone file is
# the one bench/zone-load.sh uses (shared cache directory).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
hosts=${HOSTS:-1000000}
runs=${RUNS:-3}
origin=example.test
work=${ZONE_BENCH_DIR:-${TMPDIR:-/tmp}/ddns-zone-bench}
mkdir -p "$work"
zone="$work/hosts-$hosts.zone"
ddnsd=${DDNSD:-$build/src/cli/ddnsd}
[ -x "$ddnsd" ] || { echo "zone-serve: no ddnsd at $ddnsd" >&2; exit 1; }
command -v dig >/dev/null || { echo "zone-serve: dig missing" >&2; exit 1; }

if [ ! -s "$zone" ]; then
  echo "generating $zone ($hosts hosts)..." >&2
  python3 "$here/gen_zone.py" --hosts "$hosts" --origin "$origin." -o "$zone.tmp"
  mv "$zone.tmp" "$zone"
fi

port=$((20000 + RANDOM % 20000))
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

# wait_soa PID: polls until the SOA is answered; prints "secs cpu_s hwm_kb".
wait_soa() {
  local p=$1 t0=$2 i
  for ((i = 0; i < 3000; i++)); do  # at most ~60 s
    if dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 "$origin" SOA 2>/dev/null | grep -q .; then
      local t1 ticks hwm
      t1=$(date +%s.%N)
      ticks=$(awk '{print $14 + $15}' "/proc/$p/stat")
      hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$p/status")
      awk -v a="$t0" -v b="$t1" -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v h="$hwm" \
        'BEGIN { printf "%.3f %.2f %d\n", b - a, t / hz, h }'
      return 0
    fi
    kill -0 "$p" 2>/dev/null || { echo "server exited" >&2; return 1; }
    sleep 0.02
  done
  echo "no SOA answer after 60 s" >&2
  return 1
}

start_ddnsd() {
  "$ddnsd" --listen "127.0.0.1:$port" --zone "$origin=$zone" --threads 1 >"$work/ddnsd.log" 2>&1 &
  pid=$!
}
start_knot() {
  local d="$work/knot"
  rm -rf "$d" && mkdir -p "$d/db"
  cat >"$d/knot.conf" <<EOF
server:
    rundir: "$d"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$d/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$d"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $origin.
    file: "$zone"
EOF
  knotd -c "$d/knot.conf" >"$d/knot.log" 2>&1 &
  pid=$!
}
servers=(ddnsd)
command -v knotd >/dev/null && servers+=(knot)

declare -A res
for s in "${servers[@]}"; do
  for ((r = 0; r < runs; r++)); do
    sync
    t0=$(date +%s.%N)
    "start_$s"
    if out=$(wait_soa "$pid" "$t0"); then
      res[$s]+="$out"$'\n'
      echo "server=$s run=$((r + 1)) secs_to_soa=$(echo "$out" | cut -d' ' -f1) cpu_s=$(echo "$out" | cut -d' ' -f2) hwm_mb=$(($(echo "$out" | cut -d' ' -f3) / 1024))"
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    pid=""
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { printf '%s' "${res[$1]}" | awk -v c="$2" 'NF { print $c }' | median; }

echo
echo "Zone: $hosts hosts ($(du -m "$zone" | cut -f1) MiB file); medians of $runs;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M') UTC"
echo
echo "| server | s to first SOA | CPU s | peak RSS MB | time / ddnsd | CPU / ddnsd | RSS / ddnsd |"
echo "|---|---:|---:|---:|---:|---:|---:|"
bt=$(col ddnsd 1); bc=$(col ddnsd 2); bm=$(col ddnsd 3)
for s in "${servers[@]}"; do
  [ -n "${res[$s]:-}" ] || continue
  awk -v n="$s" -v t="$(col "$s" 1)" -v c="$(col "$s" 2)" -v m="$(col "$s" 3)" \
      -v bt="$bt" -v bc="$bc" -v bm="$bm" 'BEGIN {
    printf "| %s | %.2f | %.2f | %.0f | %.2fx | %.2fx | %.2fx |\n", n, t, c, m / 1024, t / bt, c / bc, m / bm }'
done
