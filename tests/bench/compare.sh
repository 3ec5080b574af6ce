#!/usr/bin/env bash
# compare.sh: Taskbench against Dask futures on the workloads of shared/bench/WORKLOADS.md,
# measured in one run on this machine. Only ratios from one run mean anything on a shared,
# noisy machine, so the engines are interleaved: for each workload, Taskbench threads, Dask
# threads, Taskbench processes, Dask processes, then the ProcessPool/ThreadPool baselines,
# each in its own process. Prints markdown tables (tasks/s, ratios to Dask with processes,
# latency percentiles, memory per pending future, start-up) on stdout; writes the raw JSON
# lines of every run to a file (--out).
#
#   tests/bench/compare.sh                       # full: --scale 1 --repeat 3 (~10 min)
#   tests/bench/compare.sh --scale 0.25 --repeat 1
#   tests/bench/compare.sh --quick               # --scale 0.25 --repeat 1 --memory 100000
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

SCALE=1.0
REPEAT=3
MEMORY=1000000
TIMEOUT=900
WORKLOADS=submit,map,chain,tree,latency,retries
PEER=${TASKBENCH_PEER:-$REPO/../shared/bench/peer_dask.py}
BUILD=${TASKBENCH_BENCH_BUILD:-$REPO/build-bench}
OUT=
INSTALL=1
# The retries workload creates ⌈N/5⌉ marker files per run in the system temporary directory
# (both sides alike). On ext4 that inode allocation, slowed by every earlier run's deleted
# markers, costs more than the engine does (perf: ext4 find_inode_bit/recently_deleted took
# two thirds of the samples); a tmpfs keeps the figure about the engines.
BENCH_TMPDIR=/dev/shm
PYTHON=/usr/bin/python3 # Debian's interpreter: the one python3-distributed installs into

usage() {
    cat <<EOF
usage: tests/bench/compare.sh [--scale S] [--repeat R] [--quick] [--workloads LIST]
                              [--memory N] [--peer PATH] [--build-dir DIR] [--out FILE]
                              [--timeout SECONDS] [--no-install]
  --scale S        multiplies every workload size (default 1.0)
  --repeat R       timed runs per workload, medians reported (default 3)
  --quick          --scale 0.25 --repeat 1 --memory 100000
  --workloads LIST comma list (default submit,map,chain,tree,latency,retries)
  --memory N       pending futures of the memory mode (default 1000000; 0 skips it)
  --peer PATH      peer script (default \$TASKBENCH_PEER or <repo>/../shared/bench/peer_dask.py)
  --build-dir DIR  build tree to use or create (default <repo>/build-bench, Release); an
                   existing tree such as <repo>/build is reused as it is configured
  --out FILE       raw JSON lines (default <build-dir>/compare-<date>.jsonl)
  --timeout S      per-process watchdog of both benchmarks (default 900)
  --tmpdir DIR     TMPDIR of both benchmarks, where retries puts its marker files
                   (default /dev/shm, a tmpfs, when writable; "" keeps the caller's)
  --no-install     do not apt-get install python3-distributed when it is missing
EOF
}

die() {
    echo "compare.sh: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --scale) SCALE=${2:?--scale needs a value}; shift 2 ;;
    --scale=*) SCALE=${1#*=}; shift ;;
    --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
    --repeat=*) REPEAT=${1#*=}; shift ;;
    --quick) SCALE=0.25; REPEAT=1; MEMORY=100000; shift ;;
    --workloads) WORKLOADS=${2:?--workloads needs a value}; shift 2 ;;
    --workloads=*) WORKLOADS=${1#*=}; shift ;;
    --memory) MEMORY=${2:?--memory needs a value}; shift 2 ;;
    --memory=*) MEMORY=${1#*=}; shift ;;
    --peer) PEER=${2:?--peer needs a path}; shift 2 ;;
    --peer=*) PEER=${1#*=}; shift ;;
    --build-dir) BUILD=${2:?--build-dir needs a path}; shift 2 ;;
    --build-dir=*) BUILD=${1#*=}; shift ;;
    --out) OUT=${2:?--out needs a path}; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    --timeout) TIMEOUT=${2:?--timeout needs a value}; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    --tmpdir) BENCH_TMPDIR=${2?--tmpdir needs a path}; shift 2 ;;
    --tmpdir=*) BENCH_TMPDIR=${1#*=}; shift ;;
    --no-install) INSTALL=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat must be an integer >= 1"
