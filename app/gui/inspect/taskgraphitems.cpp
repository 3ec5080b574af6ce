// Painting of the task graph's nodes and edges, and the canvas' input handling.
#include "taskgraphitems_p.h"

#include "taskgraphview.h"

#include <QContextMenuEvent>
#include <QGraphicsScene>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QPainter>
#include <QScrollBar>
#include <QStyleOptionGraphicsItem>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace taskbench::inspect {

namespace {

const QColor kSelection(0x1f, 0x6f, 0xeb);
const QColor kRelated(0xf5, 0xa6, 0x23);
const QColor kEdge(0x9a, 0xa3, 0xad);

QFont titleFont()
{
    QFont f;
    f.setPointSizeF(9.5);
    f.setBold(true);
    return f;
}

QFont smallFont()
{
    QFont f;
    f.setPointSizeF(8);
    return f;
}

/// The "!" badge of a root-cause error.
void paintBadge(QPainter *p, QPointF centre, qreal radius)
{
    p->setPen(QPen(Qt::white, 1.5));
    p->setBrush(nodeStatusColor(NodeStatus::ErrorRoot).darker(115));
    p->drawEllipse(centre, radius, radius);
    QFont f;
    f.setBold(true);
    f.setPixelSize(int(radius * 1.5));
    p->setFont(f);
    p->setPen(Qt::white);
    p->drawText(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius),
                Qt::AlignCenter,
                QStringLiteral("!"));
}

} // namespace

GraphNodeItem::GraphNodeItem(const GraphModel *model,
                             DisplayNode node,
                             int displayIndex,
                             QString title,
                             QString subtitle,
                             QSizeF size)
    : m_model(model)
    , m_node(node)
    , m_displayIndex(displayIndex)
    , m_title(std::move(title))
    , m_subtitle(std::move(subtitle))
    , m_rect(-size.width() / 2, -size.height() / 2, size.width(), size.height())
{
    setFlag(ItemIsSelectable);
    setAcceptHoverEvents(false);
    // No item cache: a node is a few primitives, and 2,000 small cache pixmaps would cost
    // more on the first frame than they ever save.
}

QRectF GraphNodeItem::boundingRect() const
{
    // Room for the selection ring, the root-cause badge and the group's stacked cards.
    return m_rect.adjusted(-6, -9, 9, 6);
}

QPainterPath GraphNodeItem::shape() const
{
    QPainterPath p;
    p.addRoundedRect(m_rect, 6, 6);
    return p;
}

void GraphNodeItem::setEmphasis(Emphasis e)
{
    if (m_emphasis == e)
        return;
    m_emphasis = e;
    setOpacity(e == Emphasis::Dimmed ? 0.22 : 1.0);
    update();
}

void GraphNodeItem::taskColors(NodeStatus status, QColor *fill, QColor *border, QColor *text)
{
    const QColor c = nodeStatusColor(status);
    switch (status) {
    case NodeStatus::Pending:
        // Hollow, like the table's pending icon: nothing has happened yet.
        *fill = QColor(0xf1, 0xf3, 0xf5);
        *border = c;
        *text = QColor(0x3d, 0x44, 0x4d);
        return;
    case NodeStatus::ErrorPropagated:
        *fill = c;
        *border = nodeStatusColor(NodeStatus::ErrorRoot);
        *text = QColor(0x8e, 0x1b, 0x22);
        return;
    default:
        *fill = c;
        *border = c.darker(135);
        *text = textColorOn(c);
        return;
    }
}

void GraphNodeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *)
{
    const qreal lod = option->levelOfDetailFromTransform(painter->worldTransform());
    if (isGroup())
        paintGroup(painter, lod);
    else
        paintTask(painter, lod);
    if (isSelected() || m_emphasis == Emphasis::Related) {
        painter->setBrush(Qt::NoBrush);
        painter->setPen(QPen(isSelected() ? kSelection : kRelated, isSelected() ? 3 : 2.5));
        painter->drawRoundedRect(m_rect.adjusted(-3.5, -3.5, 3.5, 3.5), 8, 8);
    }
}

