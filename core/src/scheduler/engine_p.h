// The engine behind Client and Future: task records, the scheduler thread that owns their
// state, the inbox through which everyone else talks to it, and the worker interface.
//
// Ownership and threads: client threads create task records and read their published
// fields (status atomically, result/error under a striped lock); the scheduler thread alone
// changes everything else. Workers never touch records except the cancel flag of a task
// they run (a record is never deleted while it is processing).
#pragma once

#include "scheduler/timers_p.h"
#include "taskbench/client.h"
#include "taskbench/steering.h"
#include "util/clock_p.h"
#include "util/spin_p.h"
#include "workers/workerbackend_p.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

namespace taskbench::detail {

class WorkerGate;
struct RemotePeer;

/// Rarely used parts of a record, allocated on first use to keep pending futures small.
struct TaskExtras
{
    std::vector<std::string> logs;
    std::string output; ///< captured stdout/stderr (process workers)
    /// The stack of the task's thread taken just before its timeout killed the worker.
    std::string killStack;
    /// result() calls waiting for a value held on a worker.
    std::vector<std::shared_ptr<std::promise<Value>>> fetchWaiters;
    std::vector<std::function<void(const Future &)>> callbacks;
    /// Arguments the user edited while the task was held (Client::setArguments); they
    /// replace `args` for every later attempt.
    std::optional<std::vector<Value>> editedArgs;
    /// The figures of finished attempts before the last (retried tasks only).
    std::vector<AttemptFigures> earlierUsage;
};

struct TaskRecord
{
    // Immutable after creation (any thread).
    std::uint64_t id = 0;
    /// The key, function and group as a TaskAdded event tells them, made with the record
    /// while anyone listens: the event then shares them instead of the scheduler copying
    /// three strings per task. Null otherwise, and the key is in ownKey.
    std::shared_ptr<EventDetail> info;
    std::string ownKey;
    const std::string &key() const { return info ? info->key : ownKey; }
    /// The result cache's key, when it is not key(): a graph task's key is "name-token", its
    /// cache identity the key submit would give the same call (Client::compute).
    std::unique_ptr<const std::string> ownCacheKey;
    const std::string &cacheKey() const { return ownCacheKey ? *ownCacheKey : key(); }
    FunctionPtr function; ///< null for scattered data
    /// The function's qualified name, "scatter" for scattered data.
    const std::string &functionName() const
    {
        static const std::string scatter = "scatter";
        return function ? function->qualifiedName : scatter;
    }
    std::shared_ptr<const std::string> group;
    std::vector<Value> args;
    int retries = 0;
    int priority = 0;

    // Client-visible. status is atomic; result/error/attempts are guarded by the stripe lock.
    std::atomic<std::uint8_t> status{std::uint8_t(FutureStatus::Pending)};
    std::atomic<std::int32_t> userRefs{0};
    std::atomic<bool> cancelRequested{false}; ///< read by the worker running the task
    std::atomic<bool> cached{false};          ///< the value came from the result cache
    Value result;
    std::shared_ptr<const TaskError> error;
    AttemptUsage usage;   ///< of the last finished attempt
    int usageAttempt = 0; ///< which attempt that was (0: none finished)
    int attemptsPublished = 0;
    bool remotePublished = false; ///< finished, value held on a worker: result() fetches

    // Scheduler thread only.
    TaskState state = TaskState::Released;
    bool registered = false;        ///< the scheduler has seen it
    bool pendingDelete = false;     ///< forgotten while processing: delete on completion
    bool countsNeeds = false;       ///< counted in its deps' `needs` (not yet in memory)
    bool cacheable = false;         ///< pure with a token key: looked up in and stored to the cache
    std::vector<TaskRecord *> deps; ///< unique; alive while this record is
    std::vector<std::uint64_t> dependents; ///< ids; forgotten ones are skipped
    std::uint32_t waitingOn = 0;           ///< deps not in memory
    std::uint32_t holds = 0;               ///< alive dependents (keep this record)
    std::uint32_t needs = 0;               ///< dependents not in memory (keep the result)
    int holder = -1;     ///< worker that holds the result (process workers), -1: none
    bool remote = false; ///< the value lives only on `holder` (result is empty)
    bool fetching = false;
    bool timedOut = false;
    std::string remoteType;
    std::uint64_t remoteBytes = 0;
    std::int64_t timeoutUs = 0; ///< 0: none
    int attempt = 0;            ///< attempts started
    int finishedAttempt = 0;    ///< last attempt whose completion arrived
    int retriesUsed = 0;
    int suspicious = 0;
    int worker = -1;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
    /// Steering (steering.cpp): the attempt a release let past the breakpoints, the running
    /// attempt a "pause now" stopped, and the ready-queue entry that is current (older
    /// entries, left behind by a priority change, are skipped).
    int releasedAttempt = 0;
    bool pauseRecalled = false;
    std::uint32_t readySeq = 0;
    std::vector<Transition> history;
    std::unique_ptr<TaskExtras> extras;

