// End-to-end tests of taskbench-cli's history: runs are recorded (unless --no-history) in
// the database chosen with --db; `history` lists sessions and tasks (human and --json) with
// filters, exports a session (Perfetto JSON, CSV, JSON), deletes, applies retention, and
// re-runs failed tasks; compares two sessions (by key, or map position for non-pure keys); bad
// history input exits 2 (also an unknown --status and --limit 0); a run stopped by Ctrl-C is
// listed as interrupted; the critical path of a run served from the result cache says so; a
// corrupt database is moved aside and the run still works; a newer schema is refused without
// touching the file.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include "clirunner.h"
#include "taskbench/history/compare.h"

#include <csignal>

namespace {

using testsupport::CliRun;
using testsupport::describe;

/// Runs taskbench-cli without the test's TASKBENCH_HISTORY_DB, so --db alone decides.
bool runHistoryCli(const QStringList &args, CliRun &run)
{
    testsupport::RunOptions options;
    options.unsetEnvironment = {"TASKBENCH_HISTORY_DB"};
    return testsupport::runCli(args, options, run);
}

} // namespace

#undef RUN_CLI
#define RUN_CLI(run, ...) RUN_CLI_WITH(runHistoryCli, run, __VA_ARGS__)

class TstCliHistory : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString db(const QString &name = "history.sqlite") const { return m_dir.filePath(name); }

private slots:
    void test_recordListAndTasks();
    void test_noHistoryRecordsNothing();
    void test_exports();
    void test_rerunFailed();
    void test_deleteAndRetention();
    void test_badInput();
    void test_badFiltersAreUsageErrors();
    void test_interruptedRunIsListedInterrupted();
    void test_criticalPathOfCachedRun();
    void test_corruptDatabaseIsMovedAside();
    void test_newerDatabaseIsRefused();
    void test_compareSessions();
    void test_compareNonPureByPosition();
    void test_compareDurationIsRunTime();
    void test_runRecordsEveryTask();
};

void TstCliHistory::test_recordListAndTasks()
{
    const QString path = db("list.sqlite");
    {
        RUN_CLI(run,
                {"--db",
                 path,
                 "--workers",
                 "2",
                 "map",
                 "bench.flaky_inc_det",
                 "--range",
                 "0:10",
                 "--retries",
                 "1"});
        EXPECT_EXIT(run, 0);
    }
    {
        RUN_CLI(run, {"--db", path, "submit", "bench.fail", "kaboom"});
        EXPECT_EXIT(run, 1);
    }
    RUN_CLI(list, {"--db", path, "history", "--json"});
    EXPECT_EXIT(list, 0);
    const QList<QJsonObject> sessions = list.objects();
    QCOMPARE(sessions.size(), 2);
    // Newest first.
    QVERIFY(sessions[0].value("title").toString().endsWith(" submit bench.fail kaboom"));
    QCOMPARE(sessions[0].value("status").toString(), QString("finished"));
    QCOMPARE(sessions[0].value("counts").toObject().value("error").toInt(), 1);
    QCOMPARE(sessions[1].value("task_count").toInt(), 10);
    QCOMPARE(sessions[1].value("counts").toObject().value("finished").toInt(), 10);
    QCOMPARE(sessions[1].value("plugins").toArray().at(0).toString(), QString("bench 1.0"));
    const int mapSession = sessions[1].value("id").toInt();

    RUN_CLI(human, {"--db", path, "history"});
    EXPECT_EXIT(human, 0);
    QVERIFY2(human.out.contains("10 tasks (10 finished)"), qPrintable(human.out));
    QVERIFY(human.out.contains("1 task (1 error)"));

    RUN_CLI(tasks,
            {"--db", path, "history", "tasks", "--session", QString::number(mapSession), "--json"});
    EXPECT_EXIT(tasks, 0);
    const QList<QJsonObject> rows = tasks.objects();
    QCOMPARE(rows.size(), 10);
    for (const QJsonObject &t : rows) {
        const int i = t.value("arguments").toArray().at(0).toInt();
        QCOMPARE(t.value("result").toInt(), i + 1);
        QCOMPARE(t.value("attempts").toInt(), i % 5 == 0 ? 2 : 1);
        QCOMPARE(t.value("status").toString(), QString("finished"));
    }

    RUN_CLI(errors, {"--db", path, "history", "tasks", "--error", "KABOOM", "--json"});
    EXPECT_EXIT(errors, 0);
    QCOMPARE(errors.objects().size(), 1);
    QCOMPARE(errors.objects()[0].value("error").toObject().value("type").toString(),
             QString("RuntimeError"));
    RUN_CLI(byStatus, {"--db", path, "history", "tasks", "--status", "error"});
    QCOMPARE(byStatus.out.count('\n'), 1);
    QVERIFY(byStatus.out.contains("RuntimeError: kaboom"));
    RUN_CLI(search, {"--db", path, "history", "--search", "kaboom", "--json"});
    QCOMPARE(search.objects().size(), 1);
}

