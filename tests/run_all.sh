#!/usr/bin/env bash
# Sets up, builds and runs every Taskbench test on Debian 12; CI runs exactly this.
#   1. deps  - packaging/install-deps.sh (Debian packages; idempotent; root or sudo)
#   2. main  - build/ (RelWithDebInfo, GUI included): every target, every ctest test
#   3. tsan  - build-tsan/ (ThreadSanitizer, no GUI): the tests labelled "core" (the engine)
#              or "sanitized" (the history's recorder and store)
#   4. asan  - build-asan/ (AddressSanitizer + UBSan, no GUI): those tests again,
#              skipped when the run has already used more than TASKBENCH_ASAN_BUDGET_MIN
#              minutes (CI gives 90 minutes on 2 cores)
# Stops at the first failure with the phase's name. Prints the time of every phase.
#
# Knobs (all optional): TASKBENCH_PHASES="main tsan asan" picks phases (deps always runs),
# TASKBENCH_ASAN_BUDGET_MIN (default 50), CCACHE_DIR (default ~/.ccache).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PHASES="${TASKBENCH_PHASES:-main tsan asan}"
ASAN_BUDGET_MIN="${TASKBENCH_ASAN_BUDGET_MIN:-50}"
JOBS="$(nproc 2>/dev/null || echo 2)"
START=$SECONDS
TIMINGS=()
CURRENT_PHASE="setup"

die() {
  echo "" >&2
  echo "run_all.sh: FAILED in phase '$CURRENT_PHASE': $*" >&2
  print_timings >&2
  exit 1
}
print_timings() {
  echo "==> Timings"
  local t
  for t in "${TIMINGS[@]}"; do echo "    $t"; done
  echo "    total: $((SECONDS - START)) s"
}
phase_begin() {
  CURRENT_PHASE="$1"
  PHASE_START=$SECONDS
  echo ""
  echo "==> [$1] $2 (at $((SECONDS - START)) s)"
}
phase_end() {
  local took=$((SECONDS - PHASE_START))
  TIMINGS+=("$CURRENT_PHASE: ${took} s")
  echo "==> [$CURRENT_PHASE] done in ${took} s"
}
wants() { [[ " $PHASES " == *" $1 "* ]]; }

# ccache: sanitizer and normal objects hash differently (their flags differ), so the three
# build trees share one cache without mixing; a second run rebuilds in seconds.
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/tmp}/.ccache}"
export CCACHE_BASEDIR="$ROOT"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
# Tests never ask questions and never need a real display.
export QT_QPA_PLATFORM=offscreen
export CTEST_OUTPUT_ON_FAILURE=1

configure() { # dir, extra cmake args...
  local dir="$1"
  shift
  cmake -G Ninja -S "$ROOT" -B "$dir" "$@" || die "configuring $dir failed (see above)"
}

# The ctest labels the sanitizer builds run (a regular expression, as ctest -L takes it).
SANITIZED_LABELS='^(core|sanitized)$'

# The test targets labelled so: taskbench_add_test names a test after its target; tests
# that are commands rather than targets (e.g. an out-of-tree build) need no build here.
sanitized_tests() { # dir
  local known
  known="$(ninja -C "$1" -t targets all | sed -n 's/^\([^:]*\): phony$/\1/p')"
  ctest --test-dir "$1" -N -L "$SANITIZED_LABELS" | sed -n 's/^ *Test *#[0-9]*: *\([^ ]*\).*$/\1/p' \
    | while read -r t; do grep -qxF "$t" <<<"$known" && echo "$t"; done
  return 0
}
# Every plugin and the worker executable, which these tests load or start; ninja knows them
# by their output paths (<dir>/plugins/*.so, <dir>/bin/taskbench-worker).
runtime_targets() { # dir
  ninja -C "$1" -t targets all \
    | sed -n 's/^\(plugins\/[^:/]*\.so\): .*$/\1/p; s/^\(bin\/taskbench-worker\): .*$/\1/p' \
    | sort -u
}

# True when LeakSanitizer works in this environment (a leak-free program exits cleanly).
lsan_works() {
  local dir rc=0
  dir="$(mktemp -d)"
  printf 'int main() { return 0; }\n' >"$dir/probe.cpp"
  if c++ -fsanitize=address "$dir/probe.cpp" -o "$dir/probe" 2>/dev/null; then
    ASAN_OPTIONS=detect_leaks=1 "$dir/probe" >/dev/null 2>&1 || rc=1
  else
    rc=1
  fi
  rm -rf "$dir"
  return $rc
}

