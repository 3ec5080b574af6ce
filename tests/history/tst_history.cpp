// Tests of the run history: a recorded workflow read back (tasks, stories, attempts,
// errors, results, plugins, workers, logs), the result size limit, exports (Perfetto JSON
// parses with one slice per attempt, CSV rows, session JSON), re-runs (same results for
// pure tasks; clear refusals for a missing function or another plugin version), search,
// delete and retention, a corrupt file moved aside, a newer schema refused, migration from
// schema 1, and recovery after taskbench-cli is SIGKILLed mid-run.
#include "taskbench/client.h"
#include "taskbench/history/compare.h"
#include "taskbench/history/exporters.h"
#include "taskbench/history/historystore.h"
#include "taskbench/history/recorder.h"
#include "taskbench/history/rerun.h"
#include "taskbench/pluginloader.h"
#include "taskbench/valuecodec.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <optional>
#include <set>

using namespace taskbench;
using namespace taskbench::history;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<FunctionRegistry> benchRegistry()
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    const PluginScanReport r = loader.load(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so");
    if (r.loaded.empty())
        qFatal("cannot load the bench plugin from %s", TASKBENCH_PLUGIN_DIR);
    return registry;
}

ClusterOptions twoWorkers()
{
    ClusterOptions o;
    o.workers = 2;
    return o;
}

TaskQuery sessionTasks(std::int64_t session)
{
    TaskQuery q;
    q.session = session;
    return q;
}

