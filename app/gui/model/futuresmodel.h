// The futures table's model: one plain struct per task in a vector, indexed by task id, fed
// by engine event batches once per frame. No item objects per cell, so 100,000 rows cost a
// few megabytes and applying a frame costs time proportional to its events, not to the
// table. The model also keeps the running counts the status bar, the progress panel and
// the errors panel read (per status, per task group).
#pragma once

#include "chunkedvector.h"
#include "rowindex.h"
#include "taskdetails.h"

#include "taskbench/events.h"
#include "taskbench/taskstate.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QString>

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace taskbench::gui {

struct FutureRow
{
    /// What only an erred task has (fetched once it errs): apart, so a row of a big map
    /// that finished carries one pointer for it.
    struct Failure
    {
        QString type;
        QString message;
        QString rootKey;
        QString arguments; ///< repr of its arguments (a root cause's; see ResultSummary)
    };
    /// What only a task in a graph has: most tasks of a map have neither.
    struct Links
    {
        std::vector<std::uint64_t> deps;
        std::vector<std::uint64_t> dependents;
    };

    std::uint64_t id = 0;
    QString key;
    QString function;
    QString group;
    TaskState state = TaskState::Released;
    FutureStatus status = FutureStatus::Pending;
    // The flags side by side: apart, each took eight bytes of padding in every row.
    bool fromDependency = false; ///< erred because a dependency did
    bool handleReleased = false; ///< the GUI dropped its handle; the task lives on for others
    QString type;
    QString preview;
    int worker = -1;
    int attempts = 0;
    std::int64_t addedUs = 0;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
    double progress = -1;           ///< last reported progress fraction while processing
    std::int64_t peakRssBytes = -1; ///< the last attempt's peak memory (-1: unknown)
    std::int64_t resultBytes = -1;  ///< its result's encoded size (-1: unknown)
    std::int64_t cpuUs = -1;        ///< its CPU time (-1: unknown)
    /// Served from the result cache: the session that computed it (0: unknown); -1: not.
    std::int64_t cachedSession = -1;
    std::unique_ptr<Failure> failure; ///< null until an error's details came
    std::unique_ptr<Links> links;     ///< null without dependencies and dependents

    /// The error's details have come (see failure).
    bool hasError() const { return failure != nullptr; }
    const QString &errorType() const { return failure ? failure->type : noText(); }
    const QString &errorMessage() const { return failure ? failure->message : noText(); }
    const QString &rootKey() const { return failure ? failure->rootKey : noText(); }
    const QString &arguments() const { return failure ? failure->arguments : noText(); }
    const std::vector<std::uint64_t> &deps() const { return links ? links->deps : noIds(); }
    const std::vector<std::uint64_t> &dependents() const
    {
        return links ? links->dependents : noIds();
    }
    Links &editLinks()
    {
        if (!links)
            links = std::make_unique<Links>();
        return *links;
    }

private:
    static const QString &noText();
    static const std::vector<std::uint64_t> &noIds();
};

/// Counts of one task group (a map call, or a function): like dask's progress bars.
struct GroupStats
{
    QString name;
    QString function;
    int total = 0;
    std::array<int, kFutureStatusCount> byStatus{}; ///< indexed by FutureStatus
    int done() const { return byStatus[std::size_t(FutureStatus::Finished)]; }
    int erred() const { return byStatus[std::size_t(FutureStatus::Error)]; }
};

class FuturesModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Key,
        Function,
        Status,
        Type,
        Result,
        Worker,
        Started,
        Duration,
        Attempts,
        Memory, ///< the last attempt's peak resident memory (process workers)
        Size,   ///< the result's encoded size
        Cached, ///< served from the result cache (and which session computed it)
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, ///< numeric/string value to sort by
        IdRole,                      ///< quint64 task id
        StatusRole,                  ///< int(FutureStatus)
        KeyRole,                     ///< QString key
    };

    explicit FuturesModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// Applies one frame's events (any number of batches, in order). Rows are inserted in
    /// one block, changed rows reported in one dataChanged range, forgotten rows removed.
    void applyEvents(const std::vector<Event> &events)
    {
        applyEvents(events.data(), events.data() + events.size());
    }
    void applyEvents(const Event *begin, const Event *end);
    /// Result previews and errors fetched off the GUI thread.
    void applyResults(const std::vector<ResultSummary> &results);
    /// Ids that became finished or erred since the last call (their results are wanted).
    std::vector<std::uint64_t> takeResultRequests();
    /// Marks rows whose handle the GUI dropped (they stay while dependents need them).
    void markReleased(const std::vector<std::uint64_t> &ids);
    void clear();

    const ChunkedVector<FutureRow> &rows() const { return m_rows; }
    const FutureRow *row(std::uint64_t id) const;
    int rowOf(std::uint64_t id) const;
    std::uint64_t idAt(int row) const { return m_rows[std::size_t(row)].id; }
    const FutureRow *rowByKey(const QString &key) const;

    /// Orders rows `a` and `b` by `column` as its SortRole would (<0, 0, >0), without
    /// building QVariants: the filter's sort calls this n log n times.
    int compareRows(int a, int b, int column) const;
    /// The text a text column sorts by (null for the numeric columns).
    const QString *sortText(int row, int column) const;

    int count(FutureStatus status) const { return m_counts[std::size_t(status)]; }
    const std::vector<GroupStats> &groups() const { return m_groups; }
    /// Bumped whenever the set or the details of erred tasks changed.
    std::uint64_t errorsRevision() const { return m_errorsRevision; }

    /// Every task downstream of `ids` (dependents, transitively), excluding `ids`.
    std::vector<std::uint64_t> downstreamOf(const std::vector<std::uint64_t> &ids) const;
    /// Every task upstream of `ids` (dependencies, transitively), excluding `ids`.
    std::vector<std::uint64_t> upstreamOf(const std::vector<std::uint64_t> &ids) const;

signals:
    /// After each applied frame (counts, groups or errors may have changed).
    void statsChanged();
    /// New groups appeared (the progress panel inserts rows).
    void groupsInserted(int first, int last);
    void groupsChanged();
    void errorsChanged();
    /// Log lines carried by task events, with the task's key resolved.
    void taskLog(std::uint64_t id, const QString &key, const QString &text, std::int64_t timeUs);

private:
    void setStatus(FutureRow &row, FutureStatus status);
    void touch(int row);
    void flushChanges();
    void removeForgotten();
    void rebuildIndex();
    GroupStats &groupFor(const QString &name, const QString &function);
    QString intern(const std::string &s);
    std::vector<std::uint64_t> reachable(const std::vector<std::uint64_t> &ids,
                                         const std::vector<std::uint64_t> &(FutureRow::*edges)()
                                             const) const;

    ChunkedVector<FutureRow> m_rows;        ///< in blocks: growing never moves a row
    RowIndex m_index;                       ///< row by task id
    mutable QHash<QString, int> m_keyIndex; ///< built on demand (rowByKey)
    mutable bool m_keyIndexValid = true;
    std::array<int, kFutureStatusCount> m_counts{};
    std::vector<GroupStats> m_groups;
    QHash<QString, int> m_groupIndex;
    std::unordered_map<std::string, QString> m_strings; ///< interned function/group names
    std::vector<std::uint64_t> m_resultRequests;
    std::vector<std::uint64_t> m_forgotten;
    std::vector<int> m_touched; ///< rows changed in this frame (flushed as dataChanged runs)
    int m_groupsBefore = 0;
    bool m_groupsDirty = false;
    bool m_errorsDirty = false;
    std::uint64_t m_errorsRevision = 0;
};

} // namespace taskbench::gui
