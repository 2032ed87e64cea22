#!/usr/bin/env bash
# Authoritative UDP query throughput: ddnsd vs Knot DNS vs NSD, same zone,
# same worker count, same dnsperf load, on loopback.
#
# usage: bench/auth-qps.sh [SERVER...]        SERVER: ddnsd knot nsd (default: all three)
#
# Environment (defaults in brackets):
#   HOSTS [100000]        zone size: host<i> A+AAAA, 5% www<i> CNAMEs, 1% delegations
#   THREADS ["1 2"]       worker counts to run (ddnsd --threads, knot udp-workers,
#                         nsd server-count)
#   RUNS [3]              rounds per worker count; a round runs every server once
#                         (restarted each time); the summary shows medians
#   DURATION [15]         dnsperf -l seconds
#   CLIENTS [8]           dnsperf -c;  OUTSTANDING [100] dnsperf -q (more overflows
#                         the default 208 KB socket buffer: kernel drops, not server loss)
#   LOADGEN [dnsperf]     or udpblast: bench/udpblast.cc (sendmmsg/recvmmsg, built on
#                         first use into OUT_DIR), less client CPU per query, reports p99
#   RATE []               with LOADGEN=udpblast: an open loop at this many QPS (udpblast -r),
#                         to compare latency at a given load rather than at saturation;
#                         OUTSTANDING then only bounds what may be in flight per socket
#   DDNSD [build/src/cli/ddnsd]  KNOTD [knotd]  NSD [nsd]  DNSPERF [dnsperf]
#   DATA_DIR [bench/out/data]   OUT_DIR [bench/out]   (results appended to OUT_DIR/auth-qps.log)
#
# Method: 1 worker -> server pinned to CPU 0, dnsperf to CPU 1 (knotd pins its
# worker i to CPU i itself). 2 workers on a 2-core machine -> nothing pinned,
# server and dnsperf share the cores. Before a run counts, a sanity check
# (dig) must see a hit, NXDOMAIN, CNAME, referral and wildcard answered right.
# Server CPU per answered query = (utime+stime of the server's process tree
# over the dnsperf run, /proc/PID/stat) / queries completed. Memory = PSS
# summed over the process tree after the run (NSD forks). Load time = from
# exec to the first SOA answer. dnsperf 2.10 prints no percentiles: latency
# is its average, standard deviation and maximum (udpblast: average and p99).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOSTS=${HOSTS:-100000}
THREADS=${THREADS:-"1 2"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
DDNSD=${DDNSD:-$ROOT/build/src/cli/ddnsd}
KNOTD=${KNOTD:-knotd}
NSD=${NSD:-nsd}
DNSPERF=${DNSPERF:-dnsperf}
LOADGEN=${LOADGEN:-dnsperf}
UDPBLAST=${UDPBLAST:-}
OUT_DIR=${OUT_DIR:-$ROOT/bench/out}
DATA_DIR=${DATA_DIR:-$OUT_DIR/data}
ZONE=bench.test.
ADDR=127.0.0.1
SERVERS=("$@")
[ ${#SERVERS[@]} -eq 0 ] && SERVERS=(ddnsd knot nsd)
NCPU=$(nproc)
HZ=$(getconf CLK_TCK)

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }

case "$LOADGEN" in
  dnsperf) TAIL_NAME=max;;
  udpblast)
    TAIL_NAME=p99
    if [ -z "$UDPBLAST" ]; then
      UDPBLAST=$OUT_DIR/udpblast
      mkdir -p "$OUT_DIR"
      if [ ! -x "$UDPBLAST" ] || [ "$ROOT/bench/udpblast.cc" -nt "$UDPBLAST" ]; then
        g++ -O2 -std=c++20 -Wall -Wextra -o "$UDPBLAST" "$ROOT/bench/udpblast.cc" || die "cannot build udpblast"
      fi
    fi;;
  *) die "LOADGEN must be dnsperf or udpblast";;
esac
[ -n "${RATE:-}" ] && [ "$LOADGEN" != udpblast ] && die "RATE needs LOADGEN=udpblast"
LOADDESC="$LOADGEN -l $DURATION -c $CLIENTS -q $OUTSTANDING${RATE:+ -r $RATE}"
for tool in "$DNSPERF" dig taskset; do command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh test)"; done

# ------------------------------------------------------------ helpers -------
port_free() { ! ss -Hlnu "sport = :$1" | grep -q . && ! ss -Hlnt "sport = :$1" | grep -q .; }
pick_port() { local p; for p in $(seq "$1" $(($1 + 50))); do port_free "$p" && { echo "$p"; return; }; done; die "no free port near $1"; }

