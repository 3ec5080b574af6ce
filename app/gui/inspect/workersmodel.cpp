// The workers table model.
#include "workersmodel.h"

#include "workerlabel.h"

#include "inspectstyle.h"

#include <QColor>
#include <QIcon>
#include <QPainter>
#include <QPixmap>

#include <map>

namespace taskbench::inspect {

namespace {

QString statusOf(const WorkerInfo &w)
{
    if (!w.alive)
        return QStringLiteral("restarting");
    return w.running.empty() ? QStringLiteral("idle") : QStringLiteral("busy");
}

QColor statusColorOf(const WorkerInfo &w)
{
    if (!w.alive)
        return nodeStatusColor(NodeStatus::ErrorRoot);
    return w.running.empty() ? nodeStatusColor(NodeStatus::Pending)
                             : nodeStatusColor(NodeStatus::Processing);
}

/// A small status dot (cached per colour).
QIcon dot(const QColor &c)
{
    static std::map<QRgb, QIcon> cache;
    QIcon &icon = cache[c.rgb()];
    if (icon.isNull()) {
        for (int size : {12, 16, 24}) {
            QPixmap pm(size, size);
            pm.fill(Qt::transparent);
            QPainter p(&pm);
            p.setRenderHint(QPainter::Antialiasing);
            p.setPen(Qt::NoPen);
            p.setBrush(c);
            p.drawEllipse(QRectF(size * 0.2, size * 0.2, size * 0.6, size * 0.6));
            p.end();
            icon.addPixmap(pm);
        }
    }
    return icon;
}

} // namespace

WorkersModel::WorkersModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void WorkersModel::setWorkers(std::vector<WorkerInfo> workers)
{
    bool sameRows = workers.size() == m_workers.size();
    for (std::size_t i = 0; sameRows && i < workers.size(); ++i)
        sameRows = workers[i].id == m_workers[i].id;
    if (sameRows) {
        m_workers = std::move(workers);
        if (!m_workers.empty())
            emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
        return;
    }
    beginResetModel();
    m_workers = std::move(workers);
    endResetModel();
}

int WorkersModel::rowOfWorker(int id) const
{
    for (std::size_t i = 0; i < m_workers.size(); ++i)
        if (m_workers[i].id == id)
            return int(i);
    return -1;
}

int WorkersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_workers.size());
}

int WorkersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant WorkersModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const WorkerInfo &w = m_workers[std::size_t(index.row())];
    const auto column = Column(index.column());
    if (role == WorkerIdRole)
        return w.id;
    if (role == SortRole) {
        switch (column) {
        case Name:
            return w.id;
        case Status:
            return statusOf(w);
        case Pid:
            return qint64(w.pid);
        case Threads:
            return w.threads;
        case Running:
            return qint64(w.running.size());
        case Done:
            return qint64(w.tasksDone);
        case Results:
            return qint64(w.resultsHeld);
        case BytesHeld:
            return qint64(w.bytesHeld);
        case Memory:
            return qint64(w.memoryBytes);
        case ColumnCount:
            break;
        }
        return {};
    }
    if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole) {
        switch (column) {
        case Name: {
            const QString name = gui::workerDisplayName(w.id, w.name);
            // A remote worker's name has its label and host; add where it connected from.
            if (w.remote && !w.address.empty())
                return QStringLiteral("%1 from %2").arg(name, QString::fromStdString(w.address));
            return name;
        }
        case Status:
            return statusOf(w);
        case Pid:
            return w.pid > 0 ? QString::number(w.pid) : QStringLiteral("—");
        case Threads:
            return w.threads;
        case Running:
            if (w.running.empty())
                return QStringLiteral("—");
            if (w.running.size() == 1)
                return QString::fromStdString(w.running.front());
            return QStringLiteral("%1 (+%2)")
                .arg(QString::fromStdString(w.running.front()))
                .arg(w.running.size() - 1);
        case Done:
            return formatCount(w.tasksDone);
        case Results:
            return formatCount(w.resultsHeld);
        case BytesHeld:
            return w.bytesHeld > 0 ? formatBytes(w.bytesHeld) : QStringLiteral("—");
        case Memory:
            // Thread workers share the application's memory: no figure of their own.
            return w.memoryBytes > 0 ? formatBytes(w.memoryBytes) : QStringLiteral("—");
        case ColumnCount:
            break;
        }
        return {};
    }
    if (role == Qt::TextAlignmentRole) {
        if (column == Name || column == Status || column == Running)
            return int(Qt::AlignLeft | Qt::AlignVCenter);
        return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::DecorationRole && column == Status)
        return dot(statusColorOf(w));
    if (role == Qt::ToolTipRole) {
        if (column == Running && !w.running.empty()) {
            QStringList keys;
            for (std::size_t i = 0; i < w.running.size() && i < 20; ++i)
                keys << QString::fromStdString(w.running[i]);
            if (w.running.size() > 20)
                keys << QStringLiteral("… %1 more").arg(w.running.size() - 20);
            return keys.join(QLatin1Char('\n'));
        }
        if (column == Memory && w.memoryBytes == 0)
            return QStringLiteral("Thread workers share the application's memory");
        if (column == Pid && w.remote)
            return QStringLiteral("Remote worker: its process runs on %1")
                .arg(w.host.empty() ? QStringLiteral("another host")
                                    : QString::fromStdString(w.host));
        if (column == Pid && w.pid <= 0)
            return QStringLiteral("Thread worker: runs inside the application process");
        if (column == Name && w.remote)
            return QStringLiteral("Label: %1\nHost: %2\nConnection: %3")
                .arg(QString::fromStdString(w.label),
                     QString::fromStdString(w.host),
                     QString::fromStdString(w.address));
    }
    return {};
}

