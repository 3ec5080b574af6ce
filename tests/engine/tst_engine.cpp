// Engine behaviour through the public Client API: keys and dedup, the state machine
// (including cancel and retry), dependencies, error propagation, retries, release by
// reference count, as_completed order, overlap on N workers, events. Host functions are
// registered directly; gates (not sleeps) make every ordering deterministic.
#include "gates.h"
#include "taskbench/client.h"
#include "taskbench/valuecodec.h"

#include <QtTest>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

using namespace taskbench;
using taskbench::testsupport::Barrier;
using taskbench::testsupport::Gate;
using namespace std::chrono_literals;

namespace {

/// Every event a subscriber asking for `wanted` receives, in order.
class EventLog
{
public:
    explicit EventLog(Client &client, EventMask wanted = kAllEvents)
        : m_subscription(client.subscribe(
            [this](const EventBatch &batch) {
                std::lock_guard lock(m_mutex);
                m_events.insert(m_events.end(), batch.begin(), batch.end());
            },
            wanted))
    {}
    std::vector<Event> events() const
    {
        std::lock_guard lock(m_mutex);
        return m_events;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<Event> m_events;
    Subscription m_subscription; ///< last: unsubscribed before the rest goes
};

struct Fixture
{
    static ClusterOptions options(int workers, int threads)
    {
        ClusterOptions o;
        o.workers = workers;
        o.threadsPerWorker = threads;
        return o;
    }
    explicit Fixture(int workers = 2, int threads = 1)
        : client(options(workers, threads))
    {
        auto &f = client.functions();
        f.addFunction("t.inc",
                      [this](std::int64_t x) {
                          ++calls;
                          return x + 1;
                      },
                      {"x"});
        f.addFunction("t.add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"});
        f.addFunction("t.sum",
                      [](const std::vector<std::int64_t> &xs) {
                          std::int64_t s = 0;
                          for (auto x : xs)
                              s += x;
                          return s;
                      },
                      {"xs"});
        f.addFunction("t.sum_map",
                      [](const std::map<std::string, Value> &m) {
                          std::int64_t s = 0;
                          for (const auto &[k, v] : m)
                              s += v.isList() ? v.toList().at(0).toInt() : v.toInt();
                          return s;
                      },
                      {"m"});
        f.addFunction(
            "t.fail",
            [](std::string message) -> std::int64_t { throw std::runtime_error(message); },
            {"message"});
        f.addFunction("t.fail_until",
                      [](std::int64_t x, std::int64_t okFromAttempt, sdk::TaskContext &ctx) {
                          if (ctx.attempt() < okFromAttempt)
                              throw sdk::TaskException("ValueError",
                                                       "attempt " + std::to_string(ctx.attempt()));
                          return x;
                      },
                      {"x", "ok_from_attempt"});
        f.addFunction("t.switchable",
                      [this](std::int64_t x) {
                          if (!healthy.load())
                              throw sdk::TaskException("ValueError", "not healthy");
                          return x * 10;
                      },
                      {"x"});
        f.addFunction("t.gated", taskbench::testsupport::gatedIdentity(gate, started), {"x"});
        f.addFunction("t.rendezvous",
                      [this](std::int64_t x, std::int64_t n) {
                          started.arrive();
                          // Returns true only if n tasks run at the same time.
                          return started.waitFor(int(n), 10s);
                      },
                      {"x", "n"});
        f.addFunction("t.ordered",
                      [this](std::int64_t x) {
                          // Finishes only once the test has seen task x - 1 complete.
                          std::unique_lock lock(orderMutex);
                          orderCv.wait_for(lock, 20s, [&] { return nextToFinish == x; });
                          return x;
                      },
                      {"x"});
        f.addFunction("t.logs",
                      [](std::int64_t n, sdk::TaskContext &ctx) {
                          for (std::int64_t i = 0; i < n; ++i)
                              ctx.log("line " + std::to_string(i));
                          ctx.progress(1.0, "done");
                          return n;
                      },
                      {"n"});
    }

    Client client;
    std::atomic<int> calls{0};
    std::atomic<bool> healthy{true};
    Gate gate;
    Barrier started;
    std::mutex orderMutex;
    std::condition_variable orderCv;
    std::int64_t nextToFinish = 0;
};

std::vector<TaskState> states(const std::vector<Transition> &story)
{
    std::vector<TaskState> out;
    for (const Transition &t : story)
        out.push_back(t.to);
    return out;
}

} // namespace

