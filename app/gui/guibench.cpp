// GuiBench: the runs, the stall timer, the paint timings and the memory figure (guibench.h).
#include "guibench.h"

#include "enginebridge.h"
#include "futuresfilter.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "guirecorder.h"
#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"
#include "mainwindow.h"

#include "taskbench/client.h"

#include <QCoreApplication>
#include <QFile>
#include <QTableView>

#include <cstdio>

#include <malloc.h>
#include <time.h>

namespace taskbench::gui {

namespace {
constexpr int kTickMs = 5;
constexpr int kPaintSampleMs = 100;
constexpr qint64 kTimeoutMs = 300'000;

void printFigure(const QString &name, double value)
{
    std::printf("{\"figure\": \"%s\", \"value\": %.1f}\n", qPrintable(name), value);
    std::fflush(stdout);
}

/// The process's resident memory (Linux), in KiB; 0 where unknown.
double residentKiB()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble();
    return 0;
}

/// Bytes the allocator has handed out and not had back (all arenas, mmapped chunks too):
/// unlike the resident size, it does not keep what an earlier run freed.
double heapInUse()
{
    const struct mallinfo2 m = mallinfo2();
    return double(m.uordblks) + double(m.hblkhd);
}

/// CPU time of the calling thread, in milliseconds: a stall with far less CPU than wall time
/// was the GUI thread waiting for a core (the engine's and recorder's threads beside it),
/// not working.
double threadCpuMs()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

/// Milliseconds one synchronous repaint of `w` takes.
double paintMs(QWidget *w)
{
    if (!w || !w->isVisible())
        return 0;
    QElapsedTimer t;
    t.start();
    w->repaint();
    return double(t.nsecsElapsed()) / 1e6;
}
} // namespace

