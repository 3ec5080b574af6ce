// End-to-end tests of taskbench-cli: runs build/bin/taskbench-cli as a child process with
// the build tree's plugins and checks exit codes, stdout (human and --json) and stderr.
// Covers the Dask futures tutorial's workflow (inc, inc, add -> 5; map flaky_inc with
// retries, reduced with sum -> 55), every bad-input case (exit 2), task errors (exit 1),
// the plugin listing, help, timeouts and Ctrl-C (exit 130).
//
// Determinism: the bench plugin's flaky_inc_det fails exactly the first attempt of every
// i % 5 == 0; the one run of the tutorial's random flaky_inc allows 100 retries (a task
// fails for good with probability 0.2^101). Every child process has a timeout.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "clirunner.h"

#include <csignal>

#include <sys/types.h>

namespace {

using testsupport::cliPath;
using testsupport::CliRun;
using testsupport::describe;
using testsupport::runCli;

const int kProcessTimeoutMs = 60000;

/// A CLI process that the test drives itself (to signal it while it runs).
void configure(QProcess &p, const QStringList &args)
{
    p.setProcessEnvironment(testsupport::cleanEnvironment());
    p.setProgram(cliPath());
    p.setArguments(testsupport::withPlugins(args));
}

} // namespace

class TstCli : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString file(const QString &name, const QByteArray &content);
    QString path(const QString &name) const { return m_dir.filePath(name); }

private slots:
    void initTestCase();

    void test_helpAndVersion();
    void test_pluginsListing();
    void test_pluginsJsonAndRefusals();

    void test_tutorialWorkflow();
    void test_pureKeys();
    void test_mapRetriesReduce();
    void test_mapTutorialFlakyInc();
    void test_mapWithoutRetriesFails();
    void test_mapInputsFile();
    void test_mapKeyPrefix();
    void test_runNestedRefsAndAllOutputs();
    void test_runKwargsMakeOtherKeys();
    void test_longCycleMessageIsShort();
    void test_processWorkers();
    void test_crashingTaskOnDefaults();
    void test_threadWorkerCrashNamedAtNextStart();
    void test_taskLogs();
    void test_taskOutputKeptOffResults();
    void test_taskOutputReportedAndRecorded();
    void test_failureWarningQuotesLikePython();
    void test_lostOutputIsAnError();

    void test_badInput_data();
    void test_badInput();
    void test_taskErrorExit1();
    void test_propagatedErrorNamesRootCause();
    void test_timeoutCancels();
    void test_sigintCancelsExit130();
    void test_largeResultFromProcessWorker();
};

QString TstCli::file(const QString &name, const QByteArray &content)
{
    QFile f(path(name));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write %s", qPrintable(f.fileName()));
    f.write(content);
    return f.fileName();
}

void TstCli::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(QFile::exists(cliPath()), qPrintable(cliPath() + " is missing"));

    file("tutorial.json",
         R"({"tasks": {"x": {"function": "tutorial.inc", "args": [1]},
                       "y": {"function": "tutorial.inc", "args": [2]},
                       "z": {"function": "tutorial.add", "args": [{"$ref": "x"}, {"$ref": "y"}]}},
             "outputs": ["z"]})");
    file("nested.json",
         R"({"tasks": {"x": {"function": "bench.inc", "args": [1]},
                       "y": {"function": "bench.inc", "args": [2]},
                       "total": {"function": "bench.sum",
                                 "args": [[{"$ref": "x"}, {"$ref": "y"}, 10]]}}})");
    file("malformed.json", R"({"tasks": {"x": {"function": "bench.inc", "args": [1]})");
    file("notagraph.json", R"({"tasks": 5})");
    file("cycle.json",
         R"({"tasks": {"a": {"function": "bench.inc", "args": [{"$ref": "b"}]},
                       "b": {"function": "bench.inc", "args": [{"$ref": "a"}]}}})");
    file("dangling.json",
         R"({"tasks": {"a": {"function": "bench.inc", "args": [{"$ref": "ghost"}]}}})");
    file("unknownfn.json", R"({"tasks": {"a": {"function": "bench.nope", "args": [1]}}})");
    file("wrongtype.json", R"({"tasks": {"a": {"function": "bench.inc", "args": ["abc"]}}})");
    file("badoutput.json",
         R"({"tasks": {"a": {"function": "bench.inc", "args": [1]}}, "outputs": ["q"]})");
    file("propagated.json",
         R"({"tasks": {"root": {"function": "bench.fail", "args": ["root failure"]},
                       "child": {"function": "bench.inc", "args": [{"$ref": "root"}]}},
             "outputs": ["child"]})");
    file("inputs.jsonl", "1\n2\n\n3\n");
    file("pairs.jsonl", "[1, 2]\n[3, 4]\n");
    file("badline.jsonl", "1\n{bad\n3\n");
    file("laterbad.jsonl", "1\n2\n\"three\"\n");
    file("empty.jsonl", "");
    file("strings.jsonl", "\"a\"\n\"b\"\n");
    QVERIFY(QDir().mkpath(path("notplugins")));
    file("notplugins/libjunk.so",
         QByteArray("\x7f"
                    "ELF this is not a shared library"));
}