descendants() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; done; }
cpu_ticks() {  # utime+stime of the process tree, in clock ticks
  local s=0 p v
  for p in $(descendants "$1"); do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13}'); s=$((s + ${v:-0}))
  done
  echo "$s"
}
pss_kb() {  # proportional set size of the process tree (shared pages counted once)
  local s=0 p v
  for p in $(descendants "$1"); do
    v=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null); s=$((s + ${v:-0}))
  done
  echo "$s"
}
udp_rcvbuf_errors() { awk '/^Udp:/{ if(!h){for(i=1;i<=NF;i++) if($i=="RcvbufErrors") c=i; h=1} else print $c }' /proc/net/snmp; }

SERVER_PID=
stop_server() {
  local pid=$1 kids i
  [ -n "$pid" ] || return 0
  kids=$(descendants "$pid" | tail -n +2)
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "PID $pid ignored SIGTERM, killing"; kill -KILL "$pid" 2>/dev/null; }
  wait "$pid" 2>/dev/null
  for i in $kids; do kill -0 "$i" 2>/dev/null && kill -KILL "$i" 2>/dev/null; done
  return 0
}
trap 'stop_server "$SERVER_PID"; SERVER_PID=' EXIT
trap 'exit 130' INT TERM

# start_server KIND WORKDIR PORT THREADS -> SERVER_PID, T_START
start_server() {
  local kind=$1 w=$2 port=$3 t=$4 pin=()
  [ "$t" = 1 ] && [ "$NCPU" -ge 2 ] && pin=(taskset -c 0)
  mkdir -p "$w"
  case "$kind" in
  ddnsd)
    [ -x "$DDNSD" ] || die "ddnsd not built at $DDNSD (make build)"
    T_START=$(now)
    "${pin[@]}" "$DDNSD" --listen "$ADDR:$port" --zone "$ZONE=$ZONE_FILE" --threads "$t" \
      > "$w/server.log" 2>&1 &
    ;;
  knot)
    mkdir -p "$w/db"   # knotd does not create its database directory
    cat > "$w/knot.conf" <<EOF
server:
    rundir: "$w"
    pidfile: "$w/knot.pid"
    listen: $ADDR@$port
    udp-workers: $t
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$w/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$w"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $ZONE
    file: "$ZONE_FILE"
EOF
    T_START=$(now)
    "${pin[@]}" "$KNOTD" -c "$w/knot.conf" > "$w/server.log" 2>&1 &
    ;;
  nsd)
    {
      echo "server:"
      echo "    ip-address: $ADDR"
      echo "    port: $port"
      echo "    do-ip6: no"
      echo "    server-count: $t"
      [ "$t" -gt 1 ] && echo "    reuseport: yes"
      echo "    username: \"\""
      echo "    chroot: \"\""
      echo "    database: \"\""
      echo "    zonesdir: \"$w\""
      echo "    zonelistfile: \"$w/zone.list\""
      echo "    xfrdfile: \"$w/xfrd.state\""
      echo "    xfrdir: \"$w\""
      echo "    pidfile: \"$w/nsd.pid\""
      echo "    cookie-secret-file: \"$w/nsd_cookiesecrets.txt\""
      echo "    verbosity: 1"
      echo "    rrl-ratelimit: 0    # Debian's NSD rate-limits 200 qps per /24 by default"
      echo "    rrl-whitelist-ratelimit: 0"
      echo "remote-control:"
      echo "    control-enable: no"
      echo "zone:"
      echo "    name: $ZONE"
      echo "    zonefile: \"$ZONE_FILE\""
    } > "$w/nsd.conf"
    T_START=$(now)
    "${pin[@]}" "$NSD" -d -c "$w/nsd.conf" > "$w/server.log" 2>&1 &
    ;;
  *) die "unknown server $kind (ddnsd knot nsd)";;
  esac
  SERVER_PID=$!
}

wait_soa() {  # wait_soa PORT -> 0 once the zone's SOA is answered
  local port=$1 i
  for i in $(seq 1 3000); do
    dig +norec +time=1 +tries=1 +noall +answer -p "$port" "@$ADDR" "$ZONE" SOA 2>/dev/null | grep -q 'SOA' && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { log "server died while loading"; return 1; }
    sleep 0.02
  done
  log "no SOA answer after 60 s"; return 1
}

