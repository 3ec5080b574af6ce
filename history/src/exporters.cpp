// Session exports: CSV and the whole session as JSON, and what every export shares
// (exporters_p.h). The Chrome trace / Perfetto JSON is perfettoexport.cpp.
#include "taskbench/history/exporters.h"

#include "csv_p.h"
#include "exporters_p.h"
#include "taskbench/valuecodec.h"

#include <QFile>
#include <QSaveFile>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

namespace taskbench::history {

namespace exportdetail {

/// A stored JSON column back as a Value (null when empty or unreadable).
Value parsed(const std::string &json)
{
    if (json.empty())
        return Value();
    return fromJson(json).value_or(Value());
}

Value sessionValue(const SessionSummary &s)
{
    Value::Map counts;
    for (const auto &[status, n] : s.counts)
        counts[status] = static_cast<long long>(n);
    Value::List plugins(s.plugins.begin(), s.plugins.end());
    return Value::Map{{"id", static_cast<long long>(s.id)},
                      {"started_us", static_cast<long long>(s.startedUs)},
                      {"ended_us", static_cast<long long>(s.endedUs)},
                      {"status", s.status},
                      {"app", s.app},
                      {"title", s.title},
                      {"workers", s.workers},
                      {"threads_per_worker", s.threadsPerWorker},
                      {"processes", s.processes},
                      {"task_count", static_cast<long long>(s.taskCount)},
                      {"counts", Value(std::move(counts))},
                      {"plugins", Value(std::move(plugins))}};
}

/// An attempt's usage figure for JSON: null where unknown.
Value known(std::int64_t v)
{
    return v >= 0 ? Value(static_cast<long long>(v)) : Value();
}
Value cpuSeconds(const AttemptUsage &u)
{
    return u.cpuUs >= 0 ? Value(double(u.cpuUs) / 1e6) : Value();
}
/// The same for CSV: empty where unknown.
std::string knownText(std::int64_t v)
{
    return v >= 0 ? std::to_string(v) : std::string();
}
std::string cpuText(const AttemptUsage &u)
{
    if (u.cpuUs < 0)
        return {};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", double(u.cpuUs) / 1e6);
    return buf;
}

TaskQuery allTasks(std::int64_t session)
{
    TaskQuery q;
    q.session = session;
    return q;
}

std::string errorText(const TaskRecord &t)
{
    if (t.errorType.empty() && t.errorMessage.empty())
        return {};
    return t.errorType + ": " + t.errorMessage;
}

} // namespace exportdetail

using namespace exportdetail;

std::optional<ExportFormat> exportFormatFromName(const std::string &name)
{
    if (name == "perfetto" || name == "chrome" || name == "trace")
        return ExportFormat::Perfetto;
    if (name == "csv")
        return ExportFormat::Csv;
    if (name == "json")
        return ExportFormat::Json;
    return std::nullopt;
}

std::string exportCsv(HistoryStore &store, std::int64_t session)
{
    std::string out = "session,task_id,key,function,group,status,state,attempts,worker,"
                      "submitted_us,started_us,finished_us,duration_ms,dependencies,arguments,"
                      "result_type,result_size,result,error,peak_rss_bytes,cpu_s,result_bytes,"
                      "cached_from\r\n";
    const std::vector<TaskRecord> tasks = store.tasks(allTasks(session));
    std::unordered_map<std::uint64_t, const std::string *> keys;
    for (const TaskRecord &t : tasks)
        keys[t.id] = &t.key;
    for (const TaskRecord &t : tasks) {
        std::string deps;
        for (std::uint64_t d : t.deps) {
            const auto it = keys.find(d);
            deps
                += (deps.empty() ? "" : " ") + (it != keys.end() ? *it->second : std::to_string(d));
        }
        const double durationMs
            = t.finishedUs > 0 && t.startedUs > 0 ? double(t.finishedUs - t.startedUs) / 1000.0 : 0;
        char duration[32];
        std::snprintf(duration, sizeof duration, "%.3f", durationMs);
        const std::string fields[] = {std::to_string(t.session),
                                      std::to_string(t.id),
                                      t.key,
                                      t.function,
                                      t.group,
                                      t.status,
                                      t.state,
                                      std::to_string(t.attempts),
                                      std::to_string(t.worker),
                                      std::to_string(t.submittedUs),
                                      std::to_string(t.startedUs),
                                      std::to_string(t.finishedUs),
                                      duration,
                                      deps,
                                      t.argsJson,
                                      t.resultType,
                                      t.resultSize >= 0 ? std::to_string(t.resultSize) : "",
                                      t.resultJson,
                                      errorText(t),
                                      knownText(t.usage.peakRssBytes),
                                      cpuText(t.usage),
                                      knownText(t.usage.resultBytes),
                                      // served from the cache: the computing session
                                      t.cached() ? std::to_string(t.cachedFrom) : ""};
        bool first = true;
        for (const std::string &f : fields) {
            if (!first)
                out += ',';
            first = false;
            out += csv::field(f);
        }
        out += "\r\n";
    }
    return out;
}

std::string exportJson(HistoryStore &store, std::int64_t session)
{
    const std::optional<SessionSummary> s = store.session(session);
    if (!s)
        return {};
    Value::List plugins;
    for (const PluginUse &p : store.plugins(session))
        plugins.emplace_back(
            Value::Map{{"name", p.name},
                       {"version", p.version},
                       {"path", p.path},
                       {"sha256", p.hash},
                       {"functions", Value::List(p.functions.begin(), p.functions.end())}});
    Value::List workers;
    for (const WorkerRecord &w : store.workers(session))
        workers.emplace_back(Value::Map{{"id", w.id},
                                        {"name", w.name},
                                        {"threads", w.threads},
                                        {"added_us", static_cast<long long>(w.addedUs)},
                                        {"removed_us", static_cast<long long>(w.removedUs)},
                                        {"removed_reason", w.removedReason}});
    std::unordered_map<std::uint64_t, Value::List> logs;
    for (const LogRecord &l : store.logs(session))
        logs[l.task].emplace_back(
            Value::Map{{"time_us", static_cast<long long>(l.timeUs)}, {"text", l.text}});
    Value::List tasks;
    for (const TaskRecord &t : store.tasks(allTasks(session))) {
        Value::List story;
        for (const TransitionRecord &tr : t.story)
            story.emplace_back(Value::Map{{"from", toString(tr.from)},
                                          {"to", toString(tr.to)},
                                          {"time_us", static_cast<long long>(tr.timeUs)},
                                          {"worker", tr.worker},
                                          {"attempt", tr.attempt}});
        Value::List runs;
        for (const AttemptRecord &r : t.runs)
            runs.emplace_back(Value::Map{{"attempt", r.attempt},
                                         {"worker", r.worker},
                                         {"thread", r.thread},
                                         {"start_us", static_cast<long long>(r.startUs)},
                                         {"end_us", static_cast<long long>(r.endUs)},
                                         {"ok", r.ok},
                                         {"peak_rss_bytes", known(r.usage.peakRssBytes)},
                                         {"cpu_s", cpuSeconds(r.usage)},
                                         {"result_bytes", known(r.usage.resultBytes)}});
        Value::List deps;
        for (std::uint64_t d : t.deps)
            deps.emplace_back(static_cast<long long>(d));
        Value error;
        if (!t.errorType.empty() || !t.errorMessage.empty())
            error = Value::Map{{"type", t.errorType},
                               {"message", t.errorMessage},
                               {"root_key", t.errorRoot},
                               {"traceback", t.traceback}};
        const auto l = logs.find(t.id);
        tasks.emplace_back(Value::Map{
            {"id", static_cast<long long>(t.id)},
            {"key", t.key},
            {"function", t.function},
            {"group", t.group},
            {"dependencies", Value(std::move(deps))},
            {"arguments", parsed(t.argsJson)},
            {"options", parsed(t.optionsJson)},
            {"state", t.state},
            {"status", t.status},
            {"attempts", t.attempts},
            {"worker", t.worker},
            {"submitted_us", static_cast<long long>(t.submittedUs)},
            {"started_us", static_cast<long long>(t.startedUs)},
            {"finished_us", static_cast<long long>(t.finishedUs)},
            {"result", t.resultStored ? parsed(t.resultJson) : Value()},
            {"result_stored", t.resultStored},
            {"result_type", t.resultType},
            {"result_size", static_cast<long long>(t.resultSize)},
            {"peak_rss_bytes", known(t.usage.peakRssBytes)},
            {"cpu_s", cpuSeconds(t.usage)},
            {"result_bytes", known(t.usage.resultBytes)},
            {"cached", t.cached()},
            {"cached_from",
             t.cachedFrom > 0 ? Value(static_cast<long long>(t.cachedFrom)) : Value()},
            {"error", std::move(error)},
            {"output", t.output},
            {"story", Value(std::move(story))},
            {"attempt_list", Value(std::move(runs))},
            {"logs", l != logs.end() ? Value(std::move(l->second)) : Value(Value::List{})}});
    }
    return toJson(Value::Map{{"format", "taskbench-session"},
                             {"format_version", 1},
                             {"session", sessionValue(*s)},
                             {"plugins", Value(std::move(plugins))},
                             {"workers", Value(std::move(workers))},
                             {"tasks", Value(std::move(tasks))}})
           + "\n";
}

bool exportSession(HistoryStore &store,
                   std::int64_t session,
                   ExportFormat format,
                   const std::string &path,
                   std::string *error)
{
    if (!store.session(session)) {
        if (error)
            *error = "no session " + std::to_string(session) + " in " + store.path();
        return false;
    }
    const std::string data = format == ExportFormat::Perfetto ? exportPerfetto(store, session)
                             : format == ExportFormat::Csv    ? exportCsv(store, session)
                                                              : exportJson(store, session);
    if (path == "-") {
        QFile out;
        if (out.open(stdout, QIODevice::WriteOnly)) {
            out.write(data.data(), qint64(data.size()));
            return true;
        }
    }
    // Written to a temporary file and renamed: a failed export never leaves half a file.
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly)
        || file.write(data.data(), qint64(data.size())) != qint64(data.size()) || !file.commit()) {
        if (error)
            *error = "cannot write " + path + ": " + file.errorString().toStdString();
        return false;
    }
    return true;
}

} // namespace taskbench::history
