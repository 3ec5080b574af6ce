// The comparison of two recorded sessions as a table: one row per matched (or unmatched)
// task with its status, duration and error in A and in B, the B/A duration ratio and whether
// the results are equal. The data is history::compareTasks' (the CLI's `history compare`
// shows the same); the model only formats it.
#pragma once

#include "taskbench/history/compare.h"

#include <QAbstractTableModel>

namespace taskbench::gui {

class CompareModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Key,
        Function,
        MatchedBy,
        StatusA,
        StatusB,
        DurationA,
        DurationB,
        Ratio,
        Result,
        ErrorA,
        ErrorB,
        ColumnCount
    };
    /// Raw values for sorting (durations in µs, the ratio as a double; -1 when unknown).
    static constexpr int SortRole = Qt::UserRole + 1;
    /// True for rows whose task changed: a status, an error, the result, or ≥ 10 % in time.
    static constexpr int ChangedRole = Qt::UserRole + 2;

    using QAbstractTableModel::QAbstractTableModel;
    void setComparison(history::SessionComparison comparison);
    const history::SessionComparison &comparison() const { return m_comparison; }
    const history::TaskComparison *task(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// "Session 3 → 4: 120 matched, median ×1.05; 2 newly failing, 1 fixed; ..." (one line
    /// per finding, for the window's summary label and its accessible description).
    QString summaryText() const;

private:
    history::SessionComparison m_comparison;
};

/// True when the task differs between the two runs (see CompareModel::ChangedRole).
bool compareRowChanged(const history::TaskComparison &t);

} // namespace taskbench::gui
