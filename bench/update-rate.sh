#!/usr/bin/env bash
# Acknowledged, durable RFC 2136 updates per second: ddnsd vs Knot DNS vs BIND,
# same zone, same TSIG key (hmac-sha256), each update its own signed message.
#
# usage: bench/update-rate.sh [SERVER...]     SERVER: ddnsd knot bind (default: all three)
#
# Environment (defaults in brackets):
#   CLIENTS ["1 8 64"]   concurrent clients (bench/updblast.cc, built on first use
#                        into OUT_DIR): N UDP sockets, each sends its next signed
#                        update when the reply to the last one came (closed
#                        loop), so exactly N updates are in flight
#   DURATION [10]        seconds per measurement (dnsperf -l)
#   RUNS [3]             runs per server (server restarted on a fresh data dir
#                        each run); the summary shows medians
#   HOSTS [1000]         zone size: h<i> A records (plus SOA, NS, ns A)
#   MODE [replace]       replace: each update is "delete h<j> A; add h<j> A <new>"
#                        on an existing host (the dynamic-DNS case, zone size
#                        stays put); add: each update adds a new name (zone grows)
#   THREADS [2]          ddnsd --threads, knotd udp-workers, named -n
#   LATENCY [1]          1: during the highest-CLIENTS run also send queries
#                        (dnsperf, QUERY_QPS [2000] per second) and report
#                        their average latency under that update load
#   DDNSD [build/src/cli/ddnsd]  DDNSCTL [beside DDNSD]  KNOTD [knotd]  NAMED [named]
#   OUT_DIR [bench/out]  (work dirs under OUT_DIR/update-rate, results appended to
#                        OUT_DIR/update-rate.log)
#
# Durability of what is counted: ddnsd acknowledges after its SQLite WAL
# commit with synchronous=FULL (fsync); Knot with journal-db-mode robust (its
# LMDB journal synced per commit), zonefile-sync -1 (no zone-file rewrite per
# change); BIND after writing and syncing its .jnl journal. Only NOERROR
# replies count; any other rcode or a timeout makes the run fail loudly.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENTS=${CLIENTS:-"1 8 64"}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
HOSTS=${HOSTS:-1000}
MODE=${MODE:-replace}
THREADS=${THREADS:-2}
LATENCY=${LATENCY:-1}
QUERY_QPS=${QUERY_QPS:-2000}
DDNSD=${DDNSD:-$ROOT/build/src/cli/ddnsd}
DDNSCTL=${DDNSCTL:-$(dirname "$DDNSD")/ddnsctl}
KNOTD=${KNOTD:-knotd}
NAMED=${NAMED:-named}
OUT_DIR=${OUT_DIR:-$ROOT/bench/out}
WORK=$OUT_DIR/update-rate
ZONE=bench.test
KEYNAME=bench-key
ADDR=127.0.0.1
SERVERS=("$@")
[ ${#SERVERS[@]} -eq 0 ] && SERVERS=(ddnsd knot bind)
HZ=$(getconf CLK_TCK)

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }

for tool in dnsperf dig ss awk; do command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh test)"; done
case "$MODE" in replace|add) ;; *) die "MODE must be replace or add";; esac

port_free() { ! ss -Hlnu "sport = :$1" | grep -q . && ! ss -Hlnt "sport = :$1" | grep -q .; }
pick_port() { local p; for p in $(seq "$1" $(($1 + 50))); do port_free "$p" && { echo "$p"; return; }; done; die "no free port near $1"; }
descendants() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; done; }
cpu_ticks() {
  local s=0 p v
  for p in $(descendants "$1"); do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13}'); s=$((s + ${v:-0}))
  done
  echo "$s"
}

SERVER_PID=
stop_server() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "PID $pid ignored SIGTERM, killing"; kill -KILL "$pid" 2>/dev/null; }
  wait "$pid" 2>/dev/null
  return 0
}
trap 'stop_server "$SERVER_PID"; SERVER_PID=' EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------- inputs -------
mkdir -p "$WORK"
SECRET=$(head -c 32 /dev/urandom | base64)
ZONE_FILE=$WORK/$ZONE.zone
{
  echo "\$ORIGIN $ZONE."
  echo "\$TTL 300"
  echo "@ SOA ns1 hostmaster 1 3600 900 604800 300"
  echo "@ NS ns1"
  echo "ns1 A 192.0.2.1"
  awk -v n="$HOSTS" 'BEGIN { for (i = 0; i < n; i++) printf "h%d A 10.0.%d.%d\n", i, int(i / 250) % 250, i % 250 + 1 }'
} > "$ZONE_FILE"
printf 'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$KEYNAME" "$SECRET" > "$WORK/key.conf"