/// Runs a SQL script on a raw connection (to build databases the store did not write).
void rawExec(const QString &path, const QStringList &statements)
{
    const QString name = "raw-" + path;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", name);
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        for (const QString &s : statements)
            QVERIFY2(q.exec(s), qPrintable(s + ": " + q.lastError().text()));
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

QStringList splitStatements(const std::string &script)
{
    QStringList out;
    for (const QString &s : QString::fromStdString(script).split(';', Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            out << s.trimmed();
    return out;
}

/// Number of CSV records (quoted fields may hold line breaks).
int csvRecords(const std::string &csv)
{
    int records = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < csv.size(); ++i) {
        if (csv[i] == '"')
            quoted = !quoted;
        else if (csv[i] == '\n' && !quoted)
            ++records;
    }
    return records;
}

struct Recorded
{
    std::int64_t session = 0;
    std::map<std::string, Value> results; ///< key -> value
    int tasks = 0;
};

/// Recorder options that write to `db`, everything else default.
RecorderOptions recordTo(const QString &db)
{
    RecorderOptions ro;
    ro.databasePath = db.toStdString();
    return ro;
}

/// A client on two workers whose session is recorded to a fresh database.
struct RecordingClient
{
    QTemporaryDir dir;
    QString db = dir.filePath("history.sqlite");
    Client client{twoWorkers(), benchRegistry()};
    Recorder recorder{client, recordTo(db)};
};

/// The tasks a finished recording wrote to `db`, by id.
std::vector<TaskRecord> recordedTasks(const QString &db, std::int64_t session)
{
    HistoryStore store;
    if (!store.open(db.toStdString()))
        qFatal("history: %s", store.errorString().c_str());
    std::vector<TaskRecord> tasks = store.tasks(sessionTasks(session));
    std::sort(tasks.begin(), tasks.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    return tasks;
}

/// inc(1) and add(it, 2) on rc's client, finished and written: the recorder has let go of
/// their futures (and archived their rows).
void finishAndWrite(RecordingClient &rc, Future &a, Future &b)
{
    QVERIFY(rc.recorder.ok());
    a = rc.client.submit("bench.inc", {1});
    b = rc.client.submit("bench.add", {Value(a), 2});
    rc.recorder.track({a, b});
    QCOMPARE(b.result(30s).toInt(), 4);
    rc.recorder.flush();
}

/// The recorded row of task `id`, if there is one.
std::optional<TaskRecord> recordedTask(const QString &db, std::int64_t session, std::uint64_t id)
{
    for (TaskRecord &t : recordedTasks(db, session))
        if (t.id == id)
            return std::move(t);
    return std::nullopt;
}

/// A small workflow: a map of flaky_inc_det with one retry (every i % 5 == 0 fails once),
/// an add of two of them, a sum over all, a failing task and a logging task.
Recorded recordWorkflow(const QString &db, std::size_t resultLimit = 64 * 1024)
{
    Recorded out;
    auto registry = benchRegistry();
    Client client(twoWorkers(), registry);
    RecorderOptions ro = recordTo(db);
    ro.session.app = "tst_history";
    ro.session.title = "workflow";
    ro.resultLimitBytes = resultLimit;
    Recorder recorder(client, ro);
    if (!recorder.ok())
        qFatal("recorder: %s", recorder.errorString().c_str());
    out.session = recorder.sessionId();

    SubmitOptions retry;
    retry.retries = 1;
    std::vector<Value> inputs;
    for (int i = 0; i < 10; ++i)
        inputs.emplace_back(i);
    std::vector<Future> mapped = client.map("bench.flaky_inc_det", inputs, retry);
    recorder.track(mapped, retry);
    std::vector<Future> more;
    more.push_back(client.submit("bench.add", {Value(mapped[1]), Value(mapped[2])}));
    Value::List refs;
    for (const Future &f : mapped)
        refs.emplace_back(Value(f));
    more.push_back(client.submit("bench.sum", {Value(std::move(refs))}));
    more.push_back(client.submit("bench.fail", {"boom"}));
    more.push_back(client.submit("bench.log_and_progress", {3}));
    more.push_back(client.submit("bench.range_list", {200}));
    recorder.track(more);
    std::vector<Future> all = mapped;
    all.insert(all.end(), more.begin(), more.end());
    client.wait(all, ReturnWhen::AllCompleted, 30s);
    for (const Future &f : all)
        if (f.status() == FutureStatus::Finished)
            out.results[f.key()] = f.result();
    out.tasks = int(all.size());
    recorder.finish();
    return out;
}

} // namespace

class TestHistory : public QObject
{
    Q_OBJECT

private slots:
    void test_recordAndReadBack();
    void test_resultSizeLimit();
    void test_retriedTaskKeepsItsNewResult();
    void test_taskSubmittedBeforeRecordingIsNamedByItsFuture();
    void test_resultLetGoStaysFinished();
    void test_recomputedTaskIsReadBackAndExtended();
    void test_exports();
    void test_rerunPureTasksGivesSameResults();
    void test_rerunRefusesMissingFunctionOrVersion();
    void test_searchAndFilters();
    void test_deleteAndRetention();
    void test_corruptFileIsMovedAside();
    void test_newerSchemaIsRefused();
    void test_migrationFromSchema1();
    void test_migrationFromSchema2();
    void test_sigkillMidRunIsRecoveredAsInterrupted();
    void test_compareRatiosOfSubMicrosecondTasks();
};

void TestHistory::test_recordAndReadBack()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    const Recorded rec = recordWorkflow(db);

    HistoryStore store;
    QVERIFY2(store.open(db.toStdString()), store.errorString().c_str());
    QCOMPARE(store.schemaVersion(), kSchemaVersion);
    const std::optional<SessionSummary> s = store.session(rec.session);
    QVERIFY(s);
    QCOMPARE(s->status, std::string("finished"));
    QCOMPARE(s->app, std::string("tst_history"));
    QVERIFY(s->endedUs >= s->startedUs);
    QCOMPARE(s->taskCount, std::int64_t(rec.tasks));
    QCOMPARE(s->counts.at("finished"), std::int64_t(rec.tasks - 1));
    QCOMPARE(s->counts.at("error"), std::int64_t(1));

    const std::vector<TaskRecord> tasks = store.tasks(sessionTasks(rec.session));
    QCOMPARE(int(tasks.size()), rec.tasks);
    int flaky = 0;
    for (const TaskRecord &t : tasks) {
        QVERIFY(!t.key.empty());
        QVERIFY(!t.story.empty());
        QCOMPARE(t.story.front().from, TaskState::Released);
        QVERIFY(t.submittedUs > 0);
        QVERIFY(t.startedUs >= t.submittedUs); // from the transition to processing
        QVERIFY(t.finishedUs >= t.startedUs);
        QVERIFY(t.worker >= 0);
        QVERIFY(!t.runs.empty());
        for (const AttemptRecord &r : t.runs) {
            QVERIFY(r.worker >= 0);
            QVERIFY(r.endUs >= r.startUs);
        }
        if (t.function == "bench.flaky_inc_det") {
            ++flaky;
            const std::optional<Value> arg = fromJson(t.argsJson);
            QVERIFY(arg && arg->isList() && arg->toList().size() == 1);
            const std::int64_t i = arg->toList()[0].toInt();
            QCOMPARE(t.status, std::string("finished"));
            QCOMPARE(t.resultJson, std::to_string(i + 1));
            QCOMPARE(t.resultType, std::string("int"));
            // i % 5 == 0 failed once and succeeded on the retry: two attempts, both recorded.
            QCOMPARE(t.attempts, i % 5 == 0 ? 2 : 1);
            QCOMPARE(int(t.runs.size()), i % 5 == 0 ? 2 : 1);
            QCOMPARE(t.runs.front().ok, i % 5 != 0);
            QVERIFY(t.optionsJson.find("\"retries\":1") != std::string::npos);
            QCOMPARE(t.story.back().to, TaskState::Memory);
        } else if (t.function == "bench.add") {
            QCOMPARE(t.deps.size(), std::size_t(2));
            QCOMPARE(t.resultJson, std::string("5"));
        } else if (t.function == "bench.sum") {
            QCOMPARE(t.deps.size(), std::size_t(10));
            QCOMPARE(t.resultJson, std::string("55"));
        } else if (t.function == "bench.fail") {
            QCOMPARE(t.status, std::string("error"));
            QCOMPARE(t.state, std::string("erred"));
            QCOMPARE(t.errorType, std::string("RuntimeError"));
            QCOMPARE(t.errorMessage, std::string("boom"));
            QVERIFY(!t.traceback.empty());
            QCOMPARE(t.resultSize, std::int64_t(-1));
        }
    }
    QCOMPARE(flaky, 10);

    const std::vector<PluginUse> plugins = store.plugins(rec.session);
    QCOMPARE(plugins.size(), std::size_t(1));
    QCOMPARE(plugins[0].name, std::string("bench"));
    QCOMPARE(plugins[0].version, std::string("1.0"));
    QVERIFY(QString::fromStdString(plugins[0].path).endsWith("libtaskbench_bench.so"));
    QCOMPARE(plugins[0].hash.size(), std::size_t(64));
    QVERIFY(plugins[0].functions.size() >= 5);

    const std::vector<WorkerRecord> workers = store.workers(rec.session);
    QCOMPARE(workers.size(), std::size_t(2));
    QVERIFY(!workers[0].name.empty());

    std::uint64_t logger = 0;
    for (const TaskRecord &t : tasks)
        if (t.function == "bench.log_and_progress")
            logger = t.id;
    QCOMPARE(store.logs(rec.session, logger).size(), std::size_t(3));
}

void TestHistory::test_resultSizeLimit()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    const Recorded rec = recordWorkflow(db, 100);
    HistoryStore store;
    QVERIFY(store.open(db.toStdString()));
    TaskQuery q = sessionTasks(rec.session);
    q.function = "range_list";
    const std::vector<TaskRecord> big = store.tasks(q);
    QCOMPARE(big.size(), std::size_t(1));
    QVERIFY(!big[0].resultStored);
    QVERIFY(big[0].resultJson.empty());
    QCOMPARE(big[0].resultType, std::string("list[200]"));
    QVERIFY(big[0].resultSize > 100);
    q.function = "bench.sum";
    QVERIFY(store.tasks(q).at(0).resultStored);
}

