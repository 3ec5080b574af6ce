// Synthetic event batches (see the header).
#include "syntheticevents.h"

#include <algorithm>

namespace taskbench::inspect::synthetic {

namespace {

Event added(std::uint64_t id, const std::string &function, const std::string &group)
{
    Event e;
    e.kind = EventKind::TaskAdded;
    e.task = id;
    e.detail().function = function;
    e.detail().group = std::make_shared<const std::string>(group);
    const auto dot = function.rfind('.');
    e.detail().key = (dot == std::string::npos ? function : function.substr(dot + 1)) + "-"
                     + std::to_string(0x9e3779b97f4a7c15ull * id);
    e.to = TaskState::Released;
    return e;
}

} // namespace

EventBatch map(int count,
               const std::string &function,
               const std::string &group,
               std::uint64_t firstId,
               std::vector<std::uint64_t> *ids)
{
    EventBatch batch;
    batch.reserve(std::size_t(std::max(0, count)));
    for (int i = 0; i < count; ++i) {
        batch.push_back(added(firstId + std::uint64_t(i), function, group));
        if (ids)
            ids->push_back(firstId + std::uint64_t(i));
    }
    return batch;
}

EventBatch mapReduce(int mapSize, std::uint64_t firstId, std::vector<std::uint64_t> *ids)
{
    std::vector<std::uint64_t> level;
    EventBatch batch = map(mapSize, "bench.inc", "inc-map-1", firstId, &level);
    if (ids)
        *ids = level;
    std::uint64_t next = firstId + std::uint64_t(mapSize);
    while (level.size() > 1) {
        std::vector<std::uint64_t> up;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
            Event e = added(next, "bench.add", "add");
            e.detail().deps = {level[i], level[i + 1]};
            batch.push_back(std::move(e));
            up.push_back(next);
            if (ids)
                ids->push_back(next);
            ++next;
        }
        if (level.size() % 2 == 1)
            up.push_back(level.back()); // the odd one out joins the next level
        level = std::move(up);
    }
    return batch;
}

EventBatch transitions(const std::vector<std::uint64_t> &ids,
                       TaskState from,
                       TaskState to,
                       const std::string &note)
{
    EventBatch batch;
    batch.reserve(ids.size());
    for (std::uint64_t id : ids) {
        Event e;
        e.kind = EventKind::Transition;
        e.task = id;
        e.from = from;
        e.to = to;
        e.detail().text = note;
        batch.push_back(std::move(e));
    }
    return batch;
}

EventBatch executions(int count,
                      int workers,
                      int threads,
                      std::int64_t t0,
                      std::uint64_t firstId,
                      std::int64_t *endUs)
{
    EventBatch batch;
    static const char *functions[] = {"bench.inc", "bench.add", "bench.double", "bench.sum"};
    for (int w = 0; w < workers; ++w) {
        Event e;
        e.kind = EventKind::WorkerAdded;
        e.worker = w;
        e.value = threads;
        e.detail().text = "thread-worker-" + std::to_string(w);
        e.timeUs = t0;
        batch.push_back(std::move(e));
    }
    const int lanes = std::max(1, workers * threads);
    std::vector<std::int64_t> laneTime(std::size_t(lanes), t0);
    std::uint32_t rng = 12345;
    std::int64_t end = t0;
    for (int i = 0; i < count; ++i) {
        rng = rng * 1664525u + 1013904223u;
        const int lane = i % lanes;
        const std::uint64_t id = firstId + std::uint64_t(i);
        const char *fn = functions[(rng >> 8) % 4];
        batch.push_back(added(id, fn, fn));
        const std::int64_t duration = 200 + std::int64_t((rng >> 12) % 19800);
        Event f;
        f.kind = EventKind::ExecutionFinished;
        f.task = id;
        f.worker = lane / threads;
        f.thread = lane % threads;
        f.attempt = 1;
        f.startUs = laneTime[std::size_t(lane)];
        f.timeUs = f.startUs + duration;
        f.ok = (rng >> 4) % 97 != 0; // about 1 % failed attempts
        laneTime[std::size_t(lane)] = f.timeUs + 50;
        end = std::max(end, f.timeUs);
        batch.push_back(std::move(f));
    }
    if (endUs)
        *endUs = end;
    return batch;
}

} // namespace taskbench::inspect::synthetic