    TaskExtras &ext()
    {
        if (!extras)
            extras = std::make_unique<TaskExtras>();
        return *extras;
    }
};

/// The arguments a task's next attempt runs with: edited ones (a held task's, see
/// Client::setArguments), or those submitted. Scheduler thread.
inline const std::vector<Value> &currentArgs(const TaskRecord *r)
{
    return r->extras && r->extras->editedArgs ? *r->extras->editedArgs : r->args;
}

/// The traceback of a failed attempt (TaskError::traceback): the task, the call with its
/// arguments' repr, and the worker and attempt it failed on. Shared by exceptions
/// (statemachine.cpp) and worker deaths (workerpool.cpp) so both read alike. Scheduler thread.
std::string callTraceback(const TaskRecord *r, int worker, int attempt);

// Messages to the scheduler thread.
struct SubmitMsg
{
    std::vector<TaskRecord *> tasks;
    std::vector<Future> keepAlive; ///< dependencies, held until linked
    /// Their ids and keys, listed at submit while anyone wants TasksAdded (the scheduler
    /// adds the deps and publishes it).
    std::shared_ptr<TaskList> listed;
};
struct ReleaseMsg
{
    std::uint64_t id;
};
struct CompletionMsg
{
    int worker;
    std::vector<Completion> items;
};
struct CancelMsg
{
    std::vector<std::uint64_t> ids;
};
struct RetryMsg
{
    std::vector<std::uint64_t> ids;
};
struct CallbackMsg
{
    std::uint64_t id;
    std::function<void(const Future &)> fn;
};
struct QueryMsg
{
    std::function<void()> fn;
};
struct ProgressMsg
{
    std::uint64_t id;
    int worker;
    bool isLog;
    double value;
    std::string text;
};
struct ScaleMsg
{
    int workers;
};
struct StopMsg
{};
/// A client wants the value of a finished task held on a worker.
/// Set on a fetch reply when the worker holding the value died before sending it: the value
/// is being recomputed, so Future::result() waits again. Any other fetch failure is final.
struct ResultLostError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct FetchMsg
{
    std::uint64_t id;
    std::shared_ptr<std::promise<Value>> reply;
};
/// A client will read these finished tasks' values: fetch those held on workers now, in one
/// request per worker (FetchMsg, which then finds them here or in flight, waits for them).
struct PrefetchMsg
{
    std::vector<std::uint64_t> ids;
};
struct FetchedMsg
{
    int worker;
    std::uint64_t id;
    std::optional<Value> value;
    std::string error;
};
struct DiedMsg
{
    int worker;
    std::string cause;
};
/// A client asked for an existing key again (its value may need recomputing).
struct WantMsg
{
    std::vector<std::uint64_t> ids;
};
using Message = std::variant<SubmitMsg,
                             ReleaseMsg,
                             CompletionMsg,
                             CancelMsg,
                             RetryMsg,
                             CallbackMsg,
                             QueryMsg,
                             ProgressMsg,
                             ScaleMsg,
                             StopMsg,
                             WantMsg,
                             FetchMsg,
                             PrefetchMsg,
                             FetchedMsg,
                             DiedMsg>;

/// How long the scheduler spins for a reply before it sleeps (see Engine::run).
inline constexpr std::int64_t kSchedulerSpinUs = 30;

/// Dependencies of one task checked for duplicates by scanning, below this count (past it,
/// by a set or an index: a reduction over a big map refers to one task per element).
inline constexpr std::size_t kLinearDepScan = 32;

/// Events per batch handed to subscribers (at most; a quiet round hands over fewer).
inline constexpr std::size_t kEventBatchSize = 2048;

/// The vectors of handed-over event batches, reused: a subscriber's thread gives a batch
/// back once it has dropped it, destroying its events there (a TaskAdded detail's count is
/// then dropped on the thread that just took its own reference, not on the scheduler's),
/// and the scheduler takes one with its capacity intact instead of allocating and faulting
/// in fresh pages.
class EventBatchPool
{
public:
    EventBatch take()
    {
        {
            std::lock_guard lock(m_mutex);
            if (!m_free.empty()) {
                EventBatch b = std::move(m_free.back());
                m_free.pop_back();
                return b;
            }
        }
        EventBatch b;
        b.reserve(kEventBatchSize);
        return b;
    }
    void giveBack(std::unique_ptr<EventBatch> batch)
    {
        batch->clear();
        std::lock_guard lock(m_mutex);
        if (m_free.size() < kMaxPooled)
            m_free.push_back(std::move(*batch));
    }

private:
    static constexpr std::size_t kMaxPooled = 32;
    std::mutex m_mutex;
    std::vector<EventBatch> m_free;
};

class Engine : public std::enable_shared_from_this<Engine>, public WorkerSink
{
public:
    Engine(ClusterOptions options, std::shared_ptr<FunctionRegistry> functions);
    ~Engine() override;

