// `taskbench-cli history compare A B`: two recorded sessions side by side.
#pragma once

#include "commandline.h"

namespace taskbench::history {
class HistoryStore;
}

namespace taskbench::cli {

/// Prints the comparison of opts.compare[0] with opts.compare[1] (text, --json or --csv) and
/// returns the exit code. Throws InputError for a session that is not in the store.
int commandHistoryCompare(history::HistoryStore &store, const Options &opts);

} // namespace taskbench::cli
