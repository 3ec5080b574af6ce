// Isolation by default (issue 20): the workbench on a fresh QSettings runs process workers,
// so tasks that segfault, abort or exit kill only their worker process. The window stays,
// each error names its signal or exit code, the worker comes back, a healthy task's result
// is right. "Kill now" is enabled only for a task running on a process worker, and is in the
// task stream's and graph's menus too: a hung task is killed, its worker comes back. Waits
// with QTRY_* on states (no sleeps).
#include "enginebridge.h"
#include "errorsmodel.h"
#include "errorspanel.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "guifixture.h"
#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"
#include "inspect/workersmodel.h"
#include "inspect/workerspanel.h"
#include "mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QContextMenuEvent>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QMenu>
#include <QSettings>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <memory>

using namespace taskbench;
using namespace taskbench::gui;

namespace {

constexpr int kTimeoutMs = 60000;

} // namespace

class tst_GuiCrashIsolation : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<MainWindow> m_window;

    std::uint64_t submit(const QString &function, const std::vector<Value> &args)
    {
        std::uint64_t got = 0;
        quint64 request = 0;
        auto conn = connect(m_window->bridge(),
                            &EngineBridge::submitted,
                            this,
                            [&](quint64 r, const std::vector<std::uint64_t> &ids) {
                                if (r == request && ids.size() == 1)
                                    got = ids.front();
                            });
        request = m_window->bridge()->submit(function, args, SubmitOptions{});
        if (!QTest::qWaitFor([&] { return got != 0; }, kTimeoutMs))
            qWarning("no future for %s", qPrintable(function));
        disconnect(conn);
        return got;
    }

    const FutureRow *row(std::uint64_t id) { return m_window->futuresModel()->row(id); }

    /// "status: type message" of a row, for failure messages.
    QString describe(std::uint64_t id)
    {
        const FutureRow *r = row(id);
        return r ? QStringLiteral("%1 %2: %3 %4")
                       .arg(r->function)
                       .arg(int(r->status))
                       .arg(r->errorType(), r->errorMessage())
                 : QStringLiteral("no row");
    }

    bool settled(std::uint64_t id)
    {
        const FutureRow *r = row(id);
        return r && (r->status == FutureStatus::Finished || r->status == FutureStatus::Error)
               && (r->status != FutureStatus::Error || r->hasError());
    }

    /// The enabled state of the item `text` in the context menu `target` opens from the
    /// keyboard (as Shift+F10 does): "absent" if the menu has no such item.
    static QString menuItemState(QWidget *target, const QString &text)
    {
        QString state = QStringLiteral("no menu");
        QTimer::singleShot(0, [&] {
            auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
            if (!menu)
                return;
            state = QStringLiteral("absent");
            for (QAction *a : menu->actions())
                if (a->text() == text)
                    state = a->isEnabled() ? QStringLiteral("enabled") : QStringLiteral("disabled");
            menu->close();
        });
        QContextMenuEvent event(QContextMenuEvent::Keyboard,
                                target->rect().center(),
                                target->mapToGlobal(target->rect().center()));
        QCoreApplication::sendEvent(target, &event);
        return state;
    }

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guicrashisolation"));
        QSettings().clear(); // a fresh user: the defaults decide the worker kind

        m_window = std::make_unique<MainWindow>();
        EngineBridge *b = m_window->bridge();
        testsupport::useBundledPlugins(*b->catalog());
        m_window->restoreSettings();
        ClusterOptions options = MainWindow::savedClusterOptions();
        QVERIFY2(options.processes, "a fresh workbench must default to process workers");
        options.workers = 2;
        m_window->startEngine(options);
        m_window->show();
        QVERIFY(b->isRunning());
        QVERIFY(b->catalog()->function(QStringLiteral("faults.segfault")));
        QTRY_COMPARE_WITH_TIMEOUT(m_window->workersPanel()->model()->rowCount(), 2, kTimeoutMs);
    }

    void cleanupTestCase() { m_window.reset(); }

    void test_crashingTasksLeaveTheWindowAndHealthyResults_data()
    {
        // exitCode < 0: the function takes no argument. healthy: distinct inputs, so each
        // row's healthy task is a new pure key.
        QTest::addColumn<QString>("function");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("cause");
        QTest::addColumn<int>("healthy");
        QTest::newRow("segfault") << QStringLiteral("faults.segfault") << -1
                                  << QStringLiteral("SIGSEGV") << 41;
        QTest::newRow("abort") << QStringLiteral("faults.abort_task") << -1
                               << QStringLiteral("SIGABRT") << 51;
        QTest::newRow("exit") << QStringLiteral("faults.exit_task") << 3
                              << QStringLiteral("exited with code 3") << 61;
    }

    void test_crashingTasksLeaveTheWindowAndHealthyResults()
    {
        QFETCH(QString, function);
        QFETCH(int, exitCode);
        QFETCH(QString, cause);
        QFETCH(int, healthy);

        std::vector<Value> args;
        if (exitCode >= 0)
            args.emplace_back(std::int64_t(exitCode));
        const std::uint64_t boom = submit(function, args);
        const std::uint64_t ok
            = submit(QStringLiteral("tutorial.inc"), {Value(std::int64_t(healthy))});
        QVERIFY(boom && ok);

        // The crash is the task's error, named; the errors panel lists it as a root cause.
        QTRY_VERIFY_WITH_TIMEOUT(settled(boom), kTimeoutMs);
        QVERIFY2(row(boom)->status == FutureStatus::Error, qPrintable(describe(boom)));
        const QString text = row(boom)->errorType() + QLatin1Char(' ') + row(boom)->errorMessage();
        QVERIFY2(text.contains(cause), qPrintable(text));
        ErrorsModel *errors = m_window->errorsPanel()->model();
        QTRY_VERIFY_WITH_TIMEOUT(errors->rootCauses().size() >= 1, kTimeoutMs);
        const auto roots = errors->rootCauses();
        QVERIFY(std::find(roots.begin(), roots.end(), boom) != roots.end());

        // The healthy task's result is right; the window and its engine are still there.
        QTRY_VERIFY_WITH_TIMEOUT(settled(ok), kTimeoutMs);
        QVERIFY2(row(ok)->status == FutureStatus::Finished, qPrintable(describe(ok)));
        // Its result's text comes after the status (fetched off the GUI thread).
        QTRY_COMPARE_WITH_TIMEOUT(row(ok)->preview, QString::number(healthy + 1), kTimeoutMs);
        QVERIFY(m_window->isVisible());
        QVERIFY(m_window->bridge()->isRunning());

        // The dead worker is replaced: two workers again, and new work runs.
        QTRY_COMPARE_WITH_TIMEOUT(m_window->workersPanel()->model()->rowCount(), 2, kTimeoutMs);
        const std::uint64_t after
            = submit(QStringLiteral("tutorial.inc"), {Value(std::int64_t(healthy + 1000))});
        QTRY_VERIFY_WITH_TIMEOUT(settled(after), kTimeoutMs);
        QVERIFY2(row(after)->status == FutureStatus::Finished, qPrintable(describe(after)));
    }

    void test_killNowStopsAHungTaskFromTheStreamAndGraphMenus()
    {
        QAction *kill = m_window->action(QStringLiteral("killNow"));
        QVERIFY(kill);
        const std::uint64_t done = submit(QStringLiteral("tutorial.inc"), {Value(std::int64_t(7))});
        QTRY_VERIFY_WITH_TIMEOUT(settled(done), kTimeoutMs);
        m_window->futuresTable()->selectIds({done});
        QVERIFY(!kill->isEnabled()); // finished: nothing to kill

        const std::uint64_t hung = submit(QStringLiteral("faults.hang"), {Value(false)});
        QVERIFY(hung);
        QTRY_VERIFY_WITH_TIMEOUT(row(hung) && row(hung)->status == FutureStatus::Processing,
                                 kTimeoutMs);
        m_window->futuresTable()->selectIds({hung});
        QTRY_VERIFY_WITH_TIMEOUT(kill->isEnabled(), kTimeoutMs);
        // The stream and the graph show the selection, and offer Kill now for it.
        auto *stream = m_window->streamView();
        QTRY_VERIFY_WITH_TIMEOUT(stream->selectedTasks() == QList<quint64>{hung}, kTimeoutMs);
        QCOMPARE(menuItemState(stream, kill->text()), QStringLiteral("enabled"));
        auto *graph = m_window->graphView();
        QTRY_VERIFY_WITH_TIMEOUT(graph->selectedTasks() == QList<quint64>{hung}, kTimeoutMs);
        // Its node is laid out and selected (the menu key opens the menu of that node).
        QTRY_VERIFY_WITH_TIMEOUT(
            !graph->isLayoutPending() && !graph->scene()->selectedItems().isEmpty(), kTimeoutMs);
        QCOMPARE(menuItemState(graph->graphicsView(), kill->text()), QStringLiteral("enabled"));

        kill->trigger();
        // Cancelled (as a hard cancel is), not failed: the user stopped it.
        QTRY_COMPARE_WITH_TIMEOUT(int(row(hung)->status), int(FutureStatus::Cancelled), kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(!kill->isEnabled(), kTimeoutMs);
        QCOMPARE(menuItemState(stream, kill->text()), QStringLiteral("disabled"));
        // Its worker was restarted: two again, and they run new work.
        QTRY_COMPARE_WITH_TIMEOUT(m_window->workersPanel()->model()->rowCount(), 2, kTimeoutMs);
        const std::uint64_t after
            = submit(QStringLiteral("tutorial.inc"), {Value(std::int64_t(8))});
        QTRY_VERIFY_WITH_TIMEOUT(settled(after), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(row(after)->preview, QStringLiteral("9"), kTimeoutMs);
    }
};

QTEST_MAIN(tst_GuiCrashIsolation)
#include "tst_guicrashisolation.moc"
