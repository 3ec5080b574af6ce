// The task stream view's painting: lanes with culled and merged executions, colour by
// function or memory, the selection and marked outlines, the legends, the lane gutter and
// the time axis.
#include "taskstreamview.h"

#include "workerlabel.h"

#include "inspectstyle.h"

#include <QPainter>
#include <QScrollBar>

#include <algorithm>
#include <cmath>

namespace taskbench::inspect {

namespace {

const QColor kSelection(0x1f, 0x6f, 0xeb);
const QColor kMark(0xe3, 0x6c, 0x09); ///< related tasks and critical paths: dashed, orange

/// A memory class's colour: light to dark red between the classes shown, grey when unknown.
QColor memoryColor(int memoryClass, int low, int high)
{
    if (memoryClass <= 0)
        return QColor(0xb0, 0xb7, 0xbf);
    const double t = high > low ? double(memoryClass - low) / double(high - low) : 1.0;
    const QColor light(0xfd, 0xd4, 0x9e), dark(0xb3, 0x00, 0x00);
    return QColor::fromRgbF(float(light.redF() + t * (dark.redF() - light.redF())),
                            float(light.greenF() + t * (dark.greenF() - light.greenF())),
                            float(light.blueF() + t * (dark.blueF() - light.blueF())));
}
const QColor kGutter(0xf6, 0xf8, 0xfa);
const QColor kGrid(0xe4, 0xe8, 0xec);
const QColor kText(0x1f, 0x23, 0x28);
const QColor kMuted(0x6a, 0x73, 0x7d);
/// The top strip of an execution whose priority was changed after submit.
const QColor kReprioritisedColor(0x1f, 0x23, 0x28);
constexpr qreal kReprioritisedStrip = 3;

/// A "nice" tick step (1, 2 or 5 times a power of ten µs) at least `minUs` long.
std::int64_t niceStep(double minUs)
{
    double base = std::pow(10.0, std::floor(std::log10(std::max(1.0, minUs))));
    for (;;) {
        for (double m : {1.0, 2.0, 5.0})
            if (base * m >= minUs)
                return std::int64_t(base * m);
        base *= 10;
    }
}

/// "1.5 s", "250 ms", "40 µs", "2 min 10 s": precise enough for the tick step.
QString formatOffset(std::int64_t us, std::int64_t step)
{
    if (us == 0)
        return QStringLiteral("0");
    if (step >= 60'000'000 || us >= 120'000'000) {
        const std::int64_t s = us / 1'000'000;
        if (s >= 60)
            return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    }
    if (step >= 1'000'000)
        return QStringLiteral("%1 s").arg(us / 1'000'000);
    if (step >= 100'000 || us >= 1'000'000) {
        const int decimals = step >= 100'000 ? 1 : step >= 10'000 ? 2 : 3;
        return QStringLiteral("%1 s").arg(double(us) / 1e6, 0, 'f', decimals);
    }
    if (step >= 1000)
        return QStringLiteral("%1 ms").arg(double(us) / 1e3, 0, 'f', step >= 1000 ? 0 : 1);
    if (us >= 1000)
        return QStringLiteral("%1 ms").arg(double(us) / 1e3, 0, 'f', 3);
    return QStringLiteral("%1 µs").arg(us);
}

/// A legend's box, `width` wide, at the bottom right of the plot (drawn; its rect returned).
QRect drawLegendBox(QPainter &p, const QRect &plot, int width, const QFontMetrics &fm)
{
    const QRect box(
        plot.right() - width - 8, plot.bottom() - fm.height() - 14, width, fm.height() + 8);
    p.setPen(QColor(0xd0, 0xd7, 0xde));
    p.setBrush(QColor(255, 255, 255, 235));
    p.drawRoundedRect(box, 4, 4);
    return box;
}

} // namespace

void TaskStreamView::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    const QRect area = viewport()->rect();
    p.fillRect(area, palette().color(QPalette::Base));
    const auto &lanes = m_model.lanes();
    const std::int64_t t0 = m_viewStartUs;
    const std::int64_t t1 = t0 + visibleSpanUs() + std::int64_t(m_usPerPx);
    const int scrollY = verticalScrollBar()->value();
    const int firstLane = std::max(0, scrollY / m_laneHeight);
    const int lastLane
        = std::min(int(lanes.size()) - 1, (scrollY + area.height() - m_axisHeight) / m_laneHeight);
    const QRect plot(
        m_gutterWidth, m_axisHeight, area.width() - m_gutterWidth, area.height() - m_axisHeight);

