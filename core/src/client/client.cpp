// Client, AsCompleted and Subscription: thin handles over the engine. The client turns
// submit/map/compute calls into task records for the scheduler, waits on futures and asks
// the scheduler about tasks and workers. Future itself: future.cpp; a task's story, logs,
// output and figures: taskdetails.cpp.
#include "client/future_p.h"
#include "scheduler/engine_p.h"
#include "value/replacerefs_p.h"
#include "workers/stackcapture_p.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace taskbench {

using detail::Engine;
using detail::TaskRecord;

// ---------------------------------------------------------------------------------------
// AsCompleted and Subscription

struct AsCompleted::State
{
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Future> ready;
    std::size_t remaining = 0;
};

std::optional<Future> AsCompleted::next(std::optional<Duration> timeout)
{
    if (!m_state)
        return std::nullopt;
    std::unique_lock lock(m_state->mutex);
    auto ready = [&] { return !m_state->ready.empty() || m_state->remaining == 0; };
    if (timeout) {
        if (!m_state->cv.wait_for(lock, *timeout, ready))
            return std::nullopt;
    } else {
        m_state->cv.wait(lock, ready);
    }
    if (m_state->ready.empty())
        return std::nullopt;
    Future f = std::move(m_state->ready.front());
    m_state->ready.pop_front();
    --m_state->remaining;
    return f;
}

std::size_t AsCompleted::remaining() const
{
    if (!m_state)
        return 0;
    std::lock_guard lock(m_state->mutex);
    return m_state->remaining;
}

Subscription::~Subscription()
{
    reset();
}

void Subscription::reset()
{
    if (auto engine = m_engine.lock())
        engine->unsubscribe(m_id);
    m_engine.reset();
}

// ---------------------------------------------------------------------------------------
// Client

Client::Client(ClusterOptions options, std::shared_ptr<FunctionRegistry> functions)
    : m_engine(std::make_shared<Engine>(std::move(options), std::move(functions)))
{
    m_engine->start();
}

Client::~Client()
{
    close();
}

void Client::close()
{
    m_engine->close();
}

FunctionRegistry &Client::functions()
{
    return m_engine->functions();
}

std::shared_ptr<FunctionRegistry> Client::functionRegistry() const
{
    return m_engine->functionRegistry();
}

const ClusterOptions &Client::options() const
{
    return m_engine->options();
}

namespace {

FunctionPtr requireFunction(FunctionRegistry &registry, std::string_view name)
{
    FunctionPtr fn = registry.find(name);
    if (!fn)
        throw std::invalid_argument("unknown function '" + std::string(name) + "'");
    return fn;
}

std::vector<Value>
bindOrThrow(const FunctionInfo &fn, std::vector<Value> args, const Value::Map &kwargs)
{
    std::string error;
    auto bound = FunctionRegistry::bindArguments(fn, std::move(args), kwargs, &error);
    if (!bound)
        throw std::invalid_argument(error);
    return std::move(*bound);
}

/// The key submit gives a pure call (engine.cpp's rule): the function's own name, then the
/// token of the function and its bound arguments.
std::string pureKey(const FunctionInfo &fn, const std::vector<Value> &args)
{
    const std::string_view qualified = fn.qualifiedName;
    return std::string(qualified.substr(qualified.rfind('.') + 1)) + "-"
           + tokenize(fn.qualifiedName, args);
}

} // namespace

Future Client::submit(std::string_view function, std::vector<Value> args, SubmitOptions opts)
{
    FunctionPtr fn = requireFunction(functions(), function);
    std::vector<Engine::Call> calls(1);
    calls[0].args = bindOrThrow(*fn, std::move(args), opts.kwargs);
    calls[0].key = opts.key;
    std::shared_ptr<const std::string> group;
    if (!opts.group.empty())
        group = std::make_shared<const std::string>(opts.group);
    return m_engine->submitCalls(fn, std::move(calls), opts, std::move(group)).front();
}

std::vector<Future>
Client::map(std::string_view function, std::vector<Value> inputs, SubmitOptions opts)
{
    std::vector<std::vector<Value>> argLists;
    argLists.reserve(inputs.size());
    for (Value &v : inputs)
        argLists.push_back({std::move(v)});
    return mapArgs(function, std::move(argLists), std::move(opts));
}

std::vector<Future> Client::mapArgs(std::string_view function,
                                    std::vector<std::vector<Value>> argLists,
                                    SubmitOptions opts)
{
    FunctionPtr fn = requireFunction(functions(), function);
    if (!opts.key.empty())
        throw std::invalid_argument("map takes no explicit key (keys are derived per input)");
    std::vector<Engine::Call> calls(argLists.size());
    const bool simple = opts.kwargs.empty() && fn->params.size() == 1;
    for (std::size_t i = 0; i < argLists.size(); ++i) {
        // The common single-parameter case skips re-binding each input's defaults.
        if (simple && argLists[i].size() == 1
            && (fn->params[0].type == "any" || argLists[i][0].isRef()
                || (fn->params[0].type == "int" && argLists[i][0].isInt())))
            calls[i].args = std::move(argLists[i]);
        else
            calls[i].args = bindOrThrow(*fn, std::move(argLists[i]), opts.kwargs);
    }
    auto group = std::make_shared<const std::string>(
        opts.group.empty() ? fn->name + "-map-" + randomToken().substr(0, 8) : opts.group);
    return m_engine->submitCalls(fn, std::move(calls), opts, std::move(group));
}

