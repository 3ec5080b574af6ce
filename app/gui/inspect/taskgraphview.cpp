// The task graph view: model updates, layout scheduling and scene building (selection,
// highlighting and the context menu: taskgraphinteraction.cpp; exports: taskgraphexport.cpp).
#include "taskgraphview.h"

#include "accessibletext.h"

#include "graphlayout.h"
#include "taskgraphitems_p.h"

#include <QAction>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontMetricsF>
#include <QGraphicsScene>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QSvgGenerator>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>
#include <vector>

namespace taskbench::inspect {

using gui::setLabelText;

// ---------------------------------------------------------------------------------------
// The legend: a strip under the canvas with each display status, its swatch and live count
// (never over the graph, so it hides nothing).

class GraphLegend : public QWidget
{
public:
    GraphLegend(const GraphModel *model, QWidget *parent)
        : QWidget(parent)
        , m_model(model)
    {
        setAccessibleName(QStringLiteral("Task graph legend"));
        QFont f = font();
        f.setPointSizeF(8.5);
        setFont(f);
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        setFixedHeight(heightFor(1));
    }

    QSize sizeHint() const override { return QSize(400, height()); }

    /// Repaints with the new counts; more or fewer rows when the entries no longer fit.
    void refresh()
    {
        fitRows();
        update();
    }

protected:
    void resizeEvent(QResizeEvent *) override { fitRows(); }

    void paintEvent(QPaintEvent *) override
    {
        QPainter p(this);
        p.fillRect(rect(), QColor(0xf6, 0xf8, 0xfa));
        p.setPen(QColor(0xd0, 0xd7, 0xde));
        p.drawLine(0, 0, width(), 0);
        p.setRenderHint(QPainter::Antialiasing);
        const StatusCounts &totals = m_model->totals();
        const std::vector<QPoint> at = place(width());
        for (std::size_t i = 0; i < std::size(kOrder); ++i) {
            const NodeStatus status = kOrder[i];
            const std::size_t s = std::size_t(status);
            int x = at[i].x();
            const int top = at[i].y();
            const int line = lineHeight();
            QColor fill, border, text;
            GraphNodeItem::taskColors(status, &fill, &border, &text);
            QPen pen(border, status == NodeStatus::ErrorRoot ? 2 : 1);
            if (status == NodeStatus::ErrorPropagated)
                pen.setStyle(Qt::DashLine);
            p.setPen(pen);
            p.setBrush(fill);
            p.drawRoundedRect(QRectF(x, top + line / 2.0 - 5.5, 18, 11), 3, 3);
            x += 24;
            const bool zero = totals[s] == 0;
            const QString label = nodeStatusLabel(status);
            const QString count = formatCount(totals[s]);
            p.setPen(zero ? QColor(0x8c, 0x95, 0x9f) : QColor(0x3d, 0x44, 0x4d));
            p.drawText(QRect(x, top, 1000, line), Qt::AlignLeft | Qt::AlignVCenter, label);
            x += QFontMetrics(font()).horizontalAdvance(label) + 5;
            QFont bold = font();
            bold.setBold(!zero);
            p.setFont(bold);
            p.setPen(zero ? QColor(0x8c, 0x95, 0x9f) : QColor(0x1f, 0x23, 0x28));
            p.drawText(QRect(x, top, 1000, line), Qt::AlignLeft | Qt::AlignVCenter, count);
            p.setFont(font());
        }
    }

private:
    // Held right after pending: it is where a task waits before it runs, and with the
    // entries on one row it came last and was cut off in a dock of the default width.
    static constexpr NodeStatus kOrder[] = {NodeStatus::Pending,
                                            NodeStatus::Held,
                                            NodeStatus::Processing,
                                            NodeStatus::Finished,
                                            NodeStatus::ErrorRoot,
                                            NodeStatus::ErrorPropagated,
                                            NodeStatus::Cancelled,
                                            NodeStatus::Lost};
    static_assert(std::size(kOrder) == std::size_t(kNodeStatusCount));

