// The task stream view: time axis state, follow mode, painting with culling and merging,
// hit testing, selection and keyboard/mouse navigation.
#include "taskstreamview.h"

#include "inspectstyle.h"

#include <QAction>
#include <QContextMenuEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <chrono>
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
constexpr double kMinUsPerPx = 0.05;        // 20 px per µs: plenty
constexpr double kMaxUsPerPx = 3.6e9 / 200; // an hour in 200 px

std::int64_t wallClockUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

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

} // namespace

TaskStreamView::TaskStreamView(QWidget *parent)
    : QAbstractScrollArea(parent)
{
    setAccessibleName(QStringLiteral("Task stream"));
    setAccessibleDescription(QStringLiteral(
        "Timeline of task executions, one lane per worker thread. Wheel or +/- zooms, drag or "
        "left/right pans, Home shows all, End follows live, ctrl+arrows step between tasks."));
    viewport()->setAccessibleName(QStringLiteral("Task stream timeline"));
    viewport()->setMouseTracking(true);
    viewport()->setAttribute(Qt::WA_OpaquePaintEvent);
    setFocusPolicy(Qt::StrongFocus);
    setFrameShape(QFrame::NoFrame);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    horizontalScrollBar()->setAccessibleName(QStringLiteral("Task stream time scroll bar"));
    verticalScrollBar()->setAccessibleName(QStringLiteral("Task stream lanes scroll bar"));

    auto makeAction = [this](const QString &text, const QList<QKeySequence> &keys, auto slot) {
        auto *a = new QAction(text, this);
        a->setShortcuts(keys);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        if (!keys.isEmpty())
            a->setToolTip(QStringLiteral("%1 (%2)").arg(text, keys.front().toString()));
        return a;
    };
    auto selectionIds = [this] {
        QList<quint64> ids = m_selectedOrder;
        return ids;
    };
    m_showResult = makeAction(
        tr("Show result"), {QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter)}, [this] {
            if (!m_selectedOrder.isEmpty())
                emit showResultRequested(m_selectedOrder.front());
        });
    m_retry = makeAction(tr("Retry"), {QKeySequence(Qt::Key_R)}, [this, selectionIds] {
        if (!m_selectedOrder.isEmpty())
            emit retryRequested(selectionIds());
    });
    m_cancel = makeAction(tr("Cancel"), {QKeySequence(Qt::Key_C)}, [this, selectionIds] {
        if (!m_selectedOrder.isEmpty())
            emit cancelRequested(selectionIds());
    });
    m_release = makeAction(tr("Release"), {QKeySequence(Qt::Key_Delete)}, [this, selectionIds] {
        if (!m_selectedOrder.isEmpty())
            emit releaseRequested(selectionIds());
    });
    m_zoomIn = makeAction(tr("Zoom in"),
                          {QKeySequence(Qt::Key_Plus),
                           QKeySequence(Qt::Key_Equal),
                           QKeySequence(QKeySequence::ZoomIn)},
                          &TaskStreamView::zoomIn);
    m_zoomOut = makeAction(tr("Zoom out"),
                           {QKeySequence(Qt::Key_Minus), QKeySequence(QKeySequence::ZoomOut)},
                           &TaskStreamView::zoomOut);
    m_showAll = makeAction(tr("Show all"),
                           {QKeySequence(Qt::Key_Home), QKeySequence(Qt::Key_F)},
                           &TaskStreamView::showAll);
    m_follow = makeAction(tr("Follow live"),
                          {QKeySequence(Qt::Key_End), QKeySequence(Qt::Key_L)},
                          &TaskStreamView::followLive);
    m_follow->setCheckable(true);
    m_follow->setChecked(true);
    m_byMemory = makeAction(
        tr("Colour by memory"), {QKeySequence(Qt::Key_M)}, [this] { viewport()->update(); });
    m_byMemory->setCheckable(true);
    m_byMemory->setStatusTip(tr("Colour each execution by its peak memory (process workers)"));

    m_ticker.setInterval(33);
    connect(&m_ticker, &QTimer::timeout, this, [this] {
        applyFollow();
        updateScrollBars();
        viewport()->update();
        updateTicker();
    });
    updateScrollBars();
}

