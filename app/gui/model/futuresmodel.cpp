// Applying engine events to plain rows. Every event is O(1) (hash lookup by id); a frame
// ends with at most one rowsInserted, one dataChanged range and a few rowsRemoved blocks.
#include "futuresmodel.h"

#include "workerlabel.h"

#include "statusstyle.h"

#include "taskbench/resultcache.h"

#include <QBrush>
#include <QFont>
#include <QPalette>

#include <algorithm>
#include <span>
#include <string_view>
#include <unordered_set>

namespace taskbench::gui {

FuturesModel::FuturesModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

int FuturesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int FuturesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

namespace {
template <typename T>
int threeWay(T a, T b)
{
    return a < b ? -1 : (b < a ? 1 : 0);
}

std::int64_t durationOf(const FutureRow &r)
{
    return r.endUs > 0 && r.startUs > 0 ? r.endUs - r.startUs : -1;
}

/// The text the Result column sorts by: the preview, or the error for an erred task.
const QString &resultSortText(const FutureRow &r)
{
    return r.status == FutureStatus::Error && r.hasError() ? r.errorMessage() : r.preview;
}

/// QString::compare(a, b, Qt::CaseInsensitive), with ASCII folded inline: keys share long
/// prefixes ("inc-" and hex), and the library's per-character folding made sorting 100,000
/// keys take half a second.
int compareText(const QString &a, const QString &b)
{
    const char16_t *p = reinterpret_cast<const char16_t *>(a.constData());
    const char16_t *q = reinterpret_cast<const char16_t *>(b.constData());
    const qsizetype n = std::min(a.size(), b.size());
    for (qsizetype i = 0; i < n; ++i) {
        char16_t x = p[i], y = q[i];
        if (x == y)
            continue;
        if (x >= 128 || y >= 128)
            return QStringView(p + i, a.size() - i)
                .compare(QStringView(q + i, b.size() - i), Qt::CaseInsensitive);
        if (x >= 'A' && x <= 'Z')
            x = char16_t(x + ('a' - 'A'));
        if (y >= 'A' && y <= 'Z')
            y = char16_t(y + ('a' - 'A'));
        if (x != y)
            return x < y ? -1 : 1;
    }
    return threeWay(a.size(), b.size());
}
} // namespace

const QString *FuturesModel::sortText(int row, int column) const
{
    const FutureRow &r = m_rows[std::size_t(row)];
    switch (column) {
    case Key:
        return &r.key;
    case Function:
        return &r.function;
    case Type:
        return &r.type;
    case Result:
        return &resultSortText(r);
    default:
        return nullptr;
    }
}

int FuturesModel::compareRows(int a, int b, int column) const
{
    if (const QString *text = sortText(a, column))
        return compareText(*text, *sortText(b, column));
    const FutureRow &l = m_rows[std::size_t(a)];
    const FutureRow &r = m_rows[std::size_t(b)];
    switch (column) {
    case Status:
        return threeWay(int(l.status), int(r.status));
    case Worker:
        return threeWay(l.worker, r.worker);
    case Started:
        return threeWay(l.startUs, r.startUs);
    case Duration:
        return threeWay(durationOf(l), durationOf(r));
    case Attempts:
        return threeWay(l.attempts, r.attempts);
    case Memory:
        return threeWay(l.peakRssBytes, r.peakRssBytes);
    case Size:
        return threeWay(l.resultBytes, r.resultBytes);
    case Cached:
        return threeWay(l.cachedSession, r.cachedSession);
    default:
        return 0;
    }
}

QVariant FuturesModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const FutureRow &r = m_rows[std::size_t(index.row())];
    const std::int64_t duration = durationOf(r);
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Key:
            return r.key;
        case Function:
            return r.function;
        case Status:
            return statusLabel(r.status);
        case Type:
            return r.type;
        case Result:
            if (r.status == FutureStatus::Error)
                return r.hasError() ? r.errorType() + QStringLiteral(": ") + r.errorMessage()
                                    : QString();
            if (r.status == FutureStatus::Processing && r.progress >= 0)
                return QStringLiteral("%1%").arg(int(r.progress * 100));
            return r.preview;
        case Worker:
            return workerLabel(r.worker);
        case Started:
            return formatTime(r.startUs);
        case Duration:
            return duration >= 0 ? formatDuration(duration) : QString();
        case Attempts:
            return r.attempts > 0 ? QVariant(r.attempts) : QVariant();
        case Memory:
            return r.peakRssBytes >= 0 ? formatBytes(std::uint64_t(r.peakRssBytes)) : QString();
        case Size:
            return r.resultBytes >= 0 ? formatBytes(std::uint64_t(r.resultBytes)) : QString();
        case Cached:
            return r.cachedSession > 0    ? tr("session %1").arg(r.cachedSession)
                   : r.cachedSession == 0 ? tr("yes")
                                          : QString();
        }
        break;
    case SortRole:
        switch (index.column()) {
        case Result:
            return resultSortText(r);
        case Status:
            return int(r.status);
        case Worker:
            return r.worker;
        case Started:
            return qint64(r.startUs);
        case Duration:
            return qint64(duration);
        case Attempts:
            return r.attempts;
        case Memory:
            return qint64(r.peakRssBytes);
        case Size:
            return qint64(r.resultBytes);
        case Cached:
            return qint64(r.cachedSession);
        default:
            return data(index, Qt::DisplayRole);
        }
    case Qt::DecorationRole:
        if (index.column() == Status)
            return statusIcon(r.status);
        break;
    case Qt::ForegroundRole:
        if (index.column() == Status)
            return QBrush(statusColor(r.status));
        if (r.fromDependency && r.status == FutureStatus::Error)
            return QBrush(QPalette().color(QPalette::Disabled, QPalette::Text));
        break;
    case Qt::FontRole:
        if (r.handleReleased) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        break;
    case Qt::ToolTipRole:
        if (r.status == FutureStatus::Error && r.hasError()) {
            QString tip = r.errorType() + QStringLiteral(": ") + r.errorMessage();
            if (r.fromDependency)
                tip += QStringLiteral("\n(because %1 failed)").arg(r.rootKey());
            return tip;
        }
        if (index.column() == Key)
            return r.key;
        if (index.column() == Result)
            return r.preview;
        if (index.column() == Cached && r.cachedSession >= 0)
            return r.cachedSession > 0 ? tr("Served from the result cache: computed in session %1")
                                             .arg(r.cachedSession)
                                       : tr("Served from the result cache");
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == Attempts || index.column() == Duration || index.column() == Memory
            || index.column() == Size)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case IdRole:
        return quint64(r.id);
    case StatusRole:
        return int(r.status);
    case KeyRole:
        return r.key;
    default:
        break;
    }
    return {};
}

