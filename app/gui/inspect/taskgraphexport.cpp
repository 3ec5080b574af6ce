// The task graph view's exports: DOT text, and SVG or PNG of the scene.
#include "taskgraphview.h"

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
            tr("%1 task(s), exported by Taskbench", nullptr, int(m_model.taskCount()))
                .arg(formatCount(m_model.taskCount())));
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