void TstCli::test_helpAndVersion()
{
    RUN_CLI(help, {"--help"});
    EXPECT_EXIT(help, 0);
    QVERIFY(help.out.contains("Usage: taskbench-cli"));
    for (const char *command : {"plugins", "submit", "map", "run"})
        QVERIFY2(help.out.contains(command), command);

    RUN_CLI(submitHelp, {"submit", "--help"});
    EXPECT_EXIT(submitHelp, 0);
    QVERIFY(submitHelp.out.contains("--retries"));
    QVERIFY(submitHelp.out.contains("--no-pure"));
    QVERIFY(!submitHelp.out.contains("--range"));

    RUN_CLI(mapHelp, {"help", "map"});
    EXPECT_EXIT(mapHelp, 0);
    QVERIFY(mapHelp.out.contains("--range"));
    QVERIFY(mapHelp.out.contains("--reduce"));

    RUN_CLI(version, {"--version"});
    EXPECT_EXIT(version, 0);
    QVERIFY2(version.out.startsWith("taskbench-cli "), qPrintable(version.out));
}

void TstCli::test_pluginsListing()
{
    RUN_CLI(r, {"plugins"});
    EXPECT_EXIT(r, 0);
    QVERIFY2(r.out.contains("bench.inc(x: int) -> int"), qPrintable(r.out));
    QVERIFY(r.out.contains("Return x + 1."));
    QVERIFY(r.out.contains("tutorial.add(x: int, y: int) -> int"));
    QVERIFY(r.out.contains("tutorial.flaky_inc(i: int) -> int"));
    QVERIFY(r.out.contains("You hit the error!"));
    // Defaults are shown; the task context is not a user-visible parameter.
    QVERIFY(r.out.contains("bench.slow_inc(x: int, ms: int = 100) -> int"));
    QVERIFY(r.out.contains("bench.flaky_inc_det(i: int) -> int"));
}

void TstCli::test_pluginsJsonAndRefusals()
{
    RUN_CLI(r, {"--json", "--plugins", path("notplugins"), "plugins"});
    EXPECT_EXIT(r, 0);
    bool sawBench = false, sawRefusal = false;
    for (const QJsonObject &o : r.objects()) {
        QVERIFY2(!o.isEmpty(), qPrintable(r.out));
        if (o["kind"] == "plugin" && o["name"] == "bench") {
            sawBench = true;
            QCOMPARE(o["version"].toString(), QString("1.0"));
            QVERIFY(o["path"].toString().endsWith(".so"));
            bool sawInc = false;
            for (const QJsonValue &fn : o["functions"].toArray()) {
                if (fn["name"] != "bench.inc")
                    continue;
                sawInc = true;
                QCOMPARE(fn["signature"].toString(), QString("bench.inc(x: int) -> int"));
                QCOMPARE(fn["doc"].toString(), QString("Return x + 1."));
                QCOMPARE(fn["result"].toString(), QString("int"));
                QCOMPARE(fn["params"].toArray().size(), 1);
                QCOMPARE(fn["params"][0]["name"].toString(), QString("x"));
                QCOMPARE(fn["params"][0]["type"].toString(), QString("int"));
            }
            QVERIFY(sawInc);
        }
        if (o["kind"] == "refused") {
            sawRefusal = true;
            QVERIFY(o["path"].toString().endsWith("libjunk.so"));
            QVERIFY(!o["reason"].toString().isEmpty());
        }
    }
    QVERIFY2(sawBench, qPrintable(r.out));
    QVERIFY2(sawRefusal, qPrintable(r.out));

    // The human listing names the refused library and why; the refusal is also a warning.
    RUN_CLI(human, {"--plugins", path("notplugins"), "plugins"});
    EXPECT_EXIT(human, 0);
    QVERIFY(human.out.contains("Refused libraries:"));
    QVERIFY(human.out.contains("libjunk.so: "));
    QVERIFY(human.err.contains("libjunk.so"));
}

void TstCli::test_tutorialWorkflow()
{
    // x = client.submit(inc, 1); y = client.submit(inc, 2)
    RUN_CLI(x, {"--json", "submit", "tutorial.inc", "1"});
    EXPECT_EXIT(x, 0);
    QCOMPARE(x.objects().size(), 1);
    QJsonObject o = x.objects().front();
    QCOMPARE(o["status"].toString(), QString("finished"));
    QCOMPARE(o["result"].toInt(), 2);
    QCOMPARE(o["type"].toString(), QString("int"));
    QCOMPARE(o["function"].toString(), QString("tutorial.inc"));

    RUN_CLI(y, {"submit", "tutorial.inc", "2"});
    EXPECT_EXIT(y, 0);
    QCOMPARE(y.lines().size(), 1);
    QVERIFY2(y.lines().front().contains("  finished  int  3"), qPrintable(y.out));

    // z = client.submit(add, x, y), as a graph (x and y run side by side on two workers).
    // Computed, not served from an earlier run's cache: its attempt and story are checked.
    RUN_CLI(z, {"--no-cache", "--json", "--workers", "2", "run", path("tutorial.json")});
    EXPECT_EXIT(z, 0);
    QCOMPARE(z.objects().size(), 1);
    o = z.objects().front();
    QCOMPARE(o["name"].toString(), QString("z"));
    QCOMPARE(o["key"].toString(), QString("z-19999250e2164f120f4aa49208fc9ee8")); // README's
    QCOMPARE(o["function"].toString(), QString("tutorial.add"));
    QCOMPARE(o["status"].toString(), QString("finished"));
    QCOMPARE(o["type"].toString(), QString("int"));
    QVERIFY(o["result"].isDouble());
    QCOMPARE(o["result"].toInt(), 5);
    QVERIFY(o["error"].isNull());
    QCOMPARE(o["attempts"].toInt(), 1);
    QVERIFY(o["logs"].isArray());
    QVERIFY(o["story"].isArray());
    const QJsonArray story = o["story"].toArray();
    QVERIFY(!story.isEmpty());
    QCOMPARE(story.last()["to"].toString(), QString("memory"));

    RUN_CLI(human, {"--workers", "2", "run", path("tutorial.json")});
    EXPECT_EXIT(human, 0);
    QCOMPARE(human.lines().size(), 1);
    QVERIFY2(human.lines().front().startsWith("z ("), qPrintable(human.out));
    QVERIFY2(human.lines().front().endsWith("  finished  int  5"), qPrintable(human.out));
}

