#!/usr/bin/env bash
# Zone load benchmark: generates a deterministic N-host zone (default
# 1,000,000 hosts, ~2.25M records) with bench/gen_zone.py, then times
# `ddnsctl check-zone` (and `--tree`, the full ddnsd load) against
# named-checkzone, nsd-checkzone and kzonecheck
# in the same run on the same file, and prints a markdown table with ratios.
#
#   bench/zone-load.sh [BUILD_DIR]        # default: build
#   HOSTS=200000 RUNS=3 bench/zone-load.sh build-release
#
# Each tool runs RUNS times (default 1); the best wall time is reported with
# that run's peak RSS (GNU time -v). Needs python3 and /usr/bin/time
# (package `time`; scripts/install-deps.sh test installs it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
hosts=${HOSTS:-1000000}
runs=${RUNS:-1}
origin=example.test
work=${ZONE_BENCH_DIR:-${TMPDIR:-/tmp}/ddns-zone-bench}
mkdir -p "$work"
zone="$work/hosts-$hosts.zone"

ddnsctl="$build/src/cli/ddnsctl"
[ -x "$ddnsctl" ] || ddnsctl="$build/ddnsctl"
if [ ! -x "$ddnsctl" ]; then
  echo "zone-load: no ddnsctl in $build (build it: ninja -C $build ddnsctl)" >&2
  exit 1
fi
if [ ! -x /usr/bin/time ]; then
  echo "zone-load: /usr/bin/time missing (scripts/install-deps.sh test)" >&2
  exit 1
fi

if [ ! -s "$zone" ]; then
  echo "generating $zone ($hosts hosts)..." >&2
  python3 "$here/gen_zone.py" --hosts "$hosts" --origin "$origin." -o "$zone.tmp"
  mv "$zone.tmp" "$zone"
fi
size_mb=$(awk -v b="$(stat -c %s "$zone")" 'BEGIN { printf "%.1f", b / 1048576 }')

# measure NAME CMD...: best-of-RUNS wall seconds, that run's CPU seconds
# (user + system) and max RSS (KiB). The tool's output goes to $work/last.out.
declare -A secs cpu rss status
order=()
measure() {
  local name=$1
  shift
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "zone-load: $1 not installed, skipping $name" >&2
    return
  fi
  local best="" best_rss="" best_cpu="" rc=0 i log="$work/time.log" out="$work/last.out"
  for ((i = 0; i < runs; i++)); do
    rc=0
    /usr/bin/time -v -o "$log" "$@" >"$out" 2>&1 || rc=$?
    local t r c
    t=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
          for (k = 1; k <= n; k++) s = s * 60 + p[k]; print s }' "$log")
    r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
    c=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$log")
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$t
      best_rss=$r
      best_cpu=$c
    fi
  done
  if [ "$rc" -ne 0 ]; then
    echo "zone-load: $name exited $rc:" >&2
    tail -5 "$out" >&2
  fi
  secs[$name]=$best
  cpu[$name]=$best_cpu
  rss[$name]=$best_rss
  status[$name]=$rc
  order+=("$name")
}

measure "ddnsctl check-zone" "$ddnsctl" check-zone "$origin" "$zone"
records=$(sed -n 's/.*(\([0-9]*\) records).*/\1/p' "$work/last.out")
# The full load ddnsd does at start-up: read + check + build the zone tree.
if "$ddnsctl" check-zone --help 2>/dev/null | grep -q -- --tree; then
  measure "ddnsctl check-zone --tree" "$ddnsctl" check-zone --tree "$origin" "$zone"
fi
measure "named-checkzone -i local" named-checkzone -i local "$origin" "$zone"
measure "nsd-checkzone" nsd-checkzone "$origin" "$zone"
measure "kzonecheck" kzonecheck -o "$origin" "$zone"

base="ddnsctl check-zone"
echo
echo "Zone: $hosts hosts, ${records:-?} records, $size_mb MiB; $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) before the run; $(date -u '+%Y-%m-%d %H:%M') UTC"
echo
echo "| tool | wall s | CPU s | peak RSS MiB | wall vs ddnsctl | CPU vs ddnsctl | RSS vs ddnsctl | exit |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for n in "${order[@]}"; do
  awk -v n="$n" -v t="${secs[$n]}" -v c="${cpu[$n]}" -v r="${rss[$n]}" \
      -v bt="${secs[$base]:-0}" -v bc="${cpu[$base]:-0}" -v br="${rss[$base]:-0}" \
      -v rc="${status[$n]}" 'BEGIN {
        tr = (bt > 0) ? sprintf("%.2fx", t / bt) : "-";
        cr = (bc > 0) ? sprintf("%.2fx", c / bc) : "-";
        rr = (br > 0) ? sprintf("%.2fx", r / br) : "-";
        printf "| %s | %.2f | %.2f | %.0f | %s | %s | %s | %s |\n", n, t, c, r / 1024, tr, cr, rr, rc }'
done
echo
echo "ddnsctl check-zone = read + parse + semantic checks; --tree adds building the"
echo "immutable zone tree ddnsd serves from (the full start-up load). Ratios are"
echo "against plain ddnsctl check-zone."
