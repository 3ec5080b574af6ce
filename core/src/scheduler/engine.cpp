// The scheduler: one thread owns every task's state and moves it through Dask's state
// machine (released -> waiting -> queued -> processing -> memory | erred | cancelled ...).
// Everyone else talks to it through the inbox; it answers through published status fields,
// the waiters' condition variable, done callbacks and batched events.
#include "remote/workergate_p.h"
#include "scheduler/engine_p.h"

#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <future>
#include <thread>
#include <unordered_set>

namespace taskbench::detail {

namespace {

/// The death cause of a process worker restarted through Client::restartWorker.
constexpr std::string_view kUserRestartCause = "restarted by user";

/// Dependencies of one task checked for duplicates by scanning, below this count.
constexpr std::size_t kLinearDepScan = 32;

/// A task's dependencies by key: scanned when they are few, indexed past kLinearDepScan (a
/// reduction over a big map refers to one per element).
class DependencyKeys
{
public:
    explicit DependencyKeys(const std::vector<TaskRecord *> &deps)
        : m_deps(deps)
    {
        if (deps.size() < kLinearDepScan)
            return;
        m_index.reserve(deps.size());
        for (const TaskRecord *d : deps)
            m_index.emplace(d->key(), d);
    }
    const TaskRecord *find(const std::string &key) const
    {
        if (!m_index.empty()) {
            const auto it = m_index.find(key);
            return it == m_index.end() ? nullptr : it->second;
        }
        for (const TaskRecord *d : m_deps)
            if (d->key() == key)
                return d;
        return nullptr;
    }

private:
    const std::vector<TaskRecord *> &m_deps;
    std::unordered_map<std::string_view, const TaskRecord *> m_index;
};

/// An argument with its references replaced by the dependencies' values (or, for a value
/// held by a remote worker, by a reference to it there).
Value resolveValue(const Value &v, const DependencyKeys &deps)
{
    switch (v.type()) {
    case Value::Type::Ref: {
        const TaskRecord *d = deps.find(v.toRef().key);
        if (!d)
            return Value();
        return d->remote ? Value::ref("#" + std::to_string(d->id)) : d->result;
    }
    case Value::Type::List: {
        Value::List out;
        out.reserve(v.toList().size());
        for (const Value &item : v.toList())
            out.push_back(item.containsRef() ? resolveValue(item, deps) : item);
        return Value(std::move(out));
    }
    case Value::Type::Map: {
        Value::Map out;
        for (const auto &[k, item] : v.toMap())
            out.emplace(k, item.containsRef() ? resolveValue(item, deps) : item);
        return Value(std::move(out));
    }
    default:
        return v;
    }
}

std::shared_ptr<spdlog::logger> engineLog()
{
    static const std::shared_ptr<spdlog::logger> logger = log::get("engine");
    return logger;
}

std::string describeArgs(const std::vector<Value> &args)
{
    std::string s = "(";
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i)
            s += ", ";
        s += repr(args[i], 60);
    }
    return s + ")";
}

} // namespace

Engine::Engine(ClusterOptions options, std::shared_ptr<FunctionRegistry> functions)
    : m_options(std::move(options))
    , m_functions(functions ? std::move(functions) : std::make_shared<FunctionRegistry>())
{
    if (m_options.workers <= 0)
        m_options.workers = int(std::max(1u, std::thread::hardware_concurrency()));
    m_options.threadsPerWorker = std::max(1, m_options.threadsPerWorker);
    m_options.allowedFailures = std::max(0, m_options.allowedFailures);
    m_subscribers = std::make_shared<std::vector<Subscriber>>();
}

Engine::~Engine()
{
    close();
    // Futures are gone (they hold the engine); free what is left: registered records, and
    // records whose submission never reached the scheduler.
    std::lock_guard lock(m_registryMutex);
    for (auto &[key, r] : m_byKey)
        if (!r->registered)
            delete r;
    m_byKey.clear();
    for (auto &[id, r] : m_tasks)
        delete r;
    m_tasks.clear();
}

void Engine::start()
{
    if ((m_options.processes || !m_options.listen.empty()) && m_options.pluginPaths.empty()) {
        // Process (and remote) workers load every plugin library the registry's functions
        // came from.
        for (const FunctionPtr &fn : m_functions->all())
            if (!fn->pluginPath.empty()
                && std::find(
                       m_options.pluginPaths.begin(), m_options.pluginPaths.end(), fn->pluginPath)
                       == m_options.pluginPaths.end())
                m_options.pluginPaths.push_back(fn->pluginPath);
    }
    if (!m_options.listen.empty()) // first: a port that cannot be opened fails the start
        m_gate = std::make_unique<WorkerGate>(
            m_options, m_options.pluginPaths, [this](std::unique_ptr<RemotePeer> peer) {
                auto holder = std::make_shared<std::unique_ptr<RemotePeer>>(std::move(peer));
                post(QueryMsg{[this, holder] { addRemoteWorker(std::move(*holder)); }});
            });
    if (m_gate) { // what the options resolved to: the bound port, the token file in use
        m_options.listen = m_gate->address();
        m_options.tokenFile = m_gate->tokenFile();
    }
    if (m_options.localWorkers)
        for (int i = 0; i < m_options.workers; ++i)
            addWorker();
    m_thread = std::thread([this] { run(); });
}

void Engine::close()
{
    if (m_closed.exchange(true))
        return;
    m_gate.reset(); // no more arrivals
    post(StopMsg{});
    if (m_thread.joinable())
        m_thread.join();
    // The scheduler is gone: answer queries that arrived too late, and drop everything else
    // (held futures and callbacks would otherwise keep this engine alive).
    std::vector<Message> leftover;
    {
        std::lock_guard lock(m_inboxMutex);
        m_inboxClosed.store(true);
        leftover.swap(m_inbox);
    }
    for (Message &msg : leftover)
        if (auto *q = std::get_if<QueryMsg>(&msg))
            q->fn();
    leftover.clear();
    for (auto &[id, r] : m_tasks)
        r->extras.reset();
}

// ---------------------------------------------------------------------------------------
// Client side