sanitizer_phase() { # name, dir, sanitizer, ctest timeout (s), runner prefix...
  local name="$1" dir="$2" sanitizer="$3" limit="$4"
  shift 4
  # A crashing Qt test attaches gdb for a stack trace, which can hang under a sanitizer;
  # the sanitizer prints its own stacks.
  export QTEST_DISABLE_STACK_DUMP=1
  configure "$dir" -DCMAKE_BUILD_TYPE=Debug -DTASKBENCH_SANITIZE="$sanitizer" \
    -DTASKBENCH_BUILD_GUI=OFF -DTASKBENCH_BUILD_TESTS=ON
  local tests=() runtime=()
  mapfile -t tests < <(sanitized_tests "$dir")
  [ "${#tests[@]}" -gt 0 ] || die "no tests labelled 'core' or 'sanitized' in $dir"
  mapfile -t runtime < <(runtime_targets "$dir")
  local targets=("${tests[@]}" "${runtime[@]}")
  echo "$name: building ${#targets[@]} targets: ${targets[*]}"
  cmake --build "$dir" --parallel "$JOBS" --target "${targets[@]}" \
    || die "the $name build failed (see above)"
  "$@" timeout --kill-after=30 "$limit" \
    ctest --test-dir "$dir" -L "$SANITIZED_LABELS" --output-on-failure -j2 --timeout 900 \
    || die "$name: tests failed (sanitizer reports are above)"
}

# ---------------------------------------------------------------------------------------
phase_begin deps "installing dependencies"
"$ROOT/packaging/install-deps.sh" \
  || die "packaging/install-deps.sh failed (it needs root or sudo and Debian's archive)"
command -v ccache >/dev/null || echo "run_all.sh: ccache not found; building without it"
phase_end

if wants main; then
  phase_begin main "build/ (RelWithDebInfo, everything) and every test"
  configure "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTASKBENCH_BUILD_GUI=ON \
    -DTASKBENCH_BUILD_TESTS=ON -DTASKBENCH_SANITIZE=
  cmake --build "$ROOT/build" --parallel "$JOBS" || die "the build failed (see above)"
  timeout --kill-after=30 1800 \
    ctest --test-dir "$ROOT/build" --output-on-failure -j2 --timeout 600 \
    || die "tests failed (see above)"
  phase_end
fi

if wants tsan; then
  phase_begin tsan "build-tsan/ (ThreadSanitizer): tests labelled core or sanitized"
  # halt_on_error: the first race fails the test instead of scrolling by. Debian's Qt is not
  # built with TSan, so its own synchronisation (e.g. the QtTest watchdog) looks racy:
  # tests/tsan.supp silences reports that lie inside Qt.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp"
  # GCC 12's TSan cannot map its shadow memory when the kernel randomizes mmap with more
  # than 28 bits (newer kernels); running without address randomization avoids that.
  runner=()
  if setarch "$(uname -m)" -R true 2>/dev/null; then runner=(setarch "$(uname -m)" -R); fi
  sanitizer_phase tsan "$ROOT/build-tsan" thread 1800 "${runner[@]}"
  phase_end
fi

if wants asan; then
  used_min=$(((SECONDS - START) / 60))
  if [ "$used_min" -ge "$ASAN_BUDGET_MIN" ]; then
    echo ""
    echo "==> [asan] skipped: ${used_min} min used, budget for starting it is ${ASAN_BUDGET_MIN} min"
    TIMINGS+=("asan: skipped (time budget)")
  else
    phase_begin asan "build-asan/ (AddressSanitizer + UBSan): tests labelled core or sanitized"
    # LeakSanitizer is on: these tests leak nothing (plugins stay loaded on purpose, which
    # LSan does not count). It needs ptrace-like rights that some containers withhold; there
    # it dies with a fatal error on every exit, so probe it once and turn only leaks off.
    leaks=1
    if ! lsan_works; then
      leaks=0
      echo "asan: LeakSanitizer cannot run here (no ptrace rights?); leak checks are off"
    fi
    export ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    sanitizer_phase asan "$ROOT/build-asan" address 1500
    phase_end
  fi
fi

echo ""
echo "run_all.sh: all tests passed"
print_timings