void TestHistory::test_retriedTaskKeepsItsNewResult()
{
    RecordingClient rc;
    Client &client = rc.client;
    Recorder &recorder = rc.recorder;
    QVERIFY(recorder.ok());
    // flaky_inc_det(5) fails its first attempt; a manual retry (the GUI's Retry) succeeds.
    Future f = client.submit("bench.flaky_inc_det", {5});
    recorder.track({f});
    QCOMPARE(client.wait({f}, ReturnWhen::AllCompleted, 30s).done.size(), std::size_t(1));
    QCOMPARE(f.status(), FutureStatus::Error);
    recorder.flush(); // the error is recorded (and the recorder lets go of the future)
    client.retry({f});
    QCOMPARE(f.result(30s).toInt(), 6);
    recorder.finish();

    const std::vector<TaskRecord> tasks = recordedTasks(rc.db, recorder.sessionId());
    QCOMPARE(tasks.size(), std::size_t(1));
    QCOMPARE(tasks[0].status, std::string("finished"));
    QVERIFY(tasks[0].resultStored);
    QCOMPARE(tasks[0].resultJson, std::string("6"));
    QVERIFY(tasks[0].errorType.empty());
    QCOMPARE(tasks[0].attempts, 2);
}

void TestHistory::test_taskSubmittedBeforeRecordingIsNamedByItsFuture()
{
    // No TasksAdded event reaches a recorder for a task submitted before it subscribed: a
    // tracked one is still recorded under its key and function, with its result.
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    auto registry = benchRegistry();
    Client client(twoWorkers(), registry);
    Future early = client.submit("bench.inc", {41});
    QCOMPARE(early.result(30s).toInt(), 42);
    Recorder recorder(client, recordTo(db));
    QVERIFY(recorder.ok());
    Future late = client.submit("bench.inc", {1});
    recorder.track({early, late});
    QCOMPARE(late.result(30s).toInt(), 2);
    recorder.finish();

    const std::vector<TaskRecord> tasks = recordedTasks(db, recorder.sessionId());
    QCOMPARE(tasks.size(), std::size_t(2));
    QCOMPARE(tasks[0].key, early.key());
    QCOMPARE(tasks[0].function, std::string("bench.inc"));
    QCOMPARE(tasks[0].resultJson, std::string("42"));
    QCOMPARE(tasks[0].argsJson, std::string("[41]"));
    QCOMPARE(tasks[1].key, late.key());
    QCOMPARE(tasks[1].function, std::string("bench.inc"));
    QCOMPARE(tasks[1].resultJson, std::string("2"));
    QCOMPARE(tasks[1].status, std::string("finished"));
    QVERIFY(!tasks[1].story.empty());
}

