// The task graph view: Graphviz layout (a position for every node, ranks in dependency
// order), recolouring in place without relayout, debounced relayouts on structural change,
// collapse/expand, selection sync both ways, context actions, highlighting, keyboard
// navigation, exports (DOT parsed back by Graphviz, SVG as XML, PNG as an image) and
// accessible names.
#include "inspect/graphlayout.h"
#include "inspect/syntheticevents.h"
#include "inspect/taskgraphitems_p.h"
#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"

#include "eventbuilders.h"

#include <graphviz/cgraph.h>

#include <QAction>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QToolBar>
#include <QXmlStreamReader>
#include <QtTest>

using namespace taskbench;
using namespace taskbench::inspect;
using namespace testsupport;

namespace {

/// a(1), b(2) -> c(3) -> d(4); e(5) alone.
EventBatch diamond()
{
    EventBatch b = synthetic::map(2, "bench.inc", "inc-map-1", 1);
    EventBatch c = synthetic::map(1, "bench.add", "add", 3);
    c.front().detail().deps = {1, 2};
    EventBatch d = synthetic::map(1, "bench.double", "double", 4);
    d.front().detail().deps = {3};
    EventBatch e = synthetic::map(1, "bench.noop", "noop", 5);
    for (EventBatch *x : {&c, &d, &e})
        b.insert(b.end(), x->begin(), x->end());
    return b;
}

GraphNodeItem *nodeItem(TaskGraphView &view, quint64 id)
{
    const auto rect = view.nodeRect(id);
    if (!rect)
        return nullptr;
    for (QGraphicsItem *item : view.scene()->items(rect->center()))
        if (auto *n = qgraphicsitem_cast<GraphNodeItem *>(item))
            return n;
    return nullptr;
}

QPoint viewportPoint(TaskGraphView &view, QPointF scenePoint)
{
    return view.graphicsView()->mapFromScene(scenePoint);
}

/// The colour the user sees just inside the node's left edge.
QColor nodeFillOnScreen(TaskGraphView &view, quint64 id)
{
    const QRectF r = *view.nodeRect(id);
    const QImage image = view.graphicsView()->viewport()->grab().toImage();
    const QPoint p = viewportPoint(view, QPointF(r.left() + 5, r.center().y() - 8));
    return image.pixelColor(p * image.devicePixelRatio());
}

bool close(const QColor &a, const QColor &b)
{
    return std::abs(a.red() - b.red()) < 12 && std::abs(a.green() - b.green()) < 12
           && std::abs(a.blue() - b.blue()) < 12;
}

void waitLaidOut(TaskGraphView &view, int nodes)
{
    QTRY_VERIFY_WITH_TIMEOUT(!view.isLayoutPending() && view.displayedNodeCount() == nodes, 10000);
}

} // namespace

