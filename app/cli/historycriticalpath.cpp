// The `history critical-path` command: the path itself is Taskbench::History's
// (taskbench/history/criticalpath.h); this file reads the session and picks the rendering.
#include "historycriticalpath.h"

#include "taskbench/history/criticalpath.h"
#include "taskbench/history/historystore.h"

#include <iostream>

namespace taskbench::cli {

int commandHistoryCriticalPath(history::HistoryStore &store, const Options &opts)
{
    if (!store.session(opts.session))
        throw InputError("history critical-path: no session " + std::to_string(opts.session)
                         + " in " + store.path());
    history::TaskQuery q;
    q.session = opts.session;
    const std::vector<history::PathTask> tasks = history::pathTasks(store.tasks(q));
    const history::CriticalPath path = history::criticalPath(tasks);
    if (opts.json)
        std::cout << history::criticalPathJson(path, opts.session) << "\n";
    else
        std::cout << history::criticalPathText(path);
    return kExitOk;
}

} // namespace taskbench::cli