void TestHistory::test_resultLetGoStaysFinished()
{
    // A finished task whose future is let go while a dependent keeps it in the graph goes
    // to released ("result no longer needed"): its story says so, and its row stays
    // finished with its result instead of turning pending.
    RecordingClient rc;
    Future a, b;
    finishAndWrite(rc, a, b);
    if (QTest::currentTestFailed())
        return;
    const std::uint64_t aId = a.id();
    a = Future(); // its release goes through the scheduler's inbox before finish()'s query
    rc.recorder.finish();

    const std::optional<TaskRecord> it = recordedTask(rc.db, rc.recorder.sessionId(), aId);
    QVERIFY(it);
    QCOMPARE(it->status, std::string("finished"));
    QCOMPARE(it->resultJson, std::string("2"));
    QVERIFY(!it->story.empty());
    QCOMPARE(it->story.back().from, TaskState::Memory);
    QCOMPARE(it->story.back().to, TaskState::Released);
}

void TestHistory::test_recomputedTaskIsReadBackAndExtended()
{
    // A finished task's row leaves the recorder's memory once written (a big map then costs
    // it almost nothing). A later step (its result let go) is appended to the stored story;
    // when the task runs again (a new task needs the value that was let go), the row is read
    // back and the second run added to it, not written over it.
    RecordingClient rc;
    Client &client = rc.client;
    Recorder &recorder = rc.recorder;
    Future a, b;
    finishAndWrite(rc, a, b);
    if (QTest::currentTestFailed())
        return;
    const std::string aKey = a.key();
    const std::uint64_t aId = a.id();
    a = Future(); // b keeps it in the graph: released, its value dropped
    QTRY_VERIFY_WITH_TIMEOUT(client.findFuture(aKey).status() == FutureStatus::Pending, 30000);
    recorder.flush(); // the release step is stored
    Future c = client.submit("bench.add", {Value::ref(aKey), 10});
    recorder.track({c});
    QCOMPARE(c.result(30s).toInt(), 12);
    recorder.finish();

    const std::optional<TaskRecord> it = recordedTask(rc.db, recorder.sessionId(), aId);
    QVERIFY(it);
    QCOMPARE(it->status, std::string("finished"));
    QCOMPARE(it->resultJson, std::string("2"));
    QCOMPARE(it->argsJson, std::string("[1]"));
    QCOMPARE(it->function, std::string("bench.inc"));
    QCOMPARE(it->key, aKey);
    QCOMPARE(it->runs.size(), std::size_t(2));
    // In order: finished, let go (the appended step), finished again (and let go once more
    // when c no longer needed it, as the engine may do before the session ends).
    std::vector<TaskState> milestones;
    for (const TransitionRecord &step : it->story)
        if (step.to == TaskState::Memory
            || (step.from == TaskState::Memory && step.to == TaskState::Released))
            milestones.push_back(step.to);
    QVERIFY2(milestones.size() == 3 || milestones.size() == 4,
             qPrintable(QString::number(milestones.size())));
    QCOMPARE(milestones[0], TaskState::Memory);
    QCOMPARE(milestones[1], TaskState::Released);
    QCOMPARE(milestones[2], TaskState::Memory);
}

