// The result cache in the history database (SqliteResultCache) with the engine and the bench
// plugin copied to a temporary folder: hits across cache objects (as across runs), a changed
// plugin file (new SHA-256) misses, least-recently-used eviction by size, damaged entries
// are misses and get recomputed, what is never stored (host functions, results over the
// history's limit), clear and stats.
#include "taskbench/client.h"
#include "taskbench/history/resultcache.h"
#include "taskbench/pluginloader.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

using namespace taskbench;
using namespace std::chrono_literals;

namespace {

/// A registry with the bench plugin loaded from `path`.
std::shared_ptr<FunctionRegistry> benchRegistry(const QString &path)
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    loader.load(path.toStdString());
    return registry;
}

struct Run
{
    std::vector<Value> values;
    int cached = 0;
};

/// Maps bench.inc over 0..n-1 on thread workers with this cache, as one CLI run does.
Run mapInc(const std::shared_ptr<FunctionRegistry> &registry,
           const std::shared_ptr<ResultCache> &cache,
           int n,
           int offset = 0)
{
    ClusterOptions o;
    o.workers = 2;
    o.resultCache = cache;
    Client client(o, registry);
    std::vector<Value> inputs;
    for (int i = 0; i < n; ++i)
        inputs.push_back(offset + i);
    auto fs = client.map("bench.inc", inputs);
    Run r;
    r.values = client.gather(fs, Errors::Raise, 60s);
    for (const Future &f : fs)
        r.cached += f.cached() ? 1 : 0;
    return r;
}

/// Runs SQL on the database directly (what damage from outside looks like).
void execSql(const QString &db, const QString &sql)
{
    {
        QSqlDatabase c = QSqlDatabase::addDatabase("QSQLITE", "tamper");
        c.setDatabaseName(db);
        QVERIFY(c.open());
        QSqlQuery q(c);
        QVERIFY2(q.exec(sql), qPrintable(sql));
    }
    QSqlDatabase::removeDatabase("tamper");
}

} // namespace

class TestResultCacheSqlite : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void test_hitAcrossRuns();
    void test_changedPluginMisses();
    void test_evictsLeastRecentlyUsed();
    void test_damagedEntryIsMissAndRecomputed_data();
    void test_damagedEntryIsMissAndRecomputed();
    void test_neverStored();
    void test_clearAndStats();

private:
    history::ResultCacheOptions options(std::uint64_t maxBytes = 256ull << 20) const
    {
        history::ResultCacheOptions o;
        o.databasePath = m_db.toStdString();
        o.maxBytes = maxBytes;
        o.writeInterval = 20ms;
        return o;
    }
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_db;
    QString m_plugin; ///< a copy of the bench plugin, ours to change
};

