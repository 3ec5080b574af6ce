// The result cache end to end through taskbench-cli: the issue's check (the tutorial map
// twice: the second run's futures all "cached": true; a changed plugin file computes
// again), --no-cache, `cache stats|clear`, bad options, and two CLIs writing one database at
// once (both succeed, the database stays intact, every result is there). The history of the
// cached run says which tasks came from the cache and from which session (tasks, compare).
#include "clirunner.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <unistd.h>

using namespace testsupport;

namespace {

bool allCached(const CliRun &run, bool expected, int expectedCount)
{
    const QList<QJsonObject> objects = run.objects();
    if (objects.size() != expectedCount)
        return false;
    for (const QJsonObject &o : objects)
        if (!o.contains("cached") || o.value("cached").toBool() != expected
            || o.value("status").toString() != "finished")
            return false;
    return true;
}

/// A hard link (same file system) or else a copy.
bool linkOrCopy(const QString &from, const QString &to)
{
    return ::link(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) == 0
           || QFile::copy(from, to);
}

} // namespace

class TestCliCache : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void test_secondRunIsCached();
    void test_noCacheComputes();
    void test_changedPluginComputesAgain();
    void test_historyAndCompareMarkCached();
    void test_statsAndClear();
    void test_badOptions();
    void test_twoProcessesShareOneDatabase();
    void test_graphRunIsCached();
    void test_sideEffectsAreNeverCached();

private:
    QStringList withDb(const QStringList &args) const { return QStringList{"--db", m_db} + args; }
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_db;
};

void TestCliCache::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_db = m_dir->filePath("history.sqlite");
}

void TestCliCache::test_sideEffectsAreNeverCached()
{
    // files.process_file writes a file (its plugin says {.cacheable = false}): a second run
    // reads the changed input and writes the result again instead of answering from cache.
    const QString input = m_dir->filePath("a.txt");
    const QString results = m_dir->filePath("results");
    const auto write = [](const QString &path, const QByteArray &text) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text);
    };
    const auto read = [](const QString &path) {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    };
    write(input, "hello");
    const QStringList args = withDb({"--json", "submit", "files.process_file", input, results});
    {
        RUN_CLI(run, args);
        EXPECT_EXIT(run, 0);
        QCOMPARE(run.lastObject().value("cached").toBool(), false);
    }
    QCOMPARE(read(results + "/a.txt"), QByteArray("# 1 line\nHELLO"));
    write(input, "changed");
    QVERIFY(QDir(results).removeRecursively());
    RUN_CLI(again, args);
    EXPECT_EXIT(again, 0);
    QCOMPARE(again.lastObject().value("cached").toBool(), false);
    QCOMPARE(read(results + "/a.txt"), QByteArray("# 1 line\nCHANGED"));
    RUN_CLI(listing, {"plugins"});
    QVERIFY2(listing.out.contains("(side effects: never served from the result cache)"),
             qPrintable(listing.out));
}

void TestCliCache::test_secondRunIsCached()
{
    // The issue's check, on process workers (the default).
    const QStringList args = withDb({"--json",
                                     "--workers",
                                     "10",
                                     "map",
                                     "tutorial.inc",
                                     "--range",
                                     "0:10",
                                     "--reduce",
                                     "tutorial.sum"});
    {
        RUN_CLI(run, args);
        EXPECT_EXIT(run, 0);
        QVERIFY2(allCached(run, false, 1), qPrintable(describe(run)));
        QCOMPARE(run.lastObject().value("result").toInt(), 55);
    }
    RUN_CLI(run, args);
    EXPECT_EXIT(run, 0);
    QVERIFY2(allCached(run, true, 1), qPrintable(describe(run)));
    const QJsonObject sum = run.lastObject();
    QCOMPARE(sum.value("result").toInt(), 55);
    QCOMPARE(sum.value("attempts").toInt(), 0);
    bool noted = false;
    for (const QJsonValue &t : sum.value("story").toArray())
        noted = noted || t.toObject().value("note").toString().startsWith("from cache, session ");
    QVERIFY2(noted, qPrintable(describe(run)));
    // Without --json, the summary of the mapped tasks says none of them ran.
    QStringList human = args;
    human.removeAll("--json");
    RUN_CLI(summary, human);
    EXPECT_EXIT(summary, 0);
    QVERIFY2(summary.err.contains(
                 "10 tasks, 10 finished (10 from the result cache), 0 failed, 0 attempts"),
             qPrintable(describe(summary)));
    // Every mapped future too (without --reduce each one is printed).
    RUN_CLI(each, withDb({"--json", "--workers", "10", "map", "tutorial.inc", "--range", "0:10"}));
    EXPECT_EXIT(each, 0);
    QVERIFY2(allCached(each, true, 10), qPrintable(describe(each)));
}

