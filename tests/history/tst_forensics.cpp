// Forensics from the run history: the critical path (a pure function on made-up times, and a
// recorded graph of sleeps whose chain is known from its structure, also through
// `taskbench-cli history critical-path`), what each attempt used as recorded (runs, columns,
// exports, Perfetto flows and memory counters), and `taskbench-cli replay` of a recorded
// faults.segfault: the signal comes back, and under `gdb -batch` it stops in the plugin
// function (not in a host function of the same name) and exits with the outcome.
#include "clirunner.h"

#include "taskbench/client.h"
#include "taskbench/history/criticalpath.h"
#include "taskbench/history/exporters.h"
#include "taskbench/history/historystore.h"
#include "taskbench/history/recorder.h"
#include "taskbench/pluginloader.h"
#include "taskbench/valuecodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <map>

using namespace taskbench;
using namespace taskbench::history;
using namespace std::chrono_literals;
using testsupport::CliRun;

namespace {

constexpr std::int64_t kMiB = 1 << 20;

std::shared_ptr<FunctionRegistry> benchRegistry()
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    if (loader.load(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so").loaded.empty())
        qFatal("cannot load the bench plugin from %s", TASKBENCH_PLUGIN_DIR);
    return registry;
}

RecorderOptions recordTo(const QString &db)
{
    RecorderOptions ro;
    ro.databasePath = db.toStdString();
    return ro;
}

std::vector<TaskRecord> tasksOf(const QString &db, std::int64_t session)
{
    HistoryStore store;
    if (!store.open(db.toStdString()))
        qFatal("history: %s", store.errorString().c_str());
    TaskQuery q;
    q.session = session;
    return store.tasks(q);
}

PathTask
task(std::uint64_t id, std::int64_t start, std::int64_t end, std::vector<std::uint64_t> deps = {})
{
    PathTask t;
    t.id = id;
    t.key = "t" + std::to_string(id);
    t.function = "f";
    t.deps = std::move(deps);
    t.submittedUs = 0;
    t.startUs = start;
    t.endUs = end;
    return t;
}

std::vector<std::uint64_t> ids(const CriticalPath &p)
{
    std::vector<std::uint64_t> out;
    for (const PathStep &s : p.steps)
        out.push_back(s.id);
    return out;
}

} // namespace

class TestForensics : public QObject
{
    Q_OBJECT

private slots:
    void test_criticalPathOfTimes()
    {
        // 1 -> 3, 2 -> 3 -> 5, 4 alone; 2 finishes after 1, so 3 waited for 2.
        const std::vector<PathTask> tasks = {task(1, 0, 100, {}),
                                             task(2, 0, 400, {}),
                                             task(3, 410, 500, {1, 2}),
                                             task(4, 0, 450, {}),
                                             task(5, 520, 800, {3}),
                                             task(6, 0, 0, {5})}; // never ran: left out
        const CriticalPath p = criticalPath(tasks);
        QCOMPARE(ids(p), (std::vector<std::uint64_t>{2, 3, 5}));
        QCOMPARE(p.startUs, std::int64_t(0));
        QCOMPARE(p.endUs, std::int64_t(800));
        QCOMPARE(p.steps[1].waitUs, std::int64_t(10));
        QCOMPARE(p.steps[1].shareUs, std::int64_t(100));
        QCOMPARE(p.steps[2].waitUs, std::int64_t(20));
        std::int64_t sum = 0;
        for (const PathStep &s : p.steps)
            sum += s.shareUs;
        QCOMPARE(sum, p.endUs - p.startUs); // the shares make up the whole run
        QCOMPARE(p.steps[0].share, 0.5);

        QVERIFY(criticalPath(std::vector<PathTask>{}).steps.empty());
        // A cycle (malformed input) still ends.
        const std::vector<PathTask> cyclic = {task(1, 0, 10, {2}), task(2, 0, 20, {1})};
        QCOMPARE(ids(criticalPath(cyclic)), (std::vector<std::uint64_t>{1, 2}));
    }

