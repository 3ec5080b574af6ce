// Colours and formatting shared by the inspect views. Status colours and durations come
// from the workbench's one definition (statusstyle), so the graph, the table and the
// progress bars always agree.
#include "inspectstyle.h"

#include "statusstyle.h"

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
    case TaskState::Held:
        return NodeStatus::Held;
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
    case NodeStatus::Held:
        return QStringLiteral("held");
    }
    return QStringLiteral("?");
}

QColor nodeStatusColor(NodeStatus status)
{
    switch (status) {
    case NodeStatus::Pending:
        return gui::statusColor(FutureStatus::Pending);
    case NodeStatus::Processing:
        return gui::statusColor(FutureStatus::Processing);
    case NodeStatus::Finished:
        return gui::statusColor(FutureStatus::Finished);
    case NodeStatus::ErrorRoot:
        return gui::statusColor(FutureStatus::Error);
    case NodeStatus::ErrorPropagated: {
        // The error colour washed out towards white: "red because of something else".
        const QColor e = gui::statusColor(FutureStatus::Error);
        auto wash = [](int c) { return c + (255 - c) * 61 / 100; };
        return QColor(wash(e.red()), wash(e.green()), wash(e.blue()));
    }
    case NodeStatus::Cancelled:
        return gui::statusColor(FutureStatus::Cancelled);
    case NodeStatus::Lost:
        return gui::statusColor(FutureStatus::Lost);
    case NodeStatus::Held:
        return gui::statusColor(FutureStatus::Held);
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
    return micros < 0 ? QStringLiteral("—") : gui::formatDuration(micros);
}

QString formatBytes(std::uint64_t bytes)
{
    return gui::formatBytes(bytes);
}

QString formatCount(std::uint64_t n)
{
    QString digits = QString::number(n);
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, QLatin1Char(','));
    return digits;
}

} // namespace taskbench::inspect
