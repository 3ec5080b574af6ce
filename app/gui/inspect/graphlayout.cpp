// Graphviz `dot` through libgvc. Node labels are left empty on purpose: the view draws them,
// and Graphviz does no text layout, so it only places fixed-size boxes and routes splines.
#include "graphlayout.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <QElapsedTimer>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

namespace taskbench::inspect {

namespace {

std::mutex &graphvizMutex()
{
    static std::mutex m;
    return m;
}

struct ContextDeleter
{
    void operator()(GVC_t *gvc) const { gvFreeContext(gvc); }
};

/// One context for the process (loading the plugin configuration is not free); only used
/// under graphvizMutex().
GVC_t *context()
{
    static std::unique_ptr<GVC_t, ContextDeleter> gvc;
    if (!gvc) {
        agseterr(AGERR); // warnings (e.g. about fixed sizes) would only clutter stderr
        gvc.reset(gvContext());
    }
    return gvc.get();
}

char *cstr(const char *s)
{
    return const_cast<char *>(s); // libcgraph's API is not const-correct; it never writes
}

struct GraphCloser
{
    GVC_t *gvc;
    Agraph_t *g;
    bool laidOut = false;
    ~GraphCloser()
    {
        if (laidOut)
            gvFreeLayout(gvc, g);
        agclose(g);
    }
};

} // namespace

LayoutResult layoutGraph(const LayoutRequest &request)
{
    LayoutResult out;
    QElapsedTimer clock;
    clock.start();
    const std::size_t n = request.sizes.size();
    if (n == 0) {
        out.ok = true;
        return out;
    }
    std::lock_guard lock(graphvizMutex());
    GVC_t *gvc = context();
    if (!gvc) {
        out.error = QStringLiteral("Graphviz could not be initialised");
        return out;
    }
    Agraph_t *g = agopen(cstr("G"), Agdirected, nullptr);
    if (!g) {
        out.error = QStringLiteral("Graphviz could not create a graph");
        return out;
    }
    GraphCloser closer{gvc, g};
    agattr(g, AGRAPH, cstr("rankdir"), cstr(request.leftToRight ? "LR" : "TB"));
    agattr(g, AGRAPH, cstr("nodesep"), cstr("0.18"));
    agattr(g, AGRAPH, cstr("ranksep"), cstr("0.42"));
    // Independent tasks (separate submissions, a map without a reduction) would otherwise
    // share one endless rank; packed as a grid of components the graph keeps a readable
    // shape in a dock. A connected graph is laid out exactly as before.
    agattr(g, AGRAPH, cstr("pack"), cstr("12"));
    agattr(g, AGRAPH, cstr("packmode"), cstr("array_t"));
    // Big graphs: fewer crossing-minimisation passes (the default 24 iterations per pass
    // dominates on wide ranks); the result is still clean for map/reduce shapes.
    if (n > 800) {
        agattr(g, AGRAPH, cstr("mclimit"), cstr("0.3"));
        agattr(g, AGRAPH, cstr("nslimit"), cstr("2"));
        agattr(g, AGRAPH, cstr("nslimit1"), cstr("2"));
    }
    // Very big graphs are seen from far away: straight edges route in a fraction of the time.
    if (n > 1500)
        agattr(g, AGRAPH, cstr("splines"), cstr("line"));
    agattr(g, AGNODE, cstr("shape"), cstr("box"));
    agattr(g, AGNODE, cstr("fixedsize"), cstr("true"));
    agattr(g, AGNODE, cstr("label"), cstr(""));
    Agsym_t *widthSym = agattr(g, AGNODE, cstr("width"), cstr("1"));
    Agsym_t *heightSym = agattr(g, AGNODE, cstr("height"), cstr("0.5"));
    agattr(g, AGEDGE, cstr("arrowsize"), cstr("0.6"));

    std::vector<Agnode_t *> nodes(n);
    char name[32];
    char number[32];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(name, sizeof name, "n%zu", i);
        nodes[i] = agnode(g, name, 1);
        std::snprintf(number, sizeof number, "%.4f", request.sizes[i].width() / 72.0);
        agxset(nodes[i], widthSym, number);
        std::snprintf(number, sizeof number, "%.4f", request.sizes[i].height() / 72.0);
        agxset(nodes[i], heightSym, number);
    }
    std::vector<Agedge_t *> edges(request.edges.size(), nullptr);
    for (std::size_t i = 0; i < request.edges.size(); ++i) {
        const auto [a, b] = request.edges[i];
        if (a < 0 || b < 0 || std::size_t(a) >= n || std::size_t(b) >= n)
            continue;
        edges[i] = agedge(g, nodes[std::size_t(a)], nodes[std::size_t(b)], nullptr, 1);
    }
    if (gvLayout(gvc, g, "dot") != 0) {
        out.error = QStringLiteral("Graphviz dot layout failed");
        return out;
    }
    closer.laidOut = true;

