#include "queuedevents_p.h"

namespace taskbench::history {

namespace {

// Markers in Entry::step.from of an entry that is not a transition (step.to == Forgotten).
constexpr TaskState kRunMarker = TaskState::Released;
constexpr TaskState kOtherMarker = TaskState::Memory;

/// Kinds SessionRows reads (ExecutionStarted says what the transition to processing does).
bool kept(const Event &e)
{
    switch (e.kind) {
    case EventKind::Transition:
        return e.to != TaskState::Forgotten;
    case EventKind::ExecutionFinished:
    case EventKind::TasksAdded:
    case EventKind::Log:
    case EventKind::WorkerAdded:
    case EventKind::WorkerRemoved:
    case EventKind::Steering:
        return true;
    case EventKind::ExecutionStarted:
    case EventKind::TaskAdded:
    case EventKind::Progress:
    case EventKind::PriorityChanged:
        return false;
    }
    return false;
}

} // namespace

QueuedEvents::QueuedEvents(const EventBatch &batch)
{
    std::size_t n = 0, runs = 0;
    for (const Event &e : batch) {
        n += kept(e);
        runs += e.kind == EventKind::ExecutionFinished;
    }
    m_entries.reserve(n);
    m_runs.reserve(runs);
    for (const Event &e : batch) {
        if (!kept(e))
            continue;
        Entry entry{e.task, Step::of(e)};
        if (e.kind == EventKind::Transition) {
            m_entries.push_back(entry);
            continue;
        }
        entry.step.to = TaskState::Forgotten;
        if (e.kind == EventKind::ExecutionFinished) {
            entry.step.from = kRunMarker;
            entry.step.worker = std::int32_t(m_runs.size());
            m_runs.push_back(
                AttemptRecord{e.attempt, e.worker, e.thread, e.startUs, e.timeUs, e.ok, e.usage});
            m_entries.push_back(entry);
            continue;
        }
        entry.step.from = kOtherMarker;
        entry.step.worker = std::int32_t(m_others.size());
        m_others.push_back(e);
        m_entries.push_back(entry);
    }
}

void QueuedEvents::applyTo(SessionRows &rows) const
{
    for (const Entry &entry : m_entries) {
        if (entry.step.to != TaskState::Forgotten)
            rows.applyStep(entry.task, entry.step);
        else if (entry.step.from == kRunMarker)
            rows.applyRun(entry.task, m_runs[std::size_t(entry.step.worker)]);
        else
            rows.apply(m_others[std::size_t(entry.step.worker)]);
    }
}

} // namespace taskbench::history
