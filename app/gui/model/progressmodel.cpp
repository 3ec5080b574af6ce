#include "progressmodel.h"

#include "statusstyle.h"

namespace taskbench::gui {

ProgressModel::ProgressModel(FuturesModel *futures, QObject *parent)
    : QAbstractTableModel(parent)
    , m_futures(futures)
{
    connect(futures, &FuturesModel::groupsInserted, this, [this](int first, int last) {
        beginInsertRows({}, first, last);
        m_rows = last + 1;
        endInsertRows();
    });
    connect(futures, &FuturesModel::groupsChanged, this, [this] {
        const int n = int(m_futures->groups().size());
        if (n < m_rows) { // the futures model was cleared
            beginResetModel();
            m_rows = n;
            endResetModel();
            return;
        }
        if (m_rows > 0)
            emit dataChanged(index(0, 0), index(m_rows - 1, ColumnCount - 1));
    });
}

int ProgressModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

int ProgressModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ProgressModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows)
        return {};
    const GroupStats &g = m_futures->groups()[std::size_t(index.row())];
    switch (role) {
    case Qt::AccessibleTextRole:
        return tr("%1: %2 of %3 finished, %4 erred")
            .arg(g.name)
            .arg(g.done())
            .arg(g.total)
            .arg(g.erred());
    case Qt::DisplayRole:
        return g.name;
    case Qt::ToolTipRole: {
        QStringList parts;
        for (int s = 0; s < kFutureStatusCount; ++s) {
            if (g.byStatus[std::size_t(s)] > 0)
                parts << QStringLiteral("%1 %2")
                             .arg(g.byStatus[std::size_t(s)])
                             .arg(statusLabel(FutureStatus(s)));
        }
        return QStringLiteral("%1 (%2)\n%3")
            .arg(g.name, g.function, parts.join(QStringLiteral(", ")));
    }
    case DoneRole:
        return g.done();
    case ErredRole:
        return g.erred();
    case ProcessingRole:
        return g.byStatus[std::size_t(FutureStatus::Processing)];
    case CancelledRole:
        return g.byStatus[std::size_t(FutureStatus::Cancelled)]
               + g.byStatus[std::size_t(FutureStatus::Lost)];
    case TotalRole:
        return g.total;
    default:
        break;
    }
    return {};
}

QVariant ProgressModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    return section == Group ? tr("Task group progress") : QVariant();
}

} // namespace taskbench::gui
