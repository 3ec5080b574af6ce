// The critical path of a run: the chain of tasks that determined its wall time, found from
// each task's actual start and finish and its dependencies. Walking back from the task that
// finished last, each step goes to the dependency that finished last (the one the task was
// waiting for); a task without dependencies ends the walk at the run's start. Every step
// owns the stretch of wall time from its predecessor's finish to its own (its wait for a
// worker plus its run), so the shares add up to the whole run. A pure function over plain
// task times: the history feeds it recorded sessions, a live view can feed it events.
#pragma once

#include "taskbench/history/historytypes.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace taskbench::history {

/// A task as the critical path needs it. Tasks that never ran to an end (cancelled, still
/// running) have endUs <= 0 and are left out.
struct PathTask
{
    std::uint64_t id = 0;
    std::string key;
    std::string function;
    std::vector<std::uint64_t> deps;
    std::int64_t submittedUs = 0;
    std::int64_t startUs = 0; ///< the start of the attempt that produced its outcome
    std::int64_t endUs = 0;
};

struct PathStep
{
    std::uint64_t id = 0;
    std::string key;
    std::string function;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
    std::int64_t waitUs = 0;  ///< from its predecessor's end (or the run's start) to its start
    std::int64_t shareUs = 0; ///< waitUs + its run: its part of the wall time
    double share = 0;         ///< shareUs / the run's wall time
};

struct CriticalPath
{
    std::int64_t startUs = 0;    ///< the run's start: its first submit (or start)
    std::int64_t endUs = 0;      ///< the last finish
    std::vector<PathStep> steps; ///< in run order, first to last
};

/// Empty steps when no task ran to an end.
CriticalPath criticalPath(std::span<const PathTask> tasks);
/// The tasks of a recorded session, by their last attempt.
std::vector<PathTask> pathTasks(const std::vector<TaskRecord> &tasks);

/// Renderings for the command line: a table with shares, and one JSON document.
std::string criticalPathText(const CriticalPath &path);
std::string criticalPathJson(const CriticalPath &path, std::int64_t session);

} // namespace taskbench::history
