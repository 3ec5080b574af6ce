// CompareModel: formatting of a history::SessionComparison (see comparemodel.h).
#include "comparemodel.h"

#include "statusstyle.h"

#include <QColor>

#include <cmath>

namespace taskbench::gui {

namespace {

QString duration(std::int64_t us)
{
    return us < 0 ? QStringLiteral("—") : formatDuration(us);
}

QString ratio(double r)
{
    return r < 0 ? QStringLiteral("—") : QStringLiteral("×%1").arg(r, 0, 'f', 2);
}

const history::CompareSide *side(const history::TaskComparison &t, bool a)
{
    const auto &s = a ? t.a : t.b;
    return s ? &*s : nullptr;
}

/// "finished", "finished (cached)" for a task served from the result cache, "—" if absent.
QString statusText(const history::CompareSide *s)
{
    if (!s)
        return QStringLiteral("—");
    const QString status = QString::fromStdString(s->status);
    return s->cached() ? CompareModel::tr("%1 (cached)").arg(status) : status;
}

} // namespace

bool compareRowChanged(const history::TaskComparison &t)
{
    if (!t.a || !t.b)
        return true;
    if (t.a->status != t.b->status || t.a->error != t.b->error)
        return true;
    if (t.result == history::ResultMatch::Different)
        return true;
    return t.ratio >= 0 && std::abs(t.ratio - 1.0) >= 0.1;
}

void CompareModel::setComparison(history::SessionComparison comparison)
{
    beginResetModel();
    m_comparison = std::move(comparison);
    endResetModel();
}

const history::TaskComparison *CompareModel::task(int row) const
{
    return row >= 0 && row < rowCount() ? &m_comparison.tasks[std::size_t(row)] : nullptr;
}

int CompareModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_comparison.tasks.size());
}

int CompareModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CompareModel::data(const QModelIndex &index, int role) const
{
    const history::TaskComparison *t = task(index.row());
    if (!t)
        return {};
    const history::CompareSide *a = side(*t, true);
    const history::CompareSide *b = side(*t, false);
    if (role == ChangedRole)
        return compareRowChanged(*t);
    if (role == SortRole) {
        switch (index.column()) {
        case DurationA:
            return qint64(a ? a->durationUs : -1);
        case DurationB:
            return qint64(b ? b->durationUs : -1);
        case Ratio:
            return t->ratio;
        default:
            return data(index, Qt::DisplayRole);
        }
    }
    if (role == Qt::ForegroundRole) {
        if (index.column() == StatusB && t->newlyFailing())
            return QColor(0xc6, 0x28, 0x28);
        if (index.column() == StatusB && t->fixed())
            return QColor(0x2e, 0x7d, 0x32);
        if (index.column() == Result && t->result == history::ResultMatch::Different)
            return QColor(0xc6, 0x28, 0x28);
        return {};
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Result && a && b)
            return tr("A: %1\nB: %2")
                .arg(QString::fromStdString(a->resultHash.empty() ? "not stored" : a->resultHash),
                     QString::fromStdString(b->resultHash.empty() ? "not stored" : b->resultHash));
        if (index.column() == ErrorA || index.column() == ErrorB)
            return data(index, Qt::DisplayRole);
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Key:
        return QString::fromStdString(t->key);
    case Function:
        return QString::fromStdString(t->function);
    case MatchedBy:
        return t->matchedBy.empty() ? (a ? tr("only in A") : tr("only in B"))
                                    : QString::fromStdString(t->matchedBy);
    case StatusA:
        return statusText(a);
    case StatusB:
        return statusText(b);
    case DurationA:
        return duration(a ? a->durationUs : -1);
    case DurationB:
        return duration(b ? b->durationUs : -1);
    case Ratio:
        return ratio(t->ratio);
    case Result:
        return QString::fromLatin1(history::resultMatchName(t->result));
    case ErrorA:
        return a ? QString::fromStdString(a->error) : QString();
    case ErrorB:
        return b ? QString::fromStdString(b->error) : QString();
    default:
        return {};
    }
}

QVariant CompareModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    static const char *const kHeaders[ColumnCount] = {QT_TR_NOOP("Key"),
                                                      QT_TR_NOOP("Function"),
                                                      QT_TR_NOOP("Matched by"),
                                                      QT_TR_NOOP("Status A"),
                                                      QT_TR_NOOP("Status B"),
                                                      QT_TR_NOOP("Duration A"),
                                                      QT_TR_NOOP("Duration B"),
                                                      QT_TR_NOOP("B / A"),
                                                      QT_TR_NOOP("Result"),
                                                      QT_TR_NOOP("Error A"),
                                                      QT_TR_NOOP("Error B")};
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0
        || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    return tr(kHeaders[section]);
}

QString CompareModel::summaryText() const
{
    const history::SessionComparison &c = m_comparison;
    const history::CompareSummary &s = c.summary;
    QStringList lines;
    lines << tr("Session %1 (A) → session %2 (B): %3 matched, %4 only in A, %5 only in B.")
                 .arg(c.a.id)
                 .arg(c.b.id)
                 .arg(s.matched)
                 .arg(s.onlyInA)
                 .arg(s.onlyInB);
    lines << tr("Durations: median B/A %1; %2 slower, %3 faster.")
                 .arg(ratio(s.medianRatio))
                 .arg(s.slowest.size())
                 .arg(s.fastest.size());
    if (!s.slowest.empty()) {
        const history::TaskComparison &w = c.tasks[s.slowest.front()];
        lines << tr("Slowest change: %1 (%2).").arg(QString::fromStdString(w.key), ratio(w.ratio));
    }
    if (s.cachedInA > 0 || s.cachedInB > 0)
        lines << tr("From the result cache (not run, so not timed): %1 in A, %2 in B.")
                     .arg(s.cachedInA)
                     .arg(s.cachedInB);
    lines << tr("Results: %1 equal, %2 different. Newly failing: %3. Fixed: %4.")
                 .arg(s.resultsEqual)
                 .arg(s.resultsDifferent)
                 .arg(s.newlyFailing.size())
                 .arg(s.fixed.size());
    return lines.join(QLatin1Char('\n'));
}

} // namespace taskbench::gui