    void test_criticalPathOfCachedTasks()
    {
        // Regression: a task served from the result cache (no attempt, started_us 0) counted
        // the time from its submit to its cache hit as its run.
        PathTask a = task(1, 0, 300, {});
        a.submittedUs = 50; // the run's start
        a.cachedFrom = 4;
        PathTask b = task(2, 100, 900, {1}); // ran
        b.submittedUs = 50;
        CriticalPath p = criticalPath(std::vector<PathTask>{a, b});
        QCOMPARE(ids(p), (std::vector<std::uint64_t>{1, 2}));
        QVERIFY(p.steps[0].cached());
        QCOMPARE(p.steps[0].runUs, std::int64_t(0));
        QCOMPARE(p.steps[0].startUs, std::int64_t(300)); // it starts where it was served
        QCOMPARE(p.steps[0].waitUs, std::int64_t(250));
        QCOMPARE(p.steps[0].shareUs + p.steps[1].shareUs, p.endUs - p.startUs);
        QVERIFY(!p.steps[1].cached());
        QCOMPARE(p.steps[1].runUs, std::int64_t(800));
        QCOMPARE(p.ranTasks, std::size_t(1));
        QCOMPARE(p.cachedTasks, std::size_t(1));
        QVERIFY(!p.allCached());
        const std::string text = criticalPathText(p);
        QVERIFY2(text.find("(1 from the result cache)") != std::string::npos, text.c_str());
        QVERIFY2(text.find("t1 (f)  from cache, session 4") != std::string::npos, text.c_str());
        QVERIFY2(text.find("0.000s  t1") != std::string::npos, text.c_str());
        const QJsonObject doc
            = QJsonDocument::fromJson(QByteArray::fromStdString(criticalPathJson(p, 7))).object();
        const QJsonArray steps = doc["steps"].toArray();
        QCOMPARE(steps[0].toObject()["cached"].toBool(), true);
        QCOMPARE(steps[0].toObject()["cached_from"].toInteger(), 4);
        QCOMPARE(steps[0].toObject()["run_us"].toInteger(), 0);
        QCOMPARE(steps[1].toObject()["cached"].toBool(), false);
        QVERIFY(steps[1].toObject()["cached_from"].isNull());
        QCOMPARE(doc["all_cached"].toBool(), false);

        // Everything from the cache: no path, said plainly.
        b.cachedFrom = 0;
        p = criticalPath(std::vector<PathTask>{a, b});
        QVERIFY(p.allCached());
        QVERIFY(p.steps.empty());
        QCOMPARE(p.cachedTasks, std::size_t(2));
        QCOMPARE(criticalPathText(p),
                 std::string("No task of this session ran: all 2 came from the result cache "
                             "(0.001 s of wall time), so there is no critical path.\n"));
        const QJsonObject all
            = QJsonDocument::fromJson(QByteArray::fromStdString(criticalPathJson(p, 7))).object();
        QCOMPARE(all["all_cached"].toBool(), true);
        QCOMPARE(all["cached_tasks"].toInteger(), 2);
        QCOMPARE(all["ran_tasks"].toInteger(), 0);
        QVERIFY(all["steps"].toArray().isEmpty());

        // A recorded cached task: no attempt, started_us 0.
        TaskRecord r;
        r.id = 1;
        r.status = "finished";
        r.submittedUs = 1000;
        r.finishedUs = 1500;
        r.cachedFrom = 3;
        const std::vector<PathTask> recorded = pathTasks({r});
        QCOMPARE(recorded[0].startUs, std::int64_t(1500));
        QCOMPARE(recorded[0].endUs, std::int64_t(1500));
        QCOMPARE(recorded[0].cachedFrom, std::int64_t(3));
    }

    void test_criticalPathOfARecordedGraph()
    {
        // a(100 ms) and b(400 ms) feed c(add), which feeds d(200 ms); e(50 ms) and f
        // (after a, 50 ms) are off the path. Three workers run a, b, e at once, so c waits
        // for b: the chain is b, c, d whatever the machine's speed, as long as 300 ms of
        // difference between a and b is not lost to scheduling.
        QTemporaryDir dir;
        const QString db = dir.filePath("history.sqlite");
        ClusterOptions o;
        o.workers = 3;
        std::int64_t session = 0;
        std::vector<std::string> expected;
        {
            Client client(o, benchRegistry());
            Recorder recorder(client, recordTo(db));
            QVERIFY(recorder.ok());
            session = recorder.sessionId();
            Future a = client.submit("bench.slow_inc", {1, 100});
            Future b = client.submit("bench.slow_inc", {2, 400});
            Future e = client.submit("bench.slow_inc", {3, 50});
            Future c = client.submit("bench.add", {Value(a), Value(b)});
            Future d = client.submit("bench.slow_inc", {Value(c), 200});
            Future f = client.submit("bench.slow_inc", {Value(a), 50});
            recorder.track({a, b, c, d, e, f});
            QCOMPARE(d.result(30s).toInt(), 6); // (1 + 1) + (2 + 1) + 1
            QCOMPARE(f.result(30s).toInt(), 3);
            QCOMPARE(e.result(30s).toInt(), 4);
            expected = {b.key(), c.key(), d.key()};
            recorder.finish();
        }
        const CriticalPath p = criticalPath(pathTasks(tasksOf(db, session)));
        std::vector<std::string> keys;
        for (const PathStep &s : p.steps)
            keys.push_back(s.key);
        QCOMPARE(keys, expected);

        CliRun run;
        QVERIFY(testsupport::runCli({"history",
                                     "critical-path",
                                     "--session",
                                     QString::number(session),
                                     "--db",
                                     db,
                                     "--json"},
                                    run));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonObject doc = run.lastObject();
        QCOMPARE(doc["session"].toInteger(), session);
        const QJsonArray steps = doc["steps"].toArray();
        QCOMPARE(steps.size(), 3);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(steps[i].toObject()["key"].toString().toStdString(), expected[std::size_t(i)]);
        QVERIFY(testsupport::runCli(
            {"history", "critical-path", "--session", QString::number(session), "--db", db}, run));
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("Critical path: 3 tasks"), qPrintable(run.out));
        QVERIFY(run.out.contains(QString::fromStdString(expected[0])));

