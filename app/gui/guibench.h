// `taskbench --bench-gui --bench-tasks N [--processes]`: measures the GUI's responsiveness
// under load in the real main window (also on the offscreen platform). One run (N no-op tasks
// on thread or process workers; guibenchruns.h runs the default ones, each in a fresh
// process) maps the tasks the way the Map button does
// (through the bridge), and a fast timer records the largest gap between its ticks until
// every row is shown and done; meanwhile it repaints the futures table, the task graph
// (collapsed, as it is at that size) and the task stream now and then and times each paint.
// Also per run: the GUI thread's CPU time in its largest stall, the heap per task split into
// the engine's (the same map run first without views) and the GUI's, and after a 100,000-task
// run the times to sort and filter the table.
// Figures are printed as JSON lines, e.g. {"figure": "max_stall_ms_map_100k", "value": 38};
// the first run keeps the figure names earlier READMEs quote.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

#include "taskbench/client.h"

#include <cstdint>
#include <vector>

namespace taskbench::gui {

class MainWindow;

class GuiBench : public QObject
{
    Q_OBJECT
public:
    struct Run
    {
        int tasks = 100000;
        bool processes = false;
    };
    GuiBench(MainWindow *window, Run run, QObject *parent = nullptr);
    void start();

signals:
    /// All figures printed; `ok` false when a run failed or timed out.
    void finished(bool ok);

private:
    void startRun();
    void tick();
    void measureEngine(const Run &run, const SubmitOptions &opts);
    void measureSortAndFilter();
    void samplePaints();
    void endRun(bool ok);
    void nextRun();
    QString suffix() const;

    MainWindow *m_window;
    Run m_runDef;
    QTimer m_ticker;
    QElapsedTimer m_clock;
    QElapsedTimer m_total;
    qint64 m_lastTick = 0;
    qint64 m_maxGap = 0;
    double m_lastTickCpuMs = 0;
    double m_maxGapCpuMs = 0; ///< the GUI thread's CPU time during the largest gap
    qint64 m_lastPaintSample = 0;
    qint64 m_submittedMs = -1;
    double m_rssBeforeKiB = 0;
    double m_heapBefore = 0;
    double m_heapPeak = 0;    ///< sampled until the recorder has written the run (tick)
    double m_engineBytes = 0; ///< heap the same map kept without the GUI
    double m_paintMax[3] = {};
    double m_paintSum[3] = {};
    int m_paintCount = 0;
    std::uint64_t m_request = 0;
    bool m_running = false;
    bool m_ok = true;
};

} // namespace taskbench::gui