std::vector<Future> Engine::submitCalls(const FunctionPtr &fn,
                                        std::vector<Call> calls,
                                        const SubmitOptions &opts,
                                        std::shared_ptr<const std::string> group)
{
    if (m_closed.load())
        throw std::runtime_error("the client is closed");
    if (m_options.processes && fn->pluginPath.empty())
        throw std::invalid_argument(
            fn->qualifiedName + " is not from a plugin library: process workers cannot run it");
    std::int64_t timeoutUs = 0;
    if (opts.timeout)
        timeoutUs = std::chrono::duration_cast<std::chrono::microseconds>(*opts.timeout).count();
    else if (m_options.taskTimeout)
        timeoutUs
            = std::chrono::duration_cast<std::chrono::microseconds>(*m_options.taskTimeout).count();
    // Keys are computed outside any lock: hashing is the expensive part of a submit.
    // Keys read like Dask's: the function's own name, then a token.
    const std::string_view qualified = fn->qualifiedName;
    const std::string prefix(qualified.substr(qualified.rfind('.') + 1));
    for (Call &c : calls) {
        if (c.key.empty())
            c.key
                = prefix + "-" + (opts.pure ? tokenize(fn->qualifiedName, c.args) : randomToken());
    }
    if (!group)
        group = std::make_shared<const std::string>(prefix);

    const bool announce = wants(EventKind::TaskAdded);
    std::vector<Future> out;
    out.reserve(calls.size());
    SubmitMsg msg;
    WantMsg wanted;
    auto self = shared_from_this();
    {
        std::lock_guard lock(m_registryMutex);
        // Resolve references first so that a bad call submits nothing.
        for (const Call &c : calls) {
            for (const Value &a : c.args) {
                a.forEachRef([&](const FutureRef &ref) {
                    auto it = m_byKey.find(ref.key);
                    if (it == m_byKey.end())
                        throw std::invalid_argument("argument refers to unknown future '" + ref.key
                                                    + "'");
                });
            }
        }
        // One growth for a large map instead of a rehash of everything at each doubling
        // (small calls keep the table's own growth policy).
        if (calls.size() > 64)
            m_byKey.reserve(m_byKey.size() + calls.size());
        if (wants(EventKind::TasksAdded)) { // ids and keys listed here, as they are made
            std::size_t keyChars = 0;
            for (const Call &c : calls)
                keyChars += c.key.size();
            msg.listed = std::make_shared<TaskList>();
            msg.listed->reserve(calls.size(), keyChars);
        }
        for (Call &c : calls) {
            auto it = m_byKey.find(c.key);
            if (it != m_byKey.end()) {
                // Same key: the same future (pure calls are computed once).
                TaskRecord *existing = it->second;
                out.push_back(Future(existing, self)); // takes a reference
                wanted.ids.push_back(existing->id);
                continue;
            }
            for (const Value &a : c.args) {
                a.forEachRef([&](const FutureRef &ref) {
                    TaskRecord *dep = m_byKey.find(ref.key)->second;
                    msg.keepAlive.push_back(Future(dep, self));
                });
            }
            auto *r = new TaskRecord;
            r->id = m_nextId.fetch_add(1, std::memory_order_relaxed);
            if (msg.listed)
                msg.listed->add(r->id, c.key);
            if (announce) {
                r->info = std::make_shared<EventDetail>();
                r->info->key = std::move(c.key);
                r->info->function = fn->qualifiedName;
                r->info->group = group;
            } else {
                r->ownKey = std::move(c.key);
            }
            r->function = fn;
            r->group = group;
            r->args = std::move(c.args);
            r->retries = std::max(0, opts.retries);
            r->priority = opts.priority;
            r->timeoutUs = timeoutUs;
            m_byKey.emplace(r->key(), r);
            out.push_back(Future(r, self));
            msg.tasks.push_back(r);
        }
    }
    if (!msg.tasks.empty())
        post(std::move(msg));
    if (!wanted.ids.empty())
        post(std::move(wanted));
    return out;
}

Future Engine::scatter(Value value, std::string key)
{
    if (m_closed.load())
        throw std::runtime_error("the client is closed");
    if (value.containsRef())
        throw std::invalid_argument("cannot scatter a value that contains future references");
    const std::string typeName = value.kindName();
    if (key.empty())
        key = typeName + "-" + tokenize("scatter", {value});
    auto self = shared_from_this();
    std::lock_guard lock(m_registryMutex);
    auto it = m_byKey.find(key);
    if (it != m_byKey.end()) {
        return Future(it->second, self);
    }
    auto *r = new TaskRecord;
    r->id = m_nextId.fetch_add(1, std::memory_order_relaxed);
    r->ownKey = std::move(key);
    r->group = std::make_shared<const std::string>("scatter");
    r->result = std::move(value);
    // Finished from the start (nobody else sees the record yet): scatter is synchronous.
    r->status.store(std::uint8_t(FutureStatus::Finished));
    m_byKey.emplace(r->key(), r);
    Future f(r, self);
    SubmitMsg msg;
    msg.tasks.push_back(r);
    post(std::move(msg));
    return f;
}

Future Engine::findFuture(std::string_view key)
{
    std::lock_guard lock(m_registryMutex);
    auto it = m_byKey.find(key);
    if (it == m_byKey.end())
        return {};
    return Future(it->second, shared_from_this());
}

bool Engine::post(Message msg)
{
    bool wake;
    {
        std::lock_guard lock(m_inboxMutex);
        if (m_inboxClosed.load())
            return false;
        m_inbox.push_back(std::move(msg));
        m_inboxSize.store(m_inbox.size(), std::memory_order_release);
        wake = m_sleeping;
        m_sleeping = false;
    }
    if (wake)
        m_inboxCv.notify_one();
    return true;
}

void Engine::postRelease(std::uint64_t id)
{
    if (m_closed.load())
        return; // the destructor frees everything
    post(ReleaseMsg{id});
}

void Engine::query(std::function<void()> fn)
{
    if (std::this_thread::get_id() == m_thread.get_id()) {
        fn();
        return;
    }
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    auto wrapped = [fn, done] {
        try {
            fn();
            done->set_value();
        } catch (...) {
            done->set_exception(std::current_exception());
        }
    };
    if (!post(QueryMsg{wrapped})) {
        // Closed: nothing changes task state any more; serialise readers.
        std::lock_guard lock(m_registryMutex);
        fn();
        return;
    }
    f.get();
}

void Engine::deliverEvents()
{
    if (std::this_thread::get_id() == m_thread.get_id()) {
        flushEvents();
        return;
    }
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    // Run on the scheduler thread, which owns the pending events; once closed, the
    // scheduler has handed over everything it had on its way out.
    if (post(QueryMsg{[this, done] {
            flushEvents();
            done->set_value();
        }}))
        f.wait();
}

bool Engine::waitUntil(const std::function<bool()> &pred, std::optional<Duration> timeout)
{
    // A short yielding spin catches fast tasks without a sleep/wake round trip.
    for (int i = 0; i < 200; ++i) {
        if (pred())
            return true;
        std::this_thread::yield();
    }
    const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                  : std::chrono::steady_clock::time_point::max();
    m_waiters.fetch_add(1);
    std::unique_lock lock(m_waitMutex);
    bool ok = true;
    while (!pred()) {
        if (m_inboxClosed.load()) {
            ok = pred();
            break;
        }
        if (timeout) {
            if (m_waitCv.wait_until(lock, deadline) == std::cv_status::timeout) {
                ok = pred();
                break;
            }
        } else {
            // Bounded waits guard against a missed notification after close.
            m_waitCv.wait_for(lock, std::chrono::milliseconds(200));
        }
    }
    lock.unlock();
    m_waiters.fetch_sub(1);
    return ok;
}

EventMask Engine::wantedBy(const std::vector<Subscriber> &subscribers)
{
    EventMask all = 0;
    for (const Subscriber &s : subscribers)
        all |= s.wanted;
    return all;
}

std::uint64_t Engine::subscribe(EventCallback plain, SharedEventCallback shared, EventMask wanted)
{
    std::lock_guard lock(m_subscribersMutex);
    auto next = std::make_shared<std::vector<Subscriber>>(*m_subscribers);
    const std::uint64_t id = m_nextSubscriber++;
    next->push_back(Subscriber{id, std::move(plain), std::move(shared), wanted});
    m_wantedEvents.store(wantedBy(*next));
    m_subscribers = std::move(next);
    return id;
}

void Engine::unsubscribe(std::uint64_t id)
{
    std::lock_guard lock(m_subscribersMutex);
    auto next = std::make_shared<std::vector<Subscriber>>(*m_subscribers);
    next->erase(std::remove_if(
                    next->begin(), next->end(), [id](const Subscriber &s) { return s.id == id; }),
                next->end());
    m_wantedEvents.store(wantedBy(*next));
    m_subscribers = std::move(next);
}

// ---------------------------------------------------------------------------------------
// Worker side

void Engine::completed(int worker, std::vector<Completion> items)
{
    post(CompletionMsg{worker, std::move(items)});
}

void Engine::progress(std::uint64_t task, int worker, double fraction, std::string text)
{
    post(ProgressMsg{task, worker, false, fraction, std::move(text)});
}

