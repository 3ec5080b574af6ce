// The History panel: past sessions (date, status, duration, task counts, plugins, command)
// from the history database, searchable by function, key, status or error text; the tasks
// of the selected session; actions to open a session read-only in the live views, re-run
// selected tasks or all failed tasks of a session in the current cluster, export a session
// (Perfetto / Chrome trace JSON, CSV, session JSON) and delete it; and the recording and
// retention settings. Every database access runs on a background thread.
#pragma once

#include "taskbench/history/historytypes.h"

#include <QThreadPool>
#include <QWidget>

Q_MOC_INCLUDE("comparewindow.h")
Q_MOC_INCLUDE("sessionwindow.h")

#include <cstdint>
#include <vector>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTableView;
class QTimer;
class QVBoxLayout;

namespace taskbench::gui {

class CompareWindow;
class EngineBridge;
class GuiRecorder;
class GuiResultCache;
class ResultCacheBox;
class HistoryTasksModel;
class SessionsModel;
class SessionWindow;

class HistoryPanel : public QWidget
{
    Q_OBJECT
public:
    /// `recorder` may be null (no recording in this window).
    HistoryPanel(EngineBridge *bridge, GuiRecorder *recorder, QWidget *parent = nullptr);

    /// Another database than the recorder's (tests).
    void setDatabasePath(const QString &path);
    QString databasePath() const { return m_path; }

    /// Reloads the sessions list (and the selected session's tasks).
    void refresh();
    /// Opens a session read-only (as the "Open" button does for the selection).
    void openSession(std::int64_t id);
    /// Compares two sessions in a CompareWindow (as "Compare" does for two selected ones;
    /// the older is A). The comparison is read on a background thread.
    void compareSessions(std::int64_t a, std::int64_t b);
    /// Re-runs the selected tasks (or, when none is selected, all tasks) of the selected
    /// session; failedOnly: its failed tasks.
    void rerunSelected(bool failedOnly);

    SessionsModel *sessionsModel() const { return m_sessions; }
    HistoryTasksModel *tasksModel() const { return m_tasks; }
    QTableView *sessionsView() const { return m_sessionsView; }
    QTableView *tasksView() const { return m_tasksView; }
    QLineEdit *searchEdit() const { return m_search; }
    /// The selected session when exactly one is selected, else 0.
    std::int64_t selectedSession() const;
    /// Every selected session, oldest (lowest id) first.
    std::vector<std::int64_t> selectedSessions() const;
    /// Bumped after each finished load (tests wait on it).
    int loads() const { return m_loads; }
    /// Shows the result cache's controls below the recording settings.
    ResultCacheBox *addResultCache(GuiResultCache *cache);

signals:
    void message(const QString &text);
    void loaded();
    void sessionOpened(SessionWindow *window);
    void compareOpened(CompareWindow *window);
    /// A re-run was planned and submitted (number of calls) or refused (problems).
    void rerunSubmitted(int calls);
    void rerunRefused(const QStringList &problems);

private:
    void loadTasks();
    void deleteSelected();
    void exportSelected();
    void updateActions();

    EngineBridge *m_bridge;
    GuiRecorder *m_recorder;
    QString m_path;
    int m_loads = 0;
    int m_generation = 0;     ///< of the sessions list
    int m_taskGeneration = 0; ///< of the task list

    QVBoxLayout *m_contentLayout = nullptr;
    QLineEdit *m_search;
    QTimer *m_searchTimer;
    SessionsModel *m_sessions;
    QTableView *m_sessionsView;
    HistoryTasksModel *m_tasks;
    QSortFilterProxyModel *m_taskFilter;
    QTableView *m_tasksView;
    QLabel *m_tasksLabel;
    QPushButton *m_open;
    QPushButton *m_rerun;
    QPushButton *m_rerunFailed;
    QPushButton *m_export;
    QPushButton *m_compare;
    QPushButton *m_delete;
    QPushButton *m_refresh;
    QCheckBox *m_record;
    QSpinBox *m_keepSessions;
    QSpinBox *m_keepDays;
    /// Database queries; declared last so it is destroyed (and waited for) first.
    QThreadPool m_pool;
};

} // namespace taskbench::gui
