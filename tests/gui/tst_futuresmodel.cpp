// The futures model applying engine event batches: rows, statuses, counts, groups, removal
// of forgotten tasks, sorting and filtering through FuturesFilter (its sort prefixes agree
// with QString's case-insensitive order), and 10,000 tasks.
#include "errorsmodel.h"
#include "futuresfilter.h"
#include "futuresmodel.h"
#include "progressmodel.h"
#include "rowindex.h"
#include "sortprefix.h"

#include "eventbuilders.h"

#include <QSignalSpy>
#include <QTest>

#include <algorithm>
#include <random>

using namespace taskbench;
using namespace taskbench::gui;
using namespace testsupport;

namespace {

/// Walks a task through to memory (finished).
std::vector<Event> finish(std::uint64_t id, int worker = 0)
{
    return {transition(id, TaskState::Released, TaskState::Waiting),
            transition(id, TaskState::Waiting, TaskState::Queued),
            transition(id, TaskState::Queued, TaskState::Processing, worker, 1),
            executionFinished(id, worker, -1, 1000, 1000 + std::int64_t(id) * 10),
            transition(id, TaskState::Processing, TaskState::Memory, worker, 1)};
}

void append(std::vector<Event> &to, const std::vector<Event> &from)
{
    to.insert(to.end(), from.begin(), from.end());
}

QStringList column(const QAbstractItemModel &m, int col)
{
    QStringList out;
    for (int r = 0; r < m.rowCount(); ++r)
        out << m.index(r, col).data().toString();
    return out;
}

} // namespace

class tst_FuturesModel : public QObject
{
    Q_OBJECT
private slots:
    void test_addedRowsArePending()
    {
        FuturesModel m;
        QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
        m.applyEvents({taskAdded(1, "inc-a", "bench.inc"), taskAdded(2, "inc-b", "bench.inc")});
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(inserted.count(), 1); // one block per frame
        QCOMPARE(m.count(FutureStatus::Pending), 2);
        QCOMPARE(m.index(0, FuturesModel::Status).data().toString(), QStringLiteral("pending"));
        QCOMPARE(m.index(1, FuturesModel::Key).data().toString(), QStringLiteral("inc-b"));
        QCOMPARE(m.columnCount(), int(FuturesModel::ColumnCount));
        QCOMPARE(m.headerData(FuturesModel::Result, Qt::Horizontal, Qt::DisplayRole).toString(),
                 QStringLiteral("Result"));
    }

    void test_transitionsUpdateStatusAndCounts()
    {
        FuturesModel m;
        std::vector<Event> events{taskAdded(1, "inc-a", "bench.inc")};
        append(events, finish(1, 3));
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        m.applyEvents(events);
        QCOMPARE(m.count(FutureStatus::Finished), 1);
        QCOMPARE(m.count(FutureStatus::Pending), 0);
        const FutureRow *r = m.row(1);
        QVERIFY(r);
        QCOMPARE(r->status, FutureStatus::Finished);
        QCOMPARE(r->worker, 3);
        QCOMPARE(r->attempts, 1);
        QCOMPARE(m.index(0, FuturesModel::Worker).data().toString(), QStringLiteral("worker-3"));
        QCOMPARE(m.index(0, FuturesModel::Duration).data().toString(), QStringLiteral("10 µs"));
        QVERIFY(changed.count() <= 1);
        // A finished task asks for its result once.
        QCOMPARE(m.takeResultRequests(), std::vector<std::uint64_t>{1});
        QVERIFY(m.takeResultRequests().empty());
    }

