// Placement policy (core/src/scheduler/placement.h) as a pure function: the queue depth a
// function's mean duration allows, and which worker a task goes to: locality first, then
// load per thread, never a full worker, ties to the earliest.
#include "scheduler/placement.h"

#include <QtTest>

#include <vector>

using taskbench::detail::placement::Candidate;
using Candidates = std::vector<Candidate>;
namespace placement = taskbench::detail::placement;

Q_DECLARE_METATYPE(Candidates)

class TestPlacement : public QObject
{
    Q_OBJECT

private slots:
    void test_queueDepth_data()
    {
        QTest::addColumn<double>("meanUs");
        QTest::addColumn<qulonglong>("depth");
        QTest::newRow("instant") << 0.0 << qulonglong(256);
        QTest::newRow("sub-microsecond counts as 1 us") << 0.5 << qulonglong(256);
        QTest::newRow("1 us") << 1.0 << qulonglong(256);
        QTest::newRow("10 us") << 10.0 << qulonglong(200);
        QTest::newRow("100 us") << 100.0 << qulonglong(20);
        QTest::newRow("500 us") << 500.0 << qulonglong(4);
        QTest::newRow("just under 1 ms: at least 2") << 999.0 << qulonglong(2);
        QTest::newRow("1 ms: one per thread") << 1000.0 << qulonglong(1);
        QTest::newRow("1 s") << 1e6 << qulonglong(1);
        QTest::newRow("unmeasured") << placement::kUnmeasuredUs << qulonglong(1);
    }
    void test_queueDepth()
    {
        QFETCH(double, meanUs);
        QFETCH(qulonglong, depth);
        QCOMPARE(qulonglong(placement::queueDepth(meanUs)), depth);
    }

    void test_choose_data()
    {
        QTest::addColumn<Candidates>("candidates");
        QTest::addColumn<qulonglong>("depth");
        QTest::addColumn<qulonglong>("expected"); // SIZE_MAX: none

        const auto none = qulonglong(placement::kNone);
        // Candidate{outstanding, threads, localBytes}
        QTest::newRow("no workers") << Candidates{} << qulonglong(1) << none;
        QTest::newRow("one idle worker") << Candidates{{0, 1, 0}} << qulonglong(1) << qulonglong(0);
        QTest::newRow("all full") << Candidates{{1, 1, 0}, {2, 2, 0}} << qulonglong(1) << none;
        QTest::newRow("full at threads x depth")
            << Candidates{{8, 2, 0}, {7, 2, 0}} << qulonglong(4) << qulonglong(1);
        QTest::newRow("least loaded")
            << Candidates{{2, 1, 0}, {1, 1, 0}, {3, 1, 0}} << qulonglong(4) << qulonglong(1);
        QTest::newRow("tie goes to the earliest")
            << Candidates{{1, 1, 0}, {1, 1, 0}} << qulonglong(4) << qulonglong(0);
        QTest::newRow("load is per thread")
            << Candidates{{1, 1, 0}, {2, 4, 0}} << qulonglong(4) << qulonglong(1);
        QTest::newRow("locality beats load")
            << Candidates{{0, 1, 0}, {3, 1, 5}} << qulonglong(4) << qulonglong(1);
        QTest::newRow("more local bytes win")
            << Candidates{{0, 1, 1}, {0, 1, 2}, {0, 1, 1}} << qulonglong(4) << qulonglong(1);
        QTest::newRow("equal locality: least loaded")
            << Candidates{{2, 1, 3}, {1, 1, 3}} << qulonglong(4) << qulonglong(1);
        QTest::newRow("a full worker's locality does not count")
            << Candidates{{0, 1, 0}, {4, 1, 100}} << qulonglong(4) << qulonglong(0);
        QTest::newRow("only the full worker is local, the other is full too")
            << Candidates{{1, 1, 0}, {1, 1, 100}} << qulonglong(1) << none;
    }
    void test_choose()
    {
        QFETCH(Candidates, candidates);
        QFETCH(qulonglong, depth);
        QFETCH(qulonglong, expected);
        QCOMPARE(qulonglong(placement::choose(candidates, std::size_t(depth))), expected);
    }

    void test_chooseSpreadsAnEvenLoad()
    {
        // Placing one task after another (as the scheduler does within a round) fills the
        // workers round-robin, and stops once every one holds threads x depth.
        Candidates workers{{0, 1, 0}, {0, 2, 0}, {0, 1, 0}};
        const std::size_t depth = 2;
        std::vector<std::size_t> order;
        for (;;) {
            const std::size_t i = placement::choose(workers, depth);
            if (i == placement::kNone)
                break;
            order.push_back(i);
            ++workers[i].outstanding;
        }
        QCOMPARE(order, (std::vector<std::size_t>{0, 1, 2, 1, 0, 1, 2, 1}));
        for (const Candidate &c : workers)
            QCOMPARE(c.outstanding, std::size_t(c.threads) * depth);
    }
};

QTEST_MAIN(TestPlacement)
#include "tst_placement.moc"
