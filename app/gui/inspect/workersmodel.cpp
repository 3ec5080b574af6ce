// The workers table model.
#include "workersmodel.h"

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
        case Name:
            return w.name.empty() ? QStringLiteral("worker %1").arg(w.id)
                                  : QString::fromStdString(w.name);
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
        if (column == Pid && w.pid <= 0)
            return QStringLiteral("Thread worker: runs inside the application process");
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

} // namespace taskbench::inspect