void TestHistory::test_exports()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    const Recorded rec = recordWorkflow(db);
    HistoryStore store;
    QVERIFY(store.open(db.toStdString()));
    const std::vector<TaskRecord> tasks = store.tasks(sessionTasks(rec.session));
    int attempts = 0, failedAttempts = 0;
    std::set<std::pair<int, int>> threads;
    for (const TaskRecord &t : tasks)
        for (const AttemptRecord &r : t.runs) {
            ++attempts;
            failedAttempts += r.ok ? 0 : 1;
            threads.insert({r.worker, r.thread});
        }
    QCOMPARE(failedAttempts, 3); // flaky 0 and 5, fail

    // Perfetto / Chrome trace: one X slice per attempt, a named track per worker thread.
    QJsonParseError error;
    const QJsonDocument trace = QJsonDocument::fromJson(
        QByteArray::fromStdString(exportPerfetto(store, rec.session)), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    int slices = 0, erred = 0, threadNames = 0;
    for (const QJsonValue &v : trace.object().value("traceEvents").toArray()) {
        const QJsonObject e = v.toObject();
        if (e.value("ph").toString() == "X") {
            ++slices;
            QVERIFY(e.value("dur").toDouble() >= 0);
            QVERIFY(!e.value("name").toString().isEmpty());
            if (e.value("args").toObject().contains("error"))
                ++erred;
        } else if (e.value("name").toString() == "thread_name") {
            ++threadNames;
        }
    }
    QCOMPARE(slices, attempts);
    QCOMPARE(erred, failedAttempts);
    QCOMPARE(threadNames, int(threads.size()));

    // CSV: a header and one record per task; the error is in the last column.
    const std::string csv = exportCsv(store, rec.session);
    QCOMPARE(csvRecords(csv), int(tasks.size()) + 1);
    QVERIFY(csv.find("RuntimeError: boom") != std::string::npos);

    // Session JSON: everything, parseable.
    const QJsonDocument json = QJsonDocument::fromJson(
        QByteArray::fromStdString(exportJson(store, rec.session)), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    const QJsonObject root = json.object();
    QCOMPARE(root.value("session").toObject().value("status").toString(), QString("finished"));
    QCOMPARE(root.value("tasks").toArray().size(), qsizetype(tasks.size()));
    QCOMPARE(root.value("plugins").toArray().size(), 1);
    for (const QJsonValue &v : root.value("tasks").toArray())
        QVERIFY(!v.toObject().value("story").toArray().isEmpty());

    // Files, and a session that does not exist.
    std::string why;
    QVERIFY(exportSession(
        store, rec.session, ExportFormat::Csv, dir.filePath("t.csv").toStdString(), &why));
    QFile file(dir.filePath("t.csv"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll().toStdString(), csv);
    QVERIFY(
        !exportSession(store, 999, ExportFormat::Json, dir.filePath("x.json").toStdString(), &why));
    QVERIFY(why.find("no session 999") != std::string::npos);
    QVERIFY(!QFile::exists(dir.filePath("x.json")));
    QVERIFY(!exportFormatFromName("xml"));
}

void TestHistory::test_rerunPureTasksGivesSameResults()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    const Recorded rec = recordWorkflow(db);
    HistoryStore store;
    QVERIFY(store.open(db.toStdString()));

    auto registry = benchRegistry();
    Client client(twoWorkers(), registry);
    // Everything: results equal the recorded ones key by key.
    const RerunPlan all = planRerun(store, rec.session, {}, false, *registry);
    QVERIFY2(all.problems.empty(), all.problems.empty() ? "" : all.problems[0].c_str());
    QCOMPARE(int(all.calls.size()), rec.tasks);
    const std::vector<Future> futures = submitRerun(client, all);
    client.wait(futures, ReturnWhen::AllCompleted, 30s);
    int compared = 0;
    for (const Future &f : futures) {
        const auto it = rec.results.find(f.key());
        if (it == rec.results.end()) {
            QCOMPARE(f.function(), std::string("bench.fail"));
            QCOMPARE(f.status(), FutureStatus::Error);
            continue;
        }
        QCOMPARE(f.status(), FutureStatus::Finished);
        QVERIFY(f.result() == it->second);
        ++compared;
    }
    QCOMPARE(compared, rec.tasks - 1);

    // One dependent task brings what it depends on.
    TaskQuery q = sessionTasks(rec.session);
    q.function = "bench.add";
    const TaskRecord add = store.tasks(q).at(0);
    const RerunPlan one = planRerun(store, rec.session, {add.id}, false, *registry);
    QVERIFY(one.problems.empty());
    QCOMPARE(one.calls.size(), std::size_t(3));
    QCOMPARE(one.calls.back().recordedId, add.id);

    // Failed only.
    const RerunPlan failed = planRerun(store, rec.session, {}, true, *registry);
    QVERIFY(failed.problems.empty());
    QCOMPARE(failed.calls.size(), std::size_t(1));
    QCOMPARE(failed.calls[0].function, std::string("bench.fail"));
    QCOMPARE(failed.calls[0].args.at(0), Value("boom"));
}

void TestHistory::test_rerunRefusesMissingFunctionOrVersion()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    const Recorded rec = recordWorkflow(db);
    HistoryStore store;
    QVERIFY(store.open(db.toStdString()));

    FunctionRegistry empty;
    const RerunPlan missing = planRerun(store, rec.session, {}, true, empty);
    QVERIFY(!missing.ok());
    QCOMPARE(missing.problems.size(), std::size_t(1));
    QVERIFY2(missing.problems[0].find("'bench.fail' is not loaded") != std::string::npos
                 && missing.problems[0].find("plugin 'bench' 1.0") != std::string::npos,
             missing.problems[0].c_str());

    FunctionRegistry newer;
    FunctionInfo fail;
    fail.qualifiedName = "bench.fail";
    fail.plugin = "bench";
    fail.pluginVersion = "2.0";
    fail.name = "fail";
    newer.add(fail);
    const RerunPlan other = planRerun(store, rec.session, {}, true, newer);
    QCOMPARE(other.problems.size(), std::size_t(1));
    QVERIFY2(other.problems[0].find("version 2.0 now; the session used version 1.0")
                 != std::string::npos,
             other.problems[0].c_str());

    const RerunPlan unknown = planRerun(store, rec.session, {424242}, false, *benchRegistry());
    QVERIFY(!unknown.ok());
    QVERIFY(unknown.problems[0].find("no task 424242") != std::string::npos);
}

