// Steering a running cluster through the public Client API: pause holds new starts and
// resume drains, "pause now" re-queues a running task without a failure, breakpoints hold
// exactly the matching tasks (by group, function, key, from an attempt on), step releases one,
// a held task's arguments are resolved and can be edited, priorities changed after submit
// set the order of starts (thread and process workers), kill now, and the events of each.
// Gates and counters order everything; nothing sleeps.
#include "clusterfixtures.h"
#include "gates.h"
#include "startorder.h"
#include "taskbench/client.h"

#include <QtTest>

#include <mutex>

using namespace taskbench;
using namespace std::chrono_literals;
using testsupport::Barrier;
using testsupport::Gate;
using testsupport::impure;

namespace {

struct Fixture
{
    explicit Fixture(int workers = 1)
        : client([&] {
            ClusterOptions o;
            o.workers = workers;
            return o;
        }())
    {
        auto &f = client.functions();
        f.addFunction("t.record",
                      [this](std::int64_t x) {
                          std::lock_guard lock(mutex);
                          order.push_back(x);
                          return x;
                      },
                      {"x"});
        f.addFunction("t.inc", [](std::int64_t x) { return x + 1; }, {"x"});
        f.addFunction("t.add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"});
        f.addFunction("t.gated", testsupport::gatedIdentity(gate, started), {"x"});
        f.addFunction("t.fail_first",
                      [](std::int64_t x, sdk::TaskContext &ctx) {
                          if (ctx.attempt() < 2)
                              throw sdk::TaskException("ValueError", "first attempt fails");
                          return x;
                      },
                      {"x"});
    }
    std::vector<std::int64_t> recorded()
    {
        std::lock_guard lock(mutex);
        return order;
    }

    Client client;
    std::mutex mutex;
    std::vector<std::int64_t> order;
    Gate gate;
    Barrier started;
};

std::vector<Value> ints(std::int64_t from, std::int64_t to)
{
    std::vector<Value> out;
    for (std::int64_t i = from; i < to; ++i)
        out.emplace_back(i);
    return out;
}

bool allStatus(const std::vector<Future> &fs, FutureStatus s)
{
    return std::all_of(fs.begin(), fs.end(), [&](const Future &f) { return f.status() == s; });
}

bool storyHas(Client &client, const Future &f, TaskState state, std::string_view note = {})
{
    for (const Transition &t : client.story(f))
        if (t.to == state && (note.empty() || std::string_view(t.note) == note))
            return true;
    return false;
}

} // namespace

class TestSteering : public QObject
{
    Q_OBJECT

private slots:
    void test_pauseHoldsNewStartsAndResumeDrains()
    {
        Fixture fx;
        Future first = fx.client.submit("t.gated", {Value(0)}, impure());
        QVERIFY(fx.started.waitFor(1));
        auto rest = fx.client.map("t.record", ints(1, 6), impure());
        fx.client.pause();
        QVERIFY(fx.client.isPaused());
        fx.gate.open();
        QCOMPARE(first.result(20s), Value(0)); // the running task finishes
        fx.client.taskCount();                 // a scheduler round after its completion
        QVERIFY(fx.recorded().empty());        // and nothing new started
        QVERIFY(allStatus(rest, FutureStatus::Pending));
        fx.client.resume();
        QVERIFY(!fx.client.isPaused());
        QCOMPARE(fx.client.gather(rest, Errors::Raise, 20s).size(), std::size_t(5));
        QCOMPARE(fx.recorded().size(), std::size_t(5));
    }

    void test_pauseNowRequeuesRunningTaskWithoutFailure()
    {
        Fixture fx;
        SubmitOptions o = impure();
        o.retries = 0;
        Future f = fx.client.submit("t.gated", {Value(7)}, o);
        QVERIFY(fx.started.waitFor(1));
        fx.client.pause(PauseMode::Now);
        // The gate sees the cancel request and the attempt ends; the task is queued again.
        QTRY_VERIFY_WITH_TIMEOUT(
            storyHas(fx.client, f, TaskState::Queued, "paused now: stopped, queued again"), 20000);
        QCOMPARE(f.status(), FutureStatus::Pending);
        QVERIFY(!f.error());
        fx.gate.open();
        fx.client.resume();
        QCOMPARE(f.result(20s), Value(7));
        QVERIFY(!storyHas(fx.client, f, TaskState::Erred));
        QCOMPARE(f.attempts(), 2);
    }