# A broken server must not post a good number.
sanity_check() {
  local port=$1 r ok=0
  q() { dig +norec +time=2 +tries=1 -p "$port" "@$ADDR" "$@" 2>/dev/null; }
  r=$(q "host0.$ZONE" A)
  grep -q 'status: NOERROR' <<<"$r" && grep -q '198\.18\.0\.0' <<<"$r" || { log "sanity: host0 A wrong"; ok=1; }
  r=$(q "host7.$ZONE" AAAA)
  grep -q '2001:db8::7' <<<"$r" || { log "sanity: host7 AAAA wrong"; ok=1; }
  r=$(q "nx1.$ZONE" A)
  grep -q 'status: NXDOMAIN' <<<"$r" && grep -q 'SOA' <<<"$r" || { log "sanity: NXDOMAIN wrong"; ok=1; }
  r=$(q "www3.$ZONE" A)
  grep -q 'CNAME' <<<"$r" && grep -q '198\.18\.0\.3' <<<"$r" || { log "sanity: CNAME wrong"; ok=1; }
  r=$(q "host1.sub5.$ZONE" A)
  grep -q 'ANSWER: 0, AUTHORITY: 2' <<<"$r" && grep -q 'ns1.sub5' <<<"$r" && ! grep -q 'flags:.* aa' <<<"$r" \
    || { log "sanity: referral wrong"; ok=1; }
  r=$(q "x.wild.$ZONE" A)
  grep -q '192\.0\.2\.254' <<<"$r" || { log "sanity: wildcard wrong"; ok=1; }
  return $ok
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{if(!NR){print "NA";exit} print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# ------------------------------------------------------------ main ----------
mkdir -p "$OUT_DIR"
DATA="$DATA_DIR/h$HOSTS"
if [ ! -s "$DATA/queries" ]; then
  log "generating $HOSTS-host zone into $DATA"
  python3 "$ROOT/bench/auth_zone.py" --hosts "$HOSTS" --out-dir "$DATA" >&2 || die "zone generator failed"
fi
ZONE_FILE="$DATA/zone"
QUERIES="$DATA/queries"
LOG="$OUT_DIR/auth-qps.log"
declare -A RES   # RES[server,threads,metric] = "v1 v2 v3"

# Rounds: each runs every server once, so a machine that drifts between a
# fast and a slow state (a shared VM does, over minutes) moves every
# server's figures alike, and the per-round ratios stay comparable.
for t in $THREADS; do
  for run in $(seq 1 "$RUNS"); do
    for s in "${SERVERS[@]}"; do
      port=$(pick_port 5400)
      w=$(mktemp -d "${TMPDIR:-/tmp}/ddns-authqps.$s.XXXXXX")
      start_server "$s" "$w" "$port" "$t"
      if ! wait_soa "$port"; then tail -20 "$w/server.log" >&2; stop_server "$SERVER_PID"; SERVER_PID=; die "$s did not come up"; fi
      load_s=$(awk -v a="$(now)" -v b="$T_START" 'BEGIN{printf "%.2f", a-b}')
      if ! sanity_check "$port"; then tail -20 "$w/server.log" >&2; stop_server "$SERVER_PID"; SERVER_PID=; die "$s failed the sanity check: no figure"; fi
      pin=(); [ "$t" = 1 ] && [ "$NCPU" -ge 2 ] && pin=(taskset -c 1)
      load1=$(cut -d" " -f1 /proc/loadavg)   # other work on the machine skews figures
      u0=$(udp_rcvbuf_errors); c0=$(cpu_ticks "$SERVER_PID")
      if [ "$LOADGEN" = udpblast ]; then
        "${pin[@]}" "$UDPBLAST" -s "$ADDR" -p "$port" -d "$QUERIES" -l "$DURATION" -c "$CLIENTS" \
          -q "$OUTSTANDING" ${RATE:+-r "$RATE"} > "$w/load.out" 2>&1
      else
        "${pin[@]}" "$DNSPERF" -s "$ADDR" -p "$port" -d "$QUERIES" -l "$DURATION" -c "$CLIENTS" -T 1 \
          -q "$OUTSTANDING" -t 2 > "$w/load.out" 2>&1
      fi
      c1=$(cpu_ticks "$SERVER_PID"); u1=$(udp_rcvbuf_errors)
      pss=$(pss_kb "$SERVER_PID")
      kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$w/server.log" >&2; die "$s died during the run"; }
      stop_server "$SERVER_PID"; SERVER_PID=
      # tail = dnsperf's maximum latency, or udpblast's 99th percentile
      read -r qps ndone lost lat sd tail rcodes < <(awk '
        /Queries completed:/ {d=$3} /Queries lost:/ {l=$3} /Queries per second:/ {q=$4}
        /Average Latency/ {a=$4*1e6; gsub(/[),]/,"",$8); m=$8*1e6} /Latency StdDev/ {sd=$4*1e6}
        /^Latency \(us\):/ {a=$4; m=$8; sd="NA"}
        /Response codes:/ {sub(/.*Response codes: */,""); gsub(/ \([^)]*\)/,""); gsub(/, /,","); gsub(/ /,":"); rc=$0}
        END {printf "%s %s %s %s %s %s %s\n", q, d, l, a, sd, m, rc}' "$w/load.out")
      [ -n "${ndone:-}" ] && [ "${ndone:-0}" -gt 0 ] || { cat "$w/load.out" >&2; die "$LOADGEN reported nothing"; }
      cpu_us=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="$ndone" 'BEGIN{printf "%.2f", c/hz*1e6/n}')
      line="server=$s threads=$t run=$run hosts=$HOSTS qps=$qps completed=$ndone lost=$lost loadgen=$LOADGEN lat_avg_us=$lat lat_sd_us=$sd lat_${TAIL_NAME}_us=$tail cpu_us_per_q=$cpu_us pss_mb=$((pss / 1024)) load_s=$load_s udp_rcvbuf_errors=$((u1 - u0)) rcodes=$rcodes duration=$DURATION clients=$CLIENTS outstanding=$OUTSTANDING rate=${RATE:-max} loadavg1_before=$load1"
      echo "$line"; echo "$(date -Is) $line" >> "$LOG"
      for m in qps lat sd tail cpu_us lost load_s; do RES[$s,$t,$m]+="${!m} "; done
      RES[$s,$t,pss]+="$((pss / 1024)) "
      rm -rf "$w"
    done
  done
