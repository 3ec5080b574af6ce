// The inspect views' GUI benchmark (see the header).
#include "inspectbench.h"

#include "syntheticevents.h"
#include "taskgraphview.h"
#include "taskstreamview.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QGraphicsView>
#include <QImage>
#include <QPainter>
#include <QTimer>

#include <algorithm>

namespace taskbench::inspect {

namespace {

void print(std::FILE *out, const char *name, double value)
{
    std::fprintf(out, "{\"figure\": \"%s\", \"value\": %.1f}\n", name, value);
    std::fflush(out);
}

/// The longest gap between ticks of a 1 ms timer on the GUI thread: how long the GUI could
/// not react.
class StallWatch
{
public:
    StallWatch()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(1);
        QObject::connect(&m_timer, &QTimer::timeout, [this] { tick(); });
    }
    void start()
    {
        m_clock.start();
        m_last = 0;
        m_max = 0;
        m_timer.start();
    }
    void tick()
    {
        const qint64 now = m_clock.nsecsElapsed();
        m_max = std::max(m_max, now - m_last);
        m_last = now;
    }
    double stop()
    {
        tick();
        m_timer.stop();
        return double(m_max) / 1e6;
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_max = 0;
};

/// Runs the event loop until `layoutApplied` or the timeout; false on timeout.
bool waitForLayout(TaskGraphView &view, int timeoutMs)
{
    QEventLoop loop;
    bool done = false;
    auto c = QObject::connect(&view, &TaskGraphView::layoutApplied, &loop, [&] {
        done = true;
        loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    if (!view.isLayoutPending() && view.displayedNodeCount() > 0)
        done = true;
    if (!done)
        loop.exec();
    QObject::disconnect(c);
    return done;
}

/// Paints the canvas once, synchronously (what the first frame after a layout costs).
void paintOnce(QWidget *w)
{
    QImage image(w->size(), QImage::Format_ARGB32_Premultiplied);
    w->render(&image);
}

void spin(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace

int runGuiBenchmarks(const GuiBenchOptions &options, std::FILE *out)
{
    int failures = 0;

    // --- layout of a 2,000-task graph, GUI responsiveness meanwhile ---
    {
        TaskGraphView view;
        view.resize(options.windowSize);
        view.setCollapseThreshold(options.layoutTasks + 1);
        view.show();
        // Warm up Graphviz (plugin configuration) like a running workbench would have.
        view.applyEvents(synthetic::map(2, "bench.inc", "warmup", 1));
        waitForLayout(view, options.timeoutMs);
        view.clear();
        QCoreApplication::processEvents();

        const int mapSize = (options.layoutTasks + 1) / 2;
        std::vector<std::uint64_t> ids;
        EventBatch batch = synthetic::mapReduce(mapSize, 1, &ids);
        // Top up to exactly layoutTasks with a final task depending on the root.
        for (std::uint64_t next = ids.size() + 1; int(ids.size()) < options.layoutTasks; ++next) {
            EventBatch extra = synthetic::map(1, "bench.double", "double", next);
            extra.front().detail().deps = {ids.back()};
            batch.push_back(extra.front());
            ids.push_back(next);
        }
        StallWatch watch;
        watch.start();
        QElapsedTimer clock;
        clock.start();
        view.applyEvents(batch);
        const bool ok = waitForLayout(view, options.timeoutMs);
        const double laidOutMs = double(clock.nsecsElapsed()) / 1e6;
        paintOnce(view.graphicsView()->viewport());
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        if (qEnvironmentVariableIsSet("TASKBENCH_BENCH_VERBOSE"))
            std::fprintf(stderr,
                         "bench-gui: graphviz %.1f ms, on screen %.1f ms, first paint %.1f ms\n",
                         view.lastLayoutMs(),
                         laidOutMs,
                         ms - laidOutMs);
        spin(50); // the frames right after count as well
        const double stall = watch.stop();
        if (!ok || view.displayedNodeCount() != options.layoutTasks) {
            std::fprintf(stderr,
                         "bench-gui: layout of %d tasks failed (%d nodes shown)\n",
                         options.layoutTasks,
                         view.displayedNodeCount());
            ++failures;
        } else {
            print(out, "layout_2000_ms", ms);
            print(out, "max_stall_ms_layout_2000", stall);
        }
    }

    // --- a 100,000-task map, collapsed into one node ---
    {
        TaskGraphView view;
        view.resize(options.windowSize);
        view.show();
        QCoreApplication::processEvents();
        std::vector<std::uint64_t> ids;
        EventBatch batch
            = synthetic::map(options.collapsedTasks, "bench.inc", "inc-map-0f3a", 1, &ids);
        QElapsedTimer clock;
        clock.start();
        view.applyEvents(batch);
        const bool ok = waitForLayout(view, options.timeoutMs);
        paintOnce(view.graphicsView()->viewport());
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        if (!ok || view.displayedNodeCount() != 1) {
            std::fprintf(stderr,
                         "bench-gui: the collapsed view shows %d nodes, not 1\n",
                         view.displayedNodeCount());
            ++failures;
        } else {
            print(out, "collapsed_100k_ms", ms);
        }
    }

    // --- the task stream with 100,000 executions ---
    {
        TaskStreamView view;
        view.resize(options.windowSize.width(), std::min(options.windowSize.height(), 500));
        const std::int64_t t0 = 1'700'000'000'000'000;
        std::int64_t end = t0;
        const EventBatch batch = synthetic::executions(options.streamExecutions, 8, 2, t0, 1, &end);
        view.setClock([end] { return end; });
        view.show();
        view.applyEvents(batch);
        QCoreApplication::processEvents();
        QImage image(view.viewport()->size(), QImage::Format_ARGB32_Premultiplied);
        double worst = 0;
        const std::int64_t span = end - t0;
        const std::int64_t windows[][2] = {{t0, span}, // everything
                                           {t0 + span / 3, span / 10},
                                           {t0 + span / 2, span / 100}};
        for (const auto &w : windows) {
            view.setVisibleWindow(w[0], w[1]);
            view.viewport()->render(&image); // warm-up
            QElapsedTimer clock;
            clock.start();
            for (int i = 0; i < options.streamFrames; ++i) {
                image.fill(Qt::transparent);
                view.viewport()->render(&image);
            }
            worst = std::max(worst, double(clock.nsecsElapsed()) / 1e6 / options.streamFrames);
        }
        if (view.model().executionCount() != std::size_t(options.streamExecutions)) {
            std::fprintf(stderr,
                         "bench-gui: the task stream holds %zu executions\n",
                         view.model().executionCount());
            ++failures;
        } else {
            print(out, "stream_frame_ms_100k", worst);
        }
    }
    return failures == 0 ? 0 : 1;
}

} // namespace taskbench::inspect