void TaskStreamView::setClock(std::function<std::int64_t()> nowUs)
{
    m_now = std::move(nowUs);
}

std::int64_t TaskStreamView::now() const
{
    return m_now ? m_now() : wallClockUs();
}

std::int64_t TaskStreamView::dataEndUs() const
{
    return m_model.runningCount() > 0 ? std::max(now(), m_model.lastUs()) : m_model.lastUs();
}

double TaskStreamView::plotWidth() const
{
    return std::max(50, viewport()->width() - m_gutterWidth);
}

std::int64_t TaskStreamView::visibleSpanUs() const
{
    return std::int64_t(plotWidth() * m_usPerPx);
}

double TaskStreamView::xOf(std::int64_t us) const
{
    return m_gutterWidth + double(us - m_viewStartUs) / m_usPerPx;
}

std::int64_t TaskStreamView::timeAt(double x) const
{
    return m_viewStartUs + std::int64_t((x - m_gutterWidth) * m_usPerPx);
}

int TaskStreamView::yOfLane(int lane) const
{
    return m_axisHeight + lane * m_laneHeight - verticalScrollBar()->value();
}

int TaskStreamView::laneAt(int y) const
{
    if (y < m_axisHeight)
        return -1;
    const int lane = (y - m_axisHeight + verticalScrollBar()->value()) / m_laneHeight;
    return lane < int(m_model.lanes().size()) ? lane : -1;
}

void TaskStreamView::applyEvents(const Event *begin, const Event *end)
{
    if (begin == end)
        return;
    const std::uint64_t before = m_model.version();
    m_model.applyEvents(begin, end);
    if (m_model.version() == before)
        return;
    applyFollow();
    updateScrollBars();
    viewport()->update();
    updateTicker();
}

void TaskStreamView::clear()
{
    m_model.clear();
    m_selected.clear();
    m_selectedOrder.clear();
    m_selectedExecutions.clear();
    m_markedOrder.clear();
    m_markedExecutions.clear();
    m_selectionCacheVersion = ~std::uint64_t(0);
    m_current = Hit();
    m_hover = Hit();
    m_following = true;
    m_autoZoom = true;
    m_follow->setChecked(true);
    m_functionColors.clear();
    updateScrollBars();
    viewport()->update();
    updateTicker();
}

void TaskStreamView::updateTicker()
{
    const bool animate = isVisible() && m_model.runningCount() > 0;
    if (animate && !m_ticker.isActive())
        m_ticker.start();
    else if (!animate && m_ticker.isActive())
        m_ticker.stop();
}

void TaskStreamView::showEvent(QShowEvent *event)
{
    QAbstractScrollArea::showEvent(event);
    applyFollow();
    updateScrollBars();
    updateTicker();
}

void TaskStreamView::hideEvent(QHideEvent *event)
{
    QAbstractScrollArea::hideEvent(event);
    updateTicker();
}

void TaskStreamView::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    applyFollow();
    updateScrollBars();
}

// --- time axis state --------------------------------------------------------------------

void TaskStreamView::setFollowing(bool on)
{
    m_following = on;
    m_follow->setChecked(on);
    applyFollow();
    updateScrollBars();
    viewport()->update();
}

void TaskStreamView::followLive()
{
    setFollowing(true);
}

void TaskStreamView::applyFollow()
{
    if (!m_following || m_model.isEmpty())
        return;
    const std::int64_t first = m_model.firstUs();
    const std::int64_t end = dataEndUs();
    if (m_autoZoom) {
        // Everything in view while the run is short; past a minute, a sliding minute.
        const double span = std::clamp(double(end - first) * 1.08, 1e6, 60e6);
        m_usPerPx = std::clamp(span / plotWidth(), kMinUsPerPx, kMaxUsPerPx);
    }
    const auto span = visibleSpanUs();
    if (end - first <= span * 95 / 100)
        m_viewStartUs = first - span / 50;
    else
        m_viewStartUs = end - span * 95 / 100;
}

