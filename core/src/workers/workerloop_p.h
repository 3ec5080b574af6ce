// The loop of a worker process once it is connected and its plugins are loaded: the
// handshake, then running what the scheduler sends on T threads, keeping results in a store
// keyed by task id until they are fetched or released, and sending completions in batches.
// Set up by runWorkerProcess (workerprocess.cpp).
#pragma once

#include "wire/transport_p.h"
#include "workers/outputcapture_p.h"

#include "taskbench/functionregistry.h"
#include "taskbench/workerprocess.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace taskbench::detail {

/// What the loop runs with. status (may be null) is the shared page of statusSlots words: in
/// the first half, slot t shows task id + 1 while it runs it; in the second, word
/// statusSlots / 2 + t holds the thread id (gettid) of the thread running slot t, so that a
/// debugger can be pointed at it (Client::stackOf).
struct WorkerLoopSetup
{
    WorkerProcessOptions &options; ///< id: set by the scheduler's Hello for remote workers
    std::unique_ptr<Connection> connection;
    FunctionRegistry &registry;
    OutputCapture &capture;
    std::atomic<std::uint64_t> *status = nullptr;
    std::size_t statusSlots = 0;
};

/// Runs until the scheduler closes the connection or says Shutdown (exit code 0), or sends
/// something malformed (2); ends the process with _exit, since plugin code may still run on
/// other threads.
[[noreturn]] void runWorkerLoop(WorkerLoopSetup setup);

} // namespace taskbench::detail
