// One recorded task made ready to run again exactly: its function, the plugin file it came
// from (which must still have the recorded SHA-256, or the call would not be the same code),
// and its arguments, with the results of the tasks it depended on (from the history) in
// place of their futures. What `taskbench-cli replay` runs, in a child process or under gdb.
#pragma once

#include "taskbench/history/historystore.h"
#include "taskbench/value.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace taskbench::history {

struct ReplayCall
{
    std::int64_t session = 0;
    std::uint64_t id = 0;
    std::string key;
    std::string function;   ///< qualified ("faults.segfault")
    std::string pluginPath; ///< the recorded plugin file, its hash checked
    std::vector<Value> args;
    int attempts = 0;           ///< recorded attempts (the replay is the next one)
    std::string recordedStatus; ///< how the recorded run ended
    std::string recordedError;  ///< "Type: message", "" if none
};

/// The task with exactly this key in `session` (0: the newest session that has it). nullopt
/// and *error when there is no such task, its arguments or plugin were not recorded, the
/// plugin file is gone or was rebuilt (SHA-256 differs), or an argument is the result of a
/// task whose value the history did not store.
std::optional<ReplayCall> planReplayCall(HistoryStore &store,
                                         const std::string &key,
                                         std::int64_t session,
                                         std::string *error);

} // namespace taskbench::history