void TaskStreamView::setVisibleWindow(std::int64_t startUs, std::int64_t spanUs)
{
    m_following = false;
    m_autoZoom = false;
    m_follow->setChecked(false);
    m_usPerPx = std::clamp(
        double(std::max<std::int64_t>(1, spanUs)) / plotWidth(), kMinUsPerPx, kMaxUsPerPx);
    m_viewStartUs = startUs;
    updateScrollBars();
    viewport()->update();
}

void TaskStreamView::zoomAround(double factor, double x)
{
    const std::int64_t anchor = timeAt(x);
    m_usPerPx = std::clamp(m_usPerPx / factor, kMinUsPerPx, kMaxUsPerPx);
    m_viewStartUs = anchor - std::int64_t((x - m_gutterWidth) * m_usPerPx);
    m_autoZoom = false;
    // Zooming keeps live mode only when anchored at the present (the right edge).
    if (m_following && x < viewport()->width() - 40) {
        m_following = false;
        m_follow->setChecked(false);
    }
    applyFollow();
    updateScrollBars();
    viewport()->update();
}

void TaskStreamView::zoomIn()
{
    zoomAround(1.5, m_following ? viewport()->width() : m_gutterWidth + plotWidth() / 2);
}

void TaskStreamView::zoomOut()
{
    zoomAround(1 / 1.5, m_following ? viewport()->width() : m_gutterWidth + plotWidth() / 2);
}

void TaskStreamView::panBy(double pixels)
{
    m_viewStartUs += std::int64_t(pixels * m_usPerPx);
    m_following = false;
    m_follow->setChecked(false);
    updateScrollBars();
    viewport()->update();
}

void TaskStreamView::showAll()
{
    if (m_model.isEmpty())
        return;
    const std::int64_t first = m_model.firstUs();
    const std::int64_t end = std::max(dataEndUs(), first + 1000);
    const double span = double(end - first) * 1.04;
    setVisibleWindow(first - std::int64_t(span * 0.02), std::int64_t(span));
}

void TaskStreamView::updateScrollBars()
{
    m_updatingScrollBars = true;
    const auto span = visibleSpanUs();
    const std::int64_t first = m_model.isEmpty() ? m_viewStartUs : m_model.firstUs();
    const std::int64_t origin = std::min(first - span / 50, m_viewStartUs);
    const std::int64_t end
        = std::max(m_model.isEmpty() ? 0 : dataEndUs() + span / 50, m_viewStartUs + span);
    // Scroll bar units of 1/100 of the visible span: an int holds hours at any zoom.
    m_scrollUnitUs = std::max(1.0, double(span) / 100.0);
    m_scrollOriginUs = origin;
    QScrollBar *h = horizontalScrollBar();
    h->setRange(0, int(std::min<double>(double(end - origin - span) / m_scrollUnitUs, 2e9)));
    h->setPageStep(100);
    h->setSingleStep(10);
    h->setValue(int(double(m_viewStartUs - origin) / m_scrollUnitUs));
    QScrollBar *v = verticalScrollBar();
    const int lanesHeight = int(m_model.lanes().size()) * m_laneHeight;
    v->setRange(0, std::max(0, lanesHeight - (viewport()->height() - m_axisHeight)));
    v->setPageStep(std::max(m_laneHeight, viewport()->height() - m_axisHeight));
    v->setSingleStep(m_laneHeight);
    m_updatingScrollBars = false;
}

void TaskStreamView::scrollContentsBy(int dx, int dy)
{
    if (m_updatingScrollBars)
        return;
    if (dx != 0) {
        QScrollBar *h = horizontalScrollBar();
        m_viewStartUs = m_scrollOriginUs + std::int64_t(h->value() * m_scrollUnitUs);
        // Dragged to the very end: back to live.
        m_following = h->value() >= h->maximum() && m_model.runningCount() > 0;
        m_follow->setChecked(m_following);
    }
    viewport()->update();
}