void Engine::logLine(std::uint64_t task, int worker, std::string line)
{
    post(ProgressMsg{task, worker, true, 0, std::move(line)});
}

void Engine::fetched(int worker, std::uint64_t task, std::optional<Value> value, std::string error)
{
    post(FetchedMsg{worker, task, std::move(value), std::move(error)});
}

void Engine::died(int worker, std::string cause)
{
    post(DiedMsg{worker, std::move(cause)});
}

// ---------------------------------------------------------------------------------------
// Scheduler thread

void Engine::run()
{
    std::vector<Message> batch;
    while (true) {
        // While a worker has work outstanding, its reply is likely tens of microseconds away:
        // a short yielding spin catches it without a sleep and wake-up round trip, which on a
        // virtual machine with idle cores costs more than the task itself. Measured on 2 cores:
        // thread latency p50 ~18 -> 9 us, process chain ~13,500 -> 19,500 tasks/s. Idle
        // otherwise (nothing outstanding, or a timer pending): no spin.
        {
            const bool awaitingReply
                = std::any_of(m_workers.begin(), m_workers.end(), [](const auto &w) {
                      return w->outstanding > 0;
                  });
            if (awaitingReply && m_timers.empty())
                spinFor(kSchedulerSpinUs,
                        [&] { return m_inboxSize.load(std::memory_order_acquire) != 0; });
            std::unique_lock lock(m_inboxMutex);
            while (m_inbox.empty()) {
                m_sleeping = true;
                if (m_timers.empty()) {
                    m_inboxCv.wait(lock);
                } else {
                    const auto next = std::chrono::steady_clock::time_point(
                        std::chrono::microseconds(m_timers.begin()->first));
                    if (m_inboxCv.wait_until(lock, next) == std::cv_status::timeout)
                        break;
                }
            }
            m_sleeping = false;
            batch.swap(m_inbox);
            m_inboxSize.store(0, std::memory_order_release);
        }
        for (Message &msg : batch)
            std::visit([this](auto &m) { handle(m); }, msg);
        batch.clear();
        fireTimers();
        schedule();
        flushReleases();
        reapRetired();
        flushEvents();
        if (m_statusChanged) {
            m_statusChanged = false;
            if (m_waiters.load() > 0) {
                {
                    std::lock_guard lock(m_waitMutex);
                }
                m_waitCv.notify_all();
            }
        }
        if (m_stopping)
            break;
    }
    // Wake anyone still waiting: every unfinished future is cancelled now.
    {
        std::lock_guard lock(m_waitMutex);
    }
    m_waitCv.notify_all();
}

TaskRecord *Engine::lookup(std::uint64_t id) const
{
    auto it = m_tasks.find(id);
    return it == m_tasks.end() ? nullptr : it->second;
}

Event &Engine::newEvent()
{
    // Handed over in batches of a bounded size, also in the middle of a round (a map of
    // 100,000 tasks makes 300,000 events in one): a batch stays in the cache, and its vector
    // comes back to the pool instead of growing page by page every round.
    if (m_events.size() >= kEventBatchSize)
        flushEvents();
    // Built in place: one is made per transition of every task while someone listens.
    return m_events.emplace_back();
}

void Engine::flushEvents()
{
    if (m_events.empty())
        return;
    std::shared_ptr<const std::vector<Subscriber>> subs;
    {
        std::lock_guard lock(m_subscribersMutex);
        subs = m_subscribers;
    }
    // Handed over, not copied: a subscriber that keeps the batch (a recorder, the GUI)
    // holds the pointer. Whoever drops it last destroys the events on its own thread and
    // gives the vector back to the pool.
    std::shared_ptr<EventBatchPool> pool = m_eventPool;
    EventBatchPtr batch(new EventBatch(std::move(m_events)), [pool](const EventBatch *b) {
        pool->giveBack(std::unique_ptr<EventBatch>(const_cast<EventBatch *>(b)));
    });
    m_events = m_eventPool->take();
    for (const Subscriber &s : *subs) {
        try {
            if (s.shared)
                s.shared(batch);
            else
                s.plain(*batch);
        } catch (const std::exception &e) {
            engineLog()->error("event subscriber threw: {}", e.what());
        } catch (...) {
            engineLog()->error("event subscriber threw a non-standard exception");
        }
    }
}

void Engine::publish(TaskRecord *r, FutureStatus status)
{
    {
        std::lock_guard lock(stripe(r));
        r->attemptsPublished = r->attempt;
        r->status.store(std::uint8_t(status), std::memory_order_seq_cst);
    }
    m_statusChanged = true;
}

void Engine::transition(TaskRecord *r, TaskState to, int worker, const char *note)
{
    const TaskState from = r->state;
    r->state = to;
    const std::int64_t now = wallClockUs();
    r->history.push_back(Transition{from, to, now, worker, r->attempt, note});
    const FutureStatus before = futureStatusOf(from);
    const FutureStatus after = futureStatusOf(to);
    if (to != TaskState::Forgotten && (before != after || from == TaskState::Released))
        publish(r, after);
    if (wants(to == TaskState::Forgotten ? kForgottenTransitions
                                         : eventBit(EventKind::Transition))) {
        Event &e = newEvent();
        e.kind = EventKind::Transition;
        e.task = r->id;
        e.from = from;
        e.to = to;
        e.worker = worker;
        e.attempt = r->attempt;
        e.timeUs = now;
        if (*note)
            e.detail().text = note;
    }
    if (isTerminal(after) && r->extras && !r->extras->callbacks.empty())
        runCallbacks(r);
}

void Engine::runCallbacks(TaskRecord *r)
{
    auto callbacks = std::move(r->extras->callbacks);
    r->extras->callbacks.clear();
    Future f(r, shared_from_this());
    for (auto &cb : callbacks) {
        try {
            cb(f);
        } catch (const std::exception &e) {
            engineLog()->error("done callback of {} threw: {}", r->key(), e.what());
        } catch (...) {
            engineLog()->error("done callback of {} threw a non-standard exception", r->key());
        }
    }
}

void Engine::handle(SubmitMsg &m)
{
    // Every task's deps first, so that TasksAdded (one event for the submit) has them and
    // comes before the tasks' first transitions; then each is registered as before.
    for (TaskRecord *r : m.tasks)
        resolveDeps(r);
    announceTasks(m);
    for (TaskRecord *r : m.tasks)
        registerTask(r);
    m.keepAlive.clear(); // the dependencies are linked now
}

void Engine::announceTasks(SubmitMsg &m)
{
    if (!wants(EventKind::TasksAdded) || m.tasks.empty())
        return;
    // Listed at submit (ids and keys), or now for a submit made before anyone listened.
    std::shared_ptr<TaskList> list = std::move(m.listed);
    const bool listedAtSubmit = list != nullptr;
    if (!list) {
        list = std::make_shared<TaskList>();
        list->reserve(m.tasks.size(), 0);
    }
    for (std::size_t i = 0; i < m.tasks.size(); ++i) {
        const TaskRecord *r = m.tasks[i];
        if (!listedAtSubmit)
            list->add(r->id, r->key());
        for (const TaskRecord *d : r->deps)
            list->addDep(d->id);
        list->endDeps();
    }
    const TaskRecord *first = m.tasks.front();
    Event &e = newEvent();
    e.kind = EventKind::TasksAdded;
    e.task = first->id;
    e.timeUs = wallClockUs();
    EventDetail &d = e.detail();
    d.function = first->functionName();
    d.group = first->group;
    d.tasks = std::move(list);
}

