// The client API: Dask futures, natively. A Client owns a local cluster (thread workers
// now; process workers behind the same interface) and a scheduler thread that owns all task
// state. submit/map return Futures at once; results stay in the cluster until asked for.
//
// Thread safety: every Client and Future method may be called from any thread. Blocking
// calls (result, gather, wait, asCompleted.next) must not be made on a GUI thread.
#pragma once

#include "taskbench/events.h"
#include "taskbench/functionregistry.h"
#include "taskbench/resultcache.h"
#include "taskbench/steering.h"
#include "taskbench/taskstate.h"
#include "taskbench/value.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace taskbench {

namespace detail {
class Engine;
struct TaskRecord;
} // namespace detail

using Duration = std::chrono::steady_clock::duration;

/// result()/gather() on an erred future throws this, carrying the task's error.
class TaskFailed : public std::runtime_error
{
public:
    explicit TaskFailed(TaskError e)
        : std::runtime_error(e.describe())
        , m_error(std::move(e))
    {}
    const TaskError &error() const { return m_error; }

private:
    TaskError m_error;
};

/// result() on a cancelled future.
class CancelledError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/// result()/wait() ran out of time.
class TimeoutError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/// A handle to a task's eventual result. Cheap to copy; the task (and its result) lives as
/// long as any handle to it or any task that still needs it.
class Future
{
public:
    Future() = default;
    Future(const Future &other);
    Future(Future &&other) noexcept;
    Future &operator=(const Future &other);
    Future &operator=(Future &&other) noexcept;
    ~Future();

    bool valid() const { return m_task != nullptr; }
    std::uint64_t id() const;
    const std::string &key() const;
    const std::string &function() const;
    FutureStatus status() const;
    bool done() const { return isTerminal(status()); }

    /// Waits for the task and returns its value. Throws TaskFailed (with the task's error),
    /// CancelledError, or TimeoutError when a timeout is given and passes before the task
    /// finishes (the timeout bounds that wait: a finished value held by a process worker is
    /// then fetched however long the transfer takes, so result(0s) works on a finished
    /// future). Throws std::runtime_error when such a value cannot be transferred (larger
    /// than the protocol's frame limit: the message names it).
    Value result(std::optional<Duration> timeout = std::nullopt) const;
    /// The error of an erred task.
    std::optional<TaskError> error() const;
    /// The arguments as submitted (futures appear as references), read without a trip to
    /// the scheduler: they never change. A held task's edited arguments, which its next
    /// attempt runs with, are Client::arguments().
    const std::vector<Value> &submittedArguments() const;
    /// Display type of the result ("int", "list[3]"); empty until finished.
    std::string typeName() const;
    /// "<Future: inc status: finished, type: int, key: inc-3f2a...>"
    std::string repr() const;
    /// Number of attempts so far.
    int attempts() const;
    /// What the last finished attempt used: peak memory, CPU time, result size (-1 where
    /// unknown, and all -1 before an attempt finished).
    AttemptUsage usage() const;
    /// True when the value came from the result cache (ClusterOptions::resultCache)
    /// instead of running the task.
    bool cached() const;

    /// Runs fn(*this) once the future is done (at once if it already is). Callbacks run on
    /// the engine's thread: keep them short and do not block there.
    void addDoneCallback(std::function<void(const Future &)> fn) const;
    /// Cancel and retry return once the scheduler applied them (a short round trip; from a
    /// GUI thread prefer a worker thread).
    void cancel() const;
    void retry() const;
    /// Drops this handle (like destroying it).
    void release();

    /// Passing a future as an argument makes it a dependency.
    operator Value() const { return Value::ref(key()); }
    bool operator==(const Future &o) const { return m_task == o.m_task; }

private:
    friend class detail::Engine;
    friend class Client;
    Future(detail::TaskRecord *task, std::shared_ptr<detail::Engine> engine); // takes a ref
    detail::TaskRecord *m_task = nullptr;
    std::shared_ptr<detail::Engine> m_engine;
};

