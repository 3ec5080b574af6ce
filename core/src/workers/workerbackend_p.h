// The worker interface the scheduler drives: thread workers now, process workers (and
// remote ones) behind the same calls. Work goes out in batches of assignments and comes back
// in batches of completions through a WorkerSink.
#pragma once

#include "taskbench/client.h"
#include "taskbench/functionregistry.h"
#include "taskbench/taskstate.h"
#include "taskbench/value.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace taskbench::detail {

/// One task execution handed to a worker. Arguments are resolved: no references, except,
/// for workers that hold results, Value::ref("#<task id>") naming a value that worker holds.
struct Assignment
{
    std::uint64_t task = 0;
    int attempt = 0;
    FunctionPtr function;
    std::vector<Value> args;
    std::string key;
    std::atomic<bool> *cancel = nullptr; ///< valid until the completion is delivered
    /// Cancelled before it started (the worker process loop's queue; others use *cancel).
    bool cancelled = false;
};

struct Completion
{
    std::uint64_t task = 0;
    int attempt = 0;
    bool ok = false;
    bool started = true; ///< false: handed back unstarted (worker retiring)
    Value result;        ///< the value, unless `remote`
    /// Process workers: the value stays on the worker (result is empty); typeName and bytes
    /// describe it. Small values may come inline as well (remote = false, still held).
    bool remote = false;
    std::string typeName;
    std::uint64_t bytes = 0;
    std::string errorType;
    std::string errorMessage;
    std::string output; ///< what the task wrote to stdout/stderr (process workers)
    int thread = -1;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
    /// Peak memory and CPU time as the worker measured them (resultBytes is `bytes`).
    AttemptUsage usage;
};

/// Receives what workers report; called from worker threads.
class WorkerSink
{
public:
    virtual ~WorkerSink() = default;
    virtual void completed(int worker, std::vector<Completion> items) = 0;
    virtual void progress(std::uint64_t task, int worker, double fraction, std::string text) = 0;
    virtual void logLine(std::uint64_t task, int worker, std::string line) = 0;
    /// Answer to WorkerBackend::fetch: the value, or an error (unknown id, worker gone).
    virtual void
    fetched(int worker, std::uint64_t task, std::optional<Value> value, std::string error)
    {
        (void)worker;
        (void)task;
        (void)value;
        (void)error;
    }
    /// The worker process ended (crash, kill, exit, memory limit). Everything it ran or held
    /// is gone; the scheduler decides what to re-run, then calls restart().
    virtual void died(int worker, std::string cause)
    {
        (void)worker;
        (void)cause;
    }
};

/// Where a task runs, for a debugger to attach to.
struct RunningThread
{
    long pid = 0;
    long tid = 0;
};

/// Who a remote (TCP) worker is, for display and for whoever launched it (a batch job).
struct RemoteIdentity
{
    std::string address; ///< peer "host:port" of its connection
    std::string label;   ///< what it was started with (--name), e.g. "slurm-job-42"
    std::string host;    ///< the host name it reports
};

class WorkerBackend
{
public:
    virtual ~WorkerBackend() = default;
    virtual int id() const = 0;
    virtual std::string name() const = 0;
    virtual int threads() const = 0;
    virtual long pid() const { return 0; }
    /// Queues a batch; never blocks on task execution.
    virtual void execute(std::vector<Assignment> batch) = 0;
    /// Stop taking new work: unstarted assignments come back as completions with
    /// started = false. Running tasks finish (their cancel flag may be set).
    virtual void drain() = 0;
    /// Joins the worker; call once it has nothing outstanding.
    virtual void stop() = 0;

    // Process workers (results stay on the worker). Thread workers keep the defaults.
    /// True when results stay on the worker and must be fetched.
    virtual bool holdsResults() const { return false; }
    /// Asks for held values; answers arrive through WorkerSink::fetched.
    virtual void fetch(const std::vector<std::uint64_t> &tasks) { (void)tasks; }
    /// Frees held values.
    virtual void releaseResults(const std::vector<std::uint64_t> &tasks) { (void)tasks; }
    /// Stores a value on the worker under a task id (scattered data, transfers).
    virtual void store(std::uint64_t task, const Value &value)
    {
        (void)task;
        (void)value;
    }
    /// Cooperative cancel of a running task (thread workers use the shared flag instead).
    virtual void cancelTask(std::uint64_t task) { (void)task; }
    /// Hard kill (after the cancel grace period, or a timeout); reported through died().
    virtual void kill(const std::string &cause) { (void)cause; }
    /// Starts a fresh process after died() was handled.
    virtual void restart() {}
    /// Resident memory of the worker process, 0 if unknown.
    virtual std::uint64_t memoryBytes() const { return 0; }
    /// Local process workers: the process and thread that run `task` now (nullopt if none).
    virtual std::optional<RunningThread> threadOf(std::uint64_t task) const
    {
        (void)task;
        return std::nullopt;
    }
    /// Remote workers: who they are. They are not restarted after died(): the scheduler
    /// removes them.
    virtual std::optional<RemoteIdentity> remoteIdentity() const { return std::nullopt; }

    // Bookkeeping owned by the scheduler thread.
    std::size_t outstanding = 0;
    std::uint64_t tasksDone = 0;
};

std::unique_ptr<WorkerBackend> makeThreadWorker(int id, int threads, WorkerSink &sink);

/// A worker process (taskbench-worker) with its nanny: spawned in a private runtime folder,
/// talking the framed CBOR protocol over a unix socket. Throws std::runtime_error when the
/// process cannot be started.
std::unique_ptr<WorkerBackend>
makeProcessWorker(int id, const ClusterOptions &options, WorkerSink &sink);

/// Runs one assignment in this thread: converts exceptions into an error completion.
Completion runAssignment(Assignment &a, int worker, int thread, WorkerSink &sink);

} // namespace taskbench::detail