void TstCli::test_pureKeys()
{
    // Pure calls get deterministic keys (the same in every process); --no-pure random ones.
    RUN_CLI(a, {"--json", "submit", "bench.inc", "7"});
    RUN_CLI(b, {"--json", "submit", "bench.inc", "7"});
    RUN_CLI(c, {"--json", "submit", "bench.inc", "8"});
    RUN_CLI(d, {"--json", "submit", "--no-pure", "bench.inc", "7"});
    RUN_CLI(e, {"--json", "submit", "--key", "my-key", "bench.inc", "7"});
    for (const CliRun *r : {&a, &b, &c, &d, &e})
        EXPECT_EXIT(*r, 0);
    const QString key = a.objects().front()["key"].toString();
    QVERIFY(!key.isEmpty());
    QCOMPARE(b.objects().front()["key"].toString(), key);
    QVERIFY(c.objects().front()["key"].toString() != key);
    QVERIFY(d.objects().front()["key"].toString() != key);
    QCOMPARE(e.objects().front()["key"].toString(), QString("my-key"));
    QCOMPARE(e.objects().front()["result"].toInt(), 8);
}

void TstCli::test_mapRetriesReduce()
{
    // futures = client.map(flaky_inc, range(10), retries=1): i = 0 and 5 fail once.
    RUN_CLI(mapped,
            {"--no-cache",
             "--json",
             "map",
             "bench.flaky_inc_det",
             "--range",
             "0:10",
             "--retries",
             "1"});
    EXPECT_EXIT(mapped, 0);
    const QList<QJsonObject> objects = mapped.objects();
    QCOMPARE(objects.size(), 10);
    for (int i = 0; i < 10; ++i) {
        QCOMPARE(objects[i]["status"].toString(), QString("finished"));
        QCOMPARE(objects[i]["result"].toInt(), i + 1);
        QCOMPARE(objects[i]["attempts"].toInt(), i % 5 == 0 ? 2 : 1);
        QVERIFY(objects[i]["error"].isNull());
    }

    // total = client.submit(sum, futures)
    RUN_CLI(total,
            {"--no-cache",
             "--json",
             "map",
             "bench.flaky_inc_det",
             "--range",
             "0:10",
             "--retries",
             "1",
             "--reduce",
             "bench.sum"});
    EXPECT_EXIT(total, 0);
    QCOMPARE(total.objects().size(), 1);
    const QJsonObject o = total.objects().front();
    QCOMPARE(o["function"].toString(), QString("bench.sum"));
    QCOMPARE(o["status"].toString(), QString("finished"));
    QCOMPARE(o["type"].toString(), QString("int"));
    QCOMPARE(o["result"].toInt(), 55);
    QVERIFY(o["error"].isNull());

    RUN_CLI(human,
            {"--no-cache",
             "map",
             "bench.flaky_inc_det",
             "--range",
             "0:10",
             "--retries",
             "1",
             "--reduce",
             "bench.sum"});
    EXPECT_EXIT(human, 0);
    QCOMPARE(human.lines().size(), 1);
    QVERIFY2(human.lines().front().endsWith("  finished  int  55"), qPrintable(human.out));
    QVERIFY2(human.err.contains("10 tasks, 10 finished, 0 failed, 12 attempts"),
             qPrintable(human.err));
}

void TstCli::test_mapTutorialFlakyInc()
{
    // The tutorial's own, random flaky_inc on ten workers; 100 retries make it certain.
    RUN_CLI(r,
            QStringList{"--json", "--workers", "10", "--log-level", "error"}
                + testsupport::tutorialFlakyMapArgs());
    EXPECT_EXIT(r, 0);
    QCOMPARE(r.objects().size(), 1);
    QCOMPARE(r.objects().front()["result"].toInt(), 55);
    QCOMPARE(r.objects().front()["status"].toString(), QString("finished"));
}