    int lineHeight() const { return QFontMetrics(font()).height() + 6; }
    int heightFor(int rows) const { return rows * lineHeight() + 4; }

    /// Each entry's top left: left to right, on a new row when it does not fit the width.
    std::vector<QPoint> place(int width) const
    {
        const StatusCounts &totals = m_model->totals();
        QFont bold = font();
        bold.setBold(true);
        const QFontMetrics fm(font()), fb(bold);
        std::vector<QPoint> at;
        int x = 10, y = 2;
        for (const NodeStatus status : kOrder) {
            const int w = 24 + fm.horizontalAdvance(nodeStatusLabel(status)) + 5
                          + fb.horizontalAdvance(formatCount(totals[std::size_t(status)]));
            if (x > 10 && x + w > width - 4) {
                x = 10;
                y += lineHeight();
            }
            at.emplace_back(x, y);
            x += w + 18;
        }
        return at;
    }

    void fitRows()
    {
        const int rows = (place(width()).back().y() - 2) / lineHeight() + 1;
        if (height() != heightFor(rows))
            setFixedHeight(heightFor(rows));
    }

    const GraphModel *m_model;
};

// ---------------------------------------------------------------------------------------

TaskGraphView::TaskGraphView(QWidget *parent)
    : QWidget(parent)
    , m_scene(new QGraphicsScene(this))
    , m_watcher(new QFutureWatcher<LayoutResult>(this))
{
    // Items never move and the scene is rebuilt per layout: a BSP index would be rebuilt
    // on the first frame each time, and a linear pass over a few thousand items is cheaper.
    m_scene->setItemIndexMethod(QGraphicsScene::NoIndex);
    setAccessibleName(QStringLiteral("Task graph"));
    setAccessibleDescription(
        QStringLiteral("The futures' dependency graph, coloured by state. Arrows walk the graph, "
                       "+ and - zoom, F fits, Return shows the result or expands a group."));
    m_canvas = new GraphCanvas(this, m_scene);
    m_canvas->setAccessibleName(QStringLiteral("Task graph canvas"));
    // No background brush: the viewport fills with the palette's Base, so the canvas
    // follows a dark palette (and a palette change) like the other views.
    m_legend = new GraphLegend(&m_model, this);

    m_toolBar = new QToolBar(this);
    m_toolBar->setAccessibleName(QStringLiteral("Task graph tools"));
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_toolBar->setIconSize(QSize(14, 14));
    m_info = new QLabel(this);
    m_info->setAccessibleName(QStringLiteral("Task graph summary"));
    m_info->setTextFormat(Qt::PlainText);
    m_info->setContentsMargins(8, 1, 8, 2);
    m_info->setForegroundRole(QPalette::PlaceholderText);
    // Its own row: at the end of the toolbar it vanished into the overflow in a narrow dock.
    m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_toolBar);
    layout->addWidget(m_info);
    layout->addWidget(m_canvas, 1);
    layout->addWidget(m_legend);
    setFocusProxy(m_canvas); // focusing the view (a dock, Tab) puts the keys on the graph