void Engine::announceTask(TaskRecord *r)
{
    if (!wants(EventKind::TaskAdded))
        return;
    Event &e = newEvent();
    e.kind = EventKind::TaskAdded;
    e.task = r->id;
    e.timeUs = wallClockUs();
    e.to = TaskState::Released;
    // Shared with the record (made at submit, see TaskRecord::info), or made now for a task
    // submitted before anyone listened. Its deps are filled in here, before anyone else
    // sees it, and never touched again.
    std::shared_ptr<EventDetail> info = r->info;
    if (!info) {
        info = std::make_shared<EventDetail>();
        info->key = r->key();
        info->function = r->functionName();
        info->group = r->group;
    }
    info->deps.reserve(r->deps.size());
    for (const TaskRecord *d : r->deps)
        info->deps.push_back(d->id);
    e.setDetail(std::move(info));
}

void Engine::resolveDeps(TaskRecord *r)
{
    if (!r->function) // scattered data
        return;
    // Unique, in argument order. A reduction over a big map has one argument per task: past
    // a few, duplicates are found with a set, not by scanning.
    std::unordered_set<const TaskRecord *> linked;
    for (const Value &a : r->args) {
        a.forEachRef([&](const FutureRef &ref) {
            TaskRecord *dep = nullptr;
            {
                std::lock_guard lock(m_registryMutex);
                auto it = m_byKey.find(ref.key);
                if (it != m_byKey.end())
                    dep = it->second;
            }
            if (!dep)
                return;
            if (r->deps.size() < kLinearDepScan) {
                if (std::find(r->deps.begin(), r->deps.end(), dep) != r->deps.end())
                    return;
            } else {
                if (linked.empty())
                    linked.insert(r->deps.begin(), r->deps.end());
                if (!linked.insert(dep).second)
                    return;
            }
            r->deps.push_back(dep);
        });
    }
}

void Engine::registerTask(TaskRecord *r)
{
    r->registered = true;
    m_tasks.emplace(r->id, r);
    if (!r->function) { // scattered data: in memory at once
        announceTask(r);
        finish(r, Value(r->result));
        return;
    }
    for (TaskRecord *dep : r->deps) {
        dep->dependents.push_back(r->id);
        ++dep->holds;
        ++dep->needs;
    }
    r->countsNeeds = true;
    announceTask(r);
    transition(r, TaskState::Waiting);
    // A dependency that already failed or was cancelled decides at once.
    for (TaskRecord *d : r->deps) {
        if (d->state == TaskState::Erred) {
            TaskError e = d->error ? *d->error : TaskError{};
            if (!e.fromDependency) {
                e.rootKey = d->key();
                e.rootFunction = d->function ? d->function->qualifiedName : "";
            }
            e.fromDependency = true;
            fail(r, std::move(e));
            return;
        }
        if (d->state == TaskState::Cancelled || d->state == TaskState::Lost) {
            cancelTask(r, "a dependency was cancelled");
            return;
        }
        recompute(d); // its result was dropped: compute it again
    }
    r->waitingOn = 0;
    for (TaskRecord *d : r->deps)
        if (d->state != TaskState::Memory)
            ++r->waitingOn;
    if (r->waitingOn == 0)
        makeReady(r);
}

void Engine::makeReady(TaskRecord *r)
{
    transition(r, TaskState::Queued);
    m_ready[r->priority].push_back(r->id);
    ++m_readyCount;
}

void Engine::schedule()
{
    if (m_readyCount == 0 || m_stopping)
        return;
    std::vector<WorkerBackend *> workers;
    for (auto &w : m_workers)
        workers.push_back(w.get());
    if (workers.empty()) {
        if (!m_workerStartError.empty())
            failUnrunnable();
        return;
    }
    std::vector<std::vector<Assignment>> batches(workers.size());
    const bool events = wants(EventKind::ExecutionStarted);

    auto it = m_ready.begin();
    while (it != m_ready.end()) {
        auto &queue = it->second;
        while (!queue.empty()) {
            TaskRecord *r = lookup(queue.front());
            if (!r || r->state != TaskState::Queued) { // cancelled or forgotten meanwhile
                queue.pop_front();
                --m_readyCount;
                continue;
            }
            // Capacity: short tasks may queue deeper so that workers never starve between
            // scheduler rounds; long ones one per thread so a free worker can take the next.
            const auto mean = m_meanDurationUs.find(r->function.get());
            const double meanUs = mean == m_meanDurationUs.end() ? 1e6 : mean->second;
            const std::size_t depth
                = meanUs < 1000.0
                      ? std::size_t(std::clamp(2000.0 / std::max(meanUs, 1.0), 2.0, 256.0))
                      : 1;
            // Locality first: the worker holding most of the inputs' bytes, then the least
            // loaded worker with room.
            std::size_t best = workers.size();
            double bestLoad = 0;
            std::uint64_t bestLocal = 0;
            for (std::size_t i = 0; i < workers.size(); ++i) {
                const std::size_t cap = std::size_t(workers[i]->threads()) * depth;
                if (workers[i]->outstanding >= cap)
                    continue;
                std::uint64_t local = 0;
                for (const TaskRecord *d : r->deps)
                    if (d->holder == workers[i]->id())
                        local += d->remote ? d->remoteBytes + 1 : 1;
                const double load = double(workers[i]->outstanding) / workers[i]->threads();
                if (best == workers.size() || local > bestLocal
                    || (local == bestLocal && load < bestLoad)) {
                    best = i;
                    bestLoad = load;
                    bestLocal = local;
                }
            }
            if (best == workers.size())
                goto dispatch; // everyone is full
            WorkerBackend *w = workers[best];
            // Inputs held only on another worker travel through the scheduler first.
            bool missing = false;
            for (TaskRecord *d : r->deps) {
                if (d->remote && d->holder != w->id()) {
                    missing = true;
                    if (!d->fetching) {
                        d->fetching = true;
                        if (WorkerBackend *h = workerById(d->holder))
                            h->fetch({d->id});
                    }
                }
            }
            queue.pop_front();
            --m_readyCount;
            if (missing) {
                // Back in line once the transfer arrives (FetchedMsg re-queues it).
                transition(r, TaskState::Waiting, -1, "fetching inputs");
                r->waitingOn = 1;
                continue;
            }
            ++w->outstanding;
            ++r->attempt;
            r->worker = w->id();
            r->cancelRequested.store(false, std::memory_order_relaxed);
            transition(r, TaskState::Processing, w->id());
            if (events) {
                Event &e = newEvent();
                e.kind = EventKind::ExecutionStarted;
                e.task = r->id;
                e.worker = w->id();
                e.attempt = r->attempt;
                e.timeUs = r->history.back().timeUs; // the Processing transition's
            }
            Assignment a;
            a.task = r->id;
            a.attempt = r->attempt;
            a.function = r->function;
            a.args = resolveArgs(r);
            a.key = r->key();
            a.cancel = &r->cancelRequested;
            if (r->timeoutUs > 0)
                addTimer(steadyUs() + r->timeoutUs, 0, r, w->id());
            batches[best].push_back(std::move(a));
        }
        it = m_ready.erase(it);
    }
dispatch:
    for (std::size_t i = 0; i < workers.size(); ++i)
        if (!batches[i].empty())
            workers[i]->execute(std::move(batches[i]));
}

std::vector<Value> Engine::resolveArgs(const TaskRecord *r) const
{
    if (r->deps.empty())
        return r->args;
    const DependencyKeys deps(r->deps);
    std::vector<Value> out;
    out.reserve(r->args.size());
    for (const Value &a : r->args)
        out.push_back(a.containsRef() ? resolveValue(a, deps) : a);
    return out;
}