    void test_resultsAndErrorsApplied()
    {
        FuturesModel m;
        std::vector<Event> events{taskAdded(1, "inc-a", "bench.inc"),
                                  taskAdded(2, "fail-b", "bench.fail"),
                                  taskAdded(3, "inc-c", "bench.inc", {2})};
        append(events, finish(1));
        events.push_back(transition(2, TaskState::Processing, TaskState::Erred, 0, 1));
        events.push_back(transition(3, TaskState::Waiting, TaskState::Erred));
        m.applyEvents(events);
        QCOMPARE(m.row(2)->dependents(), std::vector<std::uint64_t>{3});
        QCOMPARE(m.downstreamOf({2}), std::vector<std::uint64_t>{3});

        ResultSummary ok;
        ok.id = 1;
        ok.status = FutureStatus::Finished;
        ok.type = "int";
        ok.preview = "2";
        ResultSummary root;
        root.id = 2;
        root.status = FutureStatus::Error;
        root.error = TaskError{"RuntimeError", "boom", "fail-b", "bench.fail", false, 0, 1, {}};
        ResultSummary cascade;
        cascade.id = 3;
        cascade.status = FutureStatus::Error;
        cascade.error = TaskError{"RuntimeError", "boom", "fail-b", "bench.fail", true, 0, 1, {}};
        QSignalSpy errors(&m, &FuturesModel::errorsChanged);
        m.applyResults({ok, root, cascade});
        QCOMPARE(errors.count(), 1);
        QCOMPARE(m.index(0, FuturesModel::Result).data().toString(), QStringLiteral("2"));
        QCOMPARE(m.index(0, FuturesModel::Type).data().toString(), QStringLiteral("int"));
        QCOMPARE(m.index(1, FuturesModel::Result).data().toString(),
                 QStringLiteral("RuntimeError: boom"));

        // The errors model puts the cascade under its root cause.
        ErrorsModel em(&m);
        QCOMPARE(em.rowCount(), 1); // one error type
        const QModelIndex group = em.index(0, 0);
        QCOMPARE(em.rowCount(group), 1); // one root cause
        const QModelIndex rootIdx = em.index(0, 0, group);
        QCOMPARE(rootIdx.data(ErrorsModel::IdRole).toULongLong(), quint64(2));
        QCOMPARE(em.rowCount(rootIdx), 1);
        QCOMPARE(em.index(0, 0, rootIdx).data(ErrorsModel::KindRole).toInt(),
                 int(ErrorsModel::CascadeNode));
        QCOMPARE(em.rootCauses(), std::vector<std::uint64_t>{2});
        QCOMPARE(em.cascadeCount(), 1);
        QCOMPARE(em.allErred().size(), std::size_t(2));

        // A retry moves them on; the stale error detail is dropped.
        m.applyEvents({transition(2, TaskState::Erred, TaskState::Waiting),
                       transition(3, TaskState::Erred, TaskState::Waiting)});
        QCOMPARE(m.count(FutureStatus::Error), 0);
        QVERIFY(!m.row(2)->hasError());
        QCOMPARE(em.rowCount(), 0);
    }

    void test_staleResultIgnored()
    {
        FuturesModel m;
        std::vector<Event> events{taskAdded(1, "inc-a", "bench.inc")};
        append(events, finish(1));
        m.applyEvents(events);
        ResultSummary s;
        s.id = 1;
        s.status = FutureStatus::Error; // fetched while it was erred; it is finished now
        s.error = TaskError{"X", "y", "", "", false, 0, 1, {}};
        m.applyResults({s});
        QVERIFY(!m.row(1)->hasError());
    }

    void test_forgottenRowsRemoved()
    {
        FuturesModel m;
        std::vector<Event> events;
        for (std::uint64_t id = 1; id <= 5; ++id)
            events.push_back(taskAdded(id, "t-" + std::to_string(id), "bench.inc"));
        m.applyEvents(events);
        QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
        m.applyEvents({transition(2, TaskState::Waiting, TaskState::Forgotten),
                       transition(3, TaskState::Waiting, TaskState::Forgotten),
                       transition(5, TaskState::Waiting, TaskState::Forgotten)});
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(removed.count(), 2); // two contiguous blocks
        QCOMPARE(column(m, FuturesModel::Key), (QStringList{"t-1", "t-4"}));
        QCOMPARE(m.rowOf(4), 1);
        QVERIFY(m.rowByKey(QStringLiteral("t-4")));
        QVERIFY(!m.rowByKey(QStringLiteral("t-5")));
        QCOMPARE(m.count(FutureStatus::Pending), 2);
        QCOMPARE(m.groups().front().total, 2);
    }

    void test_groupsAndProgress()
    {
        FuturesModel m;
        ProgressModel p(&m);
        std::vector<Event> events;
        for (std::uint64_t id = 1; id <= 4; ++id)
            events.push_back(
                taskAdded(id, "inc-" + std::to_string(id), "bench.inc", {}, "inc-map-1"));
        events.push_back(taskAdded(5, "sum-x", "bench.sum"));
        append(events, finish(1));
        append(events, finish(2));
        events.push_back(transition(3, TaskState::Processing, TaskState::Erred, 0, 1));
        m.applyEvents(events);
        QCOMPARE(p.rowCount(), 2);
        const QModelIndex g = p.index(0, 0);
        QCOMPARE(g.data().toString(), QStringLiteral("inc-map-1"));
        QCOMPARE(g.data(ProgressModel::DoneRole).toInt(), 2);
        QCOMPARE(g.data(ProgressModel::ErredRole).toInt(), 1);
        QCOMPARE(g.data(ProgressModel::TotalRole).toInt(), 4);
        QCOMPARE(p.index(1, 0).data(ProgressModel::TotalRole).toInt(), 1);
        m.clear();
        QCOMPARE(p.rowCount(), 0);
    }

