// Paths through the run, shown where the work is: "Critical path…" (Ctrl+Alt+C) opens the
// critical path dialog and highlights its tasks in the task graph and the task stream while
// it is open; a task clicked in the stream has its upstream and downstream marked there.
#pragma once

#include "criticalpathdialog.h"

#include <QObject>
#include <QPointer>

class QAction;
class QWidget;

namespace taskbench::inspect {
class TaskGraphView;
class TaskStreamView;
} // namespace taskbench::inspect

namespace taskbench::gui {

class FuturesModel;

class PathHighlights : public QObject
{
    Q_OBJECT
public:
    PathHighlights(FuturesModel *futures,
                   inspect::TaskGraphView *graph,
                   inspect::TaskStreamView *stream,
                   QWidget *window);

    QAction *criticalPathAction() const { return m_action; }
    /// The open dialog, if any.
    CriticalPathDialog *dialog() const { return m_dialog; }

signals:
    void taskSelected(quint64 id);

private:
    void showCriticalPath();
    void markRelated(quint64 id);

    FuturesModel *m_futures;
    inspect::TaskGraphView *m_graph;
    inspect::TaskStreamView *m_stream;
    QWidget *m_window;
    QAction *m_action;
    QPointer<CriticalPathDialog> m_dialog;
};

} // namespace taskbench::gui
