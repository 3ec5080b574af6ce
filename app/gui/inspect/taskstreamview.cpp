// The task stream view: time axis state, follow mode, hit testing and selection (painting:
// taskstreampaint.cpp; mouse, keyboard and menu: taskstreaminput.cpp).
#include "taskstreamview.h"

#include "workerlabel.h"

#include "inspectstyle.h"

#include "taskbench/clock.h"

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

constexpr double kMinUsPerPx = 0.05;        // 20 px per µs: plenty
constexpr double kMaxUsPerPx = 3.6e9 / 200; // an hour in 200 px

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
    text += tr("<br>%1, thread %2 · attempt %3 · started at +%4")
                .arg(gui::workerLabel(lane.worker))
                .arg(lane.thread)
                .arg(hit.attempt)
                .arg(formatDuration(hit.start - m_model.firstUs()));
    if (hit.flags & Execution::Reprioritised)
        text += tr("<br>priority changed after submit");
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

} // namespace taskbench::inspect
