// The process-isolated local cluster through the public Client API: every fault of the
// `faults` plugin leaves the test process alive with the right error text and the worker
// back; lost results are recomputed; scale-down loses nothing; output is captured per
// task; and a chaos run (a seeded PRNG picks which worker to SIGKILL) ends with every
// future finished and right; restartWorker gives a process worker a new pid (a thread
// worker a successor) with every result still right; a pure result held by its worker
// reaches the result cache once it is fetched.
#include "taskbench/client.h"
#include "taskbench/pluginloader.h"

#include "memoryresultcache.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <random>
#include <sys/types.h>

using namespace taskbench;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<FunctionRegistry> loadPlugins()
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    auto report = loader.scan({TASKBENCH_PLUGIN_DIR});
    if (!report.refused.empty())
        qWarning(
            "refused: %s: %s", report.refused[0].path.c_str(), report.refused[0].reason.c_str());
    return registry;
}

ClusterOptions processOptions(int workers, int allowedFailures = 3)
{
    ClusterOptions o;
    o.workers = workers;
    o.processes = true;
    o.allowedFailures = allowedFailures;
    o.workerExecutable = std::string(TASKBENCH_BIN_DIR) + "/taskbench-worker";
    o.cancelGrace = 500ms;
    return o;
}

bool allWorkersAlive(Client &c, std::size_t n)
{
    auto ws = c.workers();
    if (ws.size() != n)
        return false;
    for (const WorkerInfo &w : ws)
        if (w.pid <= 0)
            return false;
    return true;
}

/// One worker, alive, in another process than `oldPid`: read from one snapshot (two
/// workers() calls can straddle the moment the old process goes).
bool workerReplaced(Client &c, long oldPid)
{
    const std::vector<WorkerInfo> ws = c.workers();
    return ws.size() == 1 && ws[0].pid > 0 && ws[0].pid != oldPid;
}

std::string errorText(const Future &f)
{
    auto e = f.error();
    return e ? e->type + ": " + e->message : std::string("<no error>");
}

} // namespace