void TstCli::test_mapWithoutRetriesFails()
{
    RUN_CLI(r, {"--no-cache", "--json", "map", "bench.flaky_inc_det", "--range", "0:10"});
    EXPECT_EXIT(r, 1);
    const QList<QJsonObject> objects = r.objects();
    QCOMPARE(objects.size(), 10);
    for (int i = 0; i < 10; ++i) {
        if (i % 5 == 0) {
            QCOMPARE(objects[i]["status"].toString(), QString("error"));
            QVERIFY(objects[i]["result"].isNull());
            QCOMPARE(objects[i]["error"]["type"].toString(), QString("ValueError"));
            QCOMPARE(objects[i]["error"]["message"].toString(), QString("You hit the error!"));
        } else {
            QCOMPARE(objects[i]["status"].toString(), QString("finished"));
        }
    }
    QCOMPARE(r.err.count("ValueError: You hit the error!") >= 2, true);

    // Reduced, the sum fails with the root cause of the first failing input.
    RUN_CLI(
        reduced,
        {"--no-cache", "map", "bench.flaky_inc_det", "--range", "0:10", "--reduce", "bench.sum"});
    EXPECT_EXIT(reduced, 1);
    QVERIFY2(reduced.err.contains("root cause"), qPrintable(reduced.err));
    QVERIFY2(reduced.err.contains("You hit the error!"), qPrintable(reduced.err));
}

void TstCli::test_mapInputsFile()
{
    RUN_CLI(r, {"--json", "map", "bench.inc", "--inputs", path("inputs.jsonl")});
    EXPECT_EXIT(r, 0);
    QCOMPARE(r.objects().size(), 3);
    QCOMPARE(r.objects()[0]["result"].toInt(), 2);
    QCOMPARE(r.objects()[1]["result"].toInt(), 3);
    QCOMPARE(r.objects()[2]["result"].toInt(), 4);

    // A function of two parameters takes each line as its argument list.
    RUN_CLI(pairs, {"--json", "map", "bench.add", "--inputs", path("pairs.jsonl")});
    EXPECT_EXIT(pairs, 0);
    QCOMPARE(pairs.objects().size(), 2);
    QCOMPARE(pairs.objects()[0]["result"].toInt(), 3);
    QCOMPARE(pairs.objects()[1]["result"].toInt(), 7);

    // "-" reads standard input.
    RUN_CLI(stdinRun,
            {"--json", "map", "bench.double", "--inputs", "-", "--reduce", "bench.sum"},
            QByteArray("1\n2\n3\n"));
    EXPECT_EXIT(stdinRun, 0);
    QCOMPARE(stdinRun.objects().front()["result"].toInt(), 12);

    // Python's range: negative steps, empty ranges.
    RUN_CLI(down, {"--json", "map", "bench.inc", "--range", "10:0:-4", "--reduce", "bench.sum"});
    EXPECT_EXIT(down, 0);
    QCOMPARE(down.objects().front()["result"].toInt(), 11 + 7 + 3);
    RUN_CLI(empty, {"--json", "map", "bench.inc", "--range", "3:3", "--reduce", "bench.sum"});
    EXPECT_EXIT(empty, 0);
    QCOMPARE(empty.objects().front()["result"].toInt(), 0);
}

void TstCli::test_mapKeyPrefix()
{
    RUN_CLI(r, {"--json", "map", "bench.inc", "--range", "0:3", "--key", "step"});
    EXPECT_EXIT(r, 0);
    QCOMPARE(r.objects().size(), 3);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(r.objects()[i]["key"].toString(), QString("step-%1").arg(i));
}

void TstCli::test_runNestedRefsAndAllOutputs()
{
    // No "outputs": every task is printed, by name; references nested in a list resolve.
    RUN_CLI(r, {"--json", "run", path("nested.json")});
    EXPECT_EXIT(r, 0);
    QMap<QString, int> results;
    for (const QJsonObject &o : r.objects())
        results[o["name"].toString()] = o["result"].toInt();
    QCOMPARE(results.size(), 3);
    QCOMPARE(results["x"], 2);
    QCOMPARE(results["y"], 3);
    QCOMPARE(results["total"], 15);
}

void TstCli::test_runKwargsMakeOtherKeys()
{
    // Graph keys are "name-token"; kwargs are part of the token, bound as submit's are.
    QMap<int, QJsonObject> byY;
    for (int y : {2, 3}) {
        const QString graph = file(QString("kwargs%1.json").arg(y),
                                   QString(R"({"tasks": {"a": {"function": "bench.add",
                                                   "args": [1], "kwargs": {"y": %1}}}})")
                                       .arg(y)
                                       .toUtf8());
        RUN_CLI(r, {"--json", "run", graph});
        EXPECT_EXIT(r, 0);
        QCOMPARE(r.objects().size(), 1);
        byY[y] = r.objects().front();
        QCOMPARE(byY[y]["result"].toInt(), 1 + y);
        RUN_CLI(s, {"--json", "submit", "bench.add", "1", "--kwarg", QString("y=%1").arg(y)});
        EXPECT_EXIT(s, 0);
        const QString submitted = s.objects().front()["key"].toString();
        QVERIFY2(submitted.startsWith("add-"), qPrintable(submitted));
        QCOMPARE(byY[y]["key"].toString(), "a-" + submitted.mid(4));
    }
    QVERIFY(byY[2]["key"].toString() != byY[3]["key"].toString());
}

