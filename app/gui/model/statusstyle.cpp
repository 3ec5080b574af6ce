// Status colours and icons. Icons are painted with QPainter (not files) so they scale to any
// device pixel ratio and stay consistent with the status colours.
#include "statusstyle.h"

#include <QDateTime>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

#include <array>

namespace taskbench::gui {

QString statusLabel(FutureStatus status)
{
    // The engine's names (taskbench/taskstate.h), made QStrings once: the table asks for
    // them at every paint.
    static const std::array<QString, kFutureStatusCount> labels = [] {
        std::array<QString, kFutureStatusCount> out;
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = QString::fromLatin1(toString(FutureStatus(i)));
        return out;
    }();
    const auto i = std::size_t(status);
    return i < labels.size() ? labels[i] : QStringLiteral("?");
}

QColor statusColor(FutureStatus status)
{
    switch (status) {
    case FutureStatus::Pending:
        return QColor(0x8a, 0x93, 0xa0);
    case FutureStatus::Processing:
        return QColor(0x2f, 0x80, 0xed);
    case FutureStatus::Finished:
        return QColor(0x21, 0xa3, 0x66);
    case FutureStatus::Error:
        return QColor(0xe0, 0x3e, 0x47);
    case FutureStatus::Cancelled:
        return QColor(0xe8, 0x8a, 0x2e);
    case FutureStatus::Lost:
        return QColor(0x9b, 0x51, 0xe0);
    case FutureStatus::Held:
        return QColor(0xc9, 0x9a, 0x06); // amber: waiting for the user
    }
    return Qt::gray;
}

static QPixmap paintStatus(FutureStatus status, int size)
{
    QPixmap pm(size, size);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    const QColor c = statusColor(status);
    const qreal m = size * 0.08;
    const QRectF r(m, m, size - 2 * m, size - 2 * m);
    const qreal pen = qMax<qreal>(1.2, size / 9.0);
    QPen glyph(Qt::white, pen, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    const QPointF c0 = r.center();
    const qreal u = r.width() / 2;
    switch (status) {
    case FutureStatus::Pending: {
        // Hollow ring: not started yet.
        p.setPen(QPen(c, pen));
        p.setBrush(Qt::NoBrush);
        p.drawEllipse(r.adjusted(pen / 2, pen / 2, -pen / 2, -pen / 2));
        break;
    }
    case FutureStatus::Processing: {
        // Ring with a filled three-quarter arc: work in progress.
        p.setPen(QPen(c.lighter(160), pen));
        p.drawEllipse(r.adjusted(pen / 2, pen / 2, -pen / 2, -pen / 2));
        p.setPen(QPen(c, pen * 1.3, Qt::SolidLine, Qt::RoundCap));
        p.drawArc(r.adjusted(pen / 2, pen / 2, -pen / 2, -pen / 2), 90 * 16, -270 * 16);
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(c0, u * 0.28, u * 0.28);
        break;
    }
    case FutureStatus::Finished: {
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(r);
        p.setPen(glyph);
        QPainterPath tick;
        tick.moveTo(c0 + QPointF(-0.45 * u, 0.02 * u));
        tick.lineTo(c0 + QPointF(-0.12 * u, 0.36 * u));
        tick.lineTo(c0 + QPointF(0.48 * u, -0.34 * u));
        p.setBrush(Qt::NoBrush);
        p.drawPath(tick);
        break;
    }
    case FutureStatus::Error: {
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(r);
        p.setPen(glyph);
        p.drawLine(c0 + QPointF(0, -0.48 * u), c0 + QPointF(0, 0.12 * u));
        p.drawPoint(c0 + QPointF(0, 0.45 * u));
        break;
    }
    case FutureStatus::Cancelled: {
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(r);
        p.setPen(glyph);
        p.drawLine(c0 + QPointF(-0.45 * u, 0), c0 + QPointF(0.45 * u, 0));
        break;
    }
    case FutureStatus::Lost: {
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(r);
        p.setPen(glyph);
        p.drawLine(c0 + QPointF(-0.32 * u, -0.32 * u), c0 + QPointF(0.32 * u, 0.32 * u));
        p.drawLine(c0 + QPointF(0.32 * u, -0.32 * u), c0 + QPointF(-0.32 * u, 0.32 * u));
        break;
    }
    case FutureStatus::Held: {
        // Two bars: paused at a breakpoint.
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(r);
        p.setPen(glyph);
        p.drawLine(c0 + QPointF(-0.2 * u, -0.4 * u), c0 + QPointF(-0.2 * u, 0.4 * u));
        p.drawLine(c0 + QPointF(0.2 * u, -0.4 * u), c0 + QPointF(0.2 * u, 0.4 * u));
        break;
    }
    }
    return pm;
}

QIcon statusIcon(FutureStatus status)
{
    static std::array<QIcon, kFutureStatusCount> cache;
    QIcon &icon = cache[std::size_t(status)];
    if (icon.isNull()) {
        for (int size : {16, 24, 32, 48})
            icon.addPixmap(paintStatus(status, size));
    }
    return icon;
}

QString formatDuration(std::int64_t micros)
{
    if (micros < 0)
        return {};
    if (micros < 1000)
        return QStringLiteral("%1 µs").arg(micros);
    if (micros < 1000 * 1000)
        return QStringLiteral("%1 ms").arg(double(micros) / 1000.0, 0, 'f', micros < 10000 ? 2 : 1);
    const double s = double(micros) / 1e6;
    if (s < 60)
        return QStringLiteral("%1 s").arg(s, 0, 'f', 2);
    const int total = int(s);
    return QStringLiteral("%1 min %2 s").arg(total / 60).arg(total % 60, 2, 10, QLatin1Char('0'));
}

QString formatBytes(std::uint64_t bytes)
{
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 1 : 0).arg(QLatin1String(units[u]));
}

QString formatTime(std::int64_t epochMicros)
{
    if (epochMicros <= 0)
        return {};
    return QDateTime::fromMSecsSinceEpoch(epochMicros / 1000)
        .toString(QStringLiteral("hh:mm:ss.zzz"));
}

} // namespace taskbench::gui
