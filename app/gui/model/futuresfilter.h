// Filtering and sorting of the futures table: by status (a set of statuses) and by text
// (matched against key, function, group and result preview). Reads the source rows directly
// instead of going through data(), so filtering 100,000 rows stays cheap.
#pragma once

#include "futuresmodel.h"
#include "sortprefix.h"

#include <QSortFilterProxyModel>

#include <cstdint>
#include <vector>

namespace taskbench::gui {

class FuturesFilter : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit FuturesFilter(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *model) override;
    /// Bit i set: show FutureStatus(i). All bits set: no status filter.
    void setStatusMask(unsigned mask);
    unsigned statusMask() const { return m_statusMask; }
    static unsigned allStatuses() { return (1u << kStatusBits) - 1; }
    /// Case-insensitive substring match; empty shows everything.
    void setText(const QString &text);
    QString text() const { return m_text; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    void refilter();
    /// The prefixes of `column`'s texts, up to date for every row.
    const std::vector<SortPrefix> &prefixes(int column) const;
    void updatePrefixes(int first, int last);
    void dropPrefixes() { m_prefixColumn = -1; }

    static constexpr int kStatusBits = kFutureStatusCount;
    FuturesModel *m_futures = nullptr;
    unsigned m_statusMask = allStatuses();
    QString m_text;
    /// Sort prefixes (model/sortprefix.h) of one text column, by source row: kept while the
    /// rows stay (appended rows are added on use, changed ones recomputed).
    mutable std::vector<SortPrefix> m_prefix;
    mutable int m_prefixColumn = -1;
};

} // namespace taskbench::gui