void TestCliCache::test_noCacheComputes()
{
    const QStringList map = {"--json", "map", "bench.inc", "--range", "0:5"};
    {
        RUN_CLI(run, withDb(map));
        EXPECT_EXIT(run, 0);
    }
    RUN_CLI(run, withDb(QStringList{"--no-cache"} + map));
    EXPECT_EXIT(run, 0);
    QVERIFY2(allCached(run, false, 5), qPrintable(describe(run)));
    // Non-pure calls are never served.
    RUN_CLI(impure, withDb({"--json", "map", "bench.inc", "--range", "0:5", "--no-pure"}));
    EXPECT_EXIT(impure, 0);
    QVERIFY2(allCached(impure, false, 5), qPrintable(describe(impure)));
}

void TestCliCache::test_changedPluginComputesAgain()
{
    // A prefix of our own (bin/ beside plugins/) whose plugin file we may change.
    QTemporaryDir prefix(QStringLiteral(TASKBENCH_BINARY_DIR "/clicache-XXXXXX"));
    QVERIFY(prefix.isValid());
    QVERIFY(QDir(prefix.path()).mkpath("bin") && QDir(prefix.path()).mkpath("plugins"));
    for (const char *exe : {"taskbench-cli", "taskbench-worker"})
        QVERIFY(linkOrCopy(binPath(exe), prefix.filePath(QString("bin/") + exe)));
    const QString plugin = prefix.filePath("plugins/libtaskbench_bench.so");
    QVERIFY(QFile::copy(QStringLiteral(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so"), plugin));
    const QString cli = prefix.filePath("bin/taskbench-cli");
    const QStringList args = withDb({"--json", "map", "bench.inc", "--range", "0:8"});
    auto runOnce = [&](bool expectCached) {
        ProcessRun run;
        QVERIFY2(runProgram(cli, args, {}, run), qPrintable(run.failure));
        EXPECT_EXIT(run, 0);
        QVERIFY2(allCached(run, expectCached, 8), qPrintable(describe(run)));
    };
    runOnce(false);
    runOnce(true);
    {
        QFile f(plugin); // "rebuilt": other bytes, a new SHA-256
        QVERIFY(f.open(QIODevice::Append));
        QCOMPARE(f.write("\n", 1), qint64(1));
    }
    runOnce(false);
    runOnce(true);
}

void TestCliCache::test_historyAndCompareMarkCached()
{
    const QStringList map = withDb({"--json", "map", "bench.inc", "--range", "0:6"});
    for (int run = 0; run < 2; ++run) { // session 1 computes, session 2 is served
        RUN_CLI(once, map);
        EXPECT_EXIT(once, 0);
    }
    RUN_CLI(tasks, withDb({"history", "tasks", "--session", "2", "--json"}));
    EXPECT_EXIT(tasks, 0);
    const QList<QJsonObject> rows = tasks.objects();
    QCOMPARE(rows.size(), 6);
    for (const QJsonObject &t : rows) {
        QVERIFY2(t.value("cached").toBool(), qPrintable(describe(tasks)));
        QCOMPARE(t.value("cached_from").toInt(), 1);
    }
    RUN_CLI(first, withDb({"history", "tasks", "--session", "1", "--json"}));
    EXPECT_EXIT(first, 0);
    for (const QJsonObject &t : first.objects()) {
        QVERIFY(!t.value("cached").toBool());
        QVERIFY(t.value("cached_from").isNull());
    }
    RUN_CLI(json, withDb({"history", "compare", "1", "2", "--json"}));
    EXPECT_EXIT(json, 0);
    const QJsonObject doc = QJsonDocument::fromJson(json.out.toUtf8()).object();
    const QJsonObject summary = doc.value("summary").toObject();
    QCOMPARE(summary.value("matched").toInt(), 6);
    QCOMPARE(summary.value("results_equal").toInt(), 6);
    QCOMPARE(summary.value("cached_in_a").toInt(), 0);
    QCOMPARE(summary.value("cached_in_b").toInt(), 6);
    // Not run, so not timed: no duration in B, in no ratio.
    QVERIFY(summary.value("median_ratio").isNull());
    for (const QJsonValue &v : doc.value("tasks").toArray()) {
        const QJsonObject b = v.toObject().value("b").toObject();
        QVERIFY(b.value("cached").toBool());
        QCOMPARE(b.value("cached_from").toInt(), 1);
        QCOMPARE(b.value("duration_us").toInt(), -1);
        QVERIFY(v.toObject().value("ratio").isNull());
    }
    RUN_CLI(text, withDb({"history", "compare", "1", "2"}));
    EXPECT_EXIT(text, 0);
    QVERIFY2(text.out.contains("From the result cache (not run, so not timed): 0 in A, 6 in B"),
             qPrintable(text.out));
    RUN_CLI(csv, withDb({"history", "export", "--session", "2", "--format", "csv"}));
    EXPECT_EXIT(csv, 0);
    QVERIFY2(csv.out.section("\r\n", 0, 0).endsWith(",cached_from"), qPrintable(csv.out));
    QCOMPARE(csv.out.count(QRegularExpression(",1\r\n")), 6);
}

void TestCliCache::test_statsAndClear()
{
    {
        RUN_CLI(run, withDb({"map", "bench.inc", "--range", "0:7"}));
        EXPECT_EXIT(run, 0);
    }
    {
        RUN_CLI(stats, withDb({"--json", "cache", "stats"}));
        EXPECT_EXIT(stats, 0);
        const QJsonObject o = stats.lastObject();
        QCOMPARE(o.value("entries").toInt(), 7);
        QVERIFY(o.value("bytes").toInt() > 0);
        QCOMPARE(o.value("max_bytes").toDouble(), 256.0 * 1024 * 1024);
    }
    {
        RUN_CLI(text, withDb({"cache", "stats", "--cache-max-mb", "8"}));
        EXPECT_EXIT(text, 0);
        QVERIFY2(text.out.contains("entries: 7") && text.out.contains("of 8.0 MiB"),
                 qPrintable(describe(text)));
    }
    {
        RUN_CLI(clear, withDb({"cache", "clear"}));
        EXPECT_EXIT(clear, 0);
        QVERIFY2(clear.out.startsWith("cleared 7 entries"), qPrintable(describe(clear)));
    }
    RUN_CLI(after, withDb({"--json", "cache", "stats"}));
    QCOMPARE(after.lastObject().value("entries").toInt(), 0);
}

void TestCliCache::test_badOptions()
{
    {
        RUN_CLI(run, withDb({"cache", "purge"}));
        EXPECT_EXIT(run, 2);
        QVERIFY2(run.err.contains("cache: unknown action 'purge' (stats, clear)"),
                 qPrintable(describe(run)));
    }
    {
        RUN_CLI(run, withDb({"cache"}));
        EXPECT_EXIT(run, 2);
    }
    {
        RUN_CLI(run, withDb({"--cache-max-mb", "0", "map", "bench.inc", "--range", "0:2"}));
        EXPECT_EXIT(run, 2);
    }
    // An unusable database costs the cache (and the history), never the run.
    RUN_CLI(run, {"--db", "/proc/nonexistent/h.sqlite", "map", "bench.inc", "--range", "0:3"});
    EXPECT_EXIT(run, 0);
    QVERIFY2(run.err.contains("result cache:"), qPrintable(describe(run)));
}

void TestCliCache::test_twoProcessesShareOneDatabase()
{
    // Overlapping maps in two CLIs at once, each recording and filling the cache.
    QProcess a, b;
    for (QProcess *p : {&a, &b})
        p->setProcessEnvironment(cleanEnvironment());
    a.start(
        cliPath(),
        withPlugins(withDb({"map", "bench.inc", "--range", "0:20000", "--reduce", "bench.sum"})));
    b.start(cliPath(),
            withPlugins(
                withDb({"map", "bench.inc", "--range", "10000:30000", "--reduce", "bench.sum"})));
    for (QProcess *p : {&a, &b}) {
        QVERIFY(p->waitForFinished(120000));
        QCOMPARE(p->exitStatus(), QProcess::NormalExit);
        const QByteArray err = p->readAllStandardError();
        QVERIFY2(p->exitCode() == 0, err.constData());
        // Starting together on a new file must not cost either run its cache or history.
        QVERIFY2(!err.contains("result cache:") && !err.contains("cannot"), err.constData());
    }
    // sum(i + 1) over each range.
    QVERIFY(QString::fromUtf8(a.readAllStandardOutput()).contains("finished  int  200010000"));
    QVERIFY(QString::fromUtf8(b.readAllStandardOutput()).contains("finished  int  400010000"));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "check");
        db.setDatabaseName(m_db);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec("PRAGMA integrity_check") && q.next());
        QCOMPARE(q.value(0).toString(), QString("ok"));
        QVERIFY(q.exec("SELECT count(*) FROM result_cache") && q.next());
        QCOMPARE(q.value(0).toInt(), 30000 + 2); // every mapped value and both reductions
    }
    QSqlDatabase::removeDatabase("check");
    // And a third run finds them all: only its new reduction runs.
    RUN_CLI(run,
            withDb({"--json", "map", "bench.inc", "--range", "0:30000", "--reduce", "bench.sum"}));
    EXPECT_EXIT(run, 0);
    QCOMPARE(run.lastObject().value("result").toDouble(), 450015000.0);
    RUN_CLI(stats, withDb({"--json", "cache", "stats"}));
    QCOMPARE(stats.lastObject().value("entries").toInt(), 30000 + 3);
}

