// The workbench's main window: the futures table in the centre, docks for plugins, the
// submit and map forms, progress, errors and the log, actions with shortcuts, a status bar
// with cluster counts, and the layout saved with QSettings. It wires widgets to the engine
// bridge and owns no engine state itself.
#pragma once

#include "taskbench/client.h"

#include <QMainWindow>

#include <cstdint>
#include <unordered_map>

class QAction;
class QDockWidget;
class QLabel;

namespace taskbench::gui {

class DetailsDialog;
class EngineBridge;
class ErrorsPanel;
class FuturesModel;
class FuturesTable;
class LogModel;
class LogPanel;
class MapForm;
class PluginsPanel;
class ProgressPanel;
class SubmitForm;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    EngineBridge *bridge() const { return m_bridge; }
    FuturesModel *futuresModel() const { return m_futures; }
    LogModel *logModel() const { return m_log; }
    FuturesTable *futuresTable() const { return m_table; }
    SubmitForm *submitForm() const { return m_submit; }
    MapForm *mapForm() const { return m_map; }
    PluginsPanel *pluginsPanel() const { return m_plugins; }
    ErrorsPanel *errorsPanel() const { return m_errors; }
    ProgressPanel *progressPanel() const { return m_progress; }
    LogPanel *logPanel() const { return m_logPanel; }
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
    void createStatusBar();
    void updateStatus();
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
    QMenu *m_viewMenu = nullptr;
    QLabel *m_statusWorkers = nullptr;
    QLabel *m_statusRunning = nullptr;
    QLabel *m_statusQueued = nullptr;
    QLabel *m_statusFinished = nullptr;
    QLabel *m_statusErrors = nullptr;
    QByteArray m_defaultState;
    std::unordered_map<std::uint64_t, DetailsDialog *> m_details;
    std::uint64_t m_lastSubmitRequest = 0;
    std::uint64_t m_lastMapRequest = 0;
};

} // namespace taskbench::gui