struct ClusterOptions
{
    int workers = 0;          ///< 0: one per core
    int threadsPerWorker = 1; ///< task slots per worker
    bool processes = false;   ///< process workers (isolation) instead of threads
    int allowedFailures = 3;  ///< worker deaths a task may see before it errs
    /// Plugin libraries process workers load (default: every library the registry's
    /// functions came from).
    std::vector<std::string> pluginPaths;
    std::uint64_t memoryLimitBytes = 0;             ///< per process worker; 0: none
    std::optional<Duration> taskTimeout;            ///< default per-task timeout; none by default
    Duration cancelGrace = std::chrono::seconds(2); ///< cooperative cancel, then kill
    std::string workerExecutable; ///< default: taskbench-worker next to the running binary
    std::string runtimeDir;       ///< default: $XDG_RUNTIME_DIR or /tmp, + taskbench-<uid>
    /// Remote workers (taskbench-worker --scheduler tcp://HOST:PORT --token-file F) may
    /// connect to "HOST:PORT" (port 0: any free one; see Client::listenAddress()). Empty (the
    /// default): no TCP port is opened. Encrypted with TLS unless loopback (see `tls`);
    /// workers always authenticate with the token.
    std::string listen;
    /// The cluster token workers must prove they know. Empty: a fresh token in
    /// ~/.taskbench/tokens/cluster-<host>-<pid>.token, removed at close. A missing file is
    /// created (mode 0600) with a fresh token; an existing one must be private to the user.
    std::string tokenFile;
    /// False: start no local workers (`workers` is ignored) and wait for remote ones.
    bool localWorkers = true;
    /// A connection that has not completed the authentication by then is dropped.
    Duration handshakeTimeout = std::chrono::seconds(10);
    /// TLS for remote workers' connections (OpenSSL, a fresh self-signed certificate bound
    /// to the token proofs). nullopt: on unless `listen` is a loopback address.
    std::optional<bool> tls;
    /// Pure tasks are looked up here when ready and their values stored when they finish
    /// (see taskbench/resultcache.h). Null (the default): no cache.
    std::shared_ptr<ResultCache> resultCache;
};

struct SubmitOptions
{
    std::string key;   ///< explicit key (otherwise function-token)
    bool pure = true;  ///< deterministic key from function and arguments
    int retries = 0;   ///< automatic re-runs after an error
    int priority = 0;  ///< higher runs first; FIFO among equals
    Value::Map kwargs; ///< arguments by parameter name
    std::string group; ///< task group for display (default: a map call, or the function)
    std::optional<Duration> timeout; ///< cancel (then kill the worker) past this
    /// False: never serve these tasks from the cluster's result cache nor store them.
    bool cache = true;
};

enum class ReturnWhen { AllCompleted, FirstCompleted, FirstException };
enum class Errors { Raise, Skip };

struct WaitResult
{
    std::vector<Future> done;
    std::vector<Future> notDone;
};

/// A named task graph (the command line's graph files, Dask's compute()). Arguments refer
/// to other tasks of the graph with {"$ref": "name"}, nested anywhere.
struct TaskGraph
{
    struct Task
    {
        std::string function;
        std::vector<Value> args;
        Value::Map kwargs;
        int retries = 0;
    };
    std::map<std::string, Task> tasks;
    std::vector<std::string> outputs; ///< names to return (default: all)

    /// Parses {"tasks": {...}, "outputs": [...]}; nullopt and *error on malformed input.
    static std::optional<TaskGraph> fromJson(std::string_view json, std::string *error);
    /// The names in dependency order; nullopt and *error for a cycle or a dangling $ref.
    std::optional<std::vector<std::string>> topologicalOrder(std::string *error) const;
};

struct WorkerInfo
{
    int id = -1;
    std::string name;
    int threads = 0;
    long pid = 0; ///< local process workers only (remote ones: see name)
    bool alive = true;
    bool remote = false; ///< connected over TCP (ClusterOptions::listen)
    std::string label;   ///< remote: the --name it was started with (e.g. "slurm-job-42")
    std::string address; ///< remote: the peer address of its connection ("host:port")
    std::string host;    ///< remote: the host name it reports
    std::vector<std::string> running; ///< keys
    std::uint64_t tasksDone = 0;
    std::size_t resultsHeld = 0;
    std::uint64_t bytesHeld = 0;
    std::uint64_t memoryBytes = 0;
};

/// Yields futures in the order they complete.
class AsCompleted
{
public:
    /// The next completed future, or nullopt when all were yielded or the timeout passed.
    std::optional<Future> next(std::optional<Duration> timeout = std::nullopt);
    std::size_t remaining() const;

private:
    friend class Client;
    struct State;
    std::shared_ptr<State> m_state;
};

