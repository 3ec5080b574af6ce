// `taskbench --bench-gui`: measures the GUI's responsiveness under load in the real main
// window (also on the offscreen platform). A fast timer records the largest gap between its
// ticks while a map of 100,000 no-op tasks runs; each figure is printed as one JSON line,
// e.g. {"figure": "max_stall_ms_map_100k", "value": 38}. Later issues add their figures.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <cstdint>

namespace taskbench::gui {

class MainWindow;

class GuiBench : public QObject
{
    Q_OBJECT
public:
    GuiBench(MainWindow *window, int tasks = 100000, QObject *parent = nullptr);
    void start();

signals:
    /// All figures printed; `ok` false when the run failed or timed out.
    void finished(bool ok);

private:
    void tick();
    void report(bool ok);

    MainWindow *m_window;
    int m_tasks;
    QTimer m_ticker;
    QElapsedTimer m_clock;
    QElapsedTimer m_total;
    qint64 m_lastTick = 0;
    qint64 m_maxGap = 0;
    qint64 m_submittedMs = -1;
    std::uint64_t m_request = 0;
    bool m_done = false;
};

} // namespace taskbench::gui