    void start();
    void close();
    bool closed() const { return m_closed.load(); }

    const ClusterOptions &options() const { return m_options; }
    FunctionRegistry &functions() { return *m_functions; }
    std::shared_ptr<FunctionRegistry> functionRegistry() const { return m_functions; }

    // --- client side (any thread) ---
    /// Creates (or finds, for an existing key) records for calls and sends them to the
    /// scheduler. Throws std::invalid_argument for bad calls.
    struct Call
    {
        std::vector<Value> args;
        std::string key;
        /// With a key: the key submit would give the call (a graph task's, "name-token",
        /// names its call through it), so the task is cached when pure. Empty otherwise.
        std::string cacheKey;
        bool tokenKey = false; ///< set by submitCalls: the key is (or names) the call's pure token
    };
    std::vector<Future> submitCalls(const FunctionPtr &fn,
                                    std::vector<Call> calls,
                                    const SubmitOptions &opts,
                                    std::shared_ptr<const std::string> group);
    Future scatter(Value value, std::string key);
    Future findFuture(std::string_view key);

    /// False once the engine is closed (the message is dropped).
    bool post(Message msg);
    void postRelease(std::uint64_t id);

    /// Runs fn on the scheduler thread and waits for it (inline once closed).
    void query(std::function<void()> fn);
    /// True on the scheduler thread (done callbacks, event subscribers run there).
    bool onSchedulerThread() const { return std::this_thread::get_id() == m_thread.get_id(); }

    /// Waits until pred() holds (re-checked whenever a task's status changes).
    bool waitUntil(const std::function<bool()> &pred, std::optional<Duration> timeout);
    std::mutex &stripe(const TaskRecord *r)
    {
        return m_stripes[(reinterpret_cast<std::uintptr_t>(r) >> 6) % kStripes];
    }

    /// One of the two callbacks is set.
    std::uint64_t subscribe(EventCallback plain, SharedEventCallback shared, EventMask wanted);
    void unsubscribe(std::uint64_t id);
    /// Hands every event so far to the subscribers before returning (any thread).
    void deliverEvents();

    // --- WorkerSink (worker threads) ---
    void completed(int worker, std::vector<Completion> items) override;
    void progress(std::uint64_t task, int worker, double fraction, std::string text) override;
    void logLine(std::uint64_t task, int worker, std::string line) override;
    void
    fetched(int worker, std::uint64_t task, std::optional<Value> value, std::string error) override;
    void died(int worker, std::string cause) override;

    // --- scheduler thread ---
    std::size_t taskCountNow() const { return m_tasks.size(); }
    TaskRecord *lookup(std::uint64_t id) const;
    std::vector<WorkerInfo> workerInfos() const;
    /// Client::restartWorker: false for an unknown (or retiring) worker.
    bool restartWorker(int id);
    /// Client::loseWorker: false for an unknown worker or a thread worker.
    bool loseWorker(int id, const std::string &cause);
    /// Client::retireWorker: false for an unknown (or already retiring) worker.
    bool retireWorkerById(int id);
    /// Remote workers' TCP address and token file ("" unless options.listen); set by start().
    std::string listenAddress() const;
    std::string tokenFile() const;

private:
    // The message handlers and what they use, grouped by the file that holds them.
    // engine.cpp: the run loop.
    void run();
    void handle(QueryMsg &m);
    void handle(StopMsg &m);
    // eventstream.cpp
    void flushEvents();
    Event &newEvent(); ///< appended to this round's batch; only while someone listens
    // submission.cpp
    void handle(SubmitMsg &m);
    void resolveDeps(TaskRecord *r);  ///< r->deps from its arguments' references
    void announceTasks(SubmitMsg &m); ///< TasksAdded, once their deps are resolved
    void announceTask(TaskRecord *r); ///< TaskAdded, with its dependencies
    void registerTask(TaskRecord *r);
    // statemachine.cpp
    void handle(CompletionMsg &m);
    void handle(CancelMsg &m);
    void handle(RetryMsg &m);
    void handle(CallbackMsg &m);
    void handle(ProgressMsg &m);
    void handle(WantMsg &m);
    void handle(ReleaseMsg &m);
    void transition(TaskRecord *r, TaskState to, int worker = -1, const char *note = "");
    void publish(TaskRecord *r, FutureStatus status);
    void runCallbacks(TaskRecord *r);
    /// Counts r's deps not yet in memory; with none, r is ready now.
    void waitForDeps(TaskRecord *r);
    void makeReady(TaskRecord *r); ///< to the ready queue, or first to the cache lookup
    /// To the ready queue (or held, by a breakpoint); worker and note for the story.
    void enqueueReady(TaskRecord *r, int worker = -1, const char *note = "");

