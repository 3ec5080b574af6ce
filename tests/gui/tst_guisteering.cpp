// Steering from the workbench, end to end with a real cluster (2 thread workers) and the
// bench plugin: Pause cluster (the toolbar toggle) holds a map, Raise priority on the last
// five selected rows, resume, and those five start first; the same for a tutorial.inc map
// paused while it runs, read from the task stream; Break on function (from a selected
// row) holds the next task of that function as "held" with its argument resolved, Release
// held lets it finish; Add breakpoint on tutorial.add holds the tutorial's z = add(x, y),
// whose details show its inputs as 2 and 3, and Edit held arguments runs it on new ones;
// the dialog's group and attempt; Pause now checks the toggle. Waits with QTRY_* (no sleeps).
#include "argumentfield.h"
#include "breakpointdialog.h"
#include "choicepicker.h"
#include "detailsdialog.h"
#include "editretrydialog.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "guifixture.h"
#include "inspect/streammodel.h"
#include "inspect/taskstreamview.h"
#include "mainwindow.h"
#include "mapform.h"
#include "startorder.h"
#include "submitform.h"

#include "taskbench/client.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTest>

#include <algorithm>
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

    /// The raised tasks started first: the first n - 1 starts are all raised, and the n-th
    /// raised one is among the first n + 1 (the last raised and the first other one are
    /// handed to the two workers in one round and may start in either order).
    static void verifyStartedFirst(const std::vector<std::uint64_t> &started,
                                   const std::vector<std::uint64_t> &raised)
    {
        const std::set<std::uint64_t> wanted(raised.begin(), raised.end());
        const std::size_t n = raised.size();
        QVERIFY(started.size() > n);
        for (std::size_t i = 0; i + 1 < n; ++i)
            QVERIFY2(wanted.count(started[i]), qPrintable(QStringLiteral("start %1").arg(i)));
        std::size_t seen = 0;
        for (std::size_t i = 0; i <= n; ++i)
            seen += wanted.count(started[i]);
        QCOMPARE(seen, n);
    }
    bool lastActionSays(const QString &text)
    {
        for (QLabel *l : window()->statusBar()->findChildren<QLabel *>())
            if (l->accessibleName() == QLatin1String("Last action") && l->text().contains(text))
                return true;
        return false;
    }
    template <typename Dialog>
    Dialog *openDialog(const char *action)
    {
        trigger(action);
        Dialog *d = nullptr;
        auto visible = [&] {
            d = window()->findChild<Dialog *>();
            return d && d->isVisible();
        };
        if (!QTest::qWaitFor(visible, kTimeoutMs))
            return nullptr;
        return d;
    }
    std::uint64_t submitThroughForm(const QString &function, const QList<QVariant> &args)
    {
        SubmitForm *form = window()->submitForm();
        form->setCurrentFunction(function);
        for (int i = 0; i < args.size(); ++i) {
            ArgumentField *f = form->fields()[std::size_t(i)];
            if (args[i].typeId() == QMetaType::QString) {
                f->setMode(ArgumentField::OneFuture);
                f->setFutureKeys(QStringList{args[i].toString()});
            } else {
                f->setMode(ArgumentField::Literal);
                f->setText(args[i].toString());
            }
        }
        std::vector<std::uint64_t> ids;
        auto conn = connect(window()->bridge(),
                            &EngineBridge::submitted,
                            this,
                            [&](quint64, const std::vector<std::uint64_t> &got) { ids = got; });
        const bool ok = form->trySubmit();
        const bool answered = QTest::qWaitFor([&] { return !ids.empty(); }, kTimeoutMs);
        disconnect(conn);
        for (ArgumentField *f : form->fields())
            f->setMode(ArgumentField::Literal);
        return ok && answered && ids.size() == 1 ? ids.front() : 0;
    }

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guisteering"));
        QSettings().setValue(QStringLiteral("cache/enabled"), false); // watch tasks run
        m_window = std::make_unique<MainWindow>();
        EngineBridge *b = window()->bridge();
        testsupport::useBundledPlugins(*b->catalog());
        ClusterOptions options;
        options.workers = 2;
        window()->startEngine(options);
        window()->show();
        QVERIFY(b->isRunning());
        QVERIFY(b->catalog()->function(QStringLiteral("bench.inc")));
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
        verifyStartedFirst(started, lastFive);
    }

    /// Issue #19's scenario as a user does it: map tutorial.inc over 0..20 (a second each) on
    /// the 2 workers, pause while it runs, raise the last five, resume: the task stream shows
    /// those five run next. The rest is cancelled once that is seen.
    void test_tutorialMapPausedWhileRunningRaisedFiveRunNextInTheStream()
    {
        auto client = window()->bridge()->client();
        FuturesModel *model = window()->futuresModel();
        std::vector<std::uint64_t> ids;
        mapThroughForm(QStringLiteral("tutorial.inc"), QStringLiteral("0..20"), ids);
        QCOMPARE(ids.size(), std::size_t(21));
        auto statusOf = [&](std::uint64_t id) {
            const FutureRow *r = model->row(id);
            return r ? r->status : FutureStatus::Pending;
        };
        QTRY_VERIFY_WITH_TIMEOUT(statusOf(ids.front()) == FutureStatus::Processing, kTimeoutMs);
        QAction *pause = window()->action(QStringLiteral("pauseCluster"));
        pause->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(client->isPaused(), kTimeoutMs);
        // The running tasks finish; nothing else starts.
        auto running = [&] {
            return std::count_if(ids.begin(), ids.end(), [&](std::uint64_t id) {
                return statusOf(id) == FutureStatus::Processing;
            });
        };
        QTRY_COMPARE_WITH_TIMEOUT(running(), std::ptrdiff_t(0), kTimeoutMs);
        std::vector<std::uint64_t> waiting;
        for (std::uint64_t id : ids)
            if (statusOf(id) == FutureStatus::Pending)
                waiting.push_back(id);
        QVERIFY2(waiting.size() >= 10, qPrintable(QString::number(waiting.size())));
        const std::vector<std::uint64_t> lastFive(ids.end() - 5, ids.end());
        QVERIFY(std::includes(waiting.begin(), waiting.end(), lastFive.begin(), lastFive.end()));
        window()->futuresTable()->selectIds(lastFive);
        trigger("raisePriority");
        QTRY_VERIFY_WITH_TIMEOUT(lastActionSays(QStringLiteral("Priority")), kTimeoutMs);
        QVERIFY(lastActionSays(QStringLiteral("5 task")));
        pause->trigger(); // resume

        // Read the starts from the task stream once six waiting tasks ran there.
        const inspect::StreamModel &stream = window()->streamView()->model();
        auto startInStream = [&](std::uint64_t id) -> std::int64_t {
            const auto at = stream.executionsOf(id);
            return at.empty() ? -1
                              : stream.lanes()[std::size_t(at.front().first)]
                                    .executions[at.front().second]
                                    .start;
        };
        auto ranAfterResume = [&] {
            std::vector<std::pair<std::int64_t, std::uint64_t>> out;
            for (std::uint64_t id : waiting)
                if (const std::int64_t t = startInStream(id); t >= 0)
                    out.emplace_back(t, id);
            std::sort(out.begin(), out.end());
            return out;
        };
        QTRY_VERIFY_WITH_TIMEOUT(ranAfterResume().size() >= 6, kTimeoutMs);
        std::vector<std::uint64_t> order;
        for (const auto &[t, id] : ranAfterResume())
            order.push_back(id);
        verifyStartedFirst(order, lastFive);
        // The stream marks the raised five (and only them) as re-prioritised.
        auto marked = [&](std::uint64_t id) {
            const auto at = stream.executionsOf(id);
            return !at.empty()
                   && (stream.lanes()[std::size_t(at.front().first)]
                           .executions[at.front().second]
                           .flags
                       & inspect::Execution::Reprioritised);
        };
        for (const auto &[t, id] : ranAfterResume()) {
            const bool raised = std::find(lastFive.begin(), lastFive.end(), id) != lastFive.end();
            QCOMPARE(marked(id), raised);
        }

        window()->futuresTable()->selectIds(ids);
        trigger("cancel");
        QTRY_VERIFY_WITH_TIMEOUT(std::none_of(ids.begin(),
                                              ids.end(),
                                              [&](std::uint64_t id) {
                                                  const FutureStatus s = statusOf(id);
                                                  return s == FutureStatus::Pending
                                                         || s == FutureStatus::Processing;
                                              }),
                                 kTimeoutMs);
    }

    void test_raiseGroupPriorityRaisesTheWholeMap()
    {
        auto client = window()->bridge()->client();
        FuturesModel *model = window()->futuresModel();
        testsupport::StartOrder starts(*client);
        QAction *pause = window()->action(QStringLiteral("pauseCluster"));
        pause->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(client->isPaused(), kTimeoutMs);
        std::vector<std::uint64_t> first, second;
        mapThroughForm(QStringLiteral("bench.inc"), QStringLiteral("200..209"), first);
        mapThroughForm(QStringLiteral("bench.double"), QStringLiteral("300..305"), second);
        QTRY_VERIFY_WITH_TIMEOUT(model->row(second.back()), kTimeoutMs);
        window()->futuresTable()->selectIds({second.front()}); // one row names the group
        trigger("raiseGroupPriority");
        QTRY_VERIFY_WITH_TIMEOUT(lastActionSays(QStringLiteral("Priority")), kTimeoutMs);
        QVERIFY(lastActionSays(QStringLiteral("6 task")));
        pause->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(
                second.begin(),
                second.end(),
                [&](std::uint64_t id) { return model->row(id)->status == FutureStatus::Finished; })
                && std::all_of(first.begin(),
                               first.end(),
                               [&](std::uint64_t id) {
                                   return model->row(id)->status == FutureStatus::Finished;
                               }),
            kTimeoutMs);
        client->deliverEvents();
        const std::vector<std::uint64_t> started = starts.ids();
        QCOMPARE(started.size(), first.size() + second.size());
        verifyStartedFirst(started, second);
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

    void test_breakpointOnTutorialAddShowsZsInputsAndEditsThem()
    {
        auto client = window()->bridge()->client();
        FuturesModel *model = window()->futuresModel();
        QVERIFY(window()->bridge()->catalog()->function(QStringLiteral("tutorial.add")));
        window()->futuresTable()->selectIds({});
        auto *dialog = openDialog<BreakpointDialog>("addBreakpoint");
        QVERIFY(dialog);
        QCOMPARE(dialog->matchPicker()->currentText(), QStringLiteral("Function"));
        QVERIFY(dialog->patternEdit()->text().isEmpty()); // nothing selected to suggest
        QTest::keyClicks(dialog->patternEdit(), QStringLiteral("tutorial.add"));
        dialog->accept();
        QTRY_COMPARE_WITH_TIMEOUT(int(client->breakpoints().size()), 1, kTimeoutMs);
        QCOMPARE(client->breakpoints().front().describe(), std::string("function tutorial.add"));

        // The tutorial: x = inc(1), y = inc(2), z = add(x, y).
        const std::uint64_t x = submitThroughForm(QStringLiteral("tutorial.inc"), {1});
        const std::uint64_t y = submitThroughForm(QStringLiteral("tutorial.inc"), {2});
        QVERIFY(x && y);
        QTRY_VERIFY_WITH_TIMEOUT(model->row(x) && model->row(y), kTimeoutMs);
        const std::uint64_t z = submitThroughForm(QStringLiteral("tutorial.add"),
                                                  {model->row(x)->key, model->row(y)->key});
        QVERIFY(z);
        QTRY_VERIFY_WITH_TIMEOUT(model->row(z) && model->row(z)->status == FutureStatus::Held,
                                 kTimeoutMs);
        QCOMPARE(model->row(x)->status, FutureStatus::Finished);

        DetailsDialog *details = window()->openDetails(z);
        QVERIFY(details);
        QTRY_VERIFY_WITH_TIMEOUT(details->storiesApplied() > 0, kTimeoutMs);
        const QString shown = details->argumentsText()->toPlainText();
        QVERIFY2(shown.contains(QLatin1String("[0] 2")) && shown.contains(QLatin1String("[1] 3")),
                 qPrintable(shown));
        details->close();

        window()->futuresTable()->selectIds({z});
        auto *edit = openDialog<EditRetryDialog>("editHeldArguments");
        QVERIFY(edit);
        QCOMPARE(edit->accessibleName(), QStringLiteral("Edit held arguments"));
        QCOMPARE(int(edit->fields().size()), 2);
        edit->fields()[0]->setText(QStringLiteral("10"));
        edit->fields()[1]->setText(QStringLiteral("20"));
        edit->accept();
        QTRY_VERIFY_WITH_TIMEOUT(model->row(z)->status == FutureStatus::Finished, kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(model->row(z)->preview, QStringLiteral("30"), kTimeoutMs);
        trigger("removeBreakpoints");
        QTRY_COMPARE_WITH_TIMEOUT(int(client->breakpoints().size()), 0, kTimeoutMs);
    }

    void test_breakpointDialogTakesTheSelectedGroupAndAnAttempt()
    {
        auto client = window()->bridge()->client();
        FuturesModel *model = window()->futuresModel();
        std::vector<std::uint64_t> ids;
        mapThroughForm(QStringLiteral("bench.inc"), QStringLiteral("100..102"), ids);
        QTRY_VERIFY_WITH_TIMEOUT(model->row(ids.back()), kTimeoutMs);
        window()->futuresTable()->selectIds({ids.back()});
        auto *dialog = openDialog<BreakpointDialog>("addBreakpoint");
        QVERIFY(dialog);
        QCOMPARE(dialog->patternEdit()->text(), model->row(ids.back())->function);
        dialog->matchPicker()->setCurrentIndex(
            dialog->matchPicker()->findData(int(Breakpoint::Match::Group)));
        QCOMPARE(dialog->patternEdit()->text(), model->row(ids.back())->group);
        QVERIFY(!dialog->patternEdit()->text().isEmpty());
        dialog->minAttemptSpin()->setValue(2);
        dialog->accept();
        QTRY_COMPARE_WITH_TIMEOUT(int(client->breakpoints().size()), 1, kTimeoutMs);
        const Breakpoint b = client->breakpoints().front();
        QCOMPARE(b.match, Breakpoint::Match::Group);
        QCOMPARE(b.pattern, model->row(ids.back())->group.toStdString());
        QCOMPARE(b.minAttempt, 2);
        // First attempts are not held: the map finishes.
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(ids.begin(),
                                             ids.end(),
                                             [&](std::uint64_t id) {
                                                 return model->row(id)->status
                                                        == FutureStatus::Finished;
                                             }),
                                 kTimeoutMs);
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