void TestCliCache::test_graphRunIsCached()
{
    // A graph's tasks are cached like submit's and map's: the second run of the same graph
    // (process workers, the default) runs nothing, with the same keys.
    const QString graph = m_dir->filePath("graph.json");
    {
        QFile f(graph);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"tasks": {"x": {"function": "bench.inc", "args": [1]},
                              "y": {"function": "bench.inc", "args": [2]},
                              "total": {"function": "bench.sum",
                                        "args": [[{"$ref": "x"}, {"$ref": "y"}, 10]]}}})");
    }
    QMap<QString, QString> keys;
    {
        RUN_CLI(run, withDb({"--json", "run", graph}));
        EXPECT_EXIT(run, 0);
        QVERIFY2(allCached(run, false, 3), qPrintable(describe(run)));
        for (const QJsonObject &o : run.objects())
            keys[o.value("name").toString()] = o.value("key").toString();
    }
    RUN_CLI(run, withDb({"--json", "run", graph}));
    EXPECT_EXIT(run, 0);
    QVERIFY2(allCached(run, true, 3), qPrintable(describe(run)));
    for (const QJsonObject &o : run.objects()) {
        QCOMPARE(o.value("key").toString(), keys.value(o.value("name").toString()));
        QCOMPARE(o.value("attempts").toInt(), 0);
        if (o.value("name").toString() == "total")
            QCOMPARE(o.value("result").toInt(), 15);
    }
    // The cache knows the call, not its name in the graph: a submit of x's call is served.
    RUN_CLI(submit, withDb({"--json", "submit", "bench.inc", "1"}));
    EXPECT_EXIT(submit, 0);
    QVERIFY2(allCached(submit, true, 1), qPrintable(describe(submit)));
    // The history of the second run says where each task came from.
    RUN_CLI(tasks, withDb({"history", "tasks", "--session", "2", "--json"}));
    EXPECT_EXIT(tasks, 0);
    QCOMPARE(tasks.objects().size(), 3);
    for (const QJsonObject &t : tasks.objects()) {
        QVERIFY2(t.value("cached").toBool(), qPrintable(describe(tasks)));
        QCOMPARE(t.value("cached_from").toInt(), 1);
    }
    RUN_CLI(computed, withDb({"--no-cache", "--json", "run", graph}));
    EXPECT_EXIT(computed, 0);
    QVERIFY2(allCached(computed, false, 3), qPrintable(describe(computed)));
}

QTEST_GUILESS_MAIN(TestCliCache)
#include "tst_clicache.moc"
