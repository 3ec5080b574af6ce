// Synthetic engine event batches for the benchmarks and tests: the shapes the engine emits
// (TaskAdded with deps, transitions, execution start/finish, workers), without an engine.
#pragma once

#include "taskbench/events.h"

#include <cstdint>
#include <string>
#include <vector>

namespace taskbench::inspect::synthetic {

/// TaskAdded for `count` independent tasks (one map call), ids firstId, firstId + 1, ...
EventBatch map(int count,
               const std::string &function,
               const std::string &group,
               std::uint64_t firstId,
               std::vector<std::uint64_t> *ids = nullptr);

/// A map of `mapSize` "bench.inc" tasks reduced pairwise by "bench.add" tasks down to one:
/// 2 * mapSize - 1 tasks. `ids` receives every id, the root last.
EventBatch mapReduce(int mapSize, std::uint64_t firstId, std::vector<std::uint64_t> *ids = nullptr);

/// One Transition per id.
EventBatch transitions(const std::vector<std::uint64_t> &ids,
                       TaskState from,
                       TaskState to,
                       const std::string &note = {});

/// WorkerAdded for workers 0..workers-1, and `count` finished executions spread over their
/// threads back to back (durations 0.2-20 ms, deterministic), starting at t0. Returns the
/// end time in *endUs. Task ids start at firstId; TaskAdded events are included.
EventBatch executions(int count,
                      int workers,
                      int threads,
                      std::int64_t t0,
                      std::uint64_t firstId,
                      std::int64_t *endUs = nullptr);

} // namespace taskbench::inspect::synthetic
