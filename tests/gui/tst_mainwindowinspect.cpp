// The inspect views inside the main window (issue 5), with a real Client and the bench
// plugin: the task graph, task stream and workers docks exist with accessible names and
// View-menu keys; a small DAG run through the bridge shows up in the graph and the stream;
// selection is linked both ways between the futures table, the graph, the task stream and
// the errors panel and the log; no key is ambiguous between the window and the views (Delete in the
// graph releases); a worker restarts from the workers panel; `taskbench --bench-gui` prints
// the inspect figures as JSON lines. Waits with QTRY_* and signal spies, never sleeps.
#include "enginebridge.h"
#include "errorsmodel.h"
#include "errorspanel.h"
#include "futuresfilter.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "guifixture.h"
#include "logmodel.h"
#include "logpanel.h"
#include "mainwindow.h"

#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"
#include "inspect/workersmodel.h"
#include "inspect/workerspanel.h"

#include <QAction>
#include <QDockWidget>
#include <QGraphicsView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QTreeView>

using namespace taskbench;
using namespace taskbench::gui;
using taskbench::inspect::TaskGraphView;
using taskbench::inspect::TaskStreamView;
using taskbench::inspect::WorkersModel;
using taskbench::inspect::WorkersPanel;

namespace {

constexpr int kTimeoutMs = 30000;

QWidget *findByAccessibleName(QWidget *root, const QString &name)
{
    for (QWidget *c : root->findChildren<QWidget *>())
        if (c->accessibleName() == name)
            return c;
    return nullptr;
}

} // namespace

class tst_MainWindowInspect : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<MainWindow> m_window;
    std::uint64_t m_inc1 = 0, m_inc2 = 0, m_add = 0, m_fail = 0, m_dependent = 0;

    MainWindow *window() { return m_window.get(); }

    /// Submits through the bridge (as the forms do) and returns the new future's id.
    std::uint64_t submit(const QString &function, std::vector<Value> args)
    {
        EngineBridge *b = window()->bridge();
        QSignalSpy submitted(b, &EngineBridge::submitted);
        SubmitOptions opts;
        opts.pure = false;
        const std::uint64_t request = b->submit(function, std::move(args), opts);
        while (true) {
            if (submitted.isEmpty() && !submitted.wait(kTimeoutMs))
                return 0;
            const QList<QVariant> s = submitted.takeFirst();
            if (s.at(0).toULongLong() == request) {
                const auto ids = s.at(1).value<std::vector<std::uint64_t>>();
                return ids.empty() ? 0 : ids.front();
            }
        }
    }

    Value ref(std::uint64_t id) { return Value::ref(window()->bridge()->keyOf(id).toStdString()); }

    QPoint graphPoint(std::uint64_t id)
    {
        TaskGraphView *g = window()->graphView();
        const auto rect = g->nodeRect(id);
        if (!rect)
            return {};
        g->graphicsView()->centerOn(rect->center());
        return g->graphicsView()->mapFromScene(rect->center());
    }

    void clickTableRow(std::uint64_t id)
    {
        FuturesTable *t = window()->futuresTable();
        const QModelIndex source = window()->futuresModel()->index(
            window()->futuresModel()->rowOf(id), FuturesModel::Key);
        const QModelIndex proxy = t->filter()->mapFromSource(source);
        QVERIFY(proxy.isValid());
        t->view()->scrollTo(proxy);
        QTest::mouseClick(
            t->view()->viewport(), Qt::LeftButton, {}, t->view()->visualRect(proxy).center());
    }

