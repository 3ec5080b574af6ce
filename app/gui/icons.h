// Named action icons from the SVG resources (resources/icons), tinted for the current
// palette so they read on light and dark themes alike.
#pragma once

#include <QIcon>
#include <QString>

namespace taskbench::gui {

/// The icon ":/icons/<name>.svg", recoloured to the palette's text colour (or `color`).
QIcon themedIcon(const QString &name, const QColor &color = {});

} // namespace taskbench::gui