    p.save();
    p.setClipRect(plot);
    // Lane backgrounds: alternate stripes, a firmer line between workers.
    for (int l = firstLane; l <= lastLane; ++l) {
        const int y = yOfLane(l);
        if (l % 2 == 1)
            p.fillRect(QRect(plot.left(), y, plot.width(), m_laneHeight), QColor(0xf7, 0xf8, 0xfa));
        if (lanes[std::size_t(l)].removed)
            p.fillRect(QRect(plot.left(), y, plot.width(), m_laneHeight),
                       QBrush(QColor(0xd0, 0xd7, 0xde), Qt::BDiagPattern));
    }
    // Vertical grid at the axis ticks.
    const std::int64_t origin = m_model.isEmpty() ? t0 : m_model.firstUs();
    const std::int64_t step = niceStep(90 * m_usPerPx);
    {
        std::int64_t k = (t0 - origin) / step;
        p.setPen(kGrid);
        for (std::int64_t t = origin + k * step; t <= t1; t += step)
            if (t >= t0)
                p.drawLine(QPointF(xOf(t), plot.top()), QPointF(xOf(t), plot.bottom()));
    }

    // Executions: culled by binary search, sub-pixel ones merged, batched per colour.
    // By function (one batch per function) or by memory (one per memory class).
    const bool byMemory = m_byMemory->isChecked();
    const auto functionCount = m_model.catalog().functionCount();
    constexpr std::size_t kMemoryClasses = 64;
    std::vector<std::vector<QRectF>> batches(byMemory ? kMemoryClasses : functionCount + 1);
    int lowClass = int(kMemoryClasses), highClass = 0;
    std::vector<QRectF> failed;
    std::vector<QRectF> interrupted;
    std::vector<QRectF> reprioritised; // a strip along the bar's top
    const qreal barTop = 3;
    const qreal barHeight = m_laneHeight - 6;
    for (int l = firstLane; l <= lastLane; ++l) {
        m_runs.clear();
        m_model.mergedRuns(l, t0, t1, m_usPerPx, m_runs);
        const qreal y = yOfLane(l) + barTop;
        for (const StreamRun &r : m_runs) {
            qreal w = r.x1 - r.x0;
            if (w >= 3)
                w -= 1; // a hairline gap keeps neighbours apart
            if (r.flags & Execution::Failed) {
                // A failure must be seen even when it took no time: at least 3 px, on top.
                const qreal fw = std::max<qreal>(w, 3);
                failed.push_back(QRectF(m_gutterWidth + r.x0 + (w - fw) / 2, y, fw, barHeight));
                continue;
            }
            const QRectF rect(m_gutterWidth + r.x0, y, std::max<qreal>(w, 1.5), barHeight);
            if (byMemory) {
                const int m = std::min<int>(r.memory, int(kMemoryClasses) - 1);
                if (m > 0) {
                    lowClass = std::min(lowClass, m);
                    highClass = std::max(highClass, m);
                }
                batches[std::size_t(m)].push_back(rect);
            } else {
                batches[std::min<std::size_t>(r.function, functionCount)].push_back(rect);
            }
            if (r.flags & Execution::Interrupted)
                interrupted.push_back(rect);
            if (r.flags & Execution::Reprioritised)
                reprioritised.push_back(
                    QRectF(rect.left(), rect.top(), rect.width(), kReprioritisedStrip));
        }
    }
    p.setPen(Qt::NoPen);
    for (std::size_t f = 0; f < batches.size(); ++f) {
        if (batches[f].empty())
            continue;
        p.setBrush(byMemory ? memoryColor(int(f), lowClass, highClass) : colorOf(std::uint32_t(f)));
        p.drawRects(batches[f].data(), int(batches[f].size()));
    }
    if (!interrupted.empty()) {
        p.setBrush(QBrush(QColor(0, 0, 0, 110), Qt::BDiagPattern));
        p.drawRects(interrupted.data(), int(interrupted.size()));
    }
    if (!reprioritised.empty()) {
        p.setBrush(kReprioritisedColor);
        p.drawRects(reprioritised.data(), int(reprioritised.size()));
    }
    if (!failed.empty()) {
        p.setBrush(failedColor());
        p.drawRects(failed.data(), int(failed.size()));
    }

