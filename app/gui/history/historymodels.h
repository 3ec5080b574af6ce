// Table models of the History panel: recorded sessions (newest first) and the tasks of one
// session. Plain vectors of the store's records; loading happens off the GUI thread and the
// result is swapped in whole.
#pragma once

#include "taskbench/history/historytypes.h"

#include <QAbstractTableModel>

#include <vector>

namespace taskbench::gui {

class SessionsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Id,
        Started,
        Status,
        Duration,
        Tasks,
        Finished,
        Errors,
        Plugins,
        Title,
        ColumnCount
    };
    static constexpr int IdRole = Qt::UserRole + 1;

    using QAbstractTableModel::QAbstractTableModel;
    void setSessions(std::vector<history::SessionSummary> sessions);
    const history::SessionSummary *session(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<history::SessionSummary> m_sessions;
};

class HistoryTasksModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Key, Function, Status, Attempts, Worker, Duration, Result, Error, ColumnCount };
    static constexpr int IdRole = Qt::UserRole + 1;

    using QAbstractTableModel::QAbstractTableModel;
    void setTasks(std::vector<history::TaskRecord> tasks);
    const history::TaskRecord *task(int row) const;
    const std::vector<history::TaskRecord> &tasks() const { return m_tasks; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<history::TaskRecord> m_tasks;
};

} // namespace taskbench::gui