// --- painting ---------------------------------------------------------------------------

const QColor &TaskStreamView::colorOf(std::uint32_t function)
{
    while (m_functionColors.size() <= function) {
        const auto f = std::uint32_t(m_functionColors.size());
        m_functionColors.push_back(
            f < m_model.catalog().functionCount()
                ? functionColor(shortFunctionName(m_model.catalog().functionName(f)).toStdString())
                : QColor(Qt::gray));
    }
    return m_functionColors[function];
}

void TaskStreamView::refreshSelectionCache()
{
    if (m_selectionCacheVersion == m_model.version())
        return;
    m_selectionCacheVersion = m_model.version();
    const auto collect = [this](const QList<quint64> &ids,
                                int limit,
                                std::vector<std::pair<int, std::size_t>> &out) {
        out.clear();
        int n = 0;
        for (quint64 id : ids) {
            if (++n > limit) // outlines for a huge set would only cost time
                break;
            const auto found = m_model.executionsOf(id);
            out.insert(out.end(), found.begin(), found.end());
        }
    };
    collect(m_selectedOrder, 64, m_selectedExecutions);
    collect(m_markedOrder, 2000, m_markedExecutions);
}

void TaskStreamView::setMarkedTasks(const QList<quint64> &ids)
{
    m_markedOrder = ids;
    m_selectionCacheVersion = ~std::uint64_t(0);
    viewport()->update();
}

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
    const QRect box(
        plot.right() - width - 8, plot.bottom() - fm.height() - 14, width, fm.height() + 8);
    p.setPen(QColor(0xd0, 0xd7, 0xde));
    p.setBrush(QColor(255, 255, 255, 235));
    p.drawRoundedRect(box, 4, 4);
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
    const QRect box(
        plot.right() - width - 8, plot.bottom() - fm.height() - 14, width, fm.height() + 8);
    p.setPen(QColor(0xd0, 0xd7, 0xde));
    p.setBrush(QColor(255, 255, 255, 235));
    p.drawRoundedRect(box, 4, 4);
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
                       lane.removed ? tr("worker %1 ✕").arg(lane.worker)
                                    : tr("worker %1").arg(lane.worker));
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
    const QString text = tr("%1 executions · %2").arg(formatCount(m_model.executionCount()), state);
    const QFontMetrics fm(f);
    const int w = fm.horizontalAdvance(text) + 16;
    const QRect badge(area.width() - w - 4, 3, w, m_axisHeight - 7);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(255, 255, 255, 230));
    p.drawRoundedRect(badge, 4, 4);
    p.setPen(m_following && m_model.runningCount() > 0 ? QColor(0x1a, 0x7f, 0x37) : kMuted);
    p.drawText(badge, Qt::AlignCenter, text);
}

// --- hit testing and selection ----------------------------------------------------------

TaskStreamView::Hit TaskStreamView::hitAt(const QPoint &pos) const
{
    Hit hit;
    if (pos.x() < m_gutterWidth)
        return hit;
    const int lane = laneAt(pos.y());
    if (lane < 0)
        return hit;
    const std::int64_t t = timeAt(pos.x());
    const auto tolerance = std::int64_t(3 * m_usPerPx);
    const std::int64_t present = now();
    for (const RunningExecution &r : m_model.running()) {
        if (m_model.laneOf(r.worker, r.thread) != lane)
            continue;
        if (t >= r.startUs - tolerance && t <= std::max(present, r.startUs) + tolerance) {
            hit.task = r.task;
            hit.lane = lane;
            hit.start = r.startUs;
            hit.end = present;
            hit.function = r.function;
            hit.attempt = r.attempt;
            hit.running = true;
            return hit;
        }
    }
    if (const Execution *x = m_model.executionAt(lane, t, tolerance)) {
        hit.task = x->task;
        hit.lane = lane;
        hit.start = x->start;
        hit.end = x->end;
        hit.function = x->function;
        hit.attempt = x->attempt;
        hit.flags = x->flags;
        hit.memory = x->memory;
    }
    return hit;
}

