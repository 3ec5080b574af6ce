// Comparing two sessions in the GUI (History panel: select two sessions, Compare): two
// recorded runs of the same work, where a task that failed in the first run succeeds in
// the second; the window lists the tasks side by side, says what was fixed, filters to what
// changed and exports CSV/JSON like `taskbench-cli history compare`.
#include "comparemodel.h"
#include "comparewindow.h"
#include "historymodels.h"
#include "historypanel.h"

#include "taskbench/client.h"
#include "taskbench/history/recorder.h"
#include "taskbench/pluginloader.h"

#include <QCheckBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

using namespace taskbench;
using namespace taskbench::gui;
using namespace std::chrono_literals;

namespace {

/// One recorded run: flaky_inc over 0..4 (0 fails on its first attempt ever, which the
/// marker folder remembers across runs) and inc over 10..12.
std::int64_t recordRun(const QString &db, const QString &markers)
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    if (loader.load(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so").loaded.empty())
        qFatal("cannot load the bench plugin");
    ClusterOptions options;
    options.workers = 2;
    Client client(options, registry);
    history::RecorderOptions ro;
    ro.databasePath = db.toStdString();
    ro.session.app = "tst_comparewindow";
    history::Recorder recorder(client, ro);
    if (!recorder.ok())
        qFatal("recorder: %s", recorder.errorString().c_str());
    std::vector<std::vector<Value>> flaky;
    for (int i = 0; i < 5; ++i)
        flaky.push_back({Value(i), Value(markers.toStdString())});
    std::vector<Future> all = client.mapArgs("bench.flaky_inc", flaky);
    std::vector<Value> incs{Value(10), Value(11), Value(12)};
    std::vector<Future> more = client.map("bench.inc", incs);
    all.insert(all.end(), more.begin(), more.end());
    recorder.track(all);
    client.wait(all, ReturnWhen::AllCompleted, 30s);
    recorder.finish();
    return recorder.sessionId();
}

QPushButton *button(QWidget *parent, const QString &name)
{
    for (QPushButton *b : parent->findChildren<QPushButton *>())
        if (b->accessibleName() == name)
            return b;
    return nullptr;
}

} // namespace

class TestCompareWindow : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_comparewindow"));
    }

    void test_selectTwoSessionsAndCompare()
    {
        const QString db = m_dir.filePath("history.sqlite");
        QVERIFY(QDir().mkpath(m_dir.filePath("markers")));
        const std::int64_t a = recordRun(db, m_dir.filePath("markers"));
        const std::int64_t b = recordRun(db, m_dir.filePath("markers"));
        QVERIFY(a > 0 && b > a);

        HistoryPanel panel(nullptr, nullptr);
        panel.setDatabasePath(db);
        QTRY_COMPARE_WITH_TIMEOUT(panel.sessionsModel()->rowCount(), 2, 20000);
        QPushButton *compare = button(&panel, QStringLiteral("Compare sessions"));
        QVERIFY(compare);
        QVERIFY(!compare->isEnabled()); // nothing selected yet

        // One session: Compare stays off; two: on (and the single-session actions off).
        QTableView *sessions = panel.sessionsView();
        sessions->selectRow(0);
        QVERIFY(!compare->isEnabled());
        sessions->selectionModel()->select(panel.sessionsModel()->index(1, 0),
                                           QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QCOMPARE(panel.selectedSessions(), (std::vector<std::int64_t>{a, b}));
        QVERIFY(compare->isEnabled());
        QVERIFY(!button(&panel, QStringLiteral("Delete session"))->isEnabled());

        QSignalSpy opened(&panel, &HistoryPanel::compareOpened);
        compare->click();
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 20000);
        auto *window = opened.at(0).at(0).value<CompareWindow *>();
        QVERIFY(window);
        CompareModel *model = window->model();
        QCOMPARE(model->comparison().a.id, a);
        QCOMPARE(model->comparison().b.id, b);
        QCOMPARE(model->rowCount(), 8);
        QCOMPARE(model->comparison().summary.matched, std::int64_t(8));
        QCOMPARE(model->comparison().summary.fixed.size(), std::size_t(1));
        QCOMPARE(model->comparison().summary.newlyFailing.size(), std::size_t(0));
        QVERIFY2(window->summaryLabel()->text().contains(QStringLiteral("Fixed: 1")),
                 qPrintable(window->summaryLabel()->text()));
        QCOMPARE(window->view()->accessibleName(), QStringLiteral("Compared tasks"));
        QCOMPARE(
            model->headerData(CompareModel::StatusA, Qt::Horizontal, Qt::DisplayRole).toString(),
            QStringLiteral("Status A"));

        // The fixed task: erred in A, finished in B, matched by its pure key.
        int fixedRow = -1;
        for (int r = 0; r < model->rowCount(); ++r)
            if (model->task(r)->fixed())
                fixedRow = r;
        QVERIFY(fixedRow >= 0);
        QCOMPARE(model->index(fixedRow, CompareModel::StatusA).data().toString(),
                 QStringLiteral("error"));
        QCOMPARE(model->index(fixedRow, CompareModel::StatusB).data().toString(),
                 QStringLiteral("finished"));
        QCOMPARE(model->index(fixedRow, CompareModel::MatchedBy).data().toString(),
                 QStringLiteral("key"));
        QVERIFY(model->index(fixedRow, CompareModel::ErrorA)
                    .data()
                    .toString()
                    .contains(QStringLiteral("You hit the error!")));
        QVERIFY(model->index(fixedRow, 0).data(CompareModel::ChangedRole).toBool());

        // Filters: what changed (the fixed task at least), and a search.
        window->changedOnlyBox()->setChecked(true);
        QVERIFY(window->visibleRows() >= 1 && window->visibleRows() <= 8);
        window->changedOnlyBox()->setChecked(false);
        QCOMPARE(window->visibleRows(), 8);
        window->findChild<QLineEdit *>()->setText(QStringLiteral("flaky_inc"));
        QCOMPARE(window->visibleRows(), 5);

        // Exports: the CLI's CSV and JSON renderings.
        QString error;
        const QString csv = m_dir.filePath("compare.csv");
        QVERIFY2(window->exportTo(csv, CompareWindow::Format::Csv, &error), qPrintable(error));
        QFile c(csv);
        QVERIFY(c.open(QIODevice::ReadOnly));
        QVERIFY(c.readLine().startsWith("key,function,matched_by,status_a,status_b"));
        const QString json = m_dir.filePath("compare.json");
        QVERIFY2(window->exportTo(json, CompareWindow::Format::Json, &error), qPrintable(error));
        QFile j(json);
        QVERIFY(j.open(QIODevice::ReadOnly));
        QVERIFY(QJsonDocument::fromJson(j.readAll()).isObject());
        QVERIFY(!window->exportTo(
            m_dir.filePath("no/such/dir/x.csv"), CompareWindow::Format::Csv, &error));
        QVERIFY(error.contains(QStringLiteral("Cannot write")));
        window->close();
    }

    void test_cachedTasksAreMarked()
    {
        // B served both tasks from the result cache (computed in session 7): its status
        // says so, it has no duration, and the summary counts it apart.
        history::SessionComparison c;
        for (const char *key : {"inc-1", "inc-2"}) {
            history::TaskComparison t;
            t.key = key;
            t.function = "bench.inc";
            t.matchedBy = "key";
            t.a = history::CompareSide{1, "finished", 1500, "h", "int", "", -1};
            t.b = history::CompareSide{2, "finished", -1, "h", "int", "", 7};
            t.result = history::ResultMatch::Equal;
            c.tasks.push_back(t);
        }
        c.summary.matched = 2;
        c.summary.resultsEqual = 2;
        c.summary.cachedInB = 2;
        CompareModel model;
        model.setComparison(c);
        QCOMPARE(model.index(0, CompareModel::StatusA).data().toString(),
                 QStringLiteral("finished"));
        QCOMPARE(model.index(0, CompareModel::StatusB).data().toString(),
                 QStringLiteral("finished (cached)"));
        QCOMPARE(model.index(1, CompareModel::DurationB).data().toString(), QStringLiteral("—"));
        QCOMPARE(model.index(1, CompareModel::DurationA).data().toString(),
                 QStringLiteral("1.50 ms"));
        QVERIFY2(model.summaryText().contains(QStringLiteral(
                     "From the result cache (not run, so not timed): 0 in A, 2 in B")),
                 qPrintable(model.summaryText()));
    }
};

QTEST_MAIN(TestCompareWindow)
#include "tst_comparewindow.moc"