void TestHistory::test_searchAndFilters()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    const Recorded rec = recordWorkflow(db);
    HistoryStore store;
    QVERIFY(store.open(db.toStdString()));

    TaskQuery q = sessionTasks(rec.session);
    q.status = "error";
    QCOMPARE(store.tasks(q).size(), std::size_t(1));
    q = sessionTasks(rec.session);
    q.errorText = "BOOM"; // case-insensitive
    QCOMPARE(store.tasks(q).size(), std::size_t(1));
    q = sessionTasks(rec.session);
    q.function = "flaky";
    QCOMPARE(store.tasks(q).size(), std::size_t(10));
    q.key = "no-such-key";
    QCOMPARE(store.tasks(q).size(), std::size_t(0));
    q = sessionTasks(rec.session);
    q.function = "%"; // a literal percent sign, not a wildcard
    QCOMPARE(store.tasks(q).size(), std::size_t(0));

    SessionQuery sq;
    sq.text = "boom";
    QCOMPARE(store.sessions(sq).size(), std::size_t(1));
    sq.text = "error";
    QCOMPARE(store.sessions(sq).size(), std::size_t(1));
    sq.text = "nothing-like-this";
    QCOMPARE(store.sessions(sq).size(), std::size_t(0));
    const std::vector<SessionSummary> sessions = store.sessions();
    QCOMPARE(sessions.size(), std::size_t(1));
    QCOMPARE(sessions[0].plugins, std::vector<std::string>{"bench 1.0"});
}

void TestHistory::test_deleteAndRetention()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    auto registry = benchRegistry();
    Client client(twoWorkers(), registry);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 5; ++i) {
        Recorder recorder(client, recordTo(db));
        QVERIFY(recorder.ok());
        Future f = client.submit("bench.inc", {i});
        recorder.track({f});
        f.result(10s);
        recorder.finish();
        ids.push_back(recorder.sessionId());
    }
    HistoryStore store;
    QVERIFY(store.open(db.toStdString()));
    QCOMPARE(store.sessions().size(), std::size_t(5));
    QVERIFY(store.deleteSession(ids[0]));
    QVERIFY(!store.deleteSession(ids[0]));
    QVERIFY(!store.session(ids[0]));
    QCOMPARE(store.tasks(sessionTasks(ids[0])).size(), std::size_t(0));

    // Keep the newest 3: the oldest remaining one goes.
    QCOMPARE(store.applyRetention(3, 0), 1);
    QVERIFY(!store.session(ids[1]));
    QVERIFY(store.session(ids[2]));
    // Keep 5 days: a session from 10 days ago goes.
    rawExec(db,
            {QString("UPDATE sessions SET started_us = started_us - 864000000000 WHERE id = %1")
                 .arg(ids[2])});
    QCOMPARE(store.applyRetention(0, 5), 1);
    QVERIFY(!store.session(ids[2]));
    QCOMPARE(store.sessions().size(), std::size_t(2));
    QCOMPARE(store.applyRetention(0, 0), 0);
}

void TestHistory::test_corruptFileIsMovedAside()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    {
        QFile f(db);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(8192, 'x'));
    }
    HistoryStore store;
    QVERIFY2(store.open(db.toStdString()), store.errorString().c_str());
    QCOMPARE(store.notices().size(), std::size_t(1));
    QVERIFY(store.notices()[0].find("corrupt") != std::string::npos);
    const QStringList aside = QDir(dir.path()).entryList({"history.sqlite.corrupt-*"});
    QCOMPARE(aside.size(), 1);
    QVERIFY(store.notices()[0].find(aside[0].toStdString()) != std::string::npos);
    QCOMPARE(QFile(dir.filePath(aside[0])).size(), qint64(8192));
    QCOMPARE(store.schemaVersion(), kSchemaVersion);
    QVERIFY(store.sessions().empty());

    // And the recorder works on the fresh file.
    store.close();
    auto registry = benchRegistry();
    Client client(twoWorkers(), registry);
    Recorder recorder(client, recordTo(db));
    QVERIFY(recorder.ok());
    QVERIFY(recorder.notices().empty());
}

void TestHistory::test_newerSchemaIsRefused()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    rawExec(db, {"CREATE TABLE future_things(x)", "PRAGMA user_version = 99"});
    HistoryStore store;
    QVERIFY(!store.open(db.toStdString()));
    QVERIFY2(store.errorString().find("newer Taskbench (schema 99") != std::string::npos,
             store.errorString().c_str());
    // Left as it was.
    QVERIFY(QDir(dir.path()).entryList({"*.corrupt-*"}).isEmpty());
    HistoryStore again;
    QVERIFY(!again.open(db.toStdString()));

    auto registry = benchRegistry();
    Client client(twoWorkers(), registry);
    Recorder recorder(client, recordTo(db));
    QVERIFY(!recorder.ok());
    QVERIFY(recorder.errorString().find("newer") != std::string::npos);
    recorder.track({client.submit("bench.inc", {1})}); // harmless when not recording
    recorder.flush();
}