QVariant FuturesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal
        || (role != Qt::DisplayRole && role != Qt::AccessibleTextRole))
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char *const names[ColumnCount] = {"Key",
                                                   "Function",
                                                   "Status",
                                                   "Type",
                                                   "Result",
                                                   "Worker",
                                                   "Started",
                                                   "Duration",
                                                   "Attempts",
                                                   "Memory",
                                                   "Size",
                                                   "Cached"};
    if (section >= 0 && section < ColumnCount)
        return tr(names[section]);
    return {};
}

QString FuturesModel::intern(const std::string &s)
{
    auto it = m_strings.find(s);
    if (it != m_strings.end())
        return it->second;
    QString q = QString::fromStdString(s);
    m_strings.emplace(s, q);
    return q;
}

GroupStats &FuturesModel::groupFor(const QString &name, const QString &function)
{
    auto it = m_groupIndex.constFind(name);
    if (it != m_groupIndex.constEnd())
        return m_groups[std::size_t(*it)];
    m_groupIndex.insert(name, int(m_groups.size()));
    GroupStats g;
    g.name = name;
    g.function = function;
    m_groups.push_back(std::move(g));
    m_groupsDirty = true;
    return m_groups.back();
}

void FuturesModel::touch(int row)
{
    if (m_touched.empty() || m_touched.back() != row)
        m_touched.push_back(row);
}