done

# ------------------------------------------------------------ summary -------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="NA"||b=="NA"||b+0==0) print "-"; else printf "%.2f", a/b }'; }
{
  echo
  echo "Medians of $RUNS round(s), $HOSTS hosts, $LOADDESC;"
  echo "ratio columns are server/ddnsd (for QPS higher is better, for CPU and memory lower);"
  echo "cpu/d-rd and qps/d-rd are medians over rounds of each round's own ratio (robust to drift)."
  printf '%-6s %-2s %9s %7s %8s %8s %9s %8s %7s %7s %6s %6s %6s %8s %8s %7s\n' \
    server w qps lost avg_us "${TAIL_NAME}_us" cpu_us/q pss_MB load_s 'qps/d' 'cpu/d' 'mem/d' 'load/d' 'cpu/d-rd' 'qps/d-rd' "${TAIL_NAME}/d"
  for t in $THREADS; do
    for s in "${SERVERS[@]}"; do
      declare -A M=() D=()
      for m in qps lost lat tail cpu_us pss load_s; do
        # shellcheck disable=SC2086
        M[$m]=$(median ${RES[$s,$t,$m]:-})
        # shellcheck disable=SC2086
        D[$m]=$(median ${RES[ddnsd,$t,$m]:-})
      done
      # shellcheck disable=SC2206
      mine=(${RES[$s,$t,cpu_us]:-}) base=(${RES[ddnsd,$t,cpu_us]:-}) rr=()
      for i in "${!mine[@]}"; do [ -n "${base[$i]:-}" ] && rr+=("$(ratio "${mine[$i]}" "${base[$i]}")"); done
      # shellcheck disable=SC2206
      mine=(${RES[$s,$t,qps]:-}) base=(${RES[ddnsd,$t,qps]:-}) qr=()
      for i in "${!mine[@]}"; do [ -n "${base[$i]:-}" ] && qr+=("$(ratio "${mine[$i]}" "${base[$i]}")"); done
      printf '%-6s %-2s %9.0f %7s %8s %8s %9s %8s %7s %7s %6s %6s %6s %8s %8s %7s\n' "$s" "$t" "${M[qps]}" "${M[lost]}" \
        "${M[lat]}" "${M[tail]}" "${M[cpu_us]}" "${M[pss]}" "${M[load_s]}" \
        "$(ratio "${M[qps]}" "${D[qps]}")" "$(ratio "${M[cpu_us]}" "${D[cpu_us]}")" \
        "$(ratio "${M[pss]}" "${D[pss]}")" "$(ratio "${M[load_s]}" "${D[load_s]}")" "$(median "${rr[@]}")" "$(median "${qr[@]}")" \
        "$(ratio "${M[tail]}" "${D[tail]}")"
    done
  done
} | tee -a "$LOG"
