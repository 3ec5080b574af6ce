// The task graph view: model updates, layout scheduling, scene building, selection sync,
// highlighting, the context menu and exports.
#include "taskgraphview.h"

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

namespace taskbench::inspect {

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
    }

    QSize sizeHint() const override { return QSize(400, QFontMetrics(font()).height() + 10); }

protected:
    void paintEvent(QPaintEvent *) override
    {
        QPainter p(this);
        p.fillRect(rect(), QColor(0xf6, 0xf8, 0xfa));
        p.setPen(QColor(0xd0, 0xd7, 0xde));
        p.drawLine(0, 0, width(), 0);
        p.setRenderHint(QPainter::Antialiasing);
        const QFontMetrics fm(font());
        const StatusCounts &totals = m_model->totals();
        int x = 10;
        for (int s = 0; s < kNodeStatusCount; ++s) {
            const auto status = NodeStatus(s);
            QColor fill, border, text;
            GraphNodeItem::taskColors(status, &fill, &border, &text);
            QPen pen(border, status == NodeStatus::ErrorRoot ? 2 : 1);
            if (status == NodeStatus::ErrorPropagated)
                pen.setStyle(Qt::DashLine);
            p.setPen(pen);
            p.setBrush(fill);
            p.drawRoundedRect(QRectF(x, height() / 2.0 - 5.5, 18, 11), 3, 3);
            x += 24;
            const bool zero = totals[std::size_t(s)] == 0;
            const QString label = nodeStatusLabel(status);
            const QString count = formatCount(totals[std::size_t(s)]);
            p.setPen(zero ? QColor(0x8c, 0x95, 0x9f) : QColor(0x3d, 0x44, 0x4d));
            p.drawText(QRect(x, 0, 1000, height()), Qt::AlignLeft | Qt::AlignVCenter, label);
            x += fm.horizontalAdvance(label) + 5;
            QFont bold = font();
            bold.setBold(!zero);
            p.setFont(bold);
            p.setPen(zero ? QColor(0x8c, 0x95, 0x9f) : QColor(0x1f, 0x23, 0x28));
            p.drawText(QRect(x, 0, 1000, height()), Qt::AlignLeft | Qt::AlignVCenter, count);
            x += QFontMetrics(bold).horizontalAdvance(count) + 18;
            p.setFont(font());
        }
    }

private:
    const GraphModel *m_model;
};

// ---------------------------------------------------------------------------------------

namespace {

bool isRetryable(TaskState s)
{
    return s == TaskState::Erred || s == TaskState::Cancelled || s == TaskState::Lost;
}

bool isCancellable(TaskState s)
{
    return s == TaskState::Released || s == TaskState::Waiting || s == TaskState::Queued
           || s == TaskState::Processing;
}

bool isAnyState(TaskState s)
{
    return s != TaskState::Forgotten;
}

QString htmlEscaped(std::string_view s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size())).toHtmlEscaped();
}

QString colorName(const QColor &c)
{
    return c.name(QColor::HexRgb);
}

} // namespace

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
    m_canvas->setBackgroundBrush(QColor(0xfd, 0xfd, 0xfe));
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
    m_legend->update();
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
    m_legend->update();
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
            m_info->setText(tr("Layout failed: %1").arg(result.error));
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
        text = tr("%1 tasks · %2 groups collapsed (over %3) · double-click a group to expand")
                   .arg(formatCount(tasks), formatCount(groups), formatCount(m_threshold));
    } else {
        text = tr("%1 tasks").arg(formatCount(tasks));
    }
    if (m_layoutRunning)
        text += tr(" · laying out…");
    else if (m_hasLayout && m_lastLayoutMs > 0)
        text += tr(" · layout %1").arg(formatDuration(std::int64_t(m_lastLayoutMs * 1000)));
    m_info->setText(text);
}

// --- selection --------------------------------------------------------------------------

GraphNodeItem *TaskGraphView::itemForSlot(std::uint32_t slot) const
{
    return slot < m_itemBySlot.size() ? m_itemBySlot[slot] : nullptr;
}

std::vector<std::uint32_t> TaskGraphView::slotsOf(const GraphNodeItem *node) const
{
    if (!node->isGroup())
        return {node->node().index};
    return m_model.groupMembers(node->node().index);
}