void Engine::handle(CompletionMsg &m)
{
    WorkerBackend *w = nullptr;
    for (auto &candidate : m_workers)
        if (candidate->id() == m.worker)
            w = candidate.get();
    if (!w)
        for (auto &candidate : m_retiring)
            if (candidate->id() == m.worker)
                w = candidate.get();
    const bool events = wants(EventKind::ExecutionFinished);
    for (Completion &c : m.items) {
        if (w) {
            --w->outstanding;
            if (c.started)
                ++w->tasksDone;
        }
        TaskRecord *r = lookup(c.task);
        if (!r || r->attempt != c.attempt || r->worker != m.worker) {
            if (w && w->holdsResults() && c.started && c.ok)
                m_releases[m.worker].push_back(c.task); // nobody wants it any more
            continue;
        }
        r->finishedAttempt = c.attempt;
        if (!c.output.empty())
            r->ext().output += c.output;
        if (r->pendingDelete) { // forgotten while it ran
            deleteRecord(r);
            continue;
        }
        if (r->state != TaskState::Processing) {
            // Cancelled (or timed out) meanwhile: the result is dropped.
            if (w && w->holdsResults() && c.started && c.ok)
                m_releases[m.worker].push_back(c.task);
            continue;
        }
        if (!c.started) { // handed back by a retiring or dead worker: never ran
            // Not a finished attempt: were it counted as one, the next assignment (same
            // attempt number) would look finished and a worker death would not re-queue it.
            r->finishedAttempt = c.attempt - 1;
            --r->attempt;
            makeReady(r);
            continue;
        }
        r->startUs = c.startUs;
        r->endUs = c.endUs;
        if (events) {
            Event &e = newEvent();
            e.kind = EventKind::ExecutionFinished;
            e.task = r->id;
            e.worker = m.worker;
            e.thread = c.thread;
            e.attempt = c.attempt;
            e.startUs = c.startUs;
            e.timeUs = c.endUs;
            e.ok = c.ok;
        }
        if (r->function) {
            double &mean = m_meanDurationUs.try_emplace(r->function.get(), 0.0).first->second;
            const double d = double(std::max<std::int64_t>(0, c.endUs - c.startUs));
            mean = mean == 0.0 ? d : 0.9 * mean + 0.1 * d;
        }
        if (r->timedOut) {
            if (w && w->holdsResults() && c.ok)
                m_releases[m.worker].push_back(c.task);
            c.ok = false;
            c.errorType = "TimedOut";
            c.errorMessage = "task exceeded its timeout of "
                             + std::to_string(double(r->timeoutUs) / 1e6) + " s";
            r->retriesUsed = r->retries; // a timeout is final
        }
        if (c.ok) {
            if (w && w->holdsResults()) {
                std::lock_guard lock(stripe(r));
                r->holder = m.worker;
                r->remote = c.remote;
                r->remotePublished = c.remote;
                r->remoteType = std::move(c.typeName);
                r->remoteBytes = c.bytes;
            }
            finish(r, std::move(c.result));
            continue;
        }
        // Checked first: the arguments' repr would be built for every failed attempt even
        // when warnings are off (as in benchmarks), on the scheduler thread.
        if (engineLog()->should_log(spdlog::level::warn))
            engineLog()->warn("Compute Failed\nKey:       {}\nFunction:  {}\nargs:      {}\n"
                              "Exception: {}('{}')\nAttempt:   {}",
                              r->key(),
                              r->function ? r->function->qualifiedName : "",
                              describeArgs(r->args),
                              c.errorType,
                              c.errorMessage,
                              r->attempt);
        if (r->retriesUsed < r->retries) {
            ++r->retriesUsed;
            transition(r, TaskState::Queued, m.worker, "retry");
            m_ready[r->priority].push_back(r->id);
            ++m_readyCount;
            continue;
        }
        TaskError e;
        e.type = std::move(c.errorType);
        e.message = std::move(c.errorMessage);
        e.rootKey = r->key();
        e.rootFunction = r->function ? r->function->qualifiedName : "";
        e.worker = m.worker;
        e.attempts = r->attempt;
        e.traceback = "  in task " + r->key() + "\n  calling " + e.rootFunction
                      + describeArgs(r->args) + "\n  on worker " + std::to_string(m.worker)
                      + ", attempt " + std::to_string(r->attempt) + "\n";
        fail(r, std::move(e));
    }
}

void Engine::finish(TaskRecord *r, Value result)
{
    {
        std::lock_guard lock(stripe(r));
        r->result = std::move(result);
        r->error.reset();
    }
    transition(r, TaskState::Memory, r->worker);
    // Release what this task needed, then wake its dependents.
    if (r->countsNeeds) {
        r->countsNeeds = false;
        for (TaskRecord *d : r->deps)
            if (d->needs > 0)
                --d->needs;
        for (TaskRecord *d : r->deps)
            maybeForget(d);
    }
    for (std::uint64_t id : r->dependents) {
        TaskRecord *t = lookup(id);
        if (t && t->state == TaskState::Waiting && t->waitingOn > 0 && --t->waitingOn == 0)
            makeReady(t);
    }
    maybeForget(r);
}

void Engine::fail(TaskRecord *root, TaskError error)
{
    // Iterative: long chains must not recurse deeply.
    std::vector<std::pair<TaskRecord *, TaskError>> stack;
    stack.emplace_back(root, std::move(error));
    while (!stack.empty()) {
        auto [r, err] = std::move(stack.back());
        stack.pop_back();
        if (r->state == TaskState::Erred || r->state == TaskState::Memory
            || r->state == TaskState::Cancelled || r->state == TaskState::Forgotten)
            continue;
        {
            std::lock_guard lock(stripe(r));
            r->error = std::make_shared<const TaskError>(err);
        }
        transition(r, TaskState::Erred, r->worker, err.fromDependency ? "dependency failed" : "");
        TaskError child = err;
        child.fromDependency = true;
        for (std::uint64_t id : r->dependents) {
            TaskRecord *t = lookup(id);
            if (t && t->state != TaskState::Erred && t->state != TaskState::Memory
                && t->state != TaskState::Cancelled)
                stack.emplace_back(t, child);
        }
    }
}

void Engine::cancelTask(TaskRecord *root, const char *note)
{
    std::vector<TaskRecord *> stack{root};
    bool first = true;
    while (!stack.empty()) {
        TaskRecord *r = stack.back();
        stack.pop_back();
        const TaskState s = r->state;
        if (s == TaskState::Memory || s == TaskState::Cancelled || s == TaskState::Forgotten
            || (s == TaskState::Erred && !first))
            continue;
        if (s == TaskState::Processing) {
            r->cancelRequested.store(true, std::memory_order_relaxed);
            if (WorkerBackend *w = workerById(r->worker); w && w->holdsResults()) {
                // Cooperative first; the worker is killed if the task is still running
                // after the grace period.
                w->cancelTask(r->id);
                addTimer(steadyUs()
                             + std::chrono::duration_cast<std::chrono::microseconds>(
                                   m_options.cancelGrace)
                                   .count(),
                         1,
                         r,
                         w->id());
            }
        }
        transition(r, TaskState::Cancelled, r->worker, first ? note : "a dependency was cancelled");
        first = false;
        for (std::uint64_t id : r->dependents)
            if (TaskRecord *t = lookup(id))
                stack.push_back(t);
    }
}

void Engine::handle(CancelMsg &m)
{
    for (std::uint64_t id : m.ids)
        if (TaskRecord *r = lookup(id))
            cancelTask(r, "cancelled by user");
}