    auto makeAction = [this](const QString &text, const QList<QKeySequence> &keys, auto slot) {
        auto *a = new QAction(text, this);
        a->setShortcuts(keys);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        return a;
    };
    m_showResult = makeAction(
        tr("Show result"), {QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter)}, [this] {
            const auto sel = m_canvas->scene()->selectedItems();
            for (QGraphicsItem *item : sel)
                if (auto *n = qgraphicsitem_cast<GraphNodeItem *>(item)) {
                    activateNode(n);
                    return;
                }
        });
    m_retry = makeAction(tr("Retry"), {QKeySequence(Qt::Key_R)}, [this] {
        const QList<quint64> ids = idsOf(selectedSlots(), isRetryable);
        if (!ids.isEmpty())
            emit retryRequested(ids);
    });
    m_cancel = makeAction(tr("Cancel"), {QKeySequence(Qt::Key_C)}, [this] {
        const QList<quint64> ids = idsOf(selectedSlots(), isCancellable);
        if (!ids.isEmpty())
            emit cancelRequested(ids);
    });
    m_release = makeAction(tr("Release"), {QKeySequence(Qt::Key_Delete)}, [this] {
        const QList<quint64> ids = idsOf(selectedSlots(), isAnyState);
        if (!ids.isEmpty())
            emit releaseRequested(ids);
    });
    m_upstream = makeAction(
        tr("Highlight upstream"), {QKeySequence(Qt::Key_U)}, &TaskGraphView::highlightUpstream);
    m_downstream = makeAction(
        tr("Highlight downstream"), {QKeySequence(Qt::Key_D)}, &TaskGraphView::highlightDownstream);
    m_clearHighlight = makeAction(
        tr("Clear highlight"), {QKeySequence(Qt::Key_Escape)}, &TaskGraphView::clearHighlight);
    m_expand = makeAction(tr("Expand group"), {QKeySequence(Qt::Key_E)}, [this] {
        const auto sel = m_scene->selectedItems();
        for (QGraphicsItem *item : sel)
            if (auto *n = qgraphicsitem_cast<GraphNodeItem *>(item); n && n->isGroup()) {
                activateNode(n);
                return;
            }
    });
    m_collapse = makeAction(tr("Collapse group"), {QKeySequence(Qt::Key_Backspace)}, [this] {
        for (const DisplayNode &n : m_selectedNodes)
            if (n.kind == DisplayNode::Kind::Task)
                if (m_expanded.erase(m_model.catalog().group(n.index)) > 0)
                    scheduleRelayout();
    });
    m_zoomIn = makeAction(tr("Zoom in"),
                          {QKeySequence(Qt::Key_Plus),
                           QKeySequence(Qt::Key_Equal),
                           QKeySequence(QKeySequence::ZoomIn)},
                          &TaskGraphView::zoomIn);
    m_zoomOut = makeAction(tr("Zoom out"),
                           {QKeySequence(Qt::Key_Minus), QKeySequence(QKeySequence::ZoomOut)},
                           &TaskGraphView::zoomOut);
    m_fit = makeAction(tr("Fit"), {QKeySequence(Qt::Key_F)}, &TaskGraphView::fitToView);
    m_export = makeAction(tr("Export…"), {}, &TaskGraphView::exportWithDialog);
    m_legendToggle = makeAction(
        tr("Legend"), {QKeySequence(Qt::Key_L)}, [this](bool on) { m_legend->setVisible(on); });
    m_direction = makeAction(
        tr("Left to right"), {QKeySequence(Qt::Key_O)}, [this](bool on) { setLeftToRight(on); });
    m_direction->setCheckable(true);
    m_direction->setToolTip(tr("Lay out dependencies left to right instead of top down (O)"));
    m_legendToggle->setCheckable(true);
    m_legendToggle->setChecked(true);
    for (QAction *a : actions())
        if (!a->shortcut().isEmpty())
            a->setToolTip(QStringLiteral("%1 (%2)").arg(
                a->text(), a->shortcut().toString(QKeySequence::NativeText)));

    m_toolBar->addAction(m_zoomOut);
    m_toolBar->addAction(m_zoomIn);
    m_toolBar->addAction(m_fit);
    m_toolBar->addSeparator();
    m_toolBar->addAction(m_upstream);
    m_toolBar->addAction(m_downstream);
    m_toolBar->addAction(m_clearHighlight);
    m_toolBar->addSeparator();
    m_toolBar->addAction(m_direction);
    m_toolBar->addAction(m_legendToggle);
    m_toolBar->addAction(m_export);
    m_toolBar->setObjectName(QStringLiteral("taskGraphToolBar"));
    for (QAction *a : m_toolBar->actions())
        if (QWidget *w = m_toolBar->widgetForAction(a); w && !a->text().isEmpty())
            w->setAccessibleName(a->text().remove(QLatin1Char('&')).remove(QStringLiteral("…")));

    m_relayoutTimer.setSingleShot(true);
    connect(&m_relayoutTimer, &QTimer::timeout, this, &TaskGraphView::startLayout);
    connect(m_watcher, &QFutureWatcher<LayoutResult>::finished, this, &TaskGraphView::layoutDone);
    connect(
        m_scene, &QGraphicsScene::selectionChanged, this, &TaskGraphView::onSceneSelectionChanged);
    updateActions();
    refreshInfo();
}