QString TaskStreamView::toolTipFor(const Hit &hit) const
{
    const TaskCatalog &cat = m_model.catalog();
    const std::uint32_t slot = cat.slotOf(hit.task);
    const std::string_view key = slot != TaskCatalog::npos ? cat.key(slot) : std::string_view();
    QString status = tr("finished");
    if (hit.running)
        status = tr("running");
    else if (hit.flags & Execution::Failed)
        status = tr("failed");
    else if (hit.flags & Execution::Interrupted)
        status = tr("interrupted");
    const Lane &lane = m_model.lanes()[std::size_t(hit.lane)];
    QString text = QStringLiteral("<b>%1</b><br>%2 — %3, %4")
                       .arg(QString::fromUtf8(key.data(), qsizetype(key.size())).toHtmlEscaped(),
                            QString::fromStdString(cat.functionName(hit.function)).toHtmlEscaped(),
                            formatDuration((hit.running ? now() : hit.end) - hit.start),
                            status);
    text += tr("<br>worker %1, thread %2 · attempt %3 · started at +%4")
                .arg(lane.worker)
                .arg(lane.thread)
                .arg(hit.attempt)
                .arg(formatDuration(hit.start - m_model.firstUs()));
    if (hit.running)
        text += tr("<br><i>start estimated from the assignment</i>");
    else if (hit.memory > 0)
        text += tr("<br>peak memory %1 … %2")
                    .arg(formatBytes(std::uint64_t(memoryClassBytes(hit.memory))),
                         formatBytes(std::uint64_t(2 * memoryClassBytes(hit.memory))));
    return text;
}

void TaskStreamView::select(const Hit &hit)
{
    m_current = hit;
    m_selected.clear();
    m_selectedOrder.clear();
    if (hit.task != 0) {
        m_selected.insert(hit.task);
        m_selectedOrder << hit.task;
    }
    m_selectionCacheVersion = ~std::uint64_t(0);
    viewport()->update();
    if (hit.task != 0)
        emit taskSelected(hit.task);
}

QList<quint64> TaskStreamView::selectedTasks() const
{
    return m_selectedOrder;
}

void TaskStreamView::selectTasks(const QList<quint64> &ids)
{
    m_selected.clear();
    m_selectedOrder.clear();
    for (quint64 id : ids)
        if (m_selected.insert(id).second)
            m_selectedOrder << id;
    m_selectionCacheVersion = ~std::uint64_t(0);
    m_current = Hit();
    if (!m_selectedOrder.isEmpty()) {
        // Bring the latest attempt of the first task into view (running beats finished).
        const quint64 first = m_selectedOrder.front();
        int lane = -1;
        std::int64_t start = 0;
        std::int64_t end = 0;
        for (const RunningExecution &r : m_model.running())
            if (r.task == first) {
                lane = m_model.laneOf(r.worker, r.thread);
                start = r.startUs;
                end = std::max(now(), r.startUs);
            }
        if (lane < 0) {
            for (const auto &[l, i] : m_model.executionsOf(first)) {
                const Execution &x = m_model.lanes()[std::size_t(l)].executions[i];
                if (lane < 0 || x.start >= start) {
                    lane = l;
                    start = x.start;
                    end = x.end;
                    m_current
                        = Hit{x.task, l, x.start, x.end, x.function, x.attempt, x.flags, false};
                }
            }
        }
        if (lane >= 0) {
            const auto span = visibleSpanUs();
            if (start < m_viewStartUs || end > m_viewStartUs + span) {
                m_following = false;
                m_follow->setChecked(false);
                if (end - start > span * 8 / 10) // longer than the window: zoom out to fit
                    m_usPerPx = std::clamp(
                        double(end - start) * 1.25 / plotWidth(), kMinUsPerPx, kMaxUsPerPx);
                m_viewStartUs = (start + end) / 2 - visibleSpanUs() / 2;
            }
            const int y = lane * m_laneHeight;
            QScrollBar *v = verticalScrollBar();
            const int visibleHeight = viewport()->height() - m_axisHeight;
            if (y < v->value() || y + m_laneHeight > v->value() + visibleHeight)
                v->setValue(y - visibleHeight / 2);
            updateScrollBars();
        }
    }
    viewport()->update();
}

