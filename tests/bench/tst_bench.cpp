// Checks taskbench-bench as compare.sh relies on it: the spec's arithmetic (sizes, medians,
// percentiles), the JSON line format, argument errors, and small real runs (threads engine at
// --scale 0.01, the memory mode with 1000 futures) that must pass every check and print
// exactly the lines WORKLOADS.md asks for. Figures are never asserted (noisy machines).
#include "benchstats.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QProcess>
#include <QRegularExpression>
#include <QStringList>
#include <QTest>

using namespace taskbench::bench;

namespace {

struct BenchRun
{
    bool finished = false;
    int exitCode = -1;
    QProcess::ExitStatus exitStatus = QProcess::CrashExit;
    QByteArray out;
    QByteArray err;
};

BenchRun runBench(const QStringList &args, int timeoutMs = 240000)
{
    QProcess p;
    p.start(QStringLiteral(TASKBENCH_BIN_DIR "/taskbench-bench"), args);
    BenchRun r;
    if (!p.waitForStarted(30000))
        return r;
    r.finished = p.waitForFinished(timeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(10000);
    }
    r.exitCode = p.exitCode();
    r.exitStatus = p.exitStatus();
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

/// The lines of stdout (every one must end with a newline; none may be empty).
QList<QByteArray> outputLines(const QByteArray &out)
{
    QList<QByteArray> lines = out.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

/// Top-level keys of a flat JSON object in the order they are written (QJsonObject sorts).
QStringList keysInOrder(const QByteArray &line)
{
    static const QRegularExpression key(QStringLiteral("\"([a-z_0-9]+)\"\\s*:"));
    QStringList keys;
    auto it = key.globalMatch(QString::fromUtf8(line));
    while (it.hasNext())
        keys << it.next().captured(1);
    return keys;
}

const QStringList kRecordKeys{"engine",
                              "workload",
                              "tasks",
                              "seconds",
                              "tasks_per_s",
                              "latency_us_p50",
                              "latency_us_p99",
                              "ok"};

/// Checks one workload line: well-formed, keys in order, types as in WORKLOADS.md §3.
/// Returns the parsed object (empty on failure, after a QTest failure message).
QJsonObject checkRecordLine(const QByteArray &line, const QString &engine, const QString &workload)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        qWarning("not a JSON object: %s", line.constData());
        return {};
    }
    if (keysInOrder(line) != kRecordKeys) {
        qWarning("keys out of order: %s", line.constData());
        return {};
    }
    const QJsonObject o = doc.object();
    const bool startup = workload == QLatin1String("startup");
    const bool latency = workload == QLatin1String("latency");
    const bool typesOk
        = o.value("engine").toString() == engine && o.value("workload").toString() == workload
          && o.value("tasks").isDouble() && o.value("ok").isBool()
          && (o.value("seconds").isDouble() || o.value("seconds").isNull())
          && (startup ? o.value("tasks_per_s").isNull()
                      : (o.value("tasks_per_s").isDouble() || o.value("seconds").isNull()))
          && (latency || o.value("latency_us_p50").isNull())
          && (latency || o.value("latency_us_p99").isNull());
    if (!typesOk) {
        qWarning("wrong fields for %s/%s: %s",
                 qPrintable(engine),
                 qPrintable(workload),
                 line.constData());
        return {};
    }
    return o;
}

const QStringList kAllWorkloads{"submit", "map", "chain", "tree", "latency", "retries"};

} // namespace

class tst_Bench : public QObject
{
    Q_OBJECT

private slots:
    void test_scaledSize_data();
    void test_scaledSize();
    void test_median();
    void test_nearestRank();
    void test_jsonLineFormat();
    void test_badArguments_data();
    void test_badArguments();
    void test_threadsSmallScale();
    void test_workloadSubsetKeepsOrder();
    void test_memoryMode();
    void test_processesEngineNeverCrashes();
};

void tst_Bench::test_scaledSize_data()
{
    QTest::addColumn<QString>("workload");
    QTest::addColumn<double>("scale");
    QTest::addColumn<qint64>("n");
    QTest::addColumn<qint64>("tasks");
    // WORKLOADS.md: --scale 0.25 gives 1250 / 5000 / 500 / 1024 / 75 / 500.
    QTest::newRow("submit 0.25") << "submit" << 0.25 << qint64(1250) << qint64(1250);
    QTest::newRow("map 0.25") << "map" << 0.25 << qint64(5000) << qint64(5000);
    QTest::newRow("chain 0.25") << "chain" << 0.25 << qint64(500) << qint64(500);
    QTest::newRow("tree 0.25") << "tree" << 0.25 << qint64(1024) << qint64(2047);
    QTest::newRow("latency 0.25") << "latency" << 0.25 << qint64(75) << qint64(75);
    QTest::newRow("retries 0.25") << "retries" << 0.25 << qint64(500) << qint64(500);
    QTest::newRow("tree 1") << "tree" << 1.0 << qint64(4096) << qint64(8191);
    QTest::newRow("tree 0.01 rounds half up") << "tree" << 0.01 << qint64(41) << qint64(81);
    QTest::newRow("latency 0.01") << "latency" << 0.01 << qint64(3) << qint64(3);
    QTest::newRow("latency 0.005 (1.5 up)") << "latency" << 0.005 << qint64(2) << qint64(2);
    QTest::newRow("at least one") << "latency" << 1e-6 << qint64(1) << qint64(1);
}