void FuturesModel::setStatus(FutureRow &row, FutureStatus status)
{
    if (row.status == status)
        return;
    const FutureStatus old = row.status;
    --m_counts[std::size_t(old)];
    ++m_counts[std::size_t(status)];
    auto g = m_groupIndex.constFind(row.group);
    if (g != m_groupIndex.constEnd()) {
        GroupStats &gs = m_groups[std::size_t(*g)];
        --gs.byStatus[std::size_t(old)];
        ++gs.byStatus[std::size_t(status)];
        m_groupsDirty = true;
    }
    row.status = status;
    if (old == FutureStatus::Error || status == FutureStatus::Error)
        m_errorsDirty = true;
    if (status == FutureStatus::Error || status == FutureStatus::Finished)
        m_resultRequests.push_back(row.id);
    if (status != FutureStatus::Error && row.hasError()) {
        row.failure.reset();
        row.fromDependency = false;
    }
    if (status == FutureStatus::Pending || status == FutureStatus::Processing) {
        row.type.clear();
        row.preview.clear();
    }
}

void FuturesModel::applyEvents(const Event *begin, const Event *end)
{
    const bool anyEvents = begin != end;
    // Pass 1: new tasks, inserted as one block at the end.
    std::vector<FutureRow> added;
    // The function and group of an announcement, interned once for all its tasks.
    const auto namesOf = [this](const Event &e) {
        return std::pair{intern(e.function()),
                         intern(e.group().empty() ? e.function() : e.group())};
    };
    const auto add = [&](const Event &e,
                         const std::pair<QString, QString> &names,
                         std::uint64_t id,
                         std::string_view key,
                         std::span<const std::uint64_t> deps) {
        if (m_index.contains(id))
            return;
        FutureRow r;
        r.id = id;
        r.key = QString::fromUtf8(key.data(), qsizetype(key.size()));
        r.function = names.first;
        r.group = names.second;
        r.addedUs = e.timeUs;
        if (!deps.empty())
            r.editLinks().deps.assign(deps.begin(), deps.end());
        m_index.insert(r.id, int(m_rows.size() + added.size()));
        added.push_back(std::move(r));
    };
    for (const Event *it = begin; it != end; ++it) {
        const Event &e = *it;
        if (e.kind == EventKind::TaskAdded) {
            add(e, namesOf(e), e.task, e.key(), e.deps());
        } else if (e.kind == EventKind::TasksAdded) { // the engine's: one per submit
            const TaskList &tasks = *e.tasks();
            const auto names = namesOf(e);
            added.reserve(added.size() + tasks.size());
            for (std::size_t i = 0; i < tasks.size(); ++i)
                add(e, names, tasks.id(i), tasks.key(i), tasks.deps(i));
        }
    }
    if (!added.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        m_keyIndexValid = false; // rebuilt when a key is looked up
        for (FutureRow &r : added) {
            ++m_counts[std::size_t(FutureStatus::Pending)];
            GroupStats &g = groupFor(r.group, r.function);
            ++g.total;
            ++g.byStatus[std::size_t(FutureStatus::Pending)];
            m_groupsDirty = true;
            m_rows.push_back(std::move(r));
        }
        // Dependents are derived here so the details view and "retry with downstream" need
        // no query to the scheduler.
        for (int i = first; i < int(m_rows.size()); ++i) {
            for (std::uint64_t dep : m_rows[std::size_t(i)].deps()) {
                const int depRow = m_index.find(dep);
                if (depRow >= 0)
                    m_rows[std::size_t(depRow)].editLinks().dependents.push_back(
                        m_rows[std::size_t(i)].id);
            }
        }
        endInsertRows();
    }

    // Pass 2: everything else, in order.
    for (const Event *it = begin; it != end; ++it) {
        const Event &e = *it;
        if (e.kind == EventKind::TaskAdded || e.kind == EventKind::TasksAdded || e.task == 0) {
            if (e.kind == EventKind::Log && e.task == 0)
                emit taskLog(0, QString(), QString::fromStdString(e.text()), e.timeUs);
            continue;
        }
        const int rowIndex = m_index.find(e.task);
        if (rowIndex < 0)
            continue;
        FutureRow &r = m_rows[std::size_t(rowIndex)];
        switch (e.kind) {
        case EventKind::Transition:
            r.state = e.to;
            if (e.to == TaskState::Forgotten) {
                m_forgotten.push_back(r.id);
                break;
            }
            if (e.worker >= 0)
                r.worker = e.worker;
            if (e.attempt > r.attempts)
                r.attempts = e.attempt;
            if (e.to == TaskState::Processing && r.status != FutureStatus::Processing) {
                r.endUs = 0;
                r.progress = -1;
            }
            if (e.to == TaskState::Memory)
                r.cachedSession = e.text().empty() ? -1 : cacheHitSession(e.text());
            setStatus(r, futureStatusOf(e.to));
            break;
        case EventKind::ExecutionStarted:
            if (e.worker >= 0)
                r.worker = e.worker;
            r.attempts = std::max(r.attempts, e.attempt);
            r.startUs = e.timeUs;
            r.endUs = 0;
            break;
        case EventKind::ExecutionFinished:
            if (e.worker >= 0)
                r.worker = e.worker;
            if (e.startUs > 0)
                r.startUs = e.startUs;
            r.endUs = e.timeUs;
            r.attempts = std::max(r.attempts, e.attempt);
            r.peakRssBytes = e.usage.peakRssBytes;
            r.resultBytes = e.usage.resultBytes;
            r.cpuUs = e.usage.cpuUs;
            break;
        case EventKind::Progress:
            r.progress = e.value;
            break;
        case EventKind::Log:
            emit taskLog(r.id, r.key, QString::fromStdString(e.text()), e.timeUs);
            break;
        default:
            break;
        }
        touch(rowIndex);
    }
    flushChanges();
    removeForgotten();
    if (m_groupsDirty) {
        m_groupsDirty = false;
        if (int(m_groups.size()) > m_groupsBefore) {
            emit groupsInserted(m_groupsBefore, int(m_groups.size()) - 1);
            m_groupsBefore = int(m_groups.size());
        }
        emit groupsChanged();
    }
    if (m_errorsDirty) {
        m_errorsDirty = false;
        ++m_errorsRevision;
        emit errorsChanged();
    }
    if (anyEvents)
        emit statsChanged();
}

