// taskbench-cli: the command line front end of the futures engine. It loads plugins, starts
// a local cluster, submits one call (`submit`), one task per input (`map`, optionally
// reduced) or a graph of named tasks (`run`), waits, and prints every output future: a
// readable line each by default, one JSON object per line with --json. Results go to
// stdout, logs and errors to stderr.
//
// It never hangs and never crashes on bad input: input is checked before the cluster
// starts, engine refusals (std::invalid_argument) become exit code 2, a waiting loop in short
// slices notices Ctrl-C (cancel, exit 130) and --timeout, and a watchdog bounds shutdown.
#include "cachecommand.h"
#include "commandline.h"
#include "historycompare.h"
#include "slurmsetup.h"

#include "taskbench/client.h"
#include "taskbench/history/exporters.h"
#include "taskbench/history/historystore.h"
#include "taskbench/history/recorder.h"
#include "taskbench/history/rerun.h"
#include "taskbench/functionregistry.h"
#include "taskbench/logging.h"
#include "taskbench/pluginloader.h"
#include "taskbench/sdk.h"
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

#ifndef TASKBENCH_VERSION
#define TASKBENCH_VERSION "unknown"
#endif

using namespace taskbench;
using namespace taskbench::cli;
using namespace std::chrono_literals;

namespace {

// Set by the signal handler; a lock-free atomic is async-signal-safe.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void onSignal(int signo)
{
    if (g_signal.exchange(signo) != 0) {
        // A second Ctrl-C: the user does not want to wait for the cancellation.
        static const char msg[] = "taskbench-cli: interrupted again, exiting now\n";
        [[maybe_unused]] const auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(128 + signo);
    }
}

void installSignalHandlers()
{
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted()
{
    return g_signal.load() != 0;
}

int interruptedExitCode()
{
    return 128 + g_signal.load();
}

/// Shutting down waits for running tasks; a task that ignores cancellation must not turn
/// Ctrl-C into a hang, so leave anyway after a grace period.
void startShutdownWatchdog(int exitCode)
{
    std::thread([exitCode] {
        std::this_thread::sleep_for(5s);
        static const char msg[] = "taskbench-cli: tasks did not stop within 5 s, exiting\n";
        [[maybe_unused]] const auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(exitCode);
    }).detach();
}

std::string join(const std::vector<std::string> &items, const char *sep)
{
    std::string out;
    for (const std::string &s : items) {
        if (!out.empty())
            out += sep;
        out += s;
    }
    return out;
}

std::string plural(std::int64_t n, const char *word)
{
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

/// Word-wraps text to `width` columns, each line starting with `indent`; keeps the text's
/// own line breaks.
std::string wrap(const std::string &text, const std::string &indent, std::size_t width)
{
    std::string out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string current = indent;
        for (std::string word; words >> word;) {
            if (current.size() > indent.size() && current.size() + 1 + word.size() > width) {
                out += current + "\n";
                current = indent;
            }
            if (current.size() > indent.size())
                current += ' ';
            current += word;
        }
        out += current + "\n";
    }
    return out;
}

std::string signatureOf(const FunctionInfo &f)
{
    std::string s = f.qualifiedName + "(";
    for (std::size_t i = 0; i < f.params.size(); ++i) {
        const sdk::ParamSpec &p = f.params[i];
        if (i)
            s += ", ";
        s += p.name + ": " + p.type;
        if (p.hasDefault)
            s += " = " + repr(p.defaultValue, 40);
    }
    return s + ") -> " + f.resultType;
}

/// The function, or an InputError naming close matches.
FunctionPtr requireFunction(const FunctionRegistry &registry,
                            const std::string &name,
                            const std::string &context = {})
{
    if (FunctionPtr f = registry.find(name))
        return f;
    const std::vector<FunctionPtr> all = registry.all();
    const auto dot = name.rfind('.');
    const std::string tail = dot == std::string::npos ? name : name.substr(dot + 1);
    // Same function name in another plugin first; else names that contain the text.
    std::vector<std::string> close;
    for (const FunctionPtr &f : all)
        if (f->name == tail && close.size() < 6)
            close.push_back(f->qualifiedName);
    const bool sameName = !close.empty();
    for (const FunctionPtr &f : all)
        if (!sameName && f->qualifiedName.find(name) != std::string::npos)
            close.push_back(f->qualifiedName);
    if (close.size() > 6)
        close.resize(6);
    std::string msg = context + "unknown function '" + name + "'";
    if (!close.empty())
        msg += " (did you mean " + join(close, ", ") + "?)";
    else if (all.empty())
        msg += " (no plugins were loaded; add a plugin folder with --plugins DIR)";
    else
        msg += " (run 'taskbench-cli plugins' to list the functions)";
    throw InputError(msg);
}

std::size_t requiredParameters(const FunctionInfo &f)
{
    return std::size_t(std::count_if(
        f.params.begin(), f.params.end(), [](const auto &p) { return !p.hasDefault; }));
}

// ---------------------------------------------------------------------------------------
// Plugins

std::vector<std::string> pluginFolders(const Options &opts)
{
    std::vector<std::string> folders = PluginLoader::defaultSearchPath();
    for (const std::string &dir : opts.pluginDirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            throw InputError("--plugins '" + dir + "': not a directory");
        folders.push_back(dir);
    }
    // The same folder twice (e.g. --plugins naming the default folder) would load every
    // plugin twice.
    std::vector<std::string> unique;
    std::set<std::string> seen;
    for (const std::string &dir : folders) {
        std::error_code ec;
        std::string canonical = std::filesystem::weakly_canonical(dir, ec).string();
        if (ec)
            canonical = dir;
        if (seen.insert(canonical).second)
            unique.push_back(dir);
    }
    return unique;
}

int listPlugins(const PluginLoader &loader,
                const PluginScanReport &report,
                const FunctionRegistry &registry,
                const std::vector<std::string> &folders,
                bool json)
{
    std::ostream &out = std::cout;
    if (!json)
        out << "Plugin folders: " << (folders.empty() ? "(none)" : join(folders, ", ")) << "\n";
    for (const PluginRecord &plugin : loader.plugins()) {
        Value::List functions;
        if (!json) {
            out << "\n" << plugin.name << " " << plugin.version;
            if (!plugin.description.empty())
                out << " - " << plugin.description;
            out << "\n  " << plugin.path << "\n";
        }
        for (const std::string &name : plugin.functions) {
            const FunctionPtr f = registry.find(name);
            if (!f)
                continue;
            if (json) {
                Value::List params;
                for (const sdk::ParamSpec &p : f->params) {
                    Value::Map param{{"name", p.name}, {"type", p.type}};
                    if (p.hasDefault)
                        param["default"] = p.defaultValue;
                    params.emplace_back(std::move(param));
                }
                functions.emplace_back(Value::Map{{"name", f->qualifiedName},
                                                  {"signature", signatureOf(*f)},
                                                  {"doc", f->doc},
                                                  {"params", std::move(params)},
                                                  {"result", f->resultType}});
                continue;
            }
            out << "  " << signatureOf(*f) << "\n";
            out << wrap(f->doc, "      ", 96);
        }
        if (json)
            out << toJson(Value::Map{{"kind", "plugin"},
                                     {"name", plugin.name},
                                     {"version", plugin.version},
                                     {"description", plugin.description},
                                     {"path", plugin.path},
                                     {"functions", std::move(functions)}})
                << "\n";
    }
    if (loader.plugins().empty() && !json)
        out << "\nNo plugins found.\n";
    if (!report.refused.empty() && !json)
        out << "\nRefused libraries:\n";
    for (const PluginRefusal &r : report.refused) {
        if (json)
            out << toJson(Value::Map{{"kind", "refused"}, {"path", r.path}, {"reason", r.reason}})
                << "\n";
        else
            out << "  " << r.path << ": " << r.reason << "\n";
    }
    out.flush();
    return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Waiting and reporting

struct Output
{
    std::string name; ///< graph task name (run), empty otherwise
    Future future;
};

enum class WaitOutcome { Done, Interrupted, TimedOut };

WaitOutcome waitAll(Client &client,
                    std::vector<Future> pending,
                    std::optional<std::chrono::steady_clock::time_point> deadline)
{
    // Short slices keep Ctrl-C and --timeout responsive; each slice only waits for what is
    // still pending, so a large map is not rescanned from the start every time.
    while (!pending.empty()) {
        if (interrupted())
            return WaitOutcome::Interrupted;
        Duration slice = 50ms;
        if (deadline) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= *deadline)
                return WaitOutcome::TimedOut;
            slice = std::min<Duration>(slice, *deadline - now);
        }
        try {
            WaitResult r = client.wait(pending, ReturnWhen::AllCompleted, slice);
            pending = std::move(r.notDone);
        } catch (const TimeoutError &) {
            std::erase_if(pending, [](const Future &f) { return f.done(); });
        }
    }
    return WaitOutcome::Done;
}

std::string label(const Output &o)
{
    return o.name.empty() ? o.future.key() : o.name + " (" + o.future.key() + ")";
}

Value errorJson(const TaskError &e)
{
    return Value::Map{{"type", e.type},
                      {"message", e.message},
                      {"root_key", e.rootKey},
                      {"root_function", e.rootFunction},
                      {"from_dependency", e.fromDependency},
                      {"worker", e.worker},
                      {"attempts", e.attempts},
                      {"traceback", e.traceback}};
}

Value storyJson(const std::vector<Transition> &story)
{
    Value::List list;
    list.reserve(story.size());
    for (const Transition &t : story)
        list.emplace_back(Value::Map{{"from", toString(t.from)},
                                     {"to", toString(t.to)},
                                     {"time_us", t.timeUs},
                                     {"worker", t.worker},
                                     {"attempt", t.attempt},
                                     {"note", t.note ? t.note : ""}});
    return Value(std::move(list));
}

/// Prints one output future to stdout and its error, if any, to `err`; returns true when
/// it finished.
bool report(Client &client, const Output &o, bool json, std::ostringstream &err)
{
    const Future &f = o.future;
    const FutureStatus status = f.status();
    std::optional<Value> result;
    if (status == FutureStatus::Finished) {
        try {
            result = f.result(0s);
        } catch (const std::exception &e) {
            // Finished means the value is there; if the engine disagrees, say so.
            std::cerr << "taskbench-cli: " << f.key() << ": cannot read the result: " << e.what()
                      << "\n";
        }
    }
    const std::optional<TaskError> error = f.error();
    const std::vector<std::string> logs = client.logs(f);

    if (json) {
        Value::Map obj{{"key", f.key()},
                       {"function", f.function()},
                       {"status", toString(status)},
                       {"type", result ? Value(result->typeName()) : Value()},
                       {"result", result ? *result : Value()},
                       {"error", error ? errorJson(*error) : Value()},
                       {"attempts", f.attempts()},
                       {"cached", f.cached()},
                       {"logs", Value::List(logs.begin(), logs.end())},
                       {"story", storyJson(client.story(f))}};
        if (!o.name.empty())
            obj["name"] = o.name;
        std::cout << toJson(Value(std::move(obj))) << "\n";
    } else {
        std::cout << label(o) << "  " << toString(status);
        if (result)
            std::cout << "  " << result->typeName() << "  " << repr(*result);
        else if (error)
            std::cout << "  " << error->describe();
        std::cout << "\n";
        for (const std::string &line : logs)
            std::cout << "    log: " << line << "\n";
    }

    if (status == FutureStatus::Finished && result)
        return true;
    // Errors also go to stderr (after every result line), with the root cause of a
    // propagated error and where it happened.
    err << "taskbench-cli: error: " << label(o) << " (" << f.function() << "): ";
    if (error) {
        err << error->type << ": " << error->message << "\n";
        if (error->fromDependency)
            err << "  root cause: " << error->rootKey << " (" << error->rootFunction
                << ") failed after " << plural(error->attempts, "attempt") << ": " << error->type
                << ": " << error->message << "\n";
        else if (error->traceback.empty())
            err << "  after " << plural(std::max(error->attempts, f.attempts()), "attempt") << "\n";
        std::istringstream tb(error->traceback);
        for (std::string line; std::getline(tb, line);)
            err << "  " << line << "\n";
    } else {
        err << "the task is " << toString(status) << "\n";
    }
    return false;
}

/// Waits for the outputs (and `others`, which they may depend on), prints them and returns
/// the exit code.
int finish(Client &client,
           const std::vector<Output> &outputs,
           const std::vector<Future> &others,
           const Options &opts,
           const std::function<void()> &summary = {})
{
    std::vector<Future> all = others;
    for (const Output &o : outputs)
        all.push_back(o.future);
    log::get("cli")->info("waiting for {} futures", all.size());

    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (opts.timeoutSeconds)
        deadline = std::chrono::steady_clock::now()
                   + std::chrono::duration_cast<Duration>(
                       std::chrono::duration<double>(*opts.timeoutSeconds));
    const WaitOutcome outcome = waitAll(client, all, deadline);
    if (outcome != WaitOutcome::Done) {
        std::vector<Future> unfinished;
        for (const Future &f : all)
            if (!f.done())
                unfinished.push_back(f);
        client.cancel(unfinished);
        if (outcome == WaitOutcome::Interrupted) {
            std::cerr << "taskbench-cli: interrupted; cancelled "
                      << plural(std::int64_t(unfinished.size()), "unfinished task") << "\n";
            const int code = interruptedExitCode();
            startShutdownWatchdog(code);
            client.close();
            return code;
        }
        std::cerr << "taskbench-cli: timed out after " << *opts.timeoutSeconds << " s; cancelled "
                  << plural(std::int64_t(unfinished.size()), "unfinished task") << "\n";
        // Let the cancellations land so that the report shows them.
        waitAll(client, unfinished, std::chrono::steady_clock::now() + 2s);
    }

    bool ok = true;
    std::ostringstream errors;
    for (const Output &o : outputs)
        ok = report(client, o, opts.json, errors) && ok;
    std::cout.flush();
    std::cerr << errors.str();
    if (summary)
        summary();
    if (outcome == WaitOutcome::TimedOut)
        ok = false;
    startShutdownWatchdog(ok ? kExitOk : kExitTaskFailed);
    client.close();
    return ok ? kExitOk : kExitTaskFailed;
}

// ---------------------------------------------------------------------------------------
// History: recording this run, and the `history` command

/// The recording of this run (none with --no-history or when the database is unusable).
history::Recorder *g_recorder = nullptr;

void trackFutures(const std::vector<Future> &futures, const SubmitOptions &options)
{
    if (g_recorder)
        g_recorder->track(futures, options);
}

std::string historyPath(const Options &opts)
{
    return opts.historyDb.empty() ? history::HistoryStore::defaultPath() : opts.historyDb;
}

/// Records the run; an unusable database only costs the recording, never the run.
void startRecording(std::optional<history::Recorder> &recorder,
                    Client &client,
                    const Options &opts,
                    int argc,
                    char **argv)
{
    history::RecorderOptions ro;
    ro.databasePath = historyPath(opts);
    ro.session.app = "taskbench-cli";
    for (int i = 1; i < argc; ++i)
        ro.session.title += (i > 1 ? " " : "") + std::string(argv[i]);
    ro.session.workers = int(client.workers().size());
    ro.session.threadsPerWorker = opts.threadsPerWorker;
    ro.session.processes = opts.processes;
    recorder.emplace(client, ro);
    for (const std::string &notice : recorder->notices())
        std::cerr << "taskbench-cli: history: " << notice << "\n";
    if (!recorder->ok()) {
        std::cerr << "taskbench-cli: history: " << recorder->errorString()
                  << "; this run is not recorded\n";
        recorder.reset();
        return;
    }
    g_recorder = &*recorder;
}

void openHistory(history::HistoryStore &store, const Options &opts)
{
    if (!store.open(historyPath(opts)))
        throw InputError("history: " + store.errorString());
    for (const std::string &notice : store.notices())
        std::cerr << "taskbench-cli: history: " << notice << "\n";
}

std::string localTime(std::int64_t us)
{
    const std::time_t t = std::time_t(us / 1'000'000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string seconds(std::int64_t us)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f s", double(us) / 1e6);
    return buf;
}

Value parsedOrNull(const std::string &json)
{
    return json.empty() ? Value() : fromJson(json).value_or(Value());
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
            Value::Map counts;
            for (const auto &[status, n] : s.counts)
                counts[status] = static_cast<long long>(n);
            std::cout << toJson(Value::Map{
                {"kind", "session"},
                {"id", static_cast<long long>(s.id)},
                {"started_us", static_cast<long long>(s.startedUs)},
                {"ended_us", static_cast<long long>(s.endedUs)},
                {"duration_us", static_cast<long long>(duration)},
                {"status", s.status},
                {"app", s.app},
                {"title", s.title},
                {"task_count", static_cast<long long>(s.taskCount)},
                {"counts", Value(std::move(counts))},
                {"plugins", Value::List(s.plugins.begin(), s.plugins.end())}})
                      << "\n";
            continue;
        }
        std::string counts;
        for (const auto &[status, n] : s.counts)
            counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
        std::cout << "#" << s.id << "  " << localTime(s.startedUs) << "  " << s.status << "  "
                  << (s.status == "running" ? std::string("-") : seconds(duration)) << "  "
                  << plural(s.taskCount, "task") << (counts.empty() ? "" : " (" + counts + ")")
                  << "  " << (s.plugins.empty() ? "-" : join(s.plugins, ", ")) << "  "
                  << s.title << "\n";
    }
    if (sessions.empty() && !opts.json)
        std::cout << "No recorded sessions in " << store.path() << ".\n";
    return kExitOk;
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
            std::cout << toJson(Value::Map{
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
                {"error",
                 failed ? Value(Value::Map{{"type", t.errorType},
                                           {"message", t.errorMessage},
                                           {"root_key", t.errorRoot},
                                           {"traceback", t.traceback}})
                        : Value()}})
                      << "\n";
            continue;
        }
        std::cout << "#" << t.session << "/" << t.id << "  " << t.key << "  " << t.status << "  "
                  << plural(t.attempts, "attempt");
        if (t.finishedUs > 0 && t.startedUs > 0)
            std::cout << "  " << seconds(t.finishedUs - t.startedUs);
        if (t.resultStored)
            std::cout << "  " << t.resultType << "  "
                      << repr(parsedOrNull(t.resultJson), 60);
        else if (t.resultSize >= 0)
            std::cout << "  " << t.resultType << " (" << t.resultSize << " bytes, not stored)";
        if (failed)
            std::cout << "  " << t.errorType << ": " << t.errorMessage;
        std::cout << "\n";
    }
    return kExitOk;
}