std::vector<std::uint32_t> TaskGraphView::selectedSlots() const
{
    std::vector<std::uint32_t> out;
    for (const DisplayNode &n : m_selectedNodes) {
        if (n.kind == DisplayNode::Kind::Task) {
            if (n.index < m_model.catalog().size() && m_model.alive(n.index))
                out.push_back(n.index);
        } else {
            const auto members = m_model.groupMembers(n.index);
            out.insert(out.end(), members.begin(), members.end());
        }
    }
    return out;
}

QList<quint64> TaskGraphView::selectedTasks() const
{
    return idsOf(selectedSlots(), isAnyState);
}

QList<quint64> TaskGraphView::idsOf(const std::vector<std::uint32_t> &taskSlots,
                                    bool (*keep)(TaskState)) const
{
    QList<quint64> out;
    out.reserve(qsizetype(taskSlots.size()));
    for (std::uint32_t s : taskSlots)
        if (m_model.alive(s) && keep(m_model.state(s)))
            out.push_back(m_model.catalog().id(s));
    return out;
}

void TaskGraphView::onSceneSelectionChanged()
{
    if (m_syncingSelection)
        return;
    m_selectedNodes.clear();
    GraphNodeItem *firstTask = nullptr;
    const auto selected = m_scene->selectedItems();
    for (QGraphicsItem *item : selected) {
        if (auto *n = qgraphicsitem_cast<GraphNodeItem *>(item)) {
            m_selectedNodes.push_back(n->node());
            if (!n->isGroup() && !firstTask)
                firstTask = n;
        }
    }
    updateActions();
    if (firstTask)
        emit taskSelected(m_model.catalog().id(firstTask->node().index));
}

void TaskGraphView::selectTasks(const QList<quint64> &ids)
{
    m_syncingSelection = true;
    m_scene->clearSelection();
    m_selectedNodes.clear();
    GraphNodeItem *first = nullptr;
    for (quint64 id : ids) {
        const std::uint32_t slot = m_model.catalog().slotOf(id);
        if (slot == TaskCatalog::npos)
            continue;
        // Remembered even when not laid out yet: the next layout selects it.
        m_selectedNodes.push_back({DisplayNode::Kind::Task, slot});
        if (GraphNodeItem *item = itemForSlot(slot)) {
            item->setSelected(true);
            if (!first)
                first = item;
        }
    }
    m_syncingSelection = false;
    if (first) {
        m_canvas->ensureVisible(first, 80, 60);
    }
    updateActions();
}

void TaskGraphView::navigate(int dx, int dy)
{
    if (m_nodeItems.empty())
        return;
    GraphNodeItem *current = nullptr;
    const auto selected = m_scene->selectedItems();
    for (QGraphicsItem *item : selected)
        if ((current = qgraphicsitem_cast<GraphNodeItem *>(item)))
            break;
    GraphNodeItem *next = nullptr;
    if (!current) {
        // Start at the top-left node.
        next = *std::min_element(m_nodeItems.begin(), m_nodeItems.end(), [](auto *a, auto *b) {
            return a->y() != b->y() ? a->y() < b->y() : a->x() < b->x();
        });
    } else {
        const QPointF c = current->pos();
        auto consider = [&](GraphNodeItem *cand) {
            if (cand == current)
                return;
            if (!next || QLineF(c, cand->pos()).length() < QLineF(c, next->pos()).length())
                next = cand;
        };
        if (dy != 0) {
            // Follow edges first: up to a dependency, down to a dependent.
            const int self = current->displayIndex();
            for (const DisplayEdge &e : m_display.edges) {
                if (dy < 0 && int(e.to) == self)
                    consider(m_nodeItems[e.from]);
                else if (dy > 0 && int(e.from) == self)
                    consider(m_nodeItems[e.to]);
            }
            if (!next)
                for (GraphNodeItem *n : m_nodeItems)
                    if ((dy < 0 && n->y() < c.y() - 1) || (dy > 0 && n->y() > c.y() + 1))
                        consider(n);
        } else {
            // Sideways within the rank (same y), else the nearest node on that side.
            for (GraphNodeItem *n : m_nodeItems)
                if (std::abs(n->y() - c.y()) < 1 && ((dx < 0) ? n->x() < c.x() : n->x() > c.x()))
                    consider(n);
            if (!next)
                for (GraphNodeItem *n : m_nodeItems)
                    if ((dx < 0) ? n->x() < c.x() - 1 : n->x() > c.x() + 1)
                        consider(n);
        }
    }
    if (!next)
        return;
    m_scene->clearSelection();
    next->setSelected(true); // emits taskSelected through the scene
    m_canvas->ensureVisible(next, 80, 60);
}