void TaskStreamView::selectNeighbour(int dLane, int dIndex)
{
    const auto &lanes = m_model.lanes();
    if (lanes.empty())
        return;
    int lane = m_current.task != 0 ? m_current.lane : -1;
    std::int64_t anchor = m_current.task != 0 ? (m_current.start + m_current.end) / 2
                                              : m_viewStartUs + visibleSpanUs() / 2;
    if (lane < 0) {
        // Nothing selected: the first lane with executions, at the middle of the window.
        for (std::size_t l = 0; l < lanes.size() && lane < 0; ++l)
            if (!lanes[l].executions.empty())
                lane = int(l);
        if (lane < 0)
            return;
        dLane = 0;
        dIndex = 0;
    }
    lane = std::clamp(lane + dLane, 0, int(lanes.size()) - 1);
    const auto &v = lanes[std::size_t(lane)].executions;
    if (v.empty())
        return;
    // The execution nearest the anchor time, then step sideways.
    auto it = std::lower_bound(
        v.begin(), v.end(), anchor, [](const Execution &x, std::int64_t t) { return x.start < t; });
    std::size_t i = std::size_t(it - v.begin());
    if (i == v.size() || (i > 0 && anchor - v[i - 1].end < v[i].start - anchor))
        i = i > 0 ? i - 1 : 0;
    if (dLane == 0 && m_current.task != 0) {
        // Find the current one exactly, then move.
        for (std::size_t k = i > 2 ? i - 2 : 0; k < std::min(v.size(), i + 3); ++k)
            if (v[k].task == m_current.task && v[k].start == m_current.start)
                i = k;
        i = std::size_t(std::clamp<long long>((long long)i + dIndex, 0, (long long)v.size() - 1));
    }
    const Execution &x = v[i];
    select(Hit{x.task, lane, x.start, x.end, x.function, x.attempt, x.flags, false});
    // Keep it in view.
    const auto span = visibleSpanUs();
    if (x.start < m_viewStartUs || x.end > m_viewStartUs + span) {
        m_following = false;
        m_follow->setChecked(false);
        m_viewStartUs = (x.start + x.end) / 2 - span / 2;
    }
    const int y = lane * m_laneHeight;
    QScrollBar *vb = verticalScrollBar();
    const int visibleHeight = viewport()->height() - m_axisHeight;
    if (y < vb->value())
        vb->setValue(y);
    else if (y + m_laneHeight > vb->value() + visibleHeight)
        vb->setValue(y + m_laneHeight - visibleHeight);
    updateScrollBars();
    viewport()->update();
}

// --- input ------------------------------------------------------------------------------

void TaskStreamView::wheelEvent(QWheelEvent *event)
{
    const QPoint angle = event->angleDelta();
    const Qt::KeyboardModifiers mods = event->modifiers();
    if (mods & Qt::ControlModifier) {
        // Ctrl+wheel scrolls the lanes.
        verticalScrollBar()->setValue(verticalScrollBar()->value() - angle.y() / 4);
    } else if ((mods & Qt::ShiftModifier) || angle.x() != 0) {
        const int delta = angle.x() != 0 ? angle.x() : angle.y();
        panBy(-delta / 120.0 * plotWidth() / 10);
    } else if (angle.y() != 0) {
        zoomAround(std::pow(1.0015, angle.y()), event->position().x());
    }
    event->accept();
}

void TaskStreamView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        m_pressed = true;
        m_dragging = false;
        m_pressPos = event->pos();
        m_pressViewStart = m_viewStartUs;
        m_pressScrollY = verticalScrollBar()->value();
        setFocus(Qt::MouseFocusReason);
    }
    event->accept();
}

