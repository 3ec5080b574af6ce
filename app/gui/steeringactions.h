// Steering the running cluster from the workbench (taskbench/steering.h): the actions
// "Pause cluster" (a toggle), "Pause now", "Break on function", "Add breakpoint…" (by
// function, key or group, from an attempt on), "Remove breakpoints", "Release held", "Edit
// held arguments…" (its inputs' values, edited, then released), "Release all held", "Step",
// "Raise priority", "Raise group priority" (a whole map), "Run next" and "Kill now", each with a
// shortcut and an accessible name. They act on the futures table's selection; the engine calls run
// on a pool thread, never on the GUI thread, and report in the status bar. "Kill now" is enabled
// only while the one selected task runs on a local process worker (a thread cannot be killed).
#pragma once

#include "taskbench/functionregistry.h"

#include <QList>
#include <QObject>
#include <QThreadPool>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QAction;
class QLabel;
class QWidget;

namespace taskbench {
class Client;
class Future;
} // namespace taskbench

namespace taskbench::gui {

class EngineBridge;
class FuturesModel;
class FuturesTable;

class SteeringActions : public QObject
{
    Q_OBJECT
public:
    SteeringActions(EngineBridge *bridge,
                    FuturesModel *futures,
                    FuturesTable *table,
                    QWidget *window);
    ~SteeringActions() override;

    QAction *pauseAction() const { return m_pause; }
    /// "Kill now", also for the task stream's and graph's menus (the selection is linked).
    QAction *killAction() const { return m_kill; }
    /// Every action, in menu order (a null entry is a separator).
    QList<QAction *> actions() const { return m_actions; }
    /// The actions that apply to selected futures (for the table's context menu).
    QList<QAction *> selectionActions() const { return m_selection; }
    /// "paused" while the cluster is paused, empty otherwise (for the status bar).
    QLabel *statusLabel() const { return m_status; }

signals:
    void message(const QString &text);

private:
    using Work = std::function<QString(Client &, const std::vector<Future> &)>;
    /// Runs work off the GUI thread with the selected futures (or those of `ids`); its text
    /// goes to message().
    void run(Work work,
             bool needsSelection = true,
             std::optional<std::vector<std::uint64_t>> ids = std::nullopt);
    void setPausedShown(bool paused);
    void updateKillEnabled();
    void pauseNow();
    void breakOnSelectedFunctions();
    void raiseSelectedGroups(const Work &raise);
    void addBreakpoint();
    void editHeldArguments();
    void openHeldEditor(const Future &held,
                        const QString &key,
                        const FunctionPtr &function,
                        const std::vector<Value> &args);

    EngineBridge *m_bridge;
    FuturesModel *m_futures;
    FuturesTable *m_table;
    QWidget *m_window;
    QAction *m_pause = nullptr;
    QAction *m_kill = nullptr;
    QList<QAction *> m_actions;
    QList<QAction *> m_selection;
    QLabel *m_status = nullptr;
    QThreadPool m_pool;
};

} // namespace taskbench::gui
