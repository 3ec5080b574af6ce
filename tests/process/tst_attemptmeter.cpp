// The worker's AttemptMeter on its own thread: a long attempt's CPU time is read from the
// kernel; quick attempts right after a reading take none (CPU time bounded by their wall
// time, the peak the mark read last), and the next reading puts the thread's total right;
// TASKBENCH_MEASURE_ATTEMPTS=0 turns it off.
#include "workers/attemptmeter_p.h"

#include <QtTest>

#include <chrono>
#include <cstdlib>

#include <sys/resource.h>

using namespace taskbench;
using namespace taskbench::detail;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t threadCpuUs()
{
    rusage ru{};
    ::getrusage(RUSAGE_THREAD, &ru);
    return std::int64_t(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1'000'000 + ru.ru_utime.tv_usec
           + ru.ru_stime.tv_usec;
}

/// Burns CPU on this thread until the kernel counted at least `us` of it.
void spinCpu(std::int64_t us)
{
    const std::int64_t until = threadCpuUs() + us;
    volatile std::uint64_t x = 0;
    while (threadCpuUs() < until)
        for (int i = 0; i < 10000; ++i)
            x = x + std::uint64_t(i);
}

std::int64_t elapsedUs(Clock::time_point since)
{
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - since).count();
}

} // namespace

class TestAttemptMeter : public QObject
{
    Q_OBJECT

private slots:
    void test_longAttemptReadsTheKernel()
    {
        AttemptMeter meter;
        QVERIFY(meter.enabled());
        AttemptMeter::Thread t;
        const auto began = Clock::now();
        meter.begin(t);
        spinCpu(5000);
        const AttemptUsage u = meter.end(t);
        const std::int64_t wall = elapsedUs(began);
        QVERIFY2(u.cpuUs >= 4000, qPrintable(QString::number(u.cpuUs)));
        QVERIFY2(u.cpuUs <= wall + 1000,
                 qPrintable(QStringLiteral("%1 > %2").arg(u.cpuUs).arg(wall)));
        if (meter.measuresMemory())
            QVERIFY(u.peakRssBytes > 0);
    }

    void test_quickAttemptsTakeNoReadingAndAddUp()
    {
        AttemptMeter meter;
        AttemptMeter::Thread t;
        meter.begin(t); // the reading the quick ones carry
        const std::int64_t cpuBefore = threadCpuUs();
        AttemptUsage first = meter.end(t);
        QVERIFY(first.cpuUs >= 0);
        std::int64_t reported = 0;
        int quick = 0;
        for (int i = 0; i < 50; ++i) {
            const auto began = Clock::now();
            meter.begin(t);
            const AttemptUsage u = meter.end(t);
            const std::int64_t wall = elapsedUs(began);
            QVERIFY(u.cpuUs >= 0);
            if (wall < AttemptMeter::kQuickUs) {
                // No reading of its own: at most its wall time, and a mark read before.
                QVERIFY2(u.cpuUs <= wall + 1, qPrintable(QString::number(u.cpuUs)));
                if (meter.measuresMemory())
                    QVERIFY(u.peakRssBytes > 0);
                ++quick;
            }
            reported += u.cpuUs;
        }
        QVERIFY2(quick > 0, "no attempt was quick");
        // A long attempt reads the kernel again: the thread's total comes out right, since
        // the quick ones' wall times bound what they used.
        meter.begin(t);
        spinCpu(3000);
        const AttemptUsage last = meter.end(t);
        reported += last.cpuUs;
        const std::int64_t used = threadCpuUs() - cpuBefore;
        QVERIFY2(reported <= used + 1000,
                 qPrintable(QStringLiteral("reported %1 us, used %2 us").arg(reported).arg(used)));
        QVERIFY2(reported >= used - 1000,
                 qPrintable(QStringLiteral("reported %1 us, used %2 us").arg(reported).arg(used)));
    }

    void test_offWhenAsked()
    {
        qputenv("TASKBENCH_MEASURE_ATTEMPTS", "0");
        AttemptMeter meter;
        qunsetenv("TASKBENCH_MEASURE_ATTEMPTS");
        QVERIFY(!meter.enabled());
        AttemptMeter::Thread t;
        meter.begin(t);
        const AttemptUsage u = meter.end(t);
        QCOMPARE(u.cpuUs, std::int64_t(-1));
        QCOMPARE(u.peakRssBytes, std::int64_t(-1));
    }
};

QTEST_GUILESS_MAIN(TestAttemptMeter)
#include "tst_attemptmeter.moc"
