#!/usr/bin/env bash
# The whole test run behind `make test`: release build + all ctest tests,
# ASan/UBSan unit tests, TSan on the threaded layers, bounded libFuzzer runs.
# Runs every stage even after a failure, prints one summary, exits non-zero
# if any stage failed.
#
# Environment (defaults in brackets):
#   JOBS [nproc]            parallel compile / ctest jobs
#   FUZZ_SECONDS [60]       libFuzzer -max_total_time per target
#   FUZZ_BUDGET [480]       upper bound for all fuzz targets together (s);
#                           per-target time shrinks to fit (at least 10 s)
#   CTEST_TIMEOUT [300]     default per-test timeout (daemon tests set their own)
#   STAGES ["build asan tsan fuzz"]  subset to run, e.g. STAGES=fuzz
#   SKIP_DEPS=1             do not call scripts/install-deps.sh
#   BUILD [build]           build dir prefix: $BUILD, $BUILD-asan, $BUILD-tsan, $BUILD-fuzz
# shellcheck disable=SC2317  # stage functions are called through stage()
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_BUDGET=${FUZZ_BUDGET:-480}
CTEST_TIMEOUT=${CTEST_TIMEOUT:-300}
STAGES=${STAGES:-build asan tsan fuzz}
B=${BUILD:-build}
# ccache (CMake uses it when installed): paths below ROOT hash as relative
# paths, so a fresh clone in another folder reuses an earlier run's objects.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

T_START=$(date +%s)
RESULTS=()   # "stage status seconds"
FAILED=()

log() { printf '\n==== [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fmt_s() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# stage NAME FUNCTION: runs it, records PASS/FAIL/SKIP (function returns 77 = skip)
stage() {
  local name=$1 fn=$2 t0 rc st
  case " $STAGES " in *" $name "*) ;; *) return 0;; esac
  log "stage $name"
  t0=$(date +%s)
  "$fn"; rc=$?
  case $rc in 0) st=PASS;; 77) st=SKIP;; *) st=FAIL; FAILED+=("$name");; esac
  RESULTS+=("$name $st $(( $(date +%s) - t0 ))")
  log "stage $name: $st ($(fmt_s $(( $(date +%s) - t0 ))))"
}

# configure DIR [cmake args...]: (re)configure only when needed. CI treats
# warnings as errors (DDNS_WERROR; off in users' builds): a build dir made
# without it is configured again.
configure() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ] || ! grep -q '^DDNS_WERROR:BOOL=ON$' "$dir/CMakeCache.txt"; then
    cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDDNS_WERROR=ON "$@" || return 1
  fi
}

# has_target DIR NAME -> 0 if ninja knows target NAME
has_target() { ninja -C "$1" -t targets all 2>/dev/null | grep -q "^$2:"; }

# ---------------------------------------------------------------- stages ------
st_build() {
  configure "$B" || return 1
  ninja -C "$B" -j "$JOBS" || return 1
  (cd "$B" && ctest --output-on-failure --no-tests=error --timeout "$CTEST_TIMEOUT" -j "$JOBS")
}

st_asan() {
  configure "$B-asan" -DDDNS_SANITIZE=ON || return 1
  ninja -C "$B-asan" -j "$JOBS" || return 1
  (cd "$B-asan" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -L unit --output-on-failure --no-tests=error --timeout "$CTEST_TIMEOUT" -j "$JOBS")
}

# TSan matters where threads are: the net, server and update (writer) layers. Only their
# test binaries are built and run (ctest test names come from gtest suites,
# so the binaries are run directly rather than selected with ctest -R).
st_tsan() {
  local t ran=0 rc=0
  configure "$B-tsan" -DDDNS_TSAN=ON || return 1
  for t in net_test server_test update_test xfr_test accounts_test http_test dyndns_test; do
    has_target "$B-tsan" "$t" || { echo "tsan: no target $t yet"; continue; }
    ninja -C "$B-tsan" -j "$JOBS" "$t" || { rc=1; continue; }
    echo "tsan: running $t"
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
      timeout "$CTEST_TIMEOUT" "$B-tsan/$t" --gtest_brief=1 || rc=1
    ran=1
  done
  [ "$ran" = 0 ] && [ "$rc" = 0 ] && return 77
  return "$rc"
}

st_fuzz() {
  local targets=() t n per rc=0 seeds work
  command -v clang++ >/dev/null || { echo "fuzz: clang++ missing"; return 1; }
  # The fuzz targets link every layer, so this clang build is also the
  # -Wthread-safety check (locking rules in base/thread_annotations.h).
  CC=clang CXX=clang++ configure "$B-fuzz" -DDDNS_FUZZ=ON -DDDNS_TESTS=OFF || return 1
  ninja -C "$B-fuzz" -j "$JOBS" fuzz || return 1
  read -r -a targets < <(tr ';' ' ' < "$B-fuzz"/fuzz-targets.txt)
  n=${#targets[@]}
  [ "$n" -eq 0 ] && { echo "fuzz: no fuzz/*.cc targets yet"; return 77; }
  per=$FUZZ_SECONDS
  [ $((per * n)) -gt "$FUZZ_BUDGET" ] && per=$((FUZZ_BUDGET / n))
  [ "$per" -lt 10 ] && per=10
  mkdir -p "$B-fuzz"/artifacts
  for t in "${targets[@]}"; do
    # libFuzzer writes new inputs into the first corpus dir: keep the
    # checked-in seeds read-only by putting a scratch dir first.
    work="$B-fuzz/corpus/$t"; mkdir -p "$work"
    seeds=(); [ -d "fuzz/corpus/$t" ] && seeds=("fuzz/corpus/$t")
    echo "fuzz: $t for ${per}s (seeds: ${seeds[*]:-none})"
    if ! timeout $((per + 120)) "$B-fuzz/fuzz/$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$B-fuzz/artifacts/$t-" "$work" "${seeds[@]}" \
        > "$B-fuzz/$t.log" 2>&1; then
      echo "fuzz: $t FAILED; last lines of $B-fuzz/$t.log:"; tail -40 "$B-fuzz/$t.log"; rc=1
    else
      grep -E 'stat::number_of_executed_units|stat::new_units_added' "$B-fuzz/$t.log" | tr '\n' ' '; echo
    fi
  done
  return "$rc"
}

if [ "${SKIP_DEPS:-0}" != 1 ]; then
  scripts/install-deps.sh test || { echo "make test: FAIL (install-deps)"; exit 1; }
fi
stage build st_build
stage asan  st_asan
stage tsan  st_tsan
stage fuzz  st_fuzz

total=$(( $(date +%s) - T_START ))
printf '\n==== summary\n'
for r in "${RESULTS[@]}"; do
  read -r n s d <<<"$r"; printf '  %-6s %-4s %s\n' "$n" "$s" "$(fmt_s "$d")"
done
if [ ${#FAILED[@]} -eq 0 ]; then
  echo "make test: PASS in $(fmt_s $total)"
  exit 0
fi
echo "make test: FAIL (${FAILED[*]}) in $(fmt_s $total)"
exit 1