void Engine::handle(RetryMsg &m)
{
    // Walk back to the roots: tasks that failed (or were cancelled) themselves.
    std::vector<TaskRecord *> stack;
    for (std::uint64_t id : m.ids)
        if (TaskRecord *r = lookup(id))
            stack.push_back(r);
    std::vector<TaskRecord *> reset;
    auto marked
        = [&](TaskRecord *r) { return std::find(reset.begin(), reset.end(), r) != reset.end(); };
    while (!stack.empty()) {
        TaskRecord *r = stack.back();
        stack.pop_back();
        if ((r->state != TaskState::Erred && r->state != TaskState::Cancelled
             && r->state != TaskState::Lost)
            || marked(r) || !r->function)
            continue;
        reset.push_back(r);
        for (TaskRecord *d : r->deps)
            stack.push_back(d);
    }
    // Dependents that erred or were cancelled because of a reset task come back too.
    for (std::size_t i = 0; i < reset.size(); ++i) {
        for (std::uint64_t id : reset[i]->dependents) {
            TaskRecord *t = lookup(id);
            if (t && !marked(t)
                && ((t->state == TaskState::Erred && t->error && t->error->fromDependency)
                    || t->state == TaskState::Cancelled))
                reset.push_back(t);
        }
    }
    for (TaskRecord *r : reset) {
        {
            std::lock_guard lock(stripe(r));
            r->error.reset();
        }
        r->retriesUsed = 0;
        r->suspicious = 0;
        transition(r, TaskState::Waiting, -1, "retry requested");
    }
    for (TaskRecord *r : reset) {
        r->waitingOn = 0;
        for (TaskRecord *d : r->deps)
            if (d->state != TaskState::Memory)
                ++r->waitingOn;
        if (r->waitingOn == 0)
            makeReady(r);
    }
}

void Engine::handle(CallbackMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r)
        return;
    if (isTerminal(futureStatusOf(r->state)) && r->state != TaskState::Forgotten) {
        Future f(r, shared_from_this());
        try {
            m.fn(f);
        } catch (...) {
            engineLog()->error("done callback of {} threw", r->key());
        }
        return;
    }
    r->ext().callbacks.push_back(std::move(m.fn));
}

void Engine::handle(QueryMsg &m)
{
    m.fn();
}

void Engine::handle(ProgressMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r)
        return;
    if (m.isLog) {
        r->ext().logs.push_back(m.text);
        log::get("task")->info("{}: {}", r->key(), m.text);
    }
    if (wants(m.isLog ? EventKind::Log : EventKind::Progress)) {
        Event &e = newEvent();
        e.kind = m.isLog ? EventKind::Log : EventKind::Progress;
        e.task = r->id;
        e.worker = m.worker;
        e.attempt = r->attempt;
        e.value = m.value;
        if (!m.text.empty())
            e.detail().text = std::move(m.text);
        e.timeUs = wallClockUs();
    }
}

void Engine::handle(WantMsg &m)
{
    for (std::uint64_t id : m.ids)
        if (TaskRecord *r = lookup(id))
            recompute(r);
}

void Engine::handle(ReleaseMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (r)
        maybeForget(r);
}

void Engine::maybeForget(TaskRecord *r)
{
    if (r->state == TaskState::Forgotten)
        return;
    {
        // userRefs only rises under the registry lock (findFuture, dedup), so checking it
        // there makes the decision final.
        std::lock_guard lock(m_registryMutex);
        if (r->userRefs.load() > 0)
            return;
        if (r->holds == 0) {
            m_byKey.erase(r->key());
        } else {
            if (r->needs == 0 && r->state == TaskState::Memory && r->function) {
                // Nobody needs the value any more; keep the record for the graph.
                {
                    // Pending before the value goes, so no reader sees "finished" and no value.
                    std::lock_guard slock(stripe(r));
                    r->status.store(std::uint8_t(FutureStatus::Pending));
                    r->result = Value();
                }
                releaseOnWorker(r);
            } else {
                return;
            }
        }
    }
    if (r->holds > 0) {
        transition(r, TaskState::Released, -1, "result no longer needed");
        return;
    }
    forget(r);
}

void Engine::forget(TaskRecord *r)
{
    releaseOnWorker(r);
    // Still running somewhere (maybe cancelled meanwhile): keep the record until the worker
    // reports, because it points at the cancel flag.
    const bool processing
        = r->attempt > 0 && r->finishedAttempt != r->attempt && r->worker >= 0
          && (r->state == TaskState::Processing || r->state == TaskState::Cancelled
              || r->state == TaskState::Erred);
    if (processing)
        r->cancelRequested.store(true, std::memory_order_relaxed);
    transition(r, TaskState::Forgotten);
    std::vector<TaskRecord *> deps = std::move(r->deps);
    r->deps.clear();
    for (TaskRecord *d : deps) {
        if (d->holds > 0)
            --d->holds;
        if (r->countsNeeds && d->needs > 0)
            --d->needs;
    }
    r->countsNeeds = false;
    for (TaskRecord *d : deps)
        maybeForget(d);
    if (processing)
        r->pendingDelete = true; // the worker still points at its cancel flag
    else
        deleteRecord(r);
}

void Engine::recompute(TaskRecord *r)
{
    // A task whose result was dropped (or lost with its worker) is needed again: compute it
    // (and, first, whatever of its own inputs was dropped too).
    if ((r->state != TaskState::Released && r->state != TaskState::Lost) || !r->function)
        return;
    transition(r, TaskState::Waiting, -1, "needed again");
    if (!r->countsNeeds) {
        r->countsNeeds = true;
        for (TaskRecord *d : r->deps)
            ++d->needs;
    }
    r->waitingOn = 0;
    for (TaskRecord *d : r->deps) {
        recompute(d);
        if (d->state != TaskState::Memory)
            ++r->waitingOn;
    }
    if (r->waitingOn == 0)
        makeReady(r);
}

void Engine::deleteRecord(TaskRecord *r)
{
    m_tasks.erase(r->id);
    delete r;
}

void Engine::handle(ScaleMsg &m)
{
    const int target = std::max(0, m.workers);
    while (int(m_workers.size()) < target)
        addWorker();
    while (int(m_workers.size()) > target) {
        // Retire the least busy.
        auto it = std::min_element(m_workers.begin(), m_workers.end(), [](auto &a, auto &b) {
            return a->outstanding < b->outstanding;
        });
        std::unique_ptr<WorkerBackend> w = std::move(*it);
        m_workers.erase(it);
        retireWorker(w.get());
        m_retiring.push_back(std::move(w));
    }
}

bool Engine::restartWorker(int id)
{
    auto it = std::find_if(
        m_workers.begin(), m_workers.end(), [id](const auto &w) { return w->id() == id; });
    if (m_stopping || it == m_workers.end())
        return false;
    if ((*it)->holdsResults()) {
        // A process: kill it. The death path re-queues what it ran, recomputes what only it
        // held (as far as still needed) and starts a new process under the same id.
        (*it)->kill(std::string(kUserRestartCause));
        return true;
    }
    // A thread cannot be killed: retire it once its running tasks finish (unstarted work
    // comes back and is queued again) and start a fresh worker in its place.
    std::unique_ptr<WorkerBackend> w = std::move(*it);
    m_workers.erase(it);
    retireWorker(w.get());
    m_retiring.push_back(std::move(w));
    addWorker();
    return true;
}

void Engine::failUnrunnable()
{
    // No worker could be started (a missing or broken taskbench-worker): nothing would ever
    // run what is queued, so it fails now rather than waiting forever.
    auto ready = std::move(m_ready);
    m_ready.clear();
    m_readyCount = 0;
    for (auto &[priority, queue] : ready)
        for (std::uint64_t id : queue) {
            TaskRecord *r = lookup(id);
            if (!r || r->state != TaskState::Queued)
                continue;
            TaskError e;
            e.type = "WorkerStartError";
            e.message = m_workerStartError;
            e.rootKey = r->key();
            e.rootFunction = r->function ? r->function->qualifiedName : "";
            fail(r, std::move(e));
        }
}