Future Client::scatter(Value value, std::string key)
{
    return m_engine->scatter(std::move(value), std::move(key));
}

std::map<std::string, Future> Client::compute(const TaskGraph &graph, SubmitOptions opts)
{
    std::string error;
    auto order = graph.topologicalOrder(&error);
    if (!order)
        throw std::invalid_argument(error);
    // Validate every task before submitting any.
    std::map<std::string, FunctionPtr> fns;
    for (const auto &[name, task] : graph.tasks)
        fns[name] = requireFunction(functions(), task.function);

    std::shared_ptr<const std::string> group;
    if (!opts.group.empty())
        group = std::make_shared<const std::string>(opts.group);
    std::map<std::string, Future> byName;
    std::map<std::string, std::string> keyOf;                // task name -> key
    std::unordered_map<std::string, std::string> identityOf; // key -> cache key
    const auto renamed = [](Value v, const auto &names) {
        detail::replaceRefs(v, [&](const std::string &name, Value &slot) {
            slot = Value::ref(names.at(name));
            return true;
        });
        return v;
    };
    for (const std::string &name : *order) {
        const TaskGraph::Task &task = graph.tasks.at(name);
        const FunctionPtr &fn = fns.at(name);
        std::vector<Value> args;
        args.reserve(task.args.size());
        for (const Value &a : task.args)
            args.push_back(renamed(a, keyOf));
        Value::Map kwargs;
        for (const auto &[k, v] : task.kwargs)
            kwargs.emplace(k, renamed(v, keyOf));
        std::vector<Engine::Call> calls(1);
        Engine::Call &call = calls[0];
        // The key is "name-token". Without kwargs the token is of the arguments as written
        // (so the keys of such graphs stay what they always were); with kwargs, of the bound
        // arguments, as submit's, so that other kwargs make another key.
        const bool asWritten = kwargs.empty();
        std::string token = asWritten ? tokenize(task.function, args) : std::string();
        call.args = bindOrThrow(*fn, std::move(args), kwargs);
        if (!asWritten)
            token = tokenize(task.function, call.args);
        call.key = name + "-" + token;
        if (opts.pure) {
            // The cache knows the call, not the graph: the key submit would give it, with
            // references to the inputs' own identities. A task's name then plays no part, and
            // one name cannot pass for another call's key.
            std::vector<Value> identity;
            identity.reserve(call.args.size());
            for (const Value &a : call.args)
                identity.push_back(renamed(a, identityOf));
            call.cacheKey = pureKey(*fn, identity);
            identityOf.emplace(call.key, call.cacheKey);
        }
        SubmitOptions o = opts;
        o.kwargs.clear();
        o.key.clear();
        o.retries = std::max(opts.retries, task.retries);
        Future f = m_engine->submitCalls(fn, std::move(calls), o, group).front();
        keyOf[name] = f.key();
        byName.emplace(name, std::move(f));
    }
    if (graph.outputs.empty())
        return byName;
    std::map<std::string, Future> out;
    for (const std::string &name : graph.outputs)
        out.emplace(name, byName.at(name));
    return out;
}

std::vector<Value>
Client::gather(const std::vector<Future> &futures, Errors errors, std::optional<Duration> timeout)
{
    auto w = wait(futures, ReturnWhen::AllCompleted, timeout);
    if (!w.notDone.empty())
        throw TimeoutError("timed out: " + std::to_string(w.notDone.size()) + " of "
                           + std::to_string(futures.size()) + " futures not done");
    prefetch(futures);
    std::vector<Value> out;
    out.reserve(futures.size());
    for (const Future &f : futures) {
        if (errors == Errors::Skip && f.status() != FutureStatus::Finished)
            continue;
        out.push_back(f.result());
    }
    return out;
}

void Client::prefetch(const std::vector<Future> &futures)
{
    detail::PrefetchMsg m;
    for (const Future &f : futures) {
        requireValid(f);
        std::lock_guard lock(m_engine->stripe(f.m_task));
        if (f.m_task->remotePublished)
            m.ids.push_back(f.id());
    }
    if (!m.ids.empty())
        m_engine->post(std::move(m));
}