/// Unsubscribes when destroyed (or reset): from then on its callback is not running and is
/// never called again, so what the callback captured may be destroyed right after.
class Subscription
{
public:
    Subscription() = default;
    Subscription(Subscription &&) noexcept = default;
    Subscription &operator=(Subscription &&) noexcept = default;
    ~Subscription();
    void reset();

private:
    friend class Client;
    std::weak_ptr<detail::Engine> m_engine;
    std::uint64_t m_id = 0;
};

class Client
{
public:
    /// Starts a local cluster. `functions` is shared with plugin loading (nullptr: a new one).
    explicit Client(ClusterOptions options = {},
                    std::shared_ptr<FunctionRegistry> functions = nullptr);
    ~Client(); ///< close()
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    FunctionRegistry &functions();
    std::shared_ptr<FunctionRegistry> functionRegistry() const;
    const ClusterOptions &options() const;

    /// One call. Throws std::invalid_argument for an unknown function, a wrong argument count
    /// or a literal argument of the wrong type, or a reference to an unknown future.
    Future submit(std::string_view function, std::vector<Value> args = {}, SubmitOptions opts = {});
    /// One task per input (a single-parameter call each). Inputs may be futures.
    std::vector<Future>
    map(std::string_view function, std::vector<Value> inputs, SubmitOptions opts = {});
    /// One task per argument list (several parameters: zip or product built by the caller).
    std::vector<Future> mapArgs(std::string_view function,
                                std::vector<std::vector<Value>> argLists,
                                SubmitOptions opts = {});
    /// A local value becomes a finished future.
    Future scatter(Value value, std::string key = {});
    /// Submits a graph; returns its output futures by name. Throws std::invalid_argument for
    /// an unknown function, bad arguments, a cycle or a dangling reference.
    std::map<std::string, Future> compute(const TaskGraph &graph, SubmitOptions opts = {});

    /// Waits for all and returns their values in order. Errors::Raise throws the first error
    /// (in list order); Errors::Skip leaves out failed and cancelled futures.
    std::vector<Value> gather(const std::vector<Future> &futures,
                              Errors errors = Errors::Raise,
                              std::optional<Duration> timeout = std::nullopt);
    /// Starts moving the values of these finished futures that workers hold to the client,
    /// one request per worker, and returns at once: result() calls that follow find them
    /// here or in flight instead of waiting for one transfer each. gather() does it itself.
    void prefetch(const std::vector<Future> &futures);
    WaitResult wait(const std::vector<Future> &futures,
                    ReturnWhen when = ReturnWhen::AllCompleted,
                    std::optional<Duration> timeout = std::nullopt);
    AsCompleted asCompleted(const std::vector<Future> &futures);

    /// Returns once the scheduler applied it.
    void cancel(const std::vector<Future> &futures);
    /// Re-runs erred (or cancelled) futures: walks back to the erred roots, re-runs them, and
    /// returns their erred dependents to pending.
    void retry(const std::vector<Future> &futures);

    /// The task's story (state transitions with times, worker and attempt).
    std::vector<Transition> story(const Future &future);
    /// Log lines the task wrote through its context (all attempts).
    std::vector<std::string> logs(const Future &future);
    /// Every finished attempt's figures, in attempt order (Future::usage() is the last's).
    std::vector<AttemptFigures> attemptUsage(const Future &future);
    /// What the task wrote to stdout/stderr (process workers capture it per task).
    std::string output(const Future &future);
    /// story(), logs(), attemptUsage() and output() of many futures, in their order, in a few
    /// trips to the scheduler instead of four per future: what a report of a 200,000-task map
    /// needs. parts leaves out what the caller does not show.
    std::vector<TaskDetails> details(const std::vector<Future> &futures,
                                     TaskDetails::Parts parts = TaskDetails::All);
    /// The task's arguments as submitted, or as edited while it was held (futures appear as
    /// references).
    std::vector<Value> arguments(const Future &future);