GuiBench::GuiBench(MainWindow *window, Run run, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_runDef(run)
{
    m_ticker.setInterval(kTickMs);
    m_ticker.setTimerType(Qt::PreciseTimer);
    connect(&m_ticker, &QTimer::timeout, this, &GuiBench::tick);
    connect(window->bridge(),
            &EngineBridge::submitted,
            this,
            [this](quint64 request, const std::vector<std::uint64_t> &) {
                if (request == m_request)
                    m_submittedMs = m_total.elapsed();
            });
    connect(window->bridge(),
            &EngineBridge::submitFailed,
            this,
            [this](quint64 request, const QString &message) {
                if (request != m_request)
                    return;
                std::fprintf(stderr, "bench-gui: map failed: %s\n", qPrintable(message));
                endRun(false);
            });
}

QString GuiBench::suffix() const
{
    const Run &r = m_runDef;
    QString s = r.tasks >= 1000000 ? QStringLiteral("%1m").arg(r.tasks / 1000000)
                                   : QStringLiteral("%1k").arg(r.tasks / 1000);
    return r.processes ? s + QStringLiteral("_processes") : s;
}

void GuiBench::start()
{
    if (!m_window->bridge()->catalog()->function(QStringLiteral("bench.noop"))) {
        std::fprintf(stderr, "bench-gui: the bench plugin is not loaded (bench.noop)\n");
        emit finished(false);
        return;
    }
    startRun();
}

void GuiBench::startRun()
{
    EngineBridge *b = m_window->bridge();
    const Run &run = m_runDef;
    if (run.processes != b->clusterOptions().processes) {
        // The worker kind of the run; the old cluster closes in the background.
        ClusterSettings settings = b->clusterSettings();
        settings.options.processes = run.processes;
        b->restart(settings);
    }
    SubmitOptions opts;
    opts.pure = false; // distinct tasks, not one
    measureEngine(run, opts);
    m_rssBeforeKiB = residentKiB();
    m_heapBefore = heapInUse();
    m_heapPeak = m_heapBefore;
    std::vector<std::vector<Value>> args(std::size_t(run.tasks));
    m_maxGap = 0;
    m_submittedMs = -1;
    m_paintCount = 0;
    for (int i = 0; i < 3; ++i)
        m_paintMax[i] = m_paintSum[i] = 0;
    m_running = true;
    m_total.start();
    m_clock.start();
    m_lastTick = 0;
    m_lastTickCpuMs = threadCpuMs();
    m_maxGapCpuMs = 0;
    m_lastPaintSample = 0;
    m_ticker.start();
    m_request = b->mapArgs(QStringLiteral("bench.noop"), std::move(args), opts);
}

void GuiBench::measureEngine(const Run &run, const SubmitOptions &opts)
{
    // The same map on a cluster of its own with no views: what the engine alone keeps per
    // task (its tables, the finished values, the handles). Measured before the GUI run, so
    // the GUI's own share is the GUI run's growth minus this.
    EngineBridge *b = m_window->bridge();
    ClusterOptions options = b->clusterOptions();
    options.processes = run.processes;
    const double before = heapInUse();
    {
        Client client(options, b->client()->functionRegistry());
        std::vector<Future> futures = client.mapArgs(
            "bench.noop", std::vector<std::vector<Value>>(std::size_t(run.tasks)), opts);
        client.wait(futures);
        m_engineBytes = heapInUse() - before;
    }
    malloc_trim(0);
}

void GuiBench::measureSortAndFilter()
{
    // What a user waits for after clicking a header or typing in the filter box, with every
    // row of the map in the table.
    FuturesFilter *filter = m_window->futuresTable()->filter();
    QElapsedTimer t;
    const std::pair<int, const char *> sorts[] = {{FuturesModel::Duration, "duration"},
                                                  {FuturesModel::Key, "key"},
                                                  {FuturesModel::Status, "status"}};
    for (const auto &[column, name] : sorts) {
        t.start();
        filter->sort(column, Qt::DescendingOrder);
        printFigure(QStringLiteral("sort_ms_") + suffix() + QLatin1Char('_') + QLatin1String(name),
                    double(t.nsecsElapsed()) / 1e6);
    }
    t.start();
    filter->setText(QStringLiteral("99"));
    const double filterMs = double(t.nsecsElapsed()) / 1e6;
    printFigure(QStringLiteral("filter_ms_") + suffix(), filterMs);
    printFigure(QStringLiteral("filter_rows_") + suffix(), double(filter->rowCount()));
    t.start();
    filter->setText(QString());
    printFigure(QStringLiteral("unfilter_ms_") + suffix(), double(t.nsecsElapsed()) / 1e6);
    filter->sort(-1);
}

void GuiBench::samplePaints()
{
    // Each paint is timed on its own; the gap it causes is left out of the stall figure
    // (the bench forces these repaints, a user's window paints once per frame).
    QWidget *views[3]
        = {m_window->futuresTable()->view(), m_window->graphView(), m_window->streamView()};
    for (int i = 0; i < 3; ++i) {
        const double ms = paintMs(views[i]);
        m_paintMax[i] = std::max(m_paintMax[i], ms);
        m_paintSum[i] += ms;
    }
    ++m_paintCount;
    // The heap's high-water mark, sampled as often as the paints (the engine's transient
    // share is in it too: an upper bound of the GUI's peak).
    m_heapPeak = std::max(m_heapPeak, heapInUse());
    m_lastTick = m_clock.elapsed();
    m_lastTickCpuMs = threadCpuMs();
}

void GuiBench::tick()
{
    const qint64 now = m_clock.elapsed();
    const double cpu = threadCpuMs();
    if (now - m_lastTick > m_maxGap) {
        m_maxGap = now - m_lastTick;
        m_maxGapCpuMs = cpu - m_lastTickCpuMs;
    }
    m_lastTick = now;
    m_lastTickCpuMs = cpu;
    if (!m_running) {
        // Between rows shown and the recorder's backlog written: the heap's peak still
        // counts (the recorder folds its queue into rows meanwhile).
        if (now - m_lastPaintSample >= kPaintSampleMs) {
            m_lastPaintSample = now;
            m_heapPeak = std::max(m_heapPeak, heapInUse());
        }
        return;
    }
    if (now - m_lastPaintSample >= kPaintSampleMs) {
        m_lastPaintSample = now;
        samplePaints();
    }
    const int tasks = m_runDef.tasks;
    FuturesModel *m = m_window->futuresModel();
    const int done = m->count(FutureStatus::Finished) + m->count(FutureStatus::Error)
                     + m->count(FutureStatus::Cancelled) + m->count(FutureStatus::Lost);
    if (m_submittedMs >= 0 && m->rowCount() >= tasks && done >= tasks)
        endRun(true);
    else if (m_total.elapsed() > kTimeoutMs) {
        std::fprintf(stderr, "bench-gui: timed out with %d of %d done\n", done, tasks);
        endRun(false);
    }
}

void GuiBench::endRun(bool ok)
{
    if (!m_running)
        return;
    m_running = false;
    const int tasks = m_runDef.tasks;
    if (ok) {
        const QString s = suffix();
        const double totalMs = double(m_total.elapsed());
        // The gap includes the timer period itself; report the stall beyond it.
        printFigure(QStringLiteral("max_stall_ms_map_") + s,
                    double(std::max<qint64>(0, m_maxGap - kTickMs)));
        printFigure(QStringLiteral("max_stall_cpu_ms_map_") + s, m_maxGapCpuMs);
        printFigure(QStringLiteral("map_") + s + QStringLiteral("_submit_ms"),
                    double(m_submittedMs));
        printFigure(QStringLiteral("map_") + s + QStringLiteral("_total_ms"), totalMs);
        printFigure(QStringLiteral("map_") + s + QStringLiteral("_rows"),
                    double(m_window->futuresModel()->rowCount()));
        // Resident growth of the whole process (with thread workers the engine's own task
        // tables are in it too), per task shown.
        printFigure(QStringLiteral("memory_bytes_per_task_") + s,
                    (residentKiB() - m_rssBeforeKiB) * 1024.0 / tasks);
        // The heap the run added, split into the engine's part (the same map without views,
        // measured before) and the rest: the GUI's models, views, bridge and recorder.
        const double heap = heapInUse() - m_heapBefore;
        printFigure(QStringLiteral("engine_heap_bytes_per_task_") + s, m_engineBytes / tasks);
        printFigure(QStringLiteral("gui_heap_bytes_per_task_") + s, (heap - m_engineBytes) / tasks);
        printFigure(QStringLiteral("gui_heap_peak_bytes_per_task_") + s,
                    (std::max(m_heapPeak, heapInUse()) - m_heapBefore - m_engineBytes) / tasks);
        if (const auto r = m_window->recorder()->stats()) {
            // What the recorder still holds at this moment (see gui_heap_settled_...).
            printFigure(QStringLiteral("recorder_backlog_events_per_task_") + s,
                        double(r->queuedEvents) / tasks);
            printFigure(QStringLiteral("recorder_rows_in_memory_per_task_") + s,
                        double(r->rowsInMemory) / tasks);
        }
        static const char *const names[3] = {"futures_table", "graph_collapsed", "stream"};
        for (int i = 0; i < 3; ++i) {
            const QString n
                = QStringLiteral("frame_ms_") + QLatin1String(names[i]) + QLatin1Char('_') + s;
            printFigure(n + QStringLiteral("_max"), m_paintMax[i]);
            printFigure(n + QStringLiteral("_mean"),
                        m_paintCount ? m_paintSum[i] / m_paintCount : 0.0);
        }
    }
    if (ok && tasks <= 100000)
        measureSortAndFilter();
    m_ok = m_ok && ok;
    if (!ok) {
        m_ticker.stop();
        nextRun();
        return;
    }
    // The figure above includes the history recorder's backlog (the events and rows it has
    // not written yet: it runs at a low priority and catches up once the run is over). What
    // the GUI keeps per task is the heap once the recorder has written everything.
    m_window->recorder()->whenWritten(this, [this, tasks] {
        m_ticker.stop();
        printFigure(QStringLiteral("gui_heap_settled_bytes_per_task_") + suffix(),
                    (heapInUse() - m_heapBefore - m_engineBytes) / tasks);
        printFigure(QStringLiteral("gui_heap_peak_until_written_bytes_per_task_") + suffix(),
                    (m_heapPeak - m_heapBefore - m_engineBytes) / tasks);
        nextRun();
    });
}

void GuiBench::nextRun()
{
    emit finished(m_ok);
}

} // namespace taskbench::gui
