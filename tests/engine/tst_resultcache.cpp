// The engine's side of the result cache (ClusterOptions::resultCache) with an in-memory
// cache: which tasks are looked up and stored (pure, token-keyed, not opted out, finished),
// what a hit looks like (finished without running, Future::cached(), the story's note), and
// that dependents of cached tasks run as usual. The SQLite cache is tested in
// tests/history/tst_historycache.cpp.
#include "taskbench/client.h"
#include "taskbench/resultcache.h"
#include "taskbench/steering.h"
#include "taskbench/valuecodec.h"

#include "memoryresultcache.h"

#include <QtTest>

#include <atomic>
#include <stdexcept>

using namespace taskbench;
using namespace std::chrono_literals;
using testsupport::MemoryResultCache;

namespace {

/// A client with the cache and counting host functions.
struct Fixture
{
    static ClusterOptions options(const std::shared_ptr<ResultCache> &cache, int workers)
    {
        ClusterOptions o;
        o.workers = workers;
        o.resultCache = cache;
        return o;
    }
    explicit Fixture(std::shared_ptr<ResultCache> cache, int workers = 2)
        : client(options(cache, workers))
    {
        auto &f = client.functions();
        f.addFunction("t.inc",
                      [this](std::int64_t x) {
                          ++calls;
                          return x + 1;
                      },
                      {"x"});
        f.addFunction("t.sum",
                      [this](const std::vector<std::int64_t> &xs) {
                          ++calls;
                          std::int64_t s = 0;
                          for (auto x : xs)
                              s += x;
                          return s;
                      },
                      {"xs"});
        f.addFunction("t.fail",
                      [this](std::int64_t) -> std::int64_t {
                          ++calls;
                          throw std::runtime_error("no");
                      },
                      {"x"});
    }
    std::vector<Future> mapInc(int n, SubmitOptions opts = {})
    {
        std::vector<Value> inputs;
        for (int i = 0; i < n; ++i)
            inputs.push_back(i);
        return client.map("t.inc", inputs, std::move(opts));
    }
    std::atomic<int> calls{0};
    Client client;
};

/// x = inc(X), y = inc(2), total = sum([x, y, 10]); every task is an output.
TaskGraph sumGraph(std::int64_t x = 1)
{
    TaskGraph g;
    g.tasks["x"] = {"t.inc", {Value(x)}, {}, 0};
    g.tasks["y"] = {"t.inc", {Value(2)}, {}, 0};
    g.tasks["total"]
        = {"t.sum", {Value::list({Value::ref("x"), Value::ref("y"), Value(10)})}, {}, 0};
    return g;
}

bool storyHasNote(Client &client, const Future &f, const std::string &note)
{
    for (const Transition &t : client.story(f))
        if (t.note && note == t.note)
            return true;
    return false;
}

} // namespace

class TestResultCache : public QObject
{
    Q_OBJECT

private slots:
    void test_hitFinishesWithoutRunning_data();
    void test_hitFinishesWithoutRunning();
    void test_missComputesAndStores();
    void test_nonPureNeverLookedUpNorStored();
    void test_errorNeverStored();
    void test_optOutAndExplicitKey();
    void test_dependentsOfCachedTasksRun();
    void test_brokenCacheComputes();
    void test_sameKeyIsSameCachedFuture();
    void test_hitNoteNamesTheSession();
    void test_graphTasksAreCached();
    void test_graphSharesTheCallsIdentityWithSubmit();
    void test_namesAndExplicitKeysDoNotPassForACall();
    void test_dependentOfAnEditedTaskIsNotCached();
};

void TestResultCache::test_hitFinishesWithoutRunning_data()
{
    QTest::addColumn<int>("workers");
    for (int w : {1, 2, 8})
        QTest::addRow("%d workers", w) << w;
}

void TestResultCache::test_hitFinishesWithoutRunning()
{
    QFETCH(int, workers);
    auto cache = std::make_shared<MemoryResultCache>();
    {
        Fixture first(cache, workers);
        auto fs = first.mapInc(50);
        QCOMPARE(first.client.gather(fs, Errors::Raise, 30s).size(), std::size_t(50));
        QCOMPARE(first.calls.load(), 50);
        for (const Future &f : fs)
            QVERIFY(!f.cached());
    }
    QCOMPARE(cache->size(), std::size_t(50));
    Fixture second(cache, workers);
    auto fs = second.mapInc(50);
    const auto values = second.client.gather(fs, Errors::Raise, 30s);
    for (int i = 0; i < 50; ++i) {
        QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
        QVERIFY(fs[std::size_t(i)].cached());
        QCOMPARE(fs[std::size_t(i)].status(), FutureStatus::Finished);
        QCOMPARE(fs[std::size_t(i)].attempts(), 0);
    }
    QCOMPARE(second.calls.load(), 0);
    QVERIFY(storyHasNote(second.client, fs.front(), "from cache, session 7"));
    // Never processing: straight from waiting to memory.
    for (const Transition &t : second.client.story(fs.front()))
        QVERIFY(t.to != TaskState::Processing);
}