    // Graphviz has y up with the origin at the bottom left: flip into scene coordinates.
    const boxf bb = GD_bb(g);
    const double top = bb.UR.y;
    auto toScene = [top](pointf p) { return QPointF(p.x, top - p.y); };
    out.bounds = QRectF(QPointF(bb.LL.x, 0), QPointF(bb.UR.x, bb.UR.y - bb.LL.y));
    out.centers.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        out.centers[i] = toScene(ND_coord(nodes[i]));
    out.edgePaths.resize(edges.size());
    out.arrowTips.resize(edges.size());
    for (std::size_t i = 0; i < edges.size(); ++i) {
        Agedge_t *e = edges[i];
        if (!e)
            continue;
        const splines *spl = ED_spl(e);
        if (!spl || spl->size < 1 || spl->list[0].size < 1) {
            // No spline (should not happen with dot): a straight line between the centres.
            const auto [a, b] = request.edges[i];
            QPainterPath p(out.centers[std::size_t(a)]);
            p.lineTo(out.centers[std::size_t(b)]);
            out.edgePaths[i] = p;
            out.arrowTips[i] = out.centers[std::size_t(b)];
            continue;
        }
        QPainterPath path;
        for (int part = 0; part < spl->size; ++part) {
            const bezier &bz = spl->list[part];
            if (bz.size < 1)
                continue;
            const QPointF start = toScene(bz.list[0]);
            if (part == 0)
                path.moveTo(bz.sflag ? toScene(bz.sp) : start);
            if (part == 0 && bz.sflag)
                path.lineTo(start);
            for (int k = 1; k + 2 < bz.size; k += 3)
                path.cubicTo(toScene(bz.list[k]), toScene(bz.list[k + 1]), toScene(bz.list[k + 2]));
        }
        const bezier &last = spl->list[spl->size - 1];
        out.arrowTips[i] = last.eflag ? toScene(last.ep) : toScene(last.list[last.size - 1]);
        out.edgePaths[i] = path;
    }
    out.ok = true;
    out.elapsedMs = double(clock.nsecsElapsed()) / 1e6;
    return out;
}

namespace {

QByteArray quoted(const QString &s)
{
    QByteArray out = "\"";
    for (QChar c : s) {
        if (c == QLatin1Char('"') || c == QLatin1Char('\\'))
            out += '\\';
        if (c == QLatin1Char('\n')) {
            out += "\\n";
            continue;
        }
        out += QString(c).toUtf8();
    }
    out += '"';
    return out;
}

} // namespace

QByteArray writeDot(const DotGraph &graph)
{
    QByteArray out;
    out += "digraph " + quoted(graph.name) + " {\n";
    out += QByteArray("  graph [rankdir=") + (graph.leftToRight ? "LR" : "TB")
           + ", nodesep=0.25, ranksep=0.5, fontname=\"sans-serif\"];\n";
    out += "  node [shape=box, style=\"filled,rounded\", fontname=\"sans-serif\", "
           "fontsize=11];\n";
    out += "  edge [color=\"#8a93a0\", arrowsize=0.7];\n";
    for (const DotGraph::Node &n : graph.nodes) {
        out += "  " + quoted(n.id) + " [label=" + quoted(n.label);
        if (!n.tooltip.isEmpty())
            out += ", tooltip=" + quoted(n.tooltip);
        if (!n.fillColor.isEmpty())
            out += ", fillcolor=" + quoted(n.fillColor);
        if (!n.fontColor.isEmpty())
            out += ", fontcolor=" + quoted(n.fontColor);
        if (!n.color.isEmpty())
            out += ", color=" + quoted(n.color);
        if (!n.style.isEmpty())
            out += ", style=" + quoted(n.style);
        if (n.penWidth != 1)
            out += ", penwidth=" + QByteArray::number(n.penWidth);
        out += "];\n";
    }
    for (const DotGraph::Edge &e : graph.edges) {
        out += "  " + quoted(e.from) + " -> " + quoted(e.to);
        if (!e.label.isEmpty())
            out += " [label=" + quoted(e.label) + "]";
        out += ";\n";
    }
    out += "}\n";
    return out;
}

} // namespace taskbench::inspect
