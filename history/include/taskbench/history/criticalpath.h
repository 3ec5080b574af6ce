// The critical path of a run: the chain of tasks that determined its wall time, found from
// each task's actual start and finish and its dependencies. Walking back from the task that
// finished last, each step goes to the dependency that finished last (the one the task was
// waiting for); a task without dependencies ends the walk at the run's start. Every step
// owns the stretch of wall time from its predecessor's finish to its own (its wait for a
// worker plus its run), so the shares add up to the whole run. A task served from the result
// cache did not run: its run is zero, it starts where it finished, and a run in which no
// task ran has no critical path (allCached()). A pure function over plain task times: the
// history feeds it recorded sessions, a live view can feed it events.
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
    /// Served from the result cache: the session that computed the value, 0 if unknown; -1
    /// for a task that ran. A cached task's startUs is ignored (it did not run).
    std::int64_t cachedFrom = -1;

    bool cached() const { return cachedFrom >= 0; }
};

struct PathStep
{
    std::uint64_t id = 0;
    std::string key;
    std::string function;
    std::int64_t startUs = 0; ///< endUs for a task served from the result cache
    std::int64_t endUs = 0;
    std::int64_t waitUs = 0;      ///< from its predecessor's end (or the run's start) to its start
    std::int64_t runUs = 0;       ///< endUs - startUs: 0 for a task served from the result cache
    std::int64_t shareUs = 0;     ///< waitUs + its run: its part of the wall time
    double share = 0;             ///< shareUs / the run's wall time
    std::int64_t cachedFrom = -1; ///< as PathTask::cachedFrom

    bool cached() const { return cachedFrom >= 0; }
};

struct CriticalPath
{
    std::int64_t startUs = 0;    ///< the run's start: its first submit (or start)
    std::int64_t endUs = 0;      ///< the last finish
    std::vector<PathStep> steps; ///< in run order, first to last
    std::size_t ranTasks = 0;    ///< tasks that ran to an end
    std::size_t cachedTasks = 0; ///< tasks served from the result cache

    /// Every task that ended was served from the result cache: nothing ran, no steps.
    bool allCached() const { return ranTasks == 0 && cachedTasks > 0; }
};

/// Empty steps when no task ran to an end (allCached() when all came from the cache).
CriticalPath criticalPath(std::span<const PathTask> tasks);
/// The tasks of a recorded session, by their last attempt.
std::vector<PathTask> pathTasks(const std::vector<TaskRecord> &tasks);

/// Renderings for the command line: a table with shares, and one JSON document.
std::string criticalPathText(const CriticalPath &path);
std::string criticalPathJson(const CriticalPath &path, std::int64_t session);

} // namespace taskbench::history