    void test_breakpointOnGroupHoldsExactlyThoseAndStepReleasesOne()
    {
        Fixture fx(2);
        Breakpoint bp;
        bp.match = Breakpoint::Match::Group;
        bp.pattern = "held-map";
        const int id = fx.client.addBreakpoint(bp);
        QVERIFY(id > 0);
        SubmitOptions held = impure();
        held.group = "held-map";
        auto a = fx.client.map("t.inc", ints(0, 5), held);
        auto b = fx.client.map("t.inc", ints(10, 15), impure());
        QCOMPARE(fx.client.gather(b, Errors::Raise, 20s).size(), std::size_t(5));
        QTRY_VERIFY_WITH_TIMEOUT(allStatus(a, FutureStatus::Held), 20000);
        const auto heldNow = fx.client.heldTasks();
        QCOMPARE(heldNow.size(), std::size_t(5));
        for (std::size_t i = 0; i < a.size(); ++i)
            QCOMPARE(heldNow[i].key(), a[i].key()); // in the order they were held
        Future stepped = fx.client.step();
        QCOMPARE(stepped.key(), a[0].key());
        QCOMPARE(stepped.result(20s), Value(1));
        QCOMPARE(fx.client.heldTasks().size(), std::size_t(4));
        for (std::size_t i = 1; i < a.size(); ++i)
            QCOMPARE(a[i].status(), FutureStatus::Held);
        QVERIFY(fx.client.removeBreakpoint(id));
        QVERIFY(!fx.client.removeBreakpoint(id));
        QCOMPARE(fx.client.releaseAll(), std::size_t(4));
        QCOMPARE(fx.client.gather(a, Errors::Raise, 20s),
                 (std::vector<Value>{Value(1), Value(2), Value(3), Value(4), Value(5)}));
        QVERIFY(!fx.client.step().valid());
    }

