#include "logmodel.h"

#include "statusstyle.h"

#include <QBrush>
#include <QPointer>

namespace taskbench::gui {

LogModel::LogModel(QObject *parent)
    : QAbstractTableModel(parent)
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(100);
    connect(&m_timer, &QTimer::timeout, this, &LogModel::drain);
}

LogModel::~LogModel()
{
    if (m_inbox)
        m_inbox->disconnect();
}

void LogModel::attach(std::shared_ptr<LogInbox> inbox)
{
    if (m_inbox)
        m_inbox->disconnect();
    m_inbox = std::move(inbox);
    if (!m_inbox)
        return;
    QPointer<LogModel> self(this);
    // The wake-up may come from any thread: it only posts, the timer then coalesces.
    m_inbox->setWake([self] {
        QMetaObject::invokeMethod(
            self.data(),
            [self] {
                if (self && !self->m_timer.isActive())
                    self->m_timer.start();
            },
            Qt::QueuedConnection);
    });
    if (!m_inbox->empty())
        m_timer.start();
}

void LogModel::drain()
{
    if (m_inbox)
        append(m_inbox->take());
}

void LogModel::append(std::vector<LogRecord> records)
{
    if (records.empty())
        return;
    if (int(records.size()) > m_capacity)
        records.erase(records.begin(), records.end() - m_capacity);
    const int overflow = int(m_records.size() + records.size()) - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, overflow - 1);
        m_records.erase(m_records.begin(), m_records.begin() + overflow);
        endRemoveRows();
    }
    const int first = int(m_records.size());
    beginInsertRows({}, first, first + int(records.size()) - 1);
    for (LogRecord &r : records)
        m_records.push_back(std::move(r));
    endInsertRows();
}

void LogModel::clear()
{
    beginResetModel();
    m_records.clear();
    endResetModel();
}

int LogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_records.size());
}

int LogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString LogModel::levelName(int level)
{
    static const char *const names[] = {"trace", "debug", "info", "warn", "error", "critical"};
    return level >= 0 && level < 6 ? QString::fromLatin1(names[level]) : QStringLiteral("off");
}

QVariant LogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_records.size()))
        return {};
    const LogRecord &r = m_records[std::size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return formatTime(r.timeUs);
        case Level:
            return levelName(r.level);
        case Source:
            return r.task.empty() ? QString::fromStdString(r.source)
                                  : QString::fromStdString(r.task);
        case Message: {
            // Multi-line records ("Compute Failed" with key, args, exception) read as one line.
            QString text = QString::fromStdString(r.text).trimmed();
            text.replace(QLatin1Char('\n'), QStringLiteral(" · "));
            return text;
        }
        }
        break;
    case Qt::ToolTipRole:
        return QString::fromStdString(r.text);
    case Qt::ForegroundRole:
        if (index.column() == Level || index.column() == Message) {
            if (r.level >= 4)
                return QBrush(statusColor(FutureStatus::Error));
            if (r.level == 3)
                return QBrush(statusColor(FutureStatus::Cancelled));
        }
        break;
    case LevelRole:
        return r.level;
    case TaskKeyRole:
        return QString::fromStdString(r.task);
    default:
        break;
    }
    return {};
}

QVariant LogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time");
    case Level:
        return tr("Level");
    case Source:
        return tr("Source");
    case Message:
        return tr("Message");
    default:
        return {};
    }
}

} // namespace taskbench::gui