void FuturesModel::flushChanges()
{
    if (m_touched.empty())
        return;
    // One dataChanged per run of nearby rows: a proxy re-filters every row of a range, so
    // one range from the oldest to the newest touched row would cost the whole table.
    std::sort(m_touched.begin(), m_touched.end());
    constexpr int kGap = 32;
    int first = m_touched.front();
    int last = first;
    for (std::size_t i = 1; i <= m_touched.size(); ++i) {
        if (i < m_touched.size() && m_touched[i] <= last + kGap) {
            last = std::max(last, m_touched[i]);
            continue;
        }
        emit dataChanged(index(first, 0), index(last, ColumnCount - 1));
        if (i < m_touched.size())
            first = last = m_touched[i];
    }
    m_touched.clear();
}

void FuturesModel::removeForgotten()
{
    if (m_forgotten.empty())
        return;
    std::vector<int> rows;
    rows.reserve(m_forgotten.size());
    for (std::uint64_t id : m_forgotten) {
        const int row = m_index.find(id);
        if (row >= 0 && m_rows[std::size_t(row)].state == TaskState::Forgotten)
            rows.push_back(row);
    }
    m_forgotten.clear();
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (int r : rows) {
        const FutureRow &row = m_rows[std::size_t(r)];
        --m_counts[std::size_t(row.status)];
        auto g = m_groupIndex.constFind(row.group);
        if (g != m_groupIndex.constEnd()) {
            GroupStats &gs = m_groups[std::size_t(*g)];
            --gs.total;
            --gs.byStatus[std::size_t(row.status)];
        }
        if (row.status == FutureStatus::Error)
            m_errorsDirty = true;
    }
    m_groupsDirty = true;
    // Remove contiguous blocks from the back so earlier indexes stay valid.
    int i = int(rows.size()) - 1;
    while (i >= 0) {
        int last = rows[std::size_t(i)];
        int first = last;
        while (i > 0 && rows[std::size_t(i - 1)] == first - 1) {
            --i;
            --first;
        }
        --i;
        beginRemoveRows({}, first, last);
        m_rows.erase(std::size_t(first), std::size_t(last) + 1);
        endRemoveRows();
    }
    rebuildIndex();
}

void FuturesModel::rebuildIndex()
{
    m_index.clear();
    for (int i = 0; i < int(m_rows.size()); ++i)
        m_index.insert(m_rows[std::size_t(i)].id, i);
    m_keyIndexValid = false;
}

