// Export format from a file name (see exportformatpath.h).
#include "exportformatpath.h"

#include <QFileInfo>

namespace taskbench::gui {

std::optional<history::ExportFormat> exportFormatForPath(const QString &path)
{
    const QString name = QFileInfo(path).fileName().toLower();
    if (name.endsWith(QLatin1String(".perfetto.json"))
        || name.endsWith(QLatin1String(".trace.json")))
        return history::ExportFormat::Perfetto;
    if (name.endsWith(QLatin1String(".csv")))
        return history::ExportFormat::Csv;
    if (name.endsWith(QLatin1String(".json")))
        return history::ExportFormat::Json;
    return std::nullopt;
}

history::ExportFormat exportFormatForPath(const QString &path, history::ExportFormat filterFormat)
{
    return exportFormatForPath(path).value_or(filterFormat);
}

} // namespace taskbench::gui
