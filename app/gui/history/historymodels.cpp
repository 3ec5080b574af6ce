// Sessions and tasks table models of the History panel.
#include "historymodels.h"

#include "taskbench/valuecodec.h"

#include <QDateTime>
#include <QLocale>

namespace taskbench::gui {

namespace {

QString seconds(std::int64_t us)
{
    return QLocale().toString(double(us) / 1e6, 'f', 3) + QStringLiteral(" s");
}

QString text(const std::string &s)
{
    return QString::fromStdString(s);
}

std::int64_t count(const history::SessionSummary &s, const char *status)
{
    const auto it = s.counts.find(status);
    return it == s.counts.end() ? 0 : it->second;
}

} // namespace

// ---------------------------------------------------------------------------------------

void SessionsModel::setSessions(std::vector<history::SessionSummary> sessions)
{
    beginResetModel();
    m_sessions = std::move(sessions);
    endResetModel();
}

const history::SessionSummary *SessionsModel::session(int row) const
{
    return row >= 0 && row < int(m_sessions.size()) ? &m_sessions[std::size_t(row)] : nullptr;
}

int SessionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_sessions.size());
}

int SessionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SessionsModel::data(const QModelIndex &index, int role) const
{
    const history::SessionSummary *s = session(index.row());
    if (!s)
        return {};
    if (role == IdRole)
        return qint64(s->id);
    const std::int64_t duration = s->endedUs > s->startedUs ? s->endedUs - s->startedUs : 0;
    if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole) {
        switch (index.column()) {
        case Id:
            return qint64(s->id);
        case Started:
            return QDateTime::fromMSecsSinceEpoch(s->startedUs / 1000)
                .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case Status:
            return text(s->status);
        case Duration:
            return s->status == "running" ? tr("running") : seconds(duration);
        case Tasks:
            return qint64(s->taskCount);
        case Finished:
            return qint64(count(*s, "finished"));
        case Errors:
            return qint64(count(*s, "error"));
        case Plugins: {
            QStringList names;
            for (const std::string &p : s->plugins)
                names << text(p);
            return names.join(QStringLiteral(", "));
        }
        case Title:
            return text(s->title);
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Tasks) {
        QStringList parts;
        for (const auto &[status, n] : s->counts)
            parts << QStringLiteral("%1 %2").arg(n).arg(text(status));
        return parts.join(QStringLiteral(", "));
    }
    if (role == Qt::TextAlignmentRole && index.column() != Title && index.column() != Plugins
        && index.column() != Status)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant SessionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Id:
        return tr("Session");
    case Started:
        return tr("Started");
    case Status:
        return tr("Status");
    case Duration:
        return tr("Duration");
    case Tasks:
        return tr("Tasks");
    case Finished:
        return tr("Finished");
    case Errors:
        return tr("Errors");
    case Plugins:
        return tr("Plugins");
    case Title:
        return tr("Command");
    }
    return {};
}

// ---------------------------------------------------------------------------------------

void HistoryTasksModel::setTasks(std::vector<history::TaskRecord> tasks)
{
    beginResetModel();
    m_tasks = std::move(tasks);
    endResetModel();
}

const history::TaskRecord *HistoryTasksModel::task(int row) const
{
    return row >= 0 && row < int(m_tasks.size()) ? &m_tasks[std::size_t(row)] : nullptr;
}

int HistoryTasksModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_tasks.size());
}

int HistoryTasksModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HistoryTasksModel::data(const QModelIndex &index, int role) const
{
    const history::TaskRecord *t = task(index.row());
    if (!t)
        return {};
    if (role == IdRole)
        return qulonglong(t->id);
    if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole) {
        switch (index.column()) {
        case Key:
            return text(t->key);
        case Function:
            return text(t->function);
        case Status:
            return text(t->status);
        case Attempts:
            return t->attempts;
        case Worker:
            return t->worker >= 0 ? QVariant(t->worker) : QVariant();
        case Duration:
            return t->finishedUs > 0 && t->startedUs > 0 ? seconds(t->finishedUs - t->startedUs)
                                                         : QString();
        case Result:
            if (t->resultStored)
                return text(repr(fromJson(t->resultJson).value_or(Value()), 60));
            if (t->resultSize >= 0)
                return tr("%1 (%2 bytes, not stored)").arg(text(t->resultType)).arg(t->resultSize);
            return QString();
        case Error:
            return t->errorType.empty() && t->errorMessage.empty()
                       ? QString()
                       : text(t->errorType + ": " + t->errorMessage);
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Error && !t->traceback.empty())
        return text(t->traceback);
    return {};
}

QVariant HistoryTasksModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Key:
        return tr("Key");
    case Function:
        return tr("Function");
    case Status:
        return tr("Status");
    case Attempts:
        return tr("Attempts");
    case Worker:
        return tr("Worker");
    case Duration:
        return tr("Duration");
    case Result:
        return tr("Result");
    case Error:
        return tr("Error");
    }
    return {};
}

} // namespace taskbench::gui