private slots:
    void initTestCase()
    {
        qRegisterMetaType<std::vector<std::uint64_t>>();
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindowinspect"));
        m_window = std::make_unique<MainWindow>();
        EngineBridge *b = window()->bridge();
        testsupport::useBundledPlugins(*b->catalog());
        ClusterOptions options;
        options.workers = 2;
        window()->startEngine(options);
        window()->show();
        QVERIFY(QTest::qWaitForWindowExposed(window()));
        QVERIFY(b->isRunning());
        QVERIFY(b->catalog()->function(QStringLiteral("bench.inc")));
        window()->errorsPanel()->setConfirm([](const QString &, const QString &) { return true; });

        // A small DAG: inc(1), inc(2), add of the two; a failure and a dependent of it.
        m_inc1 = submit(QStringLiteral("bench.inc"), {1});
        m_inc2 = submit(QStringLiteral("bench.inc"), {2});
        QVERIFY(m_inc1 && m_inc2);
        m_add = submit(QStringLiteral("bench.add"), {ref(m_inc1), ref(m_inc2)});
        m_fail = submit(QStringLiteral("bench.fail"), {"the input file is missing"});
        QVERIFY(m_add && m_fail);
        m_dependent = submit(QStringLiteral("bench.inc"), {ref(m_fail)});
        QVERIFY(m_dependent);
        FuturesModel *m = window()->futuresModel();
        QTRY_VERIFY_WITH_TIMEOUT(m->row(m_add) && m->row(m_add)->status == FutureStatus::Finished
                                     && m->row(m_dependent)
                                     && m->row(m_dependent)->status == FutureStatus::Error,
                                 kTimeoutMs);
        TaskGraphView *g = window()->graphView();
        QTRY_VERIFY_WITH_TIMEOUT(!g->isLayoutPending() && g->nodeRect(m_dependent).has_value(),
                                 kTimeoutMs);
    }

    void cleanupTestCase() { m_window.reset(); }

    void test_docksExistWithAccessibleNames_data()
    {
        QTest::addColumn<QString>("object");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QKeySequence>("key");
        QTest::newRow("graph") << "graphDock"
                               << "Task graph" << QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G);
        QTest::newRow("stream") << "streamDock"
                                << "Task stream" << QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T);
        QTest::newRow("workers") << "workersDock"
                                 << "Workers" << QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W);
    }
    void test_docksExistWithAccessibleNames()
    {
        QFETCH(QString, object);
        QFETCH(QString, name);
        QFETCH(QKeySequence, key);
        QDockWidget *d = window()->dock(object);
        QVERIFY(d);
        QCOMPARE(d->accessibleName(), name);
        QVERIFY(d->widget());
        QVERIFY(!d->widget()->accessibleName().isEmpty());
        QCOMPARE(d->toggleViewAction()->shortcut(), key);
        // The View menu's toggle hides and shows the dock.
        const bool visible = d->isVisible();
        d->toggleViewAction()->trigger();
        QCOMPARE(d->isVisible(), !visible);
        d->toggleViewAction()->trigger();
        QCOMPARE(d->isVisible(), visible);
        QVERIFY(findByAccessibleName(window(), name));
    }

    void test_defaultLayoutShowsGraphAndStream()
    {
        for (const char *name : {"graphDock", "streamDock"}) {
            QDockWidget *d = window()->dock(QString::fromLatin1(name));
            QVERIFY(d->isVisible());
            QVERIFY2(!d->visibleRegion().isEmpty(), name); // not hidden behind a tab
            QVERIFY2(d->width() >= 300 && d->height() >= 150, name);
        }
    }

    void test_dagShownInGraphAndStream()
    {
        TaskGraphView *g = window()->graphView();
        for (std::uint64_t id : {m_inc1, m_inc2, m_add, m_fail, m_dependent})
            QVERIFY(g->nodeRect(id).has_value());
        QVERIFY(g->displayedEdgeCount() >= 3); // inc->add twice, fail->dependent
        QVERIFY(!g->isCollapsed());
        TaskStreamView *s = window()->streamView();
        QTRY_VERIFY_WITH_TIMEOUT(!s->model().executionsOf(m_add).empty(), kTimeoutMs);
        QVERIFY(!s->model().executionsOf(m_inc1).empty());
        QVERIFY(!s->model().executionsOf(m_fail).empty());
    }

    void test_tableSelectsGraphNodeAndBack()
    {
        TaskGraphView *g = window()->graphView();
        FuturesTable *t = window()->futuresTable();
        clickTableRow(m_add);
        QCOMPARE(t->selectedIds(), std::vector<std::uint64_t>{m_add});
        QCOMPARE(g->selectedTasks(), QList<quint64>{m_add});
        QCOMPARE(window()->streamView()->selectedTasks(), QList<quint64>{m_add});

        // A click on a node selects its row (and the stream follows).
        const QPoint p = graphPoint(m_inc2);
        QVERIFY(!p.isNull());
        QTest::mouseClick(g->graphicsView()->viewport(), Qt::LeftButton, {}, p);
        QCOMPARE(g->selectedTasks(), QList<quint64>{m_inc2});
        QCOMPARE(t->selectedIds(), std::vector<std::uint64_t>{m_inc2});
        QCOMPARE(window()->streamView()->selectedTasks(), QList<quint64>{m_inc2});
        // The selected row is the table's current row, scrolled into view.
        const QModelIndex current = t->view()->currentIndex();
        QCOMPARE(t->filter()->mapToSource(current).row(), window()->futuresModel()->rowOf(m_inc2));
    }

    void test_streamAndErrorsSelectEverywhere()
    {
        TaskStreamView *s = window()->streamView();
        TaskGraphView *g = window()->graphView();
        FuturesTable *t = window()->futuresTable();
        // Zoom the stream onto inc(1)'s execution and click it.
        const auto where = s->model().executionsOf(m_inc1);
        QVERIFY(!where.empty());
        const auto &x
            = s->model().lanes()[std::size_t(where.front().first)].executions[where.front().second];
        const std::int64_t length = std::max<std::int64_t>(x.end - x.start, 10);
        s->setVisibleWindow(x.start - length, 3 * length);
        const QPoint p(int((s->xOf(x.start) + s->xOf(x.end)) / 2),
                       s->yOfLane(where.front().first) + s->laneHeight() / 2);
        QTest::mouseClick(s->viewport(), Qt::LeftButton, {}, p);
        QCOMPARE(s->selectedTasks(), QList<quint64>{m_inc1});
        QCOMPARE(g->selectedTasks(), QList<quint64>{m_inc1});
        QCOMPARE(t->selectedIds(), std::vector<std::uint64_t>{m_inc1});

        // The errors panel: the root cause selects its task everywhere.
        ErrorsPanel *e = window()->errorsPanel();
        QTreeView *tree = e->view();
        QModelIndex rootCause;
        for (int r = 0; r < tree->model()->rowCount() && !rootCause.isValid(); ++r) {
            const QModelIndex group = tree->model()->index(r, 0);
            for (int c = 0; c < tree->model()->rowCount(group); ++c) {
                const QModelIndex i = tree->model()->index(c, 0, group);
                if (i.data(ErrorsModel::IdRole).toULongLong() == m_fail)
                    rootCause = i;
            }
        }
        QVERIFY(rootCause.isValid());
        tree->scrollTo(rootCause);
        QTest::mouseClick(
            tree->viewport(), Qt::LeftButton, {}, tree->visualRect(rootCause).center());
        QCOMPARE(g->selectedTasks(), QList<quint64>{m_fail});
        QCOMPARE(t->selectedIds(), std::vector<std::uint64_t>{m_fail});
        QCOMPARE(s->selectedTasks(), QList<quint64>{m_fail});

        // And back: the table selects the dependent's row in the errors panel.
        clickTableRow(m_dependent);
        QCOMPARE(e->selectedIds(), std::vector<std::uint64_t>{m_dependent});
        QCOMPARE(g->selectedTasks(), QList<quint64>{m_dependent});
    }

    void test_logLineSelectsItsTaskAndBack()
    {
        const std::uint64_t logger = submit(QStringLiteral("bench.log_and_progress"), {2});
        QVERIFY(logger);
        const QString key = window()->bridge()->keyOf(logger);
        QTableView *log = window()->logPanel()->view();
        auto lineOf = [&] {
            for (int r = log->model()->rowCount() - 1; r >= 0; --r)
                if (log->model()->index(r, 0).data(LogModel::TaskKeyRole).toString() == key)
                    return log->model()->index(r, LogModel::Message);
            return QModelIndex();
        };
        QTRY_VERIFY_WITH_TIMEOUT(lineOf().isValid(), kTimeoutMs);
        QDockWidget *d = window()->dock(QStringLiteral("logDock"));
        d->show();
        d->raise();
        const QModelIndex line = lineOf();
        log->scrollTo(line);
        QTest::mouseClick(log->viewport(), Qt::LeftButton, {}, log->visualRect(line).center());
        QCOMPARE(window()->futuresTable()->selectedIds(), std::vector<std::uint64_t>{logger});
        QCOMPARE(window()->graphView()->selectedTasks(), QList<quint64>{logger});
        // Selecting another task clears the log selection; selecting this one selects its
        // lines again.
        clickTableRow(m_add);
        QVERIFY(log->selectionModel()->selectedRows().isEmpty());
        clickTableRow(logger);
        const auto rows = log->selectionModel()->selectedRows();
        QVERIFY(!rows.isEmpty());
        for (const QModelIndex &i : rows)
            QCOMPARE(i.data(LogModel::TaskKeyRole).toString(), key);
    }

    void test_noKeyIsAmbiguousAndDeleteReleasesFromGraph()
    {
        QList<QKeySequence> windowKeys;
        for (QAction *a : window()->actions())
            windowKeys += a->shortcuts();
        for (QWidget *view : {static_cast<QWidget *>(window()->graphView()),
                              static_cast<QWidget *>(window()->streamView())})
            for (QAction *a : view->findChildren<QAction *>())
                for (const QKeySequence &k : a->shortcuts())
                    QVERIFY2(!windowKeys.contains(k), qPrintable(k.toString()));

        // Delete with the graph focused releases the selected future (the window's action,
        // on the linked selection), instead of an "ambiguous shortcut" doing nothing.
        const std::uint64_t extra = submit(QStringLiteral("bench.inc"), {41});
        QVERIFY(extra);
        TaskGraphView *g = window()->graphView();
        QTRY_VERIFY_WITH_TIMEOUT(!g->isLayoutPending() && g->nodeRect(extra).has_value(),
                                 kTimeoutMs);
        window()->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window(), kTimeoutMs));
        const QPoint p = graphPoint(extra);
        QTest::mouseClick(g->graphicsView()->viewport(), Qt::LeftButton, {}, p);
        QCOMPARE(window()->futuresTable()->selectedIds(), std::vector<std::uint64_t>{extra});
        g->graphicsView()->setFocus();
        QTRY_VERIFY_WITH_TIMEOUT(g->graphicsView()->hasFocus(), kTimeoutMs);
        QVERIFY(window()->bridge()->holds(extra));
        QTest::keyClick(g->graphicsView()->viewport(), Qt::Key_Delete);
        QVERIFY(!window()->bridge()->holds(extra));
    }

    void test_restartWorkerFromPanel()
    {
        QDockWidget *d = window()->dock(QStringLiteral("workersDock"));
        d->show();
        d->raise();
        WorkersPanel *panel = window()->workersPanel();
        panel->setRefreshInterval(100);
        QTRY_COMPARE_WITH_TIMEOUT(panel->model()->rowCount(), 2, kTimeoutMs);
        const int victim = panel->model()->workers().front().id;
        panel->table()->selectRow(0);
        QPushButton *restart = nullptr;
        for (QPushButton *b : panel->findChildren<QPushButton *>())
            if (b->accessibleName() == QLatin1String("Restart worker"))
                restart = b;
        QVERIFY(restart);
        QVERIFY(restart->isEnabled()); // the Client can restart workers
        QSignalSpy finished(panel, &WorkersPanel::restartFinished);
        QTest::mouseClick(restart, Qt::LeftButton);
        QVERIFY(finished.count() == 1 || finished.wait(kTimeoutMs));
        QCOMPARE(finished.at(0).at(0).toInt(), victim);
        QVERIFY(finished.at(0).at(1).toBool());
        // Thread workers: a fresh worker replaces it; the cluster keeps its size.
        auto replaced = [&] {
            const auto &ws = panel->model()->workers();
            return ws.size() == 2
                   && std::none_of(ws.begin(), ws.end(), [&](auto &w) { return w.id == victim; });
        };
        QTRY_VERIFY_WITH_TIMEOUT(replaced(), kTimeoutMs);
        // Work still runs.
        const std::uint64_t after = submit(QStringLiteral("bench.inc"), {99});
        FuturesModel *m = window()->futuresModel();
        QTRY_VERIFY_WITH_TIMEOUT(m->row(after) && m->row(after)->preview == QLatin1String("100"),
                                 kTimeoutMs);
        QCOMPARE(m->row(m_add)->preview, QStringLiteral("5"));
    }

    /// Runs `taskbench --bench-gui <arguments>` and reads its JSON figure lines.
    static void runBench(const QStringList &arguments, QMap<QString, double> &figures)
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TASKBENCH_BIN_DIR "/taskbench"),
                QStringList{QStringLiteral("--bench-gui"),
                            QStringLiteral("--plugins"),
                            QStringLiteral(TASKBENCH_PLUGIN_DIR)}
                    + arguments);
        QVERIFY(p.waitForStarted());
        QVERIFY(p.waitForFinished(280000));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 p.readAllStandardError().constData());
        const QList<QByteArray> lines = p.readAllStandardOutput().split('\n');
        for (const QByteArray &line : lines) {
            if (line.trimmed().isEmpty())
                continue;
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
            QVERIFY2(error.error == QJsonParseError::NoError && doc.isObject(), line.constData());
            const QJsonObject o = doc.object();
            QVERIFY2(o.value(QStringLiteral("value")).isDouble(), line.constData());
            figures.insert(o.value(QStringLiteral("figure")).toString(),
                           o.value(QStringLiteral("value")).toDouble());
        }
    }

    void test_benchGuiMapPrintsFigures()
    {
        QMap<QString, double> figures;
        runBench({QStringLiteral("--bench-tasks"),
                  QStringLiteral("100000"),
                  QStringLiteral("--workers"),
                  QStringLiteral("2")},
                 figures);
        if (QTest::currentTestFailed())
            return;
        for (const char *key : {"max_stall_ms_map_100k", "map_100k_total_ms", "map_100k_rows"}) {
            QVERIFY2(figures.contains(QString::fromLatin1(key)), key);
            QVERIFY2(figures.value(QString::fromLatin1(key)) >= 0, key);
        }
        QVERIFY(figures.value(QStringLiteral("map_100k_rows")) == 100000);
        // One run only: no other map's figures, and not the views'.
        QVERIFY(!figures.contains(QStringLiteral("max_stall_ms_map_1m")));
        QVERIFY(!figures.contains(QStringLiteral("layout_2000_ms")));
    }

    void test_benchViewsPrintsInspectFigures()
    {
        QMap<QString, double> figures;
        runBench({QStringLiteral("--bench-views")}, figures);
        if (QTest::currentTestFailed())
            return;
        for (const char *key : {"layout_2000_ms",
                                "max_stall_ms_layout_2000",
                                "collapsed_100k_ms",
                                "stream_frame_ms_100k"}) {
            QVERIFY2(figures.contains(QString::fromLatin1(key)), key);
            QVERIFY2(figures.value(QString::fromLatin1(key)) >= 0, key);
        }
        QVERIFY(figures.value(QStringLiteral("layout_2000_ms")) > 0);
        QVERIFY(figures.value(QStringLiteral("stream_frame_ms_100k")) > 0);
        QVERIFY(!figures.contains(QStringLiteral("max_stall_ms_map_100k")));
        qInfo("layout_2000_ms %.1f, max_stall_ms_layout_2000 %.1f, collapsed_100k_ms %.1f, "
              "stream_frame_ms_100k %.2f",
              figures.value(QStringLiteral("layout_2000_ms")),
              figures.value(QStringLiteral("max_stall_ms_layout_2000")),
              figures.value(QStringLiteral("collapsed_100k_ms")),
              figures.value(QStringLiteral("stream_frame_ms_100k")));
    }

    void test_benchTasksMustBePositive()
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        p.start(
            QStringLiteral(TASKBENCH_BIN_DIR "/taskbench"),
            {QStringLiteral("--bench-gui"), QStringLiteral("--bench-tasks"), QStringLiteral("0")});
        QVERIFY(p.waitForStarted());
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("--bench-tasks wants a positive number"));
    }
};

QTEST_MAIN(tst_MainWindowInspect)
#include "tst_mainwindowinspect.moc"
