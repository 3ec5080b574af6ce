// The Chrome trace / Perfetto JSON export of a session: one track per worker thread with a
// slice per attempt (errors annotated and red, usage in the slice's arguments), a flow
// arrow from each dependency's slice to its dependent's (Chrome's "s"/"f" flow events, the
// end bound to the enclosing slice), and per worker thread a counter track of the running
// attempt's peak memory (its value while the attempt runs, 0 between attempts).
#include "taskbench/history/exporters.h"

#include "exporters_p.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace taskbench::history {

using namespace exportdetail;

namespace {

/// The attempt a dependent waited for: the dependency's last successful one (else its last).
const AttemptRecord *producingRun(const TaskRecord &t)
{
    for (auto it = t.runs.rbegin(); it != t.runs.rend(); ++it)
        if (it->ok)
            return &*it;
    return t.runs.empty() ? nullptr : &t.runs.back();
}

} // namespace

std::string exportPerfetto(HistoryStore &store, std::int64_t session)
{
    const std::optional<SessionSummary> s = store.session(session);
    if (!s)
        return {};
    const std::vector<TaskRecord> tasks = store.tasks(allTasks(session));
    std::map<int, WorkerRecord> workers;
    for (WorkerRecord &w : store.workers(session))
        workers[w.id] = std::move(w);

    // Times relative to the session start keep the numbers small and the trace at zero.
    const std::int64_t origin = s->startedUs;
    const auto ts = [origin](std::int64_t us) { return static_cast<long long>(us - origin); };
    Value::List events;
    std::map<int, std::set<int>> threads; // worker -> threads seen
    std::unordered_map<std::uint64_t, const TaskRecord *> byId;
    for (const TaskRecord &t : tasks) {
        byId.emplace(t.id, &t);
        for (const AttemptRecord &r : t.runs) {
            const int pid = std::max(r.worker, 0);
            const int tid = std::max(r.thread, 0);
            threads[pid].insert(tid);
            Value::Map args{{"key", t.key},
                            {"task_id", static_cast<long long>(t.id)},
                            {"attempt", r.attempt},
                            {"ok", r.ok},
                            {"status", t.status},
                            {"peak_rss_bytes", known(r.usage.peakRssBytes)},
                            {"cpu_s", cpuSeconds(r.usage)},
                            {"result_bytes", known(r.usage.resultBytes)}};
            if (!r.ok)
                args["error"] = t.status == "error" && r.attempt == t.attempts
                                    ? errorText(t)
                                    : std::string("attempt failed (retried)");
            Value::Map slice{
                {"ph", "X"},
                {"name", t.function},
                {"cat", r.ok ? "task" : "task,error"},
                {"ts", ts(r.startUs)},
                {"dur", static_cast<long long>(std::max<std::int64_t>(0, r.endUs - r.startUs))},
                {"pid", pid},
                {"tid", tid},
                {"args", Value(std::move(args))}};
            if (!r.ok)
                slice["cname"] = "terrible"; // red in the Chrome trace viewer
            events.emplace_back(std::move(slice));
            if (r.usage.peakRssBytes >= 0) {
                const std::string track = "peak memory, thread " + std::to_string(tid) + " (MiB)";
                const double mib = double(r.usage.peakRssBytes) / double(1 << 20);
                events.emplace_back(Value::Map{{"ph", "C"},
                                               {"name", track},
                                               {"ts", ts(r.startUs)},
                                               {"pid", pid},
                                               {"args", Value::Map{{"MiB", mib}}}});
                events.emplace_back(Value::Map{{"ph", "C"},
                                               {"name", track},
                                               {"ts", ts(std::max(r.startUs, r.endUs))},
                                               {"pid", pid},
                                               {"args", Value::Map{{"MiB", 0.0}}}});
            }
        }
    }

    // Dependency arrows: from the end of the run that produced a dependency's value to the
    // start of the dependent's first run after it.
    long long flowId = 0;
    for (const TaskRecord &t : tasks) {
        if (t.runs.empty())
            continue;
        for (std::uint64_t d : t.deps) {
            const auto it = byId.find(d);
            const AttemptRecord *from = it != byId.end() ? producingRun(*it->second) : nullptr;
            if (!from)
                continue;
            const AttemptRecord *to = &t.runs.back();
            for (const AttemptRecord &r : t.runs)
                if (r.startUs >= from->endUs) {
                    to = &r;
                    break;
                }
            ++flowId;
            // Inside the source slice (its last microsecond), so that the start binds to it.
            const std::int64_t out = std::max(from->startUs, from->endUs - 1);
            events.emplace_back(Value::Map{{"ph", "s"},
                                           {"id", flowId},
                                           {"name", "dependency"},
                                           {"cat", "dependency"},
                                           {"ts", ts(out)},
                                           {"pid", std::max(from->worker, 0)},
                                           {"tid", std::max(from->thread, 0)}});
            events.emplace_back(Value::Map{{"ph", "f"},
                                           {"bp", "e"},
                                           {"id", flowId},
                                           {"name", "dependency"},
                                           {"cat", "dependency"},
                                           {"ts", ts(to->startUs)},
                                           {"pid", std::max(to->worker, 0)},
                                           {"tid", std::max(to->thread, 0)}});
        }
    }

    Value::List meta;
    for (const auto &[pid, tids] : threads) {
        const auto w = workers.find(pid);
        const std::string name
            = "worker " + std::to_string(pid)
              + (w != workers.end() && !w->second.name.empty() ? " (" + w->second.name + ")"
                                                               : std::string());
        meta.emplace_back(Value::Map{{"ph", "M"},
                                     {"name", "process_name"},
                                     {"pid", pid},
                                     {"tid", 0},
                                     {"args", Value::Map{{"name", name}}}});
        for (int tid : tids)
            meta.emplace_back(
                Value::Map{{"ph", "M"},
                           {"name", "thread_name"},
                           {"pid", pid},
                           {"tid", tid},
                           {"args", Value::Map{{"name", "thread " + std::to_string(tid)}}}});
    }
    meta.insert(
        meta.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
    return toJson(Value::Map{{"displayTimeUnit", "ms"},
                             {"traceEvents", Value(std::move(meta))},
                             {"metadata", sessionValue(*s)}})
           + "\n";
}

} // namespace taskbench::history