WaitResult
Client::wait(const std::vector<Future> &futures, ReturnWhen when, std::optional<Duration> timeout)
{
    for (const Future &f : futures)
        requireValid(f);
    std::size_t cursor = 0; // futures before it are done (statuses only move forward here)
    auto pred = [&]() -> bool {
        switch (when) {
        case ReturnWhen::AllCompleted:
            while (cursor < futures.size() && futures[cursor].done())
                ++cursor;
            return cursor == futures.size();
        case ReturnWhen::FirstCompleted:
            return futures.empty()
                   || std::any_of(futures.begin(), futures.end(), [](auto &f) { return f.done(); });
        case ReturnWhen::FirstException: {
            bool all = true;
            for (const Future &f : futures) {
                const FutureStatus s = f.status();
                if (s == FutureStatus::Error || s == FutureStatus::Lost)
                    return true;
                all = all && isTerminal(s);
            }
            return all;
        }
        }
        return true;
    };
    m_engine->waitUntil(pred, timeout);
    WaitResult out;
    for (const Future &f : futures)
        (f.done() ? out.done : out.notDone).push_back(f);
    return out;
}

AsCompleted Client::asCompleted(const std::vector<Future> &futures)
{
    AsCompleted ac;
    ac.m_state = std::make_shared<AsCompleted::State>();
    ac.m_state->remaining = futures.size();
    std::weak_ptr<AsCompleted::State> weak = ac.m_state;
    for (const Future &f : futures) {
        f.addDoneCallback([weak](const Future &done) {
            if (auto state = weak.lock()) {
                {
                    std::lock_guard lock(state->mutex);
                    state->ready.push_back(done);
                }
                state->cv.notify_all();
            }
        });
    }
    return ac;
}

void Client::cancel(const std::vector<Future> &futures)
{
    detail::CancelMsg m;
    for (const Future &f : futures)
        m.ids.push_back(f.id());
    m_engine->post(std::move(m));
    m_engine->query([] {}); // the inbox is FIFO: returns once the cancel is applied
}

void Client::retry(const std::vector<Future> &futures)
{
    detail::RetryMsg m;
    for (const Future &f : futures)
        m.ids.push_back(f.id());
    m_engine->post(std::move(m));
    m_engine->query([] {}); // returns once the retry is applied
}

std::vector<Value> Client::arguments(const Future &future)
{
    requireValid(future);
    std::vector<Value> out;
    // The submitted ones are immutable, but a held task's may have been edited since.
    m_engine->query([&] { out = detail::currentArgs(future.m_task); });
    return out;
}

std::vector<WorkerInfo> Client::workers()
{
    std::vector<WorkerInfo> out;
    m_engine->query([&] { out = m_engine->workerInfos(); });
    return out;
}

void Client::scale(int workers)
{
    m_engine->post(detail::ScaleMsg{workers});
}

bool Client::restartWorker(int workerId)
{
    bool ok = false;
    m_engine->query([&] { ok = !m_engine->closed() && m_engine->restartWorker(workerId); });
    return ok;
}

bool Client::loseWorker(int workerId, const std::string &cause)
{
    bool ok = false;
    m_engine->query([&] { ok = !m_engine->closed() && m_engine->loseWorker(workerId, cause); });
    return ok;
}

bool Client::retireWorker(int workerId)
{
    bool ok = false;
    m_engine->query([&] { ok = !m_engine->closed() && m_engine->retireWorkerById(workerId); });
    return ok;
}

std::string Client::listenAddress() const
{
    return m_engine->listenAddress();
}

std::string Client::tokenFile() const
{
    return m_engine->tokenFile();
}

std::size_t Client::taskCount()
{
    std::size_t n = 0;
    m_engine->query([&] { n = m_engine->taskCountNow(); });
    return n;
}

bool Client::waitUntilIdle(std::optional<Duration> timeout)
{
    const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                  : std::chrono::steady_clock::time_point::max();
    // Releases travel through the inbox; a query after them observes their effect.
    for (;;) {
        if (taskCount() == 0)
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        m_engine->waitUntil([] { return false; }, std::chrono::milliseconds(2));
    }
}

Subscription Client::subscribe(EventCallback callback, EventMask wanted)
{
    Subscription s;
    s.m_engine = m_engine;
    s.m_id = m_engine->subscribe(std::move(callback), {}, wanted);
    return s;
}

std::optional<std::string> Client::stackOf(std::string_view key, std::string *error)
{
    std::optional<detail::RunningThread> where;
    std::string why;
    m_engine->query([&] { where = m_engine->runningThread(key, &why); });
    if (!where) {
        if (error)
            *error = why;
        return std::nullopt;
    }
    return detail::captureStack(where->pid, where->tid, error);
}

Future Client::findFuture(std::string_view key)
{
    return m_engine->findFuture(key);
}

void Client::deliverEvents()
{
    m_engine->deliverEvents();
}

Subscription Client::subscribeShared(SharedEventCallback callback, EventMask wanted)
{
    Subscription s;
    s.m_engine = m_engine;
    s.m_id = m_engine->subscribe({}, std::move(callback), wanted);
    return s;
}

} // namespace taskbench
