// Re-running recorded tasks in a (new) cluster. Functions are resolved by name against the
// current registry and checked against the plugin name and version the session recorded;
// a task whose function or plugin version is gone is refused with a message saying which.
// The dependencies a task needs are re-run with it (in submission order) under their
// recorded keys, so the recorded arguments' future references resolve.
#pragma once

#include "taskbench/client.h"
#include "taskbench/history/historystore.h"

#include <cstdint>
#include <string>
#include <vector>

namespace taskbench::history {

struct RerunCall
{
    std::uint64_t recordedId = 0;
    std::string key;
    std::string function;
    std::vector<Value> args;
    SubmitOptions options;
};

struct RerunPlan
{
    std::vector<RerunCall> calls;      ///< dependencies first
    std::vector<std::string> problems; ///< one message per task that cannot be re-run
    bool ok() const { return problems.empty() && !calls.empty(); }
};

/// Plans re-running `ids` of `session` (plus what they depend on). Empty ids: every
/// recorded task whose status is "error" when failedOnly, else all.
RerunPlan planRerun(HistoryStore &store,
                    std::int64_t session,
                    const std::vector<std::uint64_t> &ids,
                    bool failedOnly,
                    const FunctionRegistry &registry);

/// Submits a plan's calls; returns the futures in plan order. Throws std::invalid_argument
/// like Client::submit.
std::vector<Future> submitRerun(Client &client, const RerunPlan &plan);

} // namespace taskbench::history