void TstCli::test_longCycleMessageIsShort()
{
    // A ring of 100,000 tasks: the message names the first ten and how the cycle closes.
    QByteArray json = R"({"tasks": {)";
    const int n = 100000;
    for (int i = 0; i < n; ++i)
        json += QStringLiteral(R"(%1"t%2": {"function": "bench.inc", "args": [{"$ref": "t%3"}]})")
                    .arg(i ? ", " : "")
                    .arg(i)
                    .arg((i + 1) % n)
                    .toUtf8();
    json += "}}";
    RUN_CLI(r, {"run", file("ring.json", json)});
    EXPECT_EXIT(r, 2);
    QVERIFY2(r.err.size() < 400, qPrintable(QString::number(r.err.size())));
    QVERIFY2(r.err.contains("dependency cycle: t0 -> t1 -> t2 -> t3 -> t4 -> t5 -> t6 -> t7 -> t8 "
                            "-> t9 -> ... (99990 more) ... -> t0 (each task needs the next)"),
             qPrintable(r.err));
}

void TstCli::test_processWorkers()
{
    // The same workflow on process workers: results and retries cross the process boundary.
    RUN_CLI(r,
            {"--json",
             "--processes",
             "--workers",
             "2",
             "--log-level",
             "error",
             "map",
             "bench.flaky_inc_det",
             "--range",
             "0:10",
             "--retries",
             "1",
             "--reduce",
             "bench.sum"});
    EXPECT_EXIT(r, 0);
    QCOMPARE(r.objects().size(), 1);
    QCOMPARE(r.objects().front()["result"].toInt(), 55);

    RUN_CLI(graph, {"--json", "--processes", "--workers", "2", "run", path("nested.json")});
    EXPECT_EXIT(graph, 0);
    QCOMPARE(graph.objects().size(), 3);
}

void TstCli::test_crashingTaskOnDefaults()
{
    // The issue's seg.json on default settings: process workers, so a segfaulting task errs
    // with its cause named and the healthy task's result is still printed.
    const QString seg = file("seg.json",
                             R"({"tasks": {"boom": {"function": "faults.segfault", "args": []},
                                 "ok": {"function": "tutorial.inc", "args": [41]}},
                                 "outputs": ["boom", "ok"]})");
    RUN_CLI(r, {"--workers", "2", "--log-level", "off", "run", seg});
    EXPECT_EXIT(r, 1);
    QVERIFY2(r.out.contains("42"), qPrintable(describe(r)));
    QVERIFY2((r.out + r.err).contains("SIGSEGV") || (r.out + r.err).contains("worker died"),
             qPrintable(describe(r)));
    // The traceback gives the same context as an exception's: the call and the worker.
    QVERIFY2(r.err.contains("calling faults.segfault()"), qPrintable(describe(r)));
    QVERIFY2(QRegularExpression("on worker \\d+, attempt \\d+").match(r.err).hasMatch(),
             qPrintable(describe(r)));
}

void TstCli::test_threadWorkerCrashNamedAtNextStart()
{
    // With thread workers (the user's choice) a segfaulting task ends the CLI itself; the
    // next start names the signal and suggests process workers.
    const QString db = path("crash-history.sqlite");
    const QString seg = file("seg-threads.json",
                             R"({"tasks": {"boom": {"function": "faults.segfault", "args": []}}})");
    QProcess crashing;
    crashing.setProcessEnvironment(testsupport::cleanEnvironment());
    crashing.start(
        testsupport::cliPath(),
        testsupport::withPlugins({"--threads", "--db", db, "--log-level", "off", "run", seg}));
    QVERIFY(crashing.waitForFinished(60000));
    QCOMPARE(crashing.exitStatus(), QProcess::CrashExit);

    RUN_CLI(next, {"--db", db, "history", "list"});
    EXPECT_EXIT(next, 0);
    QVERIFY2(next.err.contains("crashed (SIGSEGV)") && next.err.contains("process workers"),
             qPrintable(describe(next)));
    QVERIFY2(next.out.contains("interrupted"), qPrintable(describe(next)));
    // Said once: the session is marked, the marker taken.
    RUN_CLI(again, {"--db", db, "history", "list"});
    QVERIFY2(!again.err.contains("SIGSEGV"), qPrintable(describe(again)));
}

void TstCli::test_taskLogs()
{
    RUN_CLI(r, {"--no-cache", "--json", "submit", "bench.log_and_progress", "3"});
    EXPECT_EXIT(r, 0);
    const QJsonArray logs = r.objects().front()["logs"].toArray();
    QCOMPARE(logs.size(), 3);
    QVERIFY2(logs[0].toString().contains("log line 1/3"), qPrintable(r.out));
    QVERIFY2(logs[2].toString().contains("log line 3/3"), qPrintable(r.out));

    RUN_CLI(human, {"--no-cache", "submit", "bench.log_and_progress", "2"});
    EXPECT_EXIT(human, 0);
    QVERIFY2(human.out.contains("log: ") && human.out.contains("log line 2/2"),
             qPrintable(human.out));
}

void TstCli::test_taskOutputKeptOffResults()
{
    // Thread workers run tasks in the CLI itself: what they print goes to stderr, so that
    // stdout stays one JSON object per line.
    RUN_CLI(r, {"--threads", "--no-cache", "--json", "submit", "bench.print", "in-process"});
    EXPECT_EXIT(r, 0);
    QCOMPARE(r.lines().size(), 1);
    QCOMPARE(r.objects().front().value("result").toString(), QString("in-process"));
    QVERIFY2(r.err.contains("stderr: in-process") && r.err.contains("\nin-process\n"),
             qPrintable(describe(r)));

    RUN_CLI(human, {"--threads", "--no-cache", "submit", "bench.print", "in-process"});
    EXPECT_EXIT(human, 0);
    QCOMPARE(human.lines().size(), 1);
    QVERIFY2(human.out.contains("finished  str  \"in-process\""), qPrintable(describe(human)));
}