void TaskGraphView::activateNode(GraphNodeItem *node)
{
    if (node->isGroup()) {
        const std::uint32_t g = node->node().index;
        if (m_model.groupSize(g) > m_expandLimit) {
            m_info->setText(tr("%1 has %2 tasks: too many to draw one by one (limit %3); "
                               "the futures table lists them")
                                .arg(groupLabel(g),
                                     formatCount(m_model.groupSize(g)),
                                     formatCount(m_expandLimit)));
            return;
        }
        m_expanded.insert(g);
        m_focusGroup = g;
        scheduleRelayout();
        return;
    }
    emit showResultRequested(m_model.catalog().id(node->node().index));
}

// --- highlight --------------------------------------------------------------------------

void TaskGraphView::highlightUpstream()
{
    highlight(true);
}

void TaskGraphView::highlightDownstream()
{
    highlight(false);
}

void TaskGraphView::highlight(bool upstream)
{
    m_highlightSeeds = selectedSlots();
    m_highlightMode = m_highlightSeeds.empty()
                          ? Highlight::None
                          : (upstream ? Highlight::Upstream : Highlight::Downstream);
    applyHighlight();
    updateActions();
}

void TaskGraphView::highlightPath(const QList<quint64> &ids)
{
    m_highlightSeeds.clear();
    for (quint64 id : ids)
        if (const std::uint32_t slot = m_model.catalog().slotOf(id); slot != TaskCatalog::npos)
            m_highlightSeeds.push_back(slot);
    m_highlightMode = m_highlightSeeds.empty() ? Highlight::None : Highlight::Path;
    applyHighlight();
    updateActions();
}

void TaskGraphView::clearHighlight()
{
    m_highlightMode = Highlight::None;
    m_highlightSeeds.clear();
    applyHighlight();
    updateActions();
}

void TaskGraphView::applyHighlight()
{
    if (m_highlightMode == Highlight::None) {
        for (GraphNodeItem *n : m_nodeItems)
            n->setEmphasis(Emphasis::Normal);
        for (GraphEdgeItem *e : m_edgeItems)
            e->setEmphasis(Emphasis::Normal);
        return;
    }
    // A path's tasks are all "related" (emphasised); otherwise the seeds stay as they are.
    const bool path = m_highlightMode == Highlight::Path;
    const std::vector<std::uint32_t> related = path ? m_highlightSeeds
                                               : m_highlightMode == Highlight::Upstream
                                                   ? m_model.upstream(m_highlightSeeds)
                                                   : m_model.downstream(m_highlightSeeds);
    std::vector<std::uint8_t> mark(m_nodeItems.size(), 0); // 1 related, 2 seed
    for (std::uint32_t s : related)
        if (GraphNodeItem *item = itemForSlot(s))
            mark[std::size_t(item->displayIndex())] = 1;
    for (std::uint32_t s : path ? std::vector<std::uint32_t>() : m_highlightSeeds)
        if (GraphNodeItem *item = itemForSlot(s))
            mark[std::size_t(item->displayIndex())] = 2;
    for (GraphNodeItem *n : m_nodeItems) {
        const auto m = mark[std::size_t(n->displayIndex())];
        n->setEmphasis(m == 1 ? Emphasis::Related : m == 2 ? Emphasis::Normal : Emphasis::Dimmed);
    }
    for (GraphEdgeItem *e : m_edgeItems) {
        const bool on = mark[std::size_t(e->from())] && mark[std::size_t(e->to())];
        e->setEmphasis(on ? Emphasis::Related : Emphasis::Dimmed);
    }
}

// --- actions and menu -------------------------------------------------------------------

