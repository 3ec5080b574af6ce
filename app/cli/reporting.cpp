// Waiting for and printing a work command's output futures (see reporting.h). The waiting
// loop runs in short slices so that Ctrl-C and --timeout are noticed; whatever is unfinished
// then is cancelled and still reported.
#include "reporting.h"

#include "resultstream.h"
#include "signals.h"
#include "stackdump.h"

#include "taskbench/history/recorder.h"

#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <sstream>

namespace taskbench::cli {

using namespace std::chrono_literals;

namespace {

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
        if (takeStackRequest())
            printRunningStacks(client, pending);
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

/// A usage figure, null where unknown.
Value known(std::int64_t v)
{
    return v >= 0 ? Value(v) : Value();
}

/// Every finished attempt's figures: [{"attempt", "peak_rss_bytes", "cpu_s", "result_bytes"}].
Value attemptUsageJson(const std::vector<AttemptFigures> &attempts)
{
    Value::List out;
    for (const AttemptFigures &a : attempts)
        out.emplace_back(
            Value::Map{{"attempt", a.attempt},
                       {"peak_rss_bytes", known(a.usage.peakRssBytes)},
                       {"cpu_s", a.usage.cpuUs >= 0 ? Value(double(a.usage.cpuUs) / 1e6) : Value()},
                       {"result_bytes", known(a.usage.resultBytes)}});
    return Value(std::move(out));
}

/// Prints one output future to stdout and its error, if any, to `err`; returns true when
/// it finished.
bool report(const Output &o, const TaskDetails &details, bool json, std::ostringstream &err)
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
    const std::vector<std::string> &logs = details.logs;
    const std::string &output = details.output;
    const AttemptUsage usage = f.usage();

    if (json) {
        Value::Map obj{{"key", f.key()},
                       {"function", f.function()},
                       {"status", toString(status)},
                       {"type", result ? Value(result->typeName()) : Value()},
                       {"result", result ? *result : Value()},
                       {"error", error ? errorJson(*error) : Value()},
                       {"attempts", f.attempts()},
                       {"cached", f.cached()},
                       // The last attempt's (history keeps every attempt's).
                       {"peak_rss_bytes", known(usage.peakRssBytes)},
                       {"cpu_s", usage.cpuUs >= 0 ? Value(double(usage.cpuUs) / 1e6) : Value()},
                       {"result_bytes", known(usage.resultBytes)},
                       {"attempt_usage", attemptUsageJson(details.attemptUsage)},
                       {"logs", Value::List(logs.begin(), logs.end())},
                       // What the task printed (process workers capture it per task).
                       {"output", output},
                       {"story", storyJson(details.story)}};
        if (!o.name.empty())
            obj["name"] = o.name;
        resultOut() << toJson(Value(std::move(obj))) << "\n";
    } else {
        resultOut() << label(o) << "  " << toString(status);
        if (result)
            resultOut() << "  " << result->typeName() << "  " << repr(*result);
        else if (error)
            resultOut() << "  " << error->describe();
        resultOut() << "\n";
        for (const std::string &line : logs)
            resultOut() << "    log: " << line << "\n";
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
        if (!output.empty()) {
            err << "  output:\n";
            std::istringstream printed(output);
            for (std::string line; std::getline(printed, line);)
                err << "    " << line << "\n";
        }
    } else {
        err << "the task is " << toString(status) << "\n";
    }
    return false;
}

} // namespace

int finish(const CommandContext &ctx,
           const std::vector<Output> &outputs,
           const std::vector<Future> &others,
           const std::function<void()> &summary)
{
    Client &client = *ctx.client;
    const Options &opts = ctx.opts;
    // The recording first (it writes what is left; not bounded by the watchdog, which is
    // for tasks that do not stop), then the cluster.
    const auto close = [&ctx, &client](int exitCode) {
        if (ctx.recorder) {
            ctx.recorder->finish();
            log::get("cli")->debug("history recorded");
        }
        startShutdownWatchdog(exitCode);
        client.close();
    };
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
            close(code);
            return code;
        }
        std::cerr << "taskbench-cli: timed out after " << *opts.timeoutSeconds << " s; cancelled "
                  << plural(std::int64_t(unfinished.size()), "unfinished task") << "\n";
        // Let the cancellations land so that the report shows them.
        waitAll(client, unfinished, std::chrono::steady_clock::now() + 2s);
    }

    log::get("cli")->debug("futures done; reporting");
    bool ok = true;
    std::ostringstream errors;
    // The details in slices: one trip to the scheduler per slice, not four per future.
    constexpr std::size_t kSlice = 4096;
    const auto parts = opts.json ? TaskDetails::All
                                 : TaskDetails::Parts(TaskDetails::Logs | TaskDetails::Output);
    std::vector<Future> slice;
    for (std::size_t begin = 0; begin < outputs.size(); begin += kSlice) {
        const std::size_t end = std::min(outputs.size(), begin + kSlice);
        slice.clear();
        for (std::size_t i = begin; i < end; ++i)
            slice.push_back(outputs[i].future);
        client.prefetch(slice); // values held by process workers: one request per worker
        std::vector<TaskDetails> details = client.details(slice, parts);
        for (std::size_t i = begin; i < end; ++i)
            ok = report(outputs[i], details[i - begin], opts.json, errors) && ok;
    }
    resultOut().flush();
    std::cerr << errors.str();
    if (summary)
        summary();
    if (outcome == WaitOutcome::TimedOut)
        ok = false;
    close(ok ? kExitOk : kExitTaskFailed);
    return ok ? kExitOk : kExitTaskFailed;
}

std::vector<Output> outputsOf(const std::vector<Future> &futures)
{
    std::vector<Output> outputs;
    outputs.reserve(futures.size());
    for (const Future &f : futures)
        outputs.push_back(Output{{}, f});
    return outputs;
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

} // namespace taskbench::cli