    void test_sortByStatusAndKey()
    {
        FuturesModel m;
        FuturesFilter f;
        f.setSourceModel(&m);
        std::vector<Event> events{taskAdded(1, "c", "bench.inc"),
                                  taskAdded(2, "a", "bench.inc"),
                                  taskAdded(3, "b", "bench.inc")};
        append(events, finish(3));
        events.push_back(transition(1, TaskState::Processing, TaskState::Erred, 0, 1));
        m.applyEvents(events);
        f.sort(FuturesModel::Key, Qt::AscendingOrder);
        QCOMPARE(column(f, FuturesModel::Key), (QStringList{"a", "b", "c"}));
        f.sort(FuturesModel::Status, Qt::AscendingOrder); // pending < finished < error
        QCOMPARE(column(f, FuturesModel::Key), (QStringList{"a", "b", "c"}));
        f.sort(FuturesModel::Status, Qt::DescendingOrder);
        QCOMPARE(column(f, FuturesModel::Key), (QStringList{"c", "b", "a"}));
        f.sort(FuturesModel::Duration, Qt::DescendingOrder);
        QCOMPARE(column(f, FuturesModel::Key).front(), QStringLiteral("b"));
        // Sorting stays correct as statuses change.
        m.applyEvents(finish(2));
        f.sort(FuturesModel::Status, Qt::AscendingOrder);
        QCOMPARE(column(f, FuturesModel::Key).back(), QStringLiteral("c"));
    }

    void test_rowIndexRunsAndStragglers()
    {
        RowIndex index;
        for (int i = 0; i < 1000; ++i) // a map: one run
            index.insert(100 + std::uint64_t(i), i);
        index.insert(5000, 1000); // a lone submit: a run of its own
        index.insert(50, 1001);   // out of order: below the last run
        index.insert(5001, 1002); // next id, but row 1001 went to 50: a new run
        index.insert(5002, 1010); // next id, a row further on: a new run again
        QCOMPARE(index.size(), std::size_t(1004));
        QCOMPARE(index.find(100), 0);
        QCOMPARE(index.find(1099), 999);
        QCOMPARE(index.find(1100), -1);
        QCOMPARE(index.find(99), -1);
        QCOMPARE(index.find(5000), 1000);
        QCOMPARE(index.find(5001), 1002);
        QCOMPARE(index.find(5002), 1010);
        QCOMPARE(index.find(50), 1001);
        QCOMPARE(index.find(51), -1);
        QVERIFY(index.contains(640));
        index.clear();
        QCOMPARE(index.find(100), -1);
        QCOMPARE(index.size(), std::size_t(0));
    }

    void test_sortPrefixesAgreeWithCaseInsensitiveOrder()
    {
        // Random texts over a small alphabet (long shared prefixes, case, a non-ASCII letter,
        // NUL and texts that end early), seeded: every decided pair must agree with QString.
        std::mt19937 rng(20261203);
        const QString alphabet = QStringLiteral("aAbB-_0Z\u00e9\u00c9");
        auto randomText = [&] {
            QString t = QStringLiteral("inc-");
            for (int n = int(rng() % 20); n > 0; --n)
                t += rng() % 50 == 0 ? QChar(0) : alphabet.at(int(rng() % alphabet.size()));
            return t;
        };
        int decided = 0;
        for (int i = 0; i < 20000; ++i) {
            const QString a = randomText(), b = randomText();
            const int byPrefix = compareSortPrefixes(textSortPrefix(a), textSortPrefix(b));
            if (byPrefix == 0)
                continue;
            ++decided;
            const int full = QString::compare(a, b, Qt::CaseInsensitive);
            QVERIFY2((byPrefix < 0) == (full < 0) && full != 0,
                     qPrintable(a + QStringLiteral(" vs ") + b));
        }
        QVERIFY(decided > 10000); // the prefixes decide most pairs
    }

