// The engine's event stream: every state transition, execution start/end, progress, task
// log line, and worker change, delivered to subscribers in batches (never one callback per
// task). Subscribers run on the engine's scheduler thread and must return quickly: the GUI
// forwards a batch to its own thread, a recorder appends it.
#pragma once

#include "taskbench/taskstate.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace taskbench {

enum class EventKind : std::uint8_t {
    TaskAdded,         ///< key, function, group, deps, time
    Transition,        ///< from, to, worker, attempt
    ExecutionStarted,  ///< worker, attempt, time (assignment to the worker)
    ExecutionFinished, ///< worker, thread, attempt, startUs, time (end), ok
    Progress,          ///< value, text
    Log,               ///< text (a task's log line; task = 0 for engine messages)
    WorkerAdded,       ///< worker, text = name, value = threads
    WorkerRemoved,     ///< worker, text = reason
};

struct Event
{
    EventKind kind = EventKind::Transition;
    std::uint64_t task = 0; ///< the task's id (Future::id()), 0 if none
    TaskState from = TaskState::Released;
    TaskState to = TaskState::Released;
    int worker = -1;
    int thread = -1;
    int attempt = 0;
    bool ok = true;
    double value = 0;                ///< progress fraction, thread count
    std::int64_t timeUs = 0;         ///< wall-clock microseconds since the Unix epoch
    std::int64_t startUs = 0;        ///< ExecutionFinished: when the execution started
    std::string key;                 ///< TaskAdded
    std::string function;            ///< TaskAdded
    std::string group;               ///< TaskAdded: the task group (one map call, or the function)
    std::vector<std::uint64_t> deps; ///< TaskAdded
    std::string text;                ///< Log, Progress, WorkerAdded/Removed
};

using EventBatch = std::vector<Event>;
/// A batch as the engine hands it over: shared and immutable, so a subscriber that keeps it
/// (a recorder, a GUI) takes the pointer instead of copying the events.
using EventBatchPtr = std::shared_ptr<const EventBatch>;
using EventCallback = std::function<void(const EventBatch &)>;
using SharedEventCallback = std::function<void(const EventBatchPtr &)>;

} // namespace taskbench
