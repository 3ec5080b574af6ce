// How the inspect views draw things: the display status of a task (the six statuses users see,
// with errors split into root causes and errors propagated from a dependency), its colour and
// label, the stable colour of a task function in the task stream, and number/duration/byte
// formatting. The status colours are the futures table's (app/gui/statusstyle.cpp).
#pragma once

#include "taskbench/taskstate.h"

#include <QColor>
#include <QString>

#include <cstdint>
#include <string_view>

namespace taskbench::inspect {

/// What a node shows. Erred tasks are split: a root cause failed on its own; a propagated
/// error is a dependent that erred only because something upstream did.
enum class NodeStatus : std::uint8_t {
    Pending,
    Processing,
    Finished,
    ErrorRoot,
    ErrorPropagated,
    Cancelled,
    Lost,
    Held, ///< waiting at a breakpoint
};
inline constexpr int kNodeStatusCount = 8;

/// How an erred task failed (kept per task by the graph model).
enum class ErrorKind : std::uint8_t { None, Root, Propagated };

NodeStatus nodeStatusOf(TaskState state, ErrorKind error);
QString nodeStatusLabel(NodeStatus status);
QColor nodeStatusColor(NodeStatus status);
/// Black or white, whichever reads better on `background`.
QColor textColorOn(const QColor &background);

/// A stable colour per task function (same name, same colour, every run): a qualitative
/// palette without reds, so failed attempts (red) stand out in the task stream.
QColor functionColor(std::string_view function);
/// The colour of failed attempts in the task stream.
QColor failedColor();

/// "inc" for "bench.inc".
QString shortFunctionName(std::string_view qualified);
/// "850 µs", "12.3 ms", "2.41 s", "3 min 05 s".
QString formatDuration(std::int64_t micros);
/// "12 KiB", "3.4 MiB".
QString formatBytes(std::uint64_t bytes);
/// "100,000" (locale independent, so screenshots and tests agree).
QString formatCount(std::uint64_t n);

} // namespace taskbench::inspect
