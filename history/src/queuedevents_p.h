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
#include <vector>

namespace taskbench::history {

class QueuedEvents
{
public:
    /// Copies what the recorder reads from `batch` (kinds it ignores are left out).
    explicit QueuedEvents(const EventBatch &batch);

    /// Folds the events into `rows`, in the order they came.
    void applyTo(SessionRows &rows) const;
    /// Events kept.
    std::size_t size() const { return m_entries.size(); }

private:
    /// A transition (`step`), or, with `step.to == Forgotten` (never kept as a transition),
    /// a reference to m_runs or m_others by `step.worker` and the marker in `step.from`.
    struct Entry
    {
        std::uint64_t task = 0;
        Step step;
    };
    std::vector<Entry> m_entries;
    std::vector<AttemptRecord> m_runs; ///< ExecutionFinished
    std::vector<Event> m_others;
};

} // namespace taskbench::history
