// The task stream view: follow mode while work runs, bars growing live, failed attempts in
// red, click and keyboard selection, selection from elsewhere scrolling into view, zoom and
// pan (keys, wheel, drag), hover tooltips, accessible names.
#include "inspect/inspectstyle.h"
#include "inspect/syntheticevents.h"
#include "inspect/taskstreamview.h"

#include "eventbuilders.h"

#include <QAction>
#include <QHelpEvent>
#include <QScrollBar>
#include <QSignalSpy>
#include <QToolTip>
#include <QtTest>

using namespace taskbench;
using namespace taskbench::inspect;
using namespace testsupport;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000;

QColor pixel(TaskStreamView &view, QPointF p)
{
    QImage image(view.viewport()->size(), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    view.viewport()->render(&image);
    return image.pixelColor(p.toPoint());
}

bool close(const QColor &a, const QColor &b)
{
    return std::abs(a.red() - b.red()) < 16 && std::abs(a.green() - b.green()) < 16
           && std::abs(a.blue() - b.blue()) < 16;
}

struct Fixture
{
    TaskStreamView view;
    std::int64_t end = 0;
    std::int64_t now = 0;
    explicit Fixture(int executions = 2000)
    {
        view.resize(1000, 400);
        view.setClock([this] { return now; });
        view.applyEvents(synthetic::executions(executions, 2, 2, kT0, 1, &end));
        now = end;
        view.show();
    }
    /// Shortcuts need the window active and the view focused.
    bool activate()
    {
        view.activateWindow();
        view.setFocus();
        return QTest::qWaitForWindowActive(&view);
    }
    /// The centre of a recorded execution, in viewport coordinates.
    QPoint centreOf(int lane, std::size_t index)
    {
        const Execution &x = view.model().lanes()[std::size_t(lane)].executions[index];
        return QPoint(int(view.xOf((x.start + x.end) / 2)),
                      view.yOfLane(lane) + view.laneHeight() / 2);
    }
};

} // namespace

class tst_TaskStreamView : public QObject
{
    Q_OBJECT
private slots:
    void test_followsLiveWorkAndBarsGrow()
    {
        TaskStreamView view;
        view.resize(1000, 300);
        std::int64_t now = kT0;
        view.setClock([&now] { return now; });
        view.show();
        EventBatch b = synthetic::map(1, "bench.slow_inc", "slow", 1);
        Event w;
        w.kind = EventKind::WorkerAdded;
        w.worker = 0;
        w.value = 1;
        b.push_back(w);
        b.push_back(executionStarted(1, 0, kT0));
        view.applyEvents(b);
        QVERIFY(view.isFollowing());
        now = kT0 + 500'000;
        // The bar grows to the present: after half a second it covers x(present - 1 ms).
        QTRY_VERIFY_WITH_TIMEOUT(view.visibleStartUs() + view.visibleSpanUs() >= now, 2000);
        const QPointF inside(view.xOf(now - 1000), view.yOfLane(0) + view.laneHeight() / 2.0);
        const QColor bar = pixel(view, inside);
        QVERIFY(!close(bar, Qt::white));
        now = kT0 + 20'000'000; // 20 s later: the window slides along
        QTRY_VERIFY_WITH_TIMEOUT(view.visibleStartUs() + view.visibleSpanUs() >= now, 2000);
        QVERIFY(view.isFollowing());
    }