TaskGraphView::~TaskGraphView()
{
    // A layout still running owns a copy of its request; its result is simply dropped.
    m_watcher->disconnect(this);
    // The scene is a child, destroyed after this body: deleting its selected items then emits
    // selectionChanged, which must not reach this half-destroyed view.
    m_scene->disconnect(this);
}

QGraphicsView *TaskGraphView::graphicsView() const
{
    return m_canvas;
}

void TaskGraphView::setLeftToRight(bool on)
{
    m_direction->setChecked(on);
    if (m_leftToRight == on)
        return;
    m_leftToRight = on;
    m_forceLayout = true;
    m_userNavigated = false;
    scheduleRelayout();
}

void TaskGraphView::setCollapseThreshold(int tasks)
{
    m_threshold = std::size_t(std::max(1, tasks));
    scheduleRelayout();
}

void TaskGraphView::applyEvents(const Event *begin, const Event *end)
{
    if (begin == end)
        return;
    m_model.applyEvents(begin, end);
    const GraphModel::Changes changes = m_model.takeChanges();
    for (std::uint32_t slot : changes.tasks) {
        if (slot < m_itemBySlot.size())
            if (GraphNodeItem *item = m_itemBySlot[slot]; item && !item->isGroup())
                item->update();
    }
    for (std::uint32_t g : changes.groups)
        if (g < m_itemByGroup.size() && m_itemByGroup[g])
            m_itemByGroup[g]->update();
    if (changes.structural)
        scheduleRelayout();
    m_legend->refresh();
    if (!changes.tasks.empty() || !changes.groups.empty()) {
        updateActions();
        refreshInfo();
    }
}

void TaskGraphView::clear()
{
    m_relayoutTimer.stop();
    m_sinceLayoutStart.invalidate(); // a new cluster's first graph lays out at once
    ++m_generation;
    m_model.clear();
    m_model.takeChanges();
    m_expanded.clear();
    m_selectedNodes.clear();
    m_highlightSeeds.clear();
    m_highlightMode = Highlight::None;
    m_scene->clear();
    m_nodeItems.clear();
    m_edgeItems.clear();
    m_itemBySlot.clear();
    m_itemByGroup.clear();
    m_display = DisplayGraph();
    m_hasLayout = false;
    m_userNavigated = false;
    m_legend->refresh();
    updateActions();
    refreshInfo();
}

bool TaskGraphView::isLayoutPending() const
{
    return m_layoutRunning || m_relayoutTimer.isActive() || m_relayoutWanted;
}

// --- layout -----------------------------------------------------------------------------

void TaskGraphView::scheduleRelayout()
{
    if (m_layoutRunning) {
        m_relayoutWanted = true;
        return;
    }
    if (m_relayoutTimer.isActive())
        return;
    // Leading edge: the first change lays out at once (a 100,000-task map shows instantly);
    // a stream of changes gets at most one layout per interval.
    int wait = 0;
    if (m_sinceLayoutStart.isValid())
        wait = std::max<int>(0, m_relayoutIntervalMs - int(m_sinceLayoutStart.elapsed()));
    m_relayoutTimer.start(wait);
    refreshInfo();
}

QString TaskGraphView::groupLabel(std::uint32_t group) const
{
    return shortFunctionName(m_model.catalog().functionName(m_model.groupFunction(group)));
}

