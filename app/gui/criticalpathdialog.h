// "Critical path": the chain of tasks that determined the run's wall time (history's
// criticalPath over the futures table's start and finish times and dependencies), listed
// with each step's wait, run and share of the run time, and highlighted in the task graph
// and the task stream while the dialog is open. Refresh recomputes it (a live run moves on).
#pragma once

#include <QDialog>
#include <QList>

class QLabel;
class QTableWidget;

namespace taskbench::gui {

class FuturesModel;

class CriticalPathDialog : public QDialog
{
    Q_OBJECT
public:
    explicit CriticalPathDialog(const FuturesModel *futures, QWidget *parent = nullptr);

    QTableWidget *stepsTable() const { return m_table; }
    /// The path's task ids, first to last.
    const QList<quint64> &path() const { return m_path; }

public slots:
    void refresh();

signals:
    /// After each refresh (the ids to highlight), and with an empty list when closed.
    void pathChanged(const QList<quint64> &ids);
    void taskSelected(quint64 id);

protected:
    void done(int result) override;

private:
    const FuturesModel *m_futures;
    QLabel *m_summary;
    QTableWidget *m_table;
    QList<quint64> m_path;
};

} // namespace taskbench::gui
