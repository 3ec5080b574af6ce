// The workbench's main window: the futures table in the centre, docks for plugins, the
// submit and map forms, progress, errors, the log, the task graph, the task stream and the
// workers, actions with shortcuts, a status bar with cluster counts, and the layout saved
// with QSettings. It wires widgets to the engine bridge and owns no engine state itself.
// Selection is linked: a task selected in the table, the graph, the task stream, the errors
// or the log is selected (and scrolled into view) in all the others.
#pragma once

#include "taskbench/client.h"

#include <QMainWindow>

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

class QAction;
class QDockWidget;
class QLabel;

namespace taskbench::inspect {
class TaskGraphView;
class TaskStreamView;
class WorkersPanel;
} // namespace taskbench::inspect

namespace taskbench::gui {

class DetailsDialog;
class EngineBridge;
class ErrorsPanel;
class HistoryPanel;
class ResultCacheBox;
class FuturesModel;
class FuturesTable;
class LogModel;
class LogPanel;
class MapForm;
class PluginsPanel;
class ProgressPanel;
class SubmissionFollower;
class GuiRecorder;
class PathHighlights;
class ReplayActions;
class SteeringActions;
class SubmitForm;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    EngineBridge *bridge() const { return m_bridge; }
    GuiRecorder *recorder() const { return m_recorder; }
    PathHighlights *pathHighlights() const { return m_paths; }
    FuturesModel *futuresModel() const { return m_futures; }
    LogModel *logModel() const { return m_log; }
    FuturesTable *futuresTable() const { return m_table; }
    SubmitForm *submitForm() const { return m_submit; }
    MapForm *mapForm() const { return m_map; }
    PluginsPanel *pluginsPanel() const { return m_plugins; }
    ErrorsPanel *errorsPanel() const { return m_errors; }
    ProgressPanel *progressPanel() const { return m_progress; }
    LogPanel *logPanel() const { return m_logPanel; }
    inspect::TaskGraphView *graphView() const { return m_graph; }
    inspect::TaskStreamView *streamView() const { return m_stream; }
    inspect::WorkersPanel *workersPanel() const { return m_workersPanel; }
    /// Selects and announces the futures of the last Submit, Map or Reduce.
    SubmissionFollower *submissionFollower() const { return m_follower; }
    QDockWidget *dock(const QString &objectName) const;
    QAction *action(const QString &objectName) const;

    /// Scans plugins and starts the local cluster.
    void startEngine(const ClusterOptions &options);
    /// Restores geometry, dock layout and options from QSettings (and saves on close).
    void restoreSettings();
    void saveSettings() const;
    /// Cluster options and extra plugin folders as saved in QSettings.
    static ClusterOptions savedClusterOptions();
    static QStringList savedPluginFolders();

    DetailsDialog *openDetails(std::uint64_t id);
    /// Linked views: selects these tasks in every view except `origin` and scrolls them into
    /// view (a huge selection links its first kLinkedSelectionLimit tasks).
    void selectTasks(const std::vector<std::uint64_t> &ids, QObject *origin = nullptr);
    static constexpr std::size_t kLinkedSelectionLimit = 2000;

public slots:
    void retrySelection();
    void cancelSelection();
    void releaseSelection();
    void copySelection();
    void showSettings();
    void resetLayout();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createDocks();
    void sizeDocks();
    void createStatusBar();
    void connectInspectViews();
    void resolveShortcutClashes();
    void updateStatus();
    /// Shows `text` in "Last action" (read by screen readers) and briefly in the status bar.
    void announce(const QString &text);
    void updateSelectionActions();
    QDockWidget *addDock(QWidget *content,
                         const QString &title,
                         const QString &name,
                         Qt::DockWidgetArea area,
                         bool scroll);

    FuturesModel *m_futures;
    LogModel *m_log;
    EngineBridge *m_bridge;
    FuturesTable *m_table = nullptr;
    SubmitForm *m_submit = nullptr;
    MapForm *m_map = nullptr;
    PluginsPanel *m_plugins = nullptr;
    ErrorsPanel *m_errors = nullptr;
    ProgressPanel *m_progress = nullptr;
    LogPanel *m_logPanel = nullptr;
    inspect::TaskGraphView *m_graph = nullptr;
    inspect::TaskStreamView *m_stream = nullptr;
    inspect::WorkersPanel *m_workersPanel = nullptr;
    HistoryPanel *m_history = nullptr;
    ResultCacheBox *m_cacheBox = nullptr;
    SteeringActions *m_steering = nullptr;
    PathHighlights *m_paths = nullptr;
    ReplayActions *m_replay = nullptr;
    GuiRecorder *m_recorder = nullptr;
    bool m_linkingSelection = false;
    QMenu *m_viewMenu = nullptr;
    QLabel *m_statusWorkers = nullptr;
    QLabel *m_statusRunning = nullptr;
    QLabel *m_statusQueued = nullptr;
    QLabel *m_statusHeld = nullptr;
    QLabel *m_statusFinished = nullptr;
    QLabel *m_statusErrors = nullptr;
    QLabel *m_lastAction = nullptr; ///< what the last Submit, Map or Reduce made
    QString m_mappingPrefix;        ///< "Mapping f" of the last map's temporary message
    SubmissionFollower *m_follower = nullptr;
    QByteArray m_defaultState;
    std::unordered_map<std::uint64_t, DetailsDialog *> m_details;
    std::uint64_t m_lastSubmitRequest = 0;
    std::uint64_t m_lastMapRequest = 0;
};

} // namespace taskbench::gui