void tst_Bench::test_scaledSize()
{
    QFETCH(QString, workload);
    QFETCH(double, scale);
    QFETCH(qint64, n);
    QFETCH(qint64, tasks);
    const auto spec = findWorkload(workload.toStdString());
    QVERIFY(spec.has_value());
    QCOMPARE(qint64(scaledSize(spec->baseN, scale)), n);
    QCOMPARE(qint64(taskCount(spec->name, n)), tasks);
}

void tst_Bench::test_median()
{
    QCOMPARE(median({3.0}), 3.0);
    QCOMPARE(median({5.0, 1.0, 3.0}), 3.0);
    QCOMPARE(median({4.0, 1.0, 3.0, 2.0}), 2.5); // mean of the two middle ones
}

void tst_Bench::test_nearestRank()
{
    std::vector<double> samples;
    for (int i = 1; i <= 300; ++i)
        samples.push_back(double(i));
    QCOMPARE(nearestRank(samples, 99.0), 297.0); // the 297th of 300
    QCOMPARE(nearestRank({1.0, 2.0, 3.0}, 99.0), 3.0);
    QCOMPARE(nearestRank({7.0}, 99.0), 7.0);
    std::vector<double> hundred;
    for (int i = 1; i <= 100; ++i)
        hundred.push_back(double(i));
    QCOMPARE(nearestRank(hundred, 99.0), 99.0);
}

void tst_Bench::test_jsonLineFormat()
{
    const Record startup{"threads", "startup", 0, 0.0123456789, {}, {}, true};
    QCOMPARE(QByteArray::fromStdString(toJson(startup)),
             QByteArray("{\"engine\": \"threads\", \"workload\": \"startup\", \"tasks\": 0, "
                        "\"seconds\": 0.012346, \"tasks_per_s\": null, \"latency_us_p50\": null, "
                        "\"latency_us_p99\": null, \"ok\": true}"));
    const Record latency{"processes", "latency", 300, 0.5, 12.34, 56.78, true};
    QCOMPARE(QByteArray::fromStdString(toJson(latency)),
             QByteArray("{\"engine\": \"processes\", \"workload\": \"latency\", \"tasks\": 300, "
                        "\"seconds\": 0.500000, \"tasks_per_s\": 600.0, \"latency_us_p50\": 12.3, "
                        "\"latency_us_p99\": 56.8, \"ok\": true}"));
    const Record raised{"threads", "map", 20000, {}, {}, {}, false};
    QVERIFY(
        !checkRecordLine(QByteArray::fromStdString(toJson(raised)), "threads", "map").isEmpty());
    QVERIFY(toJson(raised).find("\"seconds\": null, \"tasks_per_s\": null") != std::string::npos);
    const MemoryRecord memory{"threads", 1000, 123.45, true};
    QCOMPARE(QByteArray::fromStdString(toJson(memory)),
             QByteArray("{\"engine\": \"threads\", \"workload\": \"memory_per_future\", "
                        "\"futures\": 1000, \"bytes_per_future\": 123.5, \"ok\": true}"));
}

void tst_Bench::test_badArguments_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::newRow("unknown engine") << QStringList{"--engine", "dask"};
    QTest::newRow("unknown workload") << QStringList{"--workloads", "map,bogus"};
    QTest::newRow("empty workloads") << QStringList{"--workloads", ","};
    QTest::newRow("zero scale") << QStringList{"--scale", "0"};
    QTest::newRow("scale not a number") << QStringList{"--scale", "big"};
    QTest::newRow("zero repeat") << QStringList{"--repeat", "0"};
    QTest::newRow("missing value") << QStringList{"--repeat"};
    QTest::newRow("unknown option") << QStringList{"--fast"};
    QTest::newRow("zero memory") << QStringList{"--memory=0"};
}

void tst_Bench::test_badArguments()
{
    QFETCH(QStringList, args);
    const BenchRun r = runBench(args, 60000);
    QVERIFY(r.finished);
    QCOMPARE(r.exitStatus, QProcess::NormalExit);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.out.isEmpty(), r.out.constData()); // stdout is for result lines only
    QVERIFY(!r.err.isEmpty());
}

