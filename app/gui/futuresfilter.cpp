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
    m_futures = qobject_cast<FuturesModel *>(model);
    QSortFilterProxyModel::setSourceModel(model);
}

void FuturesFilter::setStatusMask(unsigned mask)
{
    if (mask == m_statusMask)
        return;
    m_statusMask = mask;
    invalidateRowsFilter();
}

void FuturesFilter::setText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    invalidateRowsFilter();
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
           || (r.hasError && r.errorMessage.contains(m_text, Qt::CaseInsensitive));
}

bool FuturesFilter::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant l = left.data(sortRole());
    const QVariant r = right.data(sortRole());
    if (l.typeId() == QMetaType::QString || r.typeId() == QMetaType::QString)
        return QString::compare(l.toString(), r.toString(), Qt::CaseInsensitive) < 0;
    return QVariant::compare(l, r) == QPartialOrdering::Less;
}

} // namespace taskbench::gui