void TaskGraphView::updateActions()
{
    // From counts, not member lists: a selected 100,000-task group stays cheap.
    StatusCounts counts{};
    int taskNodes = 0;
    int groupNodes = 0;
    bool inExpandedGroup = false;
    for (const DisplayNode &n : m_selectedNodes) {
        if (n.kind == DisplayNode::Kind::Task) {
            if (n.index >= m_model.catalog().size() || !m_model.alive(n.index))
                continue;
            ++taskNodes;
            ++counts[std::size_t(m_model.status(n.index))];
            inExpandedGroup |= m_expanded.count(m_model.catalog().group(n.index)) > 0;
        } else if (n.index < m_model.groupCount()) {
            ++groupNodes;
            const StatusCounts &c = m_model.groupCounts(n.index);
            for (int s = 0; s < kNodeStatusCount; ++s)
                counts[std::size_t(s)] += c[std::size_t(s)];
        }
    }
    auto count = [&](NodeStatus s) { return counts[std::size_t(s)]; };
    const bool any = taskNodes + groupNodes > 0;
    m_retry->setEnabled(count(NodeStatus::ErrorRoot) + count(NodeStatus::ErrorPropagated)
                            + count(NodeStatus::Cancelled) + count(NodeStatus::Lost)
                        > 0);
    m_cancel->setEnabled(count(NodeStatus::Pending) + count(NodeStatus::Processing) > 0);
    m_release->setEnabled(any);
    m_showResult->setEnabled(taskNodes == 1 && groupNodes == 0);
    m_upstream->setEnabled(any);
    m_downstream->setEnabled(any);
    m_clearHighlight->setEnabled(m_highlightMode != Highlight::None);
    m_expand->setEnabled(groupNodes > 0);
    m_collapse->setEnabled(inExpandedGroup);
    const bool hasGraph = !m_nodeItems.empty();
    m_fit->setEnabled(hasGraph);
    m_export->setEnabled(hasGraph);
}

void TaskGraphView::showContextMenu(GraphNodeItem *node, const QPoint &globalPos)
{
    if (node && !node->isSelected()) {
        m_scene->clearSelection();
        node->setSelected(true);
    }
    updateActions();
    QMenu menu(this);
    menu.setAccessibleName(tr("Task graph menu"));
    if (node) {
        if (node->isGroup()) {
            m_expand->setText(tr("Expand group (%1 tasks)")
                                  .arg(formatCount(m_model.groupSize(node->node().index))));
            menu.addAction(m_expand);
        } else {
            menu.addAction(m_showResult);
        }
        menu.addAction(m_retry);
        menu.addAction(m_cancel);
        menu.addAction(m_release);
        menu.addSeparator();
        menu.addAction(m_upstream);
        menu.addAction(m_downstream);
    }
    menu.addAction(m_clearHighlight);
    if (m_collapse->isEnabled())
        menu.addAction(m_collapse);
    menu.addSeparator();
    menu.addAction(m_zoomIn);
    menu.addAction(m_zoomOut);
    menu.addAction(m_fit);
    menu.addAction(m_export);
    menu.exec(globalPos);
    m_expand->setText(tr("Expand group"));
}

QString TaskGraphView::toolTipFor(const GraphNodeItem *node) const
{
    const TaskCatalog &cat = m_model.catalog();
    if (!node->isGroup()) {
        const std::uint32_t s = node->node().index;
        QString status = nodeStatusLabel(m_model.status(s));
        QString text
            = QStringLiteral("<b>%1</b><br>%2 — %3 <span style='color:#6a737d'>(%4)</span>")
                  .arg(htmlEscaped(cat.key(s)),
                       htmlEscaped(cat.functionName(cat.function(s))),
                       status.toHtmlEscaped(),
                       QString::fromLatin1(toString(m_model.state(s))));
        if (m_model.attempts(s) > 1)
            text += tr("<br>attempts: %1").arg(m_model.attempts(s));
        if (m_model.status(s) == NodeStatus::ErrorRoot)
            text += tr("<br>failed on its own: a root cause");
        else if (m_model.status(s) == NodeStatus::ErrorPropagated)
            text += tr("<br>erred because a dependency failed (U highlights upstream)");
        text += tr("<br>group: %1").arg(htmlEscaped(cat.groupName(cat.group(s))));
        return text;
    }
    const std::uint32_t g = node->node().index;
    QString text = QStringLiteral("<b>%1</b> — %2 tasks<br>")
                       .arg(htmlEscaped(cat.groupName(g)), formatCount(m_model.groupSize(g)));
    const StatusCounts &c = m_model.groupCounts(g);
    for (int s = 0; s < kNodeStatusCount; ++s)
        if (c[std::size_t(s)] > 0)
            text += QStringLiteral("<span style='color:%1'>■</span> %2 %3<br>")
                        .arg(colorName(nodeStatusColor(NodeStatus(s))),
                             formatCount(c[std::size_t(s)]),
                             nodeStatusLabel(NodeStatus(s)).toHtmlEscaped());
    text += m_model.groupSize(g) <= m_expandLimit ? tr("<i>Double-click to expand</i>")
                                                  : tr("<i>Too many tasks to expand</i>");
    return text;
}

