// `taskbench --demo`: replays the Dask futures tutorial in the real main window, through the
// same forms a user would fill in: submit inc(1); inc(1), inc(2) and add of the two; sum of
// a list of futures; map flaky_inc over 0..9 without retries (errors appear) and retry one
// failed future; map again with retries = 5; a failure with a dependent (root cause and
// cascade); a task that logs and reports progress; a few sleeps of different lengths, so the
// task stream shows real bars (these last four with the bench plugin only: the tutorial's has
// no such functions). Each step waits for the previous one to settle, without
// blocking the event loop.
#pragma once

#include <QObject>
#include <QTimer>

#include <cstdint>
#include <functional>
#include <vector>

namespace taskbench::gui {

class MainWindow;

class Demo : public QObject
{
    Q_OBJECT
public:
    /// `plugin`: "bench" (fast, deterministic failures) or "tutorial" (the tutorial's sleeps).
    Demo(MainWindow *window, const QString &plugin, QObject *parent = nullptr);

    void start();
    bool isFinished() const { return m_step >= int(m_steps.size()); }
    /// True when nothing is pending or running and no submission is in flight.
    bool settled() const;

signals:
    void finished();
    void stepStarted(const QString &description);

private:
    struct Step
    {
        QString description;
        std::function<void()> run;
    };
    void tick();
    void submitThroughForm(const QString &function, const QStringList &values);
    void mapThroughForm(const QString &function, const QString &inputs, int retries, bool pure);
    QString fn(const char *name) const;

    MainWindow *m_window;
    QString m_plugin;
    std::vector<Step> m_steps;
    int m_step = -1;
    QTimer m_timer;
    std::vector<std::uint64_t> m_last; ///< ids of the last submission
    std::vector<std::uint64_t> m_incs;
    std::vector<std::uint64_t> m_flaky;
    int m_waitingFor = 0; ///< submissions not yet answered
};

} // namespace taskbench::gui
