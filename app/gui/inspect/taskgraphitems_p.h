// Scene items of the task graph view (private). A node item shows one task or one collapsed
// task group and reads its colours from the GraphModel when painted, so a state change is
// only an update() of the item: nothing is rebuilt. An edge item is a Graphviz spline with
// an arrow head.
#pragma once

#include "graphmodel.h"

#include <QGraphicsItem>
#include <QGraphicsView>
#include <QPainterPath>

namespace taskbench::inspect {

class TaskGraphView;

// Small helpers of the view's parts (taskgraphview.cpp, taskgraphinteraction.cpp,
// taskgraphexport.cpp).
inline bool isRetryable(TaskState s)
{
    return s == TaskState::Erred || s == TaskState::Cancelled || s == TaskState::Lost;
}

inline bool isCancellable(TaskState s)
{
    return s == TaskState::Released || s == TaskState::Waiting || s == TaskState::Queued
           || s == TaskState::Processing;
}

inline bool isAnyState(TaskState s)
{
    return s != TaskState::Forgotten;
}

inline QString htmlEscaped(std::string_view s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size())).toHtmlEscaped();
}

inline QString colorName(const QColor &c)
{
    return c.name(QColor::HexRgb);
}

enum class Emphasis : std::uint8_t { Normal, Related, Dimmed };

class GraphNodeItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 501 };
    GraphNodeItem(const GraphModel *model,
                  DisplayNode node,
                  int displayIndex,
                  QString title,
                  QString subtitle,
                  QSizeF size);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

    const DisplayNode &node() const { return m_node; }
    int displayIndex() const { return m_displayIndex; }
    bool isGroup() const { return m_node.kind == DisplayNode::Kind::Group; }
    void setEmphasis(Emphasis e);
    Emphasis emphasis() const { return m_emphasis; }

    /// The status colours of a task node (fill, border, text) and the dash of its border.
    static void taskColors(NodeStatus status, QColor *fill, QColor *border, QColor *text);

private:
    void paintTask(QPainter *p, qreal lod) const;
    void paintGroup(QPainter *p, qreal lod) const;

    const GraphModel *m_model;
    DisplayNode m_node;
    int m_displayIndex;
    QString m_title;
    QString m_subtitle;
    QRectF m_rect;
    Emphasis m_emphasis = Emphasis::Normal;
};

class GraphEdgeItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 502 };
    GraphEdgeItem(QPainterPath path, QPointF tip, std::uint32_t count, int from, int to);

    int type() const override { return Type; }
    QRectF boundingRect() const override { return m_bounds; }
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;
    int from() const { return m_from; }
    int to() const { return m_to; }
    void setEmphasis(Emphasis e);

private:
    QPainterPath m_path;
    QPolygonF m_arrow;
    QRectF m_bounds;
    std::uint32_t m_count;
    int m_from;
    int m_to;
    Emphasis m_emphasis = Emphasis::Normal;
};

/// The QGraphicsView inside TaskGraphView: zoom with ctrl+wheel, pan by dragging the
/// background, keyboard navigation between nodes, tooltips from the model, context menu.
class GraphCanvas : public QGraphicsView
{
    Q_OBJECT
public:
    GraphCanvas(TaskGraphView *owner, QGraphicsScene *scene);

    void zoomBy(qreal factor, const QPoint &anchor = QPoint(-1, -1));
    qreal zoom() const { return transform().m11(); }

protected:
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    bool viewportEvent(QEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;

private:
    TaskGraphView *m_owner;
    bool m_panning = false;
};

} // namespace taskbench::inspect