// --- view -------------------------------------------------------------------------------

void TaskGraphView::zoomIn()
{
    m_canvas->zoomBy(1.25);
    m_userNavigated = true;
}

void TaskGraphView::zoomOut()
{
    m_canvas->zoomBy(0.8);
    m_userNavigated = true;
}

void TaskGraphView::fitToView()
{
    if (m_nodeItems.empty())
        return;
    const QRectF r = m_scene->sceneRect();
    m_canvas->resetTransform();
    const QRectF vp = m_canvas->viewport()->rect();
    if (r.width() > vp.width() || r.height() > vp.height())
        m_canvas->fitInView(r, Qt::KeepAspectRatio);
    m_canvas->centerOn(r.center());
    m_userNavigated = false;
}

std::optional<QRectF> TaskGraphView::nodeRect(quint64 taskId) const
{
    const std::uint32_t slot = m_model.catalog().slotOf(taskId);
    if (slot == TaskCatalog::npos)
        return std::nullopt;
    const GraphNodeItem *item = itemForSlot(slot);
    if (!item)
        return std::nullopt;
    return item->mapRectToScene(item->shape().boundingRect());
}

void TaskGraphView::setGroupExpanded(const QString &group, bool expanded)
{
    const TaskCatalog &cat = m_model.catalog();
    const std::string name = group.toStdString();
    for (std::uint32_t g = 0; g < cat.groupCount(); ++g) {
        if (cat.groupName(g) != name)
            continue;
        const bool changed = expanded ? m_expanded.insert(g).second : m_expanded.erase(g) > 0;
        if (changed)
            scheduleRelayout();
        return;
    }
}

bool TaskGraphView::isGroupExpanded(const QString &group) const
{
    const TaskCatalog &cat = m_model.catalog();
    const std::string name = group.toStdString();
    for (std::uint32_t g : m_expanded)
        if (cat.groupName(g) == name)
            return true;
    return false;
}

// --- export -----------------------------------------------------------------------------

