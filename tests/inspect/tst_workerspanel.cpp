// The workers panel: rows from a real cluster (fetched off the GUI thread), scaling up and
// down, restart gated on support, a process worker restarted from the panel (a new pid),
// formatting of every column, tasks done after real work.
#include "inspect/workerspanel.h"

#include "taskbench/pluginloader.h"

#include <QAbstractButton>
#include <QHeaderView>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QThread>
#include <QtTest>

#include <atomic>

using namespace taskbench;
using namespace taskbench::inspect;

namespace {

QString cell(const WorkersPanel &panel, int row, int column)
{
    return panel.model()->index(row, column).data().toString();
}

QPushButton *button(WorkersPanel &panel, const QString &accessibleName)
{
    for (QPushButton *b : panel.findChildren<QPushButton *>())
        if (b->accessibleName() == accessibleName)
            return b;
    return nullptr;
}

std::shared_ptr<Client> cluster(int workers, int threads)
{
    ClusterOptions options;
    options.workers = workers;
    options.threadsPerWorker = threads;
    return std::make_shared<Client>(options);
}

} // namespace

class tst_WorkersPanel : public QObject
{
    Q_OBJECT
private slots:
    void test_rowsFromARealCluster()
    {
        auto client = cluster(2, 3);
        WorkersPanel panel;
        panel.setRefreshInterval(100);
        panel.show();
        panel.setClient(client);
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->rowCount(), 2, 5000);
        QCOMPARE(panel.model()->columnCount(), int(WorkersModel::ColumnCount));
        QStringList headers;
        for (int c = 0; c < panel.model()->columnCount(); ++c)
            headers << panel.model()->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
        QCOMPARE(headers,
                 (QStringList{"Worker",
                              "Status",
                              "PID",
                              "Threads",
                              "Running",
                              "Done",
                              "Results",
                              "Held",
                              "Memory"}));
        QCOMPARE(cell(panel, 0, WorkersModel::Threads), QStringLiteral("3"));
        QCOMPARE(cell(panel, 0, WorkersModel::Status), QStringLiteral("idle"));
        QCOMPARE(cell(panel, 0, WorkersModel::Pid), QStringLiteral("—")); // thread workers
        QTRY_COMPARE_WITH_TIMEOUT(panel.scaleSpinBox()->value(), 2, 5000);
        // Refreshing keeps going (about once per interval).
        const int before = panel.refreshCount();
        QTRY_VERIFY_WITH_TIMEOUT(panel.refreshCount() > before + 1, 5000);
    }

    void test_scaleUpAndDown()
    {
        auto client = cluster(1, 1);
        WorkersPanel panel;
        panel.setRefreshInterval(100);
        panel.show();
        panel.setClient(client);
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->rowCount(), 1, 5000);
        panel.scaleSpinBox()->setValue(3);
        QTest::mouseClick(button(panel, QStringLiteral("Scale cluster")), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->rowCount(), 3, 10000);
        panel.scaleSpinBox()->setValue(1);
        panel.applyScale();
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->rowCount(), 1, 10000);
    }

    void test_restartNeedsEngineSupport()
    {
        WorkersPanel panel;
        panel.show();
        WorkerInfo w;
        w.id = 7;
        w.name = "process-worker-7";
        panel.setSource([w] { return std::vector<WorkerInfo>{w}; }, [](int) {});
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->rowCount(), 1, 5000);
        QPushButton *restart = button(panel, QStringLiteral("Restart worker"));
        QVERIFY(restart);
        panel.table()->selectRow(0);
        QVERIFY(!restart->isEnabled()); // this source cannot restart workers
        QVERIFY(restart->toolTip().contains(QStringLiteral("Not available")));
        panel.setRestartSupported(true);
        QVERIFY(restart->isEnabled());
        QSignalSpy requested(&panel, &WorkersPanel::restartRequested);
        QTest::mouseClick(restart, Qt::LeftButton);
        QCOMPARE(requested.count(), 1);
        QCOMPARE(requested.takeFirst().at(0).toInt(), 7);
    }

    void test_restartProcessWorkerGivesNewPid()
    {
        auto registry = std::make_shared<FunctionRegistry>();
        PluginLoader loader(*registry);
        QVERIFY(!loader.load(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so").loaded.empty());
        ClusterOptions options;
        options.workers = 1;
        options.processes = true;
        options.workerExecutable = TASKBENCH_BIN_DIR "/taskbench-worker";
        auto client = std::make_shared<Client>(options, registry);
        WorkersPanel panel;
        panel.setRefreshInterval(100);
        panel.show();
        panel.setClient(client);
        auto pid = [&] {
            return panel.model()->rowCount() == 1 ? panel.model()->workers().front().pid : 0L;
        };
        QTRY_VERIFY_WITH_TIMEOUT(pid() > 0, 10000);
        const long before = pid();
        panel.table()->selectRow(0);
        QPushButton *restart = button(panel, QStringLiteral("Restart worker"));
        QVERIFY(restart->isEnabled()); // a Client can restart its workers
        QSignalSpy requested(&panel, &WorkersPanel::restartRequested);
        QSignalSpy finished(&panel, &WorkersPanel::restartFinished);
        QTest::mouseClick(restart, Qt::LeftButton);
        QCOMPARE(requested.count(), 1);
        QVERIFY(finished.count() == 1 || finished.wait(10000));
        QVERIFY(finished.at(0).at(1).toBool());
        QTRY_VERIFY_WITH_TIMEOUT(pid() > 0 && pid() != before, 20000);
        QCOMPARE(cell(panel, 0, WorkersModel::Pid), QString::number(pid()));
        QCOMPARE(client->submit("bench.inc", {Value(1)}).result(std::chrono::seconds(30)).toInt(),
                 2);
    }

    void test_columnsAreFormatted()
    {
        WorkerInfo busy;
        busy.id = 0;
        busy.name = "process-worker-0";
        busy.threads = 2;
        busy.pid = 4242;
        busy.running = {"inc-abc", "inc-def"};
        busy.tasksDone = 12345;
        busy.resultsHeld = 17;
        busy.bytesHeld = 2048;
        busy.memoryBytes = 50u * 1024 * 1024;
        WorkerInfo dead = busy;
        dead.id = 1;
        dead.alive = false;
        dead.running.clear();
        std::atomic<bool> offGuiThread{false};
        QThread *gui = QThread::currentThread();
        WorkersPanel panel;
        panel.show();
        panel.setSource(
            [&] {
                offGuiThread = QThread::currentThread() != gui;
                return std::vector<WorkerInfo>{busy, dead};
            },
            {});
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->rowCount(), 2, 5000);
        QVERIFY(offGuiThread);
        QCOMPARE(cell(panel, 0, WorkersModel::Name), QStringLiteral("worker-0 (process)"));
        QCOMPARE(cell(panel, 0, WorkersModel::Status), QStringLiteral("busy"));
        QCOMPARE(cell(panel, 0, WorkersModel::Pid), QStringLiteral("4242"));
        QCOMPARE(cell(panel, 0, WorkersModel::Running), QStringLiteral("inc-abc (+1)"));
        QCOMPARE(cell(panel, 0, WorkersModel::Done), QStringLiteral("12,345"));
        QCOMPARE(cell(panel, 0, WorkersModel::Results), QStringLiteral("17"));
        QCOMPARE(cell(panel, 0, WorkersModel::BytesHeld), QStringLiteral("2.0 KiB"));
        QCOMPARE(cell(panel, 0, WorkersModel::Memory), QStringLiteral("50 MiB"));
        QCOMPARE(cell(panel, 1, WorkersModel::Status), QStringLiteral("restarting"));
        QVERIFY(panel.model()
                    ->index(0, WorkersModel::Running)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("inc-def")));
        QCOMPARE(
            panel.model()->index(0, WorkersModel::Done).data(WorkersModel::SortRole).toLongLong(),
            12345);
        // Without a scale callback the scale controls are off.
        QVERIFY(!panel.scaleSpinBox()->isEnabled());
    }

    void test_tasksDoneAfterRealWork()
    {
        auto registry = std::make_shared<FunctionRegistry>();
        PluginLoader loader(*registry);
        const auto report = loader.load(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so");
        if (report.loaded.empty())
            QSKIP("the bench plugin is not built");
        ClusterOptions options;
        options.workers = 2;
        auto client = std::make_shared<Client>(options, registry);
        std::vector<Value> inputs;
        for (int i = 0; i < 100; ++i)
            inputs.push_back(Value(i));
        std::vector<Future> futures = client->map("bench.inc", inputs);
        WorkersPanel panel;
        panel.setRefreshInterval(100);
        panel.show();
        panel.setClient(client);
        auto done = [&] {
            qint64 total = 0;
            for (int r = 0; r < panel.model()->rowCount(); ++r)
                total += panel.model()
                             ->index(r, WorkersModel::Done)
                             .data(WorkersModel::SortRole)
                             .toLongLong();
            return total;
        };
        QTRY_COMPARE_WITH_TIMEOUT(done(), qint64(100), 10000);
    }

    void test_accessibleNames()
    {
        WorkersPanel panel;
        QCOMPARE(panel.accessibleName(), QStringLiteral("Workers"));
        QCOMPARE(panel.table()->accessibleName(), QStringLiteral("Workers table"));
        QCOMPARE(panel.scaleSpinBox()->accessibleName(), QStringLiteral("Number of workers"));
        QVERIFY(button(panel, QStringLiteral("Scale cluster")));
        QVERIFY(button(panel, QStringLiteral("Restart worker")));
        // Keyboard: mnemonics on the buttons, a buddy label for the spin box.
        QVERIFY(button(panel, QStringLiteral("Scale cluster"))->text().contains(QLatin1Char('&')));
    }
};

QTEST_MAIN(tst_WorkersPanel)
#include "tst_workerspanel.moc"