void Engine::addWorker()
{
    const int id = m_nextWorkerId++;
    std::unique_ptr<WorkerBackend> w;
    if (m_options.processes) {
        try {
            w = makeProcessWorker(id, m_options, *this);
        } catch (const std::exception &e) {
            engineLog()->error("worker {}: {}", id, e.what());
            m_workerStartError = e.what(); // with no worker at all, queued tasks fail with it
            return;
        }
        m_workerStartError.clear();
    } else {
        w = makeThreadWorker(id, m_options.threadsPerWorker, *this);
    }
    engineLog()->debug("worker {} started ({} threads)", id, w->threads());
    adoptWorker(std::move(w));
}

void Engine::adoptWorker(std::unique_ptr<WorkerBackend> w)
{
    if (wants(EventKind::WorkerAdded)) {
        Event &e = newEvent();
        e.kind = EventKind::WorkerAdded;
        e.worker = w->id();
        e.value = w->threads();
        e.detail().text = w->name();
        e.timeUs = wallClockUs();
    }
    m_workers.push_back(std::move(w));
}

void Engine::addRemoteWorker(std::unique_ptr<RemotePeer> peer)
{
    if (m_stopping || m_closed.load())
        return; // the connection closes with peer
    const int id = m_nextWorkerId++;
    std::unique_ptr<WorkerBackend> w;
    try {
        w = makeRemoteWorker(id, std::move(peer), *this);
    } catch (const std::exception &e) {
        engineLog()->error("cannot add remote worker {}: {}", id, e.what());
        return;
    }
    engineLog()->info("worker {} joined: {} ({} threads)", id, w->name(), w->threads());
    adoptWorker(std::move(w));
}

bool Engine::loseWorker(int id, const std::string &cause)
{
    auto it = std::find_if(
        m_workers.begin(), m_workers.end(), [id](const auto &w) { return w->id() == id; });
    if (m_stopping || it == m_workers.end() || !(*it)->holdsResults())
        return false;
    (*it)->kill(cause.empty() ? std::string("lost") : cause);
    return true;
}

bool Engine::retireWorkerById(int id)
{
    auto it = std::find_if(
        m_workers.begin(), m_workers.end(), [id](const auto &w) { return w->id() == id; });
    if (m_stopping || it == m_workers.end())
        return false;
    std::unique_ptr<WorkerBackend> w = std::move(*it);
    m_workers.erase(it);
    retireWorker(w.get()); // as scale() does, for this one
    m_retiring.push_back(std::move(w));
    return true;
}

std::string Engine::listenAddress() const
{
    return m_options.listen; // resolved by start(), unchanged afterwards
}

std::string Engine::tokenFile() const
{
    return m_options.listen.empty() ? std::string() : m_options.tokenFile;
}

void Engine::retireWorker(WorkerBackend *w)
{
    w->drain(); // unstarted work comes back as completions and is queued again
    if (!w->holdsResults())
        return;
    // Move what only this worker holds to the scheduler before it goes: nothing is lost.
    std::vector<std::uint64_t> ids;
    for (auto &[id, r] : m_tasks) {
        if (r->holder != w->id())
            continue;
        if (r->remote && !r->fetching) {
            r->fetching = true;
            ids.push_back(id);
        } else if (!r->remote) {
            r->holder = -1; // the scheduler has the value already
        }
    }
    if (!ids.empty())
        w->fetch(ids);
}

void Engine::reapRetired()
{
    for (auto it = m_retiring.begin(); it != m_retiring.end();) {
        const int wid = (*it)->id();
        const bool holding = std::any_of(m_tasks.begin(), m_tasks.end(), [wid](const auto &p) {
            return p.second->holder == wid && p.second->remote;
        });
        if ((*it)->outstanding > 0 || holding) {
            ++it;
            continue;
        }
        (*it)->stop();
        if (wants(EventKind::WorkerRemoved)) {
            Event &e = newEvent();
            e.kind = EventKind::WorkerRemoved;
            e.worker = (*it)->id();
            e.detail().text = "scaled down";
            e.timeUs = wallClockUs();
        }
        it = m_retiring.erase(it);
    }
}

std::vector<WorkerInfo> Engine::workerInfos() const
{
    std::vector<WorkerInfo> out;
    for (const auto &w : m_workers) {
        WorkerInfo info;
        info.id = w->id();
        info.name = w->name();
        info.threads = w->threads();
        info.pid = w->pid();
        info.tasksDone = w->tasksDone;
        info.memoryBytes = w->memoryBytes();
        if (const auto remote = w->remoteIdentity()) {
            info.remote = true;
            info.label = remote->label;
            info.address = remote->address;
            info.host = remote->host;
        }
        out.push_back(std::move(info));
    }
    for (const auto &[id, r] : m_tasks) {
        for (WorkerInfo &info : out) {
            if (r->worker != info.id && r->holder != info.id)
                continue;
            if (r->state == TaskState::Processing)
                info.running.push_back(r->key());
            else if (r->state == TaskState::Memory) {
                ++info.resultsHeld;
                info.bytesHeld += r->remoteBytes;
            }
        }
    }
    return out;
}

void Engine::handle(StopMsg &)
{
    m_stopping = true;
    for (auto &[id, r] : m_tasks) {
        const FutureStatus s = futureStatusOf(r->state);
        if (!isTerminal(s) && r->state != TaskState::Released)
            cancelTask(r, "client closed");
    }
    for (auto &w : m_workers)
        w->stop();
    for (auto &w : m_retiring)
        w->stop();
    m_workers.clear();
    m_retiring.clear();
    for (auto &[id, r] : m_tasks)
        if (r->extras)
            r->extras->callbacks.clear();
    flushEvents();
    m_statusChanged = true;
}

} // namespace taskbench::detail