[[ $MEMORY =~ ^[0-9]+$ ]] || die "--memory must be a number of futures (0 skips)"
[ -f "$PEER" ] || die "peer script not found: $PEER (use --peer or TASKBENCH_PEER)"
PEER=$(cd "$(dirname "$PEER")" && pwd)/$(basename "$PEER")

log() { echo "compare.sh: $*" >&2; }

if [ -n "$BENCH_TMPDIR" ] && [ -d "$BENCH_TMPDIR" ] && [ -w "$BENCH_TMPDIR" ]; then
    export TMPDIR=$BENCH_TMPDIR
fi
log "temporary directory (retries markers): ${TMPDIR:-/tmp}"

# --- Dask: Debian's python3-distributed (2022.12 on Debian 12), installed once. ---------------
if ! "$PYTHON" -c 'import distributed' 2>/dev/null; then
    [ "$INSTALL" = 1 ] || die "python3-distributed is missing (run without --no-install)"
    SUDO=
    [ "$(id -u)" = 0 ] || SUDO=sudo
    log "installing python3-distributed"
    $SUDO apt-get update >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y python3-distributed >&2
    "$PYTHON" -c 'import distributed' || die "python3-distributed did not install"
fi

# --- Taskbench: the benchmark and the bench plugin, optimised. --------------------------------
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    log "configuring $BUILD (Release)"
    cmake -G Ninja -S "$REPO" -B "$BUILD" -DTASKBENCH_BUILD_GUI=OFF \
        -DCMAKE_BUILD_TYPE=Release >&2
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
case "$BUILD_TYPE" in
Release | RelWithDebInfo) ;;
*) log "warning: $BUILD is a '$BUILD_TYPE' build; figures need Release" ;;
esac
log "building taskbench-bench in $BUILD"
cmake --build "$BUILD" --target taskbench-bench >&2
TB="$BUILD/bin/taskbench-bench"
[ -x "$TB" ] || die "no $TB after the build"

[ -n "$OUT" ] || OUT="$BUILD/compare-$(date +%Y%m%d-%H%M%S).jsonl"
mkdir -p "$(dirname "$OUT")"
: >"$OUT"

RUN_OUT=$(mktemp)
trap 'rm -f "$RUN_OUT"' EXIT
trap 'exit 130' INT TERM # runs the EXIT trap
FAILED_RUNS=() # engine:workload:status of processes that did not exit 0
# run ENGINE WORKLOAD COMMAND...: one benchmark process; its JSON lines go to $OUT, its
# stderr to ours.
run() {
    local engine=$1 workload=$2 label="$2: $1" status=0
    shift 2
    log "$label"
    "$@" >"$RUN_OUT" || status=$?
    # Keep only JSON lines: a stray line must not break the report.
    grep '^{' "$RUN_OUT" >>"$OUT" || true
    if [ "$status" != 0 ]; then
        log "$label: exit status $status"
        FAILED_RUNS+=("--failed=$engine:$workload:$status")
    fi
}

COMMON=(--scale "$SCALE" --repeat "$REPEAT" --json --timeout "$TIMEOUT")
IFS=, read -r -a WL <<<"$WORKLOADS"
for w in "${WL[@]}"; do
    run threads "$w" "$TB" --engine threads --workloads "$w" "${COMMON[@]}"
    run dask-threads "$w" "$PYTHON" "$PEER" --engine dask-threads --workloads "$w" "${COMMON[@]}"
    run processes "$w" "$TB" --engine processes --workloads "$w" "${COMMON[@]}"
    run dask-processes "$w" "$PYTHON" "$PEER" --engine dask-processes --workloads "$w" \
        "${COMMON[@]}"
    run processpool "$w" "$PYTHON" "$PEER" --engine processpool --workloads "$w" "${COMMON[@]}"
    run threadpool "$w" "$PYTHON" "$PEER" --engine threadpool --workloads "$w" "${COMMON[@]}"
done
if [ "$MEMORY" -gt 0 ]; then
    for e in threads processes; do
        run "$e" memory_per_future "$TB" --engine "$e" --memory "$MEMORY" --json \
            --timeout "$TIMEOUT"
    done
fi

log "raw JSON lines: $OUT"
"$PYTHON" "$HERE/comparetable.py" --scale "$SCALE" --repeat "$REPEAT" --tmpdir "${TMPDIR:-/tmp}" \
    "${FAILED_RUNS[@]}" "$OUT"
[ "${#FAILED_RUNS[@]}" = 0 ] || log "${#FAILED_RUNS[@]} benchmark process(es) failed; see FAILED cells"
