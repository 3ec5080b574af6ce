#include "guibench.h"

#include "enginebridge.h"
#include "futuresmodel.h"
#include "mainwindow.h"

#include <QCoreApplication>

#include <cstdio>

namespace taskbench::gui {

namespace {
constexpr int kTickMs = 5;
constexpr qint64 kTimeoutMs = 300'000;

void printFigure(const char *name, double value)
{
    std::printf("{\"figure\": \"%s\", \"value\": %.1f}\n", name, value);
    std::fflush(stdout);
}
} // namespace

GuiBench::GuiBench(MainWindow *window, int tasks, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_tasks(tasks)
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
                report(false);
            });
}

void GuiBench::start()
{
    EngineBridge *b = m_window->bridge();
    QString fn = QStringLiteral("bench.noop");
    if (!b->function(fn)) {
        std::fprintf(stderr, "bench-gui: the bench plugin is not loaded (bench.noop)\n");
        report(false);
        return;
    }
    std::vector<std::vector<Value>> args;
    args.resize(std::size_t(m_tasks));
    SubmitOptions opts;
    opts.pure = false; // 100,000 distinct tasks, not one
    m_total.start();
    m_clock.start();
    m_lastTick = 0;
    m_ticker.start();
    m_request = b->mapArgs(fn, std::move(args), opts);
}

void GuiBench::tick()
{
    const qint64 now = m_clock.elapsed();
    m_maxGap = std::max(m_maxGap, now - m_lastTick);
    m_lastTick = now;
    if (m_done)
        return;
    FuturesModel *m = m_window->futuresModel();
    const int done = m->count(FutureStatus::Finished) + m->count(FutureStatus::Error)
                     + m->count(FutureStatus::Cancelled) + m->count(FutureStatus::Lost);
    if (m_submittedMs >= 0 && m->rowCount() >= m_tasks && done >= m_tasks)
        report(true);
    else if (m_total.elapsed() > kTimeoutMs) {
        std::fprintf(stderr, "bench-gui: timed out with %d of %d done\n", done, m_tasks);
        report(false);
    }
}

void GuiBench::report(bool ok)
{
    if (m_done)
        return;
    m_done = true;
    m_ticker.stop();
    if (ok) {
        // The gap includes the timer period itself; report the stall beyond it.
        printFigure("max_stall_ms_map_100k", double(std::max<qint64>(0, m_maxGap - kTickMs)));
        printFigure("map_100k_submit_ms", double(m_submittedMs));
        printFigure("map_100k_total_ms", double(m_total.elapsed()));
        printFigure("map_100k_rows", double(m_window->futuresModel()->rowCount()));
    }
    emit finished(ok);
}

} // namespace taskbench::gui