    void test_heldTaskShowsResolvedInputsAndTakesEditedArguments()
    {
        Fixture fx(2);
        Breakpoint bp;
        bp.pattern = "t.add";
        fx.client.addBreakpoint(bp);
        Future x = fx.client.submit("t.inc", {Value(1)});
        Future y = fx.client.submit("t.inc", {Value(2)});
        Future z = fx.client.submit("t.add", {Value(x), Value(y)});
        QTRY_VERIFY_WITH_TIMEOUT(z.status() == FutureStatus::Held, 20000);
        QCOMPARE(fx.client.resolvedArguments(z), (std::vector<Value>{Value(2), Value(3)}));
        QCOMPARE(fx.client.arguments(z), (std::vector<Value>{Value(x), Value(y)}));
        // Edited: a literal in place of one input; references only to its own inputs.
        fx.client.setArguments(z, {Value(x), Value(10)});
        QCOMPARE(fx.client.arguments(z), (std::vector<Value>{Value(x), Value(10)}));
        Future other = fx.client.submit("t.inc", {Value(100)});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fx.client.setArguments(z, {Value(other), Value(1)}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fx.client.setArguments(z, {Value("text"), Value(1)}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fx.client.setArguments(x, {Value(5)})); // not held
        QCOMPARE(fx.client.release({z}), std::size_t(1));
        QCOMPARE(z.result(20s), Value(12));
    }

    void test_breakpointFromAttemptCatchesTheRetryOnly()
    {
        Fixture fx;
        Breakpoint bp;
        bp.pattern = "t.fail_first";
        bp.minAttempt = 2;
        fx.client.addBreakpoint(bp);
        SubmitOptions o = impure();
        o.retries = 1;
        Future f = fx.client.submit("t.fail_first", {Value(3)}, o);
        QTRY_VERIFY_WITH_TIMEOUT(f.status() == FutureStatus::Held, 20000);
        QCOMPARE(f.attempts(), 1); // the first attempt ran and failed, the retry is held
        QVERIFY(fx.client.release({f}) == 1);
        QCOMPARE(f.result(20s), Value(3));
        QCOMPARE(f.attempts(), 2);
    }

    void test_breakpointByKeyHoldsQueuedTaskAtOnce()
    {
        Fixture fx;
        fx.client.pause();
        auto fs = fx.client.map("t.record", ints(0, 3), impure());
        QTRY_VERIFY_WITH_TIMEOUT(allStatus(fs, FutureStatus::Pending), 20000);
        fx.client.taskCount(); // registered and queued
        Breakpoint bp;
        bp.match = Breakpoint::Match::Key;
        bp.pattern = fs[1].key();
        fx.client.addBreakpoint(bp);
        QCOMPARE(fs[1].status(), FutureStatus::Held);
        fx.client.resume();
        QCOMPARE(fs[0].result(20s), Value(0));
        QCOMPARE(fs[2].result(20s), Value(2));
        QCOMPARE(fs[1].status(), FutureStatus::Held);
        fx.client.cancel({fs[1]}); // a held task can be cancelled like any other
        QCOMPARE(fs[1].status(), FutureStatus::Cancelled);
    }

    void test_reprioritisedTasksStartInTheNewOrder()
    {
        Fixture fx; // one worker, one thread: starts are sequential
        fx.client.pause();
        auto fs = fx.client.map("t.record", ints(0, 10), impure());
        fx.client.setPriority({fs.begin() + 5, fs.end()}, 10);
        const int next = fx.client.runNext(fs[2]);
        QVERIFY(next > 10);
        fx.client.resume();
        QCOMPARE(fx.client.gather(fs, Errors::Raise, 20s).size(), std::size_t(10));
        QCOMPARE(fx.recorded(), (std::vector<std::int64_t>{2, 5, 6, 7, 8, 9, 0, 1, 3, 4}));
    }

    void test_priorityOrderOnProcessWorkers()
    {
        Client client(testsupport::processCluster(1), testsupport::loadBundledPlugins());
        testsupport::StartOrder starts(client);
        client.pause();
        auto fs = client.map("bench.inc", ints(0, 6), impure());
        client.setPriority({fs[4], fs[5]}, 5);
        client.resume();
        QCOMPARE(client.gather(fs, Errors::Raise, 30s).size(), std::size_t(6));
        client.deliverEvents();
        const std::vector<std::uint64_t> started = starts.ids();
        QCOMPARE(started.size(), std::size_t(6));
        QCOMPARE(started[0], fs[4].id());
        QCOMPARE(started[1], fs[5].id());
    }

    void test_killNowOnProcessWorkerAndRefusedOnThreads()
    {
        Client client(testsupport::processCluster(1), testsupport::loadBundledPlugins());
        Future hung = client.submit("faults.hang", {Value(false)}, impure());
        QTRY_VERIFY_WITH_TIMEOUT(hung.status() == FutureStatus::Processing, 30000);
        std::string why;
        QVERIFY2(client.killNow(hung, &why), why.c_str());
        QCOMPARE(hung.status(), FutureStatus::Cancelled);
        // The worker comes back and runs the next task.
        QCOMPARE(client.submit("bench.inc", {Value(1)}, impure()).result(30s), Value(2));
        QVERIFY(!client.killNow(hung, &why));
        QVERIFY(why.find("not running") != std::string::npos);

        Fixture fx;
        Future f = fx.client.submit("t.gated", {Value(1)}, impure());
        QVERIFY(fx.started.waitFor(1));
        QVERIFY(!fx.client.killNow(f, &why));
        QVERIFY(why.find("local process worker") != std::string::npos);
        fx.gate.open();
        QCOMPARE(f.result(20s), Value(1));
    }

    void test_everyChangeIsAnEvent()
    {
        Fixture fx;
        std::vector<Event> events;
        std::mutex mutex;
        Subscription sub = fx.client.subscribe(
            [&](const EventBatch &batch) {
                std::lock_guard lock(mutex);
                events.insert(events.end(), batch.begin(), batch.end());
            },
            eventBit(EventKind::Steering) | eventBit(EventKind::PriorityChanged)
                | eventBit(EventKind::Transition));
        fx.client.pause();
        Future f = fx.client.submit("t.record", {Value(1)}, impure());
        fx.client.setPriority({f}, 3);
        Breakpoint bp;
        bp.pattern = "t.record";
        const int id = fx.client.addBreakpoint(bp);
        fx.client.removeBreakpoint(id);
        QCOMPARE(fx.client.releaseAll(), std::size_t(1)); // a removed breakpoint keeps its hold
        fx.client.resume();
        QCOMPARE(f.result(20s), Value(1));
        fx.client.deliverEvents();
        std::lock_guard lock(mutex);
        QStringList steering;
        bool priority = false;
        bool held = false;
        for (const Event &e : events) {
            if (e.kind == EventKind::Steering)
                steering << QString::fromStdString(e.text());
            if (e.kind == EventKind::PriorityChanged && e.task == f.id() && e.value == 3)
                priority = true;
            if (e.kind == EventKind::Transition && e.to == TaskState::Held)
                held = true;
        }
        QCOMPARE(steering,
                 QStringList({"paused",
                              "breakpoint " + QString::number(id) + " added: function t.record",
                              "breakpoint " + QString::number(id) + " removed: function t.record",
                              "resumed"}));
        QVERIFY(priority);
        QVERIFY(held); // the queued task was held when the breakpoint came, then released
    }
};

QTEST_GUILESS_MAIN(TestSteering)
#include "tst_steering.moc"
