// `taskbench-cli history [list|tasks|export|delete|retention|compare|critical-path]`: the
// recorded sessions, read from the history database without starting a cluster (`history
// rerun`, which needs one, is reruncommand.cpp; `compare` is historycompare.cpp,
// `critical-path` historycriticalpath.cpp).
#include "commands.h"
#include "historycompare.h"
#include "historycriticalpath.h"
#include "recording.h"
#include "reporting.h"

#include "taskbench/history/exporters.h"
#include "taskbench/resultcache.h"
#include "taskbench/taskstate.h"
#include "taskbench/valuecodec.h"

#include <iostream>

namespace taskbench::cli {

namespace {

/// The checks of values only history knows; parseCommandLine checked their form. Before the
/// database is opened, so a mistyped filter neither creates one nor reads as "no match".
void checkHistoryOptions(const Options &opts)
{
    // --limit N is "at most N rows": 0 would list nothing and read as an empty history.
    if (opts.limit == 0)
        throw UsageError("--limit must be at least 1", opts.command);
    if (opts.filterStatus.empty())
        return;
    std::vector<std::string> statuses;
    for (int i = 0; i < kFutureStatusCount; ++i) {
        statuses.emplace_back(toString(FutureStatus(i)));
        if (statuses.back() == opts.filterStatus)
            return;
    }
    const std::string last = statuses.back();
    statuses.pop_back();
    throw UsageError("--status: expected " + join(statuses, ", ") + " or " + last + ", got '"
                         + opts.filterStatus + "'",
                     opts.command);
}

Value parsedOrNull(const std::string &json)
{
    return json.empty() ? Value() : fromJson(json).value_or(Value());
}

Value sessionJson(const history::SessionSummary &s, std::int64_t duration)
{
    Value::Map counts;
    for (const auto &[status, n] : s.counts)
        counts[status] = static_cast<long long>(n);
    return Value::Map{{"kind", "session"},
                      {"id", static_cast<long long>(s.id)},
                      {"started_us", static_cast<long long>(s.startedUs)},
                      {"ended_us", static_cast<long long>(s.endedUs)},
                      {"duration_us", static_cast<long long>(duration)},
                      {"status", s.status},
                      {"app", s.app},
                      {"title", s.title},
                      {"task_count", static_cast<long long>(s.taskCount)},
                      {"counts", Value(std::move(counts))},
                      {"plugins", Value::List(s.plugins.begin(), s.plugins.end())}};
}

int listSessions(history::HistoryStore &store, const Options &opts)
{
    history::SessionQuery q;
    q.text = opts.search;
    q.limit = opts.limit;
    const std::vector<history::SessionSummary> sessions = store.sessions(q);
    for (const history::SessionSummary &s : sessions) {
        const std::int64_t duration = s.endedUs > s.startedUs ? s.endedUs - s.startedUs : 0;
        if (opts.json) {
            std::cout << toJson(sessionJson(s, duration)) << "\n";
            continue;
        }
        std::string counts;
        for (const auto &[status, n] : s.counts)
            counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
        std::cout << "#" << s.id << "  " << localTime(s.startedUs) << "  " << s.status << "  "
                  << (s.status == "running" ? std::string("-") : seconds(duration)) << "  "
                  << plural(s.taskCount, "task") << (counts.empty() ? "" : " (" + counts + ")")
                  << "  " << (s.plugins.empty() ? "-" : join(s.plugins, ", ")) << "  " << s.title
                  << "\n";
    }
    if (sessions.empty() && !opts.json)
        std::cout << "No recorded sessions in " << store.path() << ".\n";
    return kExitOk;
}

Value taskJson(const history::TaskRecord &t, bool failed)
{
    return Value::Map{
        {"kind", "task"},
        {"session", static_cast<long long>(t.session)},
        {"id", static_cast<long long>(t.id)},
        {"key", t.key},
        {"function", t.function},
        {"status", t.status},
        {"state", t.state},
        {"attempts", t.attempts},
        {"worker", t.worker},
        {"submitted_us", static_cast<long long>(t.submittedUs)},
        {"started_us", static_cast<long long>(t.startedUs)},
        {"finished_us", static_cast<long long>(t.finishedUs)},
        {"arguments", parsedOrNull(t.argsJson)},
        {"result", t.resultStored ? parsedOrNull(t.resultJson) : Value()},
        {"result_type", t.resultType},
        {"result_size", static_cast<long long>(t.resultSize)},
        {"cached", t.cached()},
        {"cached_from", t.cachedFrom > 0 ? Value(static_cast<long long>(t.cachedFrom)) : Value()},
        {"error",
         failed ? Value(Value::Map{{"type", t.errorType},
                                   {"message", t.errorMessage},
                                   {"root_key", t.errorRoot},
                                   {"traceback", t.traceback}})
                : Value()},
        {"output", t.output}};
}

int listTasks(history::HistoryStore &store, const Options &opts)
{
    if (opts.session > 0 && !store.session(opts.session))
        throw InputError("history: no session " + std::to_string(opts.session) + " in "
                         + store.path());
    history::TaskQuery q;
    q.session = opts.session;
    q.function = opts.filterFunction;
    q.key = opts.filterKey;
    q.status = opts.filterStatus;
    q.errorText = opts.filterError;
    q.limit = opts.limit;
    for (const history::TaskRecord &t : store.tasks(q)) {
        const bool failed = !t.errorType.empty() || !t.errorMessage.empty();
        if (opts.json) {
            std::cout << toJson(taskJson(t, failed)) << "\n";
            continue;
        }
        std::cout << "#" << t.session << "/" << t.id << "  " << t.key << "  " << t.status << "  "
                  << plural(t.attempts, "attempt");
        if (t.finishedUs > 0 && t.startedUs > 0)
            std::cout << "  " << seconds(t.finishedUs - t.startedUs);
        if (t.cached())
            std::cout << "  " << cacheHitNote(t.cachedFrom);
        if (t.resultStored)
            std::cout << "  " << t.resultType << "  " << repr(parsedOrNull(t.resultJson), 60);
        else if (t.resultSize >= 0)
            std::cout << "  " << t.resultType << " (" << t.resultSize << " bytes, not stored)";
        if (failed)
            std::cout << "  " << t.errorType << ": " << t.errorMessage;
        std::cout << "\n";
    }
    return kExitOk;
}

int exportToFile(history::HistoryStore &store, const Options &opts)
{
    std::string error;
    if (!history::exportSession(store,
                                opts.session,
                                *history::exportFormatFromName(opts.exportFormat),
                                opts.output,
                                &error))
        throw InputError("history export: " + error);
    if (opts.output != "-")
        std::cerr << "taskbench-cli: exported session " << opts.session << " to " << opts.output
                  << "\n";
    return kExitOk;
}

} // namespace

int commandHistory(CommandContext &ctx)
{
    const Options &opts = ctx.opts;
    checkHistoryOptions(opts);
    history::HistoryStore store;
    openHistory(store, opts);
    const std::string &action = opts.historyAction;
    if (action == "list")
        return listSessions(store, opts);
    if (action == "tasks")
        return listTasks(store, opts);
    if (action == "compare")
        return commandHistoryCompare(store, opts);
    if (action == "critical-path")
        return commandHistoryCriticalPath(store, opts);
    if (action == "export")
        return exportToFile(store, opts);
    if (action == "delete") {
        if (!store.deleteSession(opts.session))
            throw InputError("history delete: " + store.errorString());
        std::cout << "Deleted session " << opts.session << ".\n";
        return kExitOk;
    }
    // retention
    const int deleted
        = store.applyRetention(opts.keepSessions.value_or(0), opts.keepDays.value_or(0));
    std::cout << "Deleted " << plural(deleted, "session") << ".\n";
    return kExitOk;
}

} // namespace taskbench::cli
