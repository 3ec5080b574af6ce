// How task statuses look everywhere in the GUI: one colour, one painted icon and one label
// per FutureStatus, so the table, the errors panel and the progress bars agree.
#pragma once

#include "taskbench/taskstate.h"

#include <QColor>
#include <QIcon>
#include <QString>

namespace taskbench::gui {

QString statusLabel(FutureStatus status);
/// Saturated colours that read on both light and dark palettes.
QColor statusColor(FutureStatus status);
/// A small painted icon (circle with a glyph); cached.
QIcon statusIcon(FutureStatus status);
/// Human-readable duration: "850 µs", "12.3 ms", "2.41 s", "3 min 05 s".
QString formatDuration(std::int64_t micros);
/// "512 B", "3.4 KiB", "201 MiB".
QString formatBytes(std::uint64_t bytes);
/// Local wall-clock time "hh:mm:ss.zzz" of a Unix-epoch microsecond stamp.
QString formatTime(std::int64_t epochMicros);

} // namespace taskbench::gui
