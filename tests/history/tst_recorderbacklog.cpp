// The recorder's backlog fold (history/src/queuedevents_p.h): the same engine events folded
// in the order they came and task range by task range give the same rows, and the ranged
// fold makes rows one range at a time (what lets the recorder write and drop finished rows
// between ranges instead of holding a row for every task of a big backlog).
#include "queuedevents_p.h"
#include "recorderrows_p.h"

#include "clusterfixtures.h"
#include "taskbench/history/recorder.h"

#include <QtTest>

#include <mutex>
#include <variant>

using namespace taskbench;
using namespace taskbench::history;
using namespace std::chrono_literals;

namespace {

/// Everything of a row the database would get, as one comparable text.
std::string describe(const Row &r)
{
    std::string s = std::string(r.key()) + " state=" + std::to_string(int(r.state)) + " attempts="
                    + std::to_string(r.attempts) + " worker=" + std::to_string(r.worker)
                    + " submitted=" + std::to_string(r.submittedUs)
                    + " started=" + std::to_string(r.startedUs)
                    + " finished=" + std::to_string(r.finishedUs) + " args=" + r.argsJson
                    + " result=" + r.resultJson + " tracked=" + std::to_string(r.tracked)
                    + " options=" + (r.optionsJson ? *r.optionsJson : std::string("-"));
    if (r.failure)
        s += " error=" + r.failure->type + ":" + r.failure->message;
    r.story.forEach([&](const Step &t) {
        s += " step=" + std::to_string(int(t.from)) + ">" + std::to_string(int(t.to)) + "@"
             + std::to_string(t.timeUs) + "/" + std::to_string(t.attempt);
    });
    r.runs.forEach([&](const AttemptRecord &a) {
        s += " run=" + std::to_string(a.attempt) + "/" + std::to_string(a.worker) + "/"
             + std::to_string(a.ok);
    });
    return s;
}

/// A client on two thread workers whose recorded events are kept as the recorder takes them
/// (the engine's shared batches), with tracked futures where track() put them among them.
struct CapturedRun
{
    // Before the client: a subscriber may still be called while it closes.
    std::mutex mutex;
    std::vector<std::variant<EventBatchPtr, TrackItem>> arrived;
    Client client{twoWorkers(), testsupport::loadBundledPlugins()};
    Subscription sub = client.subscribeShared(
        [this](const EventBatchPtr &batch) {
            std::lock_guard lock(mutex);
            arrived.emplace_back(batch);
        },
        recordedEvents());

    ~CapturedRun()
    {
        client.close(); // no callback after this: the tracked futures go first
        arrived.clear();
    }
    static ClusterOptions twoWorkers()
    {
        ClusterOptions o;
        o.workers = 2;
        return o;
    }
    /// flaky_inc_det over 0..n-1 (every i % 5 == 0 fails its first attempt).
    std::vector<Future> mapFlaky(int n, const SubmitOptions &options)
    {
        std::vector<Value> inputs;
        for (int i = 0; i < n; ++i)
            inputs.emplace_back(i);
        return client.map("bench.flaky_inc_det", inputs, options);
    }
    void track(const std::vector<Future> &futures, const SubmitOptions &options)
    {
        std::lock_guard lock(mutex);
        arrived.emplace_back(TrackItem{futures, options});
    }
    /// Waits for `futures` and stops listening once their events have come.
    bool finish(const std::vector<Future> &futures)
    {
        const bool done
            = client.wait(futures, ReturnWhen::AllCompleted, 60s).done.size() == futures.size();
        client.deliverEvents();
        sub = Subscription();
        return done;
    }
    std::vector<EventBatchPtr> batches()
    {
        std::lock_guard lock(mutex);
        std::vector<EventBatchPtr> out;
        for (const auto &item : arrived)
            if (const auto *batch = std::get_if<EventBatchPtr>(&item))
                out.push_back(*batch);
        return out;
    }
};

} // namespace

class TestRecorderBacklog : public QObject
{
    Q_OBJECT

private slots:
    void test_rangedFoldGivesTheSameRows();
    void test_futuresTrackedBeforeTheirEventsAreParked();
};

