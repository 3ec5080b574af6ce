#include "icons.h"

#include <QApplication>
#include <QFile>
#include <QHash>
#include <QPainter>
#include <QPalette>
#include <QPixmap>
#include <QSvgRenderer>

namespace taskbench::gui {

QIcon themedIcon(const QString &name, const QColor &color)
{
    const QColor tint
        = color.isValid() ? color : QApplication::palette().color(QPalette::WindowText);
    static QHash<QString, QIcon> cache;
    const QString cacheKey = name + tint.name();
    auto it = cache.constFind(cacheKey);
    if (it != cache.constEnd())
        return *it;
    QFile f(QStringLiteral(":/icons/%1.svg").arg(name));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    // The SVGs draw in currentColor; substitute the tint so one file serves every theme.
    QByteArray svg = f.readAll();
    svg.replace("currentColor", tint.name().toLatin1());
    QSvgRenderer renderer(svg);
    QIcon icon;
    for (int size : {16, 20, 24, 32, 48}) {
        QPixmap pm(size, size);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        renderer.render(&p);
        p.end();
        icon.addPixmap(pm);
    }
    cache.insert(cacheKey, icon);
    return icon;
}

} // namespace taskbench::gui