void TstCliHistory::test_noHistoryRecordsNothing()
{
    const QString path = db("none.sqlite");
    RUN_CLI(run, {"--db", path, "--no-history", "submit", "bench.inc", "1"});
    EXPECT_EXIT(run, 0);
    QVERIFY(!QFile::exists(path));
    RUN_CLI(list, {"--db", path, "history", "--json"});
    EXPECT_EXIT(list, 0);
    QVERIFY(list.out.isEmpty());
}

void TstCliHistory::test_exports()
{
    const QString path = db("export.sqlite");
    {
        RUN_CLI(run,
                {"--db",
                 path,
                 "--workers",
                 "2",
                 "map",
                 "bench.flaky_inc_det",
                 "--range",
                 "0:20",
                 "--retries",
                 "1",
                 "--reduce",
                 "bench.sum"});
        EXPECT_EXIT(run, 0);
    }
    // 20 mapped tasks (4 of them twice: i = 0, 5, 10, 15) and the reduction: 25 attempts.
    const QString trace = m_dir.filePath("trace.json");
    RUN_CLI(
        perfetto,
        {"--db", path, "history", "export", "--session", "1", "--format", "perfetto", "-o", trace});
    EXPECT_EXIT(perfetto, 0);
    QFile traceFile(trace);
    QVERIFY(traceFile.open(QIODevice::ReadOnly));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(traceFile.readAll(), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    int slices = 0, failed = 0;
    for (const QJsonValue &v : doc.object().value("traceEvents").toArray()) {
        const QJsonObject e = v.toObject();
        if (e.value("ph").toString() != "X")
            continue;
        ++slices;
        if (!e.value("args").toObject().value("ok").toBool()) {
            ++failed;
            QVERIFY(e.value("args").toObject().contains("error"));
        }
    }
    QCOMPARE(slices, 25);
    QCOMPARE(failed, 4);

    RUN_CLI(csv, {"--db", path, "history", "export", "--session", "1", "--format", "csv"});
    EXPECT_EXIT(csv, 0);
    QCOMPARE(csv.out.split("\r\n", Qt::SkipEmptyParts).size(), 22); // header + 21 tasks
    QVERIFY(csv.out.startsWith("session,task_id,key,function"));

    const QString json = m_dir.filePath("session.json");
    RUN_CLI(js,
            {"--db",
             path,
             "history",
             "export",
             "--session",
             "1",
             "--format",
             "json",
             "--output",
             json});
    EXPECT_EXIT(js, 0);
    QFile jsonFile(json);
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(jsonFile.readAll(), &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(root.value("tasks").toArray().size(), 21);
    QCOMPARE(root.value("session").toObject().value("task_count").toInt(), 21);
}

void TstCliHistory::test_rerunFailed()
{
    const QString path = db("rerun.sqlite");
    const QString marker = m_dir.filePath("markers");
    QVERIFY(QDir().mkpath(marker));
    // flaky_inc fails the first attempt of every i % 5 == 0 (marker files); no retries.
    QFile inputs(m_dir.filePath("inputs.jsonl"));
    QVERIFY(inputs.open(QIODevice::WriteOnly));
    for (int i = 0; i < 6; ++i)
        inputs.write(QStringLiteral("[%1, \"%2\"]\n").arg(i).arg(marker).toUtf8());
    inputs.close();
    {
        RUN_CLI(run, {"--db", path, "map", "bench.flaky_inc", "--inputs", inputs.fileName()});
        EXPECT_EXIT(run, 1);
    }
    RUN_CLI(list, {"--db", path, "history", "--json"});
    const int session = list.objects().at(0).value("id").toInt();
    QCOMPARE(list.objects().at(0).value("counts").toObject().value("error").toInt(), 2);

    RUN_CLI(rerun,
            {"--db",
             path,
             "--json",
             "history",
             "rerun",
             "--session",
             QString::number(session),
             "--failed"});
    EXPECT_EXIT(rerun, 0);
    const QList<QJsonObject> results = rerun.objects();
    QCOMPARE(results.size(), 2);
    QSet<int> values;
    for (const QJsonObject &r : results) {
        QCOMPARE(r.value("status").toString(), QString("finished"));
        values.insert(r.value("result").toInt());
    }
    QCOMPARE(values, (QSet<int>{1, 6}));
    // The re-run is a session of its own.
    RUN_CLI(after, {"--db", path, "history", "--json"});
    QVERIFY(after.objects().at(0).value("title").toString().endsWith(
        "--json history rerun --session " + QString::number(session) + " --failed"));
}

void TstCliHistory::test_deleteAndRetention()
{
    const QString path = db("delete.sqlite");
    for (int i = 0; i < 4; ++i) {
        RUN_CLI(run, {"--db", path, "submit", "bench.inc", QString::number(i)});
        EXPECT_EXIT(run, 0);
    }
    RUN_CLI(del, {"--db", path, "history", "delete", "--session", "1"});
    EXPECT_EXIT(del, 0);
    RUN_CLI(again, {"--db", path, "history", "delete", "--session", "1"});
    EXPECT_EXIT(again, 2);
    QVERIFY(again.err.contains("no session 1"));
    RUN_CLI(keep, {"--db", path, "history", "retention", "--keep-sessions", "2"});
    EXPECT_EXIT(keep, 0);
    QVERIFY(keep.out.contains("Deleted 1 session."));
    RUN_CLI(list, {"--db", path, "history", "--json"});
    QCOMPARE(list.objects().size(), 2);
    QCOMPARE(list.objects().at(1).value("id").toInt(), 3);
}

void TstCliHistory::test_badInput()
{
    const QString path = db("bad.sqlite");
    const QList<QStringList> cases = {
        {"--db", path, "history", "export", "--format", "csv"}, // no session
        {"--db", path, "history", "export", "--session", "1"},  // no format
        {"--db", path, "history", "export", "--session", "1", "--format", "xml"},
        {"--db", path, "history", "frobnicate"},
        {"--db", path, "history", "tasks", "--session", "zero"},
        {"--db", path, "history", "retention"},
        {"--db", path, "history", "tasks", "--session", "77"}, // no such session
        {"--db", path, "history", "export", "--session", "77", "--format", "json"},
        {"--db", path, "history", "rerun", "--session", "77"},
        {"--db", "", "history"},
        {"--session", "1", "submit", "bench.inc", "1"}, // a history option elsewhere
    };
    for (const QStringList &args : cases) {
        RUN_CLI(run, args);
        QVERIFY2(run.exitCode == 2, qPrintable(args.join(' ') + "\n" + describe(run)));
        QVERIFY2(run.err.startsWith("taskbench-cli: "), qPrintable(run.err));
    }
    // A database path that cannot be a file: the run works, unrecorded, with a warning.
    QVERIFY(QDir().mkpath(db("adir.sqlite")));
    RUN_CLI(run, {"--db", db("adir.sqlite"), "submit", "bench.inc", "1"});
    EXPECT_EXIT(run, 0);
    QVERIFY(run.out.contains("finished  int  2"));
    QVERIFY2(run.err.contains("this run is not recorded"), qPrintable(run.err));
}

void TstCliHistory::test_badFiltersAreUsageErrors()
{
    // Regression: an unknown status listed nothing with exit 0, and --limit 0 printed "No
    // recorded sessions" over a history that has some.
    const QString path = db("filters.sqlite");
    {
        RUN_CLI(run, {"--db", path, "submit", "bench.inc", "1"});
        EXPECT_EXIT(run, 0);
    }
    RUN_CLI(status, {"--db", path, "history", "tasks", "--status", "bogus"});
    EXPECT_EXIT(status, 2);
    QVERIFY(status.out.isEmpty());
    QVERIFY2(status.err.startsWith("taskbench-cli: --status: expected pending, processing, "
                                   "finished, error, cancelled, lost or held, got 'bogus'\n"),
             qPrintable(status.err));
    QVERIFY2(status.err.contains("Try 'taskbench-cli history --help'."), qPrintable(status.err));
    for (const QStringList &args : {QStringList{"history", "--limit", "0"},
                                    QStringList{"history", "list", "--limit", "0"},
                                    QStringList{"history", "tasks", "--limit", "0"}}) {
        RUN_CLI(limit, QStringList{"--db", path} + args);
        EXPECT_EXIT(limit, 2);
        QVERIFY(limit.out.isEmpty());
        QVERIFY2(limit.err.startsWith("taskbench-cli: --limit must be at least 1\n"),
                 qPrintable(limit.err));
    }
    // Checked before the database is opened: a mistyped filter creates no database.
    RUN_CLI(none, {"--db", db("never.sqlite"), "history", "tasks", "--status", "Finished"});
    EXPECT_EXIT(none, 2);
    QVERIFY(!QFile::exists(db("never.sqlite")));
    // The valid ones still work.
    RUN_CLI(one, {"--db", path, "history", "--limit", "1", "--json"});
    EXPECT_EXIT(one, 0);
    QCOMPARE(one.objects().size(), 1);
    RUN_CLI(finished, {"--db", path, "history", "tasks", "--status", "finished", "--json"});
    EXPECT_EXIT(finished, 0);
    QCOMPARE(finished.objects().size(), 1);
}

void TstCliHistory::test_interruptedRunIsListedInterrupted()
{
    // Regression: a map stopped by Ctrl-C (exit 130) was listed as "finished".
    const QString path = db("interrupted.sqlite");
    QProcessEnvironment env = testsupport::cleanEnvironment();
    env.remove("TASKBENCH_HISTORY_DB");
    QProcess p;
    p.setProcessEnvironment(env);
    p.setProgram(testsupport::cliPath());
    p.setArguments(testsupport::withPlugins({"--db",
                                             path,
                                             "--log-level",
                                             "info",
                                             "--workers",
                                             "2",
                                             "map",
                                             "--no-pure",
                                             "bench.sleep_ms",
                                             "--range",
                                             "30000:30004"}));
    p.start();
    QVERIFY(p.waitForStarted(10000));
    // "waiting for N futures" comes once the handlers are installed and the map submitted.
    QByteArray err;
    QElapsedTimer timer;
    timer.start();
    while (!err.contains("waiting for") && timer.elapsed() < 60000) {
        p.waitForReadyRead(100);
        err += p.readAllStandardError();
    }
    QVERIFY2(err.contains("waiting for"), err.constData());
    ::kill(pid_t(p.processId()), SIGINT);
    const bool exited = p.waitForFinished(20000);
    if (!exited)
        p.kill();
    QVERIFY2(exited, "taskbench-cli did not exit after SIGINT");
    err += p.readAllStandardError();
    QCOMPARE(p.exitCode(), 130);

    RUN_CLI(list, {"--db", path, "history", "--json"});
    EXPECT_EXIT(list, 0);
    QCOMPARE(list.objects().size(), 1);
    const QJsonObject session = list.objects().front();
    QCOMPARE(session.value("status").toString(), QString("interrupted"));
    QVERIFY(session.value("ended_us").toInteger() >= session.value("started_us").toInteger());
    RUN_CLI(human, {"--db", path, "history"});
    QVERIFY2(human.out.contains("  interrupted  "), qPrintable(human.out));
    // A run that ends by itself stays "finished".
    {
        RUN_CLI(run, {"--db", path, "submit", "bench.inc", "1"});
        EXPECT_EXIT(run, 0);
    }
    RUN_CLI(again, {"--db", path, "history", "--json", "--limit", "1"});
    QCOMPARE(again.objects().front().value("status").toString(), QString("finished"));
}

void TstCliHistory::test_criticalPathOfCachedRun()
{
    // Regression: the second of two equal maps is all "from cache" (no attempt, started_us
    // 0), and its critical path showed the time from submit to cache hit as the tasks' run.
    const QString path = db("cachedpath.sqlite");
    const QStringList map
        = {"--db", path, "map", "bench.inc", "--range", "0:10", "--reduce", "bench.sum"};
    for (int i = 0; i < 2; ++i) {
        RUN_CLI(run, map);
        EXPECT_EXIT(run, 0);
    }
    RUN_CLI(sessions, {"--db", path, "history", "--json"});
    QCOMPARE(sessions.objects().size(), 2);
    const QString cached = QString::number(sessions.objects()[0].value("id").toInteger());
    const QString computed = QString::number(sessions.objects()[1].value("id").toInteger());

    RUN_CLI(text, {"--db", path, "history", "critical-path", "--session", cached});
    EXPECT_EXIT(text, 0);
    QVERIFY2(text.out.startsWith("No task of this session ran: all 11 came from the result "
                                 "cache ("),
             qPrintable(text.out));
    QVERIFY2(text.out.contains("so there is no critical path."), qPrintable(text.out));
    QVERIFY2(!text.out.contains("100.0%"), qPrintable(text.out));
    RUN_CLI(json, {"--db", path, "history", "critical-path", "--session", cached, "--json"});
    EXPECT_EXIT(json, 0);
    const QJsonObject doc = json.lastObject();
    QCOMPARE(doc.value("all_cached").toBool(), true);
    QCOMPARE(doc.value("cached_tasks").toInteger(), 11);
    QCOMPARE(doc.value("ran_tasks").toInteger(), 0);
    QVERIFY(doc.value("steps").toArray().isEmpty());

    // The first run computed everything: a path of tasks that ran.
    RUN_CLI(first, {"--db", path, "history", "critical-path", "--session", computed, "--json"});
    EXPECT_EXIT(first, 0);
    const QJsonObject ran = first.lastObject();
    QCOMPARE(ran.value("all_cached").toBool(), false);
    QCOMPARE(ran.value("ran_tasks").toInteger(), 11);
    const QJsonArray steps = ran.value("steps").toArray();
    QCOMPARE(steps.size(), 2);
    for (const QJsonValue &s : steps)
        QCOMPARE(s.toObject().value("cached").toBool(), false);
}

void TstCliHistory::test_corruptDatabaseIsMovedAside()
{
    const QString path = db("corrupt.sqlite");
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is not an SQLite database, just some text that is long enough......");
    }
    RUN_CLI(run, {"--db", path, "submit", "bench.inc", "41"});
    EXPECT_EXIT(run, 0);
    QVERIFY(run.out.contains("42"));
    QVERIFY2(run.err.contains("was corrupt") && run.err.contains("corrupt.sqlite.corrupt-"),
             qPrintable(run.err));
    QCOMPARE(QDir(m_dir.path()).entryList({"corrupt.sqlite.corrupt-*"}).size(), 1);
    RUN_CLI(list, {"--db", path, "history", "--json"});
    QCOMPARE(list.objects().size(), 1);
}

void TstCliHistory::test_newerDatabaseIsRefused()
{
    const QString path = db("newer.sqlite");
    {
        QSqlDatabase sqlite = QSqlDatabase::addDatabase("QSQLITE", "newer");
        sqlite.setDatabaseName(path);
        QVERIFY(sqlite.open());
        QSqlQuery q(sqlite);
        QVERIFY(q.exec("CREATE TABLE t(x)"));
        QVERIFY(q.exec("PRAGMA user_version = 7"));
        sqlite.close();
    }
    QSqlDatabase::removeDatabase("newer");
    RUN_CLI(list, {"--db", path, "history"});
    EXPECT_EXIT(list, 2);
    QVERIFY2(list.err.contains("newer Taskbench (schema 7"), qPrintable(list.err));
    RUN_CLI(run, {"--db", path, "submit", "bench.inc", "1"});
    EXPECT_EXIT(run, 0);
    QVERIFY(run.err.contains("this run is not recorded"));
    QVERIFY(QDir(m_dir.path()).entryList({"newer.sqlite.corrupt-*"}).isEmpty());
}

void TstCliHistory::test_compareSessions()
{
    const QString path = db("compare.sqlite");
    const QStringList map{"--db",
                          path,
                          "--no-cache",
                          "--workers",
                          "2",
                          "map",
                          "bench.flaky_inc_det",
                          "--range",
                          "0:10"};
    {
        RUN_CLI(run, map + QStringList{"--retries", "1"}); // session 1: all 10 finish
        EXPECT_EXIT(run, 0);
    }
    {
        RUN_CLI(run, map); // session 2: i = 0 and 5 fail on their first attempt
        EXPECT_EXIT(run, 1);
    }
    RUN_CLI(json, {"--db", path, "history", "compare", "1", "2", "--json"});
    EXPECT_EXIT(json, 0);
    const QJsonObject doc = QJsonDocument::fromJson(json.out.toUtf8()).object();
    const QJsonObject summary = doc.value("summary").toObject();
    QCOMPARE(summary.value("matched").toInt(), 10);
    QCOMPARE(summary.value("only_in_a").toInt(), 0);
    QCOMPARE(summary.value("results_equal").toInt(), 8);
    QCOMPARE(summary.value("results_different").toInt(), 2);
    QCOMPARE(summary.value("newly_failing").toArray().size(), 2);
    QCOMPARE(summary.value("fixed").toArray().size(), 0);
    QVERIFY(summary.value("median_ratio").toDouble() > 0);
    const QJsonArray tasks = doc.value("tasks").toArray();
    QCOMPARE(tasks.size(), 10);
    int failing = 0;
    for (const QJsonValue &v : tasks) {
        const QJsonObject t = v.toObject();
        QCOMPARE(t.value("matched_by").toString(), QString("key"));
        QCOMPARE(t.value("a").toObject().value("status").toString(), QString("finished"));
        if (t.value("b").toObject().value("status").toString() == "error") {
            ++failing;
            QCOMPARE(t.value("result").toString(), QString("different"));
            QVERIFY(
                t.value("b").toObject().value("error").toString().contains("You hit the error"));
        } else {
            QCOMPARE(t.value("result").toString(), QString("equal"));
            QCOMPARE(t.value("a").toObject().value("result_hash").toString().size(), 64);
        }
    }
    QCOMPARE(failing, 2);

    // The other way round, the two are fixed.
    RUN_CLI(text, {"--db", path, "history", "compare", "2", "1"});
    EXPECT_EXIT(text, 0);
    QVERIFY2(
        text.out.contains("10 matched, 0 only in A, 0 only in B; results 8 equal, 2 different"),
        qPrintable(text.out));
    QVERIFY(text.out.contains("Fixed (2):"));
    QVERIFY(!text.out.contains("Newly failing"));

    RUN_CLI(csv, {"--db", path, "history", "compare", "1", "2", "--csv"});
    EXPECT_EXIT(csv, 0);
    const QStringList lines = csv.out.split("\r\n", Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 11);
    QVERIFY(lines[0].startsWith("key,function,matched_by,status_a,status_b,"));
    QCOMPARE(csv.out.count(",finished,error,"), 2);

    RUN_CLI(missing, {"--db", path, "history", "compare", "1", "7"});
    EXPECT_EXIT(missing, 2);
    QVERIFY(missing.err.contains("no session 7"));
    RUN_CLI(oneId, {"--db", path, "history", "compare", "1"});
    EXPECT_EXIT(oneId, 2);
    RUN_CLI(notId, {"--db", path, "history", "compare", "1", "x"});
    EXPECT_EXIT(notId, 2);
    QVERIFY(notId.err.contains("expected a session ID, got 'x'"));
}

void TstCliHistory::test_compareDurationIsRunTime()
{
    // A flaky task that failed, waited 12 s for a manual Retry, then ran 30 µs: its
    // duration is the run time of its last attempt (the Futures table's), not the wait.
    using namespace taskbench::history;
    TaskRecord a;
    a.id = 1;
    a.key = "flaky_inc-1";
    a.function = "tutorial.flaky_inc";
    a.status = "finished";
    a.startedUs = 1'000'000;
    a.finishedUs = 13'360'000;
    a.runs = {AttemptRecord{1, 0, 0, 1'000'000, 1'000'020, false, {}},
              AttemptRecord{2, 0, 0, 13'359'970, 13'360'000, true, {}}};
    TaskRecord b = a;
    b.id = 2;
    b.runs = {AttemptRecord{1, 0, 0, 1'000'000, 1'000'060, true, {}}};
    b.finishedUs = 1'000'060;
    TaskRecord old = a; // recorded without attempts: first start to the end
    old.key = "old-1";
    old.runs.clear();
    SessionSummary sa, sb;
    sa.id = 1;
    sb.id = 2;
    const SessionComparison c = compareTasks(sa, {a, old}, sb, {b, old});
    QCOMPARE(c.tasks.size(), std::size_t(2));
    QCOMPARE(c.tasks[0].a->durationUs, std::int64_t(30));
    QCOMPARE(c.tasks[0].b->durationUs, std::int64_t(60));
    QCOMPARE(c.tasks[0].ratio, 2.0);
    QCOMPARE(c.tasks[1].a->durationUs, std::int64_t(12'360'000));
}

void TstCliHistory::test_compareNonPureByPosition()
{
    const QString path = db("compare-nonpure.sqlite");
    for (int run = 0; run < 2; ++run) {
        RUN_CLI(r, {"--db", path, "map", "bench.inc", "--range", "0:5", "--no-pure"});
        EXPECT_EXIT(r, 0);
    }
    {
        RUN_CLI(r, {"--db", path, "map", "bench.inc", "--range", "0:3", "--no-pure"});
        EXPECT_EXIT(r, 0);
    }
    RUN_CLI(json, {"--db", path, "history", "compare", "1", "2", "--json"});
    EXPECT_EXIT(json, 0);
    const QJsonObject doc = QJsonDocument::fromJson(json.out.toUtf8()).object();
    QCOMPARE(doc.value("summary").toObject().value("matched").toInt(), 5);
    QCOMPARE(doc.value("summary").toObject().value("results_equal").toInt(), 5);
    for (const QJsonValue &v : doc.value("tasks").toArray())
        QCOMPARE(v.toObject().value("matched_by").toString(), QString("position"));
    // A shorter map: the first three pair up, the rest are only in A.
    RUN_CLI(shorter, {"--db", path, "history", "compare", "1", "3", "--json"});
    const QJsonObject s
        = QJsonDocument::fromJson(shorter.out.toUtf8()).object().value("summary").toObject();
    QCOMPARE(s.value("matched").toInt(), 3);
    QCOMPARE(s.value("only_in_a").toInt(), 2);
    QCOMPARE(s.value("results_equal").toInt(), 3);
}

void TstCliHistory::test_runRecordsEveryTask()
{
    // Not only the outputs: the inputs' arguments and results are recorded too, so that the
    // output can be replayed and an input re-run.
    const QString path = db("graph.sqlite");
    const QString graph = m_dir.filePath("graph.json");
    {
        QFile f(graph);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"tasks": {"x": {"function": "bench.inc", "args": [1]},
                              "y": {"function": "bench.inc", "args": [2]},
                              "z": {"function": "bench.add",
                                    "args": [{"$ref": "x"}, {"$ref": "y"}]}},
                    "outputs": ["z"]})");
    }
    QString zKey;
    {
        RUN_CLI(run, {"--db", path, "--json", "run", graph});
        EXPECT_EXIT(run, 0);
        QCOMPARE(run.objects().size(), 1); // the outputs only are printed
        QCOMPARE(run.lastObject().value("result").toInt(), 5);
        zKey = run.lastObject().value("key").toString();
    }
    RUN_CLI(list, {"--db", path, "history", "--json"});
    const QString session = QString::number(list.objects().at(0).value("id").toInt());
    RUN_CLI(tasks, {"--db", path, "history", "tasks", "--session", session, "--json"});
    EXPECT_EXIT(tasks, 0);
    QMap<QString, QJsonObject> byName;
    for (const QJsonObject &t : tasks.objects())
        byName[t.value("key").toString().section('-', 0, 0)] = t;
    QCOMPARE(byName.keys(), (QStringList{"x", "y", "z"}));
    QCOMPARE(byName["x"].value("arguments").toArray(), QJsonArray{1});
    QCOMPARE(byName["x"].value("result").toInt(), 2);
    QCOMPARE(byName["y"].value("arguments").toArray(), QJsonArray{2});
    QCOMPARE(byName["y"].value("result").toInt(), 3);
    QCOMPARE(byName["z"].value("key").toString(), zKey);
    QCOMPARE(byName["z"].value("result").toInt(), 5);

    RUN_CLI(replay, {"--db", path, "replay", zKey, "--session", session});
    EXPECT_EXIT(replay, 0);
    QVERIFY2(replay.out.contains("finished  int  5"), qPrintable(describe(replay)));

    const QString x = QString::number(byName["x"].value("id").toInt());
    RUN_CLI(rerun, {"--db", path, "--json", "history", "rerun", "--session", session, "--task", x});
    EXPECT_EXIT(rerun, 0);
    QCOMPARE(rerun.objects().size(), 1);
    QCOMPARE(rerun.lastObject().value("key").toString(), byName["x"].value("key").toString());
    QCOMPARE(rerun.lastObject().value("result").toInt(), 2);
}

QTEST_MAIN(TstCliHistory)
#include "tst_clihistory.moc"