        // The Perfetto export draws an arrow per dependency (c <- a, c <- b, d <- c, f <- a):
        // each "s" inside a slice of the dependency, its "f" at the start of the dependent's.
        {
            HistoryStore store;
            QVERIFY(store.open(db.toStdString()));
            const QJsonArray events
                = QJsonDocument::fromJson(QByteArray::fromStdString(exportPerfetto(store, session)))
                      .object()["traceEvents"]
                      .toArray();
            std::map<qint64, QJsonObject> starts, finishes;
            QList<QJsonObject> slices;
            for (const QJsonValue &v : events) {
                const QJsonObject e = v.toObject();
                const QString ph = e["ph"].toString();
                if (ph == "X")
                    slices.append(e);
                else if (ph == "s")
                    starts[e["id"].toInteger()] = e;
                else if (ph == "f")
                    finishes[e["id"].toInteger()] = e;
            }
            QCOMPARE(starts.size(), std::size_t(4));
            QCOMPARE(finishes.size(), std::size_t(4));
            const auto inSlice = [&](const QJsonObject &e, bool atStart) {
                for (const QJsonObject &x : slices) {
                    const qint64 ts = x["ts"].toInteger(), dur = x["dur"].toInteger();
                    if (x["pid"] != e["pid"] || x["tid"] != e["tid"])
                        continue;
                    const qint64 t = e["ts"].toInteger();
                    if (atStart ? t == ts : (t >= ts && t <= ts + dur))
                        return true;
                }
                return false;
            };
            for (const auto &[id, s] : starts) {
                QVERIFY(finishes.count(id));
                QVERIFY2(inSlice(s, false), qPrintable(QJsonDocument(s).toJson()));
                QVERIFY2(inSlice(finishes[id], true),
                         qPrintable(QJsonDocument(finishes[id]).toJson()));
                QCOMPARE(finishes[id]["bp"].toString(), QString("e"));
            }
        }

