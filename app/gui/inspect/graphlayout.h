// Graph layout with Graphviz `dot` (libgvc) and DOT text export. layoutGraph() is plain data
// in, plain data out, so it runs on any thread (the view runs it through QtConcurrent);
// Graphviz keeps global state, so calls are serialized internally.
#pragma once

#include <QPainterPath>
#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QString>

#include <utility>
#include <vector>

namespace taskbench::inspect {

struct LayoutRequest
{
    std::vector<QSizeF> sizes;              ///< node sizes in scene units (points)
    std::vector<std::pair<int, int>> edges; ///< (from, to) node indexes
    bool leftToRight = false;               ///< rankdir LR instead of TB
};

struct LayoutResult
{
    bool ok = false;
    QString error;
    std::vector<QPointF> centers;        ///< per node, scene coordinates (y down)
    std::vector<QPainterPath> edgePaths; ///< per edge, from the tail to the arrow's base
    std::vector<QPointF> arrowTips;      ///< per edge, where the arrow head points
    QRectF bounds;
    double elapsedMs = 0;
};

/// Runs `dot` on the request. Thread-safe (serialized); never throws.
LayoutResult layoutGraph(const LayoutRequest &request);

/// A graph to write as DOT text (the export; re-renderable with `dot -Tsvg`).
struct DotGraph
{
    struct Node
    {
        QString id;
        QString label;
        QString tooltip;
        QString fillColor; ///< "#rrggbb"
        QString fontColor;
        QString color; ///< border
        QString style; ///< "filled,rounded", "filled,dashed"
        double penWidth = 1;
    };
    struct Edge
    {
        QString from;
        QString to;
        QString label;
    };
    QString name = QStringLiteral("taskbench");
    bool leftToRight = false;
    std::vector<Node> nodes;
    std::vector<Edge> edges;
};

QByteArray writeDot(const DotGraph &graph);

} // namespace taskbench::inspect
