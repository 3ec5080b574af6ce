// The records of the run history as the store reads them back: a session (one CLI run or
// one GUI cluster), the plugins it used, its workers, and each task with its story
// (every state transition), its attempts, its arguments, result and error.
#pragma once

#include "taskbench/taskstate.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace taskbench::history {

/// What a recorder knows about a session when it starts.
struct SessionStart
{
    std::string app;   ///< "taskbench-cli", "taskbench"
    std::string title; ///< the command line, or a label
    int workers = 0;
    int threadsPerWorker = 1;
    bool processes = false;
};

struct SessionSummary
{
    std::int64_t id = 0;
    std::int64_t startedUs = 0; ///< wall clock, microseconds since the Unix epoch
    std::int64_t endedUs = 0;   ///< 0 while running; last recorded activity if interrupted
    std::string status;         ///< "running", "finished", "interrupted"
    std::string app;
    std::string title;
    int workers = 0;
    int threadsPerWorker = 1;
    bool processes = false;
    std::int64_t taskCount = 0;
    std::map<std::string, std::int64_t> counts; ///< FutureStatus name -> tasks
    std::vector<std::string> plugins;           ///< "name version"
};

struct PluginUse
{
    std::string name; ///< "" for host functions
    std::string version;
    std::string path;
    std::string hash;                   ///< SHA-256 of the library file, hex ("" if unreadable)
    std::vector<std::string> functions; ///< qualified names the session used
};

struct WorkerRecord
{
    int id = -1;
    std::string name;
    int threads = 0;
    std::int64_t addedUs = 0;
    std::int64_t removedUs = 0;
    std::string removedReason;
};

struct TransitionRecord
{
    TaskState from = TaskState::Released;
    TaskState to = TaskState::Released;
    std::int64_t timeUs = 0;
    int worker = -1;
    int attempt = 0;
};

/// One execution of a task on a worker thread.
struct AttemptRecord
{
    int attempt = 0;
    int worker = -1;
    int thread = -1;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
    bool ok = true;
    AttemptUsage usage; ///< peak memory, CPU time, result size (-1: unknown)
};

struct LogRecord
{
    std::uint64_t task = 0;
    std::int64_t timeUs = 0;
    std::string text;
};

struct TaskRecord
{
    std::int64_t session = 0;
    std::uint64_t id = 0; ///< the engine's task id within the session
    std::string key;
    std::string function;
    std::string group;
    std::vector<std::uint64_t> deps; ///< task ids
    std::string argsJson;            ///< JSON list of the arguments ("" if not tracked)
    std::string optionsJson;         ///< JSON map: retries, priority, pure, kwargs ("": defaults)
    std::string state;               ///< last TaskState name (never "forgotten")
    std::string status;              ///< FutureStatus name of that state
    int attempts = 0;
    int worker = -1; ///< worker of the last attempt
    std::int64_t submittedUs = 0;
    std::int64_t startedUs = 0;  ///< first attempt start
    std::int64_t finishedUs = 0; ///< reached its last terminal state
    bool resultStored = false;   ///< resultJson holds the value (else type and size only)
    std::string resultJson;
    std::string resultType;
    std::int64_t resultSize = -1; ///< canonical CBOR bytes; -1 if no result
    std::string errorType;
    std::string errorMessage;
    std::string errorRoot; ///< key of the task whose own failure this is
    std::string traceback;
    std::string output; ///< captured stdout/stderr (process workers)
    std::vector<TransitionRecord> story;
    std::vector<AttemptRecord> runs;
    AttemptUsage usage; ///< the last attempt's (also in runs)
    /// Served from the result cache ("from cache, session N"): the session that computed the
    /// value, 0 if unknown; -1 for a task that was not served from the cache.
    std::int64_t cachedFrom = -1;

    bool cached() const { return cachedFrom >= 0; }
};

/// Which tasks to read. Text filters match substrings, case-insensitively.
struct TaskQuery
{
    std::int64_t session = 0; ///< 0: every session
    std::string function;
    std::string key;
    std::string status; ///< exact FutureStatus name ("finished", "error", ...)
    std::string errorText;
    std::vector<std::uint64_t> ids; ///< empty: all
    std::int64_t limit = -1;
    std::int64_t offset = 0;
};

/// Which sessions to list: a session matches when any of its tasks matches the text
/// (function, key, status or error), or its title does.
struct SessionQuery
{
    std::string text;
    std::int64_t limit = -1;
};

} // namespace taskbench::history
