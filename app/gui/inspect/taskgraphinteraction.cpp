// The task graph view's interaction: selection (and its sync with the other views), keyboard
// navigation, highlighting upstream/downstream and paths, the actions and context menu,
// tooltips, zoom and expanding groups.
#include "taskgraphview.h"

#include "accessibletext.h"

#include "graphlayout.h"
#include "taskgraphitems_p.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>
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

namespace taskbench::inspect {

using gui::setLabelText;

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
            setLabelText(m_info,
                         tr("%1 has %2 tasks: too many to draw one by one (limit %3); "
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
            const auto size = m_model.groupSize(node->node().index);
            m_expand->setText(
                tr("Expand group (%1 task(s))", nullptr, int(size)).arg(formatCount(size)));
            menu.addAction(m_expand);
        } else {
            menu.addAction(m_showResult);
        }
        menu.addAction(m_retry);
        menu.addAction(m_cancel);
        menu.addAction(m_release);
        menu.addActions(m_taskActions);
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

} // namespace taskbench::inspect
