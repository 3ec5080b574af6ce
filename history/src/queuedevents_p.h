// QueuedEvents: an engine batch as the recorder queues it until its thread folds it. The
// recorder runs at a low priority and may fold a big map's events seconds after they came;
// holding the engine's batches meanwhile (88 bytes an event, in the engine's pooled
// vectors) was most of what a 1,000,000-task map cost the GUI. This keeps only what
// SessionRows reads: a transition is its task and a Step (24 bytes), a finished attempt
// adds its AttemptRecord, and only the rare rest (submits, logs, workers) stays an Event.
#pragma once

#include "recorderrows_p.h"

#include "taskbench/events.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <variant>
#include <vector>

namespace taskbench::history {

class QueuedEvents
{
public:
    /// Copies what the recorder reads from `batch` (kinds it ignores are left out). The
    /// rare events kept whole (submits, logs, workers) are read in the engine's batch, which
    /// is then held: copying an Event would share its detail with the engine's pooled one.
    explicit QueuedEvents(const EventBatchPtr &batch);

    /// Folds the events into `rows`: the session events, then every task's in the order
    /// they came.
    void applyTo(SessionRows &rows) const;
    /// Folds only the events of tasks in `range` (in the order they came), and
    /// applySessionEvents() the rest (logs, workers, steering): a backlog folded a range
    /// of tasks at a time (Recorder) gives each event to the rows exactly once.
    void applyTasks(SessionRows &rows, const IdRange &range) const;
    void applySessionEvents(SessionRows &rows) const;
    /// Calls f(id) for every task an event names (a task may be named more than once).
    template <typename F>
    void forEachTask(F &&f) const
    {
        for (const Entry &entry : m_entries) {
            if (const Event *e = other(entry); e && e->kind == EventKind::TasksAdded) {
                const TaskList &tasks = *e->tasks();
                for (std::size_t i = 0; i < tasks.size(); ++i)
                    f(tasks.id(i));
            } else if (!e) {
                f(entry.task);
            }
        }
    }
    /// Events kept.
    std::size_t size() const { return m_entries.size(); }

private:
    /// A transition (`step`), or, with `step.to == Forgotten` (never kept as a transition),
    /// a reference to m_runs or m_batch by `step.worker` and the marker in `step.from`.
    struct Entry
    {
        std::uint64_t task = 0;
        Step step;
    };
    /// The Event an entry refers to, or null for a transition or a run.
    const Event *other(const Entry &entry) const;

    std::vector<Entry> m_entries;
    std::vector<AttemptRecord> m_runs; ///< ExecutionFinished
    /// Transitions served from the result cache: (index into m_entries, the session that
    /// computed the value), in entry order. The note is all a Step cannot carry.
    std::vector<std::pair<std::size_t, std::int64_t>> m_cacheHits;
    EventBatchPtr m_batch; ///< held only if it has events kept whole
};

/// What the recorder queues: engine events, and futures handed to Recorder::track().
using QueueItem = std::variant<QueuedEvents, TrackItem>;

/// Folds a backlog into `rows` task range by task range (ids [k * rangeIds, (k + 1) *
/// rangeIds)), calling afterRange() after each (the recorder writes there, which takes the
/// finished rows out of memory). Folded in the order they came, a big map's events would
/// make a row for every task of the backlog at once: each task is submitted long before it
/// finishes. Each event is folded once and a task's events stay in order; only tasks of
/// different ranges are folded out of order, which rows do not depend on. Session events
/// (logs, workers, steering) are folded first.
void foldInRanges(std::vector<QueueItem> &items,
                  SessionRows &rows,
                  std::uint64_t rangeIds,
                  const std::function<void()> &afterRange);

} // namespace taskbench::history