    // Running: bars growing to the present, hatched, with a bright leading edge.
    const std::int64_t present = now();
    for (const RunningExecution &r : m_model.running()) {
        const int l = m_model.laneOf(r.worker, r.thread);
        if (l < firstLane || l > lastLane)
            continue;
        const std::int64_t end = std::max(present, r.startUs);
        if (end < t0 || r.startUs > t1)
            continue;
        const double x0 = xOf(r.startUs);
        const double x1 = std::max(xOf(end), x0 + 2);
        const QRectF rect(x0, yOfLane(l) + barTop, x1 - x0, barHeight);
        const QColor &c = colorOf(r.function);
        p.setPen(Qt::NoPen);
        p.setBrush(c.lighter(135));
        p.drawRect(rect);
        p.setBrush(QBrush(c.darker(120), Qt::BDiagPattern));
        p.drawRect(rect);
        p.fillRect(QRectF(rect.right() - 2, rect.top(), 2, rect.height()), c.darker(150));
        if (m_selected.count(r.task)) {
            p.setPen(QPen(kSelection, 2));
            p.setBrush(Qt::NoBrush);
            p.drawRect(rect.adjusted(-1, -1, 1, 1));
        }
    }

    // Marks (related tasks, a critical path), then selection and hover outlines.
    refreshSelectionCache();
    p.setBrush(Qt::NoBrush);
    const auto outline
        = [&](const std::vector<std::pair<int, std::size_t>> &executions, const QPen &pen) {
              p.setPen(pen);
              for (const auto &[l, i] : executions) {
                  if (l < firstLane || l > lastLane)
                      continue;
                  const Execution &x = lanes[std::size_t(l)].executions[i];
                  if (x.end < t0 || x.start > t1)
                      continue;
                  const double x0 = xOf(x.start);
                  const double w = std::max(3.0, xOf(x.end) - x0);
                  p.drawRect(QRectF(x0 - 1, yOfLane(l) + barTop - 1, w + 1, barHeight + 2));
              }
          };
    outline(m_markedExecutions, QPen(kMark, 2, Qt::DashLine));
    outline(m_selectedExecutions, QPen(kSelection, 2));
    if (m_hover.lane >= firstLane && m_hover.lane <= lastLane && m_hover.task != 0) {
        p.setPen(QPen(QColor(0x1f, 0x23, 0x28), 1));
        const double x0 = xOf(m_hover.start);
        const double w = std::max(2.0, xOf(m_hover.running ? present : m_hover.end) - x0);
        p.drawRect(QRectF(x0 - 0.5, yOfLane(m_hover.lane) + barTop - 0.5, w, barHeight + 1));
    }
    // The present, while work runs.
    if (m_model.runningCount() > 0 && present >= t0 && present <= t1) {
        p.setPen(QPen(QColor(0x2f, 0x80, 0xed, 160), 1, Qt::DashLine));
        p.drawLine(QPointF(xOf(present), plot.top()), QPointF(xOf(present), plot.bottom()));
    }
    p.restore();

    if (m_model.isEmpty()) {
        p.setPen(kMuted);
        p.drawText(plot,
                   Qt::AlignCenter,
                   lanes.empty() ? tr("No tasks have run yet")
                                 : tr("No executions yet: tasks appear here as they run"));
    }
    if (byMemory)
        paintMemoryLegend(p, plot, lowClass, highClass);
    else
        paintFunctionLegend(p, plot);
    paintGutter(p, firstLane, lastLane);
    paintAxis(p, t0, t1);
}

void TaskStreamView::setColorByMemory(bool on)
{
    m_byMemory->setChecked(on);
    viewport()->update();
}

bool TaskStreamView::colorsByMemory() const
{
    return m_byMemory->isChecked();
}

