// The task stream model: lanes of executions, running estimates, windowed queries.
#include "streammodel.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace taskbench::inspect {

void StreamModel::clear()
{
    *this = StreamModel();
    ++m_version;
}

StreamModel::Worker &StreamModel::worker(int id)
{
    auto [it, added] = m_workers.try_emplace(id);
    if (added) {
        it->second.freeAt.assign(1, 0);
        it->second.shown.assign(1, 0);
        ensureLane(id, 0);
    }
    return it->second;
}

void StreamModel::setThreads(int workerId, int threads)
{
    Worker &w = worker(workerId);
    threads = std::max(1, threads);
    if (threads > w.threads || w.freeAt.size() < std::size_t(threads)) {
        w.threads = std::max(w.threads, threads);
        w.freeAt.resize(std::size_t(w.threads), 0);
        w.shown.resize(std::size_t(w.threads), 0);
    }
    for (int t = 0; t < w.threads; ++t)
        ensureLane(workerId, t);
}

int StreamModel::laneOf(int worker, int thread) const
{
    auto it = m_laneIndex.find({worker, thread});
    return it == m_laneIndex.end() ? -1 : it->second;
}

std::string StreamModel::workerName(int worker) const
{
    auto it = m_workers.find(worker);
    return it == m_workers.end() ? std::string() : it->second.name;
}

int StreamModel::ensureLane(int worker, int thread)
{
    if (int lane = laneOf(worker, thread); lane >= 0)
        return lane;
    Lane lane;
    lane.worker = worker;
    lane.thread = thread;
    auto pos
        = std::lower_bound(m_lanes.begin(), m_lanes.end(), lane, [](const Lane &a, const Lane &b) {
              return a.worker != b.worker ? a.worker < b.worker : a.thread < b.thread;
          });
    pos = m_lanes.insert(pos, std::move(lane));
    // Lanes are few (workers x threads): re-indexing on insert is cheap.
    m_laneIndex.clear();
    for (std::size_t i = 0; i < m_lanes.size(); ++i)
        m_laneIndex[{m_lanes[i].worker, m_lanes[i].thread}] = int(i);
    ++m_version;
    return int(pos - m_lanes.begin());
}

void StreamModel::addExecution(int laneIndex, const Execution &e)
{
    Lane &lane = m_lanes[std::size_t(laneIndex)];
    auto &v = lane.executions;
    if (v.empty() || v.back().start <= e.start) {
        v.push_back(e);
    } else {
        auto pos
            = std::upper_bound(v.begin(), v.end(), e.start, [](std::int64_t t, const Execution &x) {
                  return t < x.start;
              });
        v.insert(std::size_t(pos - v.begin()), e);
    }
    lane.maxDuration = std::max(lane.maxDuration, e.end - e.start);
    ++m_executionCount;
    if (e.function >= m_perFunction.size())
        m_perFunction.resize(std::size_t(e.function) + 1, 0);
    ++m_perFunction[e.function];
    if (m_firstUs == 0 || e.start < m_firstUs)
        m_firstUs = e.start;
    m_lastUs = std::max(m_lastUs, e.end);
    ++m_version;
}

void StreamModel::fillSlots(int workerId)
{
    Worker &w = worker(workerId);
    for (int t = 0; t < w.threads; ++t) {
        if (w.shown[std::size_t(t)] != 0)
            continue;
        while (!w.queue.empty()) {
            const std::uint64_t id = w.queue.front();
            w.queue.pop_front();
            auto it = m_assigned.find(id);
            // Entries of finished (or re-assigned) tasks are dropped here, lazily.
            if (it == m_assigned.end() || it->second.worker != workerId || it->second.thread >= 0)
                continue;
            it->second.thread = t;
            it->second.startUs = std::max(it->second.assignedUs, w.freeAt[std::size_t(t)]);
            w.shown[std::size_t(t)] = id;
            break;
        }
    }
}

void StreamModel::unassign(std::uint64_t task, std::int64_t endUs, bool interrupted)
{
    auto it = m_assigned.find(task);
    if (it == m_assigned.end())
        return;
    const Assigned a = it->second;
    m_assigned.erase(it);
    Worker &w = worker(a.worker);
    if (a.thread >= 0 && std::size_t(a.thread) < w.shown.size()) {
        w.shown[std::size_t(a.thread)] = 0;
        if (interrupted) {
            Execution x;
            x.start = a.startUs;
            x.end = std::max(endUs, a.startUs);
            x.task = task;
            x.function = a.function;
            x.attempt = a.attempt;
            x.flags = Execution::Interrupted;
            addExecution(ensureLane(a.worker, a.thread), x);
            w.freeAt[std::size_t(a.thread)] = std::max(w.freeAt[std::size_t(a.thread)], x.end);
        }
    }
    ++m_version;
    fillSlots(a.worker);
}