void TestHistory::test_migrationFromSchema1()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    QStringList v1 = splitStatements(HistoryStore::migrationSteps().at(0));
    v1 << "PRAGMA user_version = 1"
       << "INSERT INTO sessions(started_us, ended_us, status, app, title) VALUES(1000000, "
          "2000000, 'finished', 'taskbench-cli', 'old run')"
       << "INSERT INTO tasks(session_id, task_id, key, function, args, state, status, attempts, "
          "result_stored, result, result_type, result_size, story, runs) VALUES(1, 1, "
          "'inc-1', 'bench.inc', '[1]', 'memory', 'finished', 1, 1, '2', 'int', 1, "
          "'0 2 1000100 -1 0;2 3 1000200 -1 0;3 4 1000300 0 1;', '1 0 0 1000250 1000300 1;')"
       << "INSERT INTO plugins(session_id, name, version, path, hash, functions) VALUES(1, "
          "'bench', '1.0', '/x/libtaskbench_bench.so', '', 'bench.inc')";
    rawExec(db, v1);

    HistoryStore store;
    QVERIFY2(store.open(db.toStdString()), store.errorString().c_str());
    QCOMPARE(store.schemaVersion(), kSchemaVersion);
    QCOMPARE(store.notices().size(), std::size_t(1));
    QVERIFY(store.notices()[0].find("migrated from schema 1 to 5") != std::string::npos);
    const std::vector<SessionSummary> sessions = store.sessions();
    QCOMPARE(sessions.size(), std::size_t(1));
    QCOMPARE(sessions[0].title, std::string("old run"));
    QCOMPARE(sessions[0].counts.at("finished"), std::int64_t(1));
    const std::vector<TaskRecord> tasks = store.tasks(sessionTasks(1));
    QCOMPARE(tasks.size(), std::size_t(1));
    QCOMPARE(tasks[0].resultJson, std::string("2"));
    QCOMPARE(tasks[0].story.size(), std::size_t(3));
    QCOMPARE(tasks[0].story.back().to, TaskState::Memory);
    QCOMPARE(tasks[0].runs.size(), std::size_t(1));
    QVERIFY(tasks[0].output.empty());
    QVERIFY(store.logs(1).empty());
    QVERIFY(store.workers(1).empty());
    // Schema 1 sessions re-run like any other.
    const RerunPlan plan = planRerun(store, 1, {}, false, *benchRegistry());
    QVERIFY(plan.problems.empty());
    QCOMPARE(plan.calls.at(0).args.at(0), Value(1));
    // Reopening does not migrate again.
    HistoryStore again;
    QVERIFY(again.open(db.toStdString()));
    QVERIFY(again.notices().empty());
}

void TestHistory::test_migrationFromSchema2()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    QStringList v2 = splitStatements(HistoryStore::migrationSteps().at(0))
                     + splitStatements(HistoryStore::migrationSteps().at(1));
    v2 << "PRAGMA user_version = 2";
    for (int session = 1; session <= 2; ++session)
        v2 << QString("INSERT INTO sessions(started_us, ended_us, status, app) VALUES(%1, %2, "
                      "'finished', 'taskbench-cli')")
                  .arg(session * 1000000)
                  .arg(session * 1000000 + 500);
    // Session 1: two finished, one error; session 2: one cancelled.
    const char *const rows[][3] = {{"1", "1", "finished"},
                                   {"1", "2", "finished"},
                                   {"1", "3", "error"},
                                   {"2", "1", "cancelled"}};
    for (const auto &r : rows)
        v2 << QString("INSERT INTO tasks(session_id, task_id, key, function, state, status) "
                      "VALUES(%1, %2, 'k-%2', 'bench.inc', 'memory', '%3')")
                  .arg(r[0], r[1], r[2]);
    rawExec(db, v2);

    HistoryStore store;
    QVERIFY2(store.open(db.toStdString()), store.errorString().c_str());
    QCOMPARE(store.schemaVersion(), kSchemaVersion);
    QCOMPARE(store.notices().size(), std::size_t(1));
    QVERIFY(store.notices()[0].find("migrated from schema 2 to 5") != std::string::npos);
    const std::vector<SessionSummary> sessions = store.sessions();
    QCOMPARE(sessions.size(), std::size_t(2));
    QCOMPARE(sessions[1].counts.at("finished"), std::int64_t(2)); // newest first
    QCOMPARE(sessions[1].counts.at("error"), std::int64_t(1));
    QCOMPARE(sessions[1].taskCount, std::int64_t(3));
    QCOMPARE(sessions[0].counts.at("cancelled"), std::int64_t(1));
    QCOMPARE(store.session(1)->taskCount, std::int64_t(3));
    // The per-task indexes are gone (one b-tree insert fewer per recorded task each).
    QSqlQuery q(store.database());
    QVERIFY(q.exec("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                   "('tasks_status', 'tasks_function')"));
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toInt(), 0);
    // Searching by status still finds the session.
    SessionQuery byStatus;
    byStatus.text = "cancelled";
    const std::vector<SessionSummary> found = store.sessions(byStatus);
    QCOMPARE(found.size(), std::size_t(1));
    QCOMPARE(found[0].id, std::int64_t(2));
}