    void test_sortByKeyMatchesStringOrder()
    {
        // Keys that share their first sixteen characters need the full comparison; keys added
        // while the table is sorted keep the order (appended rows get prefixes on use).
        FuturesModel m;
        FuturesFilter f;
        f.setSourceModel(&m);
        std::mt19937 rng(7);
        QStringList keys;
        std::vector<Event> events;
        for (std::uint64_t id = 1; id <= 3000; ++id) {
            const std::string key
                = (id % 3 == 0 ? "Shared-prefix-0123-" : "inc-") + std::to_string(rng() % 100000);
            keys << QString::fromStdString(key);
            events.push_back(taskAdded(id, key, "bench.inc"));
        }
        m.applyEvents(events);
        f.sort(FuturesModel::Key, Qt::AscendingOrder);
        events.clear();
        for (std::uint64_t id = 3001; id <= 3500; ++id) {
            const std::string key = "b-" + std::to_string(rng() % 1000);
            keys << QString::fromStdString(key);
            events.push_back(taskAdded(id, key, "bench.inc"));
        }
        m.applyEvents(events);
        std::stable_sort(keys.begin(), keys.end(), [](const QString &a, const QString &b) {
            return QString::compare(a, b, Qt::CaseInsensitive) < 0;
        });
        const QStringList shown = column(f, FuturesModel::Key);
        QCOMPARE(shown.size(), keys.size());
        for (int i = 0; i < keys.size(); ++i)
            QCOMPARE(shown[i].compare(keys[i], Qt::CaseInsensitive), 0);
    }

    void test_filterByStatusAndText()
    {
        FuturesModel m;
        FuturesFilter f;
        f.setSourceModel(&m);
        std::vector<Event> events{taskAdded(1, "inc-1", "bench.inc"),
                                  taskAdded(2, "add-2", "bench.add"),
                                  taskAdded(3, "inc-3", "bench.inc")};
        append(events, finish(1));
        events.push_back(transition(2, TaskState::Processing, TaskState::Erred, 0, 1));
        m.applyEvents(events);
        QCOMPARE(f.rowCount(), 3);
        f.setStatusMask(1u << unsigned(FutureStatus::Finished));
        QCOMPARE(column(f, FuturesModel::Key), QStringList{"inc-1"});
        f.setStatusMask((1u << unsigned(FutureStatus::Error))
                        | (1u << unsigned(FutureStatus::Pending)));
        QCOMPARE(column(f, FuturesModel::Key), (QStringList{"add-2", "inc-3"}));
        f.setStatusMask(FuturesFilter::allStatuses());
        f.setText(QStringLiteral("INC"));
        QCOMPARE(column(f, FuturesModel::Key), (QStringList{"inc-1", "inc-3"}));
        f.setText(QStringLiteral("bench.add"));
        QCOMPARE(column(f, FuturesModel::Key), QStringList{"add-2"});
        // Rows that start matching later appear (dynamic filter).
        f.setText(QString());
        f.setStatusMask(1u << unsigned(FutureStatus::Finished));
        m.applyEvents(finish(3));
        QCOMPARE(column(f, FuturesModel::Key), (QStringList{"inc-1", "inc-3"}));
    }

    void test_tenThousandTasks()
    {
        FuturesModel m;
        FuturesFilter f;
        f.setSourceModel(&m);
        f.setStatusMask(1u << unsigned(FutureStatus::Error));
        constexpr std::uint64_t n = 10000;
        std::vector<Event> events;
        for (std::uint64_t id = 1; id <= n; ++id)
            events.push_back(
                taskAdded(id, "inc-" + std::to_string(id), "bench.inc", {}, "inc-map"));
        m.applyEvents(events);
        // Statuses arrive over several frames, as from the engine.
        for (std::uint64_t first = 1; first <= n; first += 1000) {
            std::vector<Event> frame;
            for (std::uint64_t id = first; id < first + 1000; ++id) {
                if (id % 100 == 0)
                    frame.push_back(transition(id, TaskState::Processing, TaskState::Erred, 0, 1));
                else
                    append(frame, finish(id));
            }
            m.applyEvents(frame);
        }
        QCOMPARE(m.rowCount(), int(n));
        QCOMPARE(m.count(FutureStatus::Finished), int(n - n / 100));
        QCOMPARE(m.count(FutureStatus::Error), int(n / 100));
        QCOMPARE(m.count(FutureStatus::Pending), 0);
        QCOMPARE(f.rowCount(), int(n / 100));
        QCOMPARE(m.groups().size(), std::size_t(1));
        QCOMPARE(m.groups().front().done(), int(n - n / 100));
        QCOMPARE(m.rowOf(n), int(n) - 1);
    }
};

QTEST_MAIN(tst_FuturesModel)
#include "tst_futuresmodel.moc"