void StreamModel::applyEvents(const Event *begin, const Event *end)
{
    for (const Event *it = begin; it != end; ++it) {
        const Event &e = *it;
        switch (e.kind) {
        case EventKind::TaskAdded:
            m_catalog.add(e.task, e.key(), e.function(), e.group());
            break;
        case EventKind::TasksAdded: { // the engine's: one per submit
            const TaskList &tasks = *e.tasks();
            for (std::size_t i = 0; i < tasks.size(); ++i)
                m_catalog.add(tasks.id(i), tasks.key(i), e.function(), e.group());
            break;
        }
        case EventKind::WorkerAdded: {
            setThreads(e.worker, int(e.value));
            Worker &w = worker(e.worker);
            w.name = e.text();
            for (int t = 0; t < w.threads; ++t)
                m_lanes[std::size_t(laneOf(e.worker, t))].removed = false;
            ++m_version;
            break;
        }
        case EventKind::WorkerRemoved: {
            std::vector<std::uint64_t> gone;
            for (const auto &[task, a] : m_assigned)
                if (a.worker == e.worker)
                    gone.push_back(task);
            for (std::uint64_t task : gone)
                unassign(task, e.timeUs, true);
            for (Lane &lane : m_lanes)
                if (lane.worker == e.worker)
                    lane.removed = true;
            ++m_version;
            break;
        }
        case EventKind::ExecutionStarted: {
            if (e.worker < 0)
                break;
            if (m_assigned.count(e.task))
                unassign(e.task, e.timeUs, true);
            Worker &w = worker(e.worker);
            Assigned a;
            a.worker = e.worker;
            a.assignedUs = e.timeUs;
            a.startUs = e.timeUs;
            a.function = m_catalog.function(m_catalog.ensure(e.task));
            a.attempt = std::uint16_t(std::clamp(e.attempt, 0, 65535));
            m_assigned[e.task] = a;
            w.queue.push_back(e.task);
            if (m_firstUs == 0 || e.timeUs < m_firstUs)
                m_firstUs = e.timeUs;
            m_lastUs = std::max(m_lastUs, e.timeUs);
            ++m_version;
            fillSlots(e.worker);
            break;
        }
        case EventKind::ExecutionFinished: {
            if (e.worker < 0)
                break;
            const int thread = std::max(0, e.thread);
            setThreads(e.worker, thread + 1);
            Worker &w = worker(e.worker);
            Execution x;
            x.task = e.task;
            x.end = e.timeUs;
            x.attempt = std::uint16_t(std::clamp(e.attempt, 0, 65535));
            x.flags = e.ok ? 0 : Execution::Failed;
            x.memory = memoryClassOf(e.usage.peakRssBytes);
            x.function = m_catalog.function(m_catalog.ensure(e.task));
            if (m_reprioritised.count(e.task)) {
                x.flags |= Execution::Reprioritised;
                m_reprioritisedShown = true;
            }
            std::int64_t assignedUs = e.startUs;
            if (auto it = m_assigned.find(e.task); it != m_assigned.end()) {
                const Assigned a = it->second;
                m_assigned.erase(it);
                assignedUs = a.assignedUs;
                Worker &aw = worker(a.worker);
                if (a.thread >= 0 && std::size_t(a.thread) < aw.shown.size()) {
                    if (a.worker == e.worker && a.thread != thread) {
                        // Shown on the wrong lane: move whatever is shown on the real thread
                        // into the slot this one leaves.
                        const std::uint64_t other = w.shown[std::size_t(thread)];
                        w.shown[std::size_t(a.thread)] = other;
                        if (other != 0)
                            m_assigned[other].thread = a.thread;
                        w.shown[std::size_t(thread)] = 0;
                    } else {
                        aw.shown[std::size_t(a.thread)] = 0;
                    }
                }
            }
            x.start = e.startUs > 0 ? e.startUs : assignedUs;
            x.end = std::max(x.end, x.start);
            addExecution(ensureLane(e.worker, thread), x);
            w.freeAt[std::size_t(thread)] = std::max(w.freeAt[std::size_t(thread)], x.end);
            fillSlots(e.worker);
            break;
        }
        case EventKind::PriorityChanged:
            m_reprioritised.insert(e.task);
            break;
        case EventKind::Transition:
            // Left processing without a finish: cancelled, worker died, timed out.
            if (e.from == TaskState::Processing && m_assigned.count(e.task))
                unassign(e.task, e.timeUs, true);
            break;
        default:
            break;
        }
    }
}