void GraphNodeItem::paintTask(QPainter *p, qreal lod) const
{
    const NodeStatus status = m_model->status(m_node.index);
    QColor fill, border, text;
    taskColors(status, &fill, &border, &text);
    if (lod < 0.2) {
        // Far out: a coloured block says all there is to see; skip text and curves.
        p->fillRect(m_rect, status == NodeStatus::Pending ? border : fill);
        return;
    }
    p->setRenderHint(QPainter::Antialiasing);
    QPen pen(border, status == NodeStatus::ErrorRoot ? 2.5 : 1.2);
    if (status == NodeStatus::ErrorPropagated)
        pen.setStyle(Qt::DashLine);
    p->setPen(pen);
    p->setBrush(fill);
    p->drawRoundedRect(m_rect, 6, 6);
    if (lod >= 0.33) {
        p->setFont(titleFont());
        p->setPen(text);
        const QRectF textRect = m_rect.adjusted(8, 0, -8, 0);
        p->drawText(textRect,
                    Qt::AlignCenter,
                    p->fontMetrics().elidedText(m_title, Qt::ElideRight, int(textRect.width())));
    }
    if (status == NodeStatus::ErrorRoot)
        paintBadge(p, m_rect.topRight() + QPointF(-2, 1), 7);
}

void GraphNodeItem::paintGroup(QPainter *p, qreal lod) const
{
    const StatusCounts &counts = m_model->groupCounts(m_node.index);
    const std::uint32_t total = m_model->groupSize(m_node.index);
    p->setRenderHint(QPainter::Antialiasing, lod >= 0.3);
    const QColor card(0xfa, 0xfb, 0xfc);
    const QColor outline(0x57, 0x60, 0x6a);
    // Two offset cards behind: "many tasks in here".
    p->setPen(QPen(outline.lighter(160), 1));
    p->setBrush(card.darker(104));
    p->drawRoundedRect(m_rect.translated(6, -6), 7, 7);
    p->drawRoundedRect(m_rect.translated(3, -3), 7, 7);
    p->setPen(QPen(outline, 1.4));
    p->setBrush(card);
    p->drawRoundedRect(m_rect, 7, 7);

    // The stacked bar of counts per status.
    const QRectF bar(m_rect.left() + 10, m_rect.bottom() - 15, m_rect.width() - 20, 8);
    if (total > 0) {
        qreal x = bar.left();
        for (int s = 0; s < kNodeStatusCount; ++s) {
            if (counts[std::size_t(s)] == 0)
                continue;
            qreal w = bar.width() * counts[std::size_t(s)] / qreal(total);
            w = std::max<qreal>(w, 2.0); // a single error among 100,000 must stay visible
            w = std::min(w, bar.right() - x);
            p->fillRect(QRectF(x, bar.top(), w, bar.height()), nodeStatusColor(NodeStatus(s)));
            x += w;
        }
    }
    p->setPen(QPen(outline.lighter(130), 0.8));
    p->setBrush(Qt::NoBrush);
    p->drawRect(bar);
    if (lod >= 0.33) {
        const QRectF titleRect(m_rect.left() + 10, m_rect.top() + 5, m_rect.width() - 20, 18);
        qreal subtitleWidth = 0;
        p->setFont(titleFont());
        const qreal titleWidth = p->fontMetrics().horizontalAdvance(m_title);
        p->setFont(smallFont());
        if (!m_subtitle.isEmpty()) {
            p->setPen(QColor(0x8c, 0x95, 0x9f));
            subtitleWidth
                = std::min(std::max(titleRect.width() - titleWidth - 8, titleRect.width() / 3),
                           qreal(p->fontMetrics().horizontalAdvance(m_subtitle)));
            // A little slack: elidedText() rounds differently from horizontalAdvance().
            p->drawText(titleRect,
                        Qt::AlignRight | Qt::AlignVCenter,
                        p->fontMetrics().elidedText(
                            m_subtitle, Qt::ElideLeft, int(std::ceil(subtitleWidth)) + 2));
        }
        p->setPen(QColor(0x1f, 0x23, 0x28));
        p->setFont(titleFont());
        p->drawText(titleRect,
                    Qt::AlignLeft | Qt::AlignVCenter,
                    p->fontMetrics().elidedText(
                        m_title, Qt::ElideRight, int(titleRect.width() - subtitleWidth - 6)));
        p->setFont(smallFont());
        p->setPen(QColor(0x57, 0x60, 0x6a));
        // Counts summary: the states that are present, most urgent first.
        static const NodeStatus order[] = {NodeStatus::ErrorRoot,
                                           NodeStatus::ErrorPropagated,
                                           NodeStatus::Held,
                                           NodeStatus::Processing,
                                           NodeStatus::Pending,
                                           NodeStatus::Finished,
                                           NodeStatus::Cancelled,
                                           NodeStatus::Lost};
        QStringList parts;
        for (NodeStatus s : order) {
            const std::uint32_t c = counts[std::size_t(s)];
            if (c == 0)
                continue;
            QString label = nodeStatusLabel(s);
            if (s == NodeStatus::ErrorRoot)
                label = QStringLiteral("failed");
            else if (s == NodeStatus::ErrorPropagated)
                label = QStringLiteral("upstream failed");
            parts << QStringLiteral("%1 %2").arg(formatCount(c), label);
        }
        const QRectF line(m_rect.left() + 10, m_rect.top() + 22, m_rect.width() - 20, 14);
        p->drawText(line,
                    Qt::AlignLeft | Qt::AlignVCenter,
                    p->fontMetrics().elidedText(
                        parts.join(QStringLiteral(" · ")), Qt::ElideRight, int(line.width())));
    }
    if (counts[std::size_t(NodeStatus::ErrorRoot)] > 0)
        paintBadge(p, m_rect.topRight() + QPointF(-2, 1), 7);
}

