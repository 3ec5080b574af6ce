// Steering from the workbench, end to end with a real cluster (2 thread workers) and the
// bench plugin: Pause cluster (the toolbar toggle) holds a map, Raise priority on the last
// five selected rows, resume, and those five start first; Break on function (from a selected
// row) holds the next task of that function as "held" with its argument resolved, Release
// held lets it finish; Pause now checks the toggle. Waits with QTRY_* (no sleeps).
#include "enginebridge.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "mainwindow.h"
#include "mapform.h"

#include "taskbench/client.h"

#include <QAction>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QTest>

#include <mutex>
#include <set>

using namespace taskbench;
using namespace taskbench::gui;

namespace {
constexpr int kTimeoutMs = 30000;
}

class tst_GuiSteering : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<MainWindow> m_window;
    MainWindow *window() { return m_window.get(); }
    void trigger(const char *name)
    {
        QAction *a = window()->action(QString::fromLatin1(name));
        QVERIFY2(a, name);
        a->trigger();
    }
    void
    mapThroughForm(const QString &function, const QString &inputs, std::vector<std::uint64_t> &ids)
    {
        MapForm *map = window()->mapForm();
        map->setSource(MapForm::Values);
        map->setCurrentFunction(function);
        map->inputFor(QStringLiteral("x"))->setText(inputs);
        ids.clear();
        auto conn = connect(window()->bridge(),
                            &EngineBridge::submitted,
                            this,
                            [&](quint64, const std::vector<std::uint64_t> &got) { ids = got; });
        QTest::mouseClick(map->mapButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!ids.empty(), kTimeoutMs);
        disconnect(conn);
    }

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guisteering"));
        QSettings().setValue(QStringLiteral("cache/enabled"), false); // watch tasks run
        m_window = std::make_unique<MainWindow>();
        EngineBridge *b = window()->bridge();
        b->setUseDefaultSearchPath(false);
        b->setExtraPluginFolders({QStringLiteral(TASKBENCH_PLUGIN_DIR)});
        ClusterOptions options;
        options.workers = 2;
        window()->startEngine(options);
        window()->show();
        QVERIFY(b->isRunning());
        QVERIFY(b->function(QStringLiteral("bench.inc")));
    }

    void cleanupTestCase() { m_window.reset(); }

    void test_pauseRaiseLastFiveResumeTheyRunNext()
    {
        auto client = window()->bridge()->client();
        std::mutex mutex;
        std::vector<std::uint64_t> started;
        std::set<std::uint64_t> raised;
        Subscription sub = client->subscribe(
            [&](const EventBatch &batch) {
                std::lock_guard lock(mutex);
                for (const Event &e : batch)
                    if (e.kind == EventKind::ExecutionStarted)
                        started.push_back(e.task);
                    else if (e.kind == EventKind::PriorityChanged)
                        raised.insert(e.task);
            },
            eventBit(EventKind::ExecutionStarted) | eventBit(EventKind::PriorityChanged));
        QAction *pause = window()->action(QStringLiteral("pauseCluster"));
        QVERIFY(pause && pause->isCheckable() && !pause->isChecked());
        pause->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(client->isPaused(), kTimeoutMs);
        bool shown = false;
        for (QLabel *l : window()->statusBar()->findChildren<QLabel *>())
            shown = shown || (l->text() == QLatin1String("paused") && l->isVisible());
        QVERIFY(shown);

        std::vector<std::uint64_t> ids;
        mapThroughForm(QStringLiteral("bench.inc"), QStringLiteral("0..20"), ids);
        QCOMPARE(ids.size(), std::size_t(21));
        FuturesModel *model = window()->futuresModel();
        QTRY_VERIFY_WITH_TIMEOUT(model->row(ids.back()), kTimeoutMs);
        QCOMPARE(model->row(ids.back())->status, FutureStatus::Pending);
        const std::vector<std::uint64_t> lastFive(ids.end() - 5, ids.end());
        window()->futuresTable()->selectIds(lastFive);
        QCOMPARE(window()->futuresTable()->selectedIds().size(), std::size_t(5));
        trigger("raisePriority");
        auto raisedCount = [&] {
            client->deliverEvents();
            std::lock_guard lock(mutex);
            return raised.size();
        };
        QTRY_COMPARE_WITH_TIMEOUT(raisedCount(), std::size_t(5), kTimeoutMs);
        {
            std::lock_guard lock(mutex);
            QVERIFY(started.empty()); // paused: nothing started yet
        }
        pause->trigger(); // resume
        QTRY_VERIFY_WITH_TIMEOUT(!client->isPaused(), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(model->row(ids.front()) ? int(model->row(ids.front())->status)
                                                          : -1,
                                  int(FutureStatus::Finished),
                                  kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(ids.begin(),
                                             ids.end(),
                                             [&](std::uint64_t id) {
                                                 return model->row(id)
                                                        && model->row(id)->status
                                                               == FutureStatus::Finished;
                                             }),
                                 kTimeoutMs);
        client->deliverEvents();
        std::lock_guard lock(mutex);
        QCOMPARE(started.size(), ids.size());
        const std::set<std::uint64_t> firstFive(started.begin(), started.begin() + 5);
        QCOMPARE(firstFive, std::set<std::uint64_t>(lastFive.begin(), lastFive.end()));
    }

    void test_breakOnFunctionHoldsTaskWithItsInputs()
    {
        auto client = window()->bridge()->client();
        FuturesModel *model = window()->futuresModel();
        // A double through the form: select its row and break on its function.
        std::vector<std::uint64_t> first;
        mapThroughForm(QStringLiteral("bench.double"), QStringLiteral("1"), first);
        QTRY_VERIFY_WITH_TIMEOUT(model->row(first.front()), kTimeoutMs);
        window()->futuresTable()->selectIds(first);
        trigger("breakOnFunction");
        QTRY_COMPARE_WITH_TIMEOUT(int(client->breakpoints().size()), 1, kTimeoutMs);
        QCOMPARE(client->breakpoints().front().pattern, std::string("bench.double"));
        std::vector<std::uint64_t> held;
        mapThroughForm(QStringLiteral("bench.double"), QStringLiteral("21"), held);
        QTRY_VERIFY_WITH_TIMEOUT(model->row(held.front())
                                     && model->row(held.front())->status == FutureStatus::Held,
                                 kTimeoutMs);
        const std::vector<Future> fs = window()->bridge()->futures(held);
        QCOMPARE(fs.size(), std::size_t(1));
        QCOMPARE(client->resolvedArguments(fs.front()), std::vector<Value>{Value(21)});
        window()->futuresTable()->selectIds(held);
        QCOMPARE(window()->futuresTable()->selectedIds(), held);
        trigger("releaseHeld");
        QTRY_VERIFY_WITH_TIMEOUT(model->row(held.front())->status == FutureStatus::Finished,
                                 kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(
            model->row(held.front())->preview, QStringLiteral("42"), kTimeoutMs);
        trigger("removeBreakpoints");
        QTRY_COMPARE_WITH_TIMEOUT(int(client->breakpoints().size()), 0, kTimeoutMs);
    }

    void test_pauseNowChecksTheToggleAndResumeClearsIt()
    {
        auto client = window()->bridge()->client();
        QAction *pause = window()->action(QStringLiteral("pauseCluster"));
        trigger("pauseNow");
        QVERIFY(pause->isChecked());
        QTRY_VERIFY_WITH_TIMEOUT(client->isPaused(), kTimeoutMs);
        pause->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!client->isPaused(), kTimeoutMs);
        QVERIFY(!pause->isChecked());
    }
};

QTEST_MAIN(tst_GuiSteering)
#include "tst_guisteering.moc"
