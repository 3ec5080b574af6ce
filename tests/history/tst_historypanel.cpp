// Tests of the GUI side of the history: the GuiRecorder records a GUI cluster session
// (futures submitted through the EngineBridge, with arguments and results) and finishes it
// when the cluster restarts; the HistoryPanel lists sessions and tasks, searches, opens a
// session read-only in the futures/graph/stream views (replayed states and results), and
// re-runs failed tasks through the bridge, or refuses with the reason.
#include "guifixture.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "guirecorder.h"
#include "historymodels.h"
#include "historypanel.h"
#include "sessionwindow.h"

#include "taskbench/history/historystore.h"
#include "taskbench/valuecodec.h"

#include <QApplication>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

using namespace taskbench;
using namespace taskbench::gui;

class TestHistoryPanel : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_historypanel"));
        m_db = m_dir.filePath("history.sqlite");
        QSettings settings;
        settings.clear();
        settings.setValue("history/database", m_db);
        settings.setValue("history/record", true);
    }

    void test_recordBrowseOpenRerun();
};

void TestHistoryPanel::test_recordBrowseOpenRerun()
{
    FuturesModel futures;
    EngineBridge bridge(&futures);
    testsupport::useBundledPlugins(*bridge.catalog());
    bridge.catalog()->scan();
    GuiRecorder recorder(&bridge);
    QSignalSpy started(&recorder, &GuiRecorder::sessionStarted);
    QSignalSpy finished(&recorder, &GuiRecorder::sessionFinished);
    ClusterOptions options;
    options.workers = 2;
    bridge.start(options);
    QVERIFY(started.wait(20000));
    const qint64 session = started.at(0).at(0).toLongLong();
    QVERIFY(session > 0);

    // Work through the bridge: 5 incs and one failure.
    QSignalSpy submitted(&bridge, &EngineBridge::submitted);
    std::vector<std::vector<Value>> args;
    for (int i = 0; i < 5; ++i)
        args.push_back({Value(i)});
    bridge.mapArgs("bench.inc", args, {});
    bridge.submit("bench.fail", {Value("gui boom")}, {});
    QTRY_COMPARE_WITH_TIMEOUT(submitted.count(), 2, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(futures.count(FutureStatus::Finished), 5, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(futures.count(FutureStatus::Error), 1, 20000);

    // A new cluster ends the session; its rows are on disk once sessionFinished arrives.
    bridge.restart(options);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 20000);
    QCOMPARE(finished.at(0).at(0).toLongLong(), session);
    QTRY_VERIFY_WITH_TIMEOUT(started.count() == 2, 20000);
    {
        history::HistoryStore store;
        QVERIFY(store.open(m_db.toStdString()));
        const std::optional<history::SessionSummary> s = store.session(session);
        QVERIFY(s);
        QCOMPARE(s->status, std::string("finished"));
        QCOMPARE(s->app, std::string("taskbench"));
        QCOMPARE(s->taskCount, std::int64_t(6));
        history::TaskQuery q;
        q.session = session;
        q.function = "bench.inc";
        for (const history::TaskRecord &t : store.tasks(q)) {
            const std::optional<Value> a = fromJson(t.argsJson);
            QVERIFY(a && a->isList());
            QCOMPARE(t.resultJson, std::to_string(a->toList().at(0).toInt() + 1));
        }
    }

    // The panel lists both sessions (the second is running), newest first.
    HistoryPanel panel(&bridge, &recorder);
    QSignalSpy loaded(&panel, &HistoryPanel::loaded);
    QTRY_VERIFY_WITH_TIMEOUT(panel.sessionsModel()->rowCount() == 2, 20000);
    QCOMPARE(panel.sessionsView()->accessibleName(), QString("History"));
    QCOMPARE(panel.searchEdit()->accessibleName(), QString("Search history"));
    for (const char *name : {"Re-run", "Re-run failed", "Delete session", "Export…"}) {
        bool found = false;
        for (QPushButton *b : panel.findChildren<QPushButton *>())
            found = found || b->accessibleName() == QString::fromUtf8(name);
        QVERIFY2(found, name);
    }
    const QAbstractItemModel *m = panel.sessionsModel();
    QCOMPARE(m->headerData(SessionsModel::Errors, Qt::Horizontal, Qt::DisplayRole).toString(),
             QString("Errors"));
    int row = -1;
    for (int r = 0; r < m->rowCount(); ++r)
        if (m->index(r, SessionsModel::Id).data(SessionsModel::IdRole).toLongLong() == session)
            row = r;
    QCOMPARE(row, 1);
    QCOMPARE(m->index(row, SessionsModel::Tasks).data().toLongLong(), 6);
    QCOMPARE(m->index(row, SessionsModel::Errors).data().toLongLong(), 1);
    QCOMPARE(m->index(row, SessionsModel::Status).data().toString(), QString("finished"));

    // Selecting it loads its tasks.
    panel.sessionsView()->selectRow(row);
    QTRY_COMPARE_WITH_TIMEOUT(panel.tasksModel()->rowCount(), 6, 20000);

    // Search: only the session with the error text stays.
    panel.searchEdit()->setText("gui boom");
    QTRY_COMPARE_WITH_TIMEOUT(panel.sessionsModel()->rowCount(), 1, 20000);
    QCOMPARE(panel.selectedSession(), session);
    QTRY_COMPARE_WITH_TIMEOUT(panel.tasksView()->model()->rowCount(), 1, 20000);

    // Open read-only: the replay shows the recorded states and results.
    QSignalSpy opened(&panel, &HistoryPanel::sessionOpened);
    panel.openSession(session);
    QVERIFY(opened.wait(20000));
    auto *window = opened.at(0).at(0).value<SessionWindow *>();
    QVERIFY(window);
    QCOMPARE(window->futuresModel()->rowCount(), 6);
    QCOMPARE(window->futuresModel()->count(FutureStatus::Finished), 5);
    QCOMPARE(window->futuresModel()->count(FutureStatus::Error), 1);
    QCOMPARE(window->errorsModel()->rowCount(), 1);
    QCOMPARE(window->tabs()->count(), 4);
    bool sawPreview = false;
    for (const FutureRow &r : window->futuresModel()->rows())
        sawPreview = sawPreview || (r.function == "bench.inc" && !r.preview.isEmpty());
    QVERIFY(sawPreview);
    window->close();

    // Re-run the failed task in the current cluster: it fails again, the same way.
    QSignalSpy rerun(&panel, &HistoryPanel::rerunSubmitted);
    const int errorsBefore = futures.count(FutureStatus::Error);
    panel.rerunSelected(true);
    QVERIFY(rerun.wait(20000));
    QCOMPARE(rerun.at(0).at(0).toInt(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(futures.count(FutureStatus::Error), errorsBefore + 1, 20000);
}

QTEST_MAIN(TestHistoryPanel)
#include "tst_historypanel.moc"
