// Which export format a session file name asks for. The "Files of type" combo of the save
// dialog cannot be set over AT-SPI, and a user who types "s1.csv" means CSV whatever the
// filter says, so the name's extension decides when it names a format; the filter only
// decides for a name without one.
#pragma once

#include "taskbench/history/exporters.h"

#include <QString>

#include <optional>

namespace taskbench::gui {

/// ".perfetto.json" / ".trace.json": Perfetto; ".csv": CSV; any other ".json": the whole
/// session as JSON; nullopt for a name without one of these extensions (case-insensitive).
std::optional<history::ExportFormat> exportFormatForPath(const QString &path);

/// The format to write `path` in when the save dialog's filter chose `filterFormat`.
history::ExportFormat exportFormatForPath(const QString &path, history::ExportFormat filterFormat);

} // namespace taskbench::gui
