// The worker interface the scheduler drives: thread workers now, process workers (and
// remote ones) behind the same calls. Work goes out in batches of assignments and comes back
// in batches of completions through a WorkerSink.
#pragma once

#include "taskbench/functionregistry.h"
#include "taskbench/taskstate.h"
#include "taskbench/value.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace taskbench::detail {

/// One task execution handed to a worker. Arguments are resolved (no references).
struct Assignment
{
    std::uint64_t task = 0;
    int attempt = 0;
    FunctionPtr function;
    std::vector<Value> args;
    std::string key;
    std::atomic<bool> *cancel = nullptr; ///< valid until the completion is delivered
};

struct Completion
{
    std::uint64_t task = 0;
    int attempt = 0;
    bool ok = false;
    bool started = true; ///< false: handed back unstarted (worker retiring)
    Value result;
    std::string errorType;
    std::string errorMessage;
    int thread = -1;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
};

/// Receives what workers report; called from worker threads.
class WorkerSink
{
public:
    virtual ~WorkerSink() = default;
    virtual void completed(int worker, std::vector<Completion> items) = 0;
    virtual void progress(std::uint64_t task, int worker, double fraction, std::string text) = 0;
    virtual void logLine(std::uint64_t task, int worker, std::string line) = 0;
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

    // Bookkeeping owned by the scheduler thread.
    std::size_t outstanding = 0;
    std::uint64_t tasksDone = 0;
};

std::unique_ptr<WorkerBackend> makeThreadWorker(int id, int threads, WorkerSink &sink);

/// Runs one assignment in this thread: converts exceptions into an error completion.
Completion runAssignment(Assignment &a, int worker, int thread, WorkerSink &sink);

} // namespace taskbench::detail
