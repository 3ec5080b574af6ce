// `taskbench-cli history critical-path --session N [--json]`: the chain of tasks that
// determined a recorded run's wall time.
#pragma once

#include "commandline.h"

namespace taskbench::history {
class HistoryStore;
}

namespace taskbench::cli {

/// Prints the critical path of opts.session (a table, or one JSON document with --json) and
/// returns the exit code. Throws InputError for a session that is not in the store.
int commandHistoryCriticalPath(history::HistoryStore &store, const Options &opts);

} // namespace taskbench::cli