QSizeF TaskGraphView::nodeSize(const DisplayNode &node, QString *title, QString *subtitle) const
{
    static const QFontMetricsF bold = [] {
        QFont f;
        f.setPointSizeF(9.5);
        f.setBold(true);
        return QFontMetricsF(f);
    }();
    const TaskCatalog &cat = m_model.catalog();
    if (node.kind == DisplayNode::Kind::Task) {
        *title = shortFunctionName(cat.functionName(cat.function(node.index)));
        subtitle->clear();
        const qreal w = std::clamp(bold.horizontalAdvance(*title) + 26, 64.0, 170.0);
        return QSizeF(std::round(w), 30);
    }
    *title = QStringLiteral("%1  ×%2").arg(groupLabel(node.index),
                                           formatCount(m_model.groupSize(node.index)));
    // The group's own name when it says more than the function ("map-1a2b3c4d" of
    // "slow_inc-map-1a2b3c4d"): two maps of one function stay apart.
    const QString label = groupLabel(node.index);
    QString group = QString::fromStdString(cat.groupName(node.index));
    if (group.startsWith(label + QLatin1Char('-')))
        group = group.mid(label.size() + 1);
    *subtitle = group == label ? QString() : group;
    static const QFontMetricsF small = [] {
        QFont f;
        f.setPointSizeF(8);
        return QFontMetricsF(f);
    }();
    const qreal w = std::clamp(
        bold.horizontalAdvance(*title) + small.horizontalAdvance(*subtitle) + 44, 190.0, 300.0);
    return QSizeF(std::round(w), 58);
}

void TaskGraphView::startLayout()
{
    DisplayGraph display = m_model.buildDisplay(m_threshold, m_expanded, m_expandLimit);
    const bool forced = std::exchange(m_forceLayout, false);
    if (m_hasLayout && !forced && display.sameStructure(m_display)) {
        // Same picture: new tasks joined existing groups. Titles carry counts: repaint.
        m_display = std::move(display);
        for (GraphNodeItem *item : m_nodeItems)
            if (item->isGroup())
                item->update();
        refreshInfo();
        return;
    }
    if (display.nodes.empty()) {
        LayoutResult empty;
        empty.ok = true;
        m_pendingSizes.clear();
        m_pendingTitles.clear();
        m_pendingSubtitles.clear();
        applyLayout(display, empty);
        return;
    }
    LayoutRequest request;
    request.leftToRight = m_leftToRight;
    request.sizes.reserve(display.nodes.size());
    m_pendingTitles.clear();
    m_pendingSubtitles.clear();
    for (const DisplayNode &n : display.nodes) {
        QString title, subtitle;
        request.sizes.push_back(nodeSize(n, &title, &subtitle));
        m_pendingTitles << title;
        m_pendingSubtitles << subtitle;
    }
    m_pendingSizes = request.sizes;
    request.edges.reserve(display.edges.size());
    for (const DisplayEdge &e : display.edges)
        request.edges.emplace_back(int(e.from), int(e.to));
    m_pendingDisplay = std::move(display);
    m_layoutRunning = true;
    m_runningGeneration = m_generation;
    m_sinceLayoutStart.start();
    refreshInfo();
    m_watcher->setFuture(
        QtConcurrent::run([request = std::move(request)] { return layoutGraph(request); }));
}

void TaskGraphView::layoutDone()
{
    m_layoutRunning = false;
    const LayoutResult result = m_watcher->result();
    if (m_runningGeneration == m_generation) {
        if (result.ok) {
            m_lastLayoutMs = result.elapsedMs;
            applyLayout(m_pendingDisplay, result);
        } else {
            setLabelText(m_info, tr("Layout failed: %1").arg(result.error));
        }
    }
    m_pendingDisplay = DisplayGraph();
    if (m_relayoutWanted || m_runningGeneration != m_generation) {
        m_relayoutWanted = false;
        scheduleRelayout();
    }
}