    /// cacheNote: the value came from the result cache (the story's note); null: computed.
    void finish(TaskRecord *r, Value result, const char *cacheNote = nullptr);
    void fail(TaskRecord *r, TaskError error);
    void cancelTask(TaskRecord *r, const char *note);
    void recountWaiting(TaskRecord *t);
    void recompute(TaskRecord *r);
    void maybeForget(TaskRecord *r);
    void forget(TaskRecord *r);
    void deleteRecord(TaskRecord *r);
    // dispatch.cpp (the choice of worker: placement.h)
    void schedule();
    /// Takes ready tasks in priority order into per-worker batches until all are full.
    void assignReady(const std::vector<WorkerBackend *> &workers,
                     std::vector<std::vector<Assignment>> &batches);
    std::vector<Value> resolveArgs(const TaskRecord *r) const;
    // workerpool.cpp
    void handle(ScaleMsg &m);
    void handle(DiedMsg &m);
    WorkerBackend *workerById(int id) const;
    void addWorker();
    void addRemoteWorker(std::unique_ptr<RemotePeer> peer);
    /// Joins a started worker to the cluster and tells the subscribers.
    void adoptWorker(std::unique_ptr<WorkerBackend> w);
    void retireWorker(WorkerBackend *w);
    void reapRetired();
    void failUnrunnable();
    // transfers.cpp
    void handle(FetchMsg &m);
    void handle(PrefetchMsg &m);
    void handle(FetchedMsg &m);
    void releaseOnWorker(TaskRecord *r);
    void flushReleases();
    void loseResult(TaskRecord *r);
    // cachelookup.cpp (the result cache, ClusterOptions::resultCache)
    /// A cacheable task that became ready waits for this round's lookup; false otherwise.
    bool deferToCache(TaskRecord *r);
    /// Looks up the deferred tasks: hits finish now, misses go to the ready queue.
    void lookupCached();
    /// A cacheable task finished by running: its value goes to the cache.
    void offerToCache(TaskRecord *r);
    const char *cacheNote(std::int64_t session);
    // timers.cpp
    void fireTimers();
    void addTimer(std::int64_t deadlineUs, TimerKind kind, TaskRecord *r, int worker);

    // stacks.cpp: native stacks of running tasks.
    /// Takes the stack of the timed-out task's thread off this thread, then kills the worker.
    void killWithStack(TaskRecord *r, WorkerBackend &w, RunningThread where);
    void finishKillWithStack(std::uint64_t task, int attempt, int worker, std::string stack);
    std::vector<std::thread> m_stackCaptures; ///< joined by close()

public:
    /// Client::stackOf's first half (scheduler thread): where the task runs now.
    std::optional<RunningThread> runningThread(std::string_view key, std::string *why);

