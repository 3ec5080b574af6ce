// Worker names shared by the views (see workerlabel.h).
#include "workerlabel.h"

#include <QRegularExpression>

namespace taskbench::gui {

QString workerLabel(int id)
{
    return id >= 0 ? QStringLiteral("worker-%1").arg(id) : QString();
}

QString workerDisplayName(int id, const std::string &engineName)
{
    const QString label = workerLabel(id);
    // "<kind>-worker-<id>" and, for a remote worker, " (<identity>)".
    static const QRegularExpression engine(
        QStringLiteral("^([A-Za-z]+)-worker-(\\d+)(?: \\((.*)\\))?$"));
    const QString name = QString::fromStdString(engineName);
    const QRegularExpressionMatch m = engine.match(name);
    if (!m.hasMatch())
        return name.isEmpty() || name == label ? label : QStringLiteral("%1 (%2)").arg(label, name);
    const QString identity = m.captured(3);
    return identity.isEmpty() ? QStringLiteral("%1 (%2)").arg(label, m.captured(1))
                              : QStringLiteral("%1 (%2, %3)").arg(label, m.captured(1), identity);
}

} // namespace taskbench::gui
