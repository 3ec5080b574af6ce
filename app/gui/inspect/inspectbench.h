// `taskbench --bench-gui` figures of the inspect views, printed as JSON lines like the rest
// of the GUI benchmark ({"figure": "layout_2000_ms", "value": 412.0}):
//
//   layout_2000_ms            a 2,000-task map/reduce graph: events applied -> laid out by
//                             Graphviz off the GUI thread -> scene on screen
//   max_stall_ms_layout_2000  the longest gap of a 1 ms GUI-thread timer meanwhile
//   collapsed_100k_ms         a 100,000-task map: events applied -> one group node on screen
//   stream_frame_ms_100k      one task stream frame with 100,000 executions (the worst of
//                             full view, 10 % and 1 % windows, averaged over frames)
//
// Synthetic event batches drive the views (what the engine emits, without its noise).
// TASKBENCH_BENCH_VERBOSE=1 adds a breakdown of the layout figure on stderr.
// Needs a QApplication; runs its own event loops; returns 0 when every figure was measured.
#pragma once

#include <QSize>

#include <cstdio>

namespace taskbench::inspect {

struct GuiBenchOptions
{
    int layoutTasks = 2000;
    int collapsedTasks = 100000;
    int streamExecutions = 100000;
    int streamFrames = 20;
    QSize windowSize = QSize(1400, 900);
    int timeoutMs = 60000;
};

int runGuiBenchmarks(const GuiBenchOptions &options = {}, std::FILE *out = stdout);

} // namespace taskbench::inspect
