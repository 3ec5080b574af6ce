// The `history compare` command: the comparison itself is Taskbench::History's
// (taskbench/history/compare.h); this file only picks the rendering and reports bad IDs.
#include "historycompare.h"

#include "taskbench/history/compare.h"
#include "taskbench/history/historystore.h"

#include <iostream>

namespace taskbench::cli {

int commandHistoryCompare(history::HistoryStore &store, const Options &opts)
{
    std::string error;
    const std::optional<history::SessionComparison> c
        = history::compareSessions(store, opts.compare[0], opts.compare[1], &error);
    if (!c)
        throw InputError("history compare: " + error);
    if (opts.json)
        std::cout << history::compareJson(*c) << "\n";
    else if (opts.csv)
        std::cout << history::compareCsv(*c);
    else
        std::cout << history::compareText(*c, opts.allTasks);
    return kExitOk;
}

} // namespace taskbench::cli