int commandHistory(const Options &opts)
{
    history::HistoryStore store;
    openHistory(store, opts);
    const std::string &action = opts.historyAction;
    if (action == "list")
        return listSessions(store, opts);
    if (action == "tasks")
        return listTasks(store, opts);
    if (action == "compare")
        return commandHistoryCompare(store, opts);
    if (action == "export") {
        std::string error;
        if (!history::exportSession(store,
                                    opts.session,
                                    *history::exportFormatFromName(opts.exportFormat),
                                    opts.output,
                                    &error))
            throw InputError("history export: " + error);
        if (opts.output != "-")
            std::cerr << "taskbench-cli: exported session " << opts.session << " to "
                      << opts.output << "\n";
        return kExitOk;
    }
    if (action == "delete") {
        if (!store.deleteSession(opts.session))
            throw InputError("history delete: " + store.errorString());
        std::cout << "Deleted session " << opts.session << ".\n";
        return kExitOk;
    }
    // retention
    const int deleted = store.applyRetention(opts.keepSessions.value_or(0), opts.keepDays.value_or(0));
    std::cout << "Deleted " << plural(deleted, "session") << ".\n";
    return kExitOk;
}

SubmitOptions submitOptions(const Options &opts)
{
    SubmitOptions so;
    so.key = opts.key;
    so.pure = opts.pure;
    so.retries = opts.retries;
    so.priority = opts.priority;
    for (const auto &[name, text] : opts.kwargs)
        so.kwargs[name] = parseArgument(text);
    return so;
}