GraphEdgeItem::GraphEdgeItem(QPainterPath path, QPointF tip, std::uint32_t count, int from, int to)
    : m_path(std::move(path))
    , m_count(count)
    , m_from(from)
    , m_to(to)
{
    setZValue(-1);
    const QPointF end = m_path.elementCount() > 0 ? m_path.currentPosition() : tip;
    QLineF dir(end, tip);
    if (dir.length() < 0.5) {
        // No separate arrow point: aim along the path's last tangent.
        const qreal angle = m_path.angleAtPercent(1.0);
        dir = QLineF(tip, tip + QPointF(1, 0));
        dir.setAngle(angle);
        dir.setLength(8);
        dir = QLineF(tip - (dir.p2() - tip), tip);
    }
    const qreal len = 8;
    QLineF back(dir.p2(), dir.p1());
    back.setLength(len);
    QLineF left = back;
    left.setAngle(back.angle() + 25);
    QLineF right = back;
    right.setAngle(back.angle() - 25);
    m_arrow << dir.p2() << left.p2() << right.p2();
    m_bounds = m_path.boundingRect().united(m_arrow.boundingRect()).adjusted(-4, -4, 4, 4);
    if (m_count > 1)
        m_bounds = m_bounds.united(QRectF(m_path.pointAtPercent(0.5), QSizeF(60, 16)));
}

void GraphEdgeItem::setEmphasis(Emphasis e)
{
    if (m_emphasis == e)
        return;
    m_emphasis = e;
    setOpacity(e == Emphasis::Dimmed ? 0.15 : 1.0);
    update();
}

void GraphEdgeItem::paint(QPainter *p, const QStyleOptionGraphicsItem *option, QWidget *)
{
    const qreal lod = option->levelOfDetailFromTransform(p->worldTransform());
    const QColor c = m_emphasis == Emphasis::Related ? kRelated.darker(110) : kEdge;
    if (lod < 0.2) {
        // Far out: a hairline from tail to head says as much as the spline, much cheaper.
        p->setPen(QPen(c, 0));
        p->drawLine(m_path.elementCount() > 0 ? QPointF(m_path.elementAt(0)) : m_arrow.front(),
                    m_arrow.front());
        return;
    }
    p->setRenderHint(QPainter::Antialiasing, lod >= 0.3);
    qreal width = 1.2 + (m_count > 1 ? std::min(4.0, std::log10(double(m_count))) : 0.0);
    if (m_emphasis == Emphasis::Related)
        width += 1;
    p->setPen(QPen(c, width));
    p->setBrush(Qt::NoBrush);
    p->drawPath(m_path);
    p->setPen(Qt::NoPen);
    p->setBrush(c);
    p->drawPolygon(m_arrow);
    if (m_count > 1 && lod >= 0.33) {
        QFont f = smallFont();
        p->setFont(f);
        p->setPen(QColor(0x57, 0x60, 0x6a));
        p->drawText(m_path.pointAtPercent(0.5) + QPointF(6, 4),
                    QStringLiteral("×%1").arg(formatCount(m_count)));
    }
}

// ---------------------------------------------------------------------------------------

GraphCanvas::GraphCanvas(TaskGraphView *owner, QGraphicsScene *scene)
    : QGraphicsView(scene, owner)
    , m_owner(owner)
{
    setDragMode(ScrollHandDrag);
    setTransformationAnchor(AnchorUnderMouse);
    setResizeAnchor(AnchorViewCenter);
    setViewportUpdateMode(SmartViewportUpdate);
    setRenderHint(QPainter::Antialiasing);
    setRenderHint(QPainter::TextAntialiasing);
    setFocusPolicy(Qt::StrongFocus);
    setFrameShape(QFrame::NoFrame);
    setOptimizationFlag(DontSavePainterState);
    // Only real scroll bar use counts as navigation (layouts move the bars too).
    connect(horizontalScrollBar(), &QScrollBar::actionTriggered, this, [this] {
        m_owner->noteUserNavigation();
    });
    connect(verticalScrollBar(), &QScrollBar::actionTriggered, this, [this] {
        m_owner->noteUserNavigation();
    });
}