void TstCli::test_taskOutputReportedAndRecorded()
{
    // Process workers capture what each task prints: --json carries it...
    RUN_CLI(r, {"--processes", "--no-cache", "--json", "submit", "bench.print", "captured"});
    EXPECT_EXIT(r, 0);
    const QString output = r.objects().front().value("output").toString();
    QVERIFY2(output.contains("stderr: captured\n") && output.contains("captured\n"),
             qPrintable(describe(r)));

    // ...an error's report shows it, and the history keeps it with the error (the recording
    // ends before the cluster does, while the engine still holds it).
    const QString db = path("output-history.sqlite");
    RUN_CLI(failed,
            {"--processes", "--db", db, "submit", "faults.print_then_throw", "before-failing"});
    EXPECT_EXIT(failed, 1);
    QVERIFY2(failed.err.contains("  output:\n") && failed.err.contains("    before-failing\n"),
             qPrintable(describe(failed)));
    RUN_CLI(tasks, {"--db", db, "history", "tasks", "--status", "error", "--json"});
    EXPECT_EXIT(tasks, 0);
    QCOMPARE(tasks.objects().size(), 1);
    const QString recorded = tasks.objects().front().value("output").toString();
    QVERIFY2(recorded.contains("stderr: before-failing\n") && recorded.contains("before-failing\n"),
             qPrintable(describe(tasks)));
}

void TstCli::test_failureWarningQuotesLikePython()
{
    // "Exception: Type('message')" as Python's repr quotes it: a message with a single
    // quote in it goes in double quotes; one with both escapes the single ones.
    RUN_CLI(apostrophe, {"--no-cache", "submit", "faults.throw_runtime", "it's broken"});
    EXPECT_EXIT(apostrophe, 1);
    QVERIFY2(apostrophe.err.contains("Exception: std::runtime_error(\"it's broken\")"),
             qPrintable(describe(apostrophe)));
    RUN_CLI(both, {"--no-cache", "submit", "faults.throw_runtime", "it's \"odd\""});
    EXPECT_EXIT(both, 1);
    QVERIFY2(both.err.contains("Exception: std::runtime_error('it\\'s \"odd\"')"),
             qPrintable(describe(both)));
}

void TstCli::test_lostOutputIsAnError()
{
    // Results written to a full disk are not a success (exit 3, said on stderr).
    QProcess full;
    full.setProcessEnvironment(testsupport::cleanEnvironment());
    full.setStandardOutputFile("/dev/full");
    full.start(testsupport::cliPath(),
               testsupport::withPlugins({"--no-history", "submit", "bench.inc", "1"}));
    QVERIFY(full.waitForFinished(60000));
    QCOMPARE(full.exitStatus(), QProcess::NormalExit);
    QCOMPARE(full.exitCode(), 3);
    QVERIFY(full.readAllStandardError().contains("writing to standard output failed"));
}