void TaskStreamView::paintMemoryLegend(QPainter &p, const QRect &plot, int lowClass, int highClass)
{
    QFont f = font();
    f.setPointSizeF(8);
    p.setFont(f);
    const QFontMetrics fm(f);
    const QString text
        = highClass == 0
              ? tr("memory unknown (thread workers)")
              : tr("peak memory %1 … %2")
                    .arg(formatBytes(std::uint64_t(memoryClassBytes(std::uint8_t(lowClass)))),
                         formatBytes(std::uint64_t(2 * memoryClassBytes(std::uint8_t(highClass)))));
    const int swatches = highClass == 0 ? 1 : 5;
    const int width = 8 + swatches * 12 + 6 + fm.horizontalAdvance(text) + 8;
    const QRect box = drawLegendBox(p, plot, width, fm);
    int x = box.left() + 8;
    const int y = box.top() + (box.height() - 10) / 2;
    p.setPen(Qt::NoPen);
    for (int i = 0; i < swatches; ++i, x += 12) {
        const int m = highClass == 0 ? 0 : lowClass + (highClass - lowClass) * i / 4;
        p.setBrush(memoryColor(m, lowClass, highClass));
        p.drawRect(QRect(x, y, 10, 10));
    }
    p.setPen(kMuted);
    p.drawText(QRect(x + 6, box.top(), width, box.height()), Qt::AlignVCenter, text);
}

void TaskStreamView::paintFunctionLegend(QPainter &p, const QRect &plot)
{
    // Which colour is which function: the most frequent ones, bottom right.
    const auto &counts = m_model.executionsPerFunction();
    std::vector<std::pair<std::uint32_t, std::uint32_t>> functions; // (count, function)
    for (std::size_t f = 0; f < counts.size(); ++f)
        if (counts[f] > 0)
            functions.emplace_back(counts[f], std::uint32_t(f));
    for (const RunningExecution &r : m_model.running())
        if (r.function >= counts.size() || counts[r.function] == 0)
            if (std::none_of(functions.begin(), functions.end(), [&](const auto &x) {
                    return x.second == r.function;
                }))
                functions.emplace_back(0, r.function);
    if (functions.empty())
        return;
    std::sort(functions.begin(), functions.end(), std::greater<>());
    QFont f = font();
    f.setPointSizeF(8);
    p.setFont(f);
    const QFontMetrics fm(f);
    QStringList names;
    int width = 8;
    std::size_t shown = 0;
    for (; shown < functions.size() && shown < 8; ++shown) {
        const QString name
            = shortFunctionName(m_model.catalog().functionName(functions[shown].second));
        const int w = 14 + fm.horizontalAdvance(name) + 12;
        if (width + w > plot.width() - 20)
            break;
        names << name;
        width += w;
    }
    if (shown < functions.size()) {
        names << tr("+%1 more").arg(functions.size() - shown);
        width += fm.horizontalAdvance(names.back()) + 8;
    }
    const QString steered = tr("priority changed");
    const bool showSteered = m_model.hasReprioritised();
    if (showSteered)
        width += 14 + fm.horizontalAdvance(steered) + 12;
    const QRect box = drawLegendBox(p, plot, width, fm);
    int x = box.left() + 8;
    for (qsizetype i = 0; i < names.size(); ++i) {
        if (std::size_t(i) < shown) {
            p.setPen(Qt::NoPen);
            p.setBrush(colorOf(functions[std::size_t(i)].second));
            p.drawRect(QRect(x, box.center().y() - 4, 9, 9));
            x += 14;
        }
        p.setPen(kText);
        p.drawText(
            QRect(x, box.top(), 1000, box.height()), Qt::AlignLeft | Qt::AlignVCenter, names[i]);
        x += fm.horizontalAdvance(names[i]) + 12;
    }
    if (showSteered) {
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(0x9a, 0xa4, 0xb0));
        p.drawRect(QRect(x, box.center().y() - 4, 9, 9));
        p.setBrush(kReprioritisedColor);
        p.drawRect(QRect(x, box.center().y() - 4, 9, int(kReprioritisedStrip)));
        x += 14;
        p.setPen(kText);
        p.drawText(
            QRect(x, box.top(), 1000, box.height()), Qt::AlignLeft | Qt::AlignVCenter, steered);
    }
}

