#!/usr/bin/env bash
# What measuring each attempt (peak memory, CPU time) costs on the `map 20,000` workload with
# process workers: taskbench-bench with TASKBENCH_MEASURE_ATTEMPTS=1 and =0 in alternating
# order (on-off, then off-on: the machine drifts and the second run of a pair tends to be
# faster), one JSON line per run and a summary line with the medians and the median of the
# pairs' differences. Figures only, no assertion (shared, noisy machines).
#   tests/bench/attempt_overhead.sh [build/bin/taskbench-bench] [ROUNDS, default 10]
set -eu
bench="${1:-build/bin/taskbench-bench}"
rounds="${2:-10}"
run() {
  TASKBENCH_MEASURE_ATTEMPTS="$1" "$bench" --engine processes --workloads map --repeat 3 --json \
    2>/dev/null | sed -n 's/.*"workload": "map".*"seconds": \([0-9.]*\).*/\1/p'
}
on=() off=()
for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) = 1 ]; then a=$(run 1); b=$(run 0); else b=$(run 0); a=$(run 1); fi
  on+=("$a") off+=("$b")
  echo "{\"bench\":\"attempt_overhead_pair\",\"on_s\":$a,\"off_s\":$b}"
done
python3 - "${on[*]}" "${off[*]}" <<'PY'
import statistics, sys
on = [float(x) for x in sys.argv[1].split()]
off = [float(x) for x in sys.argv[2].split()]
pairs = [100 * (a / b - 1) for a, b in zip(on, off)]
print('{"bench":"attempt_overhead","rounds":%d,"on_ms":%.1f,"off_ms":%.1f,'
      '"overhead_pct":%.1f,"pair_overhead_pct":%.1f}'
      % (len(on), 1e3 * statistics.median(on), 1e3 * statistics.median(off),
         100 * (statistics.median(on) / statistics.median(off) - 1), statistics.median(pairs)))
PY