void TestResultCache::test_missComputesAndStores()
{
    auto cache = std::make_shared<MemoryResultCache>();
    Fixture fx(cache);
    Future a = fx.client.submit("t.inc", {1});
    QCOMPARE(a.result(10s).toInt(), 2);
    QVERIFY(!a.cached());
    QTRY_COMPARE(cache->stores.load(), 1);
    QCOMPARE(cache->lookups.load(), 1);
    // A different argument is a different key: a miss.
    Future b = fx.client.submit("t.inc", {2});
    QCOMPARE(b.result(10s).toInt(), 3);
    QVERIFY(!b.cached());
    QCOMPARE(fx.calls.load(), 2);
}

void TestResultCache::test_nonPureNeverLookedUpNorStored()
{
    auto cache = std::make_shared<MemoryResultCache>();
    Fixture fx(cache);
    SubmitOptions impure;
    impure.pure = false;
    auto fs = fx.mapInc(10, impure);
    fx.client.gather(fs, Errors::Raise, 30s);
    QCOMPARE(cache->lookups.load(), 0);
    QCOMPARE(cache->stores.load(), 0);
    // The same calls, pure, are computed (nothing was stored) and then stored.
    auto pure = fx.mapInc(10);
    fx.client.gather(pure, Errors::Raise, 30s);
    QCOMPARE(fx.calls.load(), 20);
    QCOMPARE(cache->stores.load(), 10);
}

void TestResultCache::test_errorNeverStored()
{
    auto cache = std::make_shared<MemoryResultCache>();
    {
        Fixture fx(cache);
        SubmitOptions opts;
        opts.retries = 1;
        Future f = fx.client.submit("t.fail", {1}, opts);
        fx.client.wait({f}, ReturnWhen::AllCompleted, 10s);
        QCOMPARE(f.status(), FutureStatus::Error);
        QCOMPARE(fx.calls.load(), 2);
        // A dependent of the failure errs too and is not stored either.
        Future g = fx.client.submit("t.sum", {Value(Value::List{Value(f)})});
        fx.client.wait({g}, ReturnWhen::AllCompleted, 10s);
        QCOMPARE(g.status(), FutureStatus::Error);
    }
    QCOMPARE(cache->stores.load(), 0);
    Fixture again(cache);
    Future f = again.client.submit("t.fail", {1});
    again.client.wait({f}, ReturnWhen::AllCompleted, 10s);
    QCOMPARE(f.status(), FutureStatus::Error);
    QVERIFY(!f.cached());
    QCOMPARE(again.calls.load(), 1);
}

void TestResultCache::test_optOutAndExplicitKey()
{
    auto cache = std::make_shared<MemoryResultCache>();
    {
        Fixture fx(cache);
        fx.client.gather(fx.mapInc(3), Errors::Raise, 30s);
    }
    QCOMPARE(cache->stores.load(), 3);
    Fixture fx(cache);
    SubmitOptions off;
    off.cache = false;
    auto fs = fx.mapInc(3, off);
    fx.client.gather(fs, Errors::Raise, 30s);
    for (const Future &f : fs)
        QVERIFY(!f.cached());
    QCOMPARE(fx.calls.load(), 3);
    // An explicit key says nothing about the value: never served, never stored.
    SubmitOptions keyed;
    keyed.key = "mine";
    Future k = fx.client.submit("t.inc", {0}, keyed);
    QCOMPARE(k.result(10s).toInt(), 1);
    QVERIFY(!k.cached());
    QCOMPARE(fx.calls.load(), 4);
    QCOMPARE(cache->stores.load(), 3);
}