class tst_TaskGraphView : public QObject
{
    Q_OBJECT
private slots:
    void test_layoutGivesEveryNodeAPosition_data()
    {
        QTest::addColumn<bool>("leftToRight");
        QTest::newRow("top-down") << false;
        QTest::newRow("left-right") << true;
    }
    void test_layoutGivesEveryNodeAPosition()
    {
        QFETCH(bool, leftToRight);
        GraphModel model;
        model.applyEvents(synthetic::mapReduce(16, 1));
        const DisplayGraph d = model.buildDisplay(500);
        LayoutRequest request;
        request.leftToRight = leftToRight;
        for (std::size_t i = 0; i < d.nodes.size(); ++i)
            request.sizes.emplace_back(80, 30);
        for (const DisplayEdge &e : d.edges)
            request.edges.emplace_back(int(e.from), int(e.to));
        const LayoutResult r = layoutGraph(request);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.centers.size(), d.nodes.size());
        QCOMPARE(r.edgePaths.size(), d.edges.size());
        std::vector<QRectF> boxes;
        for (const QPointF &c : r.centers) {
            const QRectF box(c - QPointF(40, 15), QSizeF(80, 30));
            QVERIFY(r.bounds.adjusted(-1, -1, 1, 1).contains(box));
            for (const QRectF &other : boxes)
                QVERIFY(!box.adjusted(1, 1, -1, -1).intersects(other)); // no overlaps
            boxes.push_back(box);
        }
        // Dependencies come first along the rank direction; every edge has a path.
        for (std::size_t i = 0; i < d.edges.size(); ++i) {
            const QPointF a = r.centers[d.edges[i].from];
            const QPointF b = r.centers[d.edges[i].to];
            QVERIFY(leftToRight ? b.x() > a.x() : b.y() > a.y());
            QVERIFY(r.edgePaths[i].elementCount() >= 2);
            QVERIFY2(QLineF(r.arrowTips[i], b).length() < 45,
                     qPrintable(QStringLiteral("tip (%1,%2) centre (%3,%4)")
                                    .arg(r.arrowTips[i].x())
                                    .arg(r.arrowTips[i].y())
                                    .arg(b.x())
                                    .arg(b.y())));
        }
    }

    void test_layoutOfEmptyAndSingle()
    {
        QVERIFY(layoutGraph({}).ok);
        LayoutRequest one;
        one.sizes = {QSizeF(100, 40)};
        const LayoutResult r = layoutGraph(one);
        QVERIFY(r.ok);
        QCOMPARE(r.centers.size(), std::size_t(1));
    }

    void test_viewLaysOutAndRecoloursInPlace()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        QSignalSpy laidOut(&view, &TaskGraphView::layoutApplied);
        view.applyEvents(diamond());
        waitLaidOut(view, 5);
        QCOMPARE(laidOut.count(), 1);
        QCOMPARE(view.displayedEdgeCount(), 3);
        for (quint64 id = 1; id <= 5; ++id)
            QVERIFY(view.nodeRect(id).has_value());
        QColor fill, border, text;
        GraphNodeItem::taskColors(NodeStatus::Pending, &fill, &border, &text);
        QVERIFY(close(nodeFillOnScreen(view, 3), fill));

        // State changes only: recoloured, no new layout.
        view.applyEvents({transition(1, TaskState::Released, TaskState::Memory),
                          transition(2, TaskState::Released, TaskState::Erred),
                          transition(3, TaskState::Released, TaskState::Erred, "dependency failed"),
                          transition(4, TaskState::Released, TaskState::Processing)});
        QVERIFY(!view.isLayoutPending());
        QCoreApplication::processEvents();
        QCOMPARE(laidOut.count(), 1);
        QVERIFY(close(nodeFillOnScreen(view, 1), nodeStatusColor(NodeStatus::Finished)));
        QVERIFY(close(nodeFillOnScreen(view, 2), nodeStatusColor(NodeStatus::ErrorRoot)));
        QVERIFY(close(nodeFillOnScreen(view, 3), nodeStatusColor(NodeStatus::ErrorPropagated)));
        QVERIFY(close(nodeFillOnScreen(view, 4), nodeStatusColor(NodeStatus::Processing)));
    }

    void test_structuralChangesRelayoutDebounced()
    {
        TaskGraphView view;
        view.setRelayoutInterval(300);
        view.resize(900, 600);
        view.show();
        QSignalSpy laidOut(&view, &TaskGraphView::layoutApplied);
        view.applyEvents(synthetic::map(3, "bench.inc", "inc-map-1", 1));
        waitLaidOut(view, 3);
        // A burst of structural changes: far fewer layouts than batches.
        for (std::uint64_t id = 4; id < 14; ++id)
            view.applyEvents(synthetic::map(1, "bench.inc", "inc-map-1", id));
        QVERIFY(view.isLayoutPending());
        waitLaidOut(view, 13);
        QVERIFY2(laidOut.count() <= 3, qPrintable(QString::number(laidOut.count())));
        // Forgetting is structural too.
        view.applyEvents({transition(13, TaskState::Memory, TaskState::Forgotten)});
        waitLaidOut(view, 12);
    }

    void test_collapseAboveThresholdAndExpandOnDoubleClick()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        EventBatch b = synthetic::map(600, "bench.inc", "inc-map-1", 1);
        EventBatch d = synthetic::map(3, "bench.double", "double", 601);
        for (std::size_t k = 0; k < d.size(); ++k)
            d[k].detail().deps = {std::uint64_t(k + 1)};
        b.insert(b.end(), d.begin(), d.end());
        view.applyEvents(b);
        waitLaidOut(view, 2);
        QVERIFY(view.isCollapsed());
        QCOMPARE(view.displayedEdgeCount(), 1);
        // Every task maps to its group's node.
        QCOMPARE(*view.nodeRect(1), *view.nodeRect(600));
        GraphNodeItem *group = nodeItem(view, 601);
        QVERIFY(group && group->isGroup());
        view.graphicsView()->centerOn(group);
        QTest::mouseDClick(view.graphicsView()->viewport(),
                           Qt::LeftButton,
                           {},
                           viewportPoint(view, group->sceneBoundingRect().center()));
        waitLaidOut(view, 4);
        QVERIFY(view.isGroupExpanded(QStringLiteral("double")));
        QVERIFY(!nodeItem(view, 601)->isGroup());
        // Collapse again.
        view.setGroupExpanded(QStringLiteral("double"), false);
        waitLaidOut(view, 2);
        // A group over the expand limit stays collapsed.
        view.setExpandLimit(100);
        view.setGroupExpanded(QStringLiteral("inc-map-1"), true);
        QTRY_VERIFY_WITH_TIMEOUT(!view.isLayoutPending(), 10000);
        QCOMPARE(view.displayedNodeCount(), 2);
    }

    void test_hundredThousandTasksAreOneNode()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        QElapsedTimer t;
        t.start();
        view.applyEvents(synthetic::map(100000, "bench.inc", "inc-map-big", 1));
        waitLaidOut(view, 1);
        qInfo("100,000 tasks collapsed and on screen in %lld ms", t.elapsed());
        QVERIFY(view.isCollapsed());
    }

    void test_selectionSyncBothWays()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        view.applyEvents(diamond());
        waitLaidOut(view, 5);
        QSignalSpy selected(&view, &TaskGraphView::taskSelected);
        // A click in the graph announces the task.
        GraphNodeItem *c = nodeItem(view, 3);
        QTest::mouseClick(view.graphicsView()->viewport(),
                          Qt::LeftButton,
                          {},
                          viewportPoint(view, c->sceneBoundingRect().center()));
        QCOMPARE(selected.count(), 1);
        QCOMPARE(selected.takeFirst().at(0).toULongLong(), 3ull);
        QCOMPARE(view.selectedTasks(), QList<quint64>{3});
        // A selection from elsewhere (the table) selects without echoing back.
        view.selectTasks({4});
        QCOMPARE(selected.count(), 0);
        QCOMPARE(view.selectedTasks(), QList<quint64>{4});
        QVERIFY(nodeItem(view, 4)->isSelected());
        QVERIFY(!nodeItem(view, 3)->isSelected());
        // Kept across a relayout.
        view.applyEvents(synthetic::map(1, "bench.noop", "noop", 6));
        waitLaidOut(view, 6);
        QVERIFY(nodeItem(view, 4)->isSelected());
        // Selecting a task not laid out yet selects it once it is.
        view.applyEvents(synthetic::map(1, "bench.noop", "noop", 7));
        view.selectTasks({7});
        waitLaidOut(view, 7);
        QVERIFY(nodeItem(view, 7)->isSelected());
    }

    void test_linkedViewsSelectEachOtherWithoutEcho()
    {
        // The wiring the main window does between the table, the graph and the stream.
        TaskGraphView graph;
        TaskStreamView stream;
        graph.resize(800, 500);
        stream.resize(800, 300);
        QObject::connect(&graph, &TaskGraphView::taskSelected, &stream, [&](quint64 id) {
            stream.selectTasks({id});
        });
        QObject::connect(&stream, &TaskStreamView::taskSelected, &graph, [&](quint64 id) {
            graph.selectTasks({id});
        });
        graph.show();
        stream.show();
        EventBatch batch = diamond();
        Event w;
        w.kind = EventKind::WorkerAdded;
        w.worker = 0;
        w.value = 1;
        batch.push_back(w);
        for (std::uint64_t id = 1; id <= 5; ++id) {
            Event f;
            f.kind = EventKind::ExecutionFinished;
            f.task = id;
            f.worker = 0;
            f.thread = 0;
            f.startUs = std::int64_t(id) * 1000;
            f.timeUs = f.startUs + 800;
            batch.push_back(f);
        }
        graph.applyEvents(batch);
        stream.applyEvents(batch);
        waitLaidOut(graph, 5);
        QSignalSpy fromGraph(&graph, &TaskGraphView::taskSelected);
        QSignalSpy fromStream(&stream, &TaskStreamView::taskSelected);
        QTest::mouseClick(graph.graphicsView()->viewport(),
                          Qt::LeftButton,
                          {},
                          viewportPoint(graph, nodeItem(graph, 3)->sceneBoundingRect().center()));
        QCOMPARE(fromGraph.count(), 1);
        QCOMPARE(stream.selectedTasks(), QList<quint64>{3});
        QCOMPARE(fromStream.count(), 0); // no echo back
        // And the other way round.
        stream.showAll();
        QTest::mouseClick(
            stream.viewport(),
            Qt::LeftButton,
            {},
            QPoint(int(stream.xOf(4400)), stream.yOfLane(0) + stream.laneHeight() / 2));
        QCOMPARE(fromStream.count(), 1);
        QCOMPARE(graph.selectedTasks(), QList<quint64>{4});
        QVERIFY(nodeItem(graph, 4)->isSelected());
        QCOMPARE(fromGraph.count(), 1);
    }

    void test_contextActionsEmitTheRightTasks()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        view.applyEvents(diamond());
        view.applyEvents({transition(1, TaskState::Processing, TaskState::Erred),
                          transition(3, TaskState::Waiting, TaskState::Erred, "dependency failed"),
                          transition(2, TaskState::Processing, TaskState::Memory)});
        waitLaidOut(view, 5);
        QSignalSpy retry(&view, &TaskGraphView::retryRequested);
        QSignalSpy cancel(&view, &TaskGraphView::cancelRequested);
        QSignalSpy release(&view, &TaskGraphView::releaseRequested);
        QSignalSpy show(&view, &TaskGraphView::showResultRequested);
        view.selectTasks({1, 2, 3, 4});
        view.activateWindow();
        view.graphicsView()->setFocus();
        QVERIFY(QTest::qWaitForWindowActive(&view));
        QTest::keyClick(view.graphicsView(), Qt::Key_R);
        QCOMPARE(retry.count(), 1);
        QCOMPARE(retry.takeFirst().at(0).value<QList<quint64>>(), (QList<quint64>{1, 3}));
        QTest::keyClick(view.graphicsView(), Qt::Key_C);
        QCOMPARE(cancel.count(), 1);
        QCOMPARE(cancel.takeFirst().at(0).value<QList<quint64>>(), QList<quint64>{4});
        QTest::keyClick(view.graphicsView(), Qt::Key_Delete);
        QCOMPARE(release.count(), 1);
        QCOMPARE(release.takeFirst().at(0).value<QList<quint64>>().size(), 4);
        view.selectTasks({2});
        QTest::keyClick(view.graphicsView(), Qt::Key_Return);
        QCOMPARE(show.count(), 1);
        QCOMPARE(show.takeFirst().at(0).toULongLong(), 2ull);
    }

    void test_highlightUpstreamAndDownstream()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        view.applyEvents(diamond());
        waitLaidOut(view, 5);
        view.selectTasks({4});
        view.highlightUpstream();
        for (quint64 id : {1, 2, 3})
            QCOMPARE(nodeItem(view, id)->emphasis(), Emphasis::Related);
        QCOMPARE(nodeItem(view, 4)->emphasis(), Emphasis::Normal); // the seed itself
        QCOMPARE(nodeItem(view, 5)->emphasis(), Emphasis::Dimmed);
        QVERIFY(nodeItem(view, 5)->opacity() < 0.5);
        view.selectTasks({1});
        view.highlightDownstream();
        QCOMPARE(nodeItem(view, 3)->emphasis(), Emphasis::Related);
        QCOMPARE(nodeItem(view, 4)->emphasis(), Emphasis::Related);
        QCOMPARE(nodeItem(view, 2)->emphasis(), Emphasis::Dimmed);
        view.clearHighlight();
        QCOMPARE(nodeItem(view, 2)->emphasis(), Emphasis::Normal);
    }

    void test_keyboardWalksTheGraph()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        view.applyEvents(diamond());
        waitLaidOut(view, 5);
        QSignalSpy selected(&view, &TaskGraphView::taskSelected);
        view.selectTasks({1});
        view.activateWindow();
        view.graphicsView()->setFocus();
        QVERIFY(QTest::qWaitForWindowActive(&view));
        QTest::keyClick(view.graphicsView(), Qt::Key_Down); // to its dependent
        QCOMPARE(view.selectedTasks(), QList<quint64>{3});
        QTest::keyClick(view.graphicsView(), Qt::Key_Down);
        QCOMPARE(view.selectedTasks(), QList<quint64>{4});
        QTest::keyClick(view.graphicsView(), Qt::Key_Up);
        QCOMPARE(view.selectedTasks(), QList<quint64>{3});
        QTest::keyClick(view.graphicsView(), Qt::Key_Up); // to one of its dependencies
        QVERIFY(view.selectedTasks() == QList<quint64>{1}
                || view.selectedTasks() == QList<quint64>{2});
        QCOMPARE(selected.count(), 4);
        // Zoom keys.
        const qreal before = view.graphicsView()->transform().m11();
        QTest::keyClick(view.graphicsView(), Qt::Key_Minus);
        QVERIFY(view.graphicsView()->transform().m11() < before);
        QTest::keyClick(view.graphicsView(), Qt::Key_F);
        QCOMPARE(view.graphicsView()->transform().m11(), before);
    }

    void test_exports()
    {
        TaskGraphView view;
        view.resize(900, 600);
        view.show();
        view.applyEvents(diamond());
        view.applyEvents({transition(1, TaskState::Processing, TaskState::Erred)});
        waitLaidOut(view, 5);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());

        // DOT: Graphviz reads it back with the same nodes and edges.
        const QString dotPath = dir.filePath(QStringLiteral("g.dot"));
        QString error;
        QVERIFY2(view.exportTo(dotPath, &error), qPrintable(error));
        QFile dotFile(dotPath);
        QVERIFY(dotFile.open(QIODevice::ReadOnly));
        const QByteArray dot = dotFile.readAll();
        Agraph_t *g = agmemread(dot.constData());
        QVERIFY2(g, dot.constData());
        QCOMPARE(agnnodes(g), 5);
        QCOMPARE(agnedges(g), 3);
        Agnode_t *root = agnode(g, const_cast<char *>("t1"), 0);
        QVERIFY(root);
        QCOMPARE(QString::fromUtf8(agget(root, const_cast<char *>("fillcolor"))),
                 nodeStatusColor(NodeStatus::ErrorRoot).name());
        agclose(g);

        // SVG: well-formed XML with an <svg> root that Qt can render.
        const QString svgPath = dir.filePath(QStringLiteral("g.svg"));
        QVERIFY2(view.exportTo(svgPath, &error), qPrintable(error));
        QFile svgFile(svgPath);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&svgFile);
        QVERIFY(xml.readNextStartElement());
        QCOMPARE(xml.name().toString(), QStringLiteral("svg"));
        while (!xml.atEnd())
            xml.readNext();
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QVERIFY(QSvgRenderer(svgPath).isValid());

        // PNG.
        const QString pngPath = dir.filePath(QStringLiteral("g.png"));
        QVERIFY2(view.exportTo(pngPath, &error), qPrintable(error));
        const QImage png(pngPath);
        QVERIFY(!png.isNull());
        QVERIFY(png.width() > 100 && png.height() > 50);

        QVERIFY(!view.exportTo(dir.filePath(QStringLiteral("g.bmpx")), &error));
        QVERIFY(!error.isEmpty());
    }

    void test_accessibleNamesAndShortcuts()
    {
        TaskGraphView view;
        QCOMPARE(view.accessibleName(), QStringLiteral("Task graph"));
        QVERIFY(!view.accessibleDescription().isEmpty());
        QCOMPARE(view.graphicsView()->accessibleName(), QStringLiteral("Task graph canvas"));
        QVERIFY(view.findChild<QToolBar *>()->accessibleName().startsWith(
            QStringLiteral("Task graph")));
        QStringList missing;
        for (QAction *a : view.actions())
            if (a->shortcut().isEmpty() && !a->text().startsWith(QStringLiteral("Export")))
                missing << a->text();
        QVERIFY2(missing.isEmpty(), qPrintable(missing.join(QStringLiteral(", "))));
        QCOMPARE(view.graphicsView()->focusPolicy(), Qt::StrongFocus);
    }

    void test_clear()
    {
        TaskGraphView view;
        view.resize(600, 400);
        view.show();
        view.applyEvents(diamond());
        waitLaidOut(view, 5);
        view.clear();
        QCOMPARE(view.displayedNodeCount(), 0);
        QCOMPARE(view.model().taskCount(), std::size_t(0));
        view.applyEvents(diamond()); // ids start again after a cluster restart
        waitLaidOut(view, 5);
    }
};

QTEST_MAIN(tst_TaskGraphView)
#include "tst_taskgraphview.moc"