# The load generator (bench/updblast.cc, closed loop over UDP; dnsperf -u
# paces a single outstanding update by its 100 ms poll interval against
# some servers, so it under-reports 1-client rates).
UPDBLAST=${UPDBLAST:-$OUT_DIR/updblast}
if [ ! -x "$UPDBLAST" ] || [ "$ROOT/bench/updblast.cc" -nt "$UPDBLAST" ]; then
  g++ -O2 -std=c++20 -Wall -Wextra -o "$UPDBLAST" "$ROOT/bench/updblast.cc" -lcrypto ||
    die "cannot build updblast"
fi
QUERY_FILE=$WORK/queries.txt
awk -v n="$HOSTS" 'BEGIN { for (i = 0; i < 1000; i++) printf "h%d.bench.test A\n", (i * 7919) % n }' > "$QUERY_FILE"

# ------------------------------------------------------------ servers -------
# start_server KIND WORKDIR PORT -> SERVER_PID
start_server() {
  local kind=$1 w=$2 port=$3
  rm -rf "$w"; mkdir -p "$w"
  cp "$ZONE_FILE" "$w/$ZONE.zone"
  case "$kind" in
  ddnsd)
    [ -x "$DDNSD" ] || die "ddnsd not built at $DDNSD"
    cp "$WORK/key.conf" "$w/key.conf"
    "$DDNSD" --listen "$ADDR:$port" --zone "$ZONE=$w/$ZONE.zone" --threads "$THREADS" \
      --data-dir "$w/data" --key "$w/key.conf" --allow-update "$ZONE=$KEYNAME" \
      --log-level warn > "$w/server.log" 2>&1 &
    ;;
  knot)
    command -v "$KNOTD" >/dev/null || die "knotd missing"
    mkdir -p "$w/db"
    cat > "$w/knot.conf" <<EOF
server:
    rundir: "$w"
    pidfile: "$w/knot.pid"
    listen: $ADDR@$port
    udp-workers: $THREADS
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$w/db"
    journal-db-mode: robust
log:
  - target: stderr
    any: warning
key:
  - id: $KEYNAME
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: update
    key: $KEYNAME
    action: update
template:
  - id: default
    storage: "$w"
    zonefile-sync: -1
    journal-content: changes
    serial-policy: increment
zone:
  - domain: $ZONE
    file: "$w/$ZONE.zone"
    acl: update
EOF
    "$KNOTD" -c "$w/knot.conf" > "$w/server.log" 2>&1 &
    ;;
  bind)
    command -v "$NAMED" >/dev/null || die "named missing"
    cat > "$w/named.conf" <<EOF
options {
    directory "$w";
    pid-file "$w/named.pid";
    session-keyfile "$w/session.key";
    managed-keys-directory "$w";
    listen-on port $port { $ADDR; };
    listen-on-v6 { none; };
    recursion no;
    notify no;
    dnssec-validation no;
};
controls { };
$(cat "$WORK/key.conf")
zone "$ZONE" {
    type primary;
    file "$w/$ZONE.zone";
    allow-update { key "$KEYNAME"; };
};
EOF
    "$NAMED" -g -n "$THREADS" -c "$w/named.conf" > "$w/server.log" 2>&1 &
    ;;
  *) die "unknown server $kind (ddnsd knot bind)";;
  esac
  SERVER_PID=$!
}

serial_of() {
  dig +norec +time=2 +tries=2 +short -p "$1" "@$ADDR" "$ZONE" SOA 2>/dev/null |
    awk '$3 ~ /^[0-9]+$/ {print $3; exit}'
}

