// Paths through a run in the workbench, with a real cluster (2 thread workers) and the bench
// plugin: x = slow_inc(0, 80 ms), y = slow_inc(x, 80 ms), short = slow_inc(100, 10 ms),
// z = add(y, short). "Critical path…" lists exactly x, y, z (short finished long before y)
// with their shares, and marks them in the task stream while its dialog is open; closing
// it clears the marks; a task clicked in the stream marks its upstream and downstream.
#include "guifixture.h"
#include "criticalpathdialog.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "mainwindow.h"
#include "pathhighlights.h"

#include "inspect/taskstreamview.h"

#include "taskbench/client.h"

#include <QAction>
#include <QSettings>
#include <QTableWidget>
#include <QTest>

#include <set>

using namespace taskbench;
using namespace taskbench::gui;

namespace {
constexpr int kTimeoutMs = 30000;
}

class tst_GuiPaths : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<MainWindow> m_window;

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guipaths"));
        QSettings().setValue(QStringLiteral("cache/enabled"), false);
        m_window = std::make_unique<MainWindow>();
        EngineBridge *b = m_window->bridge();
        testsupport::useBundledPlugins(*b->catalog());
        ClusterOptions options;
        options.workers = 2;
        options.processes = false;
        m_window->startEngine(options);
        m_window->show();
        QVERIFY(b->isRunning());
    }

    void cleanupTestCase() { m_window.reset(); }

    void test_criticalPathOfAKnownGraph()
    {
        auto client = m_window->bridge()->client();
        FuturesModel *model = m_window->futuresModel();
        SubmitOptions impure;
        impure.pure = false;
        Future x = client->submit("bench.slow_inc", {Value(0), Value(80)}, impure);
        Future y = client->submit("bench.slow_inc", {Value::ref(x.key()), Value(80)}, impure);
        Future shortOne = client->submit("bench.slow_inc", {Value(100), Value(10)}, impure);
        Future z = client->submit(
            "bench.add", {Value::ref(y.key()), Value::ref(shortOne.key())}, impure);
        QCOMPARE(z.result(std::chrono::seconds(30)).toInt(), 103); // (0 + 1 + 1) + (100 + 1)
        QTRY_VERIFY_WITH_TIMEOUT(
            model->row(z.id()) && model->row(z.id())->status == FutureStatus::Finished, kTimeoutMs);

        m_window->action(QStringLiteral("showCriticalPath"))->trigger();
        CriticalPathDialog *dialog = m_window->pathHighlights()->dialog();
        QVERIFY(dialog && dialog->isVisible());
        const QList<quint64> expected{x.id(), y.id(), z.id()};
        QCOMPARE(dialog->path(), expected);
        QTableWidget *steps = dialog->stepsTable();
        QCOMPARE(steps->rowCount(), 3);
        QCOMPARE(steps->item(0, 1)->text(), QString::fromStdString(x.key()));
        QCOMPARE(steps->item(2, 2)->text(), QStringLiteral("bench.add"));
        QCOMPARE(steps->horizontalHeaderItem(5)->text(), QStringLiteral("Share"));
        double shares = 0;
        for (int r = 0; r < 3; ++r)
            shares += steps->item(r, 5)->text().chopped(2).toDouble();
        QVERIFY2(qAbs(shares - 100) < 0.5, qPrintable(QString::number(shares)));
        QCOMPARE(m_window->streamView()->markedTasks(), expected);

        dialog->close();
        QTRY_VERIFY_WITH_TIMEOUT(!m_window->pathHighlights()->dialog(), kTimeoutMs);
        QVERIFY(m_window->streamView()->markedTasks().isEmpty());

        // A task clicked in the stream: its upstream (x) and downstream (z) are marked.
        emit m_window->streamView()->taskSelected(y.id());
        const QList<quint64> marked = m_window->streamView()->markedTasks();
        QCOMPARE(std::set<quint64>(marked.begin(), marked.end()),
                 (std::set<quint64>{x.id(), z.id()}));
    }
};

QTEST_MAIN(tst_GuiPaths)
#include "tst_guipaths.moc"