void FuturesModel::applyResults(const std::vector<ResultSummary> &results)
{
    for (const ResultSummary &s : results) {
        const int row = m_index.find(s.id);
        if (row < 0)
            continue;
        FutureRow &r = m_rows[std::size_t(row)];
        if (s.status != r.status)
            continue;            // stale: the task moved on (a retry) since the fetch started
        r.type = intern(s.type); // a few type names, one string each
        r.preview = QString::fromStdString(s.preview);
        if (s.attempts > r.attempts)
            r.attempts = s.attempts;
        if (s.error) {
            r.failure = std::make_unique<FutureRow::Failure>(
                FutureRow::Failure{QString::fromStdString(s.error->type),
                                   QString::fromStdString(s.error->message),
                                   QString::fromStdString(s.error->rootKey),
                                   QString::fromStdString(s.arguments)});
            r.fromDependency = s.error->fromDependency;
            if (r.worker < 0 && s.error->worker >= 0)
                r.worker = s.error->worker;
            m_errorsDirty = true;
        }
        touch(row);
    }
    flushChanges();
    if (m_errorsDirty) {
        m_errorsDirty = false;
        ++m_errorsRevision;
        emit errorsChanged();
    }
}

std::vector<std::uint64_t> FuturesModel::takeResultRequests()
{
    std::vector<std::uint64_t> out;
    out.swap(m_resultRequests);
    return out;
}

void FuturesModel::markReleased(const std::vector<std::uint64_t> &ids)
{
    for (std::uint64_t id : ids) {
        const int row = m_index.find(id);
        if (row < 0)
            continue;
        m_rows[std::size_t(row)].handleReleased = true;
        touch(row);
    }
    flushChanges();
}

void FuturesModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_index.clear();
    m_keyIndex.clear();
    m_keyIndexValid = true;
    m_counts = {};
    m_groups.clear();
    m_groupIndex.clear();
    m_resultRequests.clear();
    m_forgotten.clear();
    m_groupsBefore = 0;
    m_touched.clear();
    endResetModel();
    ++m_errorsRevision;
    emit groupsChanged();
    emit errorsChanged();
    emit statsChanged();
}

const FutureRow *FuturesModel::row(std::uint64_t id) const
{
    const int r = m_index.find(id);
    return r < 0 ? nullptr : &m_rows[std::size_t(r)];
}

int FuturesModel::rowOf(std::uint64_t id) const
{
    return m_index.find(id);
}

const FutureRow *FuturesModel::rowByKey(const QString &key) const
{
    if (!m_keyIndexValid) {
        m_keyIndex.clear();
        m_keyIndex.reserve(qsizetype(m_rows.size()));
        for (int i = 0; i < int(m_rows.size()); ++i)
            m_keyIndex.insert(m_rows[std::size_t(i)].key, i);
        m_keyIndexValid = true;
    }
    auto it = m_keyIndex.constFind(key);
    return it == m_keyIndex.constEnd() ? nullptr : &m_rows[std::size_t(*it)];
}

const QString &FutureRow::noText()
{
    static const QString none;
    return none;
}

const std::vector<std::uint64_t> &FutureRow::noIds()
{
    static const std::vector<std::uint64_t> none;
    return none;
}

std::vector<std::uint64_t> FuturesModel::downstreamOf(const std::vector<std::uint64_t> &ids) const
{
    return reachable(ids, &FutureRow::dependents);
}

std::vector<std::uint64_t> FuturesModel::upstreamOf(const std::vector<std::uint64_t> &ids) const
{
    return reachable(ids, &FutureRow::deps);
}

std::vector<std::uint64_t>
FuturesModel::reachable(const std::vector<std::uint64_t> &ids,
                        const std::vector<std::uint64_t> &(FutureRow::*edges)() const) const
{
    std::unordered_set<std::uint64_t> seen(ids.begin(), ids.end());
    std::vector<std::uint64_t> stack(ids.begin(), ids.end());
    std::vector<std::uint64_t> out;
    while (!stack.empty()) {
        const std::uint64_t id = stack.back();
        stack.pop_back();
        const FutureRow *r = row(id);
        if (!r)
            continue;
        for (std::uint64_t d : (r->*edges)()) {
            if (seen.insert(d).second) {
                out.push_back(d);
                stack.push_back(d);
            }
        }
    }
    return out;
}

} // namespace taskbench::gui