void TaskStreamView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_pressed && (event->buttons() & Qt::LeftButton)) {
        const QPoint d = event->pos() - m_pressPos;
        if (!m_dragging && d.manhattanLength() > 4)
            m_dragging = true;
        if (m_dragging) {
            viewport()->setCursor(Qt::ClosedHandCursor);
            m_viewStartUs = m_pressViewStart - std::int64_t(d.x() * m_usPerPx);
            verticalScrollBar()->setValue(m_pressScrollY - d.y());
            m_following = false;
            m_follow->setChecked(false);
            updateScrollBars();
            viewport()->update();
        }
        return;
    }
    const Hit hit = hitAt(event->pos());
    if (hit.task != m_hover.task || hit.start != m_hover.start) {
        m_hover = hit;
        viewport()->update();
    }
}

void TaskStreamView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && m_pressed) {
        m_pressed = false;
        viewport()->unsetCursor();
        if (!m_dragging) {
            const Hit hit = hitAt(event->pos());
            select(hit);
        }
        m_dragging = false;
    }
    event->accept();
}

void TaskStreamView::mouseDoubleClickEvent(QMouseEvent *event)
{
    const Hit hit = hitAt(event->pos());
    if (hit.task != 0)
        emit showResultRequested(hit.task);
    event->accept();
}

void TaskStreamView::keyPressEvent(QKeyEvent *event)
{
    const bool ctrl = event->modifiers() & Qt::ControlModifier;
    switch (event->key()) {
    case Qt::Key_Left:
        if (ctrl)
            selectNeighbour(0, -1);
        else
            panBy(-plotWidth() / 8);
        break;
    case Qt::Key_Right:
        if (ctrl)
            selectNeighbour(0, 1);
        else
            panBy(plotWidth() / 8);
        break;
    case Qt::Key_Up:
        if (ctrl)
            selectNeighbour(-1, 0);
        else
            verticalScrollBar()->setValue(verticalScrollBar()->value() - m_laneHeight);
        break;
    case Qt::Key_Down:
        if (ctrl)
            selectNeighbour(1, 0);
        else
            verticalScrollBar()->setValue(verticalScrollBar()->value() + m_laneHeight);
        break;
    case Qt::Key_PageUp:
        verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepSub);
        break;
    case Qt::Key_PageDown:
        verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepAdd);
        break;
    default:
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    event->accept();
}

void TaskStreamView::contextMenuEvent(QContextMenuEvent *event)
{
    if (event->reason() == QContextMenuEvent::Mouse) {
        const Hit hit = hitAt(viewport()->mapFrom(this, event->pos()));
        if (hit.task != 0 && !m_selected.count(hit.task))
            select(hit);
    }
    const bool has = !m_selectedOrder.isEmpty();
    for (QAction *a : {m_showResult, m_retry, m_cancel, m_release})
        a->setEnabled(has);
    QMenu menu(this);
    menu.setAccessibleName(tr("Task stream menu"));
    if (has) {
        menu.addAction(m_showResult);
        menu.addAction(m_retry);
        menu.addAction(m_cancel);
        menu.addAction(m_release);
        menu.addSeparator();
    }
    menu.addAction(m_zoomIn);
    menu.addAction(m_zoomOut);
    menu.addAction(m_showAll);
    menu.addAction(m_follow);
    menu.addSeparator();
    menu.addAction(m_byMemory);
    menu.exec(event->globalPos());
    event->accept();
}

bool TaskStreamView::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const Hit hit = hitAt(help->pos());
        if (hit.task != 0)
            QToolTip::showText(help->globalPos(), toolTipFor(hit), viewport());
        else
            QToolTip::hideText();
        return true;
    }
    if (event->type() == QEvent::Leave && m_hover.task != 0) {
        m_hover = Hit();
        viewport()->update();
    }
    return QAbstractScrollArea::viewportEvent(event);
}

} // namespace taskbench::inspect
