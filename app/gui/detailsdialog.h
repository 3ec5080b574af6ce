// Details of one future: full result, arguments, dependencies and dependents, the history of
// state transitions with times, each attempt (worker, times, outcome) as its own entry, log
// lines and the error. Non-modal; it refreshes while the task changes and only appends, so
// the view does not jump while new attempts arrive.
#pragma once

#include "taskdetails.h"

#include <QDialog>

#include <cstdint>

class QLabel;
class QListWidget;
class QPlainTextEdit;
class QTabWidget;
class QTableWidget;
class QTreeWidget;

namespace taskbench::gui {

class EngineBridge;
class FuturesModel;

class DetailsDialog : public QDialog
{
    Q_OBJECT
public:
    DetailsDialog(EngineBridge *bridge,
                  FuturesModel *futures,
                  std::uint64_t id,
                  QWidget *parent = nullptr);

    std::uint64_t taskId() const { return m_id; }
    QTableWidget *historyTable() const { return m_history; }
    QTreeWidget *attemptsTree() const { return m_attempts; }
    QPlainTextEdit *resultText() const { return m_result; }
    QPlainTextEdit *argumentsText() const { return m_arguments; }
    /// Number of stories applied so far (tests wait for the first).
    int storiesApplied() const { return m_applied; }

public slots:
    void refresh();

signals:
    void openRequested(std::uint64_t id);

private:
    void applyStory(const TaskStory &story);
    void updateOverview();
    void onFrame();

    EngineBridge *m_bridge;
    FuturesModel *m_futures;
    std::uint64_t m_id;
    QLabel *m_icon;
    QLabel *m_title;
    QLabel *m_overview;
    QListWidget *m_deps;
    QListWidget *m_dependents;
    QTabWidget *m_tabs;
    QPlainTextEdit *m_result;
    QPlainTextEdit *m_arguments;
    QTableWidget *m_history;
    QTreeWidget *m_attempts;
    QPlainTextEdit *m_logs;
    QPlainTextEdit *m_error;
    int m_applied = 0;
    bool m_fetching = false;
    bool m_stale = false;
    int m_lastStatus = -1;
    int m_lastAttempts = -1;
    int m_lastState = -1;
};

} // namespace taskbench::gui