void tst_Bench::test_threadsSmallScale()
{
    const BenchRun r = runBench(
        {"--engine", "threads", "--scale", "0.01", "--repeat", "1", "--json", "--timeout", "120"});
    QVERIFY2(r.finished, r.err.constData());
    QCOMPARE(r.exitStatus, QProcess::NormalExit);
    QVERIFY2(r.exitCode == 0, (r.out + r.err).constData());
    const QList<QByteArray> lines = outputLines(r.out);
    QCOMPARE(lines.size(), 7);
    const QStringList workloads = QStringList{"startup"} + kAllWorkloads;
    // --scale 0.01: 50 / 200 / 20 / 41 leaves (81 tasks) / 3 / 20.
    const QList<int> tasks{0, 50, 200, 20, 81, 3, 20};
    for (int i = 0; i < lines.size(); ++i) {
        const QJsonObject o = checkRecordLine(lines[i], "threads", workloads[i]);
        QVERIFY2(!o.isEmpty(), lines[i].constData());
        QCOMPARE(o.value("tasks").toInt(), tasks[i]);
        QVERIFY2(o.value("ok").toBool(), lines[i].constData());
        QVERIFY2(o.value("seconds").isDouble() && o.value("seconds").toDouble() >= 0.0,
                 lines[i].constData());
        if (workloads[i] == "latency") {
            QVERIFY(o.value("latency_us_p50").isDouble());
            QVERIFY(o.value("latency_us_p99").toDouble() >= o.value("latency_us_p50").toDouble());
        }
    }
}

void tst_Bench::test_workloadSubsetKeepsOrder()
{
    const BenchRun r = runBench({"--workloads",
                                 "latency, submit",
                                 "--scale",
                                 "0.002",
                                 "--repeat",
                                 "2",
                                 "--json",
                                 "--timeout",
                                 "120"});
    QVERIFY(r.finished);
    QVERIFY2(r.exitCode == 0, (r.out + r.err).constData());
    const QList<QByteArray> lines = outputLines(r.out);
    QCOMPARE(lines.size(), 3);
    QVERIFY(!checkRecordLine(lines[0], "threads", "startup").isEmpty());
    QVERIFY(!checkRecordLine(lines[1], "threads", "latency").isEmpty());
    QVERIFY(!checkRecordLine(lines[2], "threads", "submit").isEmpty());
}

void tst_Bench::test_memoryMode()
{
    const BenchRun r = runBench({"--memory", "1000", "--json", "--timeout", "120"});
    QVERIFY2(r.finished, r.err.constData());
    QCOMPARE(r.exitStatus, QProcess::NormalExit);
    QVERIFY2(r.exitCode == 0, (r.out + r.err).constData());
    const QList<QByteArray> lines = outputLines(r.out);
    QCOMPARE(lines.size(), 1);
    QCOMPARE(keysInOrder(lines[0]),
             (QStringList{"engine", "workload", "futures", "bytes_per_future", "ok"}));
    const QJsonObject o = QJsonDocument::fromJson(lines[0]).object();
    QCOMPARE(o.value("engine").toString(), QStringLiteral("threads"));
    QCOMPARE(o.value("workload").toString(), QStringLiteral("memory_per_future"));
    QCOMPARE(o.value("futures").toInt(), 1000);
    QVERIFY(o.value("bytes_per_future").isDouble());
    QVERIFY(o.value("ok").toBool());
}

void tst_Bench::test_processesEngineNeverCrashes()
{
    // Process workers may not exist yet, or may fall back: either way the benchmark prints
    // every line (ok false where it could not run) and exits with 0 or 1, never crashes.
    const BenchRun r = runBench({"--engine",
                                 "processes",
                                 "--scale",
                                 "0.01",
                                 "--repeat",
                                 "1",
                                 "--json",
                                 "--timeout",
                                 "120"});
    QVERIFY2(r.finished, r.err.constData());
    QCOMPARE(r.exitStatus, QProcess::NormalExit);
    QVERIFY2(r.exitCode != 124, ("the engine hung (watchdog fired)\n" + r.out + r.err).constData());
    QVERIFY2(r.exitCode == 0 || r.exitCode == 1, (r.out + r.err).constData());
    const QList<QByteArray> lines = outputLines(r.out);
    QCOMPARE(lines.size(), 7);
    const QStringList workloads = QStringList{"startup"} + kAllWorkloads;
    bool allOk = true;
    for (int i = 0; i < lines.size(); ++i) {
        const QJsonObject o = checkRecordLine(lines[i], "processes", workloads[i]);
        QVERIFY2(!o.isEmpty(), lines[i].constData());
        allOk = allOk && o.value("ok").toBool();
    }
    QCOMPARE(r.exitCode == 0, allOk);
}

QTEST_MAIN(tst_Bench)
#include "tst_bench.moc"