void TestResultCache::test_dependentsOfCachedTasksRun()
{
    auto cache = std::make_shared<MemoryResultCache>();
    {
        Fixture fx(cache);
        fx.client.gather(fx.mapInc(5), Errors::Raise, 30s);
    }
    Fixture fx(cache);
    auto fs = fx.mapInc(5);
    Value::List refs;
    for (const Future &f : fs)
        refs.push_back(Value(f));
    // Never computed before: runs on the cached inputs.
    Future total = fx.client.submit("t.sum", {Value(refs)});
    QCOMPARE(total.result(10s).toInt(), 1 + 2 + 3 + 4 + 5);
    QVERIFY(!total.cached());
    QCOMPARE(fx.calls.load(), 1);
    for (const Future &f : fs)
        QVERIFY(f.cached());
    // Now the whole graph is cached: a fresh client runs nothing.
    QTRY_COMPARE(cache->stores.load(), 6);
    Fixture third(cache);
    auto again = third.mapInc(5);
    Value::List refs2;
    for (const Future &f : again)
        refs2.push_back(Value(f));
    Future total2 = third.client.submit("t.sum", {Value(refs2)});
    QCOMPARE(total2.result(10s).toInt(), 15);
    QVERIFY(total2.cached());
    QCOMPARE(third.calls.load(), 0);
}

void TestResultCache::test_brokenCacheComputes()
{
    auto cache = std::make_shared<MemoryResultCache>();
    cache->setThrowing(true);
    Fixture fx(cache);
    auto fs = fx.mapInc(20);
    const auto values = fx.client.gather(fs, Errors::Raise, 30s);
    QCOMPARE(values.back().toInt(), 20);
    QCOMPARE(fx.calls.load(), 20);
}

void TestResultCache::test_sameKeyIsSameCachedFuture()
{
    // A second submit of a served key while it is held is the same (cached) future.
    auto cache = std::make_shared<MemoryResultCache>();
    {
        Fixture fx(cache);
        fx.client.gather(fx.mapInc(1), Errors::Raise, 30s);
    }
    Fixture fx(cache);
    Future a = fx.client.submit("t.inc", {0});
    QCOMPARE(a.result(10s).toInt(), 1);
    QVERIFY(a.cached());
    Future b = fx.client.submit("t.inc", {0});
    QVERIFY(a == b);
    QVERIFY(b.cached());
    QCOMPARE(fx.calls.load(), 0);
}

void TestResultCache::test_hitNoteNamesTheSession()
{
    QCOMPARE(cacheHitNote(7), std::string("from cache, session 7"));
    QCOMPARE(cacheHitNote(0), std::string("from cache"));
    QCOMPARE(cacheHitSession(cacheHitNote(7)), std::int64_t(7));
    QCOMPARE(cacheHitSession(cacheHitNote(123456789012)), std::int64_t(123456789012));
    QCOMPARE(cacheHitSession("from cache"), std::int64_t(0));
    for (const char *other : {"",
                              "scaled down",
                              "from cache, session ",
                              "from cache, session x",
                              "from cache, session 7 ",
                              "from cache, session -3",
                              "from cachex"})
        QCOMPARE(cacheHitSession(other), std::int64_t(-1));
}

void TestResultCache::test_graphTasksAreCached()
{
    auto cache = std::make_shared<MemoryResultCache>();
    std::map<std::string, std::string> keys;
    {
        Fixture first(cache);
        auto out = first.client.compute(sumGraph());
        QCOMPARE(out.at("total").result(10s).toInt(), 2 + 3 + 10);
        for (const auto &[name, f] : out) {
            QVERIFY(!f.cached());
            keys[name] = f.key();
        }
        QCOMPARE(first.calls.load(), 3);
        QTRY_COMPARE(cache->stores.load(), 3);
    }
    // The same graph in a later run: every task is served, none runs, keys are unchanged.
    Fixture second(cache);
    auto out = second.client.compute(sumGraph());
    QCOMPARE(out.at("total").result(10s).toInt(), 15);
    QCOMPARE(out.at("x").result(10s).toInt(), 2);
    for (const auto &[name, f] : out) {
        QVERIFY2(f.cached(), name.c_str());
        QCOMPARE(f.key(), keys.at(name));
        QCOMPARE(f.attempts(), 0);
    }
    QVERIFY(storyHasNote(second.client, out.at("total"), "from cache, session 7"));
    QCOMPARE(second.calls.load(), 0);
    // Another input of x: x and total are computed again, y is still served.
    auto changed = second.client.compute(sumGraph(5));
    QCOMPARE(changed.at("total").result(10s).toInt(), 6 + 3 + 10);
    QVERIFY(!changed.at("x").cached());
    QVERIFY(!changed.at("total").cached());
    QVERIFY(changed.at("y").cached());
    QCOMPARE(second.calls.load(), 2);
}