/// Checks literal arguments before the cluster starts, with the registry's precise message.
void checkArguments(const FunctionInfo &f, std::vector<Value> args, const Value::Map &kwargs)
{
    for (const Value &a : args)
        if (a.containsRef())
            return; // references are resolved (and checked) by the engine
    std::string error;
    if (!FunctionRegistry::bindArguments(f, std::move(args), kwargs, &error))
        throw InputError(error);
}

// ---------------------------------------------------------------------------------------
// Commands

int commandSubmit(Client &client, const FunctionRegistry &registry, const Options &opts)
{
    const std::string &name = opts.positional.front();
    const FunctionPtr f = requireFunction(registry, name);
    std::vector<Value> args;
    for (std::size_t i = 1; i < opts.positional.size(); ++i)
        args.push_back(parseArgument(opts.positional[i]));
    const SubmitOptions so = submitOptions(opts);
    checkArguments(*f, args, so.kwargs);
    Future future;
    try {
        future = client.submit(name, std::move(args), so);
    } catch (const std::invalid_argument &e) {
        throw InputError(e.what());
    }
    trackFutures({future}, so);
    return finish(client, {Output{{}, future}}, {}, opts);
}

int commandMap(Client &client, const FunctionRegistry &registry, const Options &opts)
{
    const std::string &name = opts.positional.front();
    const FunctionPtr f = requireFunction(registry, name);
    if (opts.reduce)
        requireFunction(registry, *opts.reduce, "--reduce: ");
    std::vector<Value> inputs;
    if (opts.range) {
        for (std::int64_t v : parseRange(*opts.range))
            inputs.emplace_back(static_cast<long long>(v));
    } else {
        inputs = readInputs(*opts.inputs);
    }
    if (interrupted())
        return interruptedExitCode();

    // A function of two or more arguments takes each input as the list of its arguments.
    const bool spread = requiredParameters(*f) >= 2;
    std::vector<std::vector<Value>> argLists;
    if (spread) {
        argLists.reserve(inputs.size());
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            if (!inputs[i].isList())
                throw InputError("input " + std::to_string(i + 1) + ": " + name + " takes "
                                 + std::to_string(requiredParameters(*f))
                                 + " arguments, so each input must be a JSON list of them, got "
                                 + inputs[i].kindName());
            argLists.push_back(std::move(inputs[i].toList()));
        }
    }
    SubmitOptions so = submitOptions(opts);
    // Check the first input's literals before anything is submitted.
    if (!inputs.empty() || !argLists.empty())
        checkArguments(
            *f, spread ? argLists.front() : std::vector<Value>{inputs.front()}, so.kwargs);

    std::vector<Future> mapped;
    std::optional<Future> reduced;
    try {
        if (!opts.key.empty()) {
            // Explicit keys: K-0, K-1, ... one submit each (map() keys its tasks itself).
            const std::size_t n = spread ? argLists.size() : inputs.size();
            mapped.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                SubmitOptions one = so;
                one.key = opts.key + "-" + std::to_string(i);
                one.group = opts.key;
                mapped.push_back(client.submit(name,
                                               spread ? std::move(argLists[i])
                                                      : std::vector<Value>{std::move(inputs[i])},
                                               std::move(one)));
            }
        } else {
            SubmitOptions many = so;
            many.key.clear();
            mapped = spread ? client.mapArgs(name, std::move(argLists), many)
                            : client.map(name, std::move(inputs), many);
        }
        if (opts.reduce) {
            Value::List refs;
            refs.reserve(mapped.size());
            for (const Future &m : mapped)
                refs.emplace_back(Value(m));
            SubmitOptions r = so;
            r.kwargs.clear();
            r.group.clear();
            reduced = client.submit(*opts.reduce, {Value(std::move(refs))}, r);
        }
    } catch (const std::invalid_argument &e) {
        throw InputError(e.what());
    }

    trackFutures(mapped, so);
    if (reduced)
        trackFutures({*reduced}, so);

    if (!reduced) {
        std::vector<Output> outputs;
        outputs.reserve(mapped.size());
        for (const Future &m : mapped)
            outputs.push_back(Output{{}, m});
        return finish(client, outputs, {}, opts);
    }
    // Only the reduction is printed; a summary of the mapped tasks goes to stderr.
    const auto summary = [&mapped, &opts] {
        if (opts.json)
            return;
        std::int64_t finished = 0, failed = 0, attempts = 0;
        for (const Future &m : mapped) {
            finished += m.status() == FutureStatus::Finished;
            failed += m.status() != FutureStatus::Finished;
            attempts += m.attempts();
        }
        std::cerr << "taskbench-cli: map: " << plural(std::int64_t(mapped.size()), "task") << ", "
                  << finished << " finished, " << failed << " failed, "
                  << plural(attempts, "attempt") << "\n";
    };
    return finish(client, {Output{{}, *reduced}}, mapped, opts, summary);
}