void TstCli::test_badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("messages"); // each must appear in stderr

    QTest::newRow("no command") << QStringList{} << QStringList{"no command given", "--help"};
    QTest::newRow("unknown command")
        << QStringList{"frobnicate"} << QStringList{"unknown command 'frobnicate'"};
    QTest::newRow("unknown option") << QStringList{"submit", "--frob", "bench.inc", "1"}
                                    << QStringList{"unknown option '--frob'"};
    QTest::newRow("option of another command")
        << QStringList{"submit", "--range", "0:3", "bench.inc", "1"}
        << QStringList{"--range is not an option of 'submit'"};
    QTest::newRow("option without value") << QStringList{"submit", "bench.inc", "1", "--retries"}
                                          << QStringList{"--retries needs a value"};
    QTest::newRow("bad --workers") << QStringList{"--workers", "zero", "submit", "bench.inc", "1"}
                                   << QStringList{"--workers: expected an integer"};
    QTest::newRow("bad --retries") << QStringList{"submit", "--retries", "-1", "bench.inc", "1"}
                                   << QStringList{"--retries: expected an integer"};
    QTest::newRow("bad --log-level")
        << QStringList{"--log-level", "loud", "submit", "bench.inc", "1"}
        << QStringList{"unknown level 'loud'"};
    QTest::newRow("bad --timeout") << QStringList{"--timeout", "soon", "submit", "bench.inc", "1"}
                                   << QStringList{"--timeout: expected a positive number"};
    QTest::newRow("both kinds of worker")
        << QStringList{"--threads", "submit", "bench.inc", "1", "--processes"}
        << QStringList{"--threads and --processes exclude each other"};
    QTest::newRow("integer beyond 64 bits")
        << QStringList{"submit", "bench.inc", "99999999999999999999"}
        << QStringList{"parameter 'x'", "expected int, got an integer outside the 64-bit range"};
    QTest::newRow("submit without function")
        << QStringList{"submit"} << QStringList{"missing argument: submit FUNC"};
    QTest::newRow("unknown function")
        << QStringList{"submit", "bench.nope", "1"}
        << QStringList{"unknown function 'bench.nope'", "taskbench-cli plugins"};
    QTest::newRow("unqualified function")
        << QStringList{"submit", "inc", "1"}
        << QStringList{"unknown function 'inc'", "did you mean", "bench.inc", "tutorial.inc"};
    QTest::newRow("argument of the wrong type")
        << QStringList{"submit", "bench.inc", "abc"}
        << QStringList{"parameter 'x'", "expected int", "str"};
    QTest::newRow("too many arguments")
        << QStringList{"submit", "bench.inc", "1", "2"} << QStringList{"bench.inc"};
    QTest::newRow("reference to an unknown future")
        << QStringList{"submit", "bench.inc", R"({"$ref": "ghost-123"})"}
        << QStringList{"ghost-123"};
    QTest::newRow("map without inputs")
        << QStringList{"map", "bench.inc"} << QStringList{"exactly one of --range"};
    QTest::newRow("map with both inputs")
        << QStringList{"map", "bench.inc", "--range", "0:3", "--inputs", "x.jsonl"}
        << QStringList{"exactly one of --range"};
    QTest::newRow("range not numbers")
        << QStringList{"map", "bench.inc", "--range", "1:x"} << QStringList{"--range '1:x'", "A:B"};
    QTest::newRow("range of one number")
        << QStringList{"map", "bench.inc", "--range", "5"} << QStringList{"--range '5'"};
    QTest::newRow("range step 0") << QStringList{"map", "bench.inc", "--range", "0:10:0"}
                                  << QStringList{"the step must not be 0"};
    QTest::newRow("range too large")
        << QStringList{"map", "bench.inc", "--range", "0:1000000000000"}
        << QStringList{"more than 10000000 values"};
    QTest::newRow("map unknown function") << QStringList{"map", "bench.nope", "--range", "0:3"}
                                          << QStringList{"unknown function 'bench.nope'"};
    QTest::newRow("map inputs of the wrong type")
        << QStringList{"map", "bench.inc", "--inputs", "@strings.jsonl"}
        << QStringList{"expected int", "str"};
    QTest::newRow("map pairs need lists")
        << QStringList{"map", "bench.add", "--inputs", "@inputs.jsonl"}
        << QStringList{"input 1", "JSON list"};
    QTest::newRow("unreadable inputs file")
        << QStringList{"map", "bench.inc", "--inputs", "@missing.jsonl"}
        << QStringList{"cannot read inputs file", "missing.jsonl", "No such file"};
    QTest::newRow("inputs file is a directory")
        << QStringList{"map", "bench.inc", "--inputs", "@notplugins"}
        << QStringList{"cannot read inputs file", "Is a directory"};
    QTest::newRow("malformed inputs line")
        << QStringList{"map", "bench.inc", "--inputs", "@badline.jsonl"}
        << QStringList{"badline.jsonl:2: invalid JSON"};
    QTest::newRow("map input of the wrong type after good ones")
        << QStringList{"map", "bench.inc", "--inputs", "@laterbad.jsonl"}
        << QStringList{"laterbad.jsonl, input 3: ", "expected int", "str"};
    QTest::newRow("map over an empty inputs file")
        << QStringList{"map", "bench.inc", "--inputs", "@empty.jsonl"}
        << QStringList{"empty.jsonl: no inputs (the file is empty)"};
    QTest::newRow("unknown reduce function")
        << QStringList{"map", "bench.inc", "--range", "0:3", "--reduce", "bench.nope"}
        << QStringList{"--reduce: unknown function 'bench.nope'"};
    QTest::newRow("missing graph file")
        << QStringList{"run", "@nothere.json"}
        << QStringList{"cannot read graph file", "nothere.json", "No such file"};
    QTest::newRow("malformed graph")
        << QStringList{"run", "@malformed.json"} << QStringList{"malformed.json: "};
    QTest::newRow("graph of the wrong shape")
        << QStringList{"run", "@notagraph.json"} << QStringList{"notagraph.json: "};
    QTest::newRow("graph with a cycle")
        << QStringList{"run", "@cycle.json"} << QStringList{"cycle.json: ", "cycle"};
    QTest::newRow("graph with a dangling $ref")
        << QStringList{"run", "@dangling.json"} << QStringList{"dangling.json: ", "ghost"};
    QTest::newRow("graph with an unknown function")
        << QStringList{"run", "@unknownfn.json"}
        << QStringList{"task 'a': unknown function 'bench.nope'"};
    QTest::newRow("graph argument of the wrong type")
        << QStringList{"run", "@wrongtype.json"} << QStringList{"expected int", "str"};
    QTest::newRow("graph output that is no task")
        << QStringList{"run", "@badoutput.json"} << QStringList{"output 'q'"};
    QTest::newRow("run with two graphs") << QStringList{"run", "@cycle.json", "@dangling.json"}
                                         << QStringList{"unexpected argument"};
    QTest::newRow("plugin folder missing")
        << QStringList{"--plugins", "@nodir", "plugins"} << QStringList{"not a directory"};
}

void TstCli::test_badInput()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, messages);
    // "@name" stands for a file in the test's temporary folder.
    for (QString &a : args)
        if (a.startsWith('@'))
            a = path(a.mid(1));
    RUN_CLI(r, args);
    EXPECT_EXIT(r, 2);
    QVERIFY2(r.out.isEmpty(), qPrintable(describe(r)));
    for (const QString &m : messages)
        QVERIFY2(r.err.contains(m), qPrintable("missing '" + m + "' in\n" + describe(r)));
}