class TestEngine : public QObject
{
    Q_OBJECT

private slots:
    void test_submitAndResult_data()
    {
        QTest::addColumn<int>("workers");
        QTest::addColumn<int>("threads");
        for (int w : {1, 2, 4, 8})
            QTest::addRow("%d workers", w) << w << 1;
        QTest::addRow("2x3 threads") << 2 << 3;
    }
    void test_submitAndResult()
    {
        QFETCH(int, workers);
        QFETCH(int, threads);
        Fixture fx(workers, threads);
        Future f = fx.client.submit("t.inc", {1});
        QCOMPARE(f.result(10s).toInt(), 2);
        QCOMPARE(f.status(), FutureStatus::Finished);
        QCOMPARE(f.typeName(), std::string("int"));
        QVERIFY(f.key().rfind("inc-", 0) == 0);
        QCOMPARE(f.key().size(), std::size_t(4 + 32));
        QVERIFY(f.repr().find("status: finished, type: int, key: inc-") != std::string::npos);
        // Many tasks, spread over all workers.
        std::vector<Value> inputs;
        for (int i = 0; i < 1000; ++i)
            inputs.push_back(i);
        auto fs = fx.client.map("t.inc", inputs);
        auto values = fx.client.gather(fs, Errors::Raise, 30s);
        QCOMPARE(values.size(), std::size_t(1000));
        for (int i = 0; i < 1000; ++i)
            QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
    }

    void test_pureKeysDeduplicate()
    {
        Fixture fx;
        Future a = fx.client.submit("t.inc", {41});
        Future b = fx.client.submit("t.inc", {41});
        QCOMPARE(a.key(), b.key());
        QCOMPARE(a.id(), b.id());
        QCOMPARE(a.result(10s).toInt(), 42);
        QCOMPARE(b.result(10s).toInt(), 42);
        QCOMPARE(fx.calls.load(), 1); // computed once
        Future c = fx.client.submit("t.inc", {42});
        QVERIFY(c.key() != a.key());
        // pure = false: a new key and a new computation every time.
        SubmitOptions impure;
        impure.pure = false;
        Future d = fx.client.submit("t.inc", {41}, impure);
        Future e = fx.client.submit("t.inc", {41}, impure);
        QVERIFY(d.key() != e.key());
        QVERIFY(d.key() != a.key());
        fx.client.gather({c, d, e});
        QCOMPARE(fx.calls.load(), 4);
        // Explicit key.
        SubmitOptions named;
        named.key = "my-key";
        Future g = fx.client.submit("t.inc", {1}, named);
        QCOMPARE(g.key(), std::string("my-key"));
        QCOMPARE(g.result(10s).toInt(), 2);
    }