void TestRecorderBacklog::test_rangedFoldGivesTheSameRows()
{
    // What the recorder would queue, later queued twice: folded in order and by ranges.
    CapturedRun run;
    Client &client = run.client;
    // Retries (every i % 5 == 0 fails once), dependencies across ranges, an error and logs.
    SubmitOptions retry = testsupport::impure();
    retry.retries = 1;
    std::vector<Future> all = run.mapFlaky(300, retry);
    run.track(all, retry);
    std::vector<Future> more;
    more.push_back(client.submit("bench.add", {Value(all[1]), Value(all[299])}));
    Value::List refs;
    for (const Future &f : all)
        refs.emplace_back(Value(f));
    more.push_back(client.submit("bench.sum", {Value(std::move(refs))}));
    more.push_back(client.submit("bench.fail", {"boom"}));
    more.push_back(client.submit("bench.log_and_progress", {3}));
    all.insert(all.end(), more.begin(), more.end());
    QVERIFY(run.finish(all));
    run.track(more, {});
    std::vector<QueueItem> inOrder, ranged;
    for (const auto &item : run.arrived) {
        if (const auto *batch = std::get_if<EventBatchPtr>(&item)) {
            inOrder.emplace_back(QueuedEvents(*batch));
            ranged.emplace_back(QueuedEvents(*batch));
        } else {
            inOrder.emplace_back(std::get<TrackItem>(item));
            ranged.emplace_back(std::get<TrackItem>(item));
        }
    }

    RecorderOptions ro;
    SessionRows a(client, ro);
    SessionRows b(client, ro);
    for (QueueItem &item : inOrder) {
        if (auto *batch = std::get_if<QueuedEvents>(&item))
            batch->applyTo(a);
        else
            a.apply(std::get<TrackItem>(item));
    }
    std::uint64_t maxId = 0;
    for (const Future &f : all)
        maxId = std::max(maxId, f.id());
    // Ranges of 16 ids: the map spans 19 of them, the add and the sum depend across them.
    constexpr std::uint64_t kIds = 16;
    int rangesFolded = 0;
    foldInRanges(ranged, b, kIds, [&] {
        // Rows are made a range at a time: none beyond the range just folded.
        const std::uint64_t end = std::uint64_t(rangesFolded + 1) * kIds;
        for (std::uint64_t id = end; id <= maxId; ++id)
            QVERIFY2(!b.rows.find(id), qPrintable(QString("row %1 before its range").arg(id)));
        ++rangesFolded;
    });
    QVERIFY(rangesFolded >= int(maxId / kIds));

    int finished = 0, failed = 0;
    for (const Future &f : all) {
        const Row *ra = a.rows.find(f.id());
        const Row *rb = b.rows.find(f.id());
        QVERIFY(ra && rb);
        QCOMPARE(describe(*rb), describe(*ra));
        QVERIFY(ra->tracked);
        finished += ra->status() == FutureStatus::Finished;
        failed += ra->status() == FutureStatus::Error;
    }
    QCOMPARE(finished, int(all.size()) - 1);
    QCOMPARE(failed, 1);
    // A retried task's story has both attempts in either fold.
    const Row *retried = b.rows.find(all[0].id());
    int runs = 0;
    retried->runs.forEach([&](const AttemptRecord &) { ++runs; });
    QCOMPARE(runs, 2);
    // Session events (logs) are folded once.
    QCOMPARE(b.logs.size(), a.logs.size());
    QVERIFY(!a.logs.empty());
}

void TestRecorderBacklog::test_futuresTrackedBeforeTheirEventsAreParked()
{
    CapturedRun run;
    Client &client = run.client;
    SubmitOptions retry = testsupport::impure();
    retry.retries = 2;
    std::vector<Future> all = run.mapFlaky(200, retry);
    all.push_back(client.submit("bench.fail", {"boom"}));
    QVERIFY(run.finish(all));
    const std::vector<EventBatchPtr> batches = run.batches();
    std::vector<Future> mapped(all.begin(), all.end() - 1);
    std::vector<Future> failing(all.end() - 1, all.end());

    // As the GUI tracks a map: its futures before any of their events.
    auto fold = [&](SessionRows &rows, bool trackFirst, bool ranged) {
        std::vector<QueueItem> items;
        if (trackFirst) {
            items.emplace_back(TrackItem{mapped, retry});
            items.emplace_back(TrackItem{failing, {}});
        }
        for (const EventBatchPtr &b : batches)
            items.emplace_back(QueuedEvents(b));
        if (!trackFirst) {
            items.emplace_back(TrackItem{mapped, retry});
            items.emplace_back(TrackItem{failing, {}});
        }
        if (ranged) {
            foldInRanges(items, rows, 32, {});
            return;
        }
        for (QueueItem &item : items) {
            if (auto *batch = std::get_if<QueuedEvents>(&item))
                batch->applyTo(rows);
            else
                rows.apply(std::get<TrackItem>(item));
        }
    };
    RecorderOptions ro;
    SessionRows after(client, ro), before(client, ro), beforeRanged(client, ro);
    fold(after, false, false);
    fold(before, true, false);
    fold(beforeRanged, true, true);
    QVERIFY(after.parked.empty());
    QVERIFY(before.parked.empty());
    QVERIFY(beforeRanged.parked.empty());
    for (const Future &f : all) {
        const Row *r = after.rows.find(f.id());
        QVERIFY(r && r->tracked);
        QCOMPARE(describe(*before.rows.find(f.id())), describe(*r));
        QCOMPARE(describe(*beforeRanged.rows.find(f.id())), describe(*r));
    }

    // Tracked alone: parked, no row, until the first event of the task.
    SessionRows alone(client, ro);
    TrackItem track{mapped, retry};
    alone.apply(track);
    QCOMPARE(alone.rows.live(), std::size_t(0));
    QCOMPARE(alone.parked.size(), mapped.size());
    // With no event to come (a flush: every event has been delivered), the future tells.
    alone.settleUnseen(true);
    QVERIFY(alone.parked.empty());
    QCOMPARE(alone.rows.live(), mapped.size());
    const Row *r = alone.rows.find(mapped[3].id());
    QVERIFY(r);
    QCOMPARE(r->status(), FutureStatus::Finished);
    QCOMPARE(r->resultJson, std::string("4"));
}

QTEST_GUILESS_MAIN(TestRecorderBacklog)
#include "tst_recorderbacklog.moc"
