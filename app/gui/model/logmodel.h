// The log panel's model: a bounded list of log records (engine and plugin loggers through the
// GUI sink, and task log lines from the event stream), appended once per frame.
#pragma once

#include "guilogsink.h"

#include <QAbstractTableModel>
#include <QTimer>

#include <deque>
#include <memory>

namespace taskbench::gui {

class LogModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Time, Level, Message, Source, ColumnCount };
    enum Role { LevelRole = Qt::UserRole + 1, TaskKeyRole };

    explicit LogModel(QObject *parent = nullptr);
    ~LogModel() override;

    /// Starts draining an inbox (filled by the spdlog GUI sink on any thread).
    void attach(std::shared_ptr<LogInbox> inbox);
    void append(std::vector<LogRecord> records);
    void clear();
    void setCapacity(int rows) { m_capacity = rows; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    static QString levelName(int level);

private:
    void drain();

    std::deque<LogRecord> m_records;
    std::shared_ptr<LogInbox> m_inbox;
    QTimer m_timer;
    int m_capacity = 20000;
};

} // namespace taskbench::gui