wait_soa() {
  local port=$1 i
  for i in $(seq 1 1000); do
    [ -n "$(serial_of "$port")" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { log "server died while starting"; return 1; }
    sleep 0.05
  done
  log "no SOA answer after 50 s"; return 1
}

# one_run KIND PORT N WORKDIR -> prints "updates_per_s cpu_us_per_update q_latency_ms p99_ms"
one_run() {
  local kind=$1 port=$2 n=$3 w=$4 out c0 c1 ok lat=- qpid= s0 s1 errs
  s0=$(serial_of "$port")
  if [ "$LATENCY" = 1 ] && [ "$n" = "$MAXC" ]; then
    dnsperf -s "$ADDR" -p "$port" -d "$QUERY_FILE" -l "$DURATION" -Q "$QUERY_QPS" -c 2 -q 20 \
      -t 2 > "$w/query-$n.out" 2>&1 &
    qpid=$!
  fi
  c0=$(cpu_ticks "$SERVER_PID")
  out=$("$UPDBLAST" -s "$ADDR" -p "$port" -z "$ZONE" -k "$KEYNAME:$SECRET" -c "$n" \
        -l "$DURATION" -m "$MODE" -H "$HOSTS" -g "$G" -t 5000 2>&1)
  c1=$(cpu_ticks "$SERVER_PID")
  echo "$out" > "$w/update-$n.out"
  [ -n "$qpid" ] && { wait "$qpid"; lat=$(awk '/Average Latency/{printf "%.3f", $4 * 1000}' "$w/query-$n.out"); }
  kv() { tr ' ' '\n' <<<"$out" | awk -F= -v k="$1" '$1 == k {print $2}'; }
  ok=$(kv ok)
  errs=$(( $(kv errors) + $(kv timeouts) ))
  [ -n "$ok" ] && [ "$ok" -gt 0 ] || { log "$kind c=$n: no updates acknowledged: $out"; return 1; }
  [ "$errs" -eq 0 ] || log "$kind c=$n: $errs updates not acknowledged with NOERROR: $out"
  s1=$(serial_of "$port")
  [ "$kind" = ddnsd ] && [ -n "$s0" ] && [ -n "$s1" ] && [ $((s1 - s0)) -lt "$ok" ] &&
    log "ddnsd c=$n: serial moved only $((s1 - s0)) for $ok acknowledged updates"
  awk -v q="$(kv rate)" -v c=$((c1 - c0)) -v hz="$HZ" -v d="$ok" -v l="$lat" -v p="$(kv lat_p99_ms)" \
    'BEGIN { printf "%.0f %.1f %s %s\n", q, c / hz / d * 1e6, l, p }'
}

# The disk's sync latency now, as the servers will see it.
fsync_ms() {
  local f=$WORK/fsync-probe
  python3 - "$f" <<'PY' 2>/dev/null || echo "?"
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
ts = []
for _ in range(20):
    os.write(fd, b"x" * 4096)
    t0 = time.perf_counter()
    os.fsync(fd)
    ts.append(time.perf_counter() - t0)
os.close(fd)
os.unlink(sys.argv[1])
print("%.2f" % (sorted(ts)[10] * 1e3))
PY
}

median() { sort -n | awk '{a[NR] = $1} END { if (NR == 0) { print "-"; exit } print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

MAXC=0
for n in $CLIENTS; do [ "$n" -gt "$MAXC" ] && MAXC=$n; done
RESULTS=$WORK/results.txt
: > "$RESULTS"
log "zone $ZONE: $HOSTS hosts, mode $MODE, clients [$CLIENTS], ${DURATION}s x $RUNS runs, threads $THREADS"
PORT=$(pick_port 15400)
# Runs outside, servers inside: each server meets the same disk (fsync
# latency on a shared machine drifts a lot within minutes).
for run in $(seq 1 "$RUNS"); do
  log "run $run: $(fsync_ms) ms per 4 KiB write+fsync (median of 20, $WORK)"
  for kind in "${SERVERS[@]}"; do
    w=$WORK/$kind-$run
    start_server "$kind" "$w" "$PORT"
    wait_soa "$PORT" || { cat "$w/server.log" >&2; die "$kind did not start"; }
    for n in $CLIENTS; do
      G=$((n * 10000000))  # update numbers of this run: distinct addresses from other runs'
      r=$(one_run "$kind" "$PORT" "$n" "$w") || { stop_server "$SERVER_PID"; SERVER_PID=; die "$kind run failed"; }
      log "$kind run $run c=$n: $(awk '{printf "%s updates/s, %s us CPU/update, update p99 %s ms, query latency %s ms", $1, $2, $4, $3}' <<<"$r")"
      echo "$kind $n $r" >> "$RESULTS"
    done
    stop_server "$SERVER_PID"; SERVER_PID=
  done
done

# ------------------------------------------------------------ summary -------
med() { awk -v k="$1" -v n="$2" -v f="$3" '$1 == k && $2 == n {print $f}' "$RESULTS" | grep -v '^-$' | median; }
{
  echo "# update-rate $(date -u +%FT%TZ) mode=$MODE hosts=$HOSTS duration=${DURATION}s runs=$RUNS threads=$THREADS ($(nproc) CPUs)"
  printf '%-8s %8s %12s %12s %14s %14s\n' server clients "updates/s" "CPU us/upd" "upd p99 ms" "q-latency ms"
  for kind in "${SERVERS[@]}"; do
    for n in $CLIENTS; do
      printf '%-8s %8s %12s %12s %14s %14s\n' "$kind" "$n" "$(med "$kind" "$n" 3)" "$(med "$kind" "$n" 4)" \
        "$(med "$kind" "$n" 6)" "$(med "$kind" "$n" 5)"
    done
  done
  for n in $CLIENTS; do
    d=$(med ddnsd "$n" 3); k=$(med knot "$n" 3); b=$(med bind "$n" 3)
    awk -v n="$n" -v d="$d" -v k="$k" -v b="$b" 'BEGIN {
      printf "clients %-4s ddnsd/knot %s   ddnsd/bind %s\n", n,
        (d != "-" && k != "-" && k > 0) ? sprintf("%.2fx", d / k) : "-",
        (d != "-" && b != "-" && b > 0) ? sprintf("%.2fx", d / b) : "-" }'
  done
} | tee -a "$OUT_DIR/update-rate.log"
