// The progress dock: one stacked bar per task group (a map call, or a function) showing
// finished, erred, processing and remaining tasks, like dask's `progress`.
#pragma once

#include <QWidget>

class QListView;

namespace taskbench::gui {

class FuturesModel;
class ProgressModel;

class ProgressPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ProgressPanel(FuturesModel *futures, QWidget *parent = nullptr);

    QListView *view() const { return m_view; }
    ProgressModel *model() const { return m_model; }

signals:
    /// The user activated a group: show its futures.
    void groupActivated(const QString &group);

private:
    ProgressModel *m_model;
    QListView *m_view;
};

} // namespace taskbench::gui
