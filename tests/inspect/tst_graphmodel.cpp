// The task graph model, driven by synthetic event batches: nodes and edges of a known DAG,
// status per transition (and its colour), root causes versus propagated errors, collapse
// into task groups above the threshold with correct counts, expansion, forgetting, change
// tracking, upstream/downstream.
#include "inspect/graphmodel.h"
#include "inspect/syntheticevents.h"

#include "eventbuilders.h"

#include <QtTest>

#include <algorithm>

using namespace taskbench;
using namespace taskbench::inspect;
using namespace testsupport;

namespace {

/// a(1) -> c(3) <- b(2); c -> d(4); e(5) alone.
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

std::vector<std::pair<std::uint64_t, std::uint64_t>> taskEdges(const GraphModel &m,
                                                               const DisplayGraph &d)
{
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    for (const DisplayEdge &e : d.edges)
        out.emplace_back(m.catalog().id(d.nodes[e.from].index),
                         m.catalog().id(d.nodes[e.to].index));
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

class tst_GraphModel : public QObject
{
    Q_OBJECT
private slots:
    void test_nodesAndEdgesOfKnownDag()
    {
        GraphModel m;
        m.applyEvents(diamond());
        QCOMPARE(m.taskCount(), std::size_t(5));
        const DisplayGraph d = m.buildDisplay(500);
        QVERIFY(!d.collapsed);
        QCOMPARE(d.nodes.size(), std::size_t(5));
        for (const DisplayNode &n : d.nodes)
            QCOMPARE(n.kind, DisplayNode::Kind::Task);
        const auto edges = taskEdges(m, d);
        const std::vector<std::pair<std::uint64_t, std::uint64_t>> expected
            = {{1, 3}, {2, 3}, {3, 4}};
        QCOMPARE(edges, expected);
        QCOMPARE(m.catalog().functionName(m.catalog().function(m.catalog().slotOf(3))),
                 std::string("bench.add"));
        QVERIFY(m.catalog().key(m.catalog().slotOf(1)).starts_with("inc-"));
    }

    void test_mapReduceShape()
    {
        GraphModel m;
        std::vector<std::uint64_t> ids;
        m.applyEvents(synthetic::mapReduce(8, 1, &ids));
        QCOMPARE(m.taskCount(), std::size_t(15));
        const DisplayGraph d = m.buildDisplay(500);
        QCOMPARE(d.nodes.size(), std::size_t(15));
        QCOMPARE(d.edges.size(), std::size_t(14)); // a binary tree: n - 1 edges
    }

    void test_statusAndColour_data()
    {
        QTest::addColumn<int>("to");
        QTest::addColumn<QString>("note");
        QTest::addColumn<int>("status");
        QTest::addColumn<QColor>("colour");
        auto row = [](const char *name, TaskState to, const char *note, NodeStatus s) {
            QTest::newRow(name) << int(to) << QString::fromLatin1(note) << int(s)
                                << nodeStatusColor(s);
        };
        row("released", TaskState::Released, "", NodeStatus::Pending);
        row("waiting", TaskState::Waiting, "", NodeStatus::Pending);
        row("queued", TaskState::Queued, "", NodeStatus::Pending);
        row("processing", TaskState::Processing, "", NodeStatus::Processing);
        row("memory", TaskState::Memory, "", NodeStatus::Finished);
        row("erred", TaskState::Erred, "", NodeStatus::ErrorRoot);
        row("erred-dependency", TaskState::Erred, "dependency failed", NodeStatus::ErrorPropagated);
        row("cancelled", TaskState::Cancelled, "", NodeStatus::Cancelled);
        row("lost", TaskState::Lost, "", NodeStatus::Lost);
    }
    void test_statusAndColour()
    {
        QFETCH(int, to);
        QFETCH(QString, note);
        QFETCH(int, status);
        QFETCH(QColor, colour);
        GraphModel m;
        m.applyEvents(diamond());
        m.applyEvents({transition(3, TaskState::Released, TaskState(to), note.toStdString())});
        const std::uint32_t slot = m.catalog().slotOf(3);
        QCOMPARE(int(m.status(slot)), status);
        QCOMPARE(nodeStatusColor(m.status(slot)), colour);
        QCOMPARE(int(m.state(slot)), to);
        QCOMPARE(m.totals()[std::size_t(status)],
                 std::uint32_t(status == int(NodeStatus::Pending) ? 5 : 1));
    }

    void test_coloursAreDistinct()
    {
        // Every display status must be told apart in the legend and the nodes.
        for (int a = 0; a < kNodeStatusCount; ++a)
            for (int b = a + 1; b < kNodeStatusCount; ++b)
                QVERIFY(nodeStatusColor(NodeStatus(a)) != nodeStatusColor(NodeStatus(b)));
    }

    void test_rootCauseVersusPropagated()
    {
        GraphModel m;
        m.applyEvents(diamond());
        // a fails on its own; c and d fail because of it (the engine's note).
        m.applyEvents({transition(1, TaskState::Processing, TaskState::Erred),
                       transition(3, TaskState::Waiting, TaskState::Erred, "dependency failed"),
                       transition(4, TaskState::Waiting, TaskState::Erred, "dependency failed")});
        const TaskCatalog &c = m.catalog();
        QCOMPARE(m.errorKind(c.slotOf(1)), ErrorKind::Root);
        QCOMPARE(m.status(c.slotOf(1)), NodeStatus::ErrorRoot);
        QCOMPARE(m.errorKind(c.slotOf(3)), ErrorKind::Propagated);
        QCOMPARE(m.status(c.slotOf(4)), NodeStatus::ErrorPropagated);
        QCOMPARE(m.totals()[std::size_t(NodeStatus::ErrorRoot)], 1u);
        QCOMPARE(m.totals()[std::size_t(NodeStatus::ErrorPropagated)], 2u);
        // Retry: the root runs again and the dependents go back to waiting.
        m.applyEvents({transition(1, TaskState::Erred, TaskState::Queued, "retry"),
                       transition(3, TaskState::Erred, TaskState::Waiting, "retry")});
        QCOMPARE(m.errorKind(c.slotOf(1)), ErrorKind::None);
        QCOMPARE(m.status(c.slotOf(1)), NodeStatus::Pending);
        QCOMPARE(m.status(c.slotOf(3)), NodeStatus::Pending);
        QCOMPARE(m.totals()[std::size_t(NodeStatus::ErrorRoot)], 0u);
        QCOMPARE(m.totals()[std::size_t(NodeStatus::ErrorPropagated)], 1u);
    }

    void test_collapseThreshold_data()
    {
        QTest::addColumn<int>("tasks");
        QTest::addColumn<int>("threshold");
        QTest::addColumn<bool>("collapsed");
        QTest::newRow("below") << 499 << 500 << false;
        QTest::newRow("at") << 500 << 500 << false;
        QTest::newRow("above") << 501 << 500 << true;
        QTest::newRow("tiny-threshold") << 10 << 3 << true;
    }
    void test_collapseThreshold()
    {
        QFETCH(int, tasks);
        QFETCH(int, threshold);
        QFETCH(bool, collapsed);
        GraphModel m;
        // Two groups: a map and a reduction over the first two map tasks.
        EventBatch b = synthetic::map(tasks - 1, "bench.inc", "inc-map-1", 1);
        EventBatch r = synthetic::map(1, "bench.sum", "sum", std::uint64_t(tasks));
        r.front().detail().deps = {1, 2};
        b.insert(b.end(), r.begin(), r.end());
        m.applyEvents(b);
        const DisplayGraph d = m.buildDisplay(std::size_t(threshold));
        QCOMPARE(d.collapsed, collapsed);
        if (collapsed) {
            QCOMPARE(d.nodes.size(), std::size_t(2));
            QCOMPARE(d.edges.size(), std::size_t(1));
            QCOMPARE(d.edges.front().count, 2u); // two task edges merged
        } else {
            QCOMPARE(d.nodes.size(), std::size_t(tasks));
        }
    }

    void test_groupCountsPerState()
    {
        GraphModel m;
        std::vector<std::uint64_t> ids;
        m.applyEvents(synthetic::map(1000, "bench.inc", "inc-map-1", 1, &ids));
        // 600 finished, 100 processing, 50 root errors, 20 propagated, 30 cancelled, 200 pending.
        EventBatch b;
        std::size_t i = 0;
        auto to = [&](std::size_t n, TaskState s, const char *note) {
            for (std::size_t k = 0; k < n; ++k, ++i)
                b.push_back(transition(ids[i], TaskState::Queued, s, note));
        };
        to(600, TaskState::Memory, "");
        to(100, TaskState::Processing, "");
        to(50, TaskState::Erred, "");
        to(20, TaskState::Erred, "dependency failed");
        to(30, TaskState::Cancelled, "");
        m.applyEvents(b);
        const DisplayGraph d = m.buildDisplay(500);
        QVERIFY(d.collapsed);
        QCOMPARE(d.nodes.size(), std::size_t(1));
        QCOMPARE(d.nodes.front().kind, DisplayNode::Kind::Group);
        const StatusCounts &c = m.groupCounts(d.nodes.front().index);
        QCOMPARE(c[std::size_t(NodeStatus::Finished)], 600u);
        QCOMPARE(c[std::size_t(NodeStatus::Processing)], 100u);
        QCOMPARE(c[std::size_t(NodeStatus::ErrorRoot)], 50u);
        QCOMPARE(c[std::size_t(NodeStatus::ErrorPropagated)], 20u);
        QCOMPARE(c[std::size_t(NodeStatus::Cancelled)], 30u);
        QCOMPARE(c[std::size_t(NodeStatus::Pending)], 200u);
        QCOMPARE(m.groupSize(d.nodes.front().index), 1000u);
        // Forgetting updates the counts of the group.
        m.applyEvents({transition(ids[0], TaskState::Memory, TaskState::Forgotten)});
        QCOMPARE(m.groupCounts(d.nodes.front().index)[std::size_t(NodeStatus::Finished)], 599u);
        QCOMPARE(m.groupSize(d.nodes.front().index), 999u);
    }

    void test_expandGroup()
    {
        GraphModel m;
        EventBatch b = synthetic::map(600, "bench.inc", "inc-map-1", 1);
        EventBatch s = synthetic::map(3, "bench.double", "double", 601);
        for (std::size_t k = 0; k < s.size(); ++k)
            s[k].detail().deps = {std::uint64_t(k + 1)};
        b.insert(b.end(), s.begin(), s.end());
        m.applyEvents(b);
        const std::uint32_t doubles = m.catalog().group(m.catalog().slotOf(601));
        const std::uint32_t incs = m.catalog().group(m.catalog().slotOf(1));
        // The small group expanded: its 3 tasks are nodes; edges go group -> task.
        DisplayGraph d = m.buildDisplay(500, {doubles});
        QCOMPARE(d.nodes.size(), std::size_t(4));
        QCOMPARE(d.edges.size(), std::size_t(3));
        for (const DisplayEdge &e : d.edges) {
            QCOMPARE(d.nodes[e.from].kind, DisplayNode::Kind::Group);
            QCOMPARE(d.nodes[e.to].kind, DisplayNode::Kind::Task);
        }
        // The big group stays collapsed above the expand limit.
        d = m.buildDisplay(500, {incs}, 100);
        QCOMPARE(d.nodes.size(), std::size_t(2));
        d = m.buildDisplay(500, {incs}, 1000);
        QCOMPARE(d.nodes.size(), std::size_t(601));
    }

    void test_collapsed100kIsOneNode()
    {
        GraphModel m;
        m.applyEvents(synthetic::map(100000, "bench.inc", "inc-map-big", 1));
        QElapsedTimer t;
        t.start();
        const DisplayGraph d = m.buildDisplay(500);
        QCOMPARE(d.nodes.size(), std::size_t(1));
        QVERIFY(d.edges.empty());
        QCOMPARE(m.groupSize(d.nodes.front().index), 100000u);
        qInfo("collapsed display of 100,000 tasks built in %lld ms", t.elapsed());
    }

    void test_changesAreTrackedAndStructuralOnlyOnAddOrForget()
    {
        GraphModel m;
        m.applyEvents(diamond());
        GraphModel::Changes c = m.takeChanges();
        QVERIFY(c.structural);
        QCOMPARE(c.tasks.size(), std::size_t(5));
        // A state change: recolour only.
        m.applyEvents({transition(1, TaskState::Released, TaskState::Processing),
                       transition(1, TaskState::Processing, TaskState::Memory)});
        c = m.takeChanges();
        QVERIFY(!c.structural);
        QCOMPARE(c.tasks, std::vector<std::uint32_t>{m.catalog().slotOf(1)}); // deduplicated
        QCOMPARE(c.groups.size(), std::size_t(1));
        // Forgotten: structural.
        m.applyEvents({transition(5, TaskState::Memory, TaskState::Forgotten)});
        c = m.takeChanges();
        QVERIFY(c.structural);
        QCOMPARE(m.taskCount(), std::size_t(4));
        QCOMPARE(m.buildDisplay(500).nodes.size(), std::size_t(4));
        // Nothing happened: nothing to do.
        c = m.takeChanges();
        QVERIFY(!c.structural);
        QVERIFY(c.tasks.empty());
    }

    void test_sameStructureSkipsRelayout()
    {
        GraphModel m;
        m.applyEvents(synthetic::map(600, "bench.inc", "inc-map-1", 1));
        const DisplayGraph before = m.buildDisplay(500);
        m.applyEvents(synthetic::map(100, "bench.inc", "inc-map-1", 601)); // joins the group
        const DisplayGraph after = m.buildDisplay(500);
        QVERIFY(after.sameStructure(before));
        m.applyEvents(synthetic::map(1, "bench.add", "add", 701));
        QVERIFY(!m.buildDisplay(500).sameStructure(before));
    }

    void test_upstreamAndDownstream()
    {
        GraphModel m;
        m.applyEvents(diamond());
        const TaskCatalog &c = m.catalog();
        auto ids = [&](std::vector<std::uint32_t> found) {
            std::vector<std::uint64_t> out;
            for (std::uint32_t s : found)
                out.push_back(c.id(s));
            std::sort(out.begin(), out.end());
            return out;
        };
        QCOMPARE(ids(m.upstream({c.slotOf(4)})), (std::vector<std::uint64_t>{1, 2, 3}));
        QCOMPARE(ids(m.downstream({c.slotOf(1)})), (std::vector<std::uint64_t>{3, 4}));
        QVERIFY(m.upstream({c.slotOf(5)}).empty());
        QVERIFY(m.downstream({c.slotOf(4)}).empty());
    }

    void test_eventsOfUnknownTasksAreKept()
    {
        // Subscribed late: a transition of a task never announced still shows up.
        GraphModel m;
        m.applyEvents({transition(42, TaskState::Queued, TaskState::Processing)});
        QCOMPARE(m.taskCount(), std::size_t(1));
        QCOMPARE(m.status(m.catalog().slotOf(42)), NodeStatus::Processing);
        // Its TaskAdded arriving later fills in the names and keeps the state counts right.
        Event added = synthetic::map(1, "bench.inc", "inc-map-1", 42).front();
        added.to = TaskState::Processing;
        m.applyEvents({added});
        QCOMPARE(m.taskCount(), std::size_t(1));
        QCOMPARE(m.totals()[std::size_t(NodeStatus::Processing)], 1u);
        QCOMPARE(m.catalog().functionName(m.catalog().function(m.catalog().slotOf(42))),
                 std::string("bench.inc"));
    }

    void test_clear()
    {
        GraphModel m;
        m.applyEvents(diamond());
        m.clear();
        QCOMPARE(m.taskCount(), std::size_t(0));
        QVERIFY(m.buildDisplay(500).nodes.empty());
        QCOMPARE(m.catalog().slotOf(1), TaskCatalog::npos);
    }
};

QTEST_GUILESS_MAIN(tst_GraphModel)
#include "tst_graphmodel.moc"