void TestResultCacheSqlite::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_db = m_dir->filePath("history.sqlite");
    m_plugin = m_dir->filePath("libtaskbench_bench.so");
    QVERIFY(QFile::copy(QStringLiteral(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so"), m_plugin));
}

void TestResultCacheSqlite::test_hitAcrossRuns()
{
    auto registry = benchRegistry(m_plugin);
    QVERIFY(registry->find("bench.inc"));
    {
        auto cache = std::make_shared<history::SqliteResultCache>(options());
        QVERIFY2(cache->ok(), cache->errorString().c_str());
        cache->setSession(12);
        const Run first = mapInc(registry, cache, 200);
        QCOMPARE(first.cached, 0);
        cache->flush();
        QCOMPARE(cache->stats().entries, std::int64_t(200));
    }
    auto cache = std::make_shared<history::SqliteResultCache>(options());
    const Run second = mapInc(registry, cache, 200);
    QCOMPARE(second.cached, 200);
    for (int i = 0; i < 200; ++i)
        QCOMPARE(second.values[std::size_t(i)].toInt(), i + 1);
    QCOMPARE(cache->stats().hits, std::uint64_t(200));
    // Half old, half new: the new half is computed and stored.
    const Run third = mapInc(registry, cache, 200, 100);
    QCOMPARE(third.cached, 100);
    QCOMPARE(third.values.back().toInt(), 300);
    cache->flush();
    QCOMPARE(cache->stats().entries, std::int64_t(300));
}

void TestResultCacheSqlite::test_changedPluginMisses()
{
    {
        auto registry = benchRegistry(m_plugin);
        auto cache = std::make_shared<history::SqliteResultCache>(options());
        mapInc(registry, cache, 20);
        cache->flush();
    }
    const std::string before = history::SqliteResultCache::fileSha256(m_plugin.toStdString());
    {
        // A rebuilt plugin: the same path, other bytes (one appended; the library still loads).
        QFile f(m_plugin);
        QVERIFY(f.open(QIODevice::Append));
        QCOMPARE(f.write("\n", 1), qint64(1));
    }
    QVERIFY(history::SqliteResultCache::fileSha256(m_plugin.toStdString()) != before);
    auto registry = benchRegistry(m_plugin);
    QVERIFY(registry->find("bench.inc"));
    auto cache = std::make_shared<history::SqliteResultCache>(options());
    const Run run = mapInc(registry, cache, 20);
    QCOMPARE(run.cached, 0);
    QCOMPARE(run.values.back().toInt(), 20);
    // Stored again for the new build, which now hits.
    cache->flush();
    auto again = std::make_shared<history::SqliteResultCache>(options());
    QCOMPARE(mapInc(registry, again, 20).cached, 20);
}

void TestResultCacheSqlite::test_evictsLeastRecentlyUsed()
{
    auto registry = benchRegistry(m_plugin);
    const FunctionPtr fn = registry->find("bench.inc");
    QVERIFY(fn);
    const std::string big(1000, 'x'); // each entry ~1.1 KB
    auto key = [](char c) { return std::string("inc-") + c; };
    {
        history::SqliteResultCache cache(options(3500)); // room for three
        for (char c : {'a', 'b', 'c'})
            cache.store(*fn, key(c), Value(big + c));
        cache.flush();
        // a is used again: b is now the least recently used.
        std::vector<std::optional<CacheHit>> out;
        cache.lookup({CacheRequest{fn.get(), "inc-a"}}, out);
        QVERIFY(out.at(0));
        QCOMPARE(out[0]->value.toString(), big + 'a');
        cache.flush();
        cache.store(*fn, key('d'), Value(big + 'd'));
        cache.flush();
        QCOMPARE(cache.stats().entries, std::int64_t(3));
        QCOMPARE(cache.stats().evicted, std::uint64_t(1));
        QVERIFY(cache.stats().bytes <= 3500);
    }
    history::SqliteResultCache cache(options(3500));
    std::vector<std::optional<CacheHit>> out;
    cache.lookup({CacheRequest{fn.get(), "inc-a"},
                  CacheRequest{fn.get(), "inc-b"},
                  CacheRequest{fn.get(), "inc-c"},
                  CacheRequest{fn.get(), "inc-d"}},
                 out);
    QCOMPARE(out.size(), std::size_t(4));
    QVERIFY(out[0]);
    QVERIFY(!out[1]);
    QVERIFY(out[2]);
    QVERIFY(out[3]);
    QCOMPARE(out[3]->value.toString(), big + 'd');
}

void TestResultCacheSqlite::test_damagedEntryIsMissAndRecomputed_data()
{
    QTest::addColumn<QString>("garbage");
    QTest::addColumn<bool>("large"); // read from the database on a hit, not kept in memory
    QTest::addRow("small, bad bytes") << "X'ff00ff'" << false;
    QTest::addRow("small, other valid CBOR") << "X'05'" << false;
    QTest::addRow("large, bad bytes") << "randomblob(600)" << true;
    QTest::addRow("large, other valid CBOR") << "X'05'" << true;
}

void TestResultCacheSqlite::test_damagedEntryIsMissAndRecomputed()
{
    QFETCH(QString, garbage);
    QFETCH(bool, large);
    auto registry = benchRegistry(m_plugin);
    const FunctionPtr fn = registry->find("bench.inc");
    const Value value = large ? Value(std::string(600, 'v')) : Value(41);
    {
        history::SqliteResultCache cache(options());
        cache.store(*fn, "inc-k", value);
        cache.flush();
        QCOMPARE(cache.stats().entries, std::int64_t(1));
    }
    if (large) {
        // Damaged after this process loaded its index: the read on the hit catches it.
        history::SqliteResultCache cache(options());
        std::vector<std::optional<CacheHit>> out;
        cache.lookup({CacheRequest{fn.get(), "inc-nothing"}}, out); // loads the index
        execSql(m_db, "UPDATE result_cache SET value = " + garbage);
        cache.lookup({CacheRequest{fn.get(), "inc-k"}}, out);
        QVERIFY(!out.at(0));
        QCOMPARE(cache.stats().corrupt, std::uint64_t(1));
        cache.flush();
        QCOMPARE(cache.stats().entries, std::int64_t(0)); // removed, to be recomputed
        return;
    }
    execSql(m_db, "UPDATE result_cache SET value = " + garbage);
    history::SqliteResultCache cache(options());
    std::vector<std::optional<CacheHit>> out;
    cache.lookup({CacheRequest{fn.get(), "inc-k"}}, out);
    QVERIFY(!out.at(0));
    QCOMPARE(cache.stats().corrupt, std::uint64_t(1));

    // Through the engine: the damaged entry of a real task is computed again and replaced.
    auto shared = std::make_shared<history::SqliteResultCache>(options());
    mapInc(registry, shared, 3);
    shared->flush();
    execSql(m_db, "UPDATE result_cache SET value = " + garbage + " WHERE key <> 'inc-k'");
    {
        auto fresh = std::make_shared<history::SqliteResultCache>(options());
        const Run run = mapInc(registry, fresh, 3);
        QCOMPARE(run.cached, 0);
        QCOMPARE(run.values[2].toInt(), 3);
        fresh->flush();
    }
    auto healed = std::make_shared<history::SqliteResultCache>(options());
    const Run run = mapInc(registry, healed, 3);
    QCOMPARE(run.cached, 3);
    QCOMPARE(run.values[0].toInt(), 1);
}

void TestResultCacheSqlite::test_neverStored()
{
    auto registry = benchRegistry(m_plugin);
    const FunctionPtr fn = registry->find("bench.inc");
    history::ResultCacheOptions o = options();
    o.resultLimitBytes = 100;
    history::SqliteResultCache cache(o);
    cache.store(*fn, "inc-big", Value(std::string(200, 'b'))); // over the history's limit
    FunctionInfo host; // not from a plugin file: nothing says which code it is
    host.qualifiedName = "host.f";
    cache.store(host, "f-1", Value(1));
    cache.flush();
    QCOMPARE(cache.stats().entries, std::int64_t(0));
    std::vector<std::optional<CacheHit>> out;
    cache.lookup({CacheRequest{&host, "f-1"}, CacheRequest{fn.get(), "inc-big"}}, out);
    QVERIFY(!out.at(0));
    QVERIFY(!out.at(1));
}

void TestResultCacheSqlite::test_clearAndStats()
{
    auto registry = benchRegistry(m_plugin);
    {
        auto cache = std::make_shared<history::SqliteResultCache>(options());
        mapInc(registry, cache, 10);
        cache->flush();
        const history::ResultCacheStats s = cache->stats();
        QCOMPARE(s.entries, std::int64_t(10));
        QVERIFY(s.bytes > 0);
        QCOMPARE(s.stored, std::uint64_t(10));
        QVERIFY(cache->clear());
        QCOMPARE(cache->stats().entries, std::int64_t(0));
        // The index forgot them too.
        QCOMPARE(mapInc(registry, cache, 10).cached, 0);
    }
    // A database that cannot be opened: not ok, every lookup a miss.
    history::ResultCacheOptions bad = options();
    bad.databasePath = "/proc/nonexistent/history.sqlite";
    auto broken = std::make_shared<history::SqliteResultCache>(bad);
    QVERIFY(!broken->ok());
    QVERIFY(!broken->errorString().empty());
    QCOMPARE(mapInc(registry, broken, 5).cached, 0);
}

QTEST_GUILESS_MAIN(TestResultCacheSqlite)
#include "tst_historycache.moc"