class TestProcessCluster : public QObject
{
    Q_OBJECT

private slots:
    void test_runsPluginFunctionsInWorkerProcesses()
    {
        Client c(processOptions(2), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 2), 10000);
        for (const WorkerInfo &w : c.workers())
            QVERIFY(w.pid != long(::getpid()));
        Future x = c.submit("bench.inc", {1});
        Future y = c.submit("bench.inc", {2});
        Future z = c.submit("bench.add", {x, y});
        QCOMPARE(z.result(20s).toInt(), 5);
        std::vector<Value> inputs;
        for (int i = 0; i < 500; ++i)
            inputs.push_back(i);
        auto fs = c.map("bench.inc", inputs);
        auto values = c.gather(fs, Errors::Raise, 30s);
        for (int i = 0; i < 500; ++i)
            QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
        // Host functions cannot run in another process: refused at submit.
        c.functions().addFunction("host.f", [](std::int64_t v) { return v; }, {"v"});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, c.submit("host.f", {1}));
    }

    void test_faults_data()
    {
        QTest::addColumn<QString>("function");
        QTest::addColumn<QString>("errorType");
        QTest::addColumn<QString>("errorContains");
        QTest::newRow("segfault") << "faults.segfault"
                                  << "WorkerDied"
                                  << "SIGSEGV";
        QTest::newRow("abort") << "faults.abort_task"
                               << "WorkerDied"
                               << "SIGABRT";
        QTest::newRow("exit") << "faults.exit_task"
                              << "WorkerDied"
                              << "exited with code 3";
        QTest::newRow("throw") << "faults.throw_runtime"
                               << "std::runtime_error"
                               << "";
        QTest::newRow("nonstd") << "faults.throw_nonstd"
                                << ""
                                << "non-standard";
    }
    void test_faults()
    {
        QFETCH(QString, function);
        QFETCH(QString, errorType);
        QFETCH(QString, errorContains);
        Client c(processOptions(2, 2), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 2), 10000);
        const auto fn = c.functions().find(function.toStdString());
        QVERIFY2(fn, qPrintable(function));
        std::vector<Value> args;
        for (const auto &p : fn->params)
            args.push_back(p.hasDefault      ? p.defaultValue
                           : p.type == "str" ? Value("boom")
                                             : Value(3));
        SubmitOptions o;
        o.pure = false;
        Future bad = c.submit(function.toStdString(), args, o);
        Future good = c.submit("bench.inc", {41});
        QVERIFY_THROWS_EXCEPTION(TaskFailed, bad.result(60s));
        const std::string text = errorText(bad);
        if (!errorType.isEmpty())
            QCOMPARE(QString::fromStdString(bad.error()->type), errorType);
        QVERIFY2(text.find(errorContains.toStdString()) != std::string::npos, text.c_str());
        if (errorType == "WorkerDied")
            QVERIFY2(text.find("2 times") != std::string::npos, text.c_str());
        QCOMPARE(good.result(30s).toInt(), 42);
        // The cluster is whole again and works.
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 2), 20000);
        QCOMPARE(c.submit("bench.inc", {1}).result(30s).toInt(), 2);
    }

    void test_hangTimesOutAndWorkerComesBack()
    {
        Client c(processOptions(1), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 1), 10000);
        const long pid = c.workers().at(0).pid;
        SubmitOptions o;
        o.timeout = 300ms;
        Future hung = c.submit("faults.hang", {}, o);
        QVERIFY_THROWS_EXCEPTION(TaskFailed, hung.result(30s));
        QCOMPARE(hung.error()->type, std::string("TimedOut"));
        QTRY_VERIFY_WITH_TIMEOUT(workerReplaced(c, pid), 20000);
        QCOMPARE(c.submit("bench.inc", {1}).result(30s).toInt(), 2);
    }

    void test_cancelRunningKillsAfterGrace()
    {
        Client c(processOptions(1), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 1), 10000);
        Future hung = c.submit("faults.hang", {});
        QTRY_COMPARE_WITH_TIMEOUT(hung.status(), FutureStatus::Processing, 10000);
        hung.cancel();
        QCOMPARE(hung.status(), FutureStatus::Cancelled);
        // The hung worker is killed after the grace period and replaced.
        QCOMPARE(c.submit("bench.inc", {7}).result(30s).toInt(), 8);
    }

    void test_memoryLimitRestartsWorker()
    {
        ClusterOptions o = processOptions(1, 1);
        o.memoryLimitBytes = 200ull << 20;
        Client c(o, loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 1), 10000);
        const auto fn = c.functions().find("faults.allocate");
        QVERIFY(fn);
        std::vector<Value> args;
        for (const auto &p : fn->params)
            args.push_back(p.hasDefault ? p.defaultValue : Value(100));
        Future hog = c.submit("faults.allocate", args);
        QVERIFY_THROWS_EXCEPTION(TaskFailed, hog.result(60s));
        QVERIFY2(errorText(hog).find("memory limit exceeded") != std::string::npos,
                 errorText(hog).c_str());
        QCOMPARE(c.submit("bench.inc", {1}).result(30s).toInt(), 2);
    }

    void test_lostResultIsRecomputed()
    {
        Client c(processOptions(2), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 2), 10000);
        // A large result stays on its worker (only small ones travel inline).
        Future big = c.submit("bench.range_list", {5000});
        c.wait({big}, ReturnWhen::AllCompleted, 30s);
        QCOMPARE(big.typeName(), std::string("list[5000]"));
        long holder = 0;
        for (const WorkerInfo &w : c.workers())
            if (w.resultsHeld > 0)
                holder = w.pid;
        QVERIFY(holder > 0);
        ::kill(pid_t(holder), SIGKILL);
        // Still needed (we hold the future): recomputed from its inputs.
        Future total = c.submit("bench.sum", {big});
        QCOMPARE(total.result(30s).toInt(), std::int64_t(4999) * 5000 / 2);
        QCOMPARE(big.result(30s).toList().size(), std::size_t(5000));
    }

    void test_scaleDownKeepsResults()
    {
        Client c(processOptions(3), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 3), 10000);
        std::vector<Value> inputs;
        for (int i = 0; i < 30; ++i)
            inputs.push_back(1000 + i);
        auto fs = c.map("bench.range_list", inputs);
        c.wait(fs, ReturnWhen::AllCompleted, 30s);
        c.scale(1);
        QTRY_COMPARE_WITH_TIMEOUT(c.workers().size(), std::size_t(1), 20000);
        for (int i = 0; i < 30; ++i)
            QCOMPARE(fs[std::size_t(i)].result(30s).toList().size(), std::size_t(1000 + i));
    }

    void test_outputIsCapturedPerTask()
    {
        Client c(processOptions(1), loadPlugins());
        Future f = c.submit("bench.print", {"hello from a task"});
        c.wait({f}, ReturnWhen::AllCompleted, 30s);
        QCOMPARE(f.status(), FutureStatus::Finished);
        QVERIFY2(c.output(f).find("hello from a task") != std::string::npos, c.output(f).c_str());
        Future g = c.submit("bench.inc", {1});
        g.result(30s);
        QCOMPARE(c.output(g), std::string());
    }

    void test_chaosKillsEveryFutureStillRight()
    {
        const unsigned seed = qEnvironmentVariableIsSet("TASKBENCH_SEED")
                                  ? unsigned(qEnvironmentVariableIntValue("TASKBENCH_SEED"))
                                  : 20261125u;
        qInfo("chaos seed %u (set TASKBENCH_SEED to replay)", seed);
        std::mt19937 rng(seed);
        Client c(processOptions(3, 1000), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 3), 10000);
        // 1,000 slow-ish leaves and 1,000 dependents: 2,000 tasks with dependencies.
        std::vector<std::vector<Value>> leaves;
        for (int i = 0; i < 1000; ++i)
            leaves.push_back({i, 5});
        SubmitOptions o;
        o.pure = false;
        auto first = c.mapArgs("bench.slow_inc", leaves, o);
        std::vector<Value> refs(first.begin(), first.end());
        auto second = c.map("bench.inc", refs, o);
        int kills = 0;
        while (kills < 10) {
            auto ws = c.workers();
            if (ws.size() == 3
                && std::all_of(ws.begin(), ws.end(), [](auto &w) { return w.pid > 0; })) {
                const WorkerInfo &victim = ws[rng() % ws.size()];
                ::kill(pid_t(victim.pid), SIGKILL);
                ++kills;
            }
            // Let some work happen between kills (bounded, not a correctness wait).
            c.wait(second, ReturnWhen::AllCompleted, 150ms);
        }
        auto values = c.gather(second, Errors::Raise, 120s);
        QCOMPARE(values.size(), std::size_t(1000));
        for (int i = 0; i < 1000; ++i)
            QCOMPARE(values[std::size_t(i)].toInt(), i + 2);
    }

    void test_restartWorkerGivesNewProcessResultsStayRight()
    {
        // allowedFailures = 1: were the user's restart blamed on the running task, it would
        // err at once. It must run again instead.
        Client c(processOptions(1, 1), loadPlugins());
        QTRY_VERIFY_WITH_TIMEOUT(allWorkersAlive(c, 1), 10000);
        // A large result stays on the worker (lost with the process, then recomputed).
        Future big = c.submit("bench.range_list", {5000});
        c.wait({big}, ReturnWhen::AllCompleted, 30s);
        QCOMPARE(big.status(), FutureStatus::Finished);
        // Slow tasks, so one is running when the worker goes.
        std::vector<std::vector<Value>> slow;
        for (int i = 0; i < 6; ++i)
            slow.push_back({i, 150});
        SubmitOptions o;
        o.pure = false;
        auto running = c.mapArgs("bench.slow_inc", slow, o);
        QTRY_VERIFY_WITH_TIMEOUT(!c.workers().at(0).running.empty(), 10000);
        const WorkerInfo before = c.workers().at(0);

        QVERIFY(!c.restartWorker(before.id + 100)); // no such worker
        QVERIFY(c.restartWorker(before.id));
        QTRY_VERIFY_WITH_TIMEOUT(workerReplaced(c, before.pid), 20000);
        const WorkerInfo after = c.workers().at(0);
        QCOMPARE(after.id, before.id);
        QVERIFY(after.pid != before.pid);

        auto values = c.gather(running, Errors::Raise, 60s);
        for (int i = 0; i < 6; ++i)
            QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
        QCOMPARE(c.submit("bench.sum", {big}).result(30s).toInt(), std::int64_t(4999) * 5000 / 2);
        QCOMPARE(big.result(30s).toList().size(), std::size_t(5000));
    }

    void test_restartThreadWorkerReplacesIt()
    {
        ClusterOptions o;
        o.workers = 2;
        o.allowedFailures = 1;
        Client c(o, loadPlugins());
        QCOMPARE(c.workers().size(), std::size_t(2));
        std::vector<std::vector<Value>> slow;
        for (int i = 0; i < 8; ++i)
            slow.push_back({i, 100});
        SubmitOptions so;
        so.pure = false;
        auto fs = c.mapArgs("bench.slow_inc", slow, so);
        const int victim = c.workers().at(0).id;
        QVERIFY(c.restartWorker(victim));
        QVERIFY(!c.restartWorker(victim)); // retiring: no longer restartable
        // A fresh worker takes its place; the old one leaves once its running task is done.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                auto ws = c.workers();
                return ws.size() == 2 && std::none_of(ws.begin(), ws.end(), [&](auto &w) {
                           return w.id == victim;
                       });
            }(),
            20000);
        auto values = c.gather(fs, Errors::Raise, 60s);
        for (int i = 0; i < 8; ++i)
            QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
    }

    void test_unstartableWorkerFailsTasksInsteadOfHanging_data()
    {
        QTest::addColumn<QString>("content"); // empty: the file does not exist
        QTest::addColumn<bool>("executable");
        QTest::addColumn<QString>("reason");
        QTest::newRow("missing") << QString() << false << "No such file or directory";
        QTest::newRow("not executable") << "#!/bin/sh\n" << false << "Permission denied";
        QTest::newRow("not a program") << "garbage\n" << true << "Exec format error";
    }

    void test_unstartableWorkerFailsTasksInsteadOfHanging()
    {
        // No worker process can start: queued tasks (and their dependents) err at once with
        // the reason, instead of staying pending forever, and the client closes normally.
        QFETCH(QString, content);
        QFETCH(bool, executable);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath("taskbench-worker");
        if (!content.isEmpty()) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content.toUtf8());
            f.close();
            QFile::Permissions perms = QFile::ReadOwner | QFile::WriteOwner;
            if (executable)
                perms |= QFile::ExeOwner;
            QVERIFY(f.setPermissions(perms));
        }
        ClusterOptions o = processOptions(2);
        o.workerExecutable = path.toStdString();
        Client c(o, loadPlugins());
        QVERIFY(c.workers().empty());
        Future x = c.submit("bench.inc", {1});
        Future y = c.submit("bench.add", {x, 2});
        const WaitResult w = c.wait({x, y}, ReturnWhen::AllCompleted, 20s);
        QCOMPARE(w.notDone.size(), std::size_t(0));
        QCOMPARE(x.status(), FutureStatus::Error);
        const std::string expected
            = "cannot start worker process " + path.toStdString() + ": " + reason.toStdString();
        QVERIFY2(errorText(x).find(expected) != std::string::npos, errorText(x).c_str());
        QCOMPARE(y.status(), FutureStatus::Error);
        QVERIFY(y.error()->fromDependency);
        QVERIFY_THROWS_EXCEPTION(TaskFailed, x.result(5s));
    }

    void test_largeHeldResultIsFetchedEvenWithZeroTimeout()
    {
        // Regression: a finished value held by its worker came back as "timed out fetching"
        // from result(0s), the way the CLI, the GUI and the recorder read finished futures.
        Client c(processOptions(2), loadPlugins());
        constexpr std::int64_t n = 1'000'000;
        Future big = c.submit("bench.range_list", {n});
        const WaitResult w = c.wait({big}, ReturnWhen::AllCompleted, 60s);
        QCOMPARE(w.notDone.size(), std::size_t(0));
        QCOMPARE(big.status(), FutureStatus::Finished);
        QCOMPARE(big.typeName(), std::string("list[1000000]"));
        const Value v = big.result(0s);
        const Value::List &list = v.toList();
        QCOMPARE(list.size(), std::size_t(n));
        for (std::int64_t i : {std::int64_t(0), std::int64_t(1), n / 2, n - 1})
            QCOMPARE(list[std::size_t(i)].toInt(), i);
        // Fetched once, kept by the scheduler: a second read needs no worker.
        QCOMPARE(big.result(0s).toList().size(), std::size_t(n));
        Future total = c.submit("bench.sum", {big});
        QCOMPARE(total.result(60s).toInt(), (n - 1) * n / 2);
    }

    void test_heldPureResultIsCachedWhenFetched()
    {
        // Over 1 KiB, so the worker holds it: the scheduler has no copy to offer at finish.
        auto cache = std::make_shared<testsupport::MemoryResultCache>();
        constexpr std::int64_t n = 2'000;
        {
            ClusterOptions o = processOptions(1);
            o.resultCache = cache;
            Client c(o, loadPlugins());
            Future held = c.submit("bench.range_list", {n});
            QCOMPARE(c.wait({held}, ReturnWhen::AllCompleted, 60s).notDone.size(), std::size_t(0));
            QCOMPARE(cache->stores.load(), 0);
            QCOMPARE(held.result(0s).toList().size(), std::size_t(n)); // fetched
            QTRY_COMPARE(cache->stores.load(), 1);
        }
        ClusterOptions o = processOptions(1);
        o.resultCache = cache;
        Client c(o, loadPlugins());
        Future again = c.submit("bench.range_list", {n});
        const Value v = again.result(60s);
        QVERIFY(again.cached());
        QCOMPARE(again.attempts(), 0);
        QCOMPARE(v.toList().size(), std::size_t(n));
        QCOMPARE(v.toList()[std::size_t(n - 1)].toInt(), n - 1);
    }

    void test_prefetchMovesHeldResultsWithoutResultCalls()
    {
        // Held values (over 1 KiB) reach the scheduler on prefetch() alone: each fetched pure
        // value is offered to the cache, which counts them, before any result() call.
        auto cache = std::make_shared<testsupport::MemoryResultCache>();
        ClusterOptions o = processOptions(2);
        o.resultCache = cache;
        Client c(o, loadPlugins());
        std::vector<Value> sizes;
        for (int i = 0; i < 40; ++i)
            sizes.emplace_back(std::int64_t(1000 + i));
        const std::vector<Future> held = c.map("bench.range_list", sizes);
        QCOMPARE(c.wait(held, ReturnWhen::AllCompleted, 60s).notDone.size(), std::size_t(0));
        QCOMPARE(cache->stores.load(), 0);
        Future pending = c.submit("bench.sleep_ms", {std::int64_t(200)});
        std::vector<Future> asked = held;
        asked.push_back(pending); // not finished: left alone
        c.prefetch(asked);
        c.prefetch(held); // again while in flight: nothing is fetched twice
        QTRY_COMPARE_WITH_TIMEOUT(cache->stores.load(), 40, 30000);
        const std::vector<Value> values = c.gather(held, Errors::Raise, 60s);
        for (int i = 0; i < 40; ++i)
            QCOMPARE(values[std::size_t(i)].toList().size(), std::size_t(1000 + i));
        QCOMPARE(cache->stores.load(), 40);
        QVERIFY(pending.result(60s).isNull());
    }
};

QTEST_GUILESS_MAIN(TestProcessCluster)
#include "tst_processcluster.moc"