void TestHistory::test_sigkillMidRunIsRecoveredAsInterrupted()
{
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    QProcess cli;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("TASKBENCH_PLUGIN_PATH");
    cli.setProcessEnvironment(env);
    cli.setProgram(TASKBENCH_BIN_DIR "/taskbench-cli");
    // 400 tasks of 20 ms on two workers: about 4 s, longer than the test waits (~1.5 s).
    cli.setArguments({"--plugins",
                      TASKBENCH_PLUGIN_DIR,
                      "--db",
                      db,
                      "--workers",
                      "2",
                      "map",
                      "bench.slow_inc",
                      "--range",
                      "0:400",
                      "--kwarg",
                      "ms=20"});
    cli.start();
    QVERIFY(cli.waitForStarted(10000));

    // Wait until the recorder has committed finished tasks and, a little later, the ones
    // still queued (pending tasks are written once they are a second old), reading
    // concurrently.
    const auto committed = [&db]() -> bool {
        HistoryStore reader;
        if (!reader.open(db.toStdString()))
            return false;
        const std::vector<SessionSummary> s = reader.sessions();
        if (s.empty() || s[0].status != "running")
            return false;
        const auto it = s[0].counts.find("finished");
        return it != s[0].counts.end() && it->second >= 20 && s[0].taskCount > it->second;
    };
    QTRY_VERIFY_WITH_TIMEOUT(committed(), 20000);
    QCOMPARE(cli.state(), QProcess::Running);
    cli.kill(); // SIGKILL: no destructor, no final flush
    QVERIFY(cli.waitForFinished(10000));
    QCOMPARE(cli.exitStatus(), QProcess::CrashExit);

    HistoryStore store;
    QVERIFY2(store.open(db.toStdString()), store.errorString().c_str());
    const std::vector<SessionSummary> sessions = store.sessions();
    QCOMPARE(sessions.size(), std::size_t(1));
    const SessionSummary &s = sessions[0];
    QCOMPARE(s.status, std::string("interrupted"));
    QVERIFY(s.endedUs >= s.startedUs);
    QVERIFY(s.counts.at("finished") >= 20);
    QVERIFY(s.counts.at("finished") < 400);
    // Tasks that were still queued or running are there too, with their last state.
    QVERIFY(s.taskCount > s.counts.at("finished"));
    TaskQuery q = sessionTasks(s.id);
    q.status = "finished";
    for (const TaskRecord &t : store.tasks(q)) {
        const std::optional<Value> args = fromJson(t.argsJson);
        QVERIFY(args && args->isList());
        QCOMPARE(t.resultJson, std::to_string(args->toList().at(0).toInt() + 1));
    }
    // Nothing was lost from the file itself: a second open agrees.
    HistoryStore again;
    QVERIFY(again.open(db.toStdString()));
    QCOMPARE(again.sessions().at(0).status, std::string("interrupted"));
}

void TestHistory::test_compareRatiosOfSubMicrosecondTasks()
{
    // Regression: a trivial task's run time reads 0 us; B's zeros made the median ratio 0
    // (and A's zeros left it undefined), so a rerun of trivial tasks "took no time at all".
    const auto task = [](std::uint64_t id, std::int64_t runUs) {
        TaskRecord t;
        t.id = id;
        t.key = "inc-" + std::to_string(id);
        t.function = "bench.inc";
        t.status = "finished";
        AttemptRecord run;
        run.attempt = 1;
        run.startUs = 1'000'000;
        run.endUs = 1'000'000 + runUs;
        t.runs.push_back(run);
        return t;
    };
    SessionSummary a, b;
    a.id = 1;
    b.id = 2;
    const SessionComparison c = compareTasks(
        a, {task(1, 0), task(2, 0), task(3, 4)}, b, {task(1, 0), task(2, 3), task(3, 0)});
    QCOMPARE(c.tasks.size(), std::size_t(3));
    QCOMPARE(c.tasks[0].ratio, 1.0);  // both under 1 us
    QCOMPARE(c.tasks[1].ratio, 3.0);  // 0 -> 3 us
    QCOMPARE(c.tasks[2].ratio, 0.25); // 4 us -> under 1 us
    QCOMPARE(c.summary.medianRatio, 1.0);
}

QTEST_MAIN(TestHistory)
#include "tst_history.moc"