namespace taskbench::detail {

WorkerBackend *Engine::workerById(int id) const
{
    for (const auto &w : m_workers)
        if (w->id() == id)
            return w.get();
    for (const auto &w : m_retiring)
        if (w->id() == id)
            return w.get();
    return nullptr;
}

void Engine::releaseOnWorker(TaskRecord *r)
{
    if (r->holder < 0)
        return;
    m_releases[r->holder].push_back(r->id);
    std::lock_guard lock(stripe(r));
    r->holder = -1;
    r->remote = false;
    r->remotePublished = false;
}

void Engine::flushReleases()
{
    for (auto &[worker, ids] : m_releases)
        if (WorkerBackend *w = workerById(worker); w && !ids.empty())
            w->releaseResults(ids);
    m_releases.clear();
}

void Engine::addTimer(std::int64_t deadlineUs, int kind, TaskRecord *r, int worker)
{
    m_timers.emplace(deadlineUs, Timer{kind, r->id, r->attempt, worker});
}

void Engine::fireTimers()
{
    if (m_timers.empty())
        return;
    const std::int64_t now = steadyUs();
    while (!m_timers.empty() && m_timers.begin()->first <= now) {
        const Timer t = m_timers.begin()->second;
        m_timers.erase(m_timers.begin());
        TaskRecord *r = lookup(t.task);
        if (!r || r->attempt != t.attempt || r->worker != t.worker
            || r->finishedAttempt == t.attempt)
            continue; // that execution is over
        WorkerBackend *w = workerById(t.worker);
        if (t.kind == 0) {
            if (r->state != TaskState::Processing)
                continue;
            r->timedOut = true;
            r->cancelRequested.store(true, std::memory_order_relaxed);
            engineLog()->warn("task {} exceeded its timeout of {} s; cancelling",
                              r->key(),
                              double(r->timeoutUs) / 1e6);
            if (w && w->holdsResults()) {
                w->cancelTask(r->id);
                addTimer(now
                             + std::chrono::duration_cast<std::chrono::microseconds>(
                                   m_options.cancelGrace)
                                   .count(),
                         1,
                         r,
                         t.worker);
            } else {
                // A thread cannot be killed: the task errs now, its late result is dropped.
                TaskError e;
                e.type = "TimedOut";
                e.message = "task exceeded its timeout of "
                            + std::to_string(double(r->timeoutUs) / 1e6) + " s";
                e.rootKey = r->key();
                e.rootFunction = r->function ? r->function->qualifiedName : "";
                e.worker = t.worker;
                e.attempts = r->attempt;
                fail(r, std::move(e));
            }
        } else if (w) {
            engineLog()->warn("task {} did not stop within the grace period; killing worker {}",
                              r->key(),
                              t.worker);
            w->kill(r->timedOut ? "timed out" : "cancelled task did not stop");
        }
    }
}

void Engine::recountWaiting(TaskRecord *t)
{
    if (t->state != TaskState::Waiting && t->state != TaskState::Queued)
        return;
    std::uint32_t waiting = 0;
    for (const TaskRecord *d : t->deps)
        if (d->state != TaskState::Memory)
            ++waiting;
    t->waitingOn = waiting;
    if (waiting == 0 && t->state == TaskState::Waiting)
        makeReady(t);
    else if (waiting > 0 && t->state == TaskState::Queued)
        transition(t, TaskState::Waiting, -1, "an input was lost");
}

void Engine::handle(FetchMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r || r->state != TaskState::Memory) {
        m.reply->set_exception(std::make_exception_ptr(
            ResultLostError("the result is no longer available (task not finished)")));
        return;
    }
    if (!r->remote) {
        m.reply->set_value(r->result);
        return;
    }
    r->ext().fetchWaiters.push_back(m.reply);
    if (!r->fetching) {
        r->fetching = true;
        if (WorkerBackend *w = workerById(r->holder))
            w->fetch({r->id});
        else
            loseResult(r); // its holder is gone: nobody would ever answer
    }
}

void Engine::handle(FetchedMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r)
        return;
    r->fetching = false;
    if (r->holder != m.worker || !r->remote)
        return; // lost or dropped meanwhile
    std::vector<std::shared_ptr<std::promise<Value>>> waiters;
    if (r->extras)
        waiters = std::move(r->extras->fetchWaiters);
    if (m.value) {
        {
            // The scheduler keeps a copy: transfers and later result() calls need no fetch.
            std::lock_guard lock(stripe(r));
            r->result = std::move(*m.value);
            r->remote = false;
            r->remotePublished = false;
        }
        for (auto &w : waiters)
            w->set_value(r->result);
        for (std::uint64_t id : r->dependents)
            if (TaskRecord *t = lookup(id))
                recountWaiting(t);
    } else {
        // The worker is alive and still holds the value but cannot send it (too large for a
        // frame, or it does not hold it after all): final, retrying would fail the same way. A
        // worker that died is reported by DiedMsg first (loseResult), which clears the holder.
        for (auto &w : waiters)
            w->set_exception(std::make_exception_ptr(
                std::runtime_error("cannot fetch the result of " + r->key() + ": " + m.error)));
    }
}

void Engine::loseResult(TaskRecord *r)
{
    {
        std::lock_guard lock(stripe(r));
        r->holder = -1;
        if (!r->remote)
            return; // the scheduler has a copy: nothing is lost
        r->remote = false;
        r->remotePublished = false;
    }
    r->fetching = false;
    std::vector<std::shared_ptr<std::promise<Value>>> waiters;
    if (r->extras)
        waiters.swap(r->extras->fetchWaiters);
    const auto failWaiters = [&] {
        for (auto &w : waiters)
            w->set_exception(std::make_exception_ptr(
                ResultLostError("the result of " + r->key() + " was lost with its worker")));
    };
    if (r->state != TaskState::Memory)
        return failWaiters();
    transition(r, TaskState::Lost, -1, "its worker died");
    for (std::uint64_t id : r->dependents)
        if (TaskRecord *t = lookup(id))
            recountWaiting(t);
    const bool needed = r->userRefs.load() > 0 || r->needs > 0 || !waiters.empty();
    if (needed)
        recompute(r);
    else
        transition(r, TaskState::Released, -1, "lost, not needed");
    failWaiters(); // after the transition: a waiter that wakes up sees the recomputation
}

void Engine::handle(DiedMsg &m)
{
    WorkerBackend *w = workerById(m.worker);
    if (!w)
        return;
    // A process worker has already let go of its child here (its own log names the pid).
    const long pid = w->pid();
    engineLog()->warn("worker {}{} died: {}; {}",
                      m.worker,
                      pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string(),
                      m.cause,
                      w->remoteIdentity() ? "removing it" : "restarting it");
    w->outstanding = 0;
    std::vector<TaskRecord *> running, held;
    for (auto &[id, r] : m_tasks) {
        if (r->worker == m.worker && r->attempt > 0 && r->finishedAttempt != r->attempt)
            running.push_back(r);
        if (r->holder == m.worker)
            held.push_back(r);
    }
    for (TaskRecord *r : held)
        loseResult(r);
    for (TaskRecord *r : running) {
        r->finishedAttempt = r->attempt;
        if (r->pendingDelete) {
            deleteRecord(r);
            continue;
        }
        if (r->state != TaskState::Processing)
            continue; // cancelled meanwhile
        TaskError e;
        e.rootKey = r->key();
        e.rootFunction = r->function ? r->function->qualifiedName : "";
        e.worker = m.worker;
        e.attempts = r->attempt;
        if (r->timedOut) {
            e.type = "TimedOut";
            e.message = "task exceeded its timeout of " + std::to_string(double(r->timeoutUs) / 1e6)
                        + " s; its worker was killed";
            fail(r, std::move(e));
            continue;
        }
        // A restart the user asked for is not the task's fault: it runs again, unblamed.
        const bool blamed = m.cause != kUserRestartCause;
        if (blamed)
            ++r->suspicious;
        if (blamed && r->suspicious >= m_options.allowedFailures) {
            e.type = "WorkerDied";
            e.message = "worker died while running this task " + std::to_string(r->suspicious)
                        + (r->suspicious == 1 ? " time" : " times") + " (last: " + m.cause + ")";
            fail(r, std::move(e));
        } else {
            transition(r, TaskState::Queued, m.worker, "worker died");
            m_ready[r->priority].push_back(r->id);
            ++m_readyCount;
            // Its inputs may have been held by the same worker (lost above): wait for their
            // recomputation instead of running with nothing.
            recountWaiting(r);
        }
    }
    if (wants(EventKind::Log)) {
        Event &e = newEvent();
        e.kind = EventKind::Log;
        e.worker = m.worker;
        e.detail().text = "worker " + std::to_string(m.worker) + " died (" + m.cause + ")"
                          + (w->remoteIdentity() ? "; removed" : "; restarting");
        e.timeUs = wallClockUs();
    }
    const auto it
        = std::find_if(m_workers.begin(), m_workers.end(), [&](auto &p) { return p.get() == w; });
    if (m_stopping || it == m_workers.end())
        return;
    if (!w->remoteIdentity()) {
        w->restart();
        return;
    }
    // A remote worker cannot be restarted from here: it leaves the cluster.
    std::unique_ptr<WorkerBackend> gone = std::move(*it);
    m_workers.erase(it);
    gone->stop();
    if (wants(EventKind::WorkerRemoved)) {
        Event &e = newEvent();
        e.kind = EventKind::WorkerRemoved;
        e.worker = m.worker;
        e.detail().text = m.cause;
        e.timeUs = wallClockUs();
    }
}

} // namespace taskbench::detail
