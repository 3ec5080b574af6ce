// The result cache the engine consults for pure tasks (ClusterOptions::resultCache): an
// abstract interface, so that the engine knows nothing of where the results live (the run
// history's SQLite database: taskbench/history/resultcache.h; tests use one in memory).
//
// A pure task's key is a deterministic token of its function and arguments, so a finished
// pure task's value may be reused by any later run of the same function from the same
// plugin file. The engine asks when such a task becomes ready (every dependency finished):
// a hit finishes it at once without running it (Future::cached(), story note "from cache,
// session N"); a miss queues it as usual. When a pure task finishes by running, the engine
// offers its value with store(); a value a process worker holds (over 1 KiB) is offered
// once it is fetched (by result(), a dependent elsewhere or the history recorder). Tasks that
// erred, non-pure tasks, tasks with an explicit key and tasks submitted with SubmitOptions::cache =
// false are never looked up nor stored, nor are the tasks that take one of them (or a task
// whose arguments were edited while held) as an argument, whose keys then say nothing of their
// values. A graph task (Client::compute, key "name-token") is asked about by the key submit
// would give its call (CacheRequest::key), so the name plays no part.
//
// Thread safety: lookup() and store() are called on the scheduler thread, which owns every
// task: both must be quick (an in-memory index for misses; store() queues, never writes).
#pragma once

#include "taskbench/functionregistry.h"
#include "taskbench/value.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskbench {

/// One task the engine asks about.
struct CacheRequest
{
    const FunctionInfo *function = nullptr;
    std::string_view key; ///< the task's key (function name and token of its arguments)
};

/// A cached value, and the session of the run that computed it (0: unknown).
struct CacheHit
{
    Value value;
    std::int64_t session = 0;
};

class ResultCache
{
public:
    virtual ~ResultCache() = default;
    /// Answers every request in order: `out` gets one entry per request (nullopt: a miss).
    /// A value that cannot be read back correctly must be a miss, never a wrong value.
    virtual void lookup(const std::vector<CacheRequest> &requests,
                        std::vector<std::optional<CacheHit>> &out)
        = 0;
    /// A pure task finished by running, with this value. Must not block: queue it.
    virtual void store(const FunctionInfo &function, std::string_view key, const Value &value) = 0;
};

/// The note of a task served from the cache, on its transition to Memory (its story and the
/// Transition event's text): "from cache, session N", or "from cache" when N is unknown (0).
std::string cacheHitNote(std::int64_t session);
/// The session a transition note names as the one that computed a cached value: N for
/// "from cache, session N", 0 for "from cache", -1 for a note that is not a cache hit's.
std::int64_t cacheHitSession(std::string_view note);

} // namespace taskbench