void TaskGraphView::applyLayout(const DisplayGraph &display, const LayoutResult &result)
{
    m_syncingSelection = true;
    m_scene->clear();
    m_nodeItems.clear();
    m_edgeItems.clear();
    m_itemBySlot.assign(m_model.catalog().size(), nullptr);
    m_itemByGroup.assign(m_model.groupCount(), nullptr);
    m_nodeItems.reserve(display.nodes.size());
    for (std::size_t i = 0; i < display.nodes.size(); ++i) {
        const DisplayNode &n = display.nodes[i];
        auto *item = new GraphNodeItem(&m_model,
                                       n,
                                       int(i),
                                       m_pendingTitles.value(qsizetype(i)),
                                       m_pendingSubtitles.value(qsizetype(i)),
                                       m_pendingSizes[i]);
        item->setPos(result.centers[i]);
        m_scene->addItem(item);
        m_nodeItems.push_back(item);
        if (n.kind == DisplayNode::Kind::Task) {
            if (n.index < m_itemBySlot.size())
                m_itemBySlot[n.index] = item;
        } else {
            if (n.index < m_itemByGroup.size())
                m_itemByGroup[n.index] = item;
            for (std::uint32_t s : m_model.groupMembers(n.index))
                m_itemBySlot[s] = item;
        }
    }
    m_edgeItems.reserve(display.edges.size());
    for (std::size_t i = 0; i < display.edges.size(); ++i) {
        const DisplayEdge &e = display.edges[i];
        auto *item = new GraphEdgeItem(
            result.edgePaths[i], result.arrowTips[i], e.count, int(e.from), int(e.to));
        m_scene->addItem(item);
        m_edgeItems.push_back(item);
    }
    m_scene->setSceneRect(result.bounds.adjusted(-40, -40, 40, 40));
    m_display = display;
    m_hasLayout = true;

    // Keep the selection across layouts (a task now inside a collapsed group selects it).
    GraphNodeItem *firstSelected = nullptr;
    for (const DisplayNode &n : m_selectedNodes) {
        GraphNodeItem *item
            = n.kind == DisplayNode::Kind::Task
                  ? itemForSlot(n.index)
                  : (n.index < m_itemByGroup.size() ? m_itemByGroup[n.index] : nullptr);
        if (item) {
            item->setSelected(true);
            if (!firstSelected)
                firstSelected = item;
        }
    }
    m_syncingSelection = false;
    applyHighlight();

    if (m_focusGroup) {
        const auto members = m_model.groupMembers(*m_focusGroup);
        m_focusGroup.reset();
        if (!members.empty()) {
            if (GraphNodeItem *item = itemForSlot(members.front())) {
                if (m_canvas->zoom() < 0.6) {
                    m_canvas->resetTransform();
                    m_canvas->scale(0.8, 0.8);
                }
                m_canvas->centerOn(item);
                m_userNavigated = true;
            }
        }
    } else if (!m_userNavigated) {
        fitToView();
    }
    updateActions();
    refreshInfo();
    emit layoutApplied();
}

void TaskGraphView::refreshInfo()
{
    const std::size_t tasks = m_model.taskCount();
    QString text;
    if (tasks == 0) {
        text = tr("No tasks yet");
    } else if (m_display.collapsed) {
        std::size_t groups = 0;
        for (const GraphNodeItem *item : m_nodeItems)
            groups += item->isGroup();
        text = tr("%1 task(s)", nullptr, int(tasks)).arg(formatCount(tasks))
               + tr(" · %1 group(s) collapsed (over %2) · double-click a group to expand",
                    nullptr,
                    int(groups))
                     .arg(formatCount(groups), formatCount(m_threshold));
    } else {
        text = tr("%1 task(s)", nullptr, int(tasks)).arg(formatCount(tasks));
    }
    if (m_layoutRunning)
        text += tr(" · laying out…");
    else if (m_hasLayout && m_lastLayoutMs > 0)
        text += tr(" · layout %1").arg(formatDuration(std::int64_t(m_lastLayoutMs * 1000)));
    setLabelText(m_info, text);
}

} // namespace taskbench::inspect