std::vector<RunningExecution> StreamModel::running() const
{
    std::vector<RunningExecution> out;
    for (const auto &[id, w] : m_workers) {
        for (std::size_t t = 0; t < w.shown.size(); ++t) {
            if (w.shown[t] == 0)
                continue;
            auto it = m_assigned.find(w.shown[t]);
            if (it == m_assigned.end())
                continue;
            RunningExecution r;
            r.task = it->first;
            r.function = it->second.function;
            r.worker = id;
            r.thread = int(t);
            r.startUs = it->second.startUs;
            r.attempt = it->second.attempt;
            out.push_back(r);
        }
    }
    return out;
}

std::pair<std::size_t, std::size_t>
StreamModel::visibleRange(int laneIndex, std::int64_t t0, std::int64_t t1) const
{
    if (laneIndex < 0 || std::size_t(laneIndex) >= m_lanes.size())
        return {0, 0};
    const Lane &lane = m_lanes[std::size_t(laneIndex)];
    const auto &v = lane.executions;
    auto byStart = [](const Execution &x, std::int64_t t) { return x.start < t; };
    // Anything starting before t0 - maxDuration ends before t0.
    std::size_t lo = std::size_t(
        std::lower_bound(v.begin(), v.end(), t0 - lane.maxDuration, byStart) - v.begin());
    const std::size_t hi
        = std::size_t(std::lower_bound(v.begin(), v.end(), t1, byStart) - v.begin());
    while (lo < hi && v[lo].end < t0)
        ++lo;
    return {lo, std::max(lo, hi)};
}

std::uint8_t memoryClassOf(std::int64_t peakBytes)
{
    if (peakBytes <= 0)
        return 0;
    const auto kib = std::uint64_t(std::max<std::int64_t>(1, peakBytes / 1024));
    return std::uint8_t(1 + std::bit_width(kib) - 1); // 1 + floor(log2(KiB))
}

std::int64_t memoryClassBytes(std::uint8_t memoryClass)
{
    return memoryClass == 0 ? 0 : std::int64_t(1024) << (memoryClass - 1);
}

void StreamModel::mergedRuns(int laneIndex,
                             std::int64_t t0,
                             std::int64_t t1,
                             double usPerPx,
                             std::vector<StreamRun> &out) const
{
    const auto [lo, hi] = visibleRange(laneIndex, t0, t1);
    if (lo >= hi)
        return;
    const auto &v = m_lanes[std::size_t(laneIndex)].executions;
    const double scale = 1.0 / usPerPx;
    StreamRun pending;
    bool havePending = false;
    std::int64_t pendingLongest = -1;
    auto flush = [&] {
        if (!havePending)
            return;
        pending.x1 = std::max(pending.x1, pending.x0 + 1.0);
        out.push_back(pending);
        havePending = false;
    };
    for (std::size_t i = lo; i < hi; ++i) {
        const Execution &x = v[i];
        const double x0 = double(x.start - t0) * scale;
        const double x1 = double(x.end - t0) * scale;
        if (x1 - x0 >= 1.0) {
            flush();
            out.push_back(StreamRun{x0, x1, x.function, x.flags, 1, x.memory});
            continue;
        }
        if (havePending && x0 <= pending.x1 + 1.0) {
            pending.x1 = std::max(pending.x1, x1);
            pending.flags |= x.flags;
            pending.memory = std::max(pending.memory, x.memory);
            ++pending.count;
            if (x.duration() > pendingLongest) {
                pendingLongest = x.duration();
                pending.function = x.function;
            }
            continue;
        }
        flush();
        pending = StreamRun{x0, x1, x.function, x.flags, 1, x.memory};
        pendingLongest = x.duration();
        havePending = true;
    }
    flush();
}

const Execution *
StreamModel::executionAt(int laneIndex, std::int64_t t, std::int64_t toleranceUs) const
{
    const auto [lo, hi] = visibleRange(laneIndex, t - toleranceUs, t + toleranceUs + 1);
    const Execution *best = nullptr;
    std::int64_t bestDistance = toleranceUs + 1;
    const auto &v = m_lanes[std::size_t(std::max(0, laneIndex))].executions;
    for (std::size_t i = lo; i < hi; ++i) {
        const Execution &x = v[i];
        std::int64_t d = 0;
        if (t < x.start)
            d = x.start - t;
        else if (t > x.end)
            d = t - x.end;
        // Inside beats near; among those inside, the shortest (the most specific) wins.
        if (d < bestDistance || (d == 0 && best && x.duration() < best->duration())) {
            best = &x;
            bestDistance = d;
        }
    }
    return best;
}

std::vector<std::pair<int, std::size_t>> StreamModel::executionsOf(std::uint64_t task) const
{
    std::vector<std::pair<int, std::size_t>> out;
    for (std::size_t l = 0; l < m_lanes.size(); ++l) {
        const auto &v = m_lanes[l].executions;
        for (std::size_t i = 0; i < v.size(); ++i)
            if (v[i].task == task)
                out.emplace_back(int(l), i);
    }
    return out;
}

} // namespace taskbench::inspect