void TstCli::test_taskErrorExit1()
{
    RUN_CLI(r, {"submit", "bench.fail", "boom"});
    EXPECT_EXIT(r, 1);
    QCOMPARE(r.lines().size(), 1);
    QVERIFY2(r.lines().front().contains("  error  RuntimeError: boom"), qPrintable(r.out));
    QVERIFY2(r.err.contains("error: "), qPrintable(r.err));
    QVERIFY2(r.err.contains("RuntimeError: boom"), qPrintable(r.err));

    RUN_CLI(j, {"--json", "submit", "bench.fail", "boom"});
    EXPECT_EXIT(j, 1);
    const QJsonObject o = j.objects().front();
    QCOMPARE(o["status"].toString(), QString("error"));
    QVERIFY(o["result"].isNull());
    QVERIFY(o["type"].isNull());
    QCOMPARE(o["error"]["type"].toString(), QString("RuntimeError"));
    QCOMPARE(o["error"]["message"].toString(), QString("boom"));
    QCOMPARE(o["error"]["from_dependency"].toBool(), false);
    QCOMPARE(o["attempts"].toInt(), 1);

    // With retries, the error comes after every attempt failed.
    RUN_CLI(retried, {"--json", "--log-level", "off", "submit", "--retries", "2", "bench.fail"});
    EXPECT_EXIT(retried, 1);
    QCOMPARE(retried.objects().front()["attempts"].toInt(), 3);
    QCOMPARE(retried.objects().front()["error"].toObject()["message"].toString(),
             QString("fail() always fails"));
}

void TstCli::test_propagatedErrorNamesRootCause()
{
    RUN_CLI(r, {"--json", "run", path("propagated.json")});
    EXPECT_EXIT(r, 1);
    QCOMPARE(r.objects().size(), 1);
    const QJsonObject o = r.objects().front();
    QCOMPARE(o["name"].toString(), QString("child"));
    QCOMPARE(o["status"].toString(), QString("error"));
    const QJsonObject error = o["error"].toObject();
    QCOMPARE(error["type"].toString(), QString("RuntimeError"));
    QCOMPARE(error["message"].toString(), QString("root failure"));
    QCOMPARE(error["from_dependency"].toBool(), true);
    QCOMPARE(error["root_function"].toString(), QString("bench.fail"));
    QVERIFY(!error["root_key"].toString().isEmpty());
    QVERIFY2(r.err.contains("root cause: " + error["root_key"].toString()), qPrintable(r.err));
    QVERIFY(r.err.contains("RuntimeError: root failure"));
}

void TstCli::test_timeoutCancels()
{
    QElapsedTimer timer;
    timer.start();
    RUN_CLI(r, {"--json", "--timeout", "0.5", "submit", "--no-pure", "bench.sleep_ms", "30000"});
    EXPECT_EXIT(r, 1);
    QVERIFY2(timer.elapsed() < 20000, qPrintable(QString::number(timer.elapsed())));
    QVERIFY2(r.err.contains("timed out after 0.5 s"), qPrintable(r.err));
    QCOMPARE(r.objects().size(), 1);
    QCOMPARE(r.objects().front()["status"].toString(), QString("cancelled"));
}

void TstCli::test_sigintCancelsExit130()
{
    QProcess p;
    configure(p, {"--log-level", "info", "submit", "--no-pure", "bench.sleep_ms", "30000"});
    p.start();
    QVERIFY(p.waitForStarted(10000));
    // The CLI logs "waiting for N futures" once its signal handler is installed and the task
    // is submitted: send Ctrl-C only then, so the test does not race the start-up.
    QByteArray err;
    QElapsedTimer timer;
    timer.start();
    while (!err.contains("waiting for") && timer.elapsed() < kProcessTimeoutMs) {
        p.waitForReadyRead(100);
        err += p.readAllStandardError();
    }
    QVERIFY2(err.contains("waiting for"), err.constData());
    ::kill(pid_t(p.processId()), SIGINT);
    const bool finished = p.waitForFinished(20000);
    if (!finished)
        p.kill();
    QVERIFY2(finished, "taskbench-cli did not exit after SIGINT");
    err += p.readAllStandardError();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(err.contains("interrupted; cancelled 1 unfinished task"), err.constData());
}

void TstCli::test_largeResultFromProcessWorker()
{
    // Regression: a result too large to travel inline stays on its worker; the CLI printed
    // "timed out fetching" instead of the value.
    RUN_CLI(r, {"--json", "--processes", "map", "bench.range_list", "--range", "100000:100001"});
    EXPECT_EXIT(r, 0);
    QVERIFY2(!r.err.contains("cannot read the result"), qPrintable(r.err));
    QCOMPARE(r.objects().size(), 1);
    const QJsonObject o = r.objects().front();
    QCOMPARE(o["status"].toString(), QStringLiteral("finished"));
    const QJsonArray list = o["result"].toArray();
    QCOMPARE(list.size(), 100000);
    QCOMPARE(list.first().toInt(), 0);
    QCOMPARE(list.at(54321).toInt(), 54321);
    QCOMPARE(list.last().toInt(), 99999);
}

QTEST_MAIN(TstCli)
#include "tst_cli.moc"
