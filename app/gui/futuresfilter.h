// Filtering and sorting of the futures table: by status (a set of statuses) and by text
// (matched against key, function, group and result preview). Reads the source rows directly
// instead of going through data(), so filtering 100,000 rows stays cheap.
#pragma once

#include "futuresmodel.h"

#include <QSortFilterProxyModel>

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
    static constexpr int kStatusBits = kFutureStatusCount;
    FuturesModel *m_futures = nullptr;
    unsigned m_statusMask = allStatuses();
    QString m_text;
};

} // namespace taskbench::gui
