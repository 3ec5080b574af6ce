// The log dock: engine and plugin log records (through the spdlog GUI sink) and task log
// lines, with a minimum-level filter and a text filter. Follows the newest line while the
// view is scrolled to the bottom. Selecting a task's line selects the task everywhere.
#pragma once

#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace taskbench::gui {

class ChoicePicker;
class LogModel;

class LogPanel : public QWidget
{
    Q_OBJECT
public:
    explicit LogPanel(LogModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    ChoicePicker *levelBox() const { return m_level; }
    /// Rows visible after filtering (tests).
    int visibleRows() const;
    /// Selects the (visible) log lines of a task and scrolls to its latest one, without
    /// emitting taskSelected; clears the selection if the task has none.
    void selectTask(const QString &key);

signals:
    /// The user selected a line that belongs to a task.
    void taskSelected(const QString &key);

private:
    LogModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    ChoicePicker *m_level;
    QLineEdit *m_text;
    bool m_selecting = false;
};

} // namespace taskbench::gui