    void test_failedAttemptsAreRed()
    {
        Fixture f;
        const auto &lanes = f.view.model().lanes();
        for (int lane = 0; lane < int(lanes.size()); ++lane) {
            const auto &v = lanes[std::size_t(lane)].executions;
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (!(v[i].flags & Execution::Failed))
                    continue;
                f.view.setVisibleWindow(v[i].start - 1000, v[i].duration() + 2000);
                QVERIFY(close(pixel(f.view, f.centreOf(lane, i)), failedColor()));
                return;
            }
        }
        QFAIL("the synthetic data has no failed attempt");
    }

    void test_colourByMemory()
    {
        TaskStreamView view;
        view.resize(1000, 300);
        view.applyEvents(synthetic::map(3, "bench.touch_memory", "touch", 1));
        std::vector<Event> e;
        const std::int64_t peaks[] = {200ll << 20, 12ll << 20, -1};
        for (int i = 0; i < 3; ++i) {
            Event x = executionFinished(
                std::uint64_t(1 + i), 0, 0, kT0 + i * 100'000, kT0 + i * 100'000 + 90'000);
            x.usage.peakRssBytes = peaks[i];
            e.push_back(x);
        }
        view.applyEvents(e.data(), e.data() + e.size());
        view.show();
        view.setVisibleWindow(kT0 - 10'000, 320'000);
        auto centre = [&](int i) {
            return QPointF(view.xOf(kT0 + i * 100'000 + 45'000),
                           view.yOfLane(0) + view.laneHeight() / 2.0);
        };
        // By function: one colour for the three.
        QVERIFY(!view.colorsByMemory());
        QVERIFY(close(pixel(view, centre(0)), pixel(view, centre(1))));
        view.setColorByMemory(true);
        const QColor big = pixel(view, centre(0)), small = pixel(view, centre(1)),
                     unknown = pixel(view, centre(2));
        QVERIFY2(big.lightness() + 40 < small.lightness(),
                 qPrintable(QStringLiteral("%1 vs %2").arg(big.name(), small.name())));
        QVERIFY(big.red() > big.green() + 80);                  // dark red
        QVERIFY(std::abs(unknown.red() - unknown.blue()) < 32); // grey
    }

    void test_clickSelectsAndHoverExplains()
    {
        Fixture f(200);
        f.view.showAll();
        QSignalSpy selected(&f.view, &TaskStreamView::taskSelected);
        const auto &x = f.view.model().lanes()[1].executions[10];
        f.view.setVisibleWindow(x.start - 5000, x.duration() + 10000);
        const QPoint p = f.centreOf(1, 10);
        QTest::mouseClick(f.view.viewport(), Qt::LeftButton, {}, p);
        QCOMPARE(selected.count(), 1);
        QCOMPARE(selected.takeFirst().at(0).toULongLong(), quint64(x.task));
        QCOMPARE(f.view.selectedTasks(), QList<quint64>{x.task});
        // Hover: key and duration.
        QHelpEvent help(QEvent::ToolTip, p, f.view.viewport()->mapToGlobal(p));
        QCoreApplication::sendEvent(f.view.viewport(), &help);
        const std::string_view key
            = f.view.model().catalog().key(f.view.model().catalog().slotOf(x.task));
        QVERIFY2(QToolTip::text().contains(QString::fromUtf8(key.data(), qsizetype(key.size()))),
                 qPrintable(QToolTip::text()));
        QVERIFY(QToolTip::text().contains(formatDuration(x.duration())));
        // A click on empty space clears the selection.
        QTest::mouseClick(
            f.view.viewport(), Qt::LeftButton, {}, QPoint(p.x(), f.view.viewport()->height() - 5));
        QVERIFY(f.view.selectedTasks().isEmpty());
    }

    void test_selectionFromElsewhereScrollsIntoView()
    {
        Fixture f;
        QSignalSpy selected(&f.view, &TaskStreamView::taskSelected);
        f.view.setVisibleWindow(kT0, 10'000); // far from the task below
        const Execution &x = f.view.model().lanes()[3].executions[400];
        f.view.selectTasks({x.task});
        QCOMPARE(selected.count(), 0);
        QVERIFY(f.view.visibleStartUs() <= x.start);
        QVERIFY(f.view.visibleStartUs() + f.view.visibleSpanUs() >= x.end);
        QVERIFY(!f.view.isFollowing());
        QCOMPARE(f.view.selectedTasks(), QList<quint64>{x.task});
    }

    void test_zoomAndPanWithKeys()
    {
        Fixture f;
        QVERIFY(f.activate());
        f.view.showAll();
        const auto span = f.view.visibleSpanUs();
        QVERIFY(f.view.visibleStartUs() <= f.view.model().firstUs());
        QVERIFY(f.view.visibleStartUs() + span >= f.view.model().lastUs());
        QTest::keyClick(&f.view, Qt::Key_Plus);
        QVERIFY(f.view.visibleSpanUs() < span);
        QTest::keyClick(&f.view, Qt::Key_Minus);
        QTest::keyClick(&f.view, Qt::Key_Minus);
        QVERIFY(f.view.visibleSpanUs() > span);
        const auto start = f.view.visibleStartUs();
        QTest::keyClick(&f.view, Qt::Key_Left);
        QVERIFY(f.view.visibleStartUs() < start);
        QTest::keyClick(&f.view, Qt::Key_Right);
        QTest::keyClick(&f.view, Qt::Key_Right);
        QVERIFY(f.view.visibleStartUs() > start);
        QVERIFY(!f.view.isFollowing());
        QTest::keyClick(&f.view, Qt::Key_End);
        QVERIFY(f.view.isFollowing());
        QTest::keyClick(&f.view, Qt::Key_Home);
        QVERIFY(!f.view.isFollowing());
        QVERIFY(f.view.visibleStartUs() <= f.view.model().firstUs());
    }

    void test_wheelZoomsAroundTheCursorAndDragPans()
    {
        Fixture f;
        f.view.showAll();
        const QPoint at(600, 100);
        const std::int64_t under = f.view.timeAt(at.x());
        const auto span = f.view.visibleSpanUs();
        QWheelEvent wheel(at,
                          f.view.viewport()->mapToGlobal(at),
                          QPoint(),
                          QPoint(0, 240),
                          Qt::NoButton,
                          Qt::NoModifier,
                          Qt::NoScrollPhase,
                          false);
        QCoreApplication::sendEvent(f.view.viewport(), &wheel);
        QVERIFY(f.view.visibleSpanUs() < span);
        QVERIFY(std::abs(f.view.timeAt(at.x()) - under) <= std::int64_t(span / 1000));
        // Drag 100 px to the right: earlier times come into view.
        const auto start = f.view.visibleStartUs();
        QTest::mousePress(f.view.viewport(), Qt::LeftButton, {}, at);
        QMouseEvent move(QEvent::MouseMove,
                         QPointF(at + QPoint(100, 0)),
                         f.view.viewport()->mapToGlobal(QPointF(at + QPoint(100, 0))),
                         Qt::NoButton,
                         Qt::LeftButton,
                         Qt::NoModifier);
        QCoreApplication::sendEvent(f.view.viewport(), &move);
        QTest::mouseRelease(f.view.viewport(), Qt::LeftButton, {}, at + QPoint(100, 0));
        QVERIFY(f.view.visibleStartUs() < start);
    }

    void test_keyboardSelection()
    {
        Fixture f(100);
        QVERIFY(f.activate());
        f.view.showAll();
        QSignalSpy selected(&f.view, &TaskStreamView::taskSelected);
        QTest::keyClick(&f.view, Qt::Key_Right, Qt::ControlModifier);
        QCOMPARE(selected.count(), 1);
        const quint64 first = selected.takeFirst().at(0).toULongLong();
        QTest::keyClick(&f.view, Qt::Key_Right, Qt::ControlModifier);
        QCOMPARE(selected.count(), 1);
        QVERIFY(selected.takeFirst().at(0).toULongLong() != first);
        QTest::keyClick(&f.view, Qt::Key_Down, Qt::ControlModifier); // the next lane
        QCOMPARE(selected.count(), 1);
        QSignalSpy show(&f.view, &TaskStreamView::showResultRequested);
        QTest::keyClick(&f.view, Qt::Key_Return);
        QCOMPARE(show.count(), 1);
        QSignalSpy retry(&f.view, &TaskStreamView::retryRequested);
        QTest::keyClick(&f.view, Qt::Key_R);
        QCOMPARE(retry.count(), 1);
    }

    void test_accessibleNamesAndShortcuts()
    {
        TaskStreamView view;
        QCOMPARE(view.accessibleName(), QStringLiteral("Task stream"));
        QVERIFY(!view.accessibleDescription().isEmpty());
        QCOMPARE(view.viewport()->accessibleName(), QStringLiteral("Task stream timeline"));
        QVERIFY(!view.horizontalScrollBar()->accessibleName().isEmpty());
        for (QAction *a : view.actions())
            QVERIFY2(!a->shortcut().isEmpty(), qPrintable(a->text()));
        QCOMPARE(view.focusPolicy(), Qt::StrongFocus);
    }
};

QTEST_MAIN(tst_TaskStreamView)
#include "tst_taskstreamview.moc"
