#include "futuresfilter.h"

namespace taskbench::gui {

FuturesFilter::FuturesFilter(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(FuturesModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

void FuturesFilter::setSourceModel(QAbstractItemModel *model)
{
    if (model == sourceModel())
        return; // the base class keeps its connections; ours must stay beside them
    if (sourceModel())
        disconnect(sourceModel(), nullptr, this, nullptr);
    m_futures = qobject_cast<FuturesModel *>(model);
    dropPrefixes();
    // Connected before the base class's own connections: the prefixes are current when the
    // proxy re-sorts changed or inserted rows.
    if (model) {
        connect(model,
                &QAbstractItemModel::dataChanged,
                this,
                [this](const QModelIndex &topLeft, const QModelIndex &bottomRight) {
                    updatePrefixes(topLeft.row(), bottomRight.row());
                });
        connect(
            model, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex &, int first) {
                if (std::size_t(first) < m_prefix.size())
                    dropPrefixes(); // only appended rows keep the others in place
            });
        connect(model, &QAbstractItemModel::rowsRemoved, this, &FuturesFilter::dropPrefixes);
        connect(model, &QAbstractItemModel::rowsMoved, this, &FuturesFilter::dropPrefixes);
        connect(model, &QAbstractItemModel::modelReset, this, &FuturesFilter::dropPrefixes);
        connect(model, &QAbstractItemModel::layoutChanged, this, &FuturesFilter::dropPrefixes);
    }
    QSortFilterProxyModel::setSourceModel(model);
}

const std::vector<SortPrefix> &FuturesFilter::prefixes(int column) const
{
    if (column != m_prefixColumn) {
        m_prefix.clear();
        m_prefixColumn = column;
    }
    const auto rows = std::size_t(m_futures->rowCount());
    m_prefix.reserve(rows);
    for (std::size_t row = m_prefix.size(); row < rows; ++row)
        m_prefix.push_back(textSortPrefix(*m_futures->sortText(int(row), column)));
    return m_prefix;
}

void FuturesFilter::updatePrefixes(int first, int last)
{
    if (m_prefixColumn < 0 || first < 0)
        return;
    const int end = std::min(last + 1, int(m_prefix.size()));
    for (int row = first; row < end; ++row)
        m_prefix[std::size_t(row)] = textSortPrefix(*m_futures->sortText(row, m_prefixColumn));
}

void FuturesFilter::setStatusMask(unsigned mask)
{
    if (mask == m_statusMask)
        return;
    m_statusMask = mask;
    refilter();
}

void FuturesFilter::setText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    refilter();
}

bool FuturesFilter::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_futures)
        return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
    const FutureRow &r = m_futures->rows()[std::size_t(sourceRow)];
    if (!(m_statusMask & (1u << unsigned(r.status))))
        return false;
    if (m_text.isEmpty())
        return true;
    return r.key.contains(m_text, Qt::CaseInsensitive)
           || r.function.contains(m_text, Qt::CaseInsensitive)
           || r.group.contains(m_text, Qt::CaseInsensitive)
           || r.preview.contains(m_text, Qt::CaseInsensitive)
           || (r.hasError() && r.errorMessage().contains(m_text, Qt::CaseInsensitive));
}

void FuturesFilter::refilter()
{
    // One layout change for the whole table: invalidateRowsFilter() removes the rows that
    // no longer pass range by range, and a filter that keeps every tenth of 100,000 rows
    // made 10,000 removals, each O(rows) in the view and its headers (over a second).
    invalidate();
}

bool FuturesFilter::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    // Typed comparison on the rows themselves: sorting 100,000 rows through data() made two
    // QVariants (and for text columns two QString copies) per comparison.
    if (!m_futures || sortRole() != FuturesModel::SortRole)
        return QSortFilterProxyModel::lessThan(left, right);
    const int column = left.column();
    if (m_futures->sortText(left.row(), column)) {
        const std::vector<SortPrefix> &p = prefixes(column);
        if (const int c
            = compareSortPrefixes(p[std::size_t(left.row())], p[std::size_t(right.row())]))
            return c < 0;
    }
    return m_futures->compareRows(left.row(), right.row(), column) < 0;
}

} // namespace taskbench::gui
