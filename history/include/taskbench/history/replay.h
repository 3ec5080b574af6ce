// Turns a recorded session back into the engine's event stream, so that the views that
// consume live event batches (futures table, task graph, task stream) can show a past
// session read-only: every task's TaskAdded first (dependencies resolve), then workers,
// transitions and executions in time order.
#pragma once

#include "taskbench/events.h"
#include "taskbench/history/historytypes.h"

#include <vector>

namespace taskbench::history {

EventBatch replayEvents(const std::vector<TaskRecord> &tasks,
                        const std::vector<WorkerRecord> &workers);

} // namespace taskbench::history
