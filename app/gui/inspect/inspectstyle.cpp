// Colours and formatting shared by the inspect views.
#include "inspectstyle.h"

#include <array>

namespace taskbench::inspect {

NodeStatus nodeStatusOf(TaskState state, ErrorKind error)
{
    switch (state) {
    case TaskState::Released:
    case TaskState::Waiting:
    case TaskState::Queued:
    case TaskState::Forgotten:
        return NodeStatus::Pending;
    case TaskState::Processing:
        return NodeStatus::Processing;
    case TaskState::Memory:
        return NodeStatus::Finished;
    case TaskState::Erred:
        return error == ErrorKind::Propagated ? NodeStatus::ErrorPropagated : NodeStatus::ErrorRoot;
    case TaskState::Cancelled:
        return NodeStatus::Cancelled;
    case TaskState::Lost:
        return NodeStatus::Lost;
    }
    return NodeStatus::Pending;
}

QString nodeStatusLabel(NodeStatus status)
{
    switch (status) {
    case NodeStatus::Pending:
        return QStringLiteral("pending");
    case NodeStatus::Processing:
        return QStringLiteral("processing");
    case NodeStatus::Finished:
        return QStringLiteral("finished");
    case NodeStatus::ErrorRoot:
        return QStringLiteral("error (root cause)");
    case NodeStatus::ErrorPropagated:
        return QStringLiteral("error (from dependency)");
    case NodeStatus::Cancelled:
        return QStringLiteral("cancelled");
    case NodeStatus::Lost:
        return QStringLiteral("lost");
    }
    return QStringLiteral("?");
}

QColor nodeStatusColor(NodeStatus status)
{
    switch (status) {
    case NodeStatus::Pending:
        return QColor(0x8a, 0x93, 0xa0);
    case NodeStatus::Processing:
        return QColor(0x2f, 0x80, 0xed);
    case NodeStatus::Finished:
        return QColor(0x21, 0xa3, 0x66);
    case NodeStatus::ErrorRoot:
        return QColor(0xe0, 0x3e, 0x47);
    case NodeStatus::ErrorPropagated:
        // The same hue, washed out: "red because of something else".
        return QColor(0xf3, 0xb3, 0xb7);
    case NodeStatus::Cancelled:
        return QColor(0xe8, 0x8a, 0x2e);
    case NodeStatus::Lost:
        return QColor(0x9b, 0x51, 0xe0);
    }
    return Qt::gray;
}

QColor textColorOn(const QColor &background)
{
    // Relative luminance (sRGB weights); the threshold favours white on mid tones.
    const double l
        = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF();
    return l > 0.62 ? QColor(0x1f, 0x23, 0x28) : QColor(Qt::white);
}

QColor functionColor(std::string_view function)
{
    // Medium tones that read with white gaps between bars; no reds or pinks, which mean
    // "failed" in the task stream.
    static const std::array<QRgb, 14> palette = {
        0x4e79a7,
        0xf28e2b,
        0x59a14f,
        0xb07aa1,
        0x76b7b2,
        0xedc948,
        0x9c755f,
        0x1f77b4,
        0x17becf,
        0xbcbd22,
        0x8c6bb1,
        0x2ca02c,
        0xff7f0e,
        0x6b8e9f,
    };
    // FNV-1a: stable across runs and platforms (qHash is seeded per process).
    std::uint32_t h = 2166136261u;
    for (unsigned char c : function) {
        h ^= c;
        h *= 16777619u;
    }
    return QColor::fromRgb(palette[h % palette.size()]);
}

QColor failedColor()
{
    return QColor(0xd6, 0x27, 0x28);
}

QString shortFunctionName(std::string_view qualified)
{
    const auto dot = qualified.rfind('.');
    const std::string_view s
        = dot == std::string_view::npos ? qualified : qualified.substr(dot + 1);
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

QString formatDuration(std::int64_t micros)
{
    if (micros < 0)
        return QStringLiteral("—");
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

QString formatCount(std::uint64_t n)
{
    QString digits = QString::number(n);
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, QLatin1Char(','));
    return digits;
}

} // namespace taskbench::inspect
