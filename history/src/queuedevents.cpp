#include "queuedevents_p.h"

#include <set>

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

QueuedEvents::QueuedEvents(const EventBatchPtr &shared)
{
    const EventBatch &batch = *shared;
    std::size_t n = 0, runs = 0;
    for (const Event &e : batch) {
        n += kept(e);
        runs += e.kind == EventKind::ExecutionFinished;
    }
    m_entries.reserve(n);
    m_runs.reserve(runs);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const Event &e = batch[i];
        if (!kept(e))
            continue;
        Entry entry{e.task, Step::of(e)};
        if (e.kind == EventKind::Transition) {
            if (const std::int64_t from = cacheHitSessionOf(e); from >= 0)
                m_cacheHits.emplace_back(m_entries.size(), from);
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
        entry.step.worker = std::int32_t(i);
        m_batch = shared;
        m_entries.push_back(entry);
    }
}

const Event *QueuedEvents::other(const Entry &entry) const
{
    if (entry.step.to != TaskState::Forgotten || entry.step.from != kOtherMarker)
        return nullptr;
    return &(*m_batch)[std::size_t(entry.step.worker)];
}

void QueuedEvents::applyTasks(SessionRows &rows, const IdRange &range) const
{
    auto hit = m_cacheHits.begin();
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        const Entry &entry = m_entries[i];
        if (const Event *e = other(entry)) {
            if (e->kind == EventKind::TasksAdded)
                rows.applyTasksAdded(*e, range);
        } else if (range.contains(entry.task)) {
            if (entry.step.to != TaskState::Forgotten)
                rows.applyStep(entry.task, entry.step);
            else
                rows.applyRun(entry.task, m_runs[std::size_t(entry.step.worker)]);
        }
        if (hit != m_cacheHits.end() && hit->first == i) {
            if (range.contains(entry.task))
                rows.applyCacheHit(entry.task, hit->second);
            ++hit;
        }
    }
}

void QueuedEvents::applySessionEvents(SessionRows &rows) const
{
    for (const Entry &entry : m_entries)
        if (const Event *e = other(entry); e && e->kind != EventKind::TasksAdded)
            rows.apply(*e);
}

void QueuedEvents::applyTo(SessionRows &rows) const
{
    // Session events first, as foldInRanges() does: they do not touch task rows.
    applySessionEvents(rows);
    applyTasks(rows, IdRange{});
}

void foldInRanges(std::vector<QueueItem> &items,
                  SessionRows &rows,
                  std::uint64_t rangeIds,
                  const std::function<void()> &afterRange)
{
    std::set<std::uint64_t> ranges; // a few dozen for a million tasks
    for (const QueueItem &item : items) {
        if (const auto *batch = std::get_if<QueuedEvents>(&item)) {
            batch->forEachTask([&](std::uint64_t id) { ranges.insert(id / rangeIds); });
            batch->applySessionEvents(rows);
        } else {
            for (const Future &f : std::get<TrackItem>(item).futures)
                if (f.valid())
                    ranges.insert(f.id() / rangeIds);
        }
    }
    for (const std::uint64_t r : ranges) {
        const IdRange range{r * rangeIds,
                            r + 1 > UINT64_MAX / rangeIds ? UINT64_MAX : (r + 1) * rangeIds};
        for (QueueItem &item : items) {
            if (const auto *batch = std::get_if<QueuedEvents>(&item))
                batch->applyTasks(rows, range);
            else
                rows.apply(std::get<TrackItem>(item), range);
        }
        if (afterRange)
            afterRange();
    }
}

} // namespace taskbench::history