void TaskStreamView::paintGutter(QPainter &p, int firstLane, int lastLane)
{
    const QRect area = viewport()->rect();
    const QRect gutter(0, m_axisHeight, m_gutterWidth, area.height() - m_axisHeight);
    p.save();
    p.setClipRect(gutter);
    p.fillRect(gutter, kGutter);
    const auto &lanes = m_model.lanes();
    QFont normal = font();
    normal.setPointSizeF(8.5);
    QFont bold = normal;
    bold.setBold(true);
    for (int l = firstLane; l <= lastLane; ++l) {
        const Lane &lane = lanes[std::size_t(l)];
        const int y = yOfLane(l);
        const bool firstOfWorker = l == 0 || lanes[std::size_t(l - 1)].worker != lane.worker;
        if (firstOfWorker && l > 0) {
            p.setPen(QColor(0xc4, 0xcb, 0xd3));
            p.drawLine(0, y, area.width(), y);
        }
        p.setPen(lane.removed ? kMuted : kText);
        if (firstOfWorker) {
            p.setFont(bold);
            p.drawText(QRect(8, y, m_gutterWidth - 44, m_laneHeight),
                       Qt::AlignLeft | Qt::AlignVCenter,
                       lane.removed ? tr("%1 ✕").arg(gui::workerLabel(lane.worker))
                                    : gui::workerLabel(lane.worker));
        }
        p.setFont(normal);
        p.setPen(kMuted);
        p.drawText(QRect(8, y, m_gutterWidth - 14, m_laneHeight),
                   Qt::AlignRight | Qt::AlignVCenter,
                   tr("thread %1").arg(lane.thread));
    }
    p.restore();
    p.setPen(QColor(0xd0, 0xd7, 0xde));
    p.drawLine(m_gutterWidth - 1, m_axisHeight, m_gutterWidth - 1, area.height());
}

void TaskStreamView::paintAxis(QPainter &p, std::int64_t t0, std::int64_t t1)
{
    const QRect area = viewport()->rect();
    const QRect axis(0, 0, area.width(), m_axisHeight);
    p.fillRect(axis, kGutter);
    p.setPen(QColor(0xd0, 0xd7, 0xde));
    p.drawLine(0, m_axisHeight - 1, area.width(), m_axisHeight - 1);
    QFont f = font();
    f.setPointSizeF(8);
    p.setFont(f);
    // Left corner: what the numbers mean.
    p.setPen(kMuted);
    p.drawText(QRect(8, 0, m_gutterWidth - 12, m_axisHeight),
               Qt::AlignLeft | Qt::AlignVCenter,
               m_model.isEmpty() ? tr("time") : tr("time since start"));
    if (m_model.isEmpty())
        return;
    const std::int64_t origin = m_model.firstUs();
    const std::int64_t step = niceStep(90 * m_usPerPx);
    p.save();
    p.setClipRect(QRect(m_gutterWidth, 0, area.width() - m_gutterWidth, m_axisHeight));
    std::int64_t k = (t0 - origin) / step - 1;
    for (std::int64_t t = origin + k * step; t <= t1; t += step) {
        const double x = xOf(t);
        p.setPen(QColor(0xa0, 0xa8, 0xb0));
        p.drawLine(QPointF(x, m_axisHeight - 6), QPointF(x, m_axisHeight - 1));
        if (t < origin)
            continue;
        p.setPen(kText);
        p.drawText(QRectF(x + 3, 0, 120, m_axisHeight - 3),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   formatOffset(t - origin, step));
    }
    p.restore();
    // Right corner: live or paused, and how many executions.
    const QString state = m_following && m_model.runningCount() > 0
                              ? tr("● live")
                              : (m_following ? tr("idle") : tr("paused · End follows"));
    const auto executions = m_model.executionCount();
    const QString text
        = tr("%1 execution(s) · %2", nullptr, int(executions)).arg(formatCount(executions), state);
    const QFontMetrics fm(f);
    const int w = fm.horizontalAdvance(text) + 16;
    const QRect badge(area.width() - w - 4, 3, w, m_axisHeight - 7);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(255, 255, 255, 230));
    p.drawRoundedRect(badge, 4, 4);
    p.setPen(m_following && m_model.runningCount() > 0 ? QColor(0x1a, 0x7f, 0x37) : kMuted);
    p.drawText(badge, Qt::AlignCenter, text);
}

} // namespace taskbench::inspect