    std::vector<WorkerInfo> workers();
    /// Adds or removes workers while running.
    void scale(int workers);
    /// Restarts one worker; false if there is no such (running) worker. A process worker is
    /// killed (cause "restarted by user") and comes back as a new process under the same id:
    /// its running tasks run again (not counted as suspicious), results only it held are
    /// recomputed when still needed. A thread worker cannot be killed: it is retired once
    /// its running tasks finish and a fresh worker (a new id) takes its place.
    bool restartWorker(int workerId);
    /// Treats a (process or remote) worker as lost now, naming the cause ("slurm job 42
    /// cancelled"): its running tasks count a suspicious failure and run elsewhere, results
    /// only it held are recomputed when still needed. A remote worker leaves the cluster, a
    /// local process worker is restarted. False for an unknown worker or a thread worker.
    bool loseWorker(int workerId, const std::string &cause);
    /// Removes one worker gracefully (what scale() does to the least busy): it takes no new
    /// work, unstarted work is queued again, results only it holds move to the scheduler,
    /// then it stops (a remote worker is told to exit). False for an unknown worker.
    bool retireWorker(int workerId);
    /// "tcp://HOST:PORT" remote workers connect to (the port actually bound), "" when the
    /// cluster does not listen; and the token file they need.
    std::string listenAddress() const;
    std::string tokenFile() const;
    /// Tasks the scheduler holds (any state but forgotten).
    std::size_t taskCount();
    /// Blocks until the scheduler holds no tasks (or timeout); true when empty.
    bool waitUntilIdle(std::optional<Duration> timeout = std::nullopt);

    /// The native stack of the thread that runs task `key` now, symbolised (eu-stack from
    /// elfutils), with source lines where the plugin has debug information. Local process
    /// workers only: nullopt and *error for a task that is not running, runs on a thread or
    /// remote worker, or when eu-stack is missing or cannot attach. Blocks while eu-stack
    /// runs (a fraction of a second): not on a GUI thread.
    std::optional<std::string> stackOf(std::string_view key, std::string *error = nullptr);

    // Steering a running cluster (taskbench/steering.h). Each call returns once the scheduler
    // applied it (a short round trip).
    /// Nothing new starts until resume(); PauseMode says what happens to running tasks.
    void pause(PauseMode mode = PauseMode::Drain);
    void resume();
    bool isPaused() const;
    /// Returns the breakpoint's id. Queued tasks that match are held at once.
    int addBreakpoint(Breakpoint breakpoint);
    /// False for an unknown id. Tasks it holds stay held until released.
    bool removeBreakpoint(int id);
    std::vector<Breakpoint> breakpoints();
    /// The held tasks, in the order they were held.
    std::vector<Future> heldTasks();
    /// Lets held tasks go on (queued by priority); others are ignored. Returns how many.
    std::size_t release(const std::vector<Future> &futures);
    std::size_t releaseAll();
    /// Releases the task held first (one step); an invalid Future when none is held.
    Future step();
    /// The task's arguments with the values of its finished inputs in place of their
    /// references (values held by process workers are fetched); a held task's are all
    /// resolved. Blocks while fetching: not on a GUI thread.
    std::vector<Value> resolvedArguments(const Future &future);
    /// Replaces a held task's arguments before it runs (checked like a submit's; references
    /// only to the task's own inputs). Its result is then not stored in the result cache
    /// (the key no longer describes the call). Throws std::invalid_argument otherwise.
    void setArguments(const Future &held, std::vector<Value> args);
    /// A new priority for tasks that have not started (higher first; among equals, in the
    /// order of the change). Tasks already handed to a worker keep their place there.
    void setPriority(const std::vector<Future> &futures, int priority);
    /// Puts a task that has not started before every queued one; returns its new priority.
    int runNext(const Future &future);
    /// Kills the task's local process worker now (no grace period): the task is cancelled,
    /// the worker restarted, its other running tasks run again unblamed. False and *why for
    /// a task that is not running on a local process worker.
    bool killNow(const Future &future, std::string *why = nullptr);

    /// The future of the task the scheduler holds under this key; invalid if there is none.
    /// Never makes a task.
    Future findFuture(std::string_view key);

    /// Receives every event batch until the Subscription is destroyed. The callback runs on
    /// the scheduler's thread: it must be quick and must not block.
    /// `wanted` names the events the subscriber needs (see EventMask).
    Subscription subscribe(EventCallback callback, EventMask wanted = kAllEvents);
    /// The same, with the batch itself: keep the pointer rather than copying the events
    /// (what a subscriber that works on them on another thread should do).
    Subscription subscribeShared(SharedEventCallback callback, EventMask wanted = kAllEvents);
    /// Returns once the subscribers have received the events of everything that happened
    /// before the call. The scheduler hands events over at the end of each of its rounds,
    /// while a waiter may see a future finish earlier: a subscriber that is about to stop
    /// (a recorder finishing its session) calls this first so that it misses nothing.
    void deliverEvents();

    /// Stops workers and the scheduler; pending futures become cancelled. Idempotent.
    void close();

private:
    std::shared_ptr<detail::Engine> m_engine;
};

} // namespace taskbench
