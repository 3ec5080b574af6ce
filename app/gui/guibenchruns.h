// `taskbench --bench-gui` without --bench-tasks: the default runs (100,000 and 1,000,000
// no-op tasks on thread workers, 100,000 on process workers), each in a fresh taskbench
// process (`--bench-gui --bench-tasks N --threads|--processes`, its figures passed through),
// so that no run's heap figures carry what an earlier run left (its rows being freed, its
// cluster closing, the allocator's fragments) — as a user's first map after start.
#pragma once

#include <QStringList>

namespace taskbench::gui {

/// Runs the default GUI bench runs one after another with `program` and `arguments` (the
/// command line given, --bench-gui included); true when every run exited 0.
bool runGuiBenchInFreshProcesses(const QString &program, const QStringList &arguments);

} // namespace taskbench::gui
