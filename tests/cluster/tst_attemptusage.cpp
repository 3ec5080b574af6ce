// What each attempt used, through the public Client API on real worker processes: a task
// that makes 200 MiB resident reports a peak within 10 % of that, a small one run after it
// in the same process much less (the high-water mark is reset), CPU time is there and no
// more than the attempt's wall time, result sizes are the encoded sizes, the
// ExecutionFinished events carry the same figures, and thread workers report the result
// size with memory and CPU unknown. Not under the sanitizers (their shadow memory is
// resident too): label "cluster".
#include "taskbench/client.h"
#include "taskbench/pluginloader.h"

#include "clusterfixtures.h"

#include <QtTest>

#include <mutex>

using namespace taskbench;
using namespace std::chrono_literals;
using testsupport::impure;
using testsupport::loadBundledPlugins;

namespace {

constexpr std::int64_t kMiB = 1 << 20;

ClusterOptions options(bool processes)
{
    ClusterOptions o = testsupport::processCluster();
    o.processes = processes;
    return o;
}

} // namespace

class TestAttemptUsage : public QObject
{
    Q_OBJECT

private slots:
    void test_peakMemoryPerAttempt()
    {
        Client c(options(true), loadBundledPlugins());
        std::mutex mutex;
        std::map<std::uint64_t, AttemptUsage> fromEvents;
        Subscription sub = c.subscribe(
            [&](const EventBatch &batch) {
                std::lock_guard lock(mutex);
                for (const Event &e : batch)
                    if (e.kind == EventKind::ExecutionFinished)
                        fromEvents[e.task] = e.usage;
            },
            eventBit(EventKind::ExecutionFinished));

        Future big = c.submit("bench.touch_memory", {200}, impure());
        QCOMPARE(big.result(60s).toInt(), 200);
        // Right after the big one, a trivial call (quick: the worker sends no figures and
        // the scheduler derives them) must not show the big one's peak: the mark was reset.
        Future trivial = c.submit("bench.inc", {1}, impure());
        QCOMPARE(trivial.result(60s).toInt(), 2);
        QVERIFY2(trivial.usage().peakRssBytes > 0 && trivial.usage().peakRssBytes < 100 * kMiB,
                 qPrintable(QString::number(trivial.usage().peakRssBytes)));
        // After the big one, in the same worker process (one worker, one thread).
        Future small = c.submit("bench.touch_memory", {1}, impure());
        QCOMPARE(small.result(60s).toInt(), 1);
        // A map of trivial calls, most of them quick: every one has figures.
        std::vector<Value> inputs;
        for (int i = 0; i < 200; ++i)
            inputs.emplace_back(i);
        const std::vector<Future> many = c.map("bench.inc", inputs, impure());
        c.gather(many);
        for (const Future &f : many) {
            QVERIFY(f.usage().peakRssBytes > 0 && f.usage().peakRssBytes < 100 * kMiB);
            QVERIFY(f.usage().cpuUs >= 0);
        }

        const AttemptUsage b = big.usage();
        const AttemptUsage s = small.usage();
        qInfo("peak: 200 MiB task %.1f MiB, 1 MiB task %.1f MiB; cpu %.3f ms / %.3f ms",
              double(b.peakRssBytes) / double(kMiB),
              double(s.peakRssBytes) / double(kMiB),
              double(b.cpuUs) / 1e3,
              double(s.cpuUs) / 1e3);
        // The peak is the process's: the worker's own resident memory comes on top.
        QVERIFY2(b.peakRssBytes >= 200 * kMiB, qPrintable(QString::number(b.peakRssBytes)));
        QVERIFY2(b.peakRssBytes <= 220 * kMiB, qPrintable(QString::number(b.peakRssBytes)));
        QVERIFY2(s.peakRssBytes > 0 && s.peakRssBytes < 100 * kMiB,
                 qPrintable(QString::number(s.peakRssBytes)));
        // Writing 51,200 pages costs CPU; it cannot exceed the attempt's wall time by more
        // than the clock's resolution.
        QVERIFY(b.cpuUs > 0);
        QVERIFY(s.cpuUs >= 0);
        // An int result of 200 is 2 bytes of CBOR (0x18 0xc8).
        QCOMPARE(b.resultBytes, std::int64_t(2));

        c.deliverEvents();
        std::lock_guard lock(mutex);
        QVERIFY(fromEvents.count(big.id()));
        QCOMPARE(fromEvents[big.id()].peakRssBytes, b.peakRssBytes);
        QCOMPARE(fromEvents[big.id()].cpuUs, b.cpuUs);
        QCOMPARE(fromEvents[small.id()].resultBytes, std::int64_t(1));
    }

    void test_everyAttemptsFigures()
    {
        Client c(options(true), loadBundledPlugins());
        SubmitOptions retried = impure();
        retried.retries = 2;
        // flaky_inc_det(5) fails its first attempt, the retry finishes.
        Future f = c.submit("bench.flaky_inc_det", {5}, retried);
        QCOMPARE(f.result(60s).toInt(), 6);
        QCOMPARE(f.attempts(), 2);
        const std::vector<AttemptFigures> all = c.attemptUsage(f);
        QCOMPARE(all.size(), std::size_t(2));
        QCOMPARE(all[0].attempt, 1);
        QCOMPARE(all[1].attempt, 2);
        QCOMPARE(all[0].usage.resultBytes, std::int64_t(-1)); // failed: no result
        QCOMPARE(all[1].usage.resultBytes, std::int64_t(1));  // 6 is one byte of CBOR
        QVERIFY(all[0].usage.peakRssBytes > 0 && all[1].usage.peakRssBytes > 0);
        QCOMPARE(all[1].usage.peakRssBytes, f.usage().peakRssBytes);
        // A task that ran once has one entry.
        Future once = c.submit("bench.inc", {7}, impure());
        QCOMPARE(once.result(60s).toInt(), 8);
        QCOMPARE(c.attemptUsage(once).size(), std::size_t(1));
    }

    void test_resultBytes_data()
    {
        QTest::addColumn<bool>("processes");
        QTest::newRow("processes") << true;
        QTest::newRow("threads") << false;
    }

    void test_resultBytes()
    {
        QFETCH(bool, processes);
        Client c(options(processes), loadBundledPlugins());
        // Text of 10 / 1,000 / 100,000 characters: a head of 1, 3 and 5 bytes. The largest
        // stays on a process worker (it does not travel inline) and is still measured.
        const std::pair<int, std::int64_t> cases[]
            = {{10, 11}, {1000, 1003}, {100'000, 100'005}, {0, 1}};
        for (const auto &[n, bytes] : cases) {
            Future f = c.submit("bench.text_of", {n}, impure());
            QCOMPARE(f.result(30s).toString().size(), std::size_t(n));
            QCOMPARE(f.usage().resultBytes, bytes);
            if (processes) {
                QVERIFY(f.usage().peakRssBytes > 0);
                QVERIFY(f.usage().cpuUs >= 0);
            } else {
                QCOMPARE(f.usage().peakRssBytes, std::int64_t(-1));
                QCOMPARE(f.usage().cpuUs, std::int64_t(-1));
            }
        }
        // A failed attempt has no result size; its memory and CPU are still known.
        Future failed = c.submit("bench.fail", {"no"}, impure());
        QTRY_VERIFY_WITH_TIMEOUT(failed.done(), 30000);
        QCOMPARE(failed.usage().resultBytes, std::int64_t(-1));
        if (processes)
            QVERIFY(failed.usage().peakRssBytes > 0);
    }
};

QTEST_MAIN(TestAttemptUsage)
#include "tst_attemptusage.moc"