int commandRun(Client &client, const FunctionRegistry &registry, const Options &opts)
{
    const std::string &path = opts.positional.front();
    const std::string text = readFile(path, "graph file");
    std::string error;
    std::optional<TaskGraph> graph = TaskGraph::fromJson(text, &error);
    if (!graph)
        throw InputError(path + ": " + error);
    if (graph->tasks.empty())
        throw InputError(path + ": the graph has no tasks");
    for (const std::string &out : graph->outputs)
        if (!graph->tasks.count(out))
            throw InputError(path + ": output '" + out + "' is not a task of the graph");
    if (!graph->topologicalOrder(&error))
        throw InputError(path + ": " + error);
    for (const auto &[taskName, task] : graph->tasks)
        requireFunction(registry, task.function, path + ": task '" + taskName + "': ");

    SubmitOptions so;
    so.retries = opts.retries;
    so.priority = opts.priority;
    std::map<std::string, Future> futures;
    try {
        futures = client.compute(*graph, so);
    } catch (const std::invalid_argument &e) {
        throw InputError(path + ": " + e.what());
    }
    std::vector<Future> computed;
    for (const auto &kv : futures)
        computed.push_back(kv.second);
    trackFutures(computed, so);
    std::vector<std::string> names = graph->outputs;
    if (names.empty())
        for (const auto &kv : futures)
            names.push_back(kv.first);
    std::vector<Output> outputs;
    for (const std::string &n : names) {
        const auto it = futures.find(n);
        if (it != futures.end())
            outputs.push_back(Output{n, it->second});
    }
    return finish(client, outputs, {}, opts);
}

