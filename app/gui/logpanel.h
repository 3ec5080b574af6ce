// The log dock: engine and plugin log records (through the spdlog GUI sink) and task log
// lines, with a minimum-level filter and a text filter. Follows the newest line while the
// view is scrolled to the bottom.
#pragma once

#include <QWidget>

class QComboBox;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace taskbench::gui {

class LogModel;

class LogPanel : public QWidget
{
    Q_OBJECT
public:
    explicit LogPanel(LogModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QComboBox *levelBox() const { return m_level; }
    /// Rows visible after filtering (tests).
    int visibleRows() const;

private:
    LogModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QComboBox *m_level;
    QLineEdit *m_text;
};

} // namespace taskbench::gui
