// The critical path of a run (see criticalpath.h).
#include "taskbench/history/criticalpath.h"

#include "taskbench/resultcache.h"
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace taskbench::history {

namespace {

/// A task served from the result cache did not run: it starts where it finished, whatever
/// start the caller gave it.
std::int64_t startOf(const PathTask &t)
{
    return t.cached() ? t.endUs : t.startUs;
}

} // namespace

CriticalPath criticalPath(std::span<const PathTask> tasks)
{
    CriticalPath path;
    std::unordered_map<std::uint64_t, const PathTask *> byId;
    byId.reserve(tasks.size());
    const PathTask *last = nullptr;
    std::int64_t start = std::numeric_limits<std::int64_t>::max();
    for (const PathTask &t : tasks) {
        if (t.endUs <= 0)
            continue;
        ++(t.cached() ? path.cachedTasks : path.ranTasks);
        byId.emplace(t.id, &t);
        const std::int64_t tStart = startOf(t);
        const std::int64_t began = t.submittedUs > 0 ? std::min(t.submittedUs, tStart) : tStart;
        start = std::min(start, began);
        // The latest finish; on a tie the later start (the shorter tail), then the larger
        // id, so that equal inputs always give the same chain.
        const std::int64_t lastStart = last ? startOf(*last) : 0;
        if (!last || t.endUs > last->endUs
            || (t.endUs == last->endUs
                && (tStart > lastStart || (tStart == lastStart && t.id > last->id))))
            last = &t;
    }
    if (!last)
        return path;
    path.startUs = start;
    path.endUs = last->endUs;
    // Nothing ran: the wall time went to scheduling and cache lookups, and a chain of
    // cached tasks would only show that overhead as if it were work.
    if (path.ranTasks == 0)
        return path;

    // Walk back: each step's predecessor is its dependency that finished last, the one it
    // was waiting for.
    std::vector<const PathTask *> chain;
    std::unordered_set<std::uint64_t> seen; // a malformed (cyclic) input must still end
    for (const PathTask *t = last; t && seen.insert(t->id).second;) {
        chain.push_back(t);
        const PathTask *pred = nullptr;
        for (std::uint64_t d : t->deps) {
            const auto it = byId.find(d);
            if (it == byId.end())
                continue;
            const PathTask *c = it->second;
            if (!pred || c->endUs > pred->endUs || (c->endUs == pred->endUs && c->id > pred->id))
                pred = c;
        }
        t = pred;
    }
    std::reverse(chain.begin(), chain.end());

    const double wall = double(std::max<std::int64_t>(1, path.endUs - path.startUs));
    std::int64_t previousEnd = path.startUs;
    for (const PathTask *t : chain) {
        PathStep s;
        s.id = t->id;
        s.key = t->key;
        s.function = t->function;
        s.startUs = startOf(*t);
        s.endUs = t->endUs;
        s.waitUs = std::max<std::int64_t>(0, s.startUs - previousEnd);
        s.runUs = s.endUs - s.startUs;
        s.cachedFrom = t->cachedFrom;
        s.shareUs = std::max<std::int64_t>(0, t->endUs - previousEnd);
        s.share = double(s.shareUs) / wall;
        previousEnd = std::max(previousEnd, t->endUs);
        path.steps.push_back(std::move(s));
    }
    return path;
}

std::vector<PathTask> pathTasks(const std::vector<TaskRecord> &tasks)
{
    std::vector<PathTask> out;
    out.reserve(tasks.size());
    for (const TaskRecord &t : tasks) {
        PathTask p;
        p.id = t.id;
        p.key = t.key;
        p.function = t.function;
        p.deps = t.deps;
        p.submittedUs = t.submittedUs;
        p.cachedFrom = t.cachedFrom;
        if (t.cached()) { // no attempt: it ends when the cache served it
            p.startUs = t.finishedUs;
            p.endUs = t.finishedUs;
        } else if (!t.runs.empty()) {
            p.startUs = t.runs.back().startUs;
            p.endUs = t.runs.back().endUs;
        } else if (t.status == "finished") { // scattered data: there when submitted
            p.startUs = t.submittedUs;
            p.endUs = t.finishedUs;
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::string criticalPathText(const CriticalPath &path)
{
    char line[512];
    if (path.allCached()) {
        std::snprintf(line,
                      sizeof line,
                      "No task of this session ran: all %zu came from the result cache (%.3f s "
                      "of wall time), so there is no critical path.\n",
                      path.cachedTasks,
                      double(path.endUs - path.startUs) / 1e6);
        return line;
    }
    if (path.steps.empty())
        return "No task of this session ran to an end: there is no critical path.\n";
    const auto cachedSteps = std::count_if(
        path.steps.begin(), path.steps.end(), [](const PathStep &s) { return s.cached(); });
    std::string out;
    std::snprintf(line,
                  sizeof line,
                  "Critical path: %zu task%s%s, %.3f s of wall time\n",
                  path.steps.size(),
                  path.steps.size() == 1 ? "" : "s",
                  cachedSteps > 0
                      ? (" (" + std::to_string(cachedSteps) + " from the result cache)").c_str()
                      : "",
                  double(path.endUs - path.startUs) / 1e6);
    out += line;
    out += "   share     wait      run  task\n";
    for (const PathStep &s : path.steps) {
        std::snprintf(line,
                      sizeof line,
                      "  %5.1f%%  %7.3fs  %7.3fs  %s (%s)%s\n",
                      s.share * 100.0,
                      double(s.waitUs) / 1e6,
                      double(s.runUs) / 1e6,
                      s.key.c_str(),
                      s.function.c_str(),
                      s.cached() ? ("  " + cacheHitNote(s.cachedFrom)).c_str() : "");
        out += line;
    }
    return out;
}

std::string criticalPathJson(const CriticalPath &path, std::int64_t session)
{
    Value::List steps;
    for (const PathStep &s : path.steps)
        steps.emplace_back(
            Value::Map{{"id", static_cast<long long>(s.id)},
                       {"key", s.key},
                       {"function", s.function},
                       {"start_us", static_cast<long long>(s.startUs)},
                       {"end_us", static_cast<long long>(s.endUs)},
                       {"wait_us", static_cast<long long>(s.waitUs)},
                       {"run_us", static_cast<long long>(s.runUs)},
                       {"share_us", static_cast<long long>(s.shareUs)},
                       {"share", s.share},
                       {"cached", s.cached()},
                       {"cached_from",
                        s.cachedFrom > 0 ? Value(static_cast<long long>(s.cachedFrom)) : Value()}});
    return toJson(Value::Map{{"session", static_cast<long long>(session)},
                             {"start_us", static_cast<long long>(path.startUs)},
                             {"end_us", static_cast<long long>(path.endUs)},
                             {"wall_us", static_cast<long long>(path.endUs - path.startUs)},
                             {"ran_tasks", static_cast<long long>(path.ranTasks)},
                             {"cached_tasks", static_cast<long long>(path.cachedTasks)},
                             {"all_cached", path.allCached()},
                             {"steps", Value(std::move(steps))}});
}

} // namespace taskbench::history
