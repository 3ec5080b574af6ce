// SessionWindow: a recorded session replayed into the live views, read-only.
#include "sessionwindow.h"

#include "futuresmodel.h"
#include "futurestable.h"
#include "historymodels.h"
#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"

#include "taskbench/history/replay.h"
#include "taskbench/valuecodec.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace taskbench::gui {

SessionWindow::SessionWindow(const history::SessionSummary &session,
                             std::vector<history::TaskRecord> tasks,
                             const std::vector<history::WorkerRecord> &workers,
                             QWidget *parent)
    // A QDialog like the compare window: a dialog to assistive tools, Escape closes it.
    : QDialog(parent,
              Qt::Window | Qt::WindowTitleHint | Qt::WindowSystemMenuHint
                  | Qt::WindowMinMaxButtonsHint | Qt::WindowCloseButtonHint)
    , m_futures(new FuturesModel(this))
{
    setAttribute(Qt::WA_DeleteOnClose);
    setModal(false);
    const QString started = QDateTime::fromMSecsSinceEpoch(session.startedUs / 1000)
                                .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    setWindowTitle(tr("Session %1 (%2, read-only)").arg(session.id).arg(started));
    setAccessibleName(tr("Recorded session %1").arg(session.id));

    auto *summary = new QLabel(tr("%1 - %2 - %n task(s) - %3", nullptr, int(session.taskCount))
                                   .arg(started, QString::fromStdString(session.status))
                                   .arg(QString::fromStdString(session.title)),
                               this);
    summary->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    summary->setAccessibleName(tr("Session summary"));

    // The live views, fed the replayed events once.
    const EventBatch events = history::replayEvents(tasks, workers);
    m_futures->applyEvents(events);
    std::vector<ResultSummary> results;
    for (const history::TaskRecord &t : tasks) {
        ResultSummary r;
        r.id = t.id;
        r.attempts = t.attempts;
        if (t.status == "finished") {
            r.status = FutureStatus::Finished;
            r.type = t.resultType;
            r.preview = t.resultStored ? repr(fromJson(t.resultJson).value_or(Value()), 80)
                                       : "(" + std::to_string(t.resultSize) + " bytes, not stored)";
        } else if (t.status == "error") {
            r.status = FutureStatus::Error;
            TaskError e;
            e.type = t.errorType;
            e.message = t.errorMessage;
            e.rootKey = t.errorRoot;
            e.fromDependency = !t.errorRoot.empty() && t.errorRoot != t.key;
            e.traceback = t.traceback;
            e.attempts = t.attempts;
            e.worker = t.worker;
            r.error = std::move(e);
            r.arguments = t.argsJson;
        } else {
            continue;
        }
        results.push_back(std::move(r));
    }
    m_futures->applyResults(results);
    m_futures->takeResultRequests(); // nothing to fetch: the results are recorded

    m_table = new FuturesTable(m_futures, this);
    m_table->setAccessibleName(tr("Recorded futures"));
    auto *graph = new inspect::TaskGraphView(this);
    graph->applyEvents(events);
    auto *stream = new inspect::TaskStreamView(this);
    stream->applyEvents(events);

    std::vector<history::TaskRecord> failed;
    for (const history::TaskRecord &t : tasks)
        if (t.status == "error")
            failed.push_back(t);
    m_errors = new HistoryTasksModel(this);
    m_errors->setTasks(std::move(failed));
    auto *errors = new QTableView(this);
    errors->setModel(m_errors);
    errors->setAccessibleName(tr("Recorded errors"));
    errors->setSelectionBehavior(QAbstractItemView::SelectRows);
    errors->setEditTriggers(QAbstractItemView::NoEditTriggers);
    errors->horizontalHeader()->setStretchLastSection(true);
    errors->verticalHeader()->hide();

    m_tabs = new QTabWidget(this);
    m_tabs->setAccessibleName(tr("Session views"));
    m_tabs->addTab(m_table, tr("&Futures"));
    m_tabs->addTab(graph, tr("&Graph"));
    m_tabs->addTab(stream, tr("&Stream"));
    m_tabs->addTab(errors, tr("&Errors (%1)").arg(m_errors->rowCount()));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(summary);
    layout->addWidget(m_tabs, 1);
    resize(1000, 650);
}

} // namespace taskbench::gui