void GraphCanvas::zoomBy(qreal factor, const QPoint &anchor)
{
    const qreal current = zoom();
    const qreal target = std::clamp(current * factor, 0.02, 4.0);
    if (qFuzzyCompare(target, current))
        return;
    const ViewportAnchor old = transformationAnchor();
    setTransformationAnchor(anchor.x() >= 0 ? AnchorUnderMouse : AnchorViewCenter);
    scale(target / current, target / current);
    setTransformationAnchor(old);
}

void GraphCanvas::wheelEvent(QWheelEvent *event)
{
    if (event->modifiers() & Qt::ControlModifier) {
        const int delta = event->angleDelta().y();
        if (delta != 0) {
            zoomBy(std::pow(1.0015, delta), event->position().toPoint());
            m_owner->noteUserNavigation();
        }
        event->accept();
        return;
    }
    QGraphicsView::wheelEvent(event);
    m_owner->noteUserNavigation();
}

void GraphCanvas::keyPressEvent(QKeyEvent *event)
{
    const bool shift = event->modifiers() & Qt::ShiftModifier;
    int dx = 0;
    int dy = 0;
    switch (event->key()) {
    case Qt::Key_Left:
        dx = -1;
        break;
    case Qt::Key_Right:
        dx = 1;
        break;
    case Qt::Key_Up:
        dy = -1;
        break;
    case Qt::Key_Down:
        dy = 1;
        break;
    default:
        QGraphicsView::keyPressEvent(event);
        return;
    }
    if (shift) {
        // Shift+arrows pan the view.
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() + dx * 60);
        verticalScrollBar()->setValue(verticalScrollBar()->value() + dy * 60);
        m_owner->noteUserNavigation();
    } else {
        // Arrows walk the graph: up to a dependency, down to a dependent, sideways in a rank.
        m_owner->navigate(dx, dy);
    }
    event->accept();
}

void GraphCanvas::mousePressEvent(QMouseEvent *event)
{
    // Shift+drag on the background draws a rubber band instead of panning.
    const bool background = !itemAt(event->position().toPoint());
    if (event->button() == Qt::LeftButton && (event->modifiers() & Qt::ShiftModifier) && background)
        setDragMode(RubberBandDrag);
    m_panning = event->button() == Qt::LeftButton && background && dragMode() == ScrollHandDrag;
    QGraphicsView::mousePressEvent(event);
}

void GraphCanvas::mouseReleaseEvent(QMouseEvent *event)
{
    QGraphicsView::mouseReleaseEvent(event);
    m_panning = false;
    if (dragMode() == RubberBandDrag)
        setDragMode(ScrollHandDrag);
}

void GraphCanvas::mouseDoubleClickEvent(QMouseEvent *event)
{
    if (auto *node = qgraphicsitem_cast<GraphNodeItem *>(itemAt(event->position().toPoint()))) {
        m_owner->activateNode(node);
        event->accept();
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphCanvas::contextMenuEvent(QContextMenuEvent *event)
{
    GraphNodeItem *node = nullptr;
    QPoint pos = event->pos();
    if (event->reason() == QContextMenuEvent::Mouse) {
        node = qgraphicsitem_cast<GraphNodeItem *>(itemAt(pos));
    } else {
        // Keyboard (menu key, shift+F10): open at the current node.
        const auto selected = scene()->selectedItems();
        for (QGraphicsItem *item : selected)
            if ((node = qgraphicsitem_cast<GraphNodeItem *>(item)))
                break;
        if (node)
            pos = mapFromScene(node->sceneBoundingRect().center());
        else
            pos = viewport()->rect().center();
    }
    m_owner->showContextMenu(node, viewport()->mapToGlobal(pos));
    event->accept();
}

bool GraphCanvas::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        auto *node = qgraphicsitem_cast<GraphNodeItem *>(itemAt(help->pos()));
        if (node)
            QToolTip::showText(help->globalPos(), m_owner->toolTipFor(node), viewport());
        else
            QToolTip::hideText();
        return true;
    }
    return QGraphicsView::viewportEvent(event);
}

void GraphCanvas::mouseMoveEvent(QMouseEvent *event)
{
    // Dragging the background pans: the user has taken over the view.
    if (m_panning && (event->buttons() & Qt::LeftButton))
        m_owner->noteUserNavigation();
    QGraphicsView::mouseMoveEvent(event);
}

} // namespace taskbench::inspect
