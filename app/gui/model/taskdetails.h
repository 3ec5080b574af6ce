// Plain data that background queries hand back to the GUI thread: what the futures table
// shows for a finished or erred task, and everything the details dialog shows.
#pragma once

#include "taskbench/events.h"
#include "taskbench/taskstate.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace taskbench::gui {

/// Result summary of one task, fetched off the GUI thread once it is done.
struct ResultSummary
{
    std::uint64_t id = 0;
    FutureStatus status = FutureStatus::Pending;
    std::string type;    ///< "int", "list[3]"
    std::string preview; ///< short repr
    std::optional<TaskError> error;
    std::string arguments; ///< repr of the arguments (erred tasks only)
    int attempts = 0;
};

/// One execution attempt of a task, assembled from its story and the execution events.
struct AttemptInfo
{
    int attempt = 0;
    int worker = -1;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
    bool ok = true;
    bool finished = false;
    std::string error;
};

/// Everything the details dialog shows (fetched on demand).
struct TaskStory
{
    std::uint64_t id = 0;
    bool valid = false; ///< false when the task is no longer held by the GUI
    std::string key;
    std::string function;
    FutureStatus status = FutureStatus::Pending;
    std::string type;
    std::string resultJson;             ///< pretty JSON of the result (finished only)
    std::vector<std::string> arguments; ///< JSON of each argument
    bool argumentsResolved = false;     ///< inputs given as their values (a held task's)
    std::vector<Transition> transitions;
    std::vector<std::string> logs;
    std::optional<TaskError> error;
    int attempts = 0;
};

} // namespace taskbench::gui