QVariant WorkersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (Column(section)) {
        case Name:
            return tr("Worker");
        case Status:
            return tr("Status");
        case Pid:
            return tr("PID");
        case Threads:
            return tr("Threads");
        case Running:
            return tr("Running");
        case Done:
            return tr("Done");
        case Results:
            return tr("Results");
        case BytesHeld:
            return tr("Held");
        case Memory:
            return tr("Memory");
        case ColumnCount:
            break;
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (Column(section)) {
        case Running:
            return tr("Task keys running on the worker");
        case Done:
            return tr("Tasks the worker finished");
        case Results:
            return tr("Results held in the worker's memory");
        case BytesHeld:
            return tr("Size of the results held");
        case Memory:
            return tr("Resident memory of a process worker");
        case Name:
            return tr("Worker name; a remote worker's tooltip has its label, host and connection");
        default:
            break;
        }
    }
    if (role == Qt::TextAlignmentRole) {
        const auto c = Column(section);
        return c == Name || c == Status || c == Running ? int(Qt::AlignLeft | Qt::AlignVCenter)
                                                        : int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// Slurm jobs

SlurmJobsModel::SlurmJobsModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void SlurmJobsModel::setJobs(std::vector<SlurmJob> jobs)
{
    bool sameRows = jobs.size() == m_jobs.size();
    for (std::size_t i = 0; sameRows && i < jobs.size(); ++i)
        sameRows = jobs[i].id == m_jobs[i].id;
    if (sameRows) {
        m_jobs = std::move(jobs);
        if (!m_jobs.empty())
            emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
        return;
    }
    beginResetModel();
    m_jobs = std::move(jobs);
    endResetModel();
}

int SlurmJobsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_jobs.size());
}

int SlurmJobsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SlurmJobsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const SlurmJob &j = m_jobs[std::size_t(index.row())];
    const auto column = Column(index.column());
    if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole) {
        switch (column) {
        case Job:
            return QString::fromStdString(j.id);
        case State: {
            // Our word (pending, running, ended), with Slurm's own when it says more.
            const QString state = QString::fromLatin1(toString(j.state));
            const QString slurm = QString::fromStdString(j.slurmState);
            return slurm.isEmpty() || slurm.compare(state, Qt::CaseInsensitive) == 0
                       ? state
                       : QStringLiteral("%1 (%2)").arg(state, slurm);
        }
        case Node:
            return j.node.empty() ? QStringLiteral("—") : QString::fromStdString(j.node);
        case Worker:
            return j.worker >= 0 ? gui::workerLabel(j.worker) : QStringLiteral("—");
        case Cause:
            if (!j.cause.empty())
                return QString::fromStdString(j.cause);
            return j.reason.empty() ? QString() : QString::fromStdString(j.reason);
        case ColumnCount:
            break;
        }
        return {};
    }
    if (role == Qt::DecorationRole && column == State) {
        if (j.state == SlurmJobState::Running)
            return dot(nodeStatusColor(NodeStatus::Processing));
        if (j.state == SlurmJobState::Pending)
            return dot(nodeStatusColor(NodeStatus::Pending));
        return dot(j.lost ? nodeStatusColor(NodeStatus::ErrorRoot)
                          : nodeStatusColor(NodeStatus::Finished));
    }
    if (role == Qt::ToolTipRole && column == Cause && !j.reason.empty() && j.cause.empty())
        return QStringLiteral("Why Slurm keeps the job pending");
    return {};
}

QVariant SlurmJobsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Job:
        return tr("Job");
    case State:
        return tr("State");
    case Node:
        return tr("Node");
    case Worker:
        return tr("Worker");
    case Cause:
        return tr("Cause");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace taskbench::inspect