    void test_badCallsThrowAndSubmitNothing()
    {
        Fixture fx;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fx.client.submit("t.nope", {1}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fx.client.submit("t.inc", {"a"}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fx.client.submit("t.inc", {1, 2}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fx.client.submit("t.inc", {}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fx.client.submit("t.inc", {Value::ref("no-such-key")}));
        QCOMPARE(fx.client.taskCount(), std::size_t(0));
    }

    void test_storyOfASuccessfulTask()
    {
        Fixture fx;
        Future f = fx.client.submit("t.inc", {5});
        QCOMPARE(f.result(10s).toInt(), 6);
        auto story = fx.client.story(f);
        const std::vector<TaskState> expected{
            TaskState::Waiting, TaskState::Queued, TaskState::Processing, TaskState::Memory};
        QCOMPARE(states(story), expected);
        QVERIFY(story[2].worker >= 0);
        QCOMPARE(story[2].attempt, 1);
        for (std::size_t i = 1; i < story.size(); ++i)
            QVERIFY(story[i].timeUs >= story[i - 1].timeUs);
        QCOMPARE(f.attempts(), 1);
    }

    void test_nestedDependencies()
    {
        Fixture fx;
        Future x = fx.client.submit("t.inc", {1});
        Future y = fx.client.submit("t.inc", {2});
        Future z = fx.client.submit("t.add", {x, y});
        QCOMPARE(z.result(10s).toInt(), 5);
        // Futures nested in a list and in a map.
        Future s = fx.client.submit("t.sum", {Value::list({x, y, z, 10})});
        QCOMPARE(s.result(10s).toInt(), 2 + 3 + 5 + 10);
        Value::Map m{{"a", Value(x)}, {"b", Value::list({Value(y)})}};
        Future sm = fx.client.submit("t.sum_map", {Value(m)});
        QCOMPARE(sm.result(10s).toInt(), 5);
        // Futures as map inputs.
        auto fs = fx.client.map("t.inc", {x, y, z});
        auto values = fx.client.gather(fs);
        QCOMPARE(values[0].toInt(), 3);
        QCOMPARE(values[2].toInt(), 6);
        QCOMPARE(fx.client.arguments(z)[0], Value::ref(x.key()));
    }

    void test_errorPropagatesWithRootCause()
    {
        Fixture fx;
        Future bad = fx.client.submit("t.fail", {"boom"});
        Future mid = fx.client.submit("t.inc", {bad});
        Future top = fx.client.submit("t.add", {mid, 1});
        try {
            top.result(10s);
            QFAIL("expected TaskFailed");
        } catch (const TaskFailed &e) {
            QCOMPARE(e.error().type, std::string("std::runtime_error"));
            QCOMPARE(e.error().message, std::string("boom"));
            QCOMPARE(e.error().rootKey, bad.key());
            QCOMPARE(e.error().rootFunction, std::string("t.fail"));
            QVERIFY(e.error().fromDependency);
        }
        QCOMPARE(bad.status(), FutureStatus::Error);
        QVERIFY(!bad.error()->fromDependency);
        QCOMPARE(bad.error()->attempts, 1);
        QCOMPARE(mid.status(), FutureStatus::Error);
        // A task submitted after its dependency failed errs at once.
        Future late = fx.client.submit("t.inc", {bad});
        QVERIFY_THROWS_EXCEPTION(TaskFailed, late.result(10s));
        QCOMPARE(late.error()->rootKey, bad.key());
    }

    void test_nonStdExceptionBecomesError()
    {
        Fixture fx;
        fx.client.functions().addFunction("t.throw_int", []() -> std::int64_t { throw 42; }, {});
        Future f = fx.client.submit("t.throw_int", {});
        QVERIFY_THROWS_EXCEPTION(TaskFailed, f.result(10s));
        QCOMPARE(f.error()->type, std::string("int"));
        QVERIFY(f.error()->message.find("non-standard") != std::string::npos);
    }

    void test_automaticRetries()
    {
        Fixture fx;
        SubmitOptions o;
        o.retries = 3;
        Future f = fx.client.submit("t.fail_until", {7, 3}, o);
        QCOMPARE(f.result(10s).toInt(), 7);
        QCOMPARE(f.attempts(), 3);
        // Not enough retries: the last attempt's error, with the attempt count.
        o.retries = 1;
        Future g = fx.client.submit("t.fail_until", {8, 5}, o);
        QVERIFY_THROWS_EXCEPTION(TaskFailed, g.result(10s));
        QCOMPARE(g.error()->type, std::string("ValueError"));
        QCOMPARE(g.error()->message, std::string("attempt 2"));
        QCOMPARE(g.error()->attempts, 2);
        // The story shows the retry.
        auto story = fx.client.story(f);
        int processing = 0;
        for (const Transition &t : story)
            processing += t.to == TaskState::Processing;
        QCOMPARE(processing, 3);
    }

    void test_manualRetryWalksBackToRoots()
    {
        Fixture fx;
        fx.healthy = false;
        Future root = fx.client.submit("t.switchable", {1});
        Future dep = fx.client.submit("t.inc", {root});
        Future top = fx.client.submit("t.add", {dep, 100});
        QVERIFY_THROWS_EXCEPTION(TaskFailed, top.result(10s));
        QCOMPARE(root.status(), FutureStatus::Error);
        fx.healthy = true;
        fx.client.retry({top}); // retrying the leaf re-runs the root and everything between
        QCOMPARE(top.result(10s).toInt(), 111);
        QCOMPARE(root.result(10s).toInt(), 10);
        QCOMPARE(dep.status(), FutureStatus::Finished);
        QCOMPARE(root.attempts(), 2);
        // Retrying a root brings its erred dependents back as well.
        fx.healthy = false;
        Future r2 = fx.client.submit("t.switchable", {2});
        Future d2 = fx.client.submit("t.inc", {r2});
        fx.client.wait({d2}, ReturnWhen::AllCompleted, 10s);
        QCOMPARE(d2.status(), FutureStatus::Error);
        fx.healthy = true;
        r2.retry();
        QCOMPARE(d2.result(10s).toInt(), 21);
        auto story = fx.client.story(d2);
        QCOMPARE(story.back().to, TaskState::Memory);
        bool sawErred = false;
        for (const Transition &t : story)
            sawErred = sawErred || t.to == TaskState::Erred;
        QVERIFY(sawErred);
    }

    void test_cancelPendingAndRunning()
    {
        Fixture fx(1, 1);
        Future running = fx.client.submit("t.gated", {1});
        QVERIFY(fx.started.waitFor(1));
        Future queued = fx.client.submit("t.inc", {running});
        Future other = fx.client.submit("t.inc", {50});
        QCOMPARE(running.status(), FutureStatus::Processing);
        running.cancel();
        QVERIFY_THROWS_EXCEPTION(CancelledError, running.result(10s));
        QVERIFY_THROWS_EXCEPTION(CancelledError, queued.result(10s));
        QCOMPARE(queued.status(), FutureStatus::Cancelled);
        // The worker is free again (cooperative cancel) and runs other work.
        QCOMPARE(other.result(10s).toInt(), 51);
        // A cancelled task can be retried.
        fx.gate.open();
        fx.client.retry({queued});
        QCOMPARE(queued.result(10s).toInt(), 2);
        QCOMPARE(running.result(10s).toInt(), 1);
    }

    void test_releaseByReferenceCount()
    {
        Fixture fx;
        {
            Future x = fx.client.submit("t.inc", {1});
            Future y = fx.client.submit("t.inc", {x});
            QCOMPARE(y.result(10s).toInt(), 3);
            QCOMPARE(fx.client.taskCount(), std::size_t(2));
            x.release(); // y still holds x's record (graph), not its value
            QVERIFY(fx.client.taskCount() >= 1);
        }
        QVERIFY(fx.client.waitUntilIdle(10s));
        QCOMPARE(fx.client.taskCount(), std::size_t(0));
        // A released key can be submitted again and is computed again.
        Future again = fx.client.submit("t.inc", {1});
        QCOMPARE(again.result(10s).toInt(), 2);
        QCOMPARE(fx.calls.load(), 3);
        // Copies share one reference each.
        Future copy = again;
        again.release();
        QCOMPARE(copy.result(10s).toInt(), 2);
        copy = Future();
        QVERIFY(fx.client.waitUntilIdle(10s));
    }

    void test_droppedResultIsRecomputedWhenNeededAgain()
    {
        Fixture fx;
        Future y;
        std::string xKey;
        {
            Future x = fx.client.submit("t.inc", {1});
            xKey = x.key();
            y = fx.client.submit("t.inc", {x});
            QCOMPARE(y.result(10s).toInt(), 3);
        }
        // x's value was dropped (nobody holds it, y is done) but its record stays for y.
        Future x2 = fx.client.submit("t.inc", {1});
        QCOMPARE(x2.key(), xKey);
        QCOMPARE(x2.result(10s).toInt(), 2);
    }

    void test_asCompletedOrder()
    {
        Fixture fx(4, 1);
        std::vector<Value> inputs;
        for (int i = 3; i >= 0; --i) // submitted in reverse order of completion
            inputs.push_back(i);
        auto fs = fx.client.map("t.ordered", inputs);
        auto ac = fx.client.asCompleted(fs);
        std::vector<std::int64_t> order;
        while (auto f = ac.next(10s)) {
            order.push_back(f->result().toInt());
            std::lock_guard lock(fx.orderMutex);
            fx.nextToFinish = order.back() + 1;
            fx.orderCv.notify_all();
        }
        QCOMPARE(order, (std::vector<std::int64_t>{0, 1, 2, 3}));
        QCOMPARE(ac.remaining(), std::size_t(0));
    }

    void test_independentTasksOverlapOnNWorkers_data()
    {
        QTest::addColumn<int>("workers");
        for (int w : {2, 4, 8})
            QTest::addRow("%d", w) << w;
    }
    void test_independentTasksOverlapOnNWorkers()
    {
        QFETCH(int, workers);
        Fixture fx(workers, 1);
        std::vector<std::vector<Value>> args;
        for (int i = 0; i < workers; ++i)
            args.push_back({i, workers});
        auto fs = fx.client.mapArgs("t.rendezvous", args);
        // Each task returns true only if all `workers` tasks were running at once.
        for (const Value &v : fx.client.gather(fs, Errors::Raise, 30s))
            QVERIFY(v.toBool());
    }

    void test_waitModes()
    {
        Fixture fx(2, 1);
        Future slow = fx.client.submit("t.gated", {1});
        Future quick = fx.client.submit("t.inc", {1});
        auto first = fx.client.wait({slow, quick}, ReturnWhen::FirstCompleted, 10s);
        QCOMPARE(first.done.size(), std::size_t(1));
        QVERIFY(first.done[0] == quick);
        Future bad = fx.client.submit("t.fail", {"x"});
        auto firstErr = fx.client.wait({slow, bad}, ReturnWhen::FirstException, 10s);
        QCOMPARE(firstErr.done.size(), std::size_t(1));
        QVERIFY(firstErr.done[0] == bad);
        auto timedOut = fx.client.wait({slow}, ReturnWhen::AllCompleted, 50ms);
        QCOMPARE(timedOut.notDone.size(), std::size_t(1));
        QVERIFY_THROWS_EXCEPTION(TimeoutError, slow.result(10ms));
        fx.gate.open();
        QCOMPARE(slow.result(10s).toInt(), 1);
        // gather with skip
        auto values = fx.client.gather({quick, bad, slow}, Errors::Skip);
        QCOMPARE(values.size(), std::size_t(2));
        QVERIFY_THROWS_EXCEPTION(TaskFailed, fx.client.gather({quick, bad}));
    }

    void test_scatterAndCompute()
    {
        Fixture fx;
        Future data = fx.client.scatter(Value::list({1, 2, 3}));
        QCOMPARE(data.status(), FutureStatus::Finished);
        QCOMPARE(fx.client.submit("t.sum", {data}).result(10s).toInt(), 6);
        QCOMPARE(fx.client.scatter(Value::list({1, 2, 3})).key(), data.key());

        std::string error;
        auto graph = TaskGraph::fromJson(
            R"({"tasks": {"x": {"function": "t.inc", "args": [1]},
                          "y": {"function": "t.inc", "args": [2]},
                          "z": {"function": "t.add", "args": [{"$ref": "x"}, {"$ref": "y"}]}},
                "outputs": ["z"]})",
            &error);
        QVERIFY2(graph.has_value(), error.c_str());
        auto out = fx.client.compute(*graph);
        QCOMPARE(out.size(), std::size_t(1));
        QCOMPARE(out.at("z").result(10s).toInt(), 5);
        TaskGraph cyclic;
        cyclic.tasks["a"] = {"t.inc", {Value::ref("b")}, {}, 0};
        cyclic.tasks["b"] = {"t.inc", {Value::ref("a")}, {}, 0};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fx.client.compute(cyclic));
    }

    void test_graphKeysTokenizeKwargs()
    {
        Fixture fx;
        // Without kwargs, "name-token" of the arguments as written (the keys documented).
        TaskGraph plain;
        plain.tasks["x"] = {"t.inc", {Value(1)}, {}, 0};
        plain.tasks["z"] = {"t.add", {Value::ref("x"), Value(2)}, {}, 0};
        auto out = fx.client.compute(plain);
        const std::string x = "x-" + tokenize("t.inc", {Value(1)});
        QCOMPARE(out.at("x").key(), x);
        QCOMPARE(out.at("z").key(), "z-" + tokenize("t.add", {Value::ref(x), Value(2)}));
        QCOMPARE(out.at("z").result(10s).toInt(), 4);
        // With kwargs, of the bound arguments as submit's: other kwargs, another key.
        std::map<std::int64_t, Future> byB;
        for (std::int64_t b : {2, 3}) {
            TaskGraph g;
            g.tasks["a"] = {"t.add", {Value(1)}, {{"b", Value(b)}}, 0};
            byB[b] = fx.client.compute(g).at("a");
            QCOMPARE(byB[b].key(), "a-" + tokenize("t.add", {Value(1), Value(b)}));
        }
        QVERIFY(byB[2].key() != byB[3].key());
        QCOMPARE(byB[2].result(10s).toInt(), 3);
        QCOMPARE(byB[3].result(10s).toInt(), 4);
        // A reference given by name.
        TaskGraph named;
        named.tasks["x"] = {"t.inc", {Value(1)}, {}, 0};
        named.tasks["s"] = {"t.add", {}, {{"a", Value(10)}, {"b", Value::ref("x")}}, 0};
        const Future s = fx.client.compute(named).at("s");
        QCOMPARE(s.key(), "s-" + tokenize("t.add", {Value(10), Value::ref(x)}));
        QCOMPARE(s.result(10s).toInt(), 12);
    }

    void test_priorityThenFifo()
    {
        Fixture fx(1, 1);
        Future blocker = fx.client.submit("t.gated", {0});
        QVERIFY(fx.started.waitFor(1));
        std::vector<std::int64_t> order;
        std::mutex m;
        auto record = [&](const Future &f) {
            std::lock_guard lock(m);
            order.push_back(f.result().toInt());
        };
        SubmitOptions low, high;
        high.priority = 10;
        std::vector<Future> fs;
        fs.push_back(fx.client.submit("t.inc", {10}, low));
        fs.push_back(fx.client.submit("t.inc", {20}, low));
        fs.push_back(fx.client.submit("t.inc", {30}, high));
        for (auto &f : fs)
            f.addDoneCallback(record);
        // All three are queued behind the blocker (the inbox is FIFO) when the gate opens.
        fx.gate.open();
        fx.client.gather(fs);
        fx.client.taskCount(); // a query after the completions: their callbacks have run
        std::lock_guard lock(m);
        QCOMPARE(order, (std::vector<std::int64_t>{31, 11, 21}));
    }

    void test_eventsArriveInBatches()
    {
        Fixture fx;
        std::mutex m;
        std::size_t batches = 0, transitions = 0, added = 0, finishedExec = 0;
        auto sub = fx.client.subscribe([&](const EventBatch &batch) {
            std::lock_guard lock(m);
            ++batches;
            for (const Event &e : batch) {
                transitions += e.kind == EventKind::Transition;
                added += e.kind == EventKind::TaskAdded;
                finishedExec += e.kind == EventKind::ExecutionFinished;
            }
        });
        std::vector<Value> inputs;
        for (int i = 0; i < 2000; ++i)
            inputs.push_back(i);
        auto fs = fx.client.map("t.inc", inputs);
        fx.client.gather(fs);
        fx.client.taskCount(); // a query after the last completion: its events are flushed
        std::lock_guard lock(m);
        QCOMPARE(added, std::size_t(2000));
        QCOMPARE(finishedExec, std::size_t(2000));
        QCOMPARE(transitions, std::size_t(2000 * 4));
        QVERIFY2(batches < 1000, qPrintable(QString::number(batches)));
    }

    void test_sharedBatchesAreBoundedAndKeptIntact()
    {
        Fixture fx;
        std::mutex m;
        std::vector<EventBatchPtr> kept;
        auto sub = fx.client.subscribeShared([&](const EventBatchPtr &batch) {
            std::lock_guard lock(m);
            kept.push_back(batch);
        });
        const int n = 5000;
        std::vector<Value> inputs;
        for (int i = 0; i < n; ++i)
            inputs.push_back(i);
        auto fs = fx.client.map("t.inc", inputs);
        fx.client.gather(fs);
        fx.client.deliverEvents();
        std::lock_guard lock(m);
        std::size_t largest = 0, inMemory = 0;
        std::vector<std::string> keys;
        for (const EventBatchPtr &batch : kept) {
            largest = std::max(largest, batch->size());
            for (const Event &e : *batch) {
                if (e.kind == EventKind::TaskAdded)
                    keys.push_back(e.key());
                inMemory += e.kind == EventKind::Transition && e.to == TaskState::Memory;
            }
        }
        // The submission alone makes 3 events per task in one scheduler round: it arrives
        // split into bounded batches, and batches held by a subscriber are never reused.
        QVERIFY2(largest < std::size_t(n), qPrintable(QString::number(largest)));
        QCOMPARE(inMemory, std::size_t(n));
        QCOMPARE(keys.size(), std::size_t(n));
        for (int i = 0; i < n; ++i)
            QCOMPARE(keys[std::size_t(i)], fs[std::size_t(i)].key());
    }

    void test_unsubscribeWaitsForARunningCallback()
    {
        // Once a Subscription is reset its callback is not running and is never called
        // again: what the callback captured may be destroyed right after (tests and the GUI
        // declare such state after the client).
        Fixture fx;
        std::mutex m;
        std::condition_variable cv;
        bool entered = false, leave = false, resetReturned = false, resetSeenInside = false;
        int calls = 0;
        Subscription sub = fx.client.subscribe([&](const EventBatch &) {
            std::unique_lock lock(m);
            ++calls;
            if (entered)
                return;
            entered = true;
            cv.notify_all();
            cv.wait(lock, [&] { return leave; });
            resetSeenInside = resetReturned;
        });
        Future f = fx.client.submit("t.inc", {1});
        {
            std::unique_lock lock(m);
            QVERIFY(cv.wait_for(lock, 10s, [&] { return entered; }));
        }
        std::thread resetter([&] {
            sub.reset();
            std::lock_guard lock(m);
            resetReturned = true;
            cv.notify_all();
        });
        {
            // reset() must not return while the callback runs: it does not within this
            // bound (on an engine that does not wait it returns at once).
            std::unique_lock lock(m);
            QVERIFY(!cv.wait_for(lock, 300ms, [&] { return resetReturned; }));
            leave = true;
            cv.notify_all();
        }
        resetter.join();
        QVERIFY(resetReturned);
        QVERIFY(!resetSeenInside);
        const int before = calls;
        QCOMPARE(f.result(10s).toInt(), 2);
        QCOMPARE(fx.client.submit("t.inc", {2}).result(10s).toInt(), 3);
        fx.client.deliverEvents();
        std::lock_guard lock(m);
        QCOMPARE(calls, before);
    }

    void test_eventMaskLimitsWhatIsMade()
    {
        // Only the recorder's kinds wanted: no ExecutionStarted and no transitions to
        // forgotten are made. Once another subscriber wants everything, both subscribers
        // receive everything.
        const EventMask wanted = eventBit(EventKind::TaskAdded) | eventBit(EventKind::Transition)
                                 | eventBit(EventKind::ExecutionFinished);
        Fixture fx;
        std::mutex m;
        std::map<std::string, int> seen; // kind (and target state) -> count
        const auto count = [&](const EventBatch &batch) {
            std::lock_guard lock(m);
            for (const Event &e : batch) {
                std::string name = std::to_string(int(e.kind));
                if (e.kind == EventKind::Transition)
                    name += std::string(">") + toString(e.to);
                ++seen[name];
            }
        };
        const std::string started = std::to_string(int(EventKind::ExecutionStarted));
        const std::string forgotten = std::to_string(int(EventKind::Transition)) + ">forgotten";
        const std::string memory = std::to_string(int(EventKind::Transition)) + ">memory";
        // Maps the inputs, lets the futures go and waits until every event is delivered.
        const auto runAndForget = [&](std::vector<Value> inputs) {
            std::vector<Future> fs = fx.client.map("t.inc", std::move(inputs));
            fx.client.gather(fs);
            fs.clear();
            QVERIFY(fx.client.waitUntilIdle(10s));
            fx.client.deliverEvents();
        };
        {
            auto sub = fx.client.subscribe(count, wanted);
            runAndForget({1, 2, 3});
            std::lock_guard lock(m);
            QCOMPARE(seen[memory], 3);
            QCOMPARE(seen[started], 0);
            QCOMPARE(seen[forgotten], 0);
            seen.clear();
        }
        auto sub = fx.client.subscribe(count, wanted);
        auto everything = fx.client.subscribe([](const EventBatch &) {});
        runAndForget({4, 5});
        std::lock_guard lock(m);
        QCOMPARE(seen[memory], 2);
        QCOMPARE(seen[started], 2);
        QCOMPARE(seen[forgotten], 2);
    }

    void test_taskAddedDetailIsSharedAndCopiedOnWrite()
    {
        // The TaskAdded detail is shared (with the engine's record and between copies of
        // the event); writing to one copy's detail leaves the others as they were.
        Fixture fx;
        EventLog log(fx.client);
        Future a = fx.client.submit("t.inc", {1});
        Future b = fx.client.submit("t.add", {Value(a), 2});
        QCOMPARE(b.result(10s).toInt(), 4);
        fx.client.deliverEvents();
        std::vector<Event> added = log.events();
        std::erase_if(added, [](const Event &e) { return e.kind != EventKind::TaskAdded; });
        QCOMPARE(added.size(), std::size_t(2));
        QCOMPARE(added[0].key(), a.key());
        QCOMPARE(added[0].function(), std::string("t.inc"));
        QCOMPARE(added[1].key(), b.key());
        QCOMPARE(added[1].deps(), std::vector<std::uint64_t>{a.id()});
        Event copy = added[1];
        QVERIFY(copy.sharedDetail() == added[1].sharedDetail());
        copy.detail().key = "changed";
        QCOMPARE(copy.key(), std::string("changed"));
        QCOMPARE(added[1].key(), b.key());
        QCOMPARE(b.key(), fx.client.findFuture(b.key()).key()); // the engine's is untouched
        Event plain;
        QVERIFY(plain.key().empty() && plain.deps().empty() && !plain.sharedDetail());
    }

    void test_tasksAddedListsASubmitInOneEvent()
    {
        // A subscriber that asks for TasksAdded gets one event per submit (its ids, keys,
        // deps, function and group) before those tasks' first transitions, and no TaskAdded
        // is made while nobody asks for it.
        Fixture fx;
        EventLog log(fx.client, eventBit(EventKind::TasksAdded) | eventBit(EventKind::Transition));
        std::vector<Future> fs = fx.client.map("t.inc", {1, 2, 3, 4, 5});
        Future sum = fx.client.submit("t.add", {Value(fs[0]), Value(fs[1])});
        Future data = fx.client.scatter(Value(7));
        QCOMPARE(sum.result(10s).toInt(), 5);
        fx.client.gather(fs);
        fx.client.deliverEvents();
        const std::vector<Event> events = log.events();
        std::vector<const Event *> added;
        std::map<std::uint64_t, std::size_t> firstTransition; // task -> index in `events`
        for (std::size_t i = 0; i < events.size(); ++i) {
            const Event &e = events[i];
            QVERIFY(e.kind != EventKind::TaskAdded);
            if (e.kind == EventKind::TasksAdded)
                added.push_back(&e);
            else
                firstTransition.try_emplace(e.task, i);
            QCOMPARE(e.tasks() != nullptr, e.kind == EventKind::TasksAdded);
        }
        QCOMPARE(added.size(), std::size_t(3));
        const TaskList &mapped = *added[0]->tasks();
        QCOMPARE(mapped.size(), fs.size());
        QCOMPARE(added[0]->function(), std::string("t.inc"));
        QVERIFY(!added[0]->group().empty());
        QVERIFY(added[0]->timeUs > 0);
        for (std::size_t i = 0; i < fs.size(); ++i) {
            QCOMPARE(mapped.id(i), fs[i].id());
            QCOMPARE(std::string(mapped.key(i)), fs[i].key());
            QVERIFY(mapped.deps(i).empty());
            QVERIFY(firstTransition.at(fs[i].id()) > std::size_t(added[0] - events.data()));
        }
        const TaskList &summed = *added[1]->tasks();
        QCOMPARE(summed.size(), std::size_t(1));
        QCOMPARE(summed.id(0), sum.id());
        QCOMPARE(std::string(summed.key(0)), sum.key());
        QCOMPARE(added[1]->function(), std::string("t.add"));
        const std::span<const std::uint64_t> deps = summed.deps(0);
        QCOMPARE(std::vector<std::uint64_t>(deps.begin(), deps.end()),
                 (std::vector<std::uint64_t>{fs[0].id(), fs[1].id()}));
        QCOMPARE(added[2]->tasks()->size(), std::size_t(1));
        QCOMPARE(std::string(added[2]->tasks()->key(0)), data.key());
        QCOMPARE(added[2]->function(), std::string("scatter"));
    }

    void test_deliverEventsHandsOverWhatWasSeen()
    {
        // A waiter may see a future finish before the scheduler hands that round's events
        // to subscribers; deliverEvents() returns once they have them.
        for (int round = 0; round < 30; ++round) {
            Fixture fx;
            std::atomic<int> finished{0};
            auto sub = fx.client.subscribe([&](const EventBatch &batch) {
                for (const Event &e : batch)
                    finished += e.kind == EventKind::Transition && e.to == TaskState::Memory;
            });
            Future f = fx.client.submit("t.inc", {round});
            QCOMPARE(f.result(10s).toInt(), round + 1);
            fx.client.deliverEvents();
            QCOMPARE(finished.load(), 1);
        }
    }

    void test_reductionOverManyFuturesWithRepeats()
    {
        // One argument per mapped task, some futures twice: dependencies are linked once
        // each (a repeat counted twice would never become ready) and every reference is
        // resolved, past the few that are checked by scanning.
        Fixture fx;
        const int n = 3000;
        std::vector<Value> inputs;
        for (int i = 0; i < n; ++i)
            inputs.push_back(i);
        auto fs = fx.client.map("t.inc", inputs);
        Value::List refs;
        std::int64_t expected = 0;
        for (int i = 0; i < n; ++i) {
            refs.emplace_back(Value(fs[std::size_t(i)]));
            expected += i + 1;
        }
        for (int i = 0; i < n; i += 7) {
            refs.emplace_back(Value(fs[std::size_t(i)]));
            expected += i + 1;
        }
        Future total = fx.client.submit("t.sum", {Value(std::move(refs))});
        QCOMPARE(total.result(30s).toInt(), expected);
    }

    void test_taskLogsAreKept()
    {
        Fixture fx;
        Future f = fx.client.submit("t.logs", {3});
        QCOMPARE(f.result(10s).toInt(), 3);
        auto lines = fx.client.logs(f);
        QCOMPARE(lines, (std::vector<std::string>{"line 0", "line 1", "line 2"}));
    }

    void test_detailsOfManyFuturesMatchOneByOne()
    {
        Fixture fx;
        // More than one slice of the batched read (4096), and an unlogged task in between.
        std::vector<Value> inputs;
        for (int i = 0; i < 5000; ++i)
            inputs.push_back(i % 4);
        std::vector<Future> fs = fx.client.map("t.logs", inputs);
        fs.push_back(fx.client.submit("t.inc", {1}));
        fx.client.gather(fs, Errors::Raise, 30s);

        const std::vector<TaskDetails> all = fx.client.details(fs);
        QCOMPARE(all.size(), fs.size());
        for (std::size_t i : {std::size_t(0), std::size_t(3), std::size_t(4097), fs.size() - 1}) {
            QCOMPARE(all[i].logs, fx.client.logs(fs[i]));
            QCOMPARE(all[i].story.size(), fx.client.story(fs[i]).size());
            QCOMPARE(all[i].story.back().to, TaskState::Memory);
            QCOMPARE(all[i].attemptUsage.size(), fx.client.attemptUsage(fs[i]).size());
        }
        QCOMPARE(all[3].logs, (std::vector<std::string>{"line 0", "line 1", "line 2"}));
        QCOMPARE(all[4097].logs.size(), std::size_t(4097 % 4));
        QVERIFY(all.back().logs.empty());

        // Only the parts asked for are read.
        const std::vector<TaskDetails> logsOnly = fx.client.details(fs, TaskDetails::Logs);
        QCOMPARE(logsOnly[3].logs, all[3].logs);
        QVERIFY(logsOnly[3].story.empty());
        QVERIFY(logsOnly[3].attemptUsage.empty());
    }

    void test_scaleUpAndDownWhileRunning()
    {
        Fixture fx(1, 1);
        fx.client.scale(3);
        QTRY_COMPARE_WITH_TIMEOUT(fx.client.workers().size(), std::size_t(3), 10000);
        std::vector<Value> inputs;
        for (int i = 0; i < 3000; ++i)
            inputs.push_back(i);
        auto fs = fx.client.map("t.inc", inputs);
        fx.client.scale(1);
        auto values = fx.client.gather(fs, Errors::Raise, 30s);
        for (int i = 0; i < 3000; ++i)
            QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
        QTRY_COMPARE_WITH_TIMEOUT(fx.client.workers().size(), std::size_t(1), 10000);
    }

    void test_closeCancelsPending()
    {
        auto fx = std::make_unique<Fixture>(1, 1);
        Future blocked = fx->client.submit("t.gated", {1});
        Future after = fx->client.submit("t.inc", {blocked});
        QVERIFY(fx->started.waitFor(1));
        fx->client.close();
        QCOMPARE(after.status(), FutureStatus::Cancelled);
        QVERIFY_THROWS_EXCEPTION(CancelledError, after.result(1s));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, fx->client.submit("t.inc", {1}));
    }
};

QTEST_GUILESS_MAIN(TestEngine)
#include "tst_engine.moc"