/// history rerun: the recorded calls again, in this run's cluster (and recorded as a new
/// session).
int commandRerun(Client &client, const FunctionRegistry &registry, const Options &opts)
{
    history::HistoryStore store;
    openHistory(store, opts);
    if (!store.session(opts.session))
        throw InputError("history rerun: no session " + std::to_string(opts.session) + " in "
                         + store.path());
    const history::RerunPlan plan
        = history::planRerun(store, opts.session, opts.taskIds, opts.failedOnly, registry);
    if (!plan.problems.empty())
        throw InputError("history rerun: " + join(plan.problems, "\n  "));
    std::vector<Future> futures;
    try {
        futures = history::submitRerun(client, plan);
    } catch (const std::invalid_argument &e) {
        throw InputError(std::string("history rerun: ") + e.what());
    }
    std::vector<Output> outputs;
    for (std::size_t i = 0; i < futures.size(); ++i) {
        trackFutures({futures[i]}, plan.calls[i].options);
        outputs.push_back(Output{{}, futures[i]});
    }
    return finish(client, outputs, {}, opts);
}

int runCli(int argc, char **argv)
{
    const Options opts = parseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
    if (opts.version) {
        std::cout << "taskbench-cli " << TASKBENCH_VERSION << " (plugin SDK "
                  << TASKBENCH_SDK_VERSION_STRING << ")\n";
        return kExitOk;
    }
    if (opts.help) {
        std::cout << helpText(opts.command);
        return kExitOk;
    }
    if (opts.printJobScript) { // the Slurm job script, to read or adapt; starts nothing
        std::cout << SlurmCluster::jobScript(slurmOptions(opts, printedSchedulerAddress(opts), opts.tokenFile));
        return kExitOk;
    }
    log::useStderr();
    if (!log::setLevel(opts.logLevel))
        throw UsageError("--log-level: unknown level '" + opts.logLevel
                         + "' (trace, debug, info, warn, error, critical, off)");
    installSignalHandlers();
    if (opts.command == "history" && opts.historyAction != "rerun")
        return commandHistory(opts);
    if (opts.command == "cache")
        return commandCache(historyPath(opts), opts);

    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    const std::vector<std::string> folders = pluginFolders(opts);
    const PluginScanReport scanned = loader.scan(folders);
    if (opts.command == "plugins")
        return listPlugins(loader, scanned, *registry, folders, opts.json);
    if (interrupted())
        return interruptedExitCode();

    if (opts.processes) {
        // Without its worker executable the cluster would have no workers and wait forever.
        std::error_code ec;
        const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
        const std::string worker = (self.parent_path() / "taskbench-worker").string();
        if (!ec && ::access(worker.c_str(), X_OK) != 0)
            throw InputError("--processes: the worker executable " + worker
                             + " is missing (build the taskbench-worker target)");
    }

    ClusterOptions cluster;
    cluster.workers = opts.workers;
    cluster.threadsPerWorker = opts.threadsPerWorker;
    cluster.processes = opts.processes;
    cluster.listen = opts.listen;
    cluster.tokenFile = opts.tokenFile;
    cluster.localWorkers = opts.localWorkers;
    cluster.tls = opts.tls;
    if (opts.cluster == "slurm") { // every worker a Slurm job: none here, a port they reach
        cluster.localWorkers = false;
        if (cluster.listen.empty())
            cluster.listen = defaultSlurmListen();
    }
    for (const PluginRecord &p : loader.plugins())
        cluster.pluginPaths.push_back(p.path);

    // Everything that can be checked without a cluster is checked first (cheap failures).
    if (opts.command == "submit")
        requireFunction(*registry, opts.positional.front());
    else if (opts.command == "map")
        requireFunction(*registry, opts.positional.front());

    const auto resultCache
        = openResultCache(historyPath(opts), opts, cluster.pluginPaths); // outlives the client
    cluster.resultCache = resultCache;
    std::unique_ptr<Client> owned;
    try {
        owned = std::make_unique<Client>(cluster, registry);
    } catch (const std::runtime_error &e) {
        if (cluster.listen.empty())
            throw;
        throw InputError("--listen " + cluster.listen + ": " + e.what()); // port taken, token file
    }
    Client &client = *owned;
    if (!cluster.listen.empty())
        std::cerr << "taskbench: listening for workers on " << client.listenAddress()
                  << " (token file " << client.tokenFile() << ")" << std::endl;
    // After the client: its jobs are cancelled before the client goes.
    std::unique_ptr<SlurmCluster> slurm;
    if (opts.cluster == "slurm")
        slurm = startSlurmCluster(client, opts);
    // Declared after the client, so the recorder finishes before the client goes.
    std::optional<history::Recorder> recorder;
    if (!opts.noHistory)
        startRecording(recorder, client, opts, argc, argv);
    if (resultCache && g_recorder) // entries name the session that computed them
        resultCache->setSession(g_recorder->sessionId());
    if (opts.command == "history")
        return commandRerun(client, *registry, opts);
    if (opts.command == "submit")
        return commandSubmit(client, *registry, opts);
    if (opts.command == "map")
        return commandMap(client, *registry, opts);
    return commandRun(client, *registry, opts);
}

} // namespace

int main(int argc, char **argv)
{
    try {
        return runCli(argc, argv);
    } catch (const UsageError &e) {
        std::cerr << "taskbench-cli: " << e.what() << "\n"
                  << "Try 'taskbench-cli " << (e.command().empty() ? "" : e.command() + " ")
                  << "--help'.\n";
        return kExitUsage;
    } catch (const InputError &e) {
        std::cerr << "taskbench-cli: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception &e) {
        std::cerr << "taskbench-cli: internal error: " << e.what() << "\n";
        return kExitTaskFailed;
    } catch (...) {
        std::cerr << "taskbench-cli: internal error (unknown exception)\n";
        return kExitTaskFailed;
    }
}