        // Bad input: a clear message, exit 2.
        QVERIFY(testsupport::runCli({"history", "critical-path", "--db", db}, run));
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("needs --session"), qPrintable(run.err));
        QVERIFY(
            testsupport::runCli({"history", "critical-path", "--session", "999", "--db", db}, run));
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("no session 999"), qPrintable(run.err));
    }

    void test_usageIsRecordedAndExported()
    {
        QTemporaryDir dir;
        const QString db = dir.filePath("history.sqlite");
        ClusterOptions o;
        o.workers = 1;
        o.processes = true;
        o.workerExecutable = TASKBENCH_BIN_DIR "/taskbench-worker";
        std::int64_t session = 0;
        {
            Client client(o, benchRegistry());
            Recorder recorder(client, recordTo(db));
            QVERIFY(recorder.ok());
            session = recorder.sessionId();
            Future big = client.submit("bench.touch_memory", {64});
            Future text = client.submit("bench.text_of", {1000});
            recorder.track({big, text});
            QCOMPARE(big.result(30s).toInt(), 64);
            QCOMPARE(text.result(30s).toString().size(), std::size_t(1000));
            recorder.finish();
        }
        std::map<std::string, TaskRecord> byFunction;
        for (TaskRecord &t : tasksOf(db, session))
            byFunction[t.function] = std::move(t);
        const TaskRecord &big = byFunction.at("bench.touch_memory");
        const TaskRecord &text = byFunction.at("bench.text_of");
        QCOMPARE(big.runs.size(), std::size_t(1));
        QVERIFY(big.runs[0].usage.peakRssBytes >= 64 * kMiB);
        QVERIFY(big.runs[0].usage.cpuUs > 0);
        QCOMPARE(big.usage.peakRssBytes, big.runs[0].usage.peakRssBytes);
        QCOMPARE(text.usage.resultBytes, std::int64_t(1003));

        HistoryStore store;
        QVERIFY(store.open(db.toStdString()));
        const QJsonObject json
            = QJsonDocument::fromJson(QByteArray::fromStdString(exportJson(store, session)))
                  .object();
        bool seen = false;
        for (const QJsonValue &v : json["tasks"].toArray()) {
            const QJsonObject t = v.toObject();
            if (t["function"].toString() != "bench.text_of")
                continue;
            seen = true;
            QCOMPARE(t["result_bytes"].toInteger(), 1003);
            const QJsonObject run = t["attempt_list"].toArray()[0].toObject();
            QCOMPARE(run["result_bytes"].toInteger(), 1003);
            QVERIFY(run["peak_rss_bytes"].toInteger() > 0);
            QVERIFY(run["cpu_s"].isDouble());
        }
        QVERIFY(seen);
        // Perfetto: the attempt's peak memory on a counter track of its worker thread. Only
        // the big attempt's own value is looked for: the next attempt's peak can be higher
        // where the allocator keeps the freed 64 MiB resident (ASan's quarantine does).
        const double bigPeakMiB = double(big.runs[0].usage.peakRssBytes) / double(kMiB);
        bool bigCounterSeen = false;
        for (const QJsonValue &v :
             QJsonDocument::fromJson(QByteArray::fromStdString(exportPerfetto(store, session)))
                 .object()["traceEvents"]
                 .toArray()) {
            const QJsonObject e = v.toObject();
            if (e["ph"].toString() == "C" && e["name"].toString().startsWith("peak memory")
                && qFuzzyCompare(e["args"].toObject()["MiB"].toDouble(), bigPeakMiB))
                bigCounterSeen = true;
        }
        QVERIFY2(bigCounterSeen, "no counter event carries the big attempt's peak memory");
        const std::string csv = exportCsv(store, session);
        QVERIFY(csv.find(",peak_rss_bytes,cpu_s,result_bytes,cached_from\r\n")
                != std::string::npos);
        QVERIFY(csv.find(",1003,\r\n") != std::string::npos);
    }

    void test_replayReproducesASegfault()
    {
        QTemporaryDir dir;
        const QString db = dir.filePath("history.sqlite");
        CliRun run;
        // Recorded like any failure: the worker dies three times, the task errs.
        QVERIFY(testsupport::runCli(
            {"submit", "faults.segfault", "--key", "seg-1", "--workers", "1", "--db", db}, run));
        QCOMPARE(run.exitCode, 1);
        QVERIFY(testsupport::runCli({"replay", "seg-1", "--db", db}, run));
        QVERIFY2(run.exitCode == 128 + 11, qPrintable(run.out + run.err));
        QVERIFY2(run.out.contains("SIGSEGV"), qPrintable(run.out));
        QVERIFY2(run.err.contains("SIGSEGV"), qPrintable(run.err));

        // A finished task replays with its result, and exit 0.
        QVERIFY(testsupport::runCli(
            {"submit", "bench.add", "2", "3", "--key", "add-1", "--workers", "1", "--db", db},
            run));
        QCOMPARE(run.exitCode, 0);
        QVERIFY(testsupport::runCli({"replay", "add-1", "--db", db}, run));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY2(run.out.contains("finished  int  5"), qPrintable(run.out));

        QVERIFY(testsupport::runCli({"replay", "no-such-key", "--db", db}, run));
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("no task with key 'no-such-key'"), qPrintable(run.err));

        if (QStandardPaths::findExecutable("gdb").isEmpty())
            QSKIP("gdb is not installed");
        testsupport::RunOptions slow;
        slow.timeoutMs = 120000;
        QVERIFY(testsupport::runCli({"replay", "seg-1", "--db", db, "--gdb"}, slow, run));
        const QString all = run.out + run.err;
        // Breakpoint 1 is the replay's own stop once the plugin is loaded; 2 the function.
        QVERIFY2(all.contains("Breakpoint 2, (anonymous namespace)::segfault () at"),
                 qPrintable(all));
        QVERIFY2(all.contains("SIGSEGV"), qPrintable(all));
        QVERIFY2(run.exitCode == 128 + 11, qPrintable(all)); // the outcome, as without --gdb

        // A name that this program has too (FunctionRegistry::add): it stops in the plugin.
        QVERIFY(testsupport::runCli({"replay", "add-1", "--db", db, "--gdb"}, slow, run));
        const QString add = run.out + run.err;
        // "Breakpoint 2.N": the one enabled location of a name with many.
        static const QRegularExpression stopInPlugin(
            R"(Breakpoint 2(\.\d+)?, \(anonymous namespace\)::add \(x=2, y=3\) at [^\n]*bench\.cpp)");
        QVERIFY2(add.contains(stopInPlugin), qPrintable(add));
        QVERIFY2(!add.contains("FunctionRegistry::add"), qPrintable(add));
        QVERIFY2(run.exitCode == 0, qPrintable(add));
    }
};

QTEST_MAIN(TestForensics)
#include "tst_forensics.moc"
