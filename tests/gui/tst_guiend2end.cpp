// End to end with a real Client and the bench plugin: submit through the form, map with
// failures and Retry all failed, a refused plugin in the plugins panel, the details dialog's
// transitions, release, and the table after 10,000 tasks. Waits with QTRY_* (no sleeps).
#include "argumentfield.h"
#include "detailsdialog.h"
#include "enginebridge.h"
#include "errorsmodel.h"
#include "errorspanel.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "guifixture.h"
#include "mainwindow.h"
#include "mapform.h"
#include "pluginspanel.h"
#include "submitform.h"

#include <QFile>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <algorithm>
#include <cstring>
#include <limits>

using namespace taskbench;
using namespace taskbench::gui;

namespace {

constexpr int kTimeoutMs = 30000;

const FutureRow *rowWith(FuturesModel *m, const QString &function, const QString &preview = {})
{
    for (const FutureRow &r : m->rows())
        if (r.function == function && (preview.isEmpty() || r.preview == preview))
            return &r;
    return nullptr;
}

} // namespace

class tst_GuiEnd2End : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_refusedDir;
    std::unique_ptr<MainWindow> m_window;

    MainWindow *window() { return m_window.get(); }

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guiend2end"));
        // These tests watch tasks run (workers, transitions, failures): results cached by an
        // earlier run of the suites (one history database) would finish them without running.
        QSettings().setValue(QStringLiteral("cache/enabled"), false);
        QVERIFY(m_refusedDir.isValid());
        // Not a plugin at all: the loader refuses it with a reason.
        QFile bogus(m_refusedDir.filePath(QStringLiteral("libnotaplugin.so")));
        QVERIFY(bogus.open(QIODevice::WriteOnly));
        bogus.write("this is not a shared library\n");
        bogus.close();

        m_window = std::make_unique<MainWindow>();
        EngineBridge *b = window()->bridge();
        testsupport::useBundledPlugins(*b->catalog(), {m_refusedDir.path()});
        ClusterOptions options;
        options.workers = 2;
        window()->startEngine(options);
        window()->show();
        QVERIFY(b->isRunning());
        QVERIFY(b->catalog()->function(QStringLiteral("bench.inc")));
        window()->errorsPanel()->setConfirm([](const QString &, const QString &) { return true; });
    }

    void cleanupTestCase() { m_window.reset(); }

    void test_refusedPluginShownWithReason()
    {
        PluginsPanel *panel = window()->pluginsPanel();
        const QStringList refused = panel->refusedPaths();
        QVERIFY2(std::any_of(refused.begin(),
                             refused.end(),
                             [](const QString &p) {
                                 return p.endsWith(QLatin1String("libnotaplugin.so"));
                             }),
                 qPrintable(refused.join(QLatin1Char(','))));
        QTreeWidget *tree = panel->tree();
        bool found = false;
        for (int i = 0; i < tree->topLevelItemCount(); ++i) {
            QTreeWidgetItem *top = tree->topLevelItem(i);
            for (int c = 0; c < top->childCount(); ++c) {
                const QString text = top->child(c)->text(0);
                if (text.startsWith(QLatin1String("libnotaplugin.so"))
                    && text.size() > int(strlen("libnotaplugin.so — ")))
                    found = true; // the reason follows the file name
            }
        }
        QVERIFY(found);
        // The bench plugin's functions are listed with their signatures.
        const auto items = tree->findItems(QStringLiteral("inc(x: int) -> int"),
                                           Qt::MatchRecursive | Qt::MatchExactly);
        QVERIFY(!items.isEmpty());
    }

    void test_submitThroughFormFinishesWithResult()
    {
        SubmitForm *form = window()->submitForm();
        FuturesModel *model = window()->futuresModel();
        form->setCurrentFunction(QStringLiteral("bench.inc"));
        QCOMPARE(form->fields().size(), std::size_t(1));
        form->fields()[0]->setText(QStringLiteral("1"));
        const int before = model->rowCount();
        QTest::mouseClick(form->submitButton(), Qt::LeftButton);
        // A row appears (pending or already further along), then finishes with result 2.
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), before + 1, kTimeoutMs);
        const std::uint64_t id = model->idAt(before);
        QTRY_COMPARE_WITH_TIMEOUT(
            int(model->row(id)->status), int(FutureStatus::Finished), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(model->row(id)->preview, QStringLiteral("2"), kTimeoutMs);
        const int row = model->rowOf(id);
        QCOMPARE(model->index(row, FuturesModel::Status).data().toString(),
                 QStringLiteral("finished"));
        QCOMPARE(model->index(row, FuturesModel::Result).data().toString(), QStringLiteral("2"));
        QCOMPARE(model->index(row, FuturesModel::Type).data().toString(), QStringLiteral("int"));
        QVERIFY(!model->index(row, FuturesModel::Worker).data().toString().isEmpty());
        QVERIFY(form->formError().isEmpty());
    }

    void test_invalidFieldBlocksSubmission()
    {
        SubmitForm *form = window()->submitForm();
        FuturesModel *model = window()->futuresModel();
        form->setCurrentFunction(QStringLiteral("bench.sum"));
        form->fields()[0]->setText(QStringLiteral("[1, 2"));
        const int before = model->rowCount();
        QTest::mouseClick(form->submitButton(), Qt::LeftButton);
        QVERIFY(form->fields()[0]->hasError());
        QVERIFY(!form->fields()[0]->errorText().isEmpty());
        QCOMPARE(window()->bridge()->pendingSubmissions(), 0);
        QTest::qWait(0);
        QCOMPARE(model->rowCount(), before);
        // Fixing the text lets the same call through.
        form->fields()[0]->setMode(ArgumentField::Literal);
        form->fields()[0]->setText(QStringLiteral("[1, 2]"));
        QTest::mouseClick(form->submitButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(rowWith(model, QStringLiteral("bench.sum"), QStringLiteral("3")),
                                 kTimeoutMs);
    }

    void test_detailsShowTransitions()
    {
        FuturesModel *model = window()->futuresModel();
        const FutureRow *r = rowWith(model, QStringLiteral("bench.inc"), QStringLiteral("2"));
        QVERIFY(r);
        DetailsDialog *d = window()->openDetails(r->id);
        QVERIFY(d);
        QTRY_VERIFY_WITH_TIMEOUT(d->storiesApplied() > 0, kTimeoutMs);
        QTableWidget *history = d->historyTable();
        QVERIFY(history->rowCount() >= 3);
        QStringList states;
        for (int i = 0; i < history->rowCount(); ++i)
            states << history->item(i, 2)->text();
        QVERIFY2(states.contains(QStringLiteral("processing")), qPrintable(states.join(',')));
        QCOMPARE(states.last(), QStringLiteral("memory"));
        QCOMPARE(d->attemptsTree()->topLevelItemCount(), 1);
        QCOMPARE(d->resultText()->toPlainText().trimmed(), QStringLiteral("2"));
        // TASKBENCH_TEST_SHOTS=dir saves what the dialog looks like, for review.
        if (qEnvironmentVariableIsSet("TASKBENCH_TEST_SHOTS")) {
            const QString dir = qEnvironmentVariable("TASKBENCH_TEST_SHOTS");
            QVERIFY(d->grab().save(dir + QStringLiteral("/details-overview.png")));
            d->findChild<QTabWidget *>()->setCurrentWidget(history);
            QVERIFY(d->grab().save(dir + QStringLiteral("/details-history.png")));
        }
        d->close();
    }

    void test_mapWithFailuresThenRetryAllFailed()
    {
        MapForm *map = window()->mapForm();
        FuturesModel *model = window()->futuresModel();
        map->setSource(MapForm::Values);
        map->setCurrentFunction(QStringLiteral("bench.flaky_inc_det"));
        map->inputFor(QStringLiteral("i"))->setText(QStringLiteral("0..9"));
        map->retriesSpin()->setValue(0);
        QCOMPARE(map->previewCount(), std::size_t(10));
        std::vector<std::uint64_t> ids;
        auto conn = connect(window()->bridge(),
                            &EngineBridge::submitted,
                            this,
                            [&](quint64, const std::vector<std::uint64_t> &got) { ids = got; });
        QTest::mouseClick(map->mapButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(ids.size(), std::size_t(10), kTimeoutMs);
        disconnect(conn);
        auto countStatus = [&](FutureStatus s) {
            int n = 0;
            for (std::uint64_t id : ids)
                if (const FutureRow *r = model->row(id))
                    n += r->status == s;
            return n;
        };
        // i = 0 and i = 5 fail their first attempt.
        QTRY_COMPARE_WITH_TIMEOUT(
            countStatus(FutureStatus::Finished) + countStatus(FutureStatus::Error), 10, kTimeoutMs);
        QCOMPARE(countStatus(FutureStatus::Error), 2);
        ErrorsPanel *errors = window()->errorsPanel();
        QTRY_COMPARE_WITH_TIMEOUT(int(errors->model()->rootCauses().size()), 2, kTimeoutMs);
        QCOMPARE(errors->retryAllFailed(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(countStatus(FutureStatus::Finished), 10, kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(model->count(FutureStatus::Error), 0, kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(errors->model()->rowCount(), 0, kTimeoutMs);
        for (std::uint64_t id : ids)
            QVERIFY(model->row(id)->attempts >= 1);
    }

    void test_cascadeIsToldApartFromRootCause()
    {
        SubmitForm *form = window()->submitForm();
        FuturesModel *model = window()->futuresModel();
        form->setCurrentFunction(QStringLiteral("bench.fail"));
        form->fields()[0]->setText(QStringLiteral("root cause for the test"));
        std::vector<std::uint64_t> ids;
        auto conn = connect(window()->bridge(),
                            &EngineBridge::submitted,
                            this,
                            [&](quint64, const std::vector<std::uint64_t> &got) { ids = got; });
        QVERIFY(form->trySubmit());
        QTRY_COMPARE_WITH_TIMEOUT(ids.size(), std::size_t(1), kTimeoutMs);
        const std::uint64_t root = ids.front();
        QTRY_VERIFY_WITH_TIMEOUT(model->row(root) && model->row(root)->hasError(), kTimeoutMs);
        ids.clear();
        form->setCurrentFunction(QStringLiteral("bench.inc"));
        form->fields()[0]->setMode(ArgumentField::OneFuture);
        form->fields()[0]->setFutureKeys(QStringList{model->row(root)->key});
        QVERIFY(form->trySubmit());
        QTRY_COMPARE_WITH_TIMEOUT(ids.size(), std::size_t(1), kTimeoutMs);
        disconnect(conn);
        const std::uint64_t dependent = ids.front();
        QTRY_VERIFY_WITH_TIMEOUT(model->row(dependent) && model->row(dependent)->hasError(),
                                 kTimeoutMs);
        QVERIFY(!model->row(root)->fromDependency);
        QVERIFY(model->row(dependent)->fromDependency);
        QCOMPARE(model->row(dependent)->rootKey(), model->row(root)->key);
        ErrorsModel *em = window()->errorsPanel()->model();
        QTRY_COMPARE_WITH_TIMEOUT(em->cascadeCount(), 1, kTimeoutMs);
        // Release both: nobody else needs them, so their rows go away.
        window()->futuresTable()->selectIds({root, dependent});
        window()->releaseSelection();
        QTRY_VERIFY_WITH_TIMEOUT(!model->row(root) && !model->row(dependent), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(em->rowCount(), 0, kTimeoutMs);
        form->fields()[0]->setMode(ArgumentField::Literal);
    }

    void test_editAndRetryRerunsWithDownstream()
    {
        EngineBridge *b = window()->bridge();
        FuturesModel *model = window()->futuresModel();
        std::vector<std::uint64_t> ids;
        auto conn = connect(
            b, &EngineBridge::submitted, this, [&](quint64, const std::vector<std::uint64_t> &got) {
                ids.insert(ids.end(), got.begin(), got.end());
            });
        // add overflows (OverflowError); inc of it fails only because add did.
        b->submit(QStringLiteral("bench.add"),
                  {Value(std::numeric_limits<long long>::max()), Value(1)},
                  {});
        QTRY_COMPARE_WITH_TIMEOUT(ids.size(), std::size_t(1), kTimeoutMs);
        const std::uint64_t add = ids[0];
        QTRY_VERIFY_WITH_TIMEOUT(model->row(add), kTimeoutMs);
        b->submit(
            QStringLiteral("bench.inc"), {Value::ref(model->row(add)->key.toStdString())}, {});
        QTRY_COMPARE_WITH_TIMEOUT(ids.size(), std::size_t(2), kTimeoutMs);
        const std::uint64_t inc = ids[1];
        QTRY_VERIFY_WITH_TIMEOUT(model->row(inc) && model->row(inc)->hasError(), kTimeoutMs);
        QCOMPARE(model->row(add)->errorType(), QStringLiteral("OverflowError"));
        QVERIFY(model->row(inc)->fromDependency);

        ids.clear();
        b->editAndRetry(add, {Value(40), Value(1)});
        QTRY_COMPARE_WITH_TIMEOUT(ids.size(), std::size_t(2), kTimeoutMs);
        disconnect(conn);
        // The new pair runs: add(40, 1) = 41, inc(41) = 42; the failed pair is gone.
        QTRY_VERIFY_WITH_TIMEOUT(
            model->row(ids[1]) && model->row(ids[1])->preview == QLatin1String("42"), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(model->row(ids[0])->preview, QStringLiteral("41"), kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(!model->row(add) && !model->row(inc), kTimeoutMs);
    }

    void test_tableCorrectAfterTenThousandTasks()
    {
        MapForm *map = window()->mapForm();
        FuturesModel *model = window()->futuresModel();
        map->setSource(MapForm::Values);
        map->setCurrentFunction(QStringLiteral("bench.double"));
        map->inputFor(QStringLiteral("x"))->setText(QStringLiteral("0..9999"));
        QCOMPARE(map->previewCount(), std::size_t(10000));
        const int before = model->rowCount();
        const int finishedBefore = model->count(FutureStatus::Finished);
        QVERIFY(map->tryMap());
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), before + 10000, 60000);
        QTRY_COMPARE_WITH_TIMEOUT(
            model->count(FutureStatus::Finished), finishedBefore + 10000, 60000);
        QCOMPARE(model->count(FutureStatus::Pending), 0);
        QCOMPARE(model->count(FutureStatus::Processing), 0);
        int rows = 0;
        for (const GroupStats &g : model->groups())
            if (g.function == QLatin1String("bench.double")) {
                QCOMPARE(g.total, 10000);
                QCOMPARE(g.done(), 10000);
                ++rows;
            }
        QCOMPARE(rows, 1);
        // Results arrive for every row; check the last one.
        const std::uint64_t last = model->idAt(model->rowCount() - 1);
        QTRY_COMPARE_WITH_TIMEOUT(model->row(last)->preview, QStringLiteral("19998"), 60000);
        // Filtering by status works on the big table.
        FuturesTable *table = window()->futuresTable();
        table->setStatusFilter(int(FutureStatus::Finished));
        QCOMPARE(table->filter()->rowCount(), model->count(FutureStatus::Finished));
        table->setStatusFilter(-1);
    }
};

QTEST_MAIN(tst_GuiEnd2End)
#include "tst_guiend2end.moc"
