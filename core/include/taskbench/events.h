// The engine's event stream: every state transition, execution start/end, progress, task
// log line, and worker change, delivered to subscribers in batches (never one callback per
// task). Subscribers run on the engine's scheduler thread and must return quickly: the GUI
// forwards a batch to its own thread, a recorder appends it.
#pragma once

#include "taskbench/taskstate.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace taskbench {

enum class EventKind : std::uint8_t {
    TaskAdded,         ///< key, function, group, deps, time
    Transition,        ///< from, to, worker, attempt
    ExecutionStarted,  ///< worker, attempt, time (assignment to the worker)
    ExecutionFinished, ///< worker, thread, attempt, startUs, time (end), ok, usage
    Progress,          ///< value, text
    Log,               ///< text (a task's log line; task = 0 for engine messages)
    WorkerAdded,       ///< worker, text = name, value = threads
    WorkerRemoved,     ///< worker, text = reason
    /// Every task one submit (a map, a submit, a scatter) registered, in one event: function,
    /// group and tasks() (ids, keys, deps), time; task = the first one's id. Published before
    /// those tasks' first transitions, and made only for subscribers that ask for it:
    /// a recorder of a big map asks for this instead of TaskAdded, one event and a few
    /// allocations per submit instead of a detail per task.
    TasksAdded,
    /// The user steered the cluster (see steering.h): paused or resumed it (ok = paused
    /// after the change), added or removed a breakpoint; text says what ("paused",
    /// "resumed", "breakpoint 2 added: function tutorial.add").
    Steering,
    /// A task's priority changed after submit: task, value = the new priority.
    PriorityChanged,
};

/// The tasks of a TasksAdded event, in submit order. Keys are stored back to back in one
/// string, and deps in one list, so that a map of 100,000 tasks makes a few allocations.
class TaskList
{
public:
    void reserve(std::size_t tasks, std::size_t keyChars);
    void add(std::uint64_t id, std::string_view key);
    /// The deps, task by task in order: addDep() for each dependency of the next task, then
    /// endDeps(), once per task. deps(i) is valid once task i's have ended.
    void addDep(std::uint64_t dep) { m_deps.push_back(dep); }
    void endDeps() { m_depEnds.push_back(m_deps.size()); }

    std::size_t size() const { return m_ids.size(); }
    std::uint64_t id(std::size_t i) const { return m_ids[i]; }
    std::string_view key(std::size_t i) const;
    std::span<const std::uint64_t> deps(std::size_t i) const;

private:
    std::vector<std::uint64_t> m_ids;
    std::string m_keyChars;
    std::vector<std::size_t> m_keyEnds; ///< key i ends at m_keyEnds[i]
    std::vector<std::uint64_t> m_deps;
    std::vector<std::size_t> m_depEnds; ///< deps of task i end at m_depEnds[i]
};

/// The strings and lists of an event, which most events (transitions, executions) do not
/// have: they live behind one shared pointer so that an Event stays small.
struct EventDetail
{
    std::string key;      ///< TaskAdded
    std::string function; ///< TaskAdded
    /// TaskAdded: the task group (one map call, or the function), shared by its tasks
    std::shared_ptr<const std::string> group;
    std::vector<std::uint64_t> deps; ///< TaskAdded
    std::string text; ///< Log, Progress, WorkerAdded/Removed, Steering, a transition's note
    std::shared_ptr<const TaskList> tasks; ///< TasksAdded
};

/// One event: 88 bytes (64 before attempts carried their usage). Up to eight are made per task
/// while anyone listens (five for a recorder), and a recorder reads them on another core, so their
/// size is what recording costs the engine.
struct Event
{
    EventKind kind = EventKind::Transition;
    TaskState from = TaskState::Released;
    TaskState to = TaskState::Released;
    bool ok = true;
    int worker = -1;
    int thread = -1;
    int attempt = 0;
    std::uint64_t task = 0;   ///< the task's id (Future::id()), 0 if none
    double value = 0;         ///< progress fraction, thread count, priority
    std::int64_t timeUs = 0;  ///< wall-clock microseconds since the Unix epoch
    std::int64_t startUs = 0; ///< ExecutionFinished: when the execution started
    /// ExecutionFinished: what the attempt used (peak memory, CPU time, result size).
    AttemptUsage usage;

    const std::string &key() const { return detailOrEmpty().key; }
    const std::string &function() const { return detailOrEmpty().function; }
    const std::string &group() const;
    const std::vector<std::uint64_t> &deps() const { return detailOrEmpty().deps; }
    const std::string &text() const { return detailOrEmpty().text; }
    /// TasksAdded: the tasks (null for any other event).
    const TaskList *tasks() const { return m_detail ? m_detail->tasks.get() : nullptr; }

    /// For whoever builds the event: its detail, made on first use (and copied first if
    /// another event shares it).
    EventDetail &detail();
    /// The detail itself, for a subscriber that keeps it (null if the event has none).
    std::shared_ptr<const EventDetail> sharedDetail() const { return m_detail; }
    /// Shares a detail made elsewhere (the engine's, made when the task was submitted).
    void setDetail(std::shared_ptr<EventDetail> detail) { m_detail = std::move(detail); }

private:
    const EventDetail &detailOrEmpty() const;
    std::shared_ptr<EventDetail> m_detail;
};

/// Which events a subscriber needs: one bit per EventKind, plus transitions to Forgotten
/// (a task everyone let go of). The engine makes only the events some subscriber needs, and
/// every subscriber receives all of those (also kinds that only another one asked for).
using EventMask = std::uint32_t;
constexpr EventMask eventBit(EventKind kind)
{
    return EventMask(1) << unsigned(kind);
}
inline constexpr EventMask kForgottenTransitions = EventMask(1) << 16;
inline constexpr EventMask kAllEvents = ~EventMask(0);

using EventBatch = std::vector<Event>;
/// A batch as the engine hands it over: shared and immutable, so a subscriber that keeps it
/// (a recorder, a GUI) takes the pointer instead of copying the events.
using EventBatchPtr = std::shared_ptr<const EventBatch>;
using EventCallback = std::function<void(const EventBatch &)>;
using SharedEventCallback = std::function<void(const EventBatchPtr &)>;

} // namespace taskbench
