// A window comparing two recorded sessions (History panel: select two sessions, Compare):
// a summary of what got slower or faster, newly fails or was fixed; the tasks side by side
// in a sortable table that can show only what changed or be searched; CSV and JSON export
// (the same renderings as `taskbench-cli history compare --csv/--json`).
#pragma once

#include "taskbench/history/compare.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace taskbench::gui {

class CompareModel;

class CompareWindow : public QDialog
{
    Q_OBJECT
public:
    explicit CompareWindow(history::SessionComparison comparison, QWidget *parent = nullptr);

    CompareModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QCheckBox *changedOnlyBox() const { return m_changedOnly; }
    QLabel *summaryLabel() const { return m_summary; }
    /// Rows the table shows (after "Changed only" and the search).
    int visibleRows() const;

    enum class Format { Csv, Json };
    /// Writes the comparison to `path`; false with *error on failure.
    bool exportTo(const QString &path, Format format, QString *error) const;

signals:
    /// What an export did, for the main window's "Last action".
    void message(const QString &text);

private:
    void exportAs(Format format);
    void updateFilter();

    CompareModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLabel *m_summary;
    QLineEdit *m_search;
    QCheckBox *m_changedOnly;
    QPushButton *m_exportCsv;
    QPushButton *m_exportJson;
};

} // namespace taskbench::gui
