#include "pathhighlights.h"

#include "criticalpathdialog.h"
#include "futuresmodel.h"

#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"

#include <QAction>
#include <QWidget>

namespace taskbench::gui {

PathHighlights::PathHighlights(FuturesModel *futures,
                               inspect::TaskGraphView *graph,
                               inspect::TaskStreamView *stream,
                               QWidget *window)
    : QObject(window)
    , m_futures(futures)
    , m_graph(graph)
    , m_stream(stream)
    , m_window(window)
{
    m_action = new QAction(tr("Critical &path…"), window);
    m_action->setObjectName(QStringLiteral("showCriticalPath"));
    m_action->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_C));
    const QString tip = tr("The chain of tasks that determined the run's wall time, with each "
                           "one's share, highlighted in the graph and the stream");
    m_action->setStatusTip(tip);
    m_action->setToolTip(QStringLiteral("%1 (%2)").arg(
        tip, m_action->shortcut().toString(QKeySequence::NativeText)));
    window->addAction(m_action);
    connect(m_action, &QAction::triggered, this, &PathHighlights::showCriticalPath);
    connect(m_stream, &inspect::TaskStreamView::taskSelected, this, &PathHighlights::markRelated);
}

void PathHighlights::showCriticalPath()
{
    if (m_dialog) {
        m_dialog->refresh();
        m_dialog->raise();
        m_dialog->activateWindow();
        return;
    }
    m_dialog = new CriticalPathDialog(m_futures, m_window);
    m_dialog->setAttribute(Qt::WA_DeleteOnClose);
    auto show = [this](const QList<quint64> &ids) {
        if (ids.isEmpty())
            m_graph->clearHighlight();
        else
            m_graph->highlightPath(ids);
        m_stream->setMarkedTasks(ids);
    };
    connect(m_dialog, &CriticalPathDialog::pathChanged, this, show);
    connect(m_dialog, &CriticalPathDialog::taskSelected, this, &PathHighlights::taskSelected);
    show(m_dialog->path()); // computed in the constructor, before the connection
    m_dialog->show();
}

void PathHighlights::markRelated(quint64 id)
{
    if (m_dialog)
        return; // the critical path keeps the marks while its dialog is open
    std::vector<std::uint64_t> related = m_futures->upstreamOf({id});
    const std::vector<std::uint64_t> down = m_futures->downstreamOf({id});
    related.insert(related.end(), down.begin(), down.end());
    m_stream->setMarkedTasks(QList<quint64>(related.begin(), related.end()));
}

} // namespace taskbench::gui