    // steering.cpp: Client's steering calls (taskbench/steering.h), on the scheduler thread.
    void setPaused(bool paused, PauseMode mode);
    bool paused() const { return m_pausedFlag.load(std::memory_order_acquire); }
    int addBreakpoint(Breakpoint breakpoint);
    bool removeBreakpoint(int id);
    const std::vector<Breakpoint> &breakpoints() const { return m_breakpoints; }
    std::vector<TaskRecord *> heldRecords();
    bool releaseHeld(TaskRecord *r);
    void setArguments(TaskRecord *r, std::vector<Value> args);
    void setPriority(TaskRecord *r, int priority);
    int runNext(TaskRecord *r);
    bool killNow(TaskRecord *r, std::string *why);

private:
    /// enqueueReady's check: true when a breakpoint holds r now (it is then Held).
    bool holdAtBreakpoint(TaskRecord *r);
    bool matches(const Breakpoint &b, const TaskRecord *r) const;
    void steeringEvent(std::string text);
    /// The attempt a "pause now" stopped is over: queued again, no failure counted.
    void requeueRecalled(TaskRecord *r, int worker);
    std::vector<Breakpoint> m_breakpoints;
    int m_nextBreakpoint = 1;
    std::deque<std::uint64_t> m_held; ///< ids in the order held (stale ones skipped)
    bool m_paused = false;            ///< scheduler thread
    std::atomic<bool> m_pausedFlag{false};

private:
    ClusterOptions m_options;
    std::shared_ptr<FunctionRegistry> m_functions;
    std::unique_ptr<WorkerGate> m_gate; ///< where remote workers come in (options.listen)

    // Inbox.
    std::mutex m_inboxMutex;
    std::condition_variable m_inboxCv;
    std::vector<Message> m_inbox;
    bool m_sleeping = false;
    std::atomic<std::size_t> m_inboxSize{0};
    std::atomic<bool> m_inboxClosed{false};

    // Key registry: shared between submitters and the scheduler.
    std::mutex m_registryMutex;
    std::unordered_map<std::string_view, TaskRecord *> m_byKey;
    std::atomic<std::uint64_t> m_nextId{1};

    // Waiters on status changes.
    std::mutex m_waitMutex;
    std::condition_variable m_waitCv;
    std::atomic<int> m_waiters{0};
    bool m_statusChanged = false; ///< scheduler thread

    static constexpr std::size_t kStripes = 64;
    std::mutex m_stripes[kStripes];

    // Subscribers (copy-on-write snapshot).
    std::mutex m_subscribersMutex;
    /// Held while a subscriber's callback runs: unsubscribe() closes it, so once that
    /// returns the callback is neither running nor called again (what it captured may go).
    struct SubscriberGate
    {
        std::mutex mutex;
        bool open = true; ///< guarded by `mutex`, or read and written on the scheduler thread
    };
    struct Subscriber
    {
        std::uint64_t id = 0;
        EventCallback plain;
        SharedEventCallback shared;
        EventMask wanted = kAllEvents;
        std::shared_ptr<SubscriberGate> gate;
    };
    std::shared_ptr<const std::vector<Subscriber>> m_subscribers;
    static EventMask wantedBy(const std::vector<Subscriber> &subscribers);
    /// What the subscribers need, together (0: nobody listens).
    std::atomic<EventMask> m_wantedEvents{0};
    bool wants(EventMask bits) const
    {
        return (m_wantedEvents.load(std::memory_order_relaxed) & bits) != 0;
    }
    bool wants(EventKind kind) const { return wants(eventBit(kind)); }
    std::uint64_t m_nextSubscriber = 1;
    std::shared_ptr<EventBatchPool> m_eventPool = std::make_shared<EventBatchPool>();
    std::vector<Event> m_events; ///< this round's events, up to kEventBatchSize

    // Scheduler state.
    std::thread m_thread;
    std::atomic<bool> m_closed{false};
    bool m_stopping = false;
    std::unordered_map<std::uint64_t, TaskRecord *> m_tasks;
    /// Ready tasks by priority, FIFO among equals; an entry is current while its seq is
    /// the record's readySeq (a priority change queues the task again under the new one).
    struct ReadyEntry
    {
        std::uint64_t id;
        std::uint32_t seq;
    };
    std::map<int, std::deque<ReadyEntry>, std::greater<int>> m_ready;
    std::size_t m_readyCount = 0;
    std::vector<std::unique_ptr<WorkerBackend>> m_workers;
    std::vector<std::unique_ptr<WorkerBackend>> m_retiring;
    int m_nextWorkerId = 0;
    std::string m_workerStartError; ///< why the last process worker could not start
    /// Deadlines: task timeouts and kills after the cancel grace period.
    std::multimap<std::int64_t, Timer> m_timers;          ///< by steady-clock µs
    std::map<int, std::vector<std::uint64_t>> m_releases; ///< per worker, flushed per round
    /// Ready cacheable tasks (ids) waiting for this round's cache lookup.
    std::vector<std::uint64_t> m_cacheCheck;
    std::map<std::int64_t, std::string> m_cacheNotes; ///< "from cache, session N" (stable)
    /// Mean duration (µs) per function, for how many tasks a worker may queue.
    std::unordered_map<const FunctionInfo *, double> m_meanDurationUs;
};

} // namespace taskbench::detail
