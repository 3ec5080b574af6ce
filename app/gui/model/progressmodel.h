// One row per task group (a map call, or a function) with done / erred / total counts, read
// from the futures model's running group statistics: dask's `progress`, as a table.
#pragma once

#include "futuresmodel.h"

#include <QAbstractTableModel>

namespace taskbench::gui {

class ProgressModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    /// One column: the panel is a list whose delegate draws the bar and the counts, and a
    /// screen reader reads each row once (its AccessibleTextRole). More columns made AT-SPI
    /// report "column 0/1/2" cells that each repeated the whole row.
    enum Column { Group, ColumnCount };
    enum Role {
        DoneRole = Qt::UserRole + 1,
        ErredRole,
        ProcessingRole,
        CancelledRole,
        TotalRole,
    };

    explicit ProgressModel(FuturesModel *futures, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    FuturesModel *m_futures;
    int m_rows = 0;
};

} // namespace taskbench::gui
