// One name per worker across the GUI. The engine names its workers by kind
// ("thread-worker-0", "process-worker-1", "tcp-worker-2 (label@host, pid 9)") while events
// carry only the number, so the Futures table said "worker-0", the Workers table
// "thread-worker-0" and the task stream "worker 0": a screen reader user could not match
// them. Every view now says "worker-N"; the Workers table adds the kind after it.
#pragma once

#include <QString>

#include <string>

namespace taskbench::gui {

/// "worker-3"; "" for a negative id (no worker).
QString workerLabel(int id);

/// The Workers table's name: workerLabel(id) and, from the engine's name, the kind and
/// a remote worker's identity: "worker-3 (thread)", "worker-2 (tcp, lab@host, pid 9)".
QString workerDisplayName(int id, const std::string &engineName);

} // namespace taskbench::gui