QByteArray TaskGraphView::toDot() const
{
    const TaskCatalog &cat = m_model.catalog();
    DotGraph dot;
    dot.leftToRight = m_leftToRight;
    auto idOf = [&](const DisplayNode &n) {
        return n.kind == DisplayNode::Kind::Task ? QStringLiteral("t%1").arg(cat.id(n.index))
                                                 : QStringLiteral("g%1").arg(n.index);
    };
    dot.nodes.reserve(m_display.nodes.size());
    for (const DisplayNode &n : m_display.nodes) {
        DotGraph::Node d;
        d.id = idOf(n);
        if (n.kind == DisplayNode::Kind::Task) {
            const NodeStatus status = m_model.status(n.index);
            QColor fill, border, text;
            GraphNodeItem::taskColors(status, &fill, &border, &text);
            d.label = shortFunctionName(cat.functionName(cat.function(n.index)));
            d.tooltip = QStringLiteral("%1 (%2)").arg(
                QString::fromUtf8(cat.key(n.index).data(), qsizetype(cat.key(n.index).size())),
                nodeStatusLabel(status));
            d.fillColor = colorName(fill);
            d.color = colorName(border);
            d.fontColor = colorName(text);
            d.style = status == NodeStatus::ErrorPropagated
                          ? QStringLiteral("filled,rounded,dashed")
                          : QStringLiteral("filled,rounded");
            d.penWidth = status == NodeStatus::ErrorRoot ? 3 : 1;
        } else {
            const StatusCounts &c = m_model.groupCounts(n.index);
            QStringList parts;
            for (int s = 0; s < kNodeStatusCount; ++s)
                if (c[std::size_t(s)] > 0)
                    parts << QStringLiteral("%1 %2").arg(formatCount(c[std::size_t(s)]),
                                                         nodeStatusLabel(NodeStatus(s)));
            d.label = QStringLiteral("%1 ×%2\n%3")
                          .arg(groupLabel(n.index),
                               formatCount(m_model.groupSize(n.index)),
                               parts.join(QStringLiteral(", ")));
            d.tooltip = QString::fromStdString(cat.groupName(n.index));
            d.fillColor = QStringLiteral("#fafbfc");
            d.color = QStringLiteral("#57606a");
            d.style = QStringLiteral("filled,rounded");
            d.penWidth = c[std::size_t(NodeStatus::ErrorRoot)] > 0 ? 3 : 1.5;
            if (c[std::size_t(NodeStatus::ErrorRoot)] > 0)
                d.color = colorName(nodeStatusColor(NodeStatus::ErrorRoot));
        }
        dot.nodes.push_back(std::move(d));
    }
    for (const DisplayEdge &e : m_display.edges) {
        DotGraph::Edge d;
        d.from = idOf(m_display.nodes[e.from]);
        d.to = idOf(m_display.nodes[e.to]);
        if (e.count > 1)
            d.label = QStringLiteral("×%1").arg(formatCount(e.count));
        dot.edges.push_back(std::move(d));
    }
    return writeDot(dot);
}

bool TaskGraphView::exportTo(const QString &path, QString *error) const
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("dot") || suffix == QLatin1String("gv")) {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return fail(tr("Cannot write %1: %2").arg(path, f.errorString()));
        f.write(toDot());
        return f.error() == QFileDevice::NoError ? true : fail(f.errorString());
    }
    if (m_nodeItems.empty())
        return fail(tr("The graph is empty"));
    const QRectF source = m_scene->itemsBoundingRect().adjusted(-16, -16, 16, 16);
    if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(source.size().toSize());
        svg.setViewBox(QRectF(QPointF(0, 0), source.size()));
        svg.setTitle(QStringLiteral("Taskbench task graph"));
        svg.setDescription(
            tr("%1 tasks, exported by Taskbench").arg(formatCount(m_model.taskCount())));
        QPainter p;
        if (!p.begin(&svg))
            return fail(tr("Cannot write %1").arg(path));
        p.fillRect(QRectF(QPointF(0, 0), source.size()), Qt::white);
        m_scene->render(&p, QRectF(QPointF(0, 0), source.size()), source);
        p.end();
        return QFileInfo(path).size() > 0 ? true : fail(tr("Cannot write %1").arg(path));
    }
    if (suffix == QLatin1String("png")) {
        // Twice the screen resolution, capped so that a huge graph stays a sane file.
        const qreal scale = std::min(2.0, 8192.0 / std::max(source.width(), source.height()));
        QImage image((source.size() * scale).toSize(), QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::white);
        QPainter p(&image);
        p.setRenderHint(QPainter::Antialiasing);
        p.setRenderHint(QPainter::TextAntialiasing);
        m_scene->render(&p, QRectF(QPointF(0, 0), QSizeF(image.size())), source);
        p.end();
        return image.save(path, "PNG") ? true : fail(tr("Cannot write %1").arg(path));
    }
    return fail(tr("Unknown export format \"%1\" (use .svg, .png or .dot)").arg(suffix));
}

void TaskGraphView::exportWithDialog()
{
    QString filter;
    const QString path = QFileDialog::getSaveFileName(this,
                                                      tr("Export task graph"),
                                                      QStringLiteral("taskgraph.svg"),
                                                      tr("SVG image (*.svg);;PNG image (*.png);;"
                                                         "Graphviz DOT (*.dot)"),
                                                      &filter);
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, &error))
        QMessageBox::warning(this, tr("Export task graph"), error);
}

} // namespace taskbench::inspect
