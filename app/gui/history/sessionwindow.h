// A past session, read-only, in the same views as a live one: the recorded transitions are
// replayed as engine events into a FuturesModel (futures table), the task graph and the
// task stream; errors and the recorded tasks are listed in a table of their own. Nothing
// here talks to the engine.
#pragma once

#include "taskbench/history/historytypes.h"

#include <QDialog>

#include <vector>

class QTabWidget;
class QLabel;
class QTableView;

namespace taskbench::inspect {
class TaskGraphView;
class TaskStreamView;
} // namespace taskbench::inspect

namespace taskbench::gui {

class FuturesModel;
class FuturesTable;
class HistoryTasksModel;

class SessionWindow : public QDialog
{
    Q_OBJECT
public:
    SessionWindow(const history::SessionSummary &session,
                  std::vector<history::TaskRecord> tasks,
                  const std::vector<history::WorkerRecord> &workers,
                  QWidget *parent = nullptr);

    FuturesModel *futuresModel() const { return m_futures; }
    FuturesTable *futuresTable() const { return m_table; }
    QTabWidget *tabs() const { return m_tabs; }
    HistoryTasksModel *errorsModel() const { return m_errors; }

private:
    FuturesModel *m_futures;
    FuturesTable *m_table;
    QTabWidget *m_tabs;
    HistoryTasksModel *m_errors;
};

} // namespace taskbench::gui
