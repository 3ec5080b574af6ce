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
    enum Column { Group, Bar, Counts, ColumnCount };
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