void TestResultCache::test_graphSharesTheCallsIdentityWithSubmit()
{
    // The cache knows calls, not graph names: what map and submit computed serves the graph
    // (futures as arguments included), and the other way round.
    auto cache = std::make_shared<MemoryResultCache>();
    {
        Fixture fx(cache);
        Future x = fx.client.submit("t.inc", {1});
        Future y = fx.client.submit("t.inc", {2});
        Future total = fx.client.submit("t.sum", {Value::list({Value(x), Value(y), Value(10)})});
        QCOMPARE(total.result(10s).toInt(), 15);
        QTRY_COMPARE(cache->stores.load(), 3);
    }
    {
        Fixture fx(cache);
        auto out = fx.client.compute(sumGraph());
        QCOMPARE(out.at("total").result(10s).toInt(), 15);
        for (const auto &[name, f] : out)
            QVERIFY2(f.cached(), name.c_str());
        QCOMPARE(fx.calls.load(), 0);
        // A graph task's key is still its name and token.
        QCOMPARE(out.at("x").key(), "x-" + tokenize("t.inc", {Value(1)}));
    }
    TaskGraph other;
    other.tasks["seven"] = {"t.inc", {Value(7)}, {}, 0};
    {
        Fixture fx(cache);
        QCOMPARE(fx.client.compute(other).at("seven").result(10s).toInt(), 8);
        QTRY_COMPARE(cache->stores.load(), 4);
    }
    Fixture fx(cache);
    Future seven = fx.client.submit("t.inc", {7});
    QCOMPARE(seven.result(10s).toInt(), 8);
    QVERIFY(seven.cached());
    QCOMPARE(fx.calls.load(), 0);
}

void TestResultCache::test_namesAndExplicitKeysDoNotPassForACall()
{
    auto cache = std::make_shared<MemoryResultCache>();
    {
        // A future whose explicit key is the pure key of inc(1), and a pure call on it: the
        // explicit key says nothing about the value, so neither is stored.
        Fixture fx(cache);
        SubmitOptions keyed;
        keyed.key = "inc-" + tokenize("t.inc", {Value(1)});
        Future fake = fx.client.submit("t.inc", {999}, keyed);
        Future y = fx.client.submit("t.inc", {2});
        Future total = fx.client.submit("t.sum", {Value::list({Value(fake), Value(y), Value(10)})});
        QCOMPARE(total.result(10s).toInt(), 1000 + 3 + 10);
        fx.client.taskCount();             // a query after the completions: their stores are made
        QCOMPARE(cache->stores.load(), 1); // y only
    }
    {
        Fixture fx(cache);
        auto out = fx.client.compute(sumGraph());
        QCOMPARE(out.at("total").result(10s).toInt(), 15);
        QVERIFY(!out.at("x").cached());
        QVERIFY(!out.at("total").cached());
        QCOMPARE(fx.calls.load(), 2);
    }
    // The same names on other calls: x = inc(5) in a graph of the same shape is not served
    // the x = inc(1) above, nor is total, whose arguments are written alike.
    Fixture fx(cache);
    auto out = fx.client.compute(sumGraph(5));
    QCOMPARE(out.at("x").result(10s).toInt(), 6);
    QCOMPARE(out.at("total").result(10s).toInt(), 19);
    QVERIFY(!out.at("x").cached());
    QVERIFY(!out.at("total").cached());
}

void TestResultCache::test_dependentOfAnEditedTaskIsNotCached()
{
    // A held input whose arguments were edited computes another value than its key says:
    // neither it nor what depends on it may be stored under the graph's calls.
    auto cache = std::make_shared<MemoryResultCache>();
    {
        Fixture fx(cache);
        Breakpoint bp;
        bp.match = Breakpoint::Match::Key;
        bp.pattern = "x-" + tokenize("t.inc", {Value(1)});
        fx.client.addBreakpoint(bp);
        auto out = fx.client.compute(sumGraph());
        const Future &x = out.at("x");
        QTRY_VERIFY_WITH_TIMEOUT(x.status() == FutureStatus::Held, 20000);
        fx.client.setArguments(x, {Value(100)});
        QCOMPARE(fx.client.release({x}), std::size_t(1));
        QCOMPARE(out.at("total").result(10s).toInt(), 101 + 3 + 10);
        fx.client.taskCount();             // a query after the completions: their stores are made
        QCOMPARE(cache->stores.load(), 1); // y only
    }
    Fixture fx(cache);
    auto out = fx.client.compute(sumGraph());
    QCOMPARE(out.at("total").result(10s).toInt(), 15);
    QVERIFY(!out.at("total").cached());
    QVERIFY(out.at("y").cached());
}

QTEST_GUILESS_MAIN(TestResultCache)
#include "tst_resultcache.moc"
