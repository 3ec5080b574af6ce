// The task stream model: lanes per (worker, thread), executions sorted per lane, the visible
// window by binary search (checked against brute force), merging below a pixel, running
// estimates from assignments, interrupted executions, workers leaving, memory classes.
#include "inspect/streammodel.h"
#include "inspect/syntheticevents.h"

#include "eventbuilders.h"

#include <QtTest>

using namespace taskbench;
using namespace taskbench::inspect;
using namespace testsupport;

class tst_StreamModel : public QObject
{
    Q_OBJECT
private slots:
    void test_lanesPerWorkerThread()
    {
        StreamModel m;
        m.applyEvents({workerAdded(2, 2), workerAdded(0, 3)});
        const auto &lanes = m.lanes();
        QCOMPARE(lanes.size(), std::size_t(5));
        const std::vector<std::pair<int, int>> expected = {{0, 0}, {0, 1}, {0, 2}, {2, 0}, {2, 1}};
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            QCOMPARE(lanes[i].worker, expected[i].first);
            QCOMPARE(lanes[i].thread, expected[i].second);
            QCOMPARE(m.laneOf(expected[i].first, expected[i].second), int(i));
        }
        QCOMPARE(m.workerName(2), std::string("thread-worker-2"));
        // A finish on a thread never announced adds the worker's lanes up to that thread.
        m.applyEvents({executionFinished(1, 1, 4, 100, 200)});
        QCOMPARE(m.lanes().size(), std::size_t(10));
        QCOMPARE(m.laneOf(1, 0), 3);
        QCOMPARE(m.laneOf(1, 4), 7);
        QCOMPARE(m.lanes()[7].executions.size(), std::size_t(1));
    }

    void test_executionsSortedAndFailed()
    {
        StreamModel m;
        m.applyEvents(synthetic::map(3, "bench.inc", "inc", 1));
        // Out of order on one lane (finishes arrive in batches from several sources).
        m.applyEvents({executionFinished(2, 0, 0, 300, 400),
                       executionFinished(1, 0, 0, 100, 200, false),
                       executionFinished(3, 0, 0, 200, 250)});
        const auto &v = m.lanes()[0].executions;
        QCOMPARE(v.size(), std::size_t(3));
        QCOMPARE(v[0].task, 1ull);
        QCOMPARE(v[1].task, 3ull);
        QCOMPARE(v[2].task, 2ull);
        QVERIFY(v[0].flags & Execution::Failed);
        QVERIFY(!(v[1].flags & Execution::Failed));
        QCOMPARE(m.firstUs(), 100);
        QCOMPARE(m.lastUs(), 400);
        QCOMPARE(m.executionCount(), std::size_t(3));
        QCOMPARE(m.catalog().functionName(v[0].function), std::string("bench.inc"));
    }

    void test_reprioritisedExecutionsAreMarked()
    {
        // Tasks whose priority was changed after submit are marked in the stream (issue
        // #19: the user sees the raised tasks run next); the others are not.
        StreamModel m;
        m.applyEvents(synthetic::map(4, "tutorial.inc", "inc", 1));
        m.applyEvents({executionFinished(1, 0, 0, 100, 200)});
        QVERIFY(!m.hasReprioritised());
        m.applyEvents({priorityChanged(4, 7), priorityChanged(3, 8)});
        m.applyEvents({executionFinished(3, 0, 0, 200, 300),
                       executionFinished(4, 0, 0, 300, 400),
                       executionFinished(2, 0, 0, 400, 500)});
        QVERIFY(m.hasReprioritised());
        const auto &v = m.lanes()[0].executions;
        QCOMPARE(v.size(), std::size_t(4));
        std::vector<std::uint64_t> marked;
        for (std::size_t i = 0; i < v.size(); ++i)
            if (v[i].flags & Execution::Reprioritised)
                marked.push_back(v[i].task);
        QCOMPARE(marked, (std::vector<std::uint64_t>{3, 4}));
        // Merged below a pixel, the run keeps the mark.
        std::vector<StreamRun> runs;
        m.mergedRuns(0, 0, 1000, 1000.0, runs);
        QCOMPARE(runs.size(), std::size_t(1));
        QVERIFY(runs[0].flags & Execution::Reprioritised);
        m.clear();
        QVERIFY(!m.hasReprioritised());
    }

    void test_visibleRangeMatchesBruteForce_data()
    {
        QTest::addColumn<qint64>("t0");
        QTest::addColumn<qint64>("span");
        QTest::newRow("all") << qint64(0) << qint64(1'000'000'000);
        QTest::newRow("start") << qint64(0) << qint64(50'000);
        QTest::newRow("middle") << qint64(2'000'000) << qint64(300'000);
        QTest::newRow("narrow") << qint64(3'333'333) << qint64(10);
        QTest::newRow("end") << qint64(9'000'000) << qint64(5'000'000);
        QTest::newRow("after") << qint64(900'000'000) << qint64(100);
        QTest::newRow("before") << qint64(-1'000'000) << qint64(100);
    }
    void test_visibleRangeMatchesBruteForce()
    {
        QFETCH(qint64, t0);
        QFETCH(qint64, span);
        StreamModel m;
        std::int64_t end = 0;
        m.applyEvents(synthetic::executions(20000, 2, 2, 0, 1, &end));
        const std::int64_t t1 = t0 + span;
        for (int lane = 0; lane < int(m.lanes().size()); ++lane) {
            const auto &v = m.lanes()[std::size_t(lane)].executions;
            const auto [lo, hi] = m.visibleRange(lane, t0, t1);
            std::size_t expected = 0;
            for (const Execution &x : v)
                expected += (x.end >= t0 && x.start < t1) ? 1 : 0;
            std::size_t got = 0;
            for (std::size_t i = lo; i < hi; ++i)
                got += (v[i].end >= t0 && v[i].start < t1) ? 1 : 0;
            QCOMPARE(got, expected);
            QVERIFY(hi - lo <= expected + 2); // the window is tight, not a scan
        }
    }

    void test_memoryClassesFromUsage()
    {
        QCOMPARE(memoryClassOf(-1), std::uint8_t(0)); // unknown
        QCOMPARE(memoryClassOf(0), std::uint8_t(0));
        QCOMPARE(memoryClassOf(1024), std::uint8_t(1));         // 1 KiB
        QCOMPARE(memoryClassOf(2047 * 1024), std::uint8_t(11)); // just under 2 MiB
        QCOMPARE(memoryClassOf(200ll << 20), std::uint8_t(18)); // 200 MiB: 128..256 MiB
        QCOMPARE(memoryClassBytes(18), std::int64_t(128) << 20);
        QVERIFY(memoryClassBytes(memoryClassOf(200ll << 20)) <= (200ll << 20));
        QVERIFY(2 * memoryClassBytes(memoryClassOf(200ll << 20)) > (200ll << 20));

        StreamModel m;
        m.applyEvents(synthetic::map(2, "bench.touch_memory", "touch", 1));
        Event big = executionFinished(1, 0, 0, 100, 110);
        big.usage.peakRssBytes = 200ll << 20;
        Event small = executionFinished(2, 0, 0, 111, 120);
        small.usage.peakRssBytes = 12ll << 20;
        m.applyEvents({big, small});
        const auto &v = m.lanes()[0].executions;
        QCOMPARE(v[0].memory, memoryClassOf(200ll << 20));
        QCOMPARE(v[1].memory, memoryClassOf(12ll << 20));
        // Merged below a pixel, a run shows its largest member's class.
        std::vector<StreamRun> runs;
        m.mergedRuns(0, 0, 1000, 100.0, runs);
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].memory, memoryClassOf(200ll << 20));
    }

    void test_mergeBelowAPixel()
    {
        StreamModel m;
        EventBatch b = synthetic::map(10, "bench.inc", "inc", 1);
        EventBatch other = synthetic::map(1, "bench.add", "add", 11);
        b.insert(b.end(), other.begin(), other.end());
        m.applyEvents(b);
        // At 100 µs per pixel: five 20 µs executions back to back (one pixel of work), a gap,
        // one 1 ms execution (10 px), then four more tiny ones, one of them failed.
        EventBatch e;
        for (int i = 0; i < 5; ++i)
            e.push_back(
                executionFinished(std::uint64_t(1 + i), 0, 0, 1000 + i * 20, 1000 + i * 20 + 20));
        e.push_back(executionFinished(11, 0, 0, 2000, 3000));
        for (int i = 0; i < 4; ++i)
            e.push_back(executionFinished(
                std::uint64_t(6 + i), 0, 0, 5000 + i * 30, 5000 + i * 30 + 25, i != 2));
        m.applyEvents(e);
        std::vector<StreamRun> runs;
        m.mergedRuns(0, 0, 10000, 100.0, runs);
        QCOMPARE(runs.size(), std::size_t(3));
        QCOMPARE(runs[0].count, 5u);
        QVERIFY(runs[0].x1 - runs[0].x0 >= 1.0);
        QCOMPARE(runs[0].flags, std::uint8_t(0));
        QCOMPARE(runs[1].count, 1u);
        QCOMPARE(runs[1].x0, 20.0);
        QCOMPARE(runs[1].x1, 30.0);
        QCOMPARE(m.catalog().functionName(runs[1].function), std::string("bench.add"));
        QCOMPARE(runs[2].count, 4u);
        QVERIFY(runs[2].flags & Execution::Failed); // a merged failure stays visible
        // Zoomed in (1 µs per pixel) nothing merges.
        runs.clear();
        m.mergedRuns(0, 0, 10000, 1.0, runs);
        QCOMPARE(runs.size(), std::size_t(10));
        // 100,000 executions at full zoom merge into at most a few runs per pixel column.
        StreamModel big;
        std::int64_t end = 0;
        big.applyEvents(synthetic::executions(100000, 1, 1, 0, 1, &end));
        runs.clear();
        const double usPerPx = double(end) / 1000.0;
        big.mergedRuns(0, 0, end, usPerPx, runs);
        QVERIFY2(runs.size() <= 1000, qPrintable(QString::number(runs.size())));
        std::uint64_t total = 0;
        for (const StreamRun &r : runs)
            total += r.count;
        QCOMPARE(total, 100000ull);
    }

    void test_runningEstimatesFromAssignments()
    {
        StreamModel m;
        m.applyEvents({workerAdded(0, 2)});
        m.applyEvents(synthetic::map(3, "bench.slow_inc", "slow", 1));
        // Three assignments to a worker with two threads: two run, one waits.
        m.applyEvents({executionStarted(1, 0, 1000),
                       executionStarted(2, 0, 1000),
                       executionStarted(3, 0, 1000)});
        auto running = m.running();
        QCOMPARE(running.size(), std::size_t(2));
        QCOMPARE(m.runningCount(), std::size_t(3));
        QCOMPARE(running[0].task, 1ull);
        QCOMPARE(running[0].thread, 0);
        QCOMPARE(running[1].task, 2ull);
        QCOMPARE(running[1].thread, 1);
        // Task 2 finishes on thread 0 (not the lane guessed): the lanes swap, and the waiting
        // task starts where thread 0 freed up.
        m.applyEvents({executionFinished(2, 0, 0, 1000, 5000)});
        running = m.running();
        QCOMPARE(running.size(), std::size_t(2));
        QCOMPARE(m.lanes()[0].executions.size(), std::size_t(1));
        std::map<std::uint64_t, RunningExecution> byTask;
        for (const RunningExecution &r : running)
            byTask[r.task] = r;
        QCOMPARE(byTask.at(1).thread, 1);
        QCOMPARE(byTask.at(3).thread, 0);
        QCOMPARE(byTask.at(3).startUs, 5000);
        QVERIFY(!m.isEmpty());
    }

    void test_interruptedWithoutFinish()
    {
        StreamModel m;
        m.applyEvents({workerAdded(0, 1)});
        m.applyEvents(synthetic::map(1, "bench.sleep_ms", "sleep", 1));
        m.applyEvents({executionStarted(1, 0, 1000)});
        Event cancel;
        cancel.kind = EventKind::Transition;
        cancel.task = 1;
        cancel.from = TaskState::Processing;
        cancel.to = TaskState::Cancelled;
        cancel.timeUs = 9000;
        m.applyEvents({cancel});
        QCOMPARE(m.runningCount(), std::size_t(0));
        const auto &v = m.lanes()[0].executions;
        QCOMPARE(v.size(), std::size_t(1));
        QVERIFY(v[0].flags & Execution::Interrupted);
        QCOMPARE(v[0].start, 1000);
        QCOMPARE(v[0].end, 9000);
        // A normal finish is followed by a transition out of processing: no double entry.
        m.applyEvents({executionStarted(1, 0, 10000), executionFinished(1, 0, 0, 10000, 12000)});
        cancel.from = TaskState::Processing;
        cancel.to = TaskState::Memory;
        m.applyEvents({cancel});
        QCOMPARE(m.lanes()[0].executions.size(), std::size_t(2));
    }

    void test_workerRemovedClosesItsWork()
    {
        StreamModel m;
        m.applyEvents({workerAdded(0, 1), workerAdded(1, 1), executionStarted(7, 1, 100)});
        Event removed;
        removed.kind = EventKind::WorkerRemoved;
        removed.worker = 1;
        removed.timeUs = 500;
        m.applyEvents({removed});
        QVERIFY(m.lanes()[1].removed);
        QVERIFY(!m.lanes()[0].removed);
        QCOMPARE(m.runningCount(), std::size_t(0));
        QCOMPARE(m.lanes()[1].executions.size(), std::size_t(1));
    }

    void test_executionAtAndOf()
    {
        StreamModel m;
        m.applyEvents({executionFinished(1, 0, 0, 100, 200),
                       executionFinished(2, 0, 0, 300, 1000),
                       executionFinished(1, 0, 0, 1200, 1300)});
        QCOMPARE(m.executionAt(0, 150, 0)->task, 1ull);
        QCOMPARE(m.executionAt(0, 500, 0)->task, 2ull);
        QVERIFY(m.executionAt(0, 250, 10) == nullptr);
        QCOMPARE(m.executionAt(0, 1150, 150)->task, 1ull); // nearest within the tolerance
        const auto of = m.executionsOf(1);
        QCOMPARE(of.size(), std::size_t(2));
        QCOMPARE(of[1].second, std::size_t(2));
    }
};

QTEST_GUILESS_MAIN(tst_StreamModel)
#include "tst_streammodel.moc"
